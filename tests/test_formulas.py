"""docs/formulas.md is the one page of formulas: every function it names exists where it says,
and the report's definitions are its **Report** paragraphs, word for word."""

import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORMULAS = ROOT / "docs" / "formulas.md"

#: `aria/path/module.py::name` or `aria/path/module.py::Class.attribute`
CODE_REF = re.compile(r"`(aria/[\w/]+\.py)::([A-Za-z_][\w.]*)`")
#: `tests/path/test_x.py::test_name` (or a whole test file)
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")
#: first line of a report definition: > **Report** · `key` · symbol · name
REPORT_HEAD = re.compile(r"^> \*\*Report\*\* · `(\w+)` · (.+?) · (.+)$")


def code_refs(text: str) -> list[tuple[str, str]]:
    return sorted(set(CODE_REF.findall(text)))


def resolve(path: str, name: str):
    """Import the module at ``path`` and return ``name`` (dotted attributes allowed)."""
    module = importlib.import_module(path[:-3].replace("/", "."))
    obj = module
    for part in name.split("."):
        obj = getattr(obj, part)
    return module, obj


def report_definitions(text: str) -> dict[str, dict[str, str]]:
    """``{key: {symbol, name, text, anchor}}`` of every **Report** block of formulas.md."""
    lines = text.splitlines()
    out: dict[str, dict[str, str]] = {}
    for i, line in enumerate(lines):
        m = REPORT_HEAD.match(line)
        if not m:
            continue
        key, symbol, name = m.groups()
        assert key not in out, f"two Report blocks for {key!r}"
        assert lines[i + 1] == ">", f"{key}: blank quote line expected after the Report line"
        body = []
        for nxt in lines[i + 2:]:
            if not nxt.startswith("> "):
                break
            body.append(nxt[2:].strip())
        anchor = lines[i - 1].strip()
        out[key] = {"symbol": symbol, "name": name, "text": " ".join(body), "anchor": anchor}
    return out


def test_formulas_page_names_code_for_every_section():
    text = FORMULAS.read_text(encoding="utf-8")
    refs = code_refs(text)
    assert len(refs) >= 40
    sections = re.split(r"^## ", text, flags=re.M)
    for sec in sections:
        title = sec.splitlines()[0]
        if re.match(r"[1-8]\. ", title):
            assert CODE_REF.search(sec), f"section {title!r} names no function"


@pytest.mark.parametrize("path,name", code_refs(FORMULAS.read_text(encoding="utf-8")))
def test_every_referenced_function_exists_where_the_page_says(path, name):
    assert (ROOT / path).is_file(), path
    module, obj = resolve(path, name)
    # defined in that file, not merely re-exported from another module
    owner = obj
    if not (inspect.isfunction(owner) or inspect.isclass(owner)):
        owner = getattr(module, name.split(".")[0])
    if isinstance(owner, property):
        owner = owner.fget
    assert inspect.getmodule(owner) is module, f"{path}::{name} is defined in {inspect.getmodule(owner)}"


def test_every_referenced_test_exists():
    text = FORMULAS.read_text(encoding="utf-8")
    refs = TEST_REF.findall(text)
    assert refs
    for path, name in refs:
        f = ROOT / path
        assert f.is_file(), path
        if name:
            assert re.search(rf"^def {name}\(", f.read_text(encoding="utf-8"), re.M), f"{path}::{name}"


def test_report_definitions_are_the_formulas_page():
    from aria.report.html import DEFINITIONS

    page = report_definitions(FORMULAS.read_text(encoding="utf-8"))
    keys = [d["key"] for d in DEFINITIONS]
    assert len(keys) == len(set(keys))
    assert set(page) == set(keys), (f"only in the report: {sorted(set(keys) - set(page))}; "
                                    f"only in formulas.md: {sorted(set(page) - set(keys))}")
    for d in DEFINITIONS:
        p = page[d["key"]]
        assert p["anchor"] == f'<a id="def-{d["key"]}"></a>', d["key"]
        assert (p["symbol"], p["name"]) == (d["symbol"], d["name"]), d["key"]
        assert p["text"] == d["text"], f"{d['key']}:\n report: {d['text']}\n  page:   {p['text']}"


def test_report_links_resolve_to_definitions():
    """Every ``#def-...`` the template links to is a definition the report renders."""
    from aria.report.html import DEFINITIONS

    template = (ROOT / "aria" / "report" / "templates" / "report.html.j2").read_text(encoding="utf-8")
    static = set(re.findall(r'href="#def-(\w+)"', template))
    assert static and static <= {d["key"] for d in DEFINITIONS}
    assert 'id="def-{{ d.key }}"' in template


def test_parser_rejects_a_changed_definition():
    """The comparison above can fail: one changed word is a mismatch."""
    text = FORMULAS.read_text(encoding="utf-8")
    changed = text.replace("mean of |R[q, q']| over the pairs", "median of |R[q, q']| over the pairs", 1)
    assert changed != text
    assert report_definitions(changed)["rho_bar"]["text"] != report_definitions(text)["rho_bar"]["text"]
