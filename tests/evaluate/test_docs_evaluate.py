"""Every worked example of docs/evaluate.md runs and prints the numbers the page shows."""

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "evaluate.md"


def test_docs_evaluate_examples():
    res = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted >= 20
    assert res.failed == 0


def test_formulas_evaluate_names_existing_functions():
    import importlib
    import re

    text = (DOC.parent / "formulas-evaluate.md").read_text(encoding="utf-8")
    refs = sorted(set(re.findall(r"`(aria/[\w/]+\.py)::([A-Za-z_][\w.]*)`", text)))
    assert len(refs) >= 20
    for path, name in refs:
        obj = importlib.import_module(path[:-3].replace("/", "."))
        for part in name.split("."):
            obj = getattr(obj, part)
        assert callable(obj), (path, name)
