"""The docstring examples of aria.groups run and print what they show."""

import doctest
import importlib
import pkgutil

import pytest

import aria.groups

MODULES = [f"aria.groups.{m.name}" for m in pkgutil.iter_modules(aria.groups.__path__)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0


def test_the_engine_steps_have_examples():
    from aria.groups import engine, null, result

    for fn in (engine.homogeneity, engine.resolve_inputs, engine.resolve_k, null.null_distributions,
               result.summarize, result.z_scores, result.MatrixHomogeneity):
        assert ">>>" in fn.__doc__, fn.__name__
