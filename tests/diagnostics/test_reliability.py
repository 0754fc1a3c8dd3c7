import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import dense_reference, make_matrix
from hypothesis import given, settings
from hypothesis import strategies as st

import aria
from aria.diagnostics.reliability import VerdictThresholds, classify, gram_stats
from aria.io.scores import scores_from_array

KINDS = ["query-dependent", "collapsed", "offset-dominated", "heavy-tailed", "huge-offset"]


def _check_against_reference(d, s, tol=1e-6):
    ref = dense_reference(s)
    assert d.mean_abs_interquery_corr == pytest.approx(ref["rho"], abs=tol)
    assert d.energy_ratio_1 == pytest.approx(ref["e1"], abs=tol)
    assert d.energy_ratio_2_5 == pytest.approx(ref["e25"], abs=tol)
    k = len(d.energy_spectrum)
    np.testing.assert_allclose(d.energy_spectrum, ref["energy"][:k], atol=tol)
    assert d.v1_uniformity == pytest.approx(ref["u1_uniformity"], abs=tol)
    assert d.mean_concentration == pytest.approx(ref["c_bar"], abs=tol)
    np.testing.assert_allclose(d.concentration, ref["conc"], atol=tol)
    assert d.sigma_1 == pytest.approx(ref["sigma1"], rel=1e-9)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("block_rows,chunk_rows", [(2048, None), (7, 7), (64, 1000), (1, 5)])
def test_matches_dense_float64_reference(kind, dtype, block_rows, chunk_rows):
    s = make_matrix(kind, n=701 if block_rows == 1 else 3001, q=23, dtype=dtype)
    d = aria.diagnose(scores_from_array(s), block_rows=block_rows, chunk_rows=chunk_rows)
    _check_against_reference(d, s)


def test_v1_matches_svd_up_to_declared_sign():
    s = make_matrix("query-dependent")
    d = aria.diagnose(scores_from_array(s))
    ref = dense_reference(s)
    np.testing.assert_allclose(d.v1, ref["v1"], atol=1e-8)
    assert d.v1.sum() >= 0


def test_bit_identical_for_any_chunk_size_at_fixed_block():
    s = make_matrix("heavy-tailed", n=5000, q=17)
    da = scores_from_array(s)
    a = gram_stats(da, block_rows=256, chunk_rows=256)
    b = gram_stats(da, block_rows=256, chunk_rows=256 * 7)
    c = gram_stats(da, block_rows=256, chunk_rows=100000)
    for other in (b, c):
        assert np.array_equal(a.comoment, other.comoment)
        assert np.array_equal(a.mean, other.mean)
    assert aria.diagnose(da, block_rows=256, chunk_rows=256).to_json() == \
        aria.diagnose(da, block_rows=256, chunk_rows=5000).to_json()


def test_huge_offset_does_not_cancel():
    # mean 1e8, unit-scale signal: a naive sum-of-squares route loses every digit
    rng = np.random.default_rng(3)
    s = 1e8 + rng.normal(size=(20000, 5))
    d = aria.diagnose(scores_from_array(s), block_rows=512)
    r = np.corrcoef(s, rowvar=False)
    rho = np.abs(r[np.triu_indices(5, 1)]).mean()
    assert d.mean_abs_interquery_corr == pytest.approx(rho, abs=1e-6)
    np.testing.assert_allclose(d.column_std, s.std(axis=0), rtol=1e-6)


# ---------------------------------------------------------------- properties
matrices = st.integers(0, 10_000).map(lambda seed: make_matrix("query-dependent", n=200, q=8, seed=seed))


@settings(max_examples=25, deadline=None)
@given(matrices, st.floats(0.01, 1000), st.floats(-1e4, 1e4), st.integers(0, 7))
def test_scaling_or_shifting_a_column_leaves_rho_unchanged(s, scale, shift, col):
    base = aria.diagnose(scores_from_array(s)).mean_abs_interquery_corr
    t = s.copy()
    t[:, col] = t[:, col] * scale + shift
    assert aria.diagnose(scores_from_array(t)).mean_abs_interquery_corr == pytest.approx(base, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 40), st.integers(2, 60))
