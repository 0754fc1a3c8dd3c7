"""The reliability score's track-moment pass on a dask cluster (fixed partitions, fixed merge order)."""

import json

import numpy as np
import pandas as pd
import pytest

import aria
from aria.cli import main
from aria.diagnostics import reliability_score as rs
from aria.scale.diagnose import track_moments_cluster

TASK = 8 * 6 * 64  # 64-row chunks: tasks of 192 rows (32 per query), so tracks span task boundaries


def _scores(layout: str, n_tracks: int = 300, q: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    per = rng.integers(1, 5, n_tracks)  # 1-4 segments: some tracks are left out (1 segment)
    tracks = np.repeat(np.arange(n_tracks), per)
    if layout == "shuffled":
        tracks = rng.permutation(tracks)
    signal = rng.normal(size=(n_tracks, q))[tracks]
    values = (signal + rng.normal(size=(tracks.size, q)) + 1e3).astype(np.float32)  # a large offset
    return aria.scores_from_array(values, segment_track=tracks), values.astype(np.float64), tracks


def _inputs(sc, shift):
    codes, counts = rs._codes(np.asarray(sc.coords["track"].values))
    used = np.flatnonzero(counts >= 2)
    remap = np.full(counts.size, -1)
    remap[used] = np.arange(used.size)
    return remap[codes], counts[used], shift


@pytest.mark.parametrize("layout", ["contiguous", "shuffled"])
def test_track_moments_on_a_cluster_match_dense_and_single_process(client, layout):
    sc, dense, tracks = _scores(layout)
    shift = aria.diagnose(sc).column_mean
    single = rs.track_moments(sc, shift=shift)
    clustered = rs.track_moments(sc, shift=shift, client=client)
    small = track_moments_cluster(sc, client, *_inputs(sc, shift), task_bytes=TASK)
    assert clustered.contiguous == (layout == "contiguous") == single.contiguous
    assert (clustered.n_tracks, clustered.n_segments) == (single.n_tracks, single.n_segments)
    for field, got in zip(("between_sumsq", "total", "sumsq"), small, strict=True):
        want = getattr(single, field)
        np.testing.assert_allclose(getattr(clustered, field), want, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    # dense reference: the one-way ANOVA share, straight from the float64 matrix
    tc = rs.track_coherence_from_moments(small[0], small[1], small[2], single.n_tracks, single.n_segments)
    assert tc[0] == pytest.approx(rs.track_coherence(dense, tracks)[0], abs=1e-10)
    # the whole score through the API, on the cluster
    assert rs.reliability_score(sc, client=client).score == pytest.approx(rs.reliability_score(sc).score,
                                                                          abs=1e-12)


def test_track_moments_cluster_result_does_not_depend_on_the_workers(client):
    distributed = pytest.importorskip("distributed")
    sc, _, _ = _scores("contiguous", seed=1)
    args = _inputs(sc, aria.diagnose(sc).column_mean)
    two = track_moments_cluster(sc, client, *args, task_bytes=TASK)
    with (distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                   dashboard_address=":0") as one_cluster,
          distributed.Client(one_cluster) as one):
        single_worker = track_moments_cluster(sc, one, *args, task_bytes=TASK)
    for a, b in zip(two, single_worker, strict=True):
        assert np.array_equal(a, b)  # bit for bit: fixed partitions, fixed merge order


def test_diagnose_cli_runs_the_score_pass_on_the_scheduler(client, tmp_path, capsys):
    _, dense, tracks = _scores("contiguous", seed=2)
    np.save(tmp_path / "s.npy", dense)
    track_map = pd.DataFrame({"segment": np.arange(tracks.size), "track": tracks})
    track_map.to_csv(tmp_path / "map.csv", index=False)
    argv = ["diagnose", str(tmp_path / "s.npy"), "--tracks", str(tmp_path / "map.csv"), "--json"]
    assert main([*argv, "--scheduler", client.scheduler.address]) == 0
    on_cluster = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    local = json.loads(capsys.readouterr().out)
    assert on_cluster["reliability_components"]["track_coherence"] == pytest.approx(
        rs.track_coherence(dense, tracks)[0], abs=1e-10)
    assert on_cluster["reliability_score"] == pytest.approx(local["reliability_score"], abs=1e-12)
