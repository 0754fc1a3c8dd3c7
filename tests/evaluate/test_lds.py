import json

import numpy as np
import pytest
from scipy import stats

import aria
from aria.cli import main
from aria.errors import AriaInputError
from aria.evaluate.lds import GroundTruth, lds, spearman_columns, subset_scores
from aria.io.groundtruth import load_ground_truth, load_lds_values


def _hand_example(seed=3, n=12, q=3, n_sub=8):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, q))
    mask = rng.random((n_sub, n)) < 0.5
    targets = rng.normal(size=(n_sub, q))
    return s, mask, targets


def test_lds_matches_independent_spearman_loop():
    s, mask, targets = _hand_example()
    res = lds(aria.scores_from_array(s), GroundTruth(mask, targets))
    expected = []
    for qq in range(s.shape[1]):
        predicted = [sum(s[i, qq] for i in range(s.shape[0]) if mask[j, i]) for j in range(mask.shape[0])]
        expected.append(stats.spearmanr(predicted, targets[:, qq]).statistic)
    np.testing.assert_allclose(res.per_query, expected, atol=1e-12)
    assert res.mean == pytest.approx(np.mean(expected), abs=1e-12)
    p_ref = [stats.spearmanr(mask.astype(float) @ s[:, j], targets[:, j]).pvalue for j in range(3)]
    np.testing.assert_allclose(res.pvalues, p_ref, rtol=1e-8)


def test_lds_hand_worked_perfect_and_reversed():
    # identity scores: subset score for query q = 1 if row q in subset
    s = np.eye(4)[:, :2]
    mask = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1]], bool)
    targets = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.6], [0.1, 0.2]])
    res = lds(aria.scores_from_array(s), GroundTruth(mask, targets))
    # query 0: predicted [1,0,1,0] vs targets [1,0,.7,.1]: ranks tie-averaged
    exp0 = stats.spearmanr([1, 0, 1, 0], [1.0, 0.0, 0.7, 0.1]).statistic
    exp1 = stats.spearmanr([0, 1, 1, 0], [0.0, 1.0, 0.6, 0.2]).statistic
    assert res.per_query == pytest.approx([exp0, exp1])
    flipped = lds(aria.scores_from_array(-s), GroundTruth(mask, targets))
    assert flipped.mean == pytest.approx(-res.mean)