def test_rank_one_matrix_has_unit_e1(seed, n, q):
    rng = np.random.default_rng(seed)
    s = np.outer(rng.normal(size=n), rng.normal(size=q))
    d = aria.diagnose(scores_from_array(s))
    assert d.energy_ratio_1 == pytest.approx(1.0, abs=1e-9)
    assert d.energy_ratio_2_5 == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(matrices)
def test_large_offset_drives_concentration_to_one(s):
    values = [aria.diagnose(scores_from_array(s + c)).mean_concentration for c in (0, 10, 100, 1e4)]
    assert values == sorted(values)
    assert values[-1] > 0.999


@settings(max_examples=20, deadline=None)
@given(matrices, st.integers(0, 2**31))
def test_permuting_rows_changes_nothing(s, seed):
    perm = np.random.default_rng(seed).permutation(s.shape[0])
    a = aria.diagnose(scores_from_array(s))
    b = aria.diagnose(scores_from_array(s[perm]))
    for key in ("mean_abs_interquery_corr", "energy_ratio_1", "energy_ratio_2_5", "v1_uniformity",
                "mean_concentration"):
        assert getattr(a, key) == pytest.approx(getattr(b, key), abs=1e-10)


# ---------------------------------------------------------------- verdicts
TABLE2 = [  # (name, E1, E2:5, C_bar, rho_bar, expected)
    ("Trak S", 0.282, 0.098, 0.175, 0.076, "query-dependent"),
    ("Trak C", 0.993, 0.004, 0.022, 0.991, "collapsed"),
    ("Trak F", 0.772, 0.208, 0.002, 0.641, "query-dependent"),
    ("FactGraSS S", 0.006, 0.018, 0.000, 0.012, "query-dependent"),
    ("FactGraSS C", 0.051, 0.030, 0.001, 0.046, "query-dependent"),
    ("FactGraSS F", 0.866, 0.081, 0.000, 0.663, "collapsed"),
    ("Grad-Cos S", 0.413, 0.419, 0.216, 0.374, "query-dependent"),
    ("Grad-Cos C", 1.000, 0.000, 1.000, 0.997, "collapsed"),
    ("Grad-Cos F", 0.793, 0.200, 0.015, 0.736, "collapsed"),
    ("LoGra S", 0.008, 0.017, 0.000, 0.013, "query-dependent"),
    ("LoGra C", 0.057, 0.038, 0.006, 0.049, "query-dependent"),
    ("LoGra F", 0.223, 0.065, 0.000, 0.272, "query-dependent"),
    ("CLAP", 0.924, 0.054, 0.801, 0.584, "offset-dominated"),
    ("CLEWS", 0.607, 0.141, 0.406, 0.280, "query-dependent"),
    ("MERT", 0.437, 0.375, 0.002, 0.358, "query-dependent"),
]


@pytest.mark.parametrize("name,e1,e25,c,rho,expected", TABLE2)
def test_paper_table2_verdicts(name, e1, e25, c, rho, expected):
    verdict, _, notes = classify(rho, e1, c)
    assert verdict == expected, name
    assert ("partial offset" in " ".join(notes)) == (name == "CLEWS")


def test_thresholds_are_parameters():
    assert classify(0.85, 0.1, 0.1)[0] == "query-dependent"
    assert classify(0.85, 0.1, 0.1, VerdictThresholds(collapsed_corr=0.8))[0] == "collapsed"
    with pytest.raises(ValueError):
        VerdictThresholds(collapsed_corr=1.5)


@pytest.mark.parametrize("kind,expected", [("query-dependent", "query-dependent"),
                                           ("collapsed", "collapsed"),
                                           ("offset-dominated", "offset-dominated")])
def test_synthetic_regimes_get_their_verdict(kind, expected):
    assert aria.diagnose(scores_from_array(make_matrix(kind))).verdict == expected


# ---------------------------------------------------------------- edge cases
def test_zero_variance_and_all_zero_columns_are_excluded_and_reported():
    s = make_matrix("query-dependent", n=500, q=6)
    s[:, 2] = 3.25          # constant: no correlation, but has a concentration (= 1)
    s[:, 4] = 0.0           # all zero: excluded from both
    d = aria.diagnose(scores_from_array(s, query_ids=list("abcdef")))
    assert d.excluded_correlation == ["c", "e"]
    assert d.excluded_concentration == ["e"]
    keep = [0, 1, 3, 5]
    r = np.corrcoef(s[:, keep], rowvar=False)
    assert d.mean_abs_interquery_corr == pytest.approx(np.abs(r[np.triu_indices(4, 1)]).mean(), abs=1e-9)
    assert d.concentration[2] == pytest.approx(1.0)
    assert math.isnan(d.concentration[4])
    out = json.loads(d.to_json())
    assert out["excluded_columns"] == ["c", "e"]
    assert d.n_correlation_pairs == 6


