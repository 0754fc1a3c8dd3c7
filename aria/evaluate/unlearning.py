"""Unlearning-based attribution scores and their sanity check (spec section 8).

- :func:`mucs_skew`: the MUCS paper's normalized noise-consistent loss skew (``002``, Eq. 3),
  ``a_i = mean_j (L2[i, j] - L1[i, j]) / (|L2[i, j]| + |L1[i, j]| + eps)``.
- :func:`unlearning_difference`: the unlearning poster's score (``000``),
  ``tau_i = L(z_i, unlearned) - L(z_i, original)``.
- :func:`self_influence_rank`: the poster's ``R(z_tar)``, the rank (1 = top) of each query's own
  training item among its scores, averaged over queries.
"""

from __future__ import annotations

import numpy as np

from aria.errors import AriaInputError
from aria.evaluate._checks import as_real_array, as_score_matrix
from aria.params import Interval, validate_params

__all__ = ["mucs_skew", "unlearning_difference", "self_influence_rank"]


def _pair(loss_original: object, loss_unlearned: object,
          ndim: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    l1 = as_real_array(loss_original, "loss_original", ndim)
    l2 = as_real_array(loss_unlearned, "loss_unlearned", ndim)
    if l1.shape != l2.shape:
        raise AriaInputError(f"loss_original has shape {l1.shape} but loss_unlearned has shape {l2.shape}: "
                             "they must hold the same items and noise pairs")
    return l1, l2


@validate_params({"eps": Interval(float, 0, None)})
def mucs_skew(loss_original: object, loss_unlearned: object, eps: float = 1e-3) -> np.ndarray:
    """MUCS normalized noise-consistent skew per training item.

    ``a_i = (1/J) sum_j (L2[i, j] - L1[i, j]) / (|L2[i, j]| + |L1[i, j]| + eps)``, where ``L1`` is
    the original model's loss and ``L2`` the unlearned model's loss on item ``i`` under noise pair
    ``j`` (the same pairs for every item). Each term lies in ``(-1, 1)`` (``[-1, 1]`` when
    ``eps = 0``); higher = the item's loss
    rose more when the generated sample was unlearned = more influential.

    Parameters
    ----------
    loss_original, loss_unlearned : array-like
        Losses, items x noise pairs (2-D) or one value per item (1-D = one pair).
    eps : float
        Non-negative stabilizer (the paper's ``1e-3``). ``eps = 0`` is accepted (the plain
        normalized difference) as long as no entry has both losses 0, where the skew would be
        ``0/0``: that is refused with an error.

    Returns
    -------
    numpy.ndarray
        (items,) float64 skews.

    Examples
    --------
    >>> from aria.evaluate import mucs_skew
    >>> mucs_skew([[1.0, 2.0]], [[3.0, 2.0]], eps=0.0).round(6).tolist()
    [0.25]
    """
    if not (isinstance(eps, int | float) and np.isfinite(eps) and eps >= 0):
        raise AriaInputError(f"eps must be a finite number >= 0, got {eps!r}")
    l1, l2 = _pair(loss_original, loss_unlearned, (1, 2))
    if l1.ndim == 1:
        l1, l2 = l1[:, None], l2[:, None]
    den = np.abs(l2) + np.abs(l1) + float(eps)
    if not (den > 0).all():
        i, j = np.argwhere(~(den > 0))[0]
        raise AriaInputError(f"item {i}, noise pair {j}: both losses are 0 and eps = 0: the skew is "
                             "undefined (use eps > 0)")
    return ((l2 - l1) / den).mean(axis=1)


def unlearning_difference(loss_original: object, loss_unlearned: object) -> np.ndarray:
    """Unlearning attribution score ``tau = L(unlearned) - L(original)``, element by element.

    Parameters
    ----------
    loss_original, loss_unlearned : array-like
        Losses of the original and the unlearned model on the same training items, of the same
        shape: 1-D (items) or 2-D (items x queries, when one model was unlearned per query);
        other dimensions are refused.

    Returns
    -------
    numpy.ndarray
        float64 array of the inputs' shape (1-D or 2-D).

    Examples
    --------
    >>> from aria.evaluate import unlearning_difference
    >>> unlearning_difference([0.5, 0.2], [0.9, 0.1]).round(6).tolist()
    [0.4, -0.1]
    """
    l1, l2 = _pair(loss_original, loss_unlearned, (1, 2))
    return l2 - l1


def self_influence_rank(scores: object, self_index: object) -> dict:
    """Rank of each query's own training item among its scores, and the mean ``R(z_tar)``.

    ``rank_q = 1 + #{i : S[i, q] > S[self_index[q], q]}`` (1 = top; tied items do not push the
    own item down). ``R(z_tar)`` is the mean of ``rank_q``; 1.0 means every query ranks its own
    training item first (the poster's sanity check of unlearning on train-to-train queries).

    Parameters
    ----------
    scores : array-like
        Training items x queries (N x Q), higher = more influential.
    self_index : array-like of int
        (Q,) row of each query's own training item.

    Returns
    -------
    dict
        ``ranks`` ((Q,) int64) and ``mean`` (float, ``R(z_tar)``).

    Examples
    --------
    >>> from aria.evaluate import self_influence_rank
    >>> r = self_influence_rank([[0.9, 0.1], [0.5, 0.7], [0.9, 0.3]], [0, 2])
    >>> r["ranks"].tolist(), r["mean"]
    ([1, 2], 1.5)
    """
    s = as_score_matrix(scores)
    idx = np.asarray(getattr(self_index, "values", self_index))
    if idx.ndim != 1 or idx.shape[0] != s.shape[1]:
        raise AriaInputError(f"self_index: needs one training row per query ({s.shape[1]}), got shape "
                             f"{idx.shape}")
    if idx.dtype.kind not in "iu":
        if idx.dtype.kind == "f" and np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)):
            idx = idx.astype(np.int64)
        else:
            raise AriaInputError(f"self_index: must hold integer row indices, got dtype {idx.dtype}")
    bad = (idx < 0) | (idx >= s.shape[0])
    if bad.any():
        q = int(np.flatnonzero(bad)[0])
        raise AriaInputError(f"self_index[{q}] = {idx[q]} is not a training row (0 <= row < {s.shape[0]})")
    own = s[idx, np.arange(s.shape[1])]
    ranks = 1 + (s > own[None, :]).sum(axis=0).astype(np.int64)
    return {"ranks": ranks, "mean": float(ranks.mean())}
