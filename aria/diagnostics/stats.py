"""The one streaming pass over a score matrix: row count, column means, centred co-moment (spec section 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Unpack

import numpy as np
import xarray as xr
from scipy.linalg import blas

from aria.io.streaming import Streaming, iter_blocks
from aria.io.validate import QUERY, check_finite
from aria.params import STREAMING, validate_params

__all__ = ["SAFE_EXPONENT", "GramStats", "gram_stats", "scale_exponent"]

#: A matrix whose largest magnitude lies in ``[2**-SAFE_EXPONENT, 2**SAFE_EXPONENT)`` (about
#: 1e-60 to 1e60) is used as it is; any other is scaled by a power of two (see :func:`gram_stats`).
SAFE_EXPONENT = 200


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
    scale_exponent : int
        ``e``: ``mean`` and ``comoment`` (and everything derived from them here) are those of
        ``2**-e S``, exactly. 0, i.e. the matrix itself, unless its largest magnitude is outside
        ``[2**-SAFE_EXPONENT, 2**SAFE_EXPONENT)`` (:func:`scale_exponent`); multiply a mean by
        ``2**e`` and a co-moment by ``4**e`` (``numpy.ldexp``) for the matrix's own units.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.diagnostics.stats import GramStats
    >>> g = GramStats(n=2, mean=np.array([1.0, 3.0]), comoment=np.array([[2.0, 0.0], [0.0, 8.0]]))
    >>> g.column_sums.tolist(), g.gram().tolist()  # sums n * mean; Gram = comoment + n mean mean^T
    ([2.0, 6.0], [[4.0, 6.0], [6.0, 26.0]])
    """

    n: int
    mean: np.ndarray
    comoment: np.ndarray
    scale_exponent: int = 0

    @property
    def column_sums(self) -> np.ndarray:
        """Column sums ``sum_i S[i, q]``."""
        return self.mean * self.n

    def gram(self) -> np.ndarray:
        """Uncentred Gram matrix ``G = S^T S = comoment + n mean mean^T``."""
        return self.comoment + self.n * np.outer(self.mean, self.mean)


def scale_exponent(max_abs: float) -> int:
    """Power of two by which :func:`gram_stats` divides a matrix whose largest magnitude is ``max_abs``.

    0 when ``max_abs`` is 0 or lies in ``[2**-SAFE_EXPONENT, 2**SAFE_EXPONENT)``; otherwise the
    ``e`` with ``max_abs / 2**e`` in ``[0.5, 1)``, so that squares and sums of squares of the
    scaled values neither overflow nor underflow.

    Parameters
    ----------
    max_abs : float
        Largest absolute value of the matrix (finite, >= 0).

    Returns
    -------
    int

    Examples
    --------
    >>> scale_exponent(3.0), scale_exponent(1e200), scale_exponent(2.0 ** -300)
    (0, 665, -299)
    """
    if max_abs == 0:
        return 0
    e = math.frexp(max_abs)[1]
    return 0 if -SAFE_EXPONENT < e <= SAFE_EXPONENT else e


@validate_params({"scores": "scores", **STREAMING})
def gram_stats(scores: xr.DataArray, **streaming: Unpack[Streaming]) -> GramStats:
    """One streaming pass: row count, column means and centred co-moment.

    Each fixed-size block is centred on its own mean; block co-moments are
    accumulated with a symmetric rank-k update (BLAS ``dsyrk``) and Chan et
    al.'s between-block correction terms ``n_a n_b / n (m_b - m_a)(m_b - m_a)^T``
    are summed at the end with one more ``dsyrk``. Values are checked for
    NaN/Inf as they stream.

    Scale: the statistics are those of ``2**-e S`` with ``e = scale_exponent(max |S|)``, so that
    a finite matrix of any magnitude (1e200 or 1e-200 times a normal one) gives the diagnostics
    of the normal one instead of overflowing or underflowing. ``e`` is 0 (nothing is scaled) for
    every matrix whose largest magnitude lies in ``[2**-200, 2**200)``. Otherwise each block is
    multiplied by ``2**-e`` before it is used; when a later block raises the running maximum to
    a new ``e``, the sums so far are rescaled by the power of two between the two. Multiplying
    by a power of two is exact (short of the subnormal range), so the result is the one a pass
    knowing ``e`` from the start would give, whatever the order of the blocks' magnitudes.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segment x query).
    **streaming
        ``block_rows``, ``chunk_rows``, ``progress``: see :class:`aria.io.streaming.Streaming`.

    Returns
    -------
    GramStats
        Row count, column means and centred co-moment (of ``2**-e S``, see above).

    Examples
    --------
    >>> import numpy as np, aria
    >>> from aria.diagnostics.stats import gram_stats
    >>> x = np.array([[1.0, 2.0], [3.0, 0.0], [5.0, 4.0]])
    >>> g = gram_stats(aria.scores_from_array(x), block_rows=2)
    >>> bool(np.allclose(g.comoment, (x - x.mean(0)).T @ (x - x.mean(0))))
    True
    """
    n_total, q = scores.shape
    qids = np.asarray(scores.coords[QUERY].values) if QUERY in scores.coords else None
    source = str(scores.attrs.get("source", ""))
    comoment = np.zeros((q, q), dtype=np.float64, order="F")
    mean = np.zeros(q, dtype=np.float64)
    corrections: list[np.ndarray] = []
    n = 0
    max_abs, e = 0.0, 0
    for start, block in iter_blocks(scores, **streaming):
        check_finite(block, start, qids, source)
        if block.size:
            block_max = max(float(block.max()), -float(block.min()))
            if block_max > max_abs:
                max_abs = block_max
                new_e = scale_exponent(max_abs)
                if new_e != e:  # rescale the sums so far (exact: powers of two)
                    np.ldexp(comoment, 2 * (e - new_e), out=comoment)
                    mean = np.ldexp(mean, e - new_e)
                    corrections = [np.ldexp(c, e - new_e) for c in corrections]
                    e = new_e
            if e:
                np.ldexp(block, -e, out=block)
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
    return GramStats(n=n, mean=np.asarray(mean), comoment=np.ascontiguousarray(comoment),
                     scale_exponent=e)
