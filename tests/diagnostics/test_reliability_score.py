"""Ground-truth-free reliability signals: components against independent references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

import aria
from aria.diagnostics import reliability_score as rs
from aria.errors import AriaInputError


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
    # tracks {0,1} and {2,3}: column 0 is constant within tracks -> 1;
    # column 1 has eta2 = 0 -> -chance / (1 - chance)
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
    sets = [set(np.argsort(-s[:, q], kind="stable")[:k]) for q in range(6)]
    o = np.mean([len(a & b) / k for a, b in itertools.combinations(sets, 2)])
    out = rs.topk_signals(s, k)
    assert out["overlap"] == pytest.approx(o)
    assert out["chance"] == pytest.approx(k / 30)
    assert out["excess"] == pytest.approx((o - k / 30) / (1 - k / 30))


def test_global_share_hand_worked():
    # top-2 sets {0, 1}, {0, 2}, {0, 3}: row 0 in 3 sets, rows 1..3 once -> (3 + 1) / 6
    s = np.array([[9.0, 9.0, 9.0], [8.0, 0.0, 0.0], [0.0, 8.0, 0.0], [0.0, 0.0, 8.0], [1.0, 1.0, 1.0]])
    assert rs.topk_signals(s, 2)["global_share"] == pytest.approx((3 + 1) / 6)


# ---------------------------------------------------------------- streaming pass


@pytest.mark.parametrize("layout", ["contiguous", "shuffled"])
@pytest.mark.parametrize("block_rows", [1, 7, 64, 1000])
def test_track_moments_match_dense(layout, block_rows):
    rng = np.random.default_rng(6)
    per = rng.integers(1, 6, size=30)  # some one-segment tracks, left out
    tracks = np.repeat([f"t{i:02d}" for i in range(30)], per)
    if layout == "shuffled":
        tracks = tracks[rng.permutation(tracks.size)]
    s = rng.normal(size=(tracks.size, 5)) + 1e6  # a large offset: shifted sums stay exact
    effect = {t: rng.normal() for t in np.unique(tracks)}
    s += np.array([effect[t] for t in tracks])[:, None]  # a track effect: coherence well above 0
    sc = aria.scores_from_array(s, segment_track=tracks)
    diag = aria.diagnose(sc)
    m = rs.track_moments(sc, shift=diag.column_mean, block_rows=block_rows)
    assert m.contiguous == (layout == "contiguous")
    mean, per_query, chance = rs.track_coherence_from_moments(m.between_sumsq, m.total, m.sumsq,
                                                               m.n_tracks, m.n_segments)
    ref = rs.track_coherence(s - 1e6, tracks)
    assert m.n_tracks == int((per >= 2).sum()) and m.n_segments == int(per[per >= 2].sum())
    assert mean == pytest.approx(ref[0], abs=1e-9)
    np.testing.assert_allclose(per_query, ref[1], atol=1e-9)
    assert chance == pytest.approx(ref[2])


# ---------------------------------------------------------------- the score


def test_combine_hand_worked_and_undefined():
    out = rs.combine({"track_coherence": 0.4, "group_contrast": 0.2, "query_specificity": 0.5})
    assert out.score == pytest.approx(0.15) and out.used == ["track_coherence", "group_contrast"]
    only_tc = rs.combine({"track_coherence": 0.4, "group_contrast": math.nan, "query_specificity": 0.5})
    assert only_tc.score == pytest.approx(0.2) and only_tc.used == ["track_coherence"]
    none = rs.combine({"track_coherence": math.nan, "group_contrast": math.nan, "query_specificity": 0.9})
    assert math.isnan(none.score) and "no component" in none.undefined["score"]
    assert none.to_dict()["score"] is None
    custom = rs.ReliabilityParameters(components=("group_contrast",))
    assert rs.combine({"track_coherence": 0.4, "group_contrast": 0.2, "query_specificity": 1.0},
                      parameters=custom).score == pytest.approx(0.2)
    with pytest.raises(AriaInputError, match="components"):
        rs.ReliabilityParameters(components=("kurtosis",))


def _planted(rng, n_tracks=60, per=4, q=24, n_groups=6, noise=1.0):
    tracks = np.repeat([f"t{i}" for i in range(n_tracks)], per)
    groups = np.repeat([f"g{i}" for i in range(n_groups)], q // n_groups)
    base = rng.normal(size=(n_tracks, n_groups))  # each group of queries shares a track profile
    signal = np.repeat(base[:, np.arange(q) // (q // n_groups)], per, axis=0)
    return signal + noise * rng.normal(size=(n_tracks * per, q)), tracks, groups


def test_noise_scores_lower_than_planted_structure():
    rng = np.random.default_rng(7)
    planted, tracks, groups = _planted(rng)
    noise = rng.normal(size=planted.shape)
    out = {}
    for name, m in (("planted", planted), ("noise", noise)):
        sc = aria.scores_from_array(m, segment_track=tracks)
        out[name] = rs.reliability_score(sc, query_groups=groups)
    assert out["planted"].score > 0.3 > 0.05 > abs(out["noise"].score)
    assert out["planted"].used == ["track_coherence", "group_contrast"]
    # the components are the dense references, the gate is 1 - rho_bar
    diag = aria.diagnose(aria.scores_from_array(planted, segment_track=tracks))
    comp = out["planted"].components
    assert comp["track_coherence"] == pytest.approx(rs.track_coherence(planted, tracks)[0], abs=1e-10)
    r = np.corrcoef(planted, rowvar=False)
    assert comp["group_contrast"] == pytest.approx(rs.group_contrast(r, groups)[0], abs=1e-10)
    assert comp["query_specificity"] == pytest.approx(1 - diag.mean_abs_interquery_corr)
    assert out["planted"].score == pytest.approx(
        comp["query_specificity"] * (comp["track_coherence"] + comp["group_contrast"]) / 2)
    assert out["planted"].signals["spike_energy"] > out["noise"].signals["spike_energy"]


def test_collapsed_matrix_is_gated_down():
    rng = np.random.default_rng(8)
    planted, tracks, groups = _planted(rng)
    profile = np.repeat(rng.normal(size=60), 4)
    collapsed = np.outer(profile, rng.uniform(1, 2, size=planted.shape[1])) + 0.01 * planted
    sc = aria.scores_from_array(collapsed, segment_track=tracks)
    res = rs.reliability_score(sc, query_groups=groups)
    assert res.components["track_coherence"] > 0.9  # coherent, but the same ranking for every query
    assert aria.diagnose(sc).verdict == "collapsed"
    good = rs.reliability_score(aria.scores_from_array(planted, segment_track=tracks), query_groups=groups)
    assert res.score < 0.1 < good.score


def test_score_is_deterministic_and_chunking_invariant():
    rng = np.random.default_rng(9)
    planted, tracks, groups = _planted(rng, noise=2.0)
    sc = aria.scores_from_array(planted, segment_track=tracks)
    a = rs.reliability_score(sc, query_groups=groups).to_dict()
    b = rs.reliability_score(sc, query_groups=groups, block_rows=5, chunk_rows=10).to_dict()
    assert a["score"] == pytest.approx(b["score"], abs=1e-12)
    assert a == rs.reliability_score(sc, query_groups=groups).to_dict()


def test_without_tracks_or_groups_the_score_is_undefined_with_reasons():
    rng = np.random.default_rng(10)
    sc = aria.scores_from_array(rng.normal(size=(50, 6)))  # each row its own track
    res = rs.reliability_score(sc)
    assert math.isnan(res.score)
    assert "segment -> track map" in res.undefined["track_coherence"]
    assert "no query groups" in res.undefined["group_contrast"]
    with pytest.raises(AriaInputError, match="one entry per query"):
        rs.reliability_score(sc, query_groups=np.array(["a", "b"]))
    # groups alone are enough
    grouped = rs.reliability_score(sc, query_groups=np.array(list("aabbcc")))
    assert grouped.used == ["group_contrast"] and math.isfinite(grouped.score)


def test_diagnostics_of_another_matrix_are_refused_in_one_line():
    rng = np.random.default_rng(11)
    sc = aria.scores_from_array(rng.normal(size=(40, 6)), segment_track=np.repeat(np.arange(20), 2))
    fewer_queries = aria.diagnose(aria.scores_from_array(rng.normal(size=(40, 5))))
    fewer_rows = aria.diagnose(aria.scores_from_array(rng.normal(size=(30, 6))))
    renamed = aria.diagnose(aria.scores_from_array(rng.normal(size=(40, 6)),
                                                   query_ids=[f"x{j}" for j in range(6)]))
    for other in (fewer_queries, fewer_rows, renamed):
        with pytest.raises(AriaInputError, match="^diagnostics are for another matrix") as err:
            rs.reliability_score(sc, other)
        assert err.value.parameter == "diagnostics" and "\n" not in str(err.value)
    with pytest.raises(AriaInputError, match="^moments are for 6 queries") as err:
        rs.reliability_components(fewer_queries, rs.track_moments(sc))
    assert err.value.parameter == "moments"
    # the matrix's own diagnostics are accepted and give the same score as computing them inside
    assert rs.reliability_score(sc, aria.diagnose(sc)).to_dict() == rs.reliability_score(sc).to_dict()


# ---------------------------------------------------------------- Kendall tau with a bootstrap CI


def test_kendall_tau_bootstrap_against_scipy_and_seeded():
    rng = np.random.default_rng(11)
    x = rng.normal(size=12)
    y = x + rng.normal(size=12)
    out = rs.kendall_tau_bootstrap(x, y, n_boot=500, seed=3)
    ref = stats.kendalltau(x, y)
    assert out["tau"] == pytest.approx(ref.statistic) and out["pvalue"] == pytest.approx(ref.pvalue)
    assert out["ci_low"] <= out["tau"] <= out["ci_high"]
    assert out == rs.kendall_tau_bootstrap(x, y, n_boot=500, seed=3)
    assert out != rs.kendall_tau_bootstrap(x, y, n_boot=500, seed=4)
    # an independent bootstrap of the same resamples
    g = np.random.default_rng(3)
    taus = []
    for _ in range(500):
        i = g.integers(0, 12, 12)
        t = stats.kendalltau(x[i], y[i]).statistic
        if np.isfinite(t):
            taus.append(t)
    assert out["ci_low"] == pytest.approx(np.quantile(taus, 0.025))
    assert out["n_boot_defined"] == len(taus)
    short = rs.kendall_tau_bootstrap([1.0, np.nan], [2.0, 3.0])
    assert short["n_methods"] == 1 and math.isnan(short["tau"])


def test_bad_parameters_are_refused_first():
    sc = aria.scores_from_array(np.zeros((4, 2)))
    with pytest.raises(AriaInputError, match="^block_rows must be an integer >= 1"):
        rs.reliability_score(sc, block_rows=0)
    with pytest.raises(AriaInputError, match="^query_groups must be an array-like of query groups"):
        rs.reliability_score(sc, query_groups="ab")
    with pytest.raises(AriaInputError, match="^n_boot must be an integer >= 1"):
        rs.kendall_tau_bootstrap([1, 2], [1, 2], n_boot=0)
    with pytest.raises(AriaInputError, match="^level must be a number in"):
        rs.kendall_tau_bootstrap([1, 2], [1, 2], level=1.0)
