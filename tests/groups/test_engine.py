import itertools
import json

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist, squareform

import aria
from aria.features.channels import parse_channel_set
from aria.features.table import feature_table_from_frame
from aria.groups.engine import COLLAPSED_WARNING, PoolSimilarity, build_pool, compute_null, homogeneity
from aria.groups.topk import group_similarity, nested_group_similarity, top_k_groups


def dp_lcs(a, b):
    """Plain dynamic-programming LCS (reference)."""
    table = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1, j + 1] = table[i, j] + 1 if x == y else max(table[i, j + 1], table[i + 1, j])
    return int(table[-1, -1])

# ---------------------------------------------------------------------------------------------
# hand-worked example: 5 tracks, feature v (1-D) with s = std(ddof=1) = 1, chord motions
HAND_CS = parse_channel_set({
    "channels": {"mix": {}, "harm": {}},
    "features": {
        "v": {"channel": "mix", "kind": "vector", "dim": 1, "similarity": "seuclidean"},
        "ch": {"channel": "mix", "kind": "sequence", "similarity": "lcs_root_motion"},
        "ch2": {"channel": "harm", "kind": "sequence", "similarity": "lcs_root_motion"},
    },
})
HAND_V = [-1.0, -1.0, 0.0, 1.0, 1.0]  # mean 0, sum of squares 4, var(ddof=1) = 1
HAND_CH = [[5, 7, 5], [5, 7], [], [2, 2, 2], [5, 2]]
# sim_v = 1/(1+|dv|); sim_ch = LCS / max len
HAND_SIM_V = {(0, 1): 1, (0, 2): 1 / 2, (0, 3): 1 / 3, (0, 4): 1 / 3, (1, 2): 1 / 2, (1, 3): 1 / 3,
              (1, 4): 1 / 3, (2, 3): 1 / 2, (2, 4): 1 / 2, (3, 4): 1}
HAND_SIM_CH = {(0, 1): 2 / 3, (0, 2): 0, (0, 3): 0, (0, 4): 1 / 3, (1, 2): 0, (1, 3): 0,
               (1, 4): 1 / 2, (2, 3): 0, (2, 4): 0, (3, 4): 1 / 3}


def hand_table():
    return feature_table_from_frame(
        pd.DataFrame({"track": [f"t{i}" for i in range(5)], "v": HAND_V, "ch": HAND_CH, "ch2": HAND_CH}),
        HAND_CS)


def hand_scores():
    # query A ranks t0 > t1 > t2 > t3 > t4; query B ranks t4 > t3 > t2 > ...; 2 segments per track
    t = np.repeat([f"t{i}" for i in range(5)], 2)
    a = np.repeat([5.0, 4, 3, 2, 1], 2) + np.tile([0.1, -0.1], 5)
    return aria.scores_from_array(np.c_[a, a[::-1]], query_ids=["A", "B"], segment_track=t)


def test_hand_worked_similarities_and_group_means():
    psim = PoolSimilarity(hand_table())
    for (a, b), s in HAND_SIM_V.items():
        assert psim.pairs("v", [a], [b])[0] == pytest.approx(s, abs=1e-15)
        assert psim.pairs("ch", [a], [b])[0] == pytest.approx(HAND_SIM_CH[(a, b)], abs=1e-15)
    h = group_similarity(psim, np.array([[0, 1], [0, 1, 2][:2], [2, 4]]))
    np.testing.assert_allclose(h[0], [1, 2 / 3, 2 / 3])
    h3 = group_similarity(psim, np.array([[0, 1, 2]]))
    np.testing.assert_allclose(h3[0], [(1 + .5 + .5) / 3, (2 / 3) / 3, (2 / 3) / 3])
    # channel mean: mix = mean(v, ch), harm = ch2
    np.testing.assert_allclose(psim.channel_means(h3)[0], [(2 / 3 + 2 / 9) / 2, 2 / 9])


