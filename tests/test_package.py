import subprocess
import sys

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
    from aria._resources import channelset_path

    assert channelset_path("audio").name == "audio.toml"
    assert channelset_path("symbolic").is_file()
