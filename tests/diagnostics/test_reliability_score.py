"""Ground-truth-free reliability signals: components against independent references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

import aria
from aria.diagnostics import reliability_score as rs


def _tracks(n_tracks: int, per: int) -> np.ndarray:
    return np.repeat([f"t{i}" for i in range(n_tracks)], per)


# ---------------------------------------------------------------- track coherence


def test_track_coherence_matches_scipy_anova():
    rng = np.random.default_rng(0)
    tracks = np.array(["a"] * 3 + ["b"] * 4 + ["c"] * 2 + ["d"] * 5 + ["solo"])
    s = rng.normal(size=(tracks.size, 4))
    s[:, 1] += np.array([2.0 if t == "a" else 0.0 for t in tracks])
    mean, per_query, chance = rs.track_coherence(s, tracks)
    keep = tracks != "solo"  # single-segment tracks are left out
    n, m = keep.sum(), 4
    assert chance == pytest.approx((m - 1) / (n - 1))
    for q in range(4):
        groups = [s[tracks == t, q] for t in ("a", "b", "c", "d")]
        f = stats.f_oneway(*groups).statistic
        eta2 = f * (m - 1) / (f * (m - 1) + (n - m))
        assert per_query[q] == pytest.approx((eta2 - chance) / (1 - chance), abs=1e-12)
    assert mean == pytest.approx(per_query.mean())


def test_track_coherence_hand_worked():
    # tracks {0,1} and {2,3}; column 0 is constant within tracks -> 1; column 1: eta2 = 0 -> -chance/(1-chance)
    s = np.array([[1.0, 1.0], [1.0, -1.0], [3.0, 1.0], [3.0, -1.0]])
    mean, per_query, chance = rs.track_coherence(s, np.array([0, 0, 1, 1]))
    assert chance == pytest.approx(1 / 3)
    assert per_query[0] == pytest.approx(1.0)
    assert per_query[1] == pytest.approx(-0.5)
    assert mean == pytest.approx(0.25)


def test_track_coherence_undefined_cases():
    s = np.ones((4, 2))
    mean, per_query, _ = rs.track_coherence(s, np.array([0, 0, 1, 1]))
    assert math.isnan(mean) and np.isnan(per_query).all()  # constant columns
    mean, _, chance = rs.track_coherence(np.arange(4.0)[:, None], np.arange(4))  # no repeated track
    assert math.isnan(mean) and math.isnan(chance)


def test_track_coherence_noise_near_zero_and_planted_high():
    rng = np.random.default_rng(1)
    tracks = _tracks(100, 4)
    noise = rng.normal(size=(400, 30))
    planted = np.repeat(rng.normal(size=(100, 30)), 4, axis=0) + 0.3 * noise
    assert abs(rs.track_coherence(noise, tracks)[0]) < 0.03
    assert rs.track_coherence(planted, tracks)[0] > 0.8


# ---------------------------------------------------------------- group contrast


def test_group_contrast_brute_force():
    rng = np.random.default_rng(2)
    r = np.corrcoef(rng.normal(size=(50, 7)), rowvar=False)
    groups = np.array(["x", "x", "y", "y", "y", None, "z"], dtype=object)
    value, n_same, n_diff = rs.group_contrast(r, groups)
    same, diff = [], []
    for i, j in itertools.combinations(range(7), 2):
        if groups[i] is None or groups[j] is None:
            continue
        (same if groups[i] == groups[j] else diff).append(r[i, j])
    assert (n_same, n_diff) == (len(same), len(diff)) == (4, 11)
    assert value == pytest.approx(np.mean(same) - np.mean(diff), abs=1e-14)


def test_group_contrast_needs_both_kinds_of_pairs():
    r = np.eye(3)
    assert math.isnan(rs.group_contrast(r, np.array(["a", "b", "c"]))[0])
    assert math.isnan(rs.group_contrast(r, np.array(["a", "a", "a"]))[0])


# ---------------------------------------------------------------- spike energy


def test_spike_energy_against_eigendecomposition():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 20))
    x[:, :5] += 2 * rng.normal(size=(200, 1))
    r = np.corrcoef(x, rowvar=False)
    out = rs.spike_energy(r, 200)
    lam = np.sort(np.linalg.eigvals(r).real)[::-1]
    edge = (1 + math.sqrt(20 / 200)) ** 2
    assert out["edge"] == pytest.approx(edge)
    assert out["n_spikes"] == int((lam > edge).sum()) >= 1
    assert out["spike_energy"] == pytest.approx(lam[lam > edge].sum() / 20)
    assert out["spike_energy_2"] == pytest.approx(lam[1:][lam[1:] > edge].sum() / 20)


def test_spike_energy_noise_versus_planted():
    rng = np.random.default_rng(4)
    noise = np.corrcoef(rng.normal(size=(500, 40)), rowvar=False)
    assert rs.spike_energy(noise, 500)["spike_energy"] < 0.05
    low_rank = rng.normal(size=(500, 3)) @ rng.normal(size=(3, 40)) + 0.5 * rng.normal(size=(500, 40))
    assert rs.spike_energy(np.corrcoef(low_rank, rowvar=False), 500)["spike_energy_2"] > 0.2


# ---------------------------------------------------------------- top-k overlap and global share


def test_topk_overlap_brute_force():
    rng = np.random.default_rng(5)
    s = rng.normal(size=(30, 6))
    k = 4
    top = rs.top_rows_dense(s, k)
    sets = [set(np.argsort(-s[:, q], kind="stable")[:k]) for q in range(6)]
    o = np.mean([len(a & b) / k for a, b in itertools.combinations(sets, 2)])
    out = rs.topk_overlap(top, 30)
    assert out["overlap"] == pytest.approx(o)
    assert out["chance"] == pytest.approx(k / 30)
    assert out["excess"] == pytest.approx((o - k / 30) / (1 - k / 30))


def test_global_share_hand_worked():
    top = np.array([[0, 1], [0, 2], [0, 3]])  # row 0 in 3 top-2 sets, rows 1..3 once
    assert rs.global_share(top, 10) == pytest.approx((3 + 1) / 6)


# ---------------------------------------------------------------- streaming pass


@pytest.mark.parametrize("block_rows", [1, 7, 64, 1000])
def test_reliability_inputs_match_dense(block_rows):
    rng = np.random.default_rng(6)
    tracks = np.array([f"t{i}" for i in rng.integers(0, 25, size=90)])
    s = rng.normal(size=(90, 5)) + 100.0
    s[10:13] = s[20]  # ties: equal rows keep row order
    sc = aria.scores_from_array(s, segment_track=tracks)
    diag = aria.diagnose(sc)
    inp = rs.reliability_inputs(sc, shift=diag.column_mean, top_k=6, block_rows=block_rows)
    np.testing.assert_array_equal(inp.top_rows, rs.top_rows_dense(s, 6))
    mean, per_query, chance = rs.track_coherence_from_sums(inp.track_sums, inp.track_counts,
                                                           inp.column_sumsq)
    ref = rs.track_coherence(s, tracks)
    assert mean == pytest.approx(ref[0], abs=1e-9)
    np.testing.assert_allclose(per_query, ref[1], atol=1e-9)
    assert chance == pytest.approx(ref[2])