def test_hand_worked_null_against_full_enumeration():
    psim = PoolSimilarity(hand_table())
    for k in (2, 3, 4):
        groups = np.array(list(itertools.combinations(range(5), k)))
        exact = group_similarity(psim, groups)
        # brute force with independent code: scipy distances and DP LCS
        d = squareform(pdist(np.array(HAND_V)[:, None], "seuclidean"))
        sv = 1 / (1 + d)
        sc = np.array([[dp_lcs(a, b) / max(len(a), len(b)) if a and b else 0.0 for b in HAND_CH]
                       for a in HAND_CH])
        brute_v = [np.mean([sv[a, b] for a, b in itertools.combinations(g, 2)]) for g in groups]
        brute_c = [np.mean([sc[a, b] for a, b in itertools.combinations(g, 2)]) for g in groups]
        np.testing.assert_allclose(exact[:, 0], brute_v, rtol=1e-12)
        np.testing.assert_allclose(exact[:, 1], brute_c, rtol=1e-12)
        # the expected H over uniform groups is the mean similarity over all pairs
        assert np.mean(brute_v) == pytest.approx(np.mean(list(HAND_SIM_V.values())))
        # sampled null with large R converges to the enumerated distribution
        nl = compute_null(psim, k, 20000, seed=1)
        hc = psim.channel_means(exact)
        np.testing.assert_allclose(nl.channel_mean, hc.mean(axis=0), atol=0.01)
        np.testing.assert_allclose(nl.channel_sd, hc.std(axis=0), atol=0.01)
        np.testing.assert_allclose(nl.feature_mean, exact.mean(axis=0), atol=0.01)
    assert np.mean(list(HAND_SIM_V.values())) == pytest.approx(8 / 15)


def test_hand_worked_end_to_end_z():
    res = homogeneity(hand_scores(), hand_table(), HAND_CS, k=[2, 3], null_groups=4000, seed=3,
                      normalize="zscore")
    m = res.scores
    assert m.groups[0].tolist() == ["t0", "t1", "t2"] and m.groups[1].tolist() == ["t4", "t3", "t2"]
    # query A, K=2: group {t0, t1}: H_v = 1, H_ch = 2/3, H_mix = 5/6, H_harm = 2/3
    np.testing.assert_allclose(m.h_feature[0, 0], [1, 2 / 3, 2 / 3])
    np.testing.assert_allclose(m.h_channel[0, 0], [5 / 6, 2 / 3])
    # query B, K=3: group {t4, t3, t2}: H_v = (1 + 1/2 + 1/2)/3, H_ch = (1/3)/3
    np.testing.assert_allclose(m.h_feature[1, 1], [2 / 3, 1 / 9, 1 / 9])
    nl = res.nulls[2]
    np.testing.assert_allclose(m.z_channel[0, 0], (m.h_channel[0, 0] - nl.channel_mean) / nl.channel_sd)
    np.testing.assert_allclose(m.z_feature[0, 0], (m.h_feature[0, 0] - nl.feature_mean) / nl.feature_sd)
    s = m.summary()
    zs = m.z_channel[0, :, 0]
    assert s["mix"]["2"]["z_mean"] == pytest.approx(zs.mean())
    assert s["mix"]["2"]["pos"] == np.mean(zs > 0)
    assert s["mix"]["2"]["sig"] == np.mean(zs > 1.645)


def test_nested_prefix_equals_direct_groups():
    rng = np.random.default_rng(0)
    cs = parse_channel_set({"channels": {"a": {}}, "features": {
        "x": {"channel": "a", "kind": "vector", "dim": 3, "similarity": "seuclidean"},
        "c": {"channel": "a", "kind": "sequence", "similarity": "lcs_root_motion"}}})
    df = pd.DataFrame({"track": range(60), "x": list(rng.normal(size=(60, 3))),
                       "c": [rng.integers(0, 12, rng.integers(0, 90)).tolist() for _ in range(60)]})
    psim = PoolSimilarity(feature_table_from_frame(df, cs))
    ranked = np.array([rng.permutation(60)[:12] for _ in range(7)])
    ranked[3] = ranked[2]  # duplicate group: shared pairs are computed once
    nested = nested_group_similarity(psim, ranked, [2, 5, 12])
    for ki, k in enumerate([2, 5, 12]):
        np.testing.assert_allclose(nested[ki], group_similarity(psim, ranked[:, :k]), rtol=1e-12)


