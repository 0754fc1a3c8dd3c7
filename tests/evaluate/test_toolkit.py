"""The evaluation toolkit of the source papers (spec section 8) against hand-worked examples and
independent implementations (scipy's Mann-Whitney test, torch's top-k as quanda uses it)."""

import itertools

import numpy as np
import pytest
from scipy import stats

from aria.errors import AriaInputError
from aria.evaluate import (
    counterfactual_auc,
    mucs_skew,
    rank_ensemble,
    self_influence_rank,
    similarity_difference,
    topk_cardinality,
    topk_overlap_methods,
    topk_overlap_queries,
    unlearning_difference,
)


def test_mucs_skew_hand_worked():
    l1 = [[1.0, 2.0, -1.0], [0.5, 0.5, 0.0]]
    l2 = [[3.0, 2.0, 1.0], [0.5, 1.5, 0.0]]
    eps = 1e-3
    # item 0: (2 / 4.001 + 0 / 4.001 + 2 / 2.001) / 3 ; item 1: (0 + 1 / 2.001 + 0 / 0.001) / 3
    expected = [(2 / 4.001 + 0 + 2 / 2.001) / 3, (0 + 1 / 2.001 + 0) / 3]
    np.testing.assert_allclose(mucs_skew(l1, l2, eps), expected, rtol=0, atol=1e-15)
    # the skew is bounded by 1 in absolute value and symmetric in the two models
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 7)), rng.normal(size=(50, 7))
    s = mucs_skew(a, b)
    assert np.all(np.abs(s) < 1)
    np.testing.assert_allclose(mucs_skew(b, a), -s)
    # 1-D = one noise pair per item
    np.testing.assert_allclose(mucs_skew([1.0, 2.0], [3.0, 2.0], eps=0.0), [0.5, 0.0])


def test_mucs_skew_rejects_bad_input():
    with pytest.raises(AriaInputError, match="same items"):
        mucs_skew(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(AriaInputError, match="NaN"):
        mucs_skew([[1.0, np.nan]], [[1.0, 2.0]])
    with pytest.raises(AriaInputError, match="eps"):
        mucs_skew([[1.0]], [[1.0]], eps=-1)
    with pytest.raises(AriaInputError, match="undefined"):
        mucs_skew([[0.0]], [[0.0]], eps=0.0)
    # eps = 0 is accepted otherwise (the documented "non-negative" stabilizer): a term can reach +-1
    np.testing.assert_array_equal(mucs_skew([[0.0], [1.0]], [[2.0], [0.0]], eps=0), [1.0, -1.0])


def test_unlearning_difference():
    np.testing.assert_allclose(unlearning_difference([0.5, 0.2, 1.0], [0.9, 0.1, 1.0]), [0.4, -0.1, 0.0],
                               atol=1e-15)
    with pytest.raises(AriaInputError, match="shape"):
        unlearning_difference([1.0, 2.0], [1.0])
    with pytest.raises(AriaInputError):
        unlearning_difference(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))  # 1-D or 2-D only


def test_self_influence_rank_hand_worked():
    s = np.array([[0.9, 0.1, 0.5],
                  [0.5, 0.7, 0.5],
                  [0.9, 0.3, 0.2],
                  [0.1, 0.7, 0.9]])
    # q0: own row 0 (0.9), no strictly higher -> 1 (row 2 ties, does not push it down)
    # q1: own row 2 (0.3), rows 1 and 3 higher -> 3 ; q2: own row 1 (0.5), row 3 higher -> 2
    r = self_influence_rank(s, [0, 2, 1])
    assert r["ranks"].tolist() == [1, 3, 2]
    assert r["mean"] == pytest.approx(2.0)
    # independent check: position in a descending sort that puts the own item first among ties
    rng = np.random.default_rng(1)
    big = rng.integers(0, 5, size=(40, 12)).astype(float)
    own = rng.integers(0, 40, size=12)
    ref = [1 + sum(big[i, q] > big[own[q], q] for i in range(40)) for q in range(12)]
    assert self_influence_rank(big, own)["ranks"].tolist() == ref
    with pytest.raises(AriaInputError, match="not a training row"):
        self_influence_rank(s, [0, 4, 1])
    with pytest.raises(AriaInputError, match="one training row per query"):
        self_influence_rank(s, [0, 1])


