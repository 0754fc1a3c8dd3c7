"""Every worked example of docs/evaluate.md runs and prints the numbers the page shows."""

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "evaluate.md"


def test_docs_evaluate_examples():
    res = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted >= 20
    assert res.failed == 0