def test_top_k_ties_broken_by_track_order():
    vals = np.array([[1.0], [3.0], [3.0], [0.5], [3.0], [2.0]])
    rows = np.array([0, 1, 2, 3, 4, 5])
    assert top_k_groups(vals, rows, 2)[0].tolist() == [1, 2]
    assert top_k_groups(vals, rows, 4)[0].tolist() == [1, 2, 4, 5]
    # pool restriction: row 2 has no features
    assert top_k_groups(vals, np.array([0, 1, 3, 4, 5]), 2)[0].tolist() == [1, 3]


# ---------------------------------------------------------------------------------------------
# planted structure

PLANT_CS = parse_channel_set({
    "channels": {"A": {}, "B": {}},
    "features": {"fa": {"channel": "A", "kind": "vector", "dim": 4, "similarity": "seuclidean"},
                 "fb": {"channel": "B", "kind": "vector", "dim": 4, "similarity": "seuclidean"}},
})


def planted(m=300, q=60, seed=0, random_scores=False):
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, 5, m)
    fa = rng.normal(size=(m, 4)) + 6.0 * cluster[:, None]
    fb = rng.normal(size=(m, 4))
    df = pd.DataFrame({"track": np.arange(m), "fa": list(fa), "fb": list(fb)})
    seg_track = np.repeat(np.arange(m), 2)
    if random_scores:
        s = rng.normal(size=(2 * m, q))
    else:
        qc = rng.integers(0, 5, q)
        s = rng.normal(size=(2 * m, q)) + 4.0 * (cluster[seg_track][:, None] == qc[None, :])
    return aria.scores_from_array(s, segment_track=seg_track), df


def test_planted_cluster_structure_shows_in_channel_a_only():
    scores, df = planted()
    res = homogeneity(scores, df, PLANT_CS, k=[5, 10, 20], null_groups=300, seed=0)
    for k in ("5", "10", "20"):
        summ = res.scores.summary()
        assert summ["A"][k]["z_mean"] > 3 and summ["A"][k]["sig"] > 0.9
        assert abs(summ["B"][k]["z_mean"]) < 0.5
    assert res.verdict == "query-dependent" and COLLAPSED_WARNING not in res.warnings


def test_random_scores_give_null_like_summaries():
    scores, df = planted(m=400, q=400, seed=1, random_scores=True)
    res = homogeneity(scores, df, PLANT_CS, k=[10], null_groups=1000, seed=0)
    nl = res.nulls[10]
    for ci, ch in enumerate(("A", "B")):
        s = res.scores.summary()[ch]["10"]
        assert abs(s["z_mean"]) < 0.2
        assert 0.02 <= s["sig"] <= 0.09
        # Pos and Sig match the null's own exceedance rates (the null of A is skewed: Pos < 1/2)
        zn = (nl.channel_values[:, ci] - nl.channel_mean[ci]) / nl.channel_sd[ci]
        assert abs(s["pos"] - np.mean(zn > 0)) < 0.075
        assert abs(s["sig"] - np.mean(zn > 1.645)) < 0.035


def test_tracks_without_features_are_left_out_and_counted():
    scores, df = planted(m=120, q=10)
    df = df.assign(status="ok", error=None)
    df.loc[3, "status"] = "failed"
    df.loc[4, "fa"] = None
    df = df.drop(index=[5, 6]).reset_index(drop=True)
    res = homogeneity(scores, df, PLANT_CS, k=[5], null_groups=50)
    c = res.pool
    assert (c.score_tracks, c.pool, c.without_features) == (120, 116, 4)
    assert (c.absent_from_table, c.failed, c.invalid) == (2, 1, 1)
    left_out = {"3", "4", "5", "6"}
    assert set(res.excluded_tracks["track"]) == left_out
    assert not left_out & set(res.scores.groups.ravel())
    assert any("4 of 120 tracks" in w for w in res.warnings)


