"""Top-K groups of each query, random reference groups, and their mean pairwise similarity H (spec 3).

For each query ``q`` and group size ``K``, the group ``G_q(K)`` is the K tracks with the highest
normalized track score among the pool, ties broken by track order. For each feature ``f``::

    H_f(q) = 2 / (K (K - 1)) * sum_{a < b in G_q(K)} sim_f(x_a, x_b)
    H_c(q) = mean over features f of channel c of H_f(q)

Groups of the K sweep are nested prefixes of each query's ranking, so one ``K_max x K_max`` block
of pair similarities per query gives every K (cumulative sums); pairs shared by several groups are
evaluated once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aria.groups.pool import PoolSimilarity

__all__ = ["top_k_groups", "random_groups", "group_similarity", "nested_group_similarity"]


def top_k_groups(values: np.ndarray, rows: np.ndarray, k: int, *, column_block: int = 64) -> np.ndarray:
    """Each query's top-k pool tracks, best first, ties broken by track (pool) order (spec section 3).

    The group ``G_q(K)`` is the first K entries of row ``q``: the K pool tracks with the highest
    ``T[:, q]``, so the groups of a K sweep are nested prefixes of one ranking.

    Parameters
    ----------
    values : numpy.ndarray
        Track score matrix (M x Q).
    rows : numpy.ndarray
        Pool rows of ``values``, in track order.
    k : int
        Group size (``k <= len(rows)``).
    column_block : int
        Columns gathered at a time.

    Returns
    -------
    numpy.ndarray
        (Q, k) int64 pool indices.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.topk import top_k_groups
    >>> values = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1], [0.5, 0.0]])
    >>> top_k_groups(values, np.arange(4), 2).tolist()
    [[2, 1], [0, 1]]
    """
    n_pool = rows.size
    q = values.shape[1]
    out = np.empty((q, k), dtype=np.int64)
    for c0 in range(0, q, column_block):
        sub = values[rows, c0:c0 + column_block]
        for j in range(sub.shape[1]):
            x = sub[:, j]
            if k < n_pool:
                part = np.argpartition(-x, k - 1)[:k]
                cand = np.flatnonzero(x >= x[part].min())
            else:
                cand = np.arange(n_pool)
            out[c0 + j] = cand[np.argsort(-x[cand], kind="stable")][:k]
    return out


def random_groups(n_pool: int, k: int, n_groups: int, rng: np.random.Generator) -> np.ndarray:
    """``n_groups`` groups of ``k`` distinct pool indices, each uniform without replacement.

    Parameters
    ----------
    n_pool : int
        Pool size.
    k : int
        Group size.
    n_groups : int
        Number of groups ``R``.
    rng : numpy.random.Generator
        Seeded generator.

    Returns
    -------
    numpy.ndarray
        (n_groups, k) int64.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.topk import random_groups
    >>> g = random_groups(10, 3, 4, np.random.default_rng(0))
    >>> g.shape, all(len(set(row)) == 3 for row in g.tolist())
    ((4, 3), True)
    """
    out = np.empty((n_groups, k), dtype=np.int64)
    for r in range(n_groups):
        out[r] = rng.choice(n_pool, size=k, replace=False)
    return out


def _unique_pairs(ia: np.ndarray, ib: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = np.minimum(ia, ib).ravel()
    hi = np.maximum(ia, ib).ravel()
    keys, inv = np.unique(lo * n + hi, return_inverse=True)
    return keys // n, keys % n, inv.reshape(ia.shape)


def group_similarity(psim: PoolSimilarity, groups: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """``H_f`` of arbitrary groups (spec section 3): the mean pairwise similarity per feature.

    For a group G of K tracks, ``H_f(G) = 2 / (K (K - 1)) * sum_{a < b in G} sim_f(x_a^f, x_b^f)``.
    Used for the null's random groups; pairs shared by several groups are evaluated once.

    Parameters
    ----------
    psim : PoolSimilarity
        Pool similarities.
    groups : numpy.ndarray
        (G, K) pool indices, K >= 2.
    workers : int
        Threads for the pair similarities.

    Returns
    -------
    numpy.ndarray
        (G, F) within-group mean pairwise similarity per feature.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.groups.pool import PoolSimilarity
    >>> from aria.groups.topk import group_similarity
    >>> h = group_similarity(PoolSimilarity(aria.examples.tiny().features), np.array([[0, 1, 2], [0, 4, 7]]))
    >>> h.shape, bool(h[0, 0] > h[1, 0])
    ((2, 1), True)
    """
    g, k = groups.shape
    iu = np.triu_indices(k, 1)
    ua, ub, inv = _unique_pairs(groups[:, iu[0]], groups[:, iu[1]], psim.n)
    out = np.empty((g, len(psim.features)))
    for fi, f in enumerate(psim.features):
        sims = psim.pairs(f, ua, ub, workers=workers)[inv]
        out[:, fi] = sims.sum(axis=1) / iu[0].size
    return out


def nested_group_similarity(psim: PoolSimilarity, ranked: np.ndarray, ks: Sequence[int], *,
                            workers: int = 1) -> np.ndarray:
    """``H_f(q)`` of every prefix ``G_q(K) = ranked[q, :K]`` for K in ``ks`` (spec section 3).

    ``H_f(q) = 2 / (K (K - 1)) * sum_{a < b in G_q(K)} sim_f(x_a^f, x_b^f)``, computed for every K
    from one ``K_max x K_max`` block of pair similarities per query (cumulative column sums); pairs
    shared by several queries are evaluated once.

    Parameters
    ----------
    psim : PoolSimilarity
        Pool similarities.
    ranked : numpy.ndarray
        (Q, K_max) pool indices, best first.
    ks : sequence of int
        Group sizes (2 <= K <= K_max).
    workers : int
        Threads.

    Returns
    -------
    numpy.ndarray
        (len(ks), Q, F).

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.groups.topk import group_similarity, nested_group_similarity
    >>> psim = aria.examples.tiny().prepare().similarity
    >>> ranked = np.array([[1, 0, 2, 3], [6, 5, 7, 4]])
    >>> h = nested_group_similarity(psim, ranked, [2, 4])
    >>> h.shape
    (2, 2, 1)
    >>> bool(np.allclose(h[1], group_similarity(psim, ranked)))
    True
    """
    q, kmax = ranked.shape
    iu = np.triu_indices(kmax, 1)
    ua, ub, inv = _unique_pairs(ranked[:, iu[0]], ranked[:, iu[1]], psim.n)
    ks = list(ks)
    npairs = np.array([kk * (kk - 1) / 2 for kk in ks])
    out = np.empty((len(ks), q, len(psim.features)))
    step = max(1, (1 << 23) // (kmax * kmax))
    mat = np.zeros((min(q, step), kmax, kmax))
    cols = [kk - 1 for kk in ks]
    for fi, f in enumerate(psim.features):
        sims = psim.pairs(f, ua, ub, workers=workers)
        for q0 in range(0, q, step):
            q1 = min(q, q0 + step)
            m = mat[:q1 - q0]
            m[:, iu[0], iu[1]] = sims[inv[q0:q1]]
            # column b holds sim(a, b) for a < b: cumulative column sums give every prefix K
            csum = np.cumsum(m.sum(axis=1), axis=1)
            out[:, q0:q1, fi] = (csum[:, cols] / npairs).T
    return out
