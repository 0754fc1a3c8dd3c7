import hashlib
import json
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import make_matrix

import aria
from aria.cli import main


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _good(tmp_path, n=60, q=5):
    p = tmp_path / "good.npy"
    np.save(p, make_matrix("query-dependent", n=n, q=q))
    return p


def _bad_inputs(tmp_path):
    """(name, path, extra args, expected message fragment)."""
    cases = []

    def npy(name, arr, **kw):
        p = tmp_path / f"{name}.npy"
        np.save(p, arr, **kw)
        return p

    m = make_matrix("query-dependent", n=50, q=4)
    nan = m.copy()
    nan[7, 1] = np.nan
    cases.append(("nan", npy("nan", nan), [], "NaN at segment 7"))
    inf = m.copy()
    inf[3, 0] = -np.inf
    cases.append(("inf", npy("inf", inf), [], "infinite value at segment 3"))
    cases.append(("1d", npy("oned", np.arange(5.0)), [], "must be 2-D"))
    cases.append(("3d", npy("threed", np.zeros((2, 3, 4))), [], "must be 2-D"))
    cases.append(("empty", npy("empty", np.zeros((0, 4))), [], "empty"))
    cases.append(("strings", npy("strings", np.array([["a", "b"], ["c", "d"]])), [], "real numbers"))
    cases.append(("complex", npy("complex", np.ones((3, 3), dtype=complex)), [], "real numbers"))
    cases.append(("bool", npy("bool", np.ones((3, 3), dtype=bool)), [], "real numbers"))
    obj = np.empty((2, 2), dtype=object)
    obj[:] = [[{"x": 1}, 2], [3, 4]]
    cases.append(("object", npy("object", obj, allow_pickle=True), [], "never unpickles"))
    good = npy("trunc", m)
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    cases.append(("truncated", good, [], "truncated .npy"))
    txt = tmp_path / "text.npy"
    txt.write_text("segment,query,score\n1,2,3\n")
    cases.append(("text", txt, [], "not a valid NumPy .npy file"))
    zero = tmp_path / "zero.npy"
    zero.write_bytes(b"")
    cases.append(("zero-bytes", zero, [], "file is empty"))
    cases.append(("missing", tmp_path / "nope.npy", [], "no such file"))
    pk = tmp_path / "scores.pkl"
    pk.write_bytes(pickle.dumps(m))
    cases.append(("pickle", pk, [], "refusing to read a pickle"))
    disguised = tmp_path / "disguised.npy"
    disguised.write_bytes(pickle.dumps(m))
    cases.append(("pickle-as-npy", disguised, [], "not a valid NumPy .npy file"))
    z = tmp_path / "objects.npz"
    np.savez(z, scores=obj)
    cases.append(("npz-objects", z, [], "pickled objects"))
    zt = tmp_path / "trunc.npz"
    np.savez(zt, scores=m)
    zt.write_bytes(zt.read_bytes()[:100])
    cases.append(("npz-truncated", zt, [], "corrupt"))
    zd = tmp_path / "dupids.npz"
    np.savez(zd, scores=m, query_ids=np.array(["a", "b", "a", "c"]))
    cases.append(("dup-ids", zd, [], "duplicate query ids: 'a'"))
    zn = tmp_path / "nscores.npz"
    np.savez(zn, scores=m, query_ids=np.array(["a", "b", "c"]))
    cases.append(("ids-length", zn, [], "3 query ids for 4 queries"))
    mp = tmp_path / "map.csv"
    pd.DataFrame({"segment": range(49), "track": range(49)}).to_csv(mp, index=False)
    gp = npy("goodm", m)
    cases.append(("map-length", gp, ["--tracks", str(mp)], "49 rows but the score matrix has 50"))
    cases.append(("directory", tmp_path, [], "is a directory"))
    return cases


