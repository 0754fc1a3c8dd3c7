"""Bootstrap over queries of rho_bar, C_bar and E1 from the Gram statistics.

Checked against a dense float64 recomputation from resampled columns of S, for reproducibility
(same seed, same output; batch size irrelevant) and for coverage on simulated data with a known
answer."""

import json
import math

import numpy as np
import pytest
from conftest import dense_reference, make_matrix

import aria
from aria.diagnostics.bootstrap import bootstrap_counts, bootstrap_diagnostics, top_eigenvalues
from aria.diagnostics.reliability import diagnose_stats, gram_stats
from aria.errors import AriaInputError


def _stats(s):
    da = aria.scores_from_array(s)
    st = gram_stats(da)
    return st, diagnose_stats(st, da.coords["query"].values)


def _dense_rho_distinct(sb, idx):
    """rho_bar over pairs of columns of S[:, idx] that come from distinct queries (dense float64)."""
    usable = sb.std(axis=0) > 0
    r = np.abs(np.corrcoef(sb[:, usable], rowvar=False))
    orig = idx[usable]
    a, b = np.triu_indices(orig.size, 1)
    keep = orig[a] != orig[b]
    return float(r[a[keep], b[keep]].mean()) if keep.any() else math.nan


@pytest.mark.parametrize("kind", ["query-dependent", "collapsed", "offset-dominated", "heavy-tailed",
                                  "huge-offset"])
def test_bootstrap_from_gram_equals_dense_recomputation(kind):
    s = make_matrix(kind, n=300, q=24, seed=4)
    s[:, 5] = 3.0   # constant column: out of rho_bar
    s[:, 9] = 0.0   # all-zero column: out of rho_bar and C_bar
    st, d = _stats(s)
    reps = 25
    inc = bootstrap_diagnostics(st, d, replicates=reps, seed=11, duplicate_pairs="include")
    exc = bootstrap_diagnostics(st, d, replicates=reps, seed=11)
    assert exc.duplicate_pairs == "exclude"
    rng = np.random.default_rng(11)
    for b in range(reps):
        idx = rng.integers(0, 24, size=24)
        sb = s[:, idx]
        ref = dense_reference(sb)  # numpy corrcoef + svd of the resampled columns
        assert inc.rho_bar[b] == pytest.approx(ref["rho"], abs=1e-10)
        assert exc.rho_bar[b] == pytest.approx(_dense_rho_distinct(sb, idx), abs=1e-10)
        assert inc.c_bar[b] == pytest.approx(ref["c_bar"], abs=1e-10)
        assert inc.e1[b] == pytest.approx(ref["e1"], abs=1e-10)
    np.testing.assert_array_equal(inc.e1, exc.e1)
    np.testing.assert_array_equal(inc.c_bar, exc.c_bar)


def test_same_seed_same_output_and_batching_does_not_matter():
    s = make_matrix("query-dependent", n=200, q=30, seed=1)
    st, d = _stats(s)
    a = bootstrap_diagnostics(st, d, replicates=70, seed=5)
    b = bootstrap_diagnostics(st, d, replicates=70, seed=5)
    c = bootstrap_diagnostics(st, d, replicates=70, seed=5, batch=16)
    for name in ("rho_bar", "c_bar", "e1"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        np.testing.assert_allclose(getattr(a, name), getattr(c, name), rtol=0, atol=1e-12)
    assert a.to_dict() == b.to_dict()
    other = bootstrap_diagnostics(st, d, replicates=70, seed=6)
    assert not np.array_equal(a.c_bar, other.c_bar)
    # replicate b is the b-th rng.integers(0, Q, size=Q) call, whatever the batch size
    counts = np.vstack(list(bootstrap_counts(np.random.default_rng(5), 30, 70, batch=9)))
    rng = np.random.default_rng(5)
    for row in counts:
        np.testing.assert_array_equal(row, np.bincount(rng.integers(0, 30, size=30), minlength=30))


def test_lanczos_eigenvalues_and_exact_fallback():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(80, 40))
    g = x.T @ x  # flat spectrum: close top eigenvalues, the slow case for Lanczos
    counts = np.vstack(list(bootstrap_counts(rng, 40, 12)))
    ref = [np.linalg.eigvalsh(g[np.ix_(c > 0, c > 0)] * np.sqrt(np.outer(c[c > 0], c[c > 0])))[-1]
           for c in counts]
    lam, n_exact = top_eigenvalues(g, counts)
    np.testing.assert_allclose(lam, ref, rtol=1e-11)
    lam2, n_exact2 = top_eigenvalues(g, counts, max_iter=2)  # forces the exact fallback
    assert n_exact2 == 12
    np.testing.assert_allclose(lam2, ref, rtol=1e-12)
    # a rank-1 Gram breaks the recurrence down at once: exact too
    v = rng.normal(size=40)
    lam3, _ = top_eigenvalues(np.outer(v, v), counts)
    np.testing.assert_allclose(lam3, counts @ v**2, rtol=1e-12)


