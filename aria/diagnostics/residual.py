"""The rank-1 axis and the rank-1 residual (spec sections 1.4 and 5).

``S = sigma_1 u_1 v_1^T + S_res``. ``v_1`` and ``sigma_1`` come from the
diagnostics pass; ``u_1 = S v_1 / sigma_1`` and
``S_res = S - sigma_1 u_1 v_1^T = S (I - v_1 v_1^T)`` need a second pass over
the rows, done here block by block so that neither the input nor the residual
has to fit in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from aria.diagnostics.reliability import Diagnostics
from aria.errors import AriaInputError
from aria.io.atomic import atomic_path
from aria.io.streaming import DEFAULT_BLOCK_ROWS, iter_blocks
from aria.io.validate import TRACK
from aria.params import STREAMING, InstanceOf, validate_params

__all__ = ["Rank1Axis", "rank1_axis", "residual_scores", "write_residual"]


@dataclass
class Rank1Axis:
    """The dominant rank-1 component ``sigma_1 u_1 v_1^T`` of a score matrix.

    Attributes
    ----------
    sigma_1 : float
        Leading singular value.
    u1 : numpy.ndarray
        Train-side singular vector, one value per segment (unit norm).
    v1 : numpy.ndarray
        Query-side singular vector (unit norm, sign fixed so ``sum(v1) >= 0``).
    segment_track : numpy.ndarray
        Track id of each segment.
    """

    sigma_1: float
    u1: np.ndarray
    v1: np.ndarray
    segment_track: np.ndarray

    def track_u1(self) -> pd.Series:
        """``u_1`` averaged over each track's segments (spec section 5), indexed by track id."""
        codes, uniques = pd.factorize(pd.Series(self.segment_track), sort=True)
        sums = np.bincount(codes, weights=self.u1, minlength=len(uniques))
        counts = np.bincount(codes, minlength=len(uniques))
        return pd.Series(sums / counts, index=pd.Index(uniques, name=TRACK), name="u1")


def _check(scores: xr.DataArray, diag: Diagnostics) -> None:
    if scores.shape != (diag.n_segments, diag.n_queries):
        raise AriaInputError(
            f"diagnostics are for a {diag.n_segments} x {diag.n_queries} matrix, "
            f"scores are {scores.shape[0]} x {scores.shape[1]}"
        )
    if not diag.sigma_1 > 0:
        raise AriaInputError("the score matrix is all zeros: it has no rank-1 axis")


@validate_params({"scores": "scores", "diag": Diagnostics, **STREAMING})
def rank1_axis(
    scores: xr.DataArray,
    diag: Diagnostics,
    *,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    chunk_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Rank1Axis:
    """Second pass over the rows: ``u_1 = S v_1 / sigma_1``.

    Parameters
    ----------
    scores : xarray.DataArray
        The matrix the diagnostics were computed on.
    diag : Diagnostics
        Output of :func:`aria.diagnose` for ``scores``.
    block_rows, chunk_rows : int
        Streaming parameters.
    progress : callable, optional
        Called with the number of rows processed.

    Returns
    -------
    Rank1Axis
    """
    _check(scores, diag)
    u1 = np.empty(diag.n_segments, dtype=np.float64)
    for start, block in iter_blocks(scores, block_rows=block_rows, chunk_rows=chunk_rows,
                                    progress=progress):
        u1[start:start + block.shape[0]] = block @ diag.v1
    u1 /= diag.sigma_1
    return Rank1Axis(diag.sigma_1, u1, diag.v1.copy(), np.asarray(scores.coords[TRACK].values))


@validate_params({"scores": "scores", "diag": Diagnostics})
def residual_scores(scores: xr.DataArray, diag: Diagnostics) -> xr.DataArray:
    """The rank-1 residual ``S - sigma_1 u_1 v_1^T`` in memory, with the same labels.

    Parameters
    ----------
    scores : xarray.DataArray
        The matrix the diagnostics were computed on.
    diag : Diagnostics
        Its diagnostics.

    Returns
    -------
    xarray.DataArray
        float64 residual, dims and coords as ``scores``.
    """
    _check(scores, diag)
    s = np.asarray(scores.values, dtype=np.float64)
    res = s - np.outer(s @ diag.v1, diag.v1)
    out = scores.copy(data=res)
    out.attrs = {**scores.attrs, "residual": "rank-1 removed"}
    return out


@validate_params({"scores": "scores", "diag": Diagnostics, "path": "path",
                  "dtype": [None, "str", type, InstanceOf(np.dtype)], **STREAMING})
def write_residual(
    scores: xr.DataArray,
    diag: Diagnostics,
    path: str | os.PathLike[str],
    *,
    dtype: np.dtype | str | None = None,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    chunk_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Rank1Axis:
    """Stream the rank-1 residual to a ``.npy`` file (atomically) and return the axis.

    Parameters
    ----------
    scores : xarray.DataArray
        The matrix the diagnostics were computed on.
    diag : Diagnostics
        Its diagnostics.
    path : path-like
        Destination ``.npy`` (segments x queries, same orientation as ``scores``).
    dtype : dtype, optional
        Output dtype; default: the input's float dtype (float64 for integer input).
    block_rows, chunk_rows : int
        Streaming parameters.
    progress : callable, optional
        Called with the number of rows processed.

    Returns
    -------
    Rank1Axis
        ``u_1`` is computed in the same pass.
    """
    _check(scores, diag)
    source = scores.attrs.get("source")
    if source and Path(source).exists() and Path(path).resolve() == Path(source).resolve():
        raise AriaInputError(f"path would overwrite the score matrix {source}", parameter="path",
                             function="write_residual")
    if dtype is None:
        dtype = scores.dtype if np.dtype(scores.dtype).kind == "f" else np.float64
    dtype = np.dtype(dtype)
    n, q = scores.shape
    u1 = np.empty(n, dtype=np.float64)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": (n, q)}
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as fh:
            np.lib.format.write_array_header_1_0(fh, header)
            for start, block in iter_blocks(scores, block_rows=block_rows,
                                            chunk_rows=chunk_rows, progress=progress):
                proj = block @ diag.v1
                u1[start:start + block.shape[0]] = proj
                block -= np.outer(proj, diag.v1)
                fh.write(np.ascontiguousarray(block, dtype=dtype).tobytes())
            fh.flush()
            os.fsync(fh.fileno())
    u1 /= diag.sigma_1
    return Rank1Axis(diag.sigma_1, u1, diag.v1.copy(), np.asarray(scores.coords[TRACK].values))