@pytest.mark.parametrize("case", ["small-exact", "ties", "large", "one-sided-low", "tiny"])
def test_counterfactual_auc_matches_scipy(case):
    rng = np.random.default_rng(7)
    if case == "small-exact":
        r, m = rng.normal(size=6), rng.normal(size=9) - 0.5
    elif case == "ties":
        r, m = rng.integers(0, 5, size=30) / 4, rng.integers(0, 4, size=25) / 4
    elif case == "large":
        r, m = rng.normal(0.9, 0.05, size=120), rng.normal(0.8, 0.1, size=120)
    elif case == "one-sided-low":
        r, m = rng.normal(size=40) - 1, rng.normal(size=35)
    else:
        r, m = np.array([0.3]), np.array([0.1, 0.2])
    res = counterfactual_auc(r, m)
    ref = stats.mannwhitneyu(r, m, alternative="greater")
    assert res["u"] == pytest.approx(ref.statistic, abs=1e-9)
    assert res["auc"] == pytest.approx(ref.statistic / (r.size * m.size), abs=1e-12)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-14)
    for method in ("asymptotic",) + (("exact",) if case in ("small-exact", "large", "tiny") else ()):
        got = counterfactual_auc(r, m, method=method)
        want = stats.mannwhitneyu(r, m, alternative="greater", method=method)
        assert got["p_value"] == pytest.approx(want.pvalue, rel=1e-7, abs=1e-14)


def test_counterfactual_auc_hand_worked():
    # random: 0.9 0.8 0.7 ; method: 0.75 0.6 -> pairs with random > method: 0.9 (2), 0.8 (2), 0.7 (1)
    res = counterfactual_auc([0.9, 0.8, 0.7], [0.75, 0.6])
    assert res["auc"] == pytest.approx(5 / 6)
    # ties count one half
    assert counterfactual_auc([1.0, 0.5], [0.5])["auc"] == pytest.approx(0.75)


def test_similarity_difference():
    s = np.array([0.6, 0.8, 0.7])
    r = np.array([1.0, 0.8, 0.9, 0.95])
    d = similarity_difference(s, r, replicates=500, seed=3)
    med = np.median(r)  # 0.925
    assert d["mean"] == pytest.approx(100 / 3 * sum(x / med - 1 for x in s))
    assert d["ci_low"] < d["mean"] < d["ci_high"]
    # the interval is the percentile interval of an independent re-run of the same draws
    rng = np.random.default_rng(3)
    reps = []
    for _ in range(500):
        i = rng.integers(0, 3, size=3)
        j = rng.integers(0, 4, size=4)
        reps.append(100 * (s[i].mean() / np.median(r[j]) - 1))
    lo, hi = np.quantile(reps, [0.025, 0.975])
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    assert similarity_difference(s, r, replicates=500, seed=3) == d
    assert d["undefined_replicates"] == 0
    with pytest.raises(AriaInputError, match="median is 0"):
        similarity_difference(s, [0.0, 0.0, 1.0])


def test_similarity_difference_counts_undefined_replicates():
    # median(sim_random) = 1, but a resample with three or more zeros has median 0 (D = +-inf)
    s, r = np.array([0.5, 0.6, 0.7]), np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    d = similarity_difference(s, r, replicates=2000, seed=0)
    rng = np.random.default_rng(0)
    zero = 0
    for _ in range(2000):
        rng.integers(0, 3, size=3)
        zero += np.median(r[rng.integers(0, 5, size=5)]) == 0
    assert zero > 0 and d["undefined_replicates"] == zero
    assert d["ci_low"] is None and d["ci_high"] is None
    assert d["mean"] == pytest.approx(100 * (0.6 - 1))


def _top(col, k):
    return set(sorted(range(len(col)), key=lambda i: (-col[i], i))[:k])