def _factor_matrix(rng, q, extra=50):
    """Columns with exactly known correlations and concentrations.

    x_q = sqrt(r_q) f + sqrt(1 - r_q) e_q + t_q / sqrt(N), f and e_q orthonormal and centred, so
    corr(x_q, x_q') = sqrt(r_q r_q') and C_q = t_q^2 / (t_q^2 + 1); r ~ U(0.1, 0.9), t ~ U(0, 2).
    Over random queries rho_bar -> E[sqrt r]^2 and C_bar -> E[t^2 / (t^2 + 1)] = (2 - atan 2) / 2.
    """
    n = q + extra
    m = rng.normal(size=(n, q + 1))
    m -= m.mean(axis=0)
    u, _ = np.linalg.qr(m)
    r = rng.uniform(0.1, 0.9, size=q)
    t = rng.uniform(0, 2, size=q)
    return np.sqrt(r) * u[:, :1] + np.sqrt(1 - r) * u[:, 1:] + t / math.sqrt(n)


def test_coverage_near_95_percent_on_data_with_a_known_answer():
    true_rho = ((2 / 3) * (0.9**1.5 - 0.1**1.5) / 0.8) ** 2
    true_c = (2 - math.atan(2)) / 2
    rng = np.random.default_rng(2024)
    sims, hits_rho, hits_c = 120, 0, 0
    for i in range(sims):
        st, d = _stats(_factor_matrix(rng, 60))
        boot = bootstrap_diagnostics(st, d, replicates=300, seed=i)
        lo, hi = boot.interval("rho_bar")
        hits_rho += lo <= true_rho <= hi
        lo, hi = boot.interval("c_bar")
        hits_c += lo <= true_c <= hi
    # nominal 95%; Monte Carlo sd ~2% at 120 simulations (docs: 0.93-0.95 at 1,000 simulations)
    assert 0.86 <= hits_rho / sims <= 0.995
    assert 0.86 <= hits_c / sims <= 0.995


def test_diagnose_with_bootstrap_adds_ci_keys():
    s = aria.scores_from_array(make_matrix("query-dependent", n=300, q=20, seed=2))
    d = aria.diagnose(s, bootstrap=200, bootstrap_seed=7)
    out = json.loads(d.to_json())
    for key in ("rho_bar", "C_bar", "E1"):
        lo, hi = out[f"{key}_ci"]
        assert lo <= hi
    assert out["bootstrap"]["seed"] == 7 and out["bootstrap"]["replicates"] == 200
    assert "queries" in out["bootstrap"]["resampled"]
    assert out["parameters"]["bootstrap_seed"] == 7
    plain = aria.diagnose(s).to_dict()
    assert "C_bar_ci" not in plain and "bootstrap" not in plain
    with pytest.raises(AriaInputError, match="bootstrap must be an integer >= 0"):
        aria.diagnose(s, bootstrap=-3)
    with pytest.raises(AriaInputError, match="confidence"):
        aria.diagnose(s, bootstrap=10, confidence=1.5)
    # every random draw is seeded and recorded: no unseeded (None) bootstrap
    with pytest.raises(AriaInputError, match="bootstrap_seed"):
        aria.diagnose(s, bootstrap=10, bootstrap_seed=None)
    st, d = _stats(s.values)
    with pytest.raises(AriaInputError, match="seed"):
        bootstrap_diagnostics(st, d, replicates=10, seed=None)


def test_undefined_replicates_are_reported():
    s = make_matrix("query-dependent", n=50, q=3, seed=0)
    s[:, 1] = 1.0
    s[:, 2] = 0.0  # one usable column: rho_bar undefined in every replicate
    st, d = _stats(s)
    boot = bootstrap_diagnostics(st, d, replicates=50, seed=0)
    out = boot.to_dict()
    assert out["rho_bar_ci"] == [None, None]
    assert out["bootstrap"]["undefined_replicates"]["rho_bar"] == 50
    assert out["C_bar_ci"][0] is not None
