"""Every public function and class of the public API carries a runnable ``Examples`` section.

The examples themselves run under ``pytest --doctest-modules`` (``testpaths`` includes ``aria``;
see ``aria/conftest.py``). This test counts the public names whose docstring has no ``>>>``
example and fails when one is missing that is not in :data:`ALLOWED` (a documented reason) or
:data:`BACKLOG` (written down as not yet done; the list may only shrink: an entry that has
gained an example must be removed).
"""

from __future__ import annotations

import importlib
import inspect

import aria

#: The public API: the lazy table of ``aria`` plus ``__all__`` (or the public functions and
#: classes defined there, when a module has no ``__all__``) of these modules.
MODULES = [
    "aria.io.scores", "aria.io.inspect", "aria.io.peers", "aria.io.npyfile", "aria.io.torchfile",
    "aria.io.tables", "aria.io.groundtruth", "aria.io.validate", "aria.io.streaming",
    "aria.io.atomic", "aria.io.output", "aria.io.provenance",
    "aria.diagnostics.stats", "aria.diagnostics.reliability", "aria.diagnostics.verdict",
    "aria.diagnostics.residual", "aria.diagnostics.reliability_score",
    "aria.groups.normalize", "aria.groups.aggregate", "aria.groups.pool", "aria.groups.similarity",
    "aria.groups.topk", "aria.groups.null", "aria.groups.result", "aria.groups.engine",
    "aria.groups.alignment", "aria.groups.confound", "aria.groups.setup",
    "aria.features.channels", "aria.features.table", "aria.features.chords",
    "aria.evaluate.lds", "aria.evaluate.compare", "aria.evaluate.evidence", "aria.evaluate.pipeline",
    "aria.evaluate.unlearning", "aria.evaluate.counterfactual", "aria.evaluate.overlap",
    "aria.evaluate.ensemble", "aria.evaluate.bootstrap", "aria.diagnostics.bootstrap", "aria.io.vectors",
    "aria.signatures",
    "aria.report.text", "aria.report.reliability", "aria.report.plot", "aria.report.html",
    "aria.report.pipeline",
    "aria.examples",
]
OPTIONAL = {"aria.scale"}

#: Public names without an example, each with its reason.
ALLOWED: dict[str, str] = {}

#: Public names whose example is not written yet. May only shrink.
BACKLOG: set[str] = set()


def _public(module) -> list[object]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, o in vars(module).items()
                 if not n.startswith("_") and (inspect.isfunction(o) or inspect.isclass(o))
                 and o.__module__ == module.__name__]
    objs = [getattr(module, n) for n in names]
    return [o for o in objs if (inspect.isfunction(o) or inspect.isclass(o))
            and not issubclass_safe(o, BaseException)]


def issubclass_safe(obj: object, cls: type) -> bool:
    return inspect.isclass(obj) and issubclass(obj, cls)


def public_api() -> dict[str, bool]:
    """Qualified name -> whether its docstring has a ``>>>`` example."""
    objs = [getattr(aria, n) for n in aria._LAZY]
    for name in MODULES:
        objs += _public(importlib.import_module(name))
    for name in OPTIONAL:
        try:
            objs += _public(importlib.import_module(name))
        except ModuleNotFoundError:
            pass
    return {f"{o.__module__}.{o.__qualname__}": ">>>" in (o.__doc__ or "") for o in objs}


def test_public_api_is_counted():
    api = public_api()
    assert len(api) > 150
    assert "aria.io.scores.load_scores" in api and "aria.groups.engine.homogeneity" in api


def test_every_public_name_has_an_example():
    missing = {name for name, has in public_api().items() if not has}
    unexplained = sorted(missing - set(ALLOWED) - BACKLOG)
    assert not unexplained, f"public names without an Examples section: {unexplained}"


def test_allow_lists_are_current():
    api = public_api()
    stale = sorted(n for n in set(ALLOWED) | BACKLOG if api.get(n, True))
    assert not stale, f"remove from ALLOWED/BACKLOG (gone or now with an example): {stale}"


def test_doctests_collect_without_the_optional_stacks():
    """With matplotlib, jinja2, librosa and pretty_midi hidden, ``aria/`` still collects.

    (torch cannot be hidden this way: scipy's array-API helpers look it up in ``sys.modules``.)
    """
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    hidden = ["matplotlib", "jinja2", "librosa", "pretty_midi"]
    code = (
        f"import sys; sys.modules.update(dict.fromkeys({hidden!r})); import pytest; "
        "sys.exit(pytest.main(['-q', '--collect-only', '-p', 'no:cacheprovider', 'aria']))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "aria/report/plot.py" not in out.stdout and "aria/report/html.py" not in out.stdout
    assert "aria/diagnostics/verdict.py::aria.diagnostics.verdict.classify" in out.stdout