def test_topk_overlap_queries_hand_worked_and_brute_force():
    s = [[3, 1, 3], [2, 3, 2], [1, 2, 0], [0, 0, 1]]
    r = topk_overlap_queries(s, 2)
    assert r["overlap"] == pytest.approx((1 + 2 + 1) / 3 / 2)
    assert r["random_expectation"] == 0.5 and r["n_pairs"] == 3
    rng = np.random.default_rng(2)
    big = rng.integers(0, 6, size=(30, 9)).astype(float)  # many ties: row order decides
    for k in (1, 4, 30):
        sets = [_top(big[:, q], k) for q in range(9)]
        ref = np.mean([len(a & b) / k for a, b in itertools.combinations(sets, 2)])
        got = topk_overlap_queries(big, k)
        assert got["overlap"] == pytest.approx(ref)
        assert got["cardinality"] == pytest.approx(len(set().union(*sets)) / (9 * k))
    with pytest.raises(AriaInputError, match="must be between 1 and the"):
        topk_overlap_queries(big, 31)
    with pytest.raises(AriaInputError, match="at least 2 queries"):
        topk_overlap_queries(big[:, :1], 2)


def test_topk_overlap_methods_hand_worked_and_brute_force():
    a = [[3, 0], [2, 1], [1, 2]]
    b = [[3, 2], [1, 1], [2, 0]]
    r = topk_overlap_methods(a, b, 2)
    assert r["per_query"].tolist() == [0.5, 0.5] and r["random_expectation"] == pytest.approx(2 / 3)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(50, 6)), rng.normal(size=(50, 6))
    ref = np.mean([len(_top(x[:, q], 5) & _top(y[:, q], 5)) / 5 for q in range(6)])
    assert topk_overlap_methods(x, y, 5)["overlap"] == pytest.approx(ref)
    assert topk_overlap_methods(x, x, 5)["overlap"] == 1.0
    with pytest.raises(AriaInputError, match="same training rows"):
        topk_overlap_methods(x, y[:, :5], 5)


def test_topk_cardinality_matches_quandas_formula_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    s = rng.normal(size=(80, 12))  # continuous: no ties, so torch.topk's tie order does not matter
    s[:, 6:] = s[:, :1] + 1e-3 * rng.normal(size=(80, 6))  # half the queries nearly collapsed
    for k in (1, 3, 10):
        _, idx = torch.from_numpy(s.T.copy()).topk(k=k, dim=1)  # quanda: explanations are test x train
        ref = len(torch.unique(idx)) / torch.numel(idx)
        assert topk_cardinality(s, k) == pytest.approx(ref)
    assert topk_cardinality(np.tile(np.arange(10.0)[:, None], (1, 4)), 3) == pytest.approx(1 / 4)


def test_rank_ensemble_hand_worked():
    a = [[0.9, 0.1], [0.5, 0.2], [0.1, 0.3]]  # ranks q0: 1 2 3 ; q1: 3 2 1
    b = [[0.2, 0.5], [0.8, 0.5], [0.4, 0.9]]  # ranks q0: 3 1 2 ; q1: 2.5 2.5 1
    e = rank_ensemble({"A": a, "B": b}, {"A": 2, "B": 1})
    np.testing.assert_allclose(e, -np.array([[2 * 1 + 3, 2 * 3 + 2.5],
                                             [2 * 2 + 1, 2 * 2 + 2.5],
                                             [2 * 3 + 2, 2 * 1 + 1]]))
    # one method with weight 1: order-equivalent to its own scores
    rng = np.random.default_rng(5)
    x = rng.normal(size=(20, 3))
    e1 = rank_ensemble([x])
    assert all((np.argsort(-e1[:, q], kind="stable") == np.argsort(-x[:, q], kind="stable")).all()
               for q in range(3))
    # weight 0 drops a method
    np.testing.assert_allclose(rank_ensemble([x, rng.normal(size=(20, 3))], [1, 0]), e1)
    with pytest.raises(AriaInputError, match="weights"):
        rank_ensemble([x, x], [1])
    with pytest.raises(AriaInputError, match=">= 0"):
        rank_ensemble([x, x], [1, -1])
    with pytest.raises(AriaInputError, match="shape"):
        rank_ensemble([x, x[:10]])
    with pytest.raises(AriaInputError, match="exactly the methods"):
        rank_ensemble({"A": x}, {"B": 1})
