import subprocess
import sys

import pytest

import aria


def test_examples_diagnose_as_designed():
    expected = {"query-dependent": "query-dependent", "collapsed": "collapsed",
                "offset-dominated": "offset-dominated"}
    for name, verdict in expected.items():
        assert aria.diagnose(aria.load_scores(aria.examples.path(name))).verdict == verdict


def test_cli_version():
    out = subprocess.run([sys.executable, "-m", "aria", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and aria.__version__ in out.stdout


def test_channel_sets_are_found():
    """Each shipped set is found under its name, declares that name, and is what the loader reads."""
    import tomllib
    from pathlib import Path

    from aria._resources import channelset_path, features_dir

    where = features_dir()
    assert where == Path(__file__).resolve().parents[1] / "features" or where.name == "channelsets"
    shipped = sorted(p.stem for p in where.glob("*.toml"))
    assert shipped == ["audio", "symbolic"]
    for name in shipped:
        path = channelset_path(name)
        assert path.parent == where
        assert tomllib.loads(path.read_text(encoding="utf-8"))["name"] == name
        assert aria.load_channel_set(name).source == str(path)
    with pytest.raises(aria.AriaInputError, match=r"channel set 'midi' \(available: audio, symbolic\)"):
        channelset_path("midi")
