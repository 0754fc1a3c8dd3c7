"""Issue 12 item 10: the diagnostics of a finite matrix do not depend on its magnitude."""

import json
import math

import numpy as np
import pytest
from conftest import dense_reference, make_matrix
from faultkit import aria_cmd, run

import aria
from aria.diagnostics.stats import SAFE_EXPONENT, gram_stats, scale_exponent
from aria.io.scores import scores_from_array

RATIOS = ("mean_abs_interquery_corr", "energy_ratio_1", "energy_ratio_2_5", "energy_spectrum",
          "v1_uniformity", "mean_concentration", "excluded_columns", "verdict", "verdict_reason",
          "explanation", "notes", "n_correlation_pairs")


def _unit_matrix(kind, n=3001, q=23):
    """A matrix whose largest magnitude lies in [0.5, 1): scaling it by 2**k is exact."""
    s = make_matrix(kind, n=n, q=q)
    return np.ldexp(s, -np.frexp(np.abs(s).max())[1])


def test_scale_exponent_window():
    assert scale_exponent(0.0) == 0 and scale_exponent(1.0) == 0
    assert scale_exponent(2.0 ** (SAFE_EXPONENT - 1)) == 0 and scale_exponent(2.0 ** -SAFE_EXPONENT) == 0
    assert scale_exponent(2.0 ** SAFE_EXPONENT) == SAFE_EXPONENT + 1
    assert scale_exponent(1e300) == np.frexp(1e300)[1] and scale_exponent(5e-324) == -1073
    for x in (1e-250, 3e250, np.finfo(np.float64).max):
        assert 0.5 <= math.ldexp(x, -scale_exponent(x)) < 1


@pytest.mark.parametrize("kind", ["query-dependent", "collapsed", "offset-dominated", "heavy-tailed"])
@pytest.mark.parametrize("k", [-1000, -700, -400, 400, 700, 1020])
def test_power_of_two_scaling_gives_identical_diagnostics(kind, k):
    s = _unit_matrix(kind)
    assert 0.5 <= np.abs(s).max() < 1
    base = aria.diagnose(scores_from_array(s), block_rows=256)
    scaled = aria.diagnose(scores_from_array(np.ldexp(s, k)), block_rows=256)
    a, b = base.to_dict(), scaled.to_dict()
    for key in RATIOS:
        assert a[key] == b[key], key
    assert np.array_equal(np.ldexp(base.column_mean, k), scaled.column_mean)
    assert np.array_equal(np.ldexp(base.column_std, k), scaled.column_std)
    assert np.array_equal(base.v1, scaled.v1)
    assert b["parameters"]["scale_exponent"] == k and "scale_exponent" not in a["parameters"]
    if abs(k) < 1000:  # sigma_1 = 2^k sigma_1 is still a float64
        assert scaled.sigma_1 == np.ldexp(base.sigma_1, k)
    if abs(k) > 520:  # ||S||_F^2 = 4^k ||S||_F^2 is not
        assert "frobenius_norm_sq" in b["undefined"] and b["frobenius_norm_sq"] is None
    else:
        assert b["frobenius_norm_sq"] == math.ldexp(a["frobenius_norm_sq"], 2 * k)


@pytest.mark.parametrize("factor", [1e200, 1e-200, 1e300, 1e-300, 1.7e308 / 40])
def test_any_magnitude_agrees_with_the_dense_reference(factor):
    s = make_matrix("query-dependent", n=2000, q=15)
    ref = dense_reference(s)
    d = aria.diagnose(scores_from_array(s * factor), block_rows=97)
    assert d.verdict == aria.diagnose(scores_from_array(s)).verdict == "query-dependent"
    assert d.excluded_columns == []
    assert d.mean_abs_interquery_corr == pytest.approx(ref["rho"], abs=1e-9)
    assert d.energy_ratio_1 == pytest.approx(ref["e1"], abs=1e-9)
    assert d.mean_concentration == pytest.approx(ref["c_bar"], abs=1e-9)
    np.testing.assert_allclose(d.v1, ref["v1"], atol=1e-8)
    np.testing.assert_allclose(d.column_mean, s.mean(axis=0) * factor, rtol=1e-9)  # numpy overflows
    assert d.sigma_1 == pytest.approx(ref["sigma1"] * factor, rel=1e-9)


def test_blocks_of_very_different_magnitudes():
    """The running maximum (and the scale) changes mid-pass; the result is the dense one."""
    rng = np.random.default_rng(10)
    s = rng.normal(size=(3000, 12)) @ rng.normal(size=(12, 12))
    s[:1000] *= 1e-250   # tiny rows first: scale 2^-e, then rescaled twice
    s[1000:2000] *= 1e-10
    s[2000:] *= 1e250
    st = gram_stats(scores_from_array(s), block_rows=64)
    assert st.scale_exponent == scale_exponent(np.abs(s).max())
    scaled = np.ldexp(s, -st.scale_exponent)
    np.testing.assert_allclose(st.mean, scaled.mean(axis=0), rtol=1e-12, atol=0)
    c = scaled - scaled.mean(axis=0)
    np.testing.assert_allclose(st.comoment, c.T @ c, rtol=1e-10, atol=1e-13 * np.abs(c.T @ c).max())
    d = aria.diagnose(scores_from_array(s), block_rows=64)
    ref = dense_reference(scaled)
    assert d.mean_abs_interquery_corr == pytest.approx(ref["rho"], abs=1e-9)
    assert d.energy_ratio_1 == pytest.approx(ref["e1"], abs=1e-9)


def test_normal_matrices_are_not_rescaled():
    for kind in ("query-dependent", "huge-offset"):
        s = make_matrix(kind)
        assert gram_stats(scores_from_array(s)).scale_exponent == 0
        assert "scale_exponent" not in aria.diagnose(scores_from_array(s)).parameters


@pytest.mark.parametrize("factor", ["1e200", "1e-200"])
def test_cli_diagnose_of_an_extreme_matrix(tmp_path, factor):
    s = make_matrix("collapsed", n=400, q=8)
    np.save(tmp_path / "s.npy", s * float(factor))
    np.save(tmp_path / "base.npy", s)
    res = run(aria_cmd("diagnose", tmp_path / "s.npy", "--json"), timeout=120)
    base = run(aria_cmd("diagnose", tmp_path / "base.npy", "--json"), timeout=120)
    assert res.returncode == 0 and base.returncode == 0, res.stderr
    assert res.stderr == ""
    a, b = json.loads(res.stdout), json.loads(base.stdout)
    assert a["verdict"] == b["verdict"] == "collapsed" and a["excluded_columns"] == []
    for key in ("mean_abs_interquery_corr", "energy_ratio_1", "mean_concentration", "v1_uniformity"):
        assert a[key] == pytest.approx(b[key], rel=1e-12), key
