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
    """
    rows = max(1, chunk_bytes // (8 * max(1, n_queries)))
    return max(block_rows, (rows // block_rows) * block_rows)


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
