"""Issue 12 item 8 and the shared cache: an unwritable null cache never costs a finished analysis,
and two processes sharing one --cache-dir at the same moment agree and leave a valid cache."""

import json
import os
import subprocess

import numpy as np
import pandas as pd
import pytest
from faultkit import ENV, ROOT, aria_cmd, run, without_file_capabilities

from aria.groups.null import NullCache, NullDistribution


@pytest.fixture
def inputs(tmp_path):
    """A symbolic-style feature table, a score matrix with a track map (as tests/cli)."""
    rng = np.random.default_rng([12, 8])
    m, q = 80, 6
    toml = tmp_path / "mine.toml"
    toml.write_text('name = "mine"\n[channels.a]\n[channels.b]\n'
                    '[features.fa]\nchannel = "a"\nkind = "vector"\ndim = 3\nsimilarity = "seuclidean"\n'
                    '[features.fb]\nchannel = "b"\nkind = "vector"\ndim = 2\nsimilarity = "seuclidean"\n')
    pd.DataFrame({"track": [f"t{i}" for i in range(m)], "fa": list(rng.normal(size=(m, 3))),
                  "fb": list(rng.normal(size=(m, 2))), "status": ["ok"] * m,
                  "error": [None] * m}).to_parquet(tmp_path / "feats.parquet")
    np.save(tmp_path / "scores.npy", rng.normal(size=(2 * m, q)))
    pd.DataFrame({"segment": np.arange(2 * m), "track": np.repeat([f"t{i}" for i in range(m)], 2)}).to_csv(
        tmp_path / "map.csv", index=False)
    return tmp_path


def _cmd(p, cache, *extra):
    return aria_cmd("homogeneity", p / "scores.npy", "--features", p / "feats.parquet", "--channels",
                    p / "mine.toml", "--tracks", p / "map.csv", "--k", "5,10,20", "--null-groups", "400",
                    "--cache-dir", cache, "--json", *extra)


def _numbers(stdout):
    d = json.loads(stdout)
    d.pop("elapsed_seconds", None)
    for nl in d.get("null", {}).values():
        nl.pop("from_cache", None)
    return d


def _valid_entries(cache):
    entries = sorted(cache.glob("null-*.npz"))
    for e in entries:
        with np.load(e, allow_pickle=False) as z:
            assert z["feature_values"].shape == (400, 2) and np.isfinite(z["channel_values"]).all()
    assert not list(cache.glob(".*.part")), "a temporary file was left in the cache"
    return entries


@pytest.mark.parametrize("how", ["a file", "under a file"])
def test_unwritable_cache_warns_and_the_analysis_finishes(inputs, how):
    ref = run(_cmd(inputs, inputs / "fresh"))
    assert ref.returncode == 0, ref.stderr
    (inputs / "blocker").write_text("not a directory")
    cache = inputs / "blocker" if how == "a file" else inputs / "blocker" / "nulls"
    res = run(_cmd(inputs, cache))
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    got, want = _numbers(res.stdout), _numbers(ref.stdout)
    lines = [w for w in got.pop("warnings") if "null cache not written" in w]
    assert len(lines) == 3 and "K = 5" in lines[0] and str(inputs / "blocker") in lines[0]
    assert want.pop("warnings") == []
    assert got == want
    text = run(_cmd(inputs, cache)[:-1])  # the text report: one WARNING line per K
    assert text.returncode == 0
    assert sum(ln.startswith("WARNING: null cache not written") for ln in text.stdout.splitlines()) == 3


def test_read_only_cache_directory(inputs):
    prefix = without_file_capabilities()
    cache = inputs / "ro"
    cache.mkdir()
    os.chmod(cache, 0o555)
    try:
        res = run(prefix + _cmd(inputs, cache))
        assert res.returncode == 0, res.stderr
        warnings = json.loads(res.stdout)["warnings"]
        assert any("Permission denied" in w and "null cache not written" in w for w in warnings)
        assert list(cache.iterdir()) == []
    finally:
        os.chmod(cache, 0o755)


def test_save_returns_none_and_warns(tmp_path):
    (tmp_path / "f").write_text("x")
    null = NullDistribution(5, 3, 0, ("fa",), ("a",), np.zeros((3, 1)), np.zeros((3, 1)), key="k" * 64)
    cache = NullCache(tmp_path / "f")
    assert cache.save(null) is None
    assert cache.warnings == [f"null cache not written ({tmp_path / 'f'}: File exists); the null of "
                              "K = 5 will be computed again next time"]
    assert NullCache(tmp_path / "ok").save(null) == tmp_path / "ok" / f"null-{'k' * 64}.npz"


def test_two_processes_share_one_cache_at_the_same_moment(inputs):
    cache = inputs / "shared"
    procs = [subprocess.Popen(_cmd(inputs, cache), cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            outs.append(out)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert _numbers(outs[0]) == _numbers(outs[1])
    assert len(_valid_entries(cache)) == 3
    # a third run reads every null from that cache and finds the same numbers
    third = run(_cmd(inputs, cache))
    assert third.returncode == 0
    d = json.loads(third.stdout)
    assert all(nl["from_cache"] for nl in d["null"].values())
    assert _numbers(third.stdout) == _numbers(outs[0])
    fresh = run(_cmd(inputs, inputs / "alone"))
    assert _numbers(fresh.stdout) == _numbers(outs[0])