def test_same_seed_same_numbers_chunking_and_workers_too(tmp_path):
    scores, df = planted(m=150, q=20, seed=2)
    kw = dict(k=[5, 10], null_groups=100, residual=True)
    a = homogeneity(scores, df, PLANT_CS, seed=7, **kw)
    b = homogeneity(scores, df, PLANT_CS, seed=7, workers=3, chunk_rows=64, block_rows=2048, **kw)
    c = homogeneity(scores, df, PLANT_CS, seed=8, **kw)
    np.testing.assert_array_equal(a.scores.z_channel, b.scores.z_channel)
    np.testing.assert_array_equal(a.residual.z_feature, b.residual.z_feature)
    assert not np.array_equal(a.nulls[5].channel_values, c.nulls[5].channel_values)
    # the null of one K does not depend on the other K swept
    d = homogeneity(scores, df, PLANT_CS, seed=7, k=[10], null_groups=100)
    np.testing.assert_array_equal(d.nulls[10].feature_values, a.nulls[10].feature_values)


def test_cache_gives_the_same_numbers(tmp_path):
    scores, df = planted(m=150, q=20, seed=3)
    fresh = homogeneity(scores, df, PLANT_CS, k=[5, 10], null_groups=100)
    first = homogeneity(scores, df, PLANT_CS, k=[5, 10], null_groups=100, cache_dir=tmp_path)
    again = homogeneity(scores, df, PLANT_CS, k=[5, 10], null_groups=100, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("null-*.npz"))) == 2
    assert not first.nulls[5].from_cache and again.nulls[5].from_cache
    np.testing.assert_array_equal(fresh.scores.z_channel, again.scores.z_channel)
    np.testing.assert_array_equal(fresh.nulls[10].feature_values, again.nulls[10].feature_values)
    # another seed or R -> another entry; a corrupt entry is recomputed
    homogeneity(scores, df, PLANT_CS, k=[5], null_groups=100, seed=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("null-*.npz"))) == 3
    for p in tmp_path.glob("null-*.npz"):
        p.write_bytes(b"garbage")
    again = homogeneity(scores, df, PLANT_CS, k=[5, 10], null_groups=100, cache_dir=tmp_path)
    assert not again.nulls[5].from_cache
    np.testing.assert_array_equal(fresh.scores.z_channel, again.scores.z_channel)


def test_caller_generator_is_used_and_not_cached(tmp_path):
    scores, df = planted(m=100, q=5, seed=4)
    a = homogeneity(scores, df, PLANT_CS, k=[5], null_groups=50, rng=np.random.default_rng(9),
                    cache_dir=tmp_path)
    b = homogeneity(scores, df, PLANT_CS, k=[5], null_groups=50, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a.nulls[5].channel_values, b.nulls[5].channel_values)
    assert not list(tmp_path.glob("*.npz"))


def test_collapsed_matrix_carries_warning():
    scores, df = planted(m=100, q=30, seed=5)
    rng = np.random.default_rng(5)
    base = rng.normal(size=200)
    s = np.outer(base, np.ones(30)) + 1e-3 * rng.normal(size=(200, 30))
    res = homogeneity(aria.scores_from_array(s, segment_track=np.repeat(np.arange(100), 2)), df,
                      PLANT_CS, k=[5], null_groups=50)
    assert res.verdict == "collapsed"
    assert res.warnings[0] == COLLAPSED_WARNING
    assert res.to_dict()["warnings"][0] == COLLAPSED_WARNING


def test_k_validation_and_defaults():
    scores, df = planted(m=30, q=4)
    res = homogeneity(scores, df, PLANT_CS, null_groups=20)
    assert res.k_values == (5, 10, 20)
    assert any("50, 100 dropped" in w for w in res.warnings)
    with pytest.raises(aria.AriaInputError, match="K = 30 is invalid"):
        homogeneity(scores, df, PLANT_CS, k=[5, 30], null_groups=20)
    with pytest.raises(aria.AriaInputError, match=r"k must be a non-empty sequence of integers >= 2 or None"):
        homogeneity(scores, df, PLANT_CS, k=[1], null_groups=20)


