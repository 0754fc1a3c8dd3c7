"""Fixed-seed JL signatures, cosine scores, shares and the two rights channels (spec section 8)."""

import itertools
import math

import numpy as np
import pytest

import aria
from aria.errors import AriaInputError
from aria.signatures import (
    cosine_scores,
    jl_projection,
    jl_signatures,
    rights_attribution,
    shares,
)


def test_reachable_from_aria():
    assert aria.signatures.JL_SEED == 422024 and aria.signatures.JL_DIM == 512


def test_same_seed_same_matrix_for_any_chunking():
    d, k = 9000, 8  # crosses the 4096-row stream blocks twice
    full = jl_projection(d, k, seed=422024)
    assert full.shape == (d, k)
    np.testing.assert_array_equal(full, jl_projection(d, k, seed=422024))
    for cuts in ([0, 1, 4095, 4096, 4097, 8191, 9000], [0, 3000, 6000, 9000], [0, 4096, 9000],
                 [0, 17, 8999, 9000]):
        parts = [jl_projection(d, k, seed=422024, start=a, stop=b) for a, b in itertools.pairwise(cuts)]
        np.testing.assert_array_equal(np.vstack(parts), full)
    # a shorter input's projection is the prefix of a longer one's
    np.testing.assert_array_equal(jl_projection(5000, k, seed=422024), full[:5000])
    assert not np.array_equal(jl_projection(d, k, seed=1), full)
    # entries are N(0, 1) / sqrt(k)
    big = jl_projection(20000, 64, seed=3)
    assert big.std() * math.sqrt(64) == pytest.approx(1.0, abs=0.01)
    assert abs(big.mean()) < 0.01


def test_signatures_do_not_depend_on_chunk_sizes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(37, 9000))
    ref = jl_signatures(x, k=32, seed=7)
    np.testing.assert_allclose(np.linalg.norm(ref, axis=1), 1.0, atol=1e-14)
    # independent route: the whole projection at once
    proj = x @ jl_projection(9000, 32, seed=7)
    np.testing.assert_allclose(ref, proj / np.linalg.norm(proj, axis=1, keepdims=True), atol=1e-12)
    # bit-identical whatever the chunking (the project rule), not merely close
    for chunk_rows, dim_block in ((1, 4096), (5, 1000), (36, 9000), (100, 333)):
        np.testing.assert_array_equal(
            jl_signatures(x, k=32, seed=7, chunk_rows=chunk_rows, dim_block=dim_block), ref)


def test_signatures_bit_identical_across_row_blocks():
    # more rows than one compute block (256) and dimensions over two random streams (4096)
    x = np.random.default_rng(1).normal(size=(600, 5000))
    ref = jl_signatures(x, k=16, seed=3)
    for chunk_rows, dim_block in ((1, 1), (7, 4096), (255, 5000), (300, 8192), (600, 100)):
        np.testing.assert_array_equal(
            jl_signatures(x, k=16, seed=3, chunk_rows=chunk_rows, dim_block=dim_block), ref)
    # independent route: products over 7-row chunks and all dimensions at once agree to rounding
    # (on OpenBLAS they differ in the last bits, which is why the blocks above are fixed)
    old = np.vstack([x[r:r + 7] @ jl_projection(5000, 16, seed=3) for r in range(0, 600, 7)])
    old /= np.linalg.norm(old, axis=1, keepdims=True)
    np.testing.assert_allclose(old, ref, rtol=0, atol=1e-12)


def test_distances_preserved_within_the_jl_bound():
    rng = np.random.default_rng(1)
    n, d, k = 60, 4000, 512
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=(n, 1))
    y = x @ jl_projection(d, k, seed=422024)
    # JL lemma: k >= 4 ln(n) / (eps^2/2 - eps^3/3) keeps every squared distance within (1 +- eps)
    eps = next(e for e in np.arange(0.01, 1, 0.001) if 4 * math.log(n) / (e**2 / 2 - e**3 / 3) <= k)
    ratios = [np.sum((y[i] - y[j]) ** 2) / np.sum((x[i] - x[j]) ** 2)
              for i, j in itertools.combinations(range(n), 2)]
    assert eps < 0.3
    assert 1 - eps < min(ratios) and max(ratios) < 1 + eps
    # and much better on average
    assert abs(np.mean(ratios) - 1) < 0.02


def test_cosine_scores_hand_worked():
    s = cosine_scores([[1.0, 0.0], [1.0, 1.0], [0.0, -3.0]], [[2.0, 0.0], [0.0, 1.0]])
    h = 1 / math.sqrt(2)
    np.testing.assert_allclose(s, [[1.0, 0.0], [h, h], [0.0, -1.0]], atol=1e-15)
    with pytest.raises(AriaInputError, match="zero norm"):
        cosine_scores([[0.0, 0.0]], [[1.0, 0.0]])
    with pytest.raises(AriaInputError, match="dimensions"):
        cosine_scores([[1.0, 0.0]], [[1.0, 0.0, 0.0]])


def test_shares_hand_worked():
    sh = shares([[0.6, -1.0, 0.0], [0.2, -2.0, 3.0], [-0.4, -0.5, 1.0]])
    np.testing.assert_allclose(sh[:, 0], [0.75, 0.25, 0.0])
    assert np.isnan(sh[:, 1]).all()  # no positive score: nothing to share
    np.testing.assert_allclose(sh[:, 2], [0.0, 0.75, 0.25])
    np.testing.assert_allclose(np.nansum(sh, axis=0), [1.0, 0.0, 1.0])


def test_two_rights_channels():
    rng = np.random.default_rng(2)
    train = {"recording": rng.normal(size=(6, 40)), "composition": rng.normal(size=(6, 70))}
    queries = {"recording": rng.normal(size=(3, 40)), "composition": rng.normal(size=(3, 70))}
    res = rights_attribution(train, queries, k=24, seed=5)
    assert res.channels == ("composition", "recording")
    for ch in res.channels:
        t = jl_signatures(train[ch], 24, 5)
        q = jl_signatures(queries[ch], 24, 5)
        np.testing.assert_allclose(res.scores[ch], t @ q.T, atol=1e-12)
        np.testing.assert_allclose(res.shares[ch], shares(t @ q.T), atol=1e-12)
    assert not np.allclose(res.scores["composition"], res.scores["recording"])
    top = res.top_shares(2)
    assert len(top) == 2 * 3 * 2 and top[0]["rank"] == 1
    # ready signatures: normalized, not projected
    res2 = rights_attribution({"composition": [[3.0, 4.0]]}, {"composition": [[1.0, 0.0]]}, project=False)
    assert res2.scores["composition"][0, 0] == pytest.approx(0.6)
    with pytest.raises(AriaInputError, match="differ"):
        rights_attribution(train, {"composition": queries["composition"]})
    with pytest.raises(AriaInputError, match="dimensions"):
        rights_attribution({"composition": train["composition"]}, {"composition": queries["recording"]})
