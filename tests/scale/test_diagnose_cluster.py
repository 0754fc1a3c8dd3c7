import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

import aria
from aria.diagnostics.reliability import diagnose_stats
from aria.errors import AriaInputError
from aria.scale.cluster import parse_scheduler
from aria.scale.diagnose import gram_stats_cluster, merge_stats
from aria.scale.residual import rank1_cluster
from aria.scale.sources import RowSource, partitions

KEYS = ("mean_abs_interquery_corr", "energy_ratio_1", "energy_ratio_2_5", "mean_concentration",
        "v1_uniformity", "sigma_1", "frobenius_norm_sq")
def diagnose_cluster(scores, client, task_bytes):
    """aria.diagnose on the cluster with small tasks (many partials to merge)."""
    stats = gram_stats_cluster(scores, client, task_bytes=task_bytes)
    return diagnose_stats(stats, np.asarray(scores.coords["query"].values).astype(str))


TASK = 8 * 12 * 128  # 128-row chunks, tasks of 384 rows (32 per query): many tasks on small matrices


def _matrix(n=3000, q=12, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 4)) @ rng.normal(size=(4, q))
    return (base + rng.normal(size=(n, q)) + 1e3).astype(np.float32)  # a large offset: Chan merge matters


def _close(a, b, rtol=1e-12):
    da, db = a.to_dict(), b.to_dict()
    for k in KEYS:
        assert db[k] == pytest.approx(da[k], rel=rtol, abs=1e-15), k
    assert da["verdict"] == db["verdict"]
    np.testing.assert_allclose(a.to_frame().select_dtypes("number").to_numpy(),
                               b.to_frame().select_dtypes("number").to_numpy(), rtol=1e-9, atol=1e-12)


def test_parse_scheduler():
    assert parse_scheduler("local").workers is None
    assert parse_scheduler("local:3").workers == 3
    assert parse_scheduler("tcp://127.0.0.1:8786").address == "tcp://127.0.0.1:8786"
    assert parse_scheduler("node7:8786").address == "tcp://node7:8786"
    for bad in ("local:0", "local:x", "nowhere", "host:99999", ""):
        with pytest.raises(AriaInputError):
            parse_scheduler(bad)


def test_partitions_ignore_the_cluster_and_cover_every_row():
    parts = partitions(10_001, 7, block_rows=64, task_bytes=8 * 7 * 1000)
    assert parts[0] == (0, 960) and parts[-1][1] == 10_001
    assert all(a == b for (_, a), (b, _) in zip(parts, parts[1:], strict=False))


def test_merge_equals_dense_float64():
    x = _matrix(500, 6).astype(np.float64)
    from aria.diagnostics.stats import gram_stats

    def da(v):
        return xr.DataArray(v, dims=("segment", "query"))

    m = merge_stats(merge_stats(gram_stats(da(x[:17])), gram_stats(da(x[17:300]))), gram_stats(da(x[300:])))
    c = x - x.mean(axis=0)
    assert m.n == 500
    np.testing.assert_allclose(m.mean, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(m.comoment, c.T @ c, rtol=1e-12)


def test_npy_shards_zarr_url_and_memory_equal_single_process(tmp_path, client):
    x = _matrix()
    np.save(tmp_path / "s.npy", x)
    ref = aria.diagnose(aria.load_scores(tmp_path / "s.npy"))
    shards = tmp_path / "shards"
    shards.mkdir()
    for i, (a, b) in enumerate([(0, 1000), (1000, 1001), (1001, 3000)]):
        np.save(shards / f"part-{i:05d}.npy", x[a:b])
    xr.DataArray(x.T, dims=("test", "train")).to_dataset(name="scores").to_zarr(tmp_path / "s.zarr")
    sources = {
        "npy": aria.load_scores(tmp_path / "s.npy"),
        "shards": aria.load_scores(shards),
        "zarr": aria.load_scores(tmp_path / "s.zarr"),
        "zarr-url": aria.load_scores(f"file://{tmp_path / 's.zarr'}"),
        "memory": aria.scores_from_array(x.astype(np.float64)),
    }
    first = None
    for name, s in sources.items():
        got = diagnose_cluster(s, client, task_bytes=TASK)
        _close(ref, got)
        if first is None:
            first = got.to_dict()
        else:  # same partition and tree: identical bits whatever the source
            assert got.to_dict()["energy_spectrum"] == first["energy_spectrum"], name


def test_same_bits_on_one_and_two_workers(tmp_path, client):
    np.save(tmp_path / "s.npy", _matrix(seed=1))
    s = aria.load_scores(tmp_path / "s.npy")
    two = diagnose_cluster(s, client, task_bytes=TASK).to_dict()
    from aria.scale.cluster import connect

    with connect("local:1") as c1:
        one = diagnose_cluster(s, c1, task_bytes=TASK).to_dict()
    for k in KEYS + ("energy_spectrum",):
        assert one[k] == two[k], k


def test_residual_written_in_parallel_to_zarr(tmp_path, client):
    x = _matrix(2000, 12, seed=2)
    np.save(tmp_path / "s.npy", x)
    s = aria.load_scores(tmp_path / "s.npy")
    diag = aria.diagnose(s)
    ref = aria.write_residual(s, diag, tmp_path / "r.npy", dtype="float64")
    axis = rank1_cluster(s, diag, client, store=str(tmp_path / "r.zarr"), dtype="float64", task_bytes=TASK)
    import zarr

    got = zarr.open_array(str(tmp_path / "r.zarr"), mode="r")[:]
    np.testing.assert_allclose(got, np.load(tmp_path / "r.npy"), rtol=0, atol=1e-9)
    np.testing.assert_allclose(axis.u1, ref.u1, rtol=1e-12)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".r.zarr")]


