"""Rank-based ensemble of attribution methods (MUCS paper ``002``, App. A.4; spec section 8).

Per method and query, training rows get descending ranks (1 = highest score). The ensemble
score is the negated weighted rank sum, ``E[i, q] = -sum_m w_m r_m[i, q]``: higher = better,
and its order is the paper's "inverse of the weighted rank sum". Ties within a method share
their average rank (``scipy.stats.rankdata``'s ``average`` method), so tied items stay tied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from aria.errors import AriaInputError
from aria.evaluate._checks import as_score_matrix

__all__ = ["descending_ranks", "rank_ensemble"]


def descending_ranks(scores: object) -> np.ndarray:
    """Per-query descending ranks (1 = highest score; ties share their average rank).

    Parameters
    ----------
    scores : array-like
        Training rows x queries (N x Q).

    Returns
    -------
    numpy.ndarray
        (N, Q) float64 ranks in ``[1, N]``.

    Examples
    --------
    >>> from aria.evaluate.ensemble import descending_ranks
    >>> descending_ranks([[0.1], [0.9], [0.5], [0.5]]).ravel().tolist()
    [4.0, 1.0, 2.5, 2.5]
    """
    from scipy.stats import rankdata

    s = as_score_matrix(scores)
    return rankdata(-s, axis=0, method="average")


def rank_ensemble(score_matrices: Sequence[object] | Mapping[str, object],
                  weights: Sequence[float] | Mapping[str, float] | None = None) -> np.ndarray:
    """Ensemble score ``-sum_m w_m * descending_rank_m`` per training row and query.

    Parameters
    ----------
    score_matrices : sequence or mapping of array-like
        One N x Q matrix per method (same rows and queries); a mapping names the methods.
    weights : sequence or mapping of float, optional
        One non-negative weight per method (a mapping must name every method); default all 1.
        The paper's weights: MUCS 10, DAS 7, D-TRAK 6, DINO 5, CLIP 5, Condition 3,
        Forward-INF 2, AbU 0.

    Returns
    -------
    numpy.ndarray
        (N, Q) float64 ensemble scores, higher = more influential.

    Examples
    --------
    >>> from aria.evaluate import rank_ensemble
    >>> a = [[0.9], [0.5], [0.1]]          # ranks 1, 2, 3
    >>> b = [[0.2], [0.8], [0.4]]          # ranks 3, 1, 2
    >>> rank_ensemble([a, b], [2, 1]).ravel().tolist()
    [-5.0, -5.0, -8.0]
    """
    if isinstance(score_matrices, Mapping):
        names = list(score_matrices)
        mats = [score_matrices[n] for n in names]
        if isinstance(weights, Mapping):
            missing = [n for n in names if n not in weights]
            extra = [n for n in weights if n not in score_matrices]
            if missing or extra:
                raise AriaInputError(f"weights must name exactly the methods {names}; missing {missing}, "
                                     f"unknown {extra}")
            weights = [weights[n] for n in names]
    else:
        mats = list(score_matrices)
        names = [f"method {i}" for i in range(len(mats))]
        if isinstance(weights, Mapping):
            raise AriaInputError("weights given by name need score_matrices given by name (a mapping)")
    if not mats:
        raise AriaInputError("rank_ensemble needs at least one score matrix")
    w = np.ones(len(mats)) if weights is None else np.asarray(list(weights), dtype=np.float64)
    if w.shape != (len(mats),):
        raise AriaInputError(f"{w.size} weights for {len(mats)} score matrices")
    if not np.isfinite(w).all() or (w < 0).any():
        raise AriaInputError(f"weights must be finite and >= 0, got {w.tolist()}")
    out = None
    shape = None
    for name, m, wi in zip(names, mats, w, strict=True):
        r = descending_ranks(as_score_matrix(m, f"score_matrices[{name}]"))
        if shape is None:
            shape, out = r.shape, np.zeros(r.shape)
        elif r.shape != shape:
            raise AriaInputError(f"score_matrices[{name}] has shape {r.shape}, the first has {shape}")
        out -= wi * r
    return out
