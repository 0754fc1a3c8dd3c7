"""The docs describe the package as it is: the module map, every dotted ``aria.`` name, every
repository path and every relative link in docs/, README.md, data/README.md and the docstrings
of aria/ point at something that exists."""

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "data" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = sorted(p for p in (ROOT / "aria").rglob("*.py") if "__pycache__" not in p.parts)

#: ``aria.x.y`` not preceded by a word character, a dot, a slash or a hyphen
DOTTED = re.compile(r"(?<![\w./-])aria(?:\.[A-Za-z_]\w*)+")
#: repository paths in backquotes, e.g. `aria/io/scores.py`, `tests/groups/test_engine.py::test_x`
REPO_PATH = re.compile(r"`((?:aria|tests|docs|benchmarks|features|notebooks|data)/[^`\s*<>]*)`")
#: markdown links to relative targets
LINK = re.compile(r"\]\(([^)\s]+)\)")
#: keys of the Parquet metadata and of provenance records, not Python names
NOT_PYTHON = {"aria.channelset", "aria.channelset_version", "aria.fingerprint", "aria.version",
              "aria.source",
              "aria.channelsets"}  # the data-only package a wheel installs features/*.toml as
#: ``aria/...`` paths in docstrings
SLASH_PATH = re.compile(r"(?<![\w./-])aria/[\w./-]*[\w/]")
FILE_SUFFIXES = (".toml", ".npz", ".npy", ".parquet", ".py", ".md", ".j2", ".json", ".csv")


def resolves(name: str) -> bool:
    """Whether ``aria.a.b.c`` is an importable module or an attribute reachable from one."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError as exc:
            if exc.name and not exc.name.startswith("aria"):
                raise  # a missing third-party dependency, not a wrong name
            continue
        break
    for part in parts[i:]:
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(f"{obj.__name__}.{part}")
        except (ModuleNotFoundError, AttributeError):
            return False
    return True


def dotted_names(text: str) -> set[str]:
    out = set()
    for m in DOTTED.finditer(text):
        name = m.group(0)
        if name.endswith(FILE_SUFFIXES) or name in NOT_PYTHON:
            continue
        out.add(name)
    return out


def docstrings(path: Path) -> str:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = [tree, *(n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    return "\n".join(d for d in (ast.get_docstring(n) for n in nodes) if d)


def github_anchors(md: Path) -> set[str]:
    """Heading slugs as GitHub makes them, plus explicit ``<a id="...">`` anchors."""
    text = md.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    anchors = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
        anchors.add(slug.replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_dotted_names_in_docs_resolve(doc):
    bad = sorted(n for n in dotted_names(doc.read_text(encoding="utf-8")) if not resolves(n))
    assert not bad, f"{doc.relative_to(ROOT)} names what does not exist: {bad}"


def test_dotted_names_and_paths_in_docstrings_resolve():
    bad = []
    for src in SOURCES:
        doc = docstrings(src)
        bad += [f"{src.relative_to(ROOT)}: {n}" for n in sorted(dotted_names(doc)) if not resolves(n)]
        bad += [f"{src.relative_to(ROOT)}: {p}" for p in sorted(set(SLASH_PATH.findall(doc)))
                if not (ROOT / p).exists()]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_paths_and_links_exist(doc):
    text = doc.read_text(encoding="utf-8")
    bad = []
    for ref in REPO_PATH.findall(text):
        path, _, name = ref.partition("::")
        target = ROOT / path.rstrip("/")
        if not target.exists():
            bad.append(ref)
        elif name and not re.search(rf"^(def|class) {name.split('.')[0]}\b",
                                    target.read_text(encoding="utf-8"), re.M):
            bad.append(ref)
    for link in LINK.findall(text):
        if re.match(r"[a-z]+:", link):
            continue  # URL
        path, _, anchor = link.partition("#")
        target = (doc.parent / path).resolve() if path else doc
        if not target.exists():
            bad.append(link)
        elif anchor and target.suffix == ".md" and anchor not in github_anchors(target):
            bad.append(link)
    assert not bad, f"{doc.relative_to(ROOT)}: {bad}"


def _map_entries() -> list[str]:
    """Paths listed in the module map of docs/overview.md (section Architecture)."""
    text = (ROOT / "docs" / "overview.md").read_text(encoding="utf-8")
    section = text.split("\n## Architecture\n", 1)[1]
    block = section.split("```", 2)[1]
    stack: list[tuple[int, str]] = []
    out = []
    for line in block.splitlines():
        m = re.match(r"^( *)(\S+)", line)
        if not m or line.strip() == "":
            continue
        indent, name = len(m.group(1)), m.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "".join(p for _, p in stack) + name
        out.append(path)
        if name.endswith("/"):
            stack.append((indent, name))
    return out


def test_module_map_lists_every_module_and_nothing_else():
    listed = _map_entries()
    assert listed[0] == "aria/"
    missing_on_disk = [p for p in listed if not (ROOT / p).exists()]
    assert not missing_on_disk, f"docs/overview.md lists what does not exist: {missing_on_disk}"
    # a package's __init__.py is listed by its folder
    modules = {str(p.relative_to(ROOT)) for p in SOURCES}
    covered = set(listed) | {p + "__init__.py" for p in listed if p.endswith("/")}
    unlisted = sorted(modules - covered)
    assert not unlisted, f"add these modules to the map in docs/overview.md (## Architecture): {unlisted}"


def test_map_parser_sees_nesting():
    """The map check can fail: nested entries get their folder's path."""
    listed = _map_entries()
    assert "aria/features/extract/symbolic.py" in listed and "aria/groups/engine.py" in listed
    assert "aria/symbolic.py" not in listed


def test_resolver_rejects_old_module_names():
    """Names of the layout before the restructuring no longer resolve (so the docs test can fail)."""
    for old in ("aria.featuretable.load_feature_table", "aria.similarity.lcs_similarity",
                "aria.homogeneity.compute_null", "aria.features.audio.root_motions", "aria.nullcache"):
        assert not resolves(old), old
    for new in ("aria.features.table.load_feature_table", "aria.groups.similarity.lcs_similarity",
                "aria.groups.null.compute_null", "aria.features.extract.audio.root_motions",
                "aria.homogeneity"):
        assert resolves(new), new
