"""The one streaming pass over a score matrix: row count, column means, centred co-moment (spec section 1)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.linalg import blas

from aria.io.streaming import DEFAULT_BLOCK_ROWS, iter_blocks
from aria.io.validate import QUERY, check_finite
from aria.params import STREAMING, validate_params

__all__ = ["GramStats", "gram_stats"]

#: Verdict labels, from worst to best.


@dataclass
class GramStats:
    """Sufficient statistics of a score matrix for every diagnostic.

    Attributes
    ----------
    n : int
        Number of rows.
    mean : numpy.ndarray
        Column means, shape (Q,), float64.
    comoment : numpy.ndarray
        Centred co-moment ``sum_i (S_i - mean)(S_i - mean)^T``, shape (Q, Q), float64.
    """

    n: int
    mean: np.ndarray
    comoment: np.ndarray

    @property
    def column_sums(self) -> np.ndarray:
        """Column sums ``sum_i S[i, q]``."""
        return self.mean * self.n

    def gram(self) -> np.ndarray:
        """Uncentred Gram matrix ``G = S^T S = comoment + n mean mean^T``."""
        return self.comoment + self.n * np.outer(self.mean, self.mean)


@validate_params({"scores": "scores", **STREAMING})
def gram_stats(
    scores: xr.DataArray,
    *,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    chunk_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> GramStats:
    """One streaming pass: row count, column means and centred co-moment.

    Each fixed-size block is centred on its own mean; block co-moments are
    accumulated with a symmetric rank-k update (BLAS ``dsyrk``) and Chan et
    al.'s between-block correction terms ``n_a n_b / n (m_b - m_a)(m_b - m_a)^T``
    are summed at the end with one more ``dsyrk``. Values are checked for
    NaN/Inf as they stream.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segment x query).
    block_rows : int
        Rows per computation block (a reproducibility parameter: results are
        bit-identical for any ``chunk_rows`` at a fixed ``block_rows``).
    chunk_rows : int, optional
        Rows read from storage at a time.
    progress : callable, optional
        Called with the number of rows processed after each block.

    Returns
    -------
    GramStats
    """
    n_total, q = scores.shape
    qids = np.asarray(scores.coords[QUERY].values) if QUERY in scores.coords else None
    source = str(scores.attrs.get("source", ""))
    comoment = np.zeros((q, q), dtype=np.float64, order="F")
    mean = np.zeros(q, dtype=np.float64)
    corrections: list[np.ndarray] = []
    n = 0
    for start, block in iter_blocks(scores, block_rows=block_rows, chunk_rows=chunk_rows,
                                    progress=progress):
        check_finite(block, start, qids, source)
        nb = block.shape[0]
        mb = block.mean(axis=0)
        block -= mb  # block is our own float64 copy
        comoment = blas.dsyrk(1.0, block.T, beta=1.0, c=comoment, trans=0, lower=0,
                              overwrite_c=1)
        if n:
            delta = mb - mean
            corrections.append(delta * math.sqrt(n * nb / (n + nb)))
            mean = mean + delta * (nb / (n + nb))
        else:
            mean = mb
        n += nb
    if corrections:
        d = np.asarray(corrections, dtype=np.float64)
        comoment = blas.dsyrk(1.0, d.T, beta=1.0, c=comoment, trans=0, lower=0, overwrite_c=1)
    upper = np.triu(comoment)
    comoment = upper + np.triu(upper, 1).T
    if n != n_total:  # pragma: no cover - defensive
        raise RuntimeError(f"streamed {n} rows, expected {n_total}")
    return GramStats(n=n, mean=np.asarray(mean), comoment=np.ascontiguousarray(comoment))