def test_every_bad_input_gives_one_line_exit_2_and_leaves_input_unchanged(tmp_path, capsys):
    for name, path, extra, fragment in _bad_inputs(tmp_path):
        before = _sha(path) if path.is_file() else None
        rc = main(["diagnose", str(path), *extra])
        out, err = capsys.readouterr()
        lines = [line for line in err.splitlines() if line.strip()]
        assert rc == 2, (name, err)
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith("aria: error:"), (name, err)
        assert fragment in lines[0], (name, lines[0])
        assert "Traceback" not in err + out
        if before is not None:
            assert _sha(path) == before, name


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    p = tmp_path / "bad.npy"
    p.write_bytes(b"\x93NUMPY garbage")
    r = subprocess.run([sys.executable, "-m", "aria", "diagnose", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("aria: error:")


def test_single_query_and_constant_columns_are_reported_not_fatal(tmp_path, capsys):
    p = tmp_path / "one.npy"
    np.save(p, make_matrix("query-dependent", n=40, q=1))
    assert main(["diagnose", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "undetermined" and out["mean_abs_interquery_corr"] is None
    m = make_matrix("query-dependent", n=40, q=4)
    m[:, 1] = 2.0
    np.save(p, m)
    assert main(["diagnose", str(p)]) == 0
    assert "excluded columns: q1" in capsys.readouterr().out


def test_json_output_matches_python_api(tmp_path, capsys):
    p = _good(tmp_path)
    assert main(["diagnose", str(p), "--json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text and "Infinity" not in text
    out = json.loads(text)
    d = aria.diagnose(aria.load_scores(p))
    assert out["energy_ratio_1"] == d.energy_ratio_1
    assert out["verdict"] == d.verdict
    assert out["n_segments"] == 60 and out["n_queries"] == 5


def test_out_dir_and_residual(tmp_path, capsys):
    p = _good(tmp_path, n=300, q=6)
    tracks = tmp_path / "map.csv"
    pd.DataFrame({"segment": range(300), "track": np.arange(300) // 3}).to_csv(tracks, index=False)
    out = tmp_path / "res"
    res = tmp_path / "residual.npy"
    rc = main(["diagnose", str(p), "--tracks", str(tracks), "--out", str(out), "--residual", str(res),
               "--block-rows", "64"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "verdict:" in text and "results written" in text
    diag = json.loads((out / "diagnostics.json").read_text())
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["inputs"]["scores"]["sha256"] == _sha(p)
    assert prov["inputs"]["tracks"]["sha256"] == _sha(tracks)
    assert prov["parameters"]["block_rows"] == 64
    assert prov["command"] == ["aria", "diagnose", str(p), "--tracks", str(tracks), "--out", str(out),
                               "--residual", str(res), "--block-rows", "64"]
    assert "numpy" in prov["versions"]
    per_query = pd.read_csv(out / "per_query.csv")
    assert len(per_query) == 6 and diag["n_tracks"] == 100
    s = np.load(p)
    u, sv, vt = np.linalg.svd(s, full_matrices=False)
    np.testing.assert_allclose(np.load(res), s - sv[0] * np.outer(u[:, 0], vt[0]), atol=1e-8)
    u1 = pd.read_csv(out / "rank1_u1_per_track.csv")
    assert len(u1) == 100
    assert not list(tmp_path.glob("**/*.part"))


def test_refuses_to_overwrite_inputs(tmp_path, capsys):
    p = _good(tmp_path)
    before = _sha(p)
    assert main(["diagnose", str(p), "--residual", str(p)]) == 2
    assert _sha(p) == before
    assert "overwrite an input" in capsys.readouterr().err


def test_example_help_and_version(capsys):
    assert main(["diagnose", "--example", "collapsed"]) == 0
    assert "verdict: COLLAPSED" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["diagnose", "--help"])
    assert e.value.code == 0
    assert "examples:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert aria.__version__ in capsys.readouterr().out
    assert main(["diagnose"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["diagnose", "x.npy", "--collapsed-corr", "abc"])
    assert e.value.code == 2
    assert main(["diagnose", "--example", "collapsed", "--collapsed-corr", "2"]) == 2


def test_examples_are_reproducible_from_the_seed():
    for name in aria.examples.NAMES:
        shipped = np.load(aria.examples.path(name))
        fresh = aria.examples.generate(name)
        for key, value in fresh.items():
            np.testing.assert_array_equal(shipped[key], value)


def test_failed_run_leaves_no_output_dir(tmp_path, capsys):
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"nope")
    out = tmp_path / "results"
    assert main(["diagnose", str(bad), "--out", str(out)]) == 2
    assert not out.exists()
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["diagnose", "--example", "collapsed", "--out", str(f)]) == 2
    assert f.read_text() == "x"


def test_progress_bar_on_request(tmp_path, capsys):
    p = _good(tmp_path, n=5000)
    assert main(["diagnose", str(p), "--progress", "--block-rows", "500"]) == 0
    assert "diagnose" in capsys.readouterr().err