def test_result_serialization_and_frames():
    scores, df = planted(m=80, q=6)
    labels = pd.Series({f"q{i}": "ab"[i % 2] for i in range(6)}, name="genre")
    res = homogeneity(scores, df, PLANT_CS, k=[5, 10], null_groups=50, residual=True, labels=labels)
    d = res.to_dict()
    assert set(d["homogeneity"]["A"]["5"]) == {"z_mean", "pos", "sig", "n_queries"}
    assert set(d["residual"]["homogeneity"]["B"]["10"]) == {"z_mean", "pos", "sig", "n_queries"}
    assert "null" in d and d["null"]["5"]["channel_sd"]["A"] > 0
    # to_json: strict JSON (no NaN/Infinity tokens) carrying the numbers of the result objects
    text = res.to_json()
    j = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}"))
    assert set(j) == set(d)
    z5 = res.scores.z("A", 5)
    assert j["homogeneity"]["A"]["5"]["z_mean"] == pytest.approx(float(np.mean(z5)), rel=1e-12)
    assert j["homogeneity"]["A"]["5"]["sig"] == pytest.approx(float(np.mean(z5 > 1.645)))
    assert j["null"]["5"]["channel_sd"]["A"] == pytest.approx(
        float(np.std(res.nulls[5].channel_values[:, 0], ddof=1)), rel=1e-12)
    assert j["residual"]["homogeneity"]["B"]["10"]["pos"] == pytest.approx(
        float(np.mean(res.residual.z("B", 10) > 0)))
    assert j["confound"]["label"] == "genre" and j["k"] == [5, 10]
    f = res.to_frame()
    assert len(f) == 2 * 2 * 6 * 2  # matrices x K x queries x channels
    sub = f[(f.matrix == "scores") & (f.k == 10) & (f.channel == "A")]
    np.testing.assert_array_equal(sub["z"].to_numpy(), res.scores.z("A", 10))
    conf = res.confound.table
    row = conf[(conf.matrix == "scores") & (conf.k == 5) & (conf.channel == "A") & (conf.label == "a")]
    z = res.scores.z("A", 5)[[0, 2, 4]]
    assert row["z_mean"].item() == pytest.approx(z.mean()) and row["n"].item() == 3
    assert row["sig"].item() == pytest.approx(np.mean(z > 1.645))
    spread = res.confound.spread
    means = conf[(conf.matrix == "scores") & (conf.k == 5) & (conf.channel == "A")]["z_mean"]
    assert spread[(spread.matrix == "scores") & (spread.k == 5) & (spread.channel == "A")][
        "sd_label_means"].item() == pytest.approx(np.std(means))


def test_build_pool_matches_ids_by_string():
    ft = feature_table_from_frame(pd.DataFrame({"track": ["1", "2", "9"], "fa": list(np.eye(3, 4)),
                                                "fb": list(np.eye(3, 4))}), PLANT_CS)
    pool = build_pool(np.array([1, 2, 3]), ft)
    assert pool.track_ids.tolist() == ["1", "2"] and pool.rows.tolist() == [0, 1]
    assert pool.counts.unmatched_feature_rows == 1 and pool.counts.absent_from_table == 1


def test_exp_mapping_and_auto_residual():
    scores, df = planted(m=100, q=12, seed=6)
    inv = homogeneity(scores, df, PLANT_CS, k=[5], null_groups=60, residual=True)
    exp = homogeneity(scores, df, PLANT_CS, k=[5], null_groups=60, residual=True, mapping="exp")
    # same groups, different similarity values
    np.testing.assert_array_equal(inv.scores.groups, exp.scores.groups)
    x = feature_table_from_frame(df, PLANT_CS).vectors["fa"]
    g = [int(t) for t in exp.scores.groups[0, :5]]
    d = pdist(x[g], "seuclidean", V=x.var(axis=0, ddof=1))
    assert exp.scores.h_feature[0, 0, 0] == pytest.approx(np.exp(-d).mean(), rel=1e-12)
    assert inv.scores.h_feature[0, 0, 0] == pytest.approx((1 / (1 + d)).mean(), rel=1e-12)
    assert exp.residual.normalization.requested == "auto"
    assert exp.residual.normalization.median_excess_kurtosis is not None
    with pytest.raises(aria.AriaInputError, match="mapping must be one of 'inverse', 'exp', got 'cosine'"):
        homogeneity(scores, df, PLANT_CS, k=[5], null_groups=60, mapping="cosine")