def test_single_query_is_undetermined_not_zero():
    s = make_matrix("query-dependent", n=100, q=1)
    d = aria.diagnose(scores_from_array(s))
    assert math.isnan(d.mean_abs_interquery_corr)
    assert d.verdict == "undetermined"
    out = json.loads(d.to_json())
    assert out["mean_abs_interquery_corr"] is None
    assert "mean_abs_interquery_corr" in out["undefined"]


def test_all_zero_matrix_is_undefined_everywhere():
    d = aria.diagnose(scores_from_array(np.zeros((10, 3))))
    assert d.verdict == "undetermined"
    text = d.to_json()
    assert "NaN" not in text and "Infinity" not in text


def test_json_has_the_spec_keys_and_no_nan_tokens():
    d = aria.diagnose(aria.load_scores(aria.examples.path("query-dependent")))
    out = json.loads(d.to_json())
    for key in ("n_segments", "n_queries", "mean_abs_interquery_corr", "energy_ratio_1",
                "energy_ratio_2_5", "energy_spectrum", "v1_uniformity", "mean_concentration",
                "excluded_columns", "verdict"):
        assert key in out
    assert len(out["energy_spectrum"]) >= 10


def test_to_frame_per_query():
    s = make_matrix("offset-dominated", n=400, q=5)
    d = aria.diagnose(scores_from_array(s))
    f = d.to_frame()
    assert list(f["query"]) == [f"q{i}" for i in range(5)]
    np.testing.assert_allclose(f["mean"], s.mean(axis=0))
    np.testing.assert_allclose(f["std"], s.std(axis=0), rtol=1e-9)
    np.testing.assert_allclose(f["concentration"], s.sum(0) ** 2 / (400 * (s**2).sum(0)))


def test_nan_and_inf_are_rejected_with_location():
    s = make_matrix("query-dependent", n=300, q=4)
    s[123, 2] = np.nan
    with pytest.raises(aria.AriaInputError, match=r"NaN at segment 123, query 'q2'"):
        aria.diagnose(scores_from_array(s), block_rows=50)
    s[123, 2] = np.inf
    with pytest.raises(aria.AriaInputError, match="an infinite value at segment 123"):
        aria.diagnose(scores_from_array(s))


# ---------------------------------------------------------------- rank-1 axis and residual
def test_rank1_axis_and_residual_match_dense_svd(tmp_path):
    s = make_matrix("collapsed", n=1200, q=9).astype(np.float32)
    track = np.repeat(np.arange(300), 4)
    da = scores_from_array(s, segment_track=track)
    d = aria.diagnose(da, block_rows=100)
    axis = aria.rank1_axis(da, d, block_rows=100)
    u, sv, vt = np.linalg.svd(s.astype(np.float64), full_matrices=False)
    sign = 1 if vt[0].sum() >= 0 else -1
    np.testing.assert_allclose(axis.u1, sign * u[:, 0], atol=1e-8)
    dense_res = s.astype(np.float64) - sv[0] * np.outer(u[:, 0], vt[0])
    np.testing.assert_allclose(aria.residual_scores(da, d).values, dense_res, atol=1e-8)
    out = tmp_path / "res.npy"
    axis2 = aria.write_residual(da, d, out, dtype=np.float64, block_rows=64, chunk_rows=128)
    np.testing.assert_allclose(np.load(out), dense_res, atol=1e-8)
    np.testing.assert_array_equal(axis.u1, axis2.u1)
    per_track = axis.track_u1()
    expected = pd.Series(axis.u1).groupby(track).mean()
    np.testing.assert_allclose(per_track.to_numpy(), expected.to_numpy())
    # the residual has no component along v1
    np.testing.assert_allclose(np.load(out) @ d.v1, 0, atol=1e-8)
