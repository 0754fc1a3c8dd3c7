"""Argument checks shared by the evaluation toolkit (one-line :class:`AriaInputError` messages)."""

from __future__ import annotations

import numpy as np

from aria.errors import AriaInputError
from aria.io.validate import validate_dtype

__all__ = ["as_real_array", "as_score_matrix", "check_k"]


def as_real_array(x: object, name: str, ndim: int | tuple[int, ...] | None = None,
                  *, min_size: int = 1) -> np.ndarray:
    """``x`` as a finite float64 array, checked.

    Parameters
    ----------
    x : array-like
        Input (a NumPy array, a list, an ``xarray.DataArray``...).
    name : str
        Parameter name used in messages.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    min_size : int
        Minimum number of elements.

    Returns
    -------
    numpy.ndarray
        float64 (a copy only when ``x`` is not already float64).
    """
    arr = np.asarray(getattr(x, "values", x))
    validate_dtype(arr.dtype, name)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and arr.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        raise AriaInputError(f"{name}: must be {want}, got {arr.ndim}-D with shape {arr.shape}")
    if arr.size < min_size:
        raise AriaInputError(f"{name}: needs at least {min_size} value(s), got {arr.size}")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        pos = np.argwhere(~np.isfinite(arr))[0]
        raise AriaInputError(f"{name}: NaN or infinite value at index {tuple(int(i) for i in pos)}")
    return arr


def as_score_matrix(scores: object, name: str = "scores") -> np.ndarray:
    """A training x query score matrix as a finite 2-D float64 array."""
    return as_real_array(scores, name, 2)


def check_k(k: object, n: int, name: str = "k") -> int:
    """``k`` as an int in ``[1, n]``."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise AriaInputError(f"{name} must be an integer, got {k!r}", parameter=name)
    if not 1 <= int(k) <= n:
        raise AriaInputError(f"{name} must be between 1 and the {n} training rows, got {k}", parameter=name)
    return int(k)
