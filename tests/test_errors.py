"""The error hierarchy: every error class Aria defines derives from AriaError; no bare ValueError."""

import ast
import importlib
import inspect
import pickle
import pkgutil
from pathlib import Path

import pytest

import aria
from aria.errors import (
    AriaDependencyError,
    AriaError,
    AriaInputError,
    AudioDecodeError,
    AudioFeatureError,
    ExtractionError,
)

ARIA = Path(aria.__file__).parent


def _aria_modules():
    """Every importable module of the package (optional stacks that are not installed are skipped)."""
    out = []
    for info in pkgutil.walk_packages([str(ARIA)], prefix="aria."):
        if info.name.endswith("__main__"):  # running it would start the CLI
            continue
        try:
            out.append(importlib.import_module(info.name))
        except (ImportError, AriaDependencyError):
            continue
    return out


def test_hierarchy():
    assert issubclass(AriaInputError, AriaError) and issubclass(AriaInputError, ValueError)
    assert issubclass(AriaDependencyError, AriaError) and issubclass(AriaDependencyError, ImportError)
    assert issubclass(ExtractionError, AriaError)
    assert issubclass(AudioDecodeError, ExtractionError) and issubclass(AudioFeatureError, ExtractionError)
    assert not issubclass(ExtractionError, AriaInputError)


def test_every_exception_class_defined_in_aria_is_an_aria_error():
    found = {}
    for module in _aria_modules():
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__.startswith("aria"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    # the walk reached the modules that define or re-export error classes
    assert {"aria.errors.AriaInputError", "aria.errors.ExtractionError"} <= set(found)
    assert len(found) >= 6
    bad = [n for n, cls in found.items() if not issubclass(cls, AriaError)]
    assert bad == []


def test_extraction_errors_stay_importable_where_they_were():
    from aria.features.extract import audio, audio_io, batch

    assert batch.ExtractionError is ExtractionError
    assert audio_io.AudioDecodeError is AudioDecodeError
    assert audio.AudioFeatureError is AudioFeatureError
    assert "ExtractionError" in batch.__all__ and "AudioDecodeError" in audio_io.__all__
    assert "AudioFeatureError" in audio.__all__


def test_input_error_carries_the_parameter_and_survives_pickling():
    err = AriaInputError("k must be an integer >= 2, got 1", parameter="k", function="homogeneity")
    assert str(err) == "k must be an integer >= 2, got 1"
    assert (err.parameter, err.function) == ("k", "homogeneity")
    back = pickle.loads(pickle.dumps(err))  # errors cross process boundaries in extraction pools
    assert type(back) is AriaInputError and str(back) == str(err)
    assert (back.parameter, back.function) == ("k", "homogeneity")
    plain = AriaInputError("x.npy: file is empty")
    assert plain.parameter is None and plain.function is None
    assert pickle.loads(pickle.dumps(plain)).parameter is None


def _raised_names(path: Path) -> list[tuple[int, str]]:
    """(line, exception name) of every ``raise Name(...)`` / ``raise Name`` in a source file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name):
                out.append((node.lineno, exc.id))
    return out


def test_no_bare_builtin_value_or_type_errors():
    """User input errors are AriaInputError; aria.params' TypeErrors fire at import (bad declarations)."""
    bad = []
    for path in sorted(ARIA.rglob("*.py")):
        if path.name == "params.py" and path.parent == ARIA:
            continue
        for line, name in _raised_names(path):
            if name in ("ValueError", "TypeError"):
                bad.append(f"{path.relative_to(ARIA.parent)}:{line}: {name}")
    assert bad == []


def _error_strings(path: Path):
    """String constants (f-string parts included) in the arguments of raised exceptions."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            for arg in node.exc.args:
                for sub in ast.walk(arg):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        yield node.lineno, sub.value


def test_no_api_error_message_names_a_cli_flag():
    import re

    flag = re.compile(r"(^|[\s(\[`'\"])--[a-z]")
    bad = []
    for path in sorted(ARIA.rglob("*.py")):
        if "cli" in path.relative_to(ARIA).parts:
            continue
        for line, text in _error_strings(path):
            if flag.search(text):
                bad.append(f"{path.relative_to(ARIA.parent)}:{line}: {text!r}")
    assert bad == []


def test_the_scanners_can_fail(tmp_path):
    p = tmp_path / "m.py"
    p.write_text('def f(x):\n    raise ValueError(f"--k must be >= 2, got {x}")\n')
    assert _raised_names(p) == [(2, "ValueError")]
    assert any("--k" in text for _, text in _error_strings(p))


@pytest.mark.parametrize("cls", [AriaInputError, AriaDependencyError, ExtractionError, AudioDecodeError,
                                 AudioFeatureError])
def test_the_cli_reports_every_aria_error_as_bad_input(cls, capsys, monkeypatch):
    from aria import cli

    def boom(args):
        raise cls("something is wrong")

    parser = cli.build_parser("diagnose")
    monkeypatch.setattr(cli, "build_parser", lambda command=None: parser)
    parser._subparsers._group_actions[0].choices["diagnose"].set_defaults(func=boom)
    assert cli.main(["diagnose", "--example", "collapsed"]) == 2
    err = capsys.readouterr().err
    assert err == "aria: error: something is wrong\n"
