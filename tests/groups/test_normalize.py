import numpy as np
import pandas as pd
import pytest
import scipy.stats

import aria
from aria.groups.aggregate import TrackIndex, scan_scores, track_mean, track_scores
from aria.groups.normalize import ColumnMoments, choose_method, normalize_columns


def _scores(n=300, q=7, seed=0, tracks=None, heavy=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_t(2, size=(n, q)) if heavy else rng.normal(size=(n, q))
    x = x * rng.uniform(0.5, 3, q) + rng.uniform(-50, 50, q)  # per-column offsets and scales
    return x


def test_zscore_matches_scipy():
    x = _scores()
    z, rep = normalize_columns(x, "zscore")
    np.testing.assert_allclose(z, scipy.stats.zscore(x, axis=0, ddof=0), rtol=1e-10, atol=1e-10)
    assert rep.method == "zscore" and rep.requested == "zscore"


def test_rank_matches_scipy_average_ties():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=(200, 4)).astype(float)  # many ties
    r, rep = normalize_columns(x, "rank")
    ref = scipy.stats.rankdata(x, method="average", axis=0) / x.shape[0]
    np.testing.assert_array_equal(r, ref)
    assert rep.method == "rank"
    assert r.max() <= 1.0 and r.min() > 0


def test_zero_std_column_becomes_zero_and_is_reported():
    x = _scores(q=3)
    x[:, 1] = 4.2
    z, rep = normalize_columns(x, "zscore", query_ids=np.array(["a", "b", "c"]))
    assert np.all(z[:, 1] == 0)
    assert rep.zero_std_columns == ["b"]


def test_auto_rule_uses_median_excess_kurtosis():
    light = _scores(n=2000, q=9)
    heavy = _scores(n=2000, q=9, heavy=True)
    for x, expected in ((light, "zscore"), (heavy, "rank")):
        _, rep = normalize_columns(x, "auto")
        ref = float(np.median(scipy.stats.kurtosis(x, axis=0, fisher=True, bias=True)))
        assert rep.median_excess_kurtosis == pytest.approx(ref, rel=1e-9, abs=1e-9)
        assert rep.method == expected
    # threshold is a parameter
    _, rep = normalize_columns(heavy, "auto", kurtosis_threshold=1e9)
    assert rep.method == "zscore"
    assert choose_method("auto", np.array([np.nan, np.nan]))[0] == "zscore"


def test_streamed_moments_match_two_pass():
    x = _scores(n=5000, q=5, heavy=True)
    s = aria.scores_from_array(x)
    scan = scan_scores(s, higher_moments=True, block_rows=128)
    ref = ColumnMoments.from_array(x)
    np.testing.assert_allclose(scan.moments.mean, ref.mean, rtol=1e-12)
    np.testing.assert_allclose(scan.moments.m2, ref.m2, rtol=1e-10)
    np.testing.assert_allclose(scan.moments.m4, ref.m4, rtol=1e-8)
    np.testing.assert_allclose(scan.moments.excess_kurtosis(),
                               scipy.stats.kurtosis(x, axis=0), rtol=1e-8)


def test_track_mean_matches_pandas_groupby():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 6))
    track = rng.choice(["t3", "t1", "t22", "t0", "t7"], size=500)  # unsorted, non-contiguous
    idx = TrackIndex.from_segment_track(track)
    got = track_mean(x, idx)
    ref = pd.DataFrame(x).groupby(track).mean()
    np.testing.assert_allclose(got, ref.loc[idx.track_ids].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("method", ["zscore", "rank"])
def test_track_scores_equal_normalize_then_groupby(method, tmp_path):
    rng = np.random.default_rng(3)
    n, q = 997, 9
    x = _scores(n=n, q=q, seed=3)
    x[rng.integers(0, n, 50), 2] = x[0, 2]  # ties
    track = rng.integers(0, 120, n)
    np.save(tmp_path / "s.npy", x.astype(np.float32))
    s = aria.load_scores(tmp_path / "s.npy", tracks=track)  # memory-mapped
    norm, _ = normalize_columns(np.load(tmp_path / "s.npy").astype(np.float64), method)
    ref = pd.DataFrame(norm).groupby(track).mean()
    ts = track_scores(s, method=method, block_rows=64, chunk_rows=128, rank_block_bytes=3 * 8 * n)
    assert ts.report.method == method
    np.testing.assert_allclose(ts.values, ref.loc[ts.track_ids].to_numpy(), rtol=1e-9, atol=1e-12)


def test_residual_track_scores_and_u1_match_reference():
    x = _scores(n=400, q=8, seed=4)
    track = np.random.default_rng(4).integers(0, 60, 400)
    s = aria.scores_from_array(x, segment_track=track)
    diag = aria.diagnose(s)
    res = aria.residual_scores(s, diag).values
    for method in ("zscore", "rank"):
        ts = track_scores(s, method=method, axis=diag.v1, sigma_1=diag.sigma_1, residual=True,
                          block_rows=50, rank_block_bytes=2 * 8 * 400, workers=2)
        norm, _ = normalize_columns(res, method)
        ref = pd.DataFrame(norm).groupby(track).mean().loc[ts.track_ids].to_numpy()
        np.testing.assert_allclose(ts.residual.values, ref, rtol=1e-7, atol=1e-9)
        u1 = aria.rank1_axis(s, diag).track_u1()
        np.testing.assert_allclose(ts.track_u1, u1.loc[ts.track_ids].to_numpy(), rtol=1e-9, atol=1e-12)


def test_chunking_and_workers_do_not_change_numbers():
    x = _scores(n=1500, q=6, seed=5, heavy=True)
    track = np.random.default_rng(5).integers(0, 200, 1500)
    s = aria.scores_from_array(x, segment_track=track)
    for method in ("auto", "zscore", "rank"):
        a = track_scores(s, method=method, block_rows=100, chunk_rows=100)
        b = track_scores(s, method=method, block_rows=100, chunk_rows=700, workers=2,
                         rank_block_bytes=8 * 1500)
        np.testing.assert_array_equal(a.values, b.values)
        assert a.report.median_excess_kurtosis == b.report.median_excess_kurtosis


def test_track_scores_rejects_nan():
    x = _scores(n=50, q=3)
    x[7, 1] = np.nan
    with pytest.raises(aria.AriaInputError, match="NaN at segment 7"):
        track_scores(aria.scores_from_array(x), method="zscore")


def test_moments_survive_huge_offsets_and_sorted_rows():
    rng = np.random.default_rng(6)
    x = np.sort(rng.standard_cauchy(size=(20000, 3)), axis=0) + 1e6  # rows sorted: blocks far apart
    s = aria.scores_from_array(x)
    scan = scan_scores(s, higher_moments=True, block_rows=256)
    ref = ColumnMoments.from_array(x)
    np.testing.assert_allclose(scan.moments.mean, ref.mean, rtol=1e-13)
    np.testing.assert_allclose(scan.moments.m2, ref.m2, rtol=1e-9)
    np.testing.assert_allclose(scan.moments.m3, ref.m3, rtol=1e-8)
    np.testing.assert_allclose(scan.moments.m4, ref.m4, rtol=1e-8)