class _SlowSource(RowSource):
    """Rows read slowly, so tasks are still running when a worker is killed."""

    def read(self, start, stop):
        time.sleep(0.3)
        return super().read(start, stop)


def test_killed_worker_changes_nothing(tmp_path):
    import distributed

    x = _matrix(4000, 12, seed=3)
    np.save(tmp_path / "s.npy", x)
    s = aria.load_scores(tmp_path / "s.npy")
    ref = aria.diagnose(s)
    from aria.scale import diagnose as sd

    src = _SlowSource("npy", s.shape, [str(tmp_path / "s.npy")])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=50) as cl, \
            distributed.Client(cl) as c:
        orig = sd.row_source
        sd.row_source = lambda scores: src
        try:
            import cloudpickle

            cloudpickle.register_pickle_by_value(sys.modules[__name__])  # _SlowSource on the workers
            pids = list(c.run(os.getpid).values())
            import threading

            threading.Timer(1.0, os.kill, args=(pids[0], signal.SIGKILL)).start()
            got = diagnose_cluster(s, c, task_bytes=TASK)
        finally:
            sd.row_source = orig
    _close(ref, got)


def test_cli_scheduler_address_and_refusals(tmp_path, cluster):
    x = _matrix(1500, 12, seed=4)
    np.save(tmp_path / "s.npy", x)
    env = {**os.environ}
    run = subprocess.run([sys.executable, "-m", "aria", "diagnose", str(tmp_path / "s.npy"), "--json",
                          "--scheduler", cluster.scheduler_address], capture_output=True, text=True,
                         env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    ref = aria.diagnose(aria.load_scores(tmp_path / "s.npy")).to_dict()
    for k in KEYS:
        assert got[k] == pytest.approx(ref[k], rel=1e-12), k
    for spec, msg in (("127.0.0.1:9", "cannot reach the dask scheduler"), ("nowhere", "expected local")):
        bad = subprocess.run([sys.executable, "-m", "aria", "diagnose", str(tmp_path / "s.npy"),
                              "--scheduler", spec], capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and msg in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def test_lds_on_the_cluster_equals_single_process(tmp_path, client):
    from aria.evaluate.lds import GroundTruth, lds

    x = _matrix(2000, 12, seed=5)
    np.save(tmp_path / "s.npy", x)
    s = aria.load_scores(tmp_path / "s.npy")
    rng = np.random.default_rng(7)
    mask = rng.random((40, 2000)) < 0.5
    targets = mask.astype(np.float64) @ x.astype(np.float64) + rng.normal(size=(40, 12)) * 50
    gt = GroundTruth(mask, targets)
    ref = lds(s, gt)
    got = lds(s, gt, client=client)
    np.testing.assert_allclose(got.per_query, ref.per_query, rtol=1e-12)
    assert got.mean == pytest.approx(ref.mean, rel=1e-12)


def test_bootstrap_on_the_cluster_equals_single_process(tmp_path, client):
    """diagnose(client=..., bootstrap=B) resamples the cluster's Gram statistics: the same intervals."""
    np.save(tmp_path / "s.npy", _matrix(seed=2))
    s = aria.load_scores(tmp_path / "s.npy")
    local = aria.diagnose(s, bootstrap=200, bootstrap_seed=3).to_dict()
    remote = aria.diagnose(s, client=client, bootstrap=200, bootstrap_seed=3).to_dict()
    for key in ("rho_bar_ci", "C_bar_ci", "E1_ci"):
        np.testing.assert_allclose(remote[key], local[key], rtol=1e-9, err_msg=key)
    assert remote["bootstrap"]["replicates"] == 200 and remote["parameters"]["bootstrap_seed"] == 3
