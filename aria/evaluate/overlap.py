"""Top-k overlap between queries and between methods, and quanda's top-k cardinality.

MUCS paper ``002``, App. B.2/B.3; spec section 8.

``top_k(S[:, q])`` is the set of the k training rows with the highest scores for query ``q``,
ties broken by row order (the lower row wins), as everywhere in Aria.

- Between queries: ``mean over pairs q < q' of |top_k(q) ∩ top_k(q')| / k``. A query-dependent
  method retrieves different items for different queries (overlap near the random expectation
  ``k / N``); a collapsed one the same items (overlap near 1).
- Between methods: ``mean over queries q of |top_k(A[:, q]) ∩ top_k(B[:, q])| / k``.
- Top-k cardinality (quanda ``TopKCardinalityMetric``): ``|union over queries of top_k(q)| / (Q k)``:
  1 when no item is shared, ``1/Q`` when every query retrieves the same k items.

The overlap between queries needs no pair loop: the sum over pairs of ``|A ∩ B|`` is
``sum_i C(n_i, 2)`` with ``n_i`` the number of top-k sets that hold item ``i``. The score matrices
are held in memory as float64.
"""

from __future__ import annotations

import numpy as np

from aria.errors import AriaInputError
from aria.evaluate._checks import as_score_matrix, check_k
from aria.params import Interval, validate_params

__all__ = ["top_k_sets", "topk_overlap_queries", "topk_overlap_methods", "topk_cardinality"]


@validate_params({"k": Interval(int, 1, None)})
def top_k_sets(scores: object, k: int) -> np.ndarray:
    """Each query's top-k training rows, best first, ties broken by row order.

    Parameters
    ----------
    scores : array-like
        Training rows x queries (N x Q).
    k : int
        Set size, ``1 <= k <= N``.

    Returns
    -------
    numpy.ndarray
        (Q, k) int64 row indices: row ``q`` holds query ``q``'s set, its highest score
        first.

    See Also
    --------
    aria.groups.topk.top_k_groups : the homogeneity engine's groups (tracks, not rows).

    Examples
    --------
    >>> from aria.evaluate.overlap import top_k_sets
    >>> top_k_sets([[1.0, 0.0], [3.0, 0.0], [3.0, 1.0]], 2).tolist()
    [[1, 2], [2, 0]]
    """
    from aria.groups.topk import top_k_groups

    s = as_score_matrix(scores)
    k = check_k(k, s.shape[0])
    return top_k_groups(s, np.arange(s.shape[0]), k)


@validate_params({"k": Interval(int, 1, None)})
def topk_overlap_queries(scores: object, k: int) -> dict:
    """Mean top-k overlap between every pair of queries, with the random expectation ``k / N``.

    Parameters
    ----------
    scores : array-like
        Training rows x queries (N x Q), Q >= 2.
    k : int
        Set size.

    Returns
    -------
    dict
        ``overlap`` (mean of ``|A ∩ B| / k`` over the ``Q (Q-1) / 2`` pairs),
        ``random_expectation`` (``k / N``), ``cardinality`` (quanda's top-k cardinality),
        ``k``, ``n_rows``, ``n_queries``, ``n_pairs``.

    Examples
    --------
    >>> from aria.evaluate import topk_overlap_queries
    >>> s = [[3, 1, 3], [2, 3, 2], [1, 2, 0], [0, 0, 1]]
    >>> r = topk_overlap_queries(s, 2)
    >>> round(r["overlap"], 4), r["random_expectation"], round(r["cardinality"], 4)
    (0.6667, 0.5, 0.5)
    """
    s = as_score_matrix(scores)
    n, q = s.shape
    if q < 2:
        raise AriaInputError(f"scores: top-k overlap between queries needs at least 2 queries, got {q}")
    sets = top_k_sets(s, k)
    # sum over pairs of |A_q ∩ A_q'| = sum over items of C(n_i, 2), n_i = sets holding item i
    held = np.bincount(sets.ravel(), minlength=n).astype(np.float64)
    n_pairs = q * (q - 1) // 2
    return {"overlap": float((held * (held - 1) / 2).sum() / n_pairs / k), "random_expectation": k / n,
            "cardinality": _cardinality(sets), "k": int(k), "n_rows": n, "n_queries": q,
            "n_pairs": n_pairs}


@validate_params({"k": Interval(int, 1, None)})
def topk_overlap_methods(scores_a: object, scores_b: object, k: int) -> dict:
    """Mean over queries of the top-k overlap between two methods' scores of the same queries.

    Parameters
    ----------
    scores_a, scores_b : array-like
        Training rows x queries (N x Q), same shape, same rows and queries in the same order.
    k : int
        Set size.

    Returns
    -------
    dict
        ``overlap`` (mean over queries of ``|top_k(A) ∩ top_k(B)| / k``), ``per_query`` ((Q,)
        values), ``random_expectation`` (``k / N``), ``k``, ``n_rows``, ``n_queries``.

    Examples
    --------
    >>> from aria.evaluate import topk_overlap_methods
    >>> a = [[3, 0], [2, 1], [1, 2]]
    >>> b = [[3, 2], [1, 1], [2, 0]]
    >>> r = topk_overlap_methods(a, b, 2)
    >>> r["per_query"].tolist(), r["overlap"]
    ([0.5, 0.5], 0.5)
    """
    a = as_score_matrix(scores_a, "scores_a")
    b = as_score_matrix(scores_b, "scores_b")
    if a.shape != b.shape:
        raise AriaInputError(f"scores_a has shape {a.shape} but scores_b has shape {b.shape}: both must "
                             "score the same training rows for the same queries")
    n, q = a.shape
    sa, sb = top_k_sets(a, k), top_k_sets(b, k)
    per_query = np.array([np.intersect1d(sa[j], sb[j]).size for j in range(q)], dtype=np.float64) / k
    return {"overlap": float(per_query.mean()), "per_query": per_query, "random_expectation": k / n,
            "k": int(k), "n_rows": n, "n_queries": q}


def _cardinality(sets: np.ndarray) -> float:
    return float(np.unique(sets).size / sets.size)


@validate_params({"k": Interval(int, 1, None)})
def topk_cardinality(scores: object, k: int) -> float:
    """Quanda's top-k cardinality: distinct items in the queries' top-k sets over ``Q k``.

    Parameters
    ----------
    scores : array-like
        Training rows x queries (N x Q).
    k : int
        Set size.

    Returns
    -------
    float
        In ``[1/Q, 1]``; higher = less shared across queries.

    Examples
    --------
    >>> from aria.evaluate import topk_cardinality
    >>> topk_cardinality([[3, 3], [2, 2], [1, 0]], 2)
    0.5
    """
    return _cardinality(top_k_sets(scores, k))
