"""The shared CLI layer: one --k parser, one-line helps from COMMANDS, thin light modules."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import aria
from aria.cli import COMMANDS, build_parser, main
from aria.cli._common import BLOCK_ROWS, DEFAULT_K, KURTOSIS_THRESHOLD, NORMALIZE_METHODS, k_list, k_one

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "aria" / "cli"
HEAVY = ("numpy", "scipy", "pandas", "xarray", "pyarrow", "matplotlib", "torch", "librosa", "dask", "tqdm")
BACH_FEATURES = str(aria.examples.features_path())


def test_help_defaults_are_the_api_defaults():
    from aria.diagnostics.verdict import VerdictThresholds
    from aria.groups.engine import DEFAULT_K as ENGINE_K
    from aria.groups.normalize import DEFAULT_KURTOSIS_THRESHOLD, METHODS
    from aria.io.streaming import DEFAULT_BLOCK_ROWS

    assert DEFAULT_K == ENGINE_K and NORMALIZE_METHODS == METHODS
    assert KURTOSIS_THRESHOLD == DEFAULT_KURTOSIS_THRESHOLD and BLOCK_ROWS == DEFAULT_BLOCK_ROWS
    args = build_parser("diagnose").parse_args(["diagnose", "x.npy"])
    t = VerdictThresholds()
    assert args.block_rows == DEFAULT_BLOCK_ROWS and args.collapsed_corr == t.collapsed_corr
    assert args.partial_offset_concentration == t.partial_offset_concentration


@pytest.mark.parametrize("text,expected", [("10", [10]), ("5,10,20", [5, 10, 20]), (" 5, 10 ,", [5, 10]),
                                           ("5,,7", [5, 7])])
def test_k_list_accepts_what_every_command_accepted(text, expected):
    assert k_list(text) == expected


def test_k_one_takes_exactly_one_value():
    assert k_one("10") == 10 and k_one(" 7 ") == 7
    for bad, msg in (("5,10", "takes one group size"), ("x", "comma-separated integers"),
                     (",", "at least one")):
        with pytest.raises(Exception, match=msg):
            k_one(bad)


def test_k_parsed_the_same_way_in_every_command():
    out = ["--out", "o"]
    cases = {"compare": (["--k", "10"], 10),
             "evidence": (["--query", "q", "--features", "f", "--k", "20"], 20),
             "report": (["--k", "5, 10"] + out, [5, 10]),
             "homogeneity": (["--features", "f", "--k", "5,10,20"], [5, 10, 20])}
    for command, (extra, expected) in cases.items():
        args = build_parser(command).parse_args([command, "s.npy", *extra])
        assert args.k == expected, command
    assert build_parser("compare").parse_args(["compare", "s.npy"]).k == 10
    evidence = ["evidence", "s.npy", "--query", "q", "--features", "f"]
    assert build_parser("evidence").parse_args(evidence).k == 10
    assert build_parser("report").parse_args(["report", *out]).k is None


@pytest.mark.parametrize("command,extra", [
    ("compare", ["--example", "collapsed"]),
    ("report", ["--example", "collapsed", "--out", "o"]),
    ("evidence", ["--example", "bach-knn", "--query", "q", "--features", BACH_FEATURES]),
    ("homogeneity", ["--example", "bach-knn", "--features", BACH_FEATURES]),
])
@pytest.mark.parametrize("value,msg", [("x", "must be comma-separated integers, got 'x'"),
                                       ("5;10", "must be comma-separated integers, got '5;10'"),
                                       (",", "needs at least one value")])
def test_bad_k_exits_2_with_one_error_line(command, extra, value, msg, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, *extra, "--k", value])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("aria: error:")]
    assert exc.value.code == 2
    assert errors == [f"aria: error: argument --k: {msg}"] and err.splitlines()[-1] == errors[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("command,extra", [
    ("compare", ["--example", "collapsed"]),
    ("evidence", ["--example", "bach-knn", "--query", "q", "--features", BACH_FEATURES]),
])
def test_one_k_commands_refuse_a_list(command, extra, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, *extra, "--k", "5,10"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.splitlines()[-1] == "aria: error: argument --k: this command takes one group size, got '5,10'"


def test_subcommand_helps_come_from_commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._group_actions[0])))
    shown = {a.dest: a.help for a in sub._choices_actions}
    assert shown == {name: help_text for name, (_, help_text) in COMMANDS.items()}
    for module, help_text in COMMANDS.values():
        path = ROOT / (module.replace(".", "/") + ".py")
        assert help_text not in path.read_text(encoding="utf-8"), f"{path.name} repeats its one-line help"


def _module_level_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module)
    return names


def test_cli_modules_are_thin_and_import_only_the_light_layer():
    allowed_aria = {"aria.errors", "aria.cli._common", "aria.cli._flags", "aria.cli._progress",
                    "aria._version"}
    for path in sorted(CLI.glob("*.py")):
        if path.name == "__main__.py":  # python -m aria.cli: the entry point itself
            continue
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines < 200, f"{path.name}: {lines} lines"
        for name in _module_level_imports(path):
            top = name.split(".")[0]
            if top == "aria":
                assert name in allowed_aria, f"{path.name} imports {name} at module level"
            else:
                assert top == "__future__" or top in sys.stdlib_module_names, f"{path.name} imports {name}"
    compare = (CLI / "compare.py").read_text(encoding="utf-8")
    assert "EXAMPLE_NAMES" not in compare and "def example_path" not in compare


def test_command_help_loads_no_heavy_module():
    code = ("import sys\nfrom aria.cli import main\n"
            f"for c in {list(COMMANDS)!r}:\n"
            "    try:\n        main([c, '--help'])\n    except SystemExit:\n        pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1].replace("'", '"')) == []
