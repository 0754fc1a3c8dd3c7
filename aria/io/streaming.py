"""Row-block iteration over score matrices that may not fit in memory.

Blocks have a fixed size (``block_rows``) aligned to absolute row indices, so
any statistic accumulated block by block in order is bit-identical whatever
the I/O chunk size. Memory-mapped files are read a chunk at a time and the
chunk's pages are released afterwards, so resident memory stays bounded as the
file grows.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator
from typing import TypedDict

import numpy as np
import xarray as xr

from aria.params import STREAMING, validate_params

#: Default number of rows per computation block.
DEFAULT_BLOCK_ROWS = 2048
#: Default target size of one I/O chunk, in bytes of float64.
DEFAULT_CHUNK_BYTES = 128 * 2**20


def chunk_rows_for(n_queries: int, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                   block_rows: int = DEFAULT_BLOCK_ROWS) -> int:
    """Rows per I/O chunk: a multiple of ``block_rows`` near ``chunk_bytes`` of float64.

    Parameters
    ----------
    n_queries : int
        Number of columns.
    chunk_bytes : int
        Target bytes per chunk once converted to float64.
    block_rows : int
        Computation block size; the result is a multiple of it.

    Returns
    -------
    int
        Rows per chunk (at least ``block_rows``).

    Examples
    --------
    >>> from aria.io.streaming import chunk_rows_for
    >>> chunk_rows_for(1000), chunk_rows_for(1000) % 2048
    (16384, 0)
    >>> chunk_rows_for(10**7)
    2048
    """
    rows = max(1, chunk_bytes // (8 * max(1, n_queries)))
    return max(block_rows, (rows // block_rows) * block_rows)


class Streaming(TypedDict, total=False):
    """The streaming keywords of every function that reads a score matrix in row blocks.

    Those functions take them as ``**streaming`` and pass them on to :func:`iter_blocks`;
    their constraints are :data:`aria.params.STREAMING`.

    Attributes
    ----------
    block_rows : int
        Rows per computation block (default :data:`DEFAULT_BLOCK_ROWS`): a reproducibility
        parameter, results are bit-identical for any ``chunk_rows`` at a fixed ``block_rows``.
    chunk_rows : int or None
        Rows read from storage at a time, rounded up to a multiple of ``block_rows``
        (default: about 128 MiB of float64).
    progress : callable or None
        Called with the number of rows just processed, once per block.

    Examples
    --------
    >>> import numpy as np, aria
    >>> from aria.io.streaming import Streaming
    >>> opts = Streaming(block_rows=2, chunk_rows=4)
    >>> aria.diagnose(aria.scores_from_array(np.eye(6)), **opts).parameters["block_rows"]
    2
    """

    block_rows: int
    chunk_rows: int | None
    progress: Callable[[int], None] | None


def _find_mmap(arr: np.ndarray) -> mmap.mmap | None:
    obj = arr
    while obj is not None:
        mm = getattr(obj, "_mmap", None)
        if isinstance(mm, mmap.mmap):
            return mm
        obj = getattr(obj, "base", None)
    return None


def _release(mm: mmap.mmap | None) -> None:
    """Drop the mapping's pages from this process's resident set (they stay in the page cache)."""
    if mm is None or not hasattr(mm, "madvise"):
        return
    try:
        mm.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError):  # pragma: no cover - platform without madvise
        pass


@validate_params({"scores": "scores", **STREAMING})
def iter_blocks(
    scores: xr.DataArray,
    *,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    chunk_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_row, block)`` pairs, each block a C-ordered float64 copy.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segment x query), in memory, memory-mapped or lazy.
    block_rows : int
        Rows per yielded block (the last one may be shorter).
    chunk_rows : int, optional
        Rows read from storage at a time; rounded up to a multiple of
        ``block_rows``. Default: about 128 MiB of float64.
    progress : callable, optional
        Called with the number of rows just processed, once per block.

    Yields
    ------
    tuple of (int, numpy.ndarray)
        Index of the block's first row and the block as float64.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.io.streaming import iter_blocks
    >>> s = aria.scores_from_array(np.arange(10.0).reshape(5, 2))
    >>> [(start, block.shape) for start, block in iter_blocks(s, block_rows=2)]
    [(0, (2, 2)), (2, (2, 2)), (4, (1, 2))]
    """
    n, q = scores.shape
    if chunk_rows is None:
        chunk_rows = chunk_rows_for(q, block_rows=block_rows)
    chunk_rows = max(block_rows, -(-int(chunk_rows) // block_rows) * block_rows)
    data = scores.data
    in_numpy = isinstance(data, np.ndarray)
    mm = _find_mmap(data) if in_numpy else None
    for start in range(0, n, chunk_rows):
        stop = min(n, start + chunk_rows)
        if in_numpy:
            chunk = np.array(data[start:stop], dtype=np.float64, order="C", copy=True)
        else:
            chunk = np.ascontiguousarray(
                np.asarray(scores.isel(segment=slice(start, stop)).values, dtype=np.float64)
            )
        _release(mm)
        for b in range(0, stop - start, block_rows):
            block = chunk[b:b + block_rows]
            yield start + b, block
            if progress is not None:
                progress(block.shape[0])
        del chunk
