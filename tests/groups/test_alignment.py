import numpy as np
import pandas as pd
import pytest

import aria
from aria.features.channels import parse_channel_set
from aria.features.table import feature_table_from_frame
from aria.groups.alignment import axis_alignment, feature_alignment

CS = parse_channel_set({
    "channels": {"A": {}, "B": {}},
    "features": {"x": {"channel": "A", "kind": "vector", "dim": 3, "similarity": "seuclidean"},
                 "y": {"channel": "A", "kind": "vector", "dim": 1, "similarity": "seuclidean"},
                 "z": {"channel": "B", "kind": "vector", "dim": 2, "similarity": "seuclidean"},
                 "c": {"channel": "B", "kind": "sequence", "similarity": "lcs_root_motion"}},
})


def _ols_r2(u, x):
    design = np.c_[np.ones(len(u)), x]
    beta = np.linalg.lstsq(design, u, rcond=None)[0]
    res = u - design @ beta
    return 1 - res @ res / ((u - u.mean()) @ (u - u.mean()))


def test_feature_alignment_against_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    u = 0.8 * x[:, 1] - 0.3 * x[:, 2] + rng.normal(size=200)
    r = feature_alignment(u, x)
    corr = [np.corrcoef(u, x[:, j])[0, 1] for j in range(3)]
    np.testing.assert_allclose(r["corr"], corr, rtol=1e-10)
    assert r["best_dim"] == 1 and r["max_abs_corr"] == pytest.approx(abs(corr[1]))
    r2 = _ols_r2(u, x)
    assert r["r2"] == pytest.approx(r2, rel=1e-10)
    assert r["r2_adjusted"] == pytest.approx(1 - (1 - r2) * 199 / (200 - 3 - 1), rel=1e-10)


def test_histogram_collinear_with_intercept_and_constant_dims():
    rng = np.random.default_rng(1)
    h = rng.dirichlet(np.ones(4), size=100)  # rows sum to 1: rank 3 once centred
    h = np.c_[h, np.full(100, 0.5)]  # constant dim: no correlation
    u = h[:, 0] + 0.1 * rng.normal(size=100)
    r = feature_alignment(u, h)
    assert np.isnan(r["corr"][4]) and r["n_params"] == 3
    assert r["r2"] == pytest.approx(_ols_r2(u, h[:, :4]), rel=1e-9)


def test_axis_alignment_channels():
    rng = np.random.default_rng(2)
    n = 150
    x = rng.normal(size=(n, 3))
    y = rng.normal(size=n)
    z = rng.normal(size=(n, 2))
    u = 2 * x[:, 0] + 0.5 * y + 0.1 * rng.normal(size=n)
    ft = feature_table_from_frame(pd.DataFrame({"track": np.arange(n), "x": list(x), "y": y,
                                                "z": list(z), "c": [[1, 2]] * n}), CS)
    u1 = pd.Series(u[::-1], index=np.arange(n)[::-1])  # order and id type differ from the table
    res = axis_alignment(u1, ft)
    a = res.channels.set_index("channel")
    assert a.loc["A", "a_max_feature"] == "x" and a.loc["A", "a_max_dim"] == 0
    assert a.loc["A", "a_max"] == pytest.approx(abs(np.corrcoef(u, x[:, 0])[0, 1]))
    assert a.loc["A", "a_grp"] == pytest.approx(_ols_r2(u, x))
    assert a.loc["B", "a_grp"] == pytest.approx(_ols_r2(u, z)) and a.loc["B", "a_grp"] < 0.1
    assert res.skipped == ["c"] and res.n_tracks == n
    assert set(res.to_dict()["channels"]) == {"A", "B"}


def test_alignment_uses_rank1_track_u1():
    rng = np.random.default_rng(3)
    m = 80
    feat = rng.normal(size=(m, 3))
    seg_track = np.repeat(np.arange(m), 3)
    s = np.outer(feat[seg_track, 0], rng.uniform(1, 2, 12)) + 0.05 * rng.normal(size=(3 * m, 12))
    scores = aria.scores_from_array(s, segment_track=seg_track)
    df = pd.DataFrame({"track": np.arange(m), "x": list(feat), "y": feat[:, 1], "z": list(feat[:, 1:]),
                       "c": [[0]] * m})
    res = aria.homogeneity(scores, df, CS, k=[5], null_groups=30)
    u1 = aria.rank1_axis(scores, aria.diagnose(scores)).track_u1()
    ref = axis_alignment(u1, feature_table_from_frame(df, CS))
    pd.testing.assert_frame_equal(res.alignment.channels, ref.channels, rtol=1e-8)
    assert res.alignment.channels.set_index("channel").loc["A", "a_max"] > 0.95
