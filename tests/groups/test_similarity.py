import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist, squareform

from aria.features.chords import labels_to_root_motions
from aria.features.table import Sequences
from aria.groups.similarity import LCSSimilarity, VectorSimilarity, lcs_length, lcs_similarity


def dp_lcs(a, b):
    """Plain dynamic-programming LCS (reference)."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def test_seuclidean_matches_scipy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 5)) * [1, 10, 0.1, 3, 1]
    x[:, 4] = 7.0  # constant dimension: dropped
    vs = VectorSimilarity(x)
    assert vs.n_dropped == 1 and vs.kept.tolist() == [0, 1, 2, 3]
    ref = squareform(pdist(x[:, :4], "seuclidean"))  # V = var(ddof=1) by default
    ia, ib = np.triu_indices(30, 1)
    np.testing.assert_allclose(vs.distances(ia, ib), ref[ia, ib], rtol=1e-12)
    np.testing.assert_allclose(vs.pairs(ia, ib), 1 / (1 + ref[ia, ib]), rtol=1e-12)
    np.testing.assert_allclose(VectorSimilarity(x, "exp").pairs(ia, ib), np.exp(-ref[ia, ib]), rtol=1e-12)
    # identical tracks are exactly similar; batching and threads change nothing
    assert vs.pairs([3], [3])[0] == 1.0
    np.testing.assert_array_equal(vs.distances(ia, ib, workers=3), vs.distances(ia, ib))
    with pytest.raises(ValueError):
        VectorSimilarity(x, "cosine")


def test_all_constant_feature_is_fully_similar():
    vs = VectorSimilarity(np.ones((5, 3)))
    assert vs.n_dropped == 3
    assert vs.pairs([0, 1], [2, 4]).tolist() == [1.0, 1.0]


def test_lcs_worked_examples():
    assert lcs_length([5, 7, 5], [5, 7]) == 2
    assert lcs_length([1, 2, 3, 4], [2, 4, 1, 3]) == 2
    assert lcs_similarity([5, 7, 5], [5, 2]) == pytest.approx(1 / 3)
    assert lcs_similarity([1, 2, 3], [1, 2, 3]) == 1.0
    assert lcs_similarity([], [1, 2]) == 0.0 and lcs_similarity([], []) == 0.0
    # a I-IV-V-I progression in C and in E have the same root motions
    c = labels_to_root_motions(["C", "F", "G", "C"])
    e = labels_to_root_motions(["E", "A", "B:7", "E"])
    assert c.tolist() == e.tolist() == [5, 2, 5]
    assert lcs_similarity(c, e) == 1.0
    s = Sequences.from_list([c, e, [], [5, 5, 2]])
    ls = LCSSimilarity(s)
    np.testing.assert_allclose(ls.pairs([0, 0, 2, 3], [1, 2, 2, 0]), [1.0, 0.0, 0.0, 2 / 3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 11), max_size=150), min_size=2, max_size=12), st.data())
def test_bit_parallel_lcs_matches_dp(seqs, data):
    n = len(seqs)
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                               min_size=1, max_size=30))
    ia = np.array([p[0] for p in pairs])
    ib = np.array([p[1] for p in pairs])
    ls = LCSSimilarity(Sequences.from_list(seqs))
    got = ls.lengths(ia, ib, batch=7)
    ref = [dp_lcs(seqs[a], seqs[b]) for a, b in pairs]
    assert got.tolist() == ref
    assert [lcs_length(seqs[a], seqs[b]) for a, b in pairs] == ref


def test_lcs_long_sequences_batches_and_workers():
    rng = np.random.default_rng(3)
    seqs = [rng.integers(0, 12, rng.integers(0, 300)).tolist() for _ in range(40)]
    seqs[0] = []
    ls = LCSSimilarity(Sequences.from_list(seqs))
    ia, ib = np.triu_indices(40, 1)
    a = ls.lengths(ia, ib)
    b = ls.lengths(ia, ib, batch=5, workers=3)
    np.testing.assert_array_equal(a, b)
    ref = [dp_lcs(seqs[i], seqs[j]) for i, j in zip(ia[:150], ib[:150], strict=True)]
    assert a[:150].tolist() == ref