def test_ties_and_constant_columns():
    a = np.array([[1.0, 1.0], [2.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    b = np.array([[4.0, 1.0], [3.0, 2.0], [1.0, 3.0], [0.0, 4.0]])
    rho, p = spearman_columns(a, b)
    assert rho[0] == pytest.approx(stats.spearmanr(a[:, 0], b[:, 0]).statistic)
    assert np.isnan(rho[1]) and np.isnan(p[1])


def test_undefined_queries_are_reported_and_skipped():
    s, mask, targets = _hand_example()
    targets[:, 1] = 5.0  # constant target: no rank correlation
    res = lds(aria.scores_from_array(s, query_ids=["a", "b", "c"]), GroundTruth(mask, targets))
    assert res.undefined_queries == ["b"]
    assert res.mean == pytest.approx(np.nanmean(res.per_query))


def test_index_layout_equals_mask():
    s, mask, targets = _hand_example()
    k = int(mask.sum(axis=1).min())
    assert k >= 2
    idx = np.array([np.flatnonzero(row)[:k] for row in mask])  # k distinct rows per subset
    sub = np.zeros_like(mask)
    for j, row in enumerate(idx):
        sub[j, row] = True
    gt = GroundTruth.from_indices(idx, targets, s.shape[0])
    assert gt.subsets.dtype == bool
    np.testing.assert_array_equal(gt.subsets, sub)


@pytest.mark.parametrize("bad", [-1, 12, 10_000])
def test_out_of_range_or_negative_indices_are_refused(bad):
    # dattri has no padding: -1 would silently index the last row, N raises IndexError
    s, _, targets = _hand_example()
    idx = np.tile(np.arange(6), (targets.shape[0], 1))
    idx[2, 3] = bad
    match = rf"subset index {bad} \(subset 2, position 3\) is outside 0\.\.11"
    with pytest.raises(AriaInputError, match=match):
        GroundTruth.from_indices(idx, targets, s.shape[0])


def test_duplicate_indices_count_twice_as_dattri():
    s, _, targets = _hand_example()
    rng = np.random.default_rng(5)
    idx = rng.integers(0, s.shape[0], size=(targets.shape[0], 9))  # with repeats
    gt = GroundTruth.from_indices(idx, targets, s.shape[0])
    assert gt.subsets.max() >= 2
    predicted = np.array([s[row].sum(axis=0) for row in idx])  # score[indices[i]].sum(), as dattri
    np.testing.assert_allclose(subset_scores(aria.scores_from_array(s), gt.subsets), predicted, atol=1e-12)
    res = lds(aria.scores_from_array(s), gt)
    expected = [stats.spearmanr(predicted[:, j], targets[:, j]).statistic for j in range(s.shape[1])]
    np.testing.assert_allclose(res.per_query, expected, atol=1e-12)


def test_streaming_block_independence():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(301, 5))
    mask = rng.random((20, 301)) < 0.3
    a = subset_scores(aria.scores_from_array(s), mask, block_rows=7)
    b = subset_scores(aria.scores_from_array(s), mask, block_rows=4096)
    np.testing.assert_allclose(a, mask.astype(float) @ s, atol=1e-10)
    np.testing.assert_allclose(a, b, atol=1e-10)


def test_query_ids_select_subset_of_queries(tmp_path):
    s, mask, targets = _hand_example()
    scores = aria.scores_from_array(s, query_ids=["a", "b", "c"])
    path = tmp_path / "gt.npz"
    np.savez(path, subsets=mask, targets=targets[:, [2, 0]], query_ids=np.array(["c", "a"]))
    gt = load_ground_truth(path, s.shape[0])
    res = lds(scores, gt)
    full = lds(scores, GroundTruth(mask, targets))
    assert list(res.query_ids) == ["c", "a"]
    assert res.per_query == pytest.approx(full.per_query[[2, 0]])


def test_loss_targets_are_negated(tmp_path):
    s, mask, targets = _hand_example()
    path = tmp_path / "gt.npz"
    np.savez(path, subsets=mask, targets=targets, target_kind=np.array("loss"))
    gt = load_ground_truth(path, s.shape[0])
    assert gt.target_kind == "loss"
    res = lds(aria.scores_from_array(s), gt)
    assert res.mean == pytest.approx(-lds(aria.scores_from_array(s), GroundTruth(mask, targets)).mean)


@pytest.mark.parametrize("arrays, match", [
    ({"targets": np.zeros((4, 3))}, "missing array 'subsets'"),
    ({"subsets": np.ones((4, 5), bool), "targets": np.zeros((4, 3))}, "must be \\(n_subsets, 12\\)"),
    ({"subsets": np.ones((4, 12), bool), "targets": np.zeros((5, 3))}, "4 subsets but targets have 5"),
    ({"subsets": np.ones((2, 12), bool), "targets": np.zeros((2, 3))}, "at least 3 subsets"),
    ({"subsets": np.ones((4, 12), bool), "targets": np.full((4, 3), np.nan)}, "NaN"),
    ({"subsets": np.ones((4, 12)), "targets": np.zeros((4, 3))}, "boolean or integer"),
])
def test_bad_ground_truth(tmp_path, arrays, match):
    path = tmp_path / "gt.npz"
    np.savez(path, **arrays)
    with pytest.raises(AriaInputError, match=match):
        load_ground_truth(path, 12)


def test_wrong_query_count_is_an_input_error():
    s, mask, targets = _hand_example()
    with pytest.raises(AriaInputError, match="3 columns but the score matrix has 2"):
        lds(aria.scores_from_array(s[:, :2]), GroundTruth(mask, targets))


def test_load_lds_values(tmp_path):
    p = tmp_path / "lds.json"
    p.write_text(json.dumps({"lds": {"a": 0.5, "b": None}}))
    vals = load_lds_values(p)
    assert vals["a"] == 0.5 and np.isnan(vals["b"])
    p.write_text(json.dumps({"a": "high"}))
    with pytest.raises(AriaInputError, match="must be a number"):
        load_lds_values(p)
    p.write_text("{not json")
    with pytest.raises(AriaInputError, match="not valid JSON"):
        load_lds_values(p)


def test_cli_bad_gt_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "gt.npz"
    bad.write_bytes(b"garbage")
    code = main(["compare", "--example", "query-dependent", "--lds-gt", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "gt.npz" in err
