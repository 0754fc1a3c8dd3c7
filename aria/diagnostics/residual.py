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
from typing import Unpack

import numpy as np
import pandas as pd
import xarray as xr

from aria.diagnostics.reliability import Diagnostics
from aria.errors import AriaInputError
from aria.io.atomic import atomic_path
from aria.io.streaming import Streaming, iter_blocks
from aria.io.validate import TRACK
from aria.params import STREAMING, InstanceOf, validate_params

__all__ = ["Rank1Axis", "rank1_axis", "residual_scores", "write_residual"]


@dataclass
class Rank1Axis:
    """The dominant rank-1 component ``sigma_1 u_1 v_1^T`` of a score matrix.

    Built by :func:`rank1_axis` or :func:`write_residual`; :meth:`track_u1` gives the
    per-track view of ``u_1`` that the alignment analysis uses.

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

    Examples
    --------
    >>> import aria
    >>> from aria.diagnostics.residual import rank1_axis
    >>> s = aria.load_scores(aria.examples.path("collapsed"))
    >>> axis = rank1_axis(s, aria.diagnose(s))
    >>> axis.u1.shape, axis.v1.shape
    ((1000,), (40,))
    >>> axis.track_u1().shape
    (200,)
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


def _rank1_pass(scores: xr.DataArray, diag: Diagnostics,
                write_residual: Callable[[np.ndarray], object] | None,
                **streaming: Unpack[Streaming]) -> Rank1Axis:
    """One pass over the row blocks: ``u_1 = S v_1 / sigma_1``; each residual block to ``write_residual``."""
    u1 = np.empty(diag.n_segments, dtype=np.float64)
    for start, block in iter_blocks(scores, **streaming):
        proj = block @ diag.v1
        u1[start:start + block.shape[0]] = proj
        if write_residual is not None:
            block -= np.outer(proj, diag.v1)
            write_residual(block)
    u1 /= diag.sigma_1
    return Rank1Axis(diag.sigma_1, u1, diag.v1.copy(), np.asarray(scores.coords[TRACK].values))


@validate_params({"scores": "scores", "diag": Diagnostics, **STREAMING})
def rank1_axis(scores: xr.DataArray, diag: Diagnostics, **streaming: Unpack[Streaming]) -> Rank1Axis:
    """Second pass over the rows: ``u_1 = S v_1 / sigma_1``.

    Parameters
    ----------
    scores : xarray.DataArray
        The matrix the diagnostics were computed on.
    diag : Diagnostics
        Output of :func:`aria.diagnose` for ``scores``.
    **streaming
        ``block_rows``, ``chunk_rows``, ``progress``: see :class:`aria.io.streaming.Streaming`.

    Returns
    -------
    Rank1Axis
        ``sigma_1``, ``u_1`` (one value per segment) and ``v_1``.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.diagnostics.residual import rank1_axis
    >>> s = aria.load_scores(aria.examples.path("collapsed"))
    >>> axis = rank1_axis(s, aria.diagnose(s))
    >>> u, sv, vt = np.linalg.svd(s.values.astype(np.float64), full_matrices=False)
    >>> bool(np.isclose(axis.sigma_1, sv[0], rtol=1e-4))
    True
    >>> bool(np.allclose(np.abs(axis.u1), np.abs(u[:, 0]), atol=1e-4))
    True
    """
    _check(scores, diag)
    return _rank1_pass(scores, diag, None, **streaming)


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

    Examples
    --------
    >>> import numpy as np, aria
    >>> from aria.diagnostics.residual import residual_scores
    >>> m = np.outer([1.0, 2.0, 3.0, 4.0], [3.0, 1.0]) + np.array([[0.5, 0], [0, 0], [0, 0], [0, 0]])
    >>> s = aria.scores_from_array(m)
    >>> r = residual_scores(s, aria.diagnose(s))
    >>> second = np.linalg.svd(m, compute_uv=False)[1]  # what is left: the 2nd singular value
    >>> r.dims == s.dims, bool(np.isclose(np.linalg.norm(r.values, 2), second))
    (True, True)
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
    **streaming: Unpack[Streaming],
) -> Rank1Axis:
    """Stream the rank-1 residual to a ``.npy`` file (atomically) and return the axis.

    Parameters
    ----------
    scores, diag
        As in :func:`rank1_axis`.
    path : path-like
        Destination ``.npy`` (segments x queries, same orientation as ``scores``).
    dtype : dtype, optional
        Output dtype; default: the input's float dtype (float64 for integer input).
    **streaming
        ``block_rows``, ``chunk_rows``, ``progress``: see :class:`aria.io.streaming.Streaming`.

    Returns
    -------
    Rank1Axis
        ``u_1`` is computed in the same pass.

    Examples
    --------
    >>> import aria
    >>> import tempfile, pathlib, numpy as np
    >>> from aria.diagnostics.residual import residual_scores, write_residual
    >>> s = aria.load_scores(aria.examples.path("collapsed"))
    >>> d = aria.diagnose(s)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "residual.npy"
    >>> axis = write_residual(s, d, path)
    >>> bool(np.allclose(np.load(path), residual_scores(s, d).values, atol=1e-5))
    True
    """
    _check(scores, diag)
    source = scores.attrs.get("source")
    if source and Path(source).exists() and Path(path).resolve() == Path(source).resolve():
        raise AriaInputError(f"path would overwrite the score matrix {source}", parameter="path",
                             function="write_residual")
    if dtype is None:
        dtype = scores.dtype if np.dtype(scores.dtype).kind == "f" else np.float64
    dtype = np.dtype(dtype)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": tuple(scores.shape)}
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as fh:
            np.lib.format.write_array_header_1_0(fh, header)
            def write(res: np.ndarray) -> None:
                fh.write(np.ascontiguousarray(res, dtype=dtype).tobytes())

            axis = _rank1_pass(scores, diag, write, **streaming)
            fh.flush()
            os.fsync(fh.fileno())
    return axis
