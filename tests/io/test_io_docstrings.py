"""The docstring examples of aria.io (and of LDS) run and print what they show."""

import doctest
import importlib
import pkgutil

import pytest

import aria.io

MODULES = [f"aria.io.{m.name}" for m in pkgutil.iter_modules(aria.io.__path__)] + ["aria.evaluate.lds"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name == "aria.io.torchfile":
        pytest.importorskip("torch")
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for t in doctest.DocTestFinder().find(module):
        runner.run(t)
    assert runner.summarize(verbose=False).failed == 0


def test_new_public_functions_have_examples():
    from aria.io import groundtruth, inspect, npyfile, peers, scores, torchfile

    for fn in (scores.load_scores, scores.resolve_orientation, scores.bare_orientation,
               inspect.inspect_scores, peers.detect_peer, npyfile.npy_header, npyfile.open_npy,
               torchfile.torch_load, groundtruth.load_ground_truth):
        assert ">>>" in fn.__doc__, fn.__name__
