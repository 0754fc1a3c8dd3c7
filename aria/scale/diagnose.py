"""Reliability diagnostics on a dask cluster: per-task partial statistics merged in a fixed tree.

Each task reads its own fixed row range (:func:`aria.scale.sources.partitions`) on a worker and
runs the single-process pass (:func:`aria.diagnostics.stats.gram_stats`, the same per-block
centring and Chan et al. update) on it. The partial statistics ``(n, mean, centred co-moment)`` are
merged pairwise in a binary tree whose shape depends only on the number of partitions::

    n = n_a + n_b,  delta = m_b - m_a,  m = m_a + delta n_b / n,
    M = M_a + M_b + (n_a n_b / n) delta delta^T

so the result is the same on any number of workers, and equals the single-process pass to about
1e-15 relative (the merge order differs). A lost worker's tasks are rerun by dask from the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from aria.diagnostics.stats import GramStats, gram_stats
from aria.io.streaming import DEFAULT_BLOCK_ROWS
from aria.scale.sources import DEFAULT_TASK_BYTES, RowSource, chunk_rows, partitions, row_source

__all__ = ["merge_stats", "partial_stats", "gram_stats_cluster", "diagnose_cluster", "rank1_cluster",
           "subset_scores_cluster"]


def merge_stats(a: GramStats, b: GramStats) -> GramStats:
    """Merge the statistics of two disjoint row sets (Chan et al.'s pairwise update).

    Parameters
    ----------
    a, b : GramStats
        Statistics of rows ``A`` and ``B``.

    Returns
    -------
    GramStats
        Statistics of ``A`` followed by ``B``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from aria.diagnostics.stats import gram_stats
    >>> x = np.arange(12.0).reshape(6, 2) ** 2
    >>> da = lambda v: xr.DataArray(v, dims=("segment", "query"))
    >>> m = merge_stats(gram_stats(da(x[:2])), gram_stats(da(x[2:])))
    >>> bool(np.allclose(m.comoment, np.cov(x.T, ddof=0) * 6))
    True
    """
    n = a.n + b.n
    if a.n == 0:
        return b
    if b.n == 0:
        return a
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.n / n)
    comoment = a.comoment + b.comoment + np.outer(delta, delta) * (a.n * b.n / n)
    return GramStats(n=n, mean=mean, comoment=comoment)


def partial_stats(source: RowSource | np.ndarray, start: int, stop: int, block_rows: int,
                  query_ids: np.ndarray | None = None, task_bytes: int = DEFAULT_TASK_BYTES) -> GramStats:
    """Statistics of rows ``[start, stop)`` (one task; runs on a worker).

    The rows are read :func:`~aria.scale.sources.chunk_rows` at a time; each chunk goes through
    the single-process pass and the chunks are merged in order with :func:`merge_stats`.

    Parameters
    ----------
    source : RowSource or numpy.ndarray
        Where the rows are (an array: the rows themselves).
    start, stop : int
        Row range (absolute row numbers, used in error messages).
    block_rows : int
        Computation block size of the single-process pass.
    query_ids : numpy.ndarray, optional
        Query labels, for messages about non-finite values.
    task_bytes : int
        float64 bytes read at a time.

    Returns
    -------
    GramStats
    """
    import xarray as xr

    q = source.shape[1]
    step = chunk_rows(q, block_rows=block_rows, task_bytes=task_bytes)
    coords = {"query": query_ids} if query_ids is not None else {}
    total = GramStats(0, np.zeros(q), np.zeros((q, q)))
    for a in range(start, stop, step):
        b = min(stop, a + step)
        rows = source[a - start:b - start] if isinstance(source, np.ndarray) else source.read(a, b)
        da = xr.DataArray(rows, dims=("segment", "query"), coords=coords,
                          attrs={"source": f"rows {a}..{b - 1}"})
        total = merge_stats(total, gram_stats(da, block_rows=block_rows, chunk_rows=b - a))
    return total


def _payloads(scores, source: RowSource, parts: list[tuple[int, int]]) -> list:
    """What each task gets: the (small) source description, or its rows for an in-memory matrix.

    Nothing is scattered: data held only by a worker is lost with it, while task arguments let the
    scheduler rerun a lost worker's tasks elsewhere. An in-memory matrix therefore travels inside
    the task graph: fine for small matrices; large ones belong in a file the workers can open.
    """
    if source.kind == "memory":
        return [np.asarray(scores[a:b].values) for a, b in parts]
    return [source] * len(parts)


def _tree(client: Any, futures: list) -> Any:
    level = list(futures)
    while len(level) > 1:
        nxt = [client.submit(merge_stats, level[i], level[i + 1], pure=False)
               for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def gram_stats_cluster(scores, client: Any, *, block_rows: int = DEFAULT_BLOCK_ROWS,
                       task_bytes: int = DEFAULT_TASK_BYTES,
                       progress: Callable[[int], None] | None = None) -> GramStats:
    """The statistics of :func:`aria.diagnostics.stats.gram_stats`, computed on a dask cluster.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix from :func:`aria.load_scores` (``.npy``, ``.npy`` shards or zarr are re-opened
        by the workers; anything else is scattered from here).
    client : distributed.Client
        The cluster.
    block_rows : int
        Computation block size inside each task.
    task_bytes : int
        float64 bytes of rows per task (fixes the partition, hence the result).
    progress : callable, optional
        Called with the number of rows of each finished task.

    Returns
    -------
    GramStats
    """
    from distributed import as_completed

    n, q = scores.shape
    source = row_source(scores)
    qids = np.asarray(scores.coords["query"].values).astype(str)
    parts = partitions(n, q, block_rows=block_rows, task_bytes=task_bytes)
    payloads = _payloads(scores, source, parts)
    futures = [client.submit(partial_stats, payload, a, b, block_rows, qids, task_bytes, pure=False,
                             retries=2)
               for payload, (a, b) in zip(payloads, parts, strict=True)]
    if progress is not None:
        sizes = {f.key: b - a for f, (a, b) in zip(futures, parts, strict=True)}
        for f in as_completed(futures):
            if f.status == "error":
                break
            progress(sizes[f.key])
    merged = _tree(client, futures).result()
    upper = np.triu(merged.comoment)
    merged.comoment = np.ascontiguousarray(upper + np.triu(upper, 1).T)
    return merged


def diagnose_cluster(scores, client: Any, *, thresholds=None, spectrum_length: int = 20,
                     block_rows: int = DEFAULT_BLOCK_ROWS, task_bytes: int = DEFAULT_TASK_BYTES,
                     progress: Callable[[int], None] | None = None):
    """:func:`aria.diagnose` on a dask cluster (same result to about 1e-15 relative).

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix.
    client : distributed.Client
        The cluster.
    thresholds, spectrum_length, block_rows :
        As for :func:`aria.diagnose`.
    task_bytes : int
        float64 bytes of rows per task.
    progress : callable, optional
        Called with the number of rows of each finished task.

    Returns
    -------
    aria.diagnostics.reliability.Diagnostics
    """
    from aria.diagnostics.reliability import diagnose_stats
    from aria.io.validate import validate_scores

    validate_scores(scores)
    stats = gram_stats_cluster(scores, client, block_rows=block_rows, task_bytes=task_bytes,
                               progress=progress)
    qids = np.asarray(scores.coords["query"].values).astype(str)
    result = diagnose_stats(stats, qids, thresholds=thresholds, spectrum_length=spectrum_length)
    result.parameters.update(block_rows=block_rows)
    return result


def _residual_task(source: RowSource | np.ndarray, start: int, stop: int, v1: np.ndarray,
                   store: str | None, dtype: str, step: int) -> np.ndarray:
    proj = np.empty(stop - start)
    arr = None
    if store is not None:
        import zarr

        arr = zarr.open_array(store, mode="r+")
    for a in range(start, stop, step):
        b = min(stop, a + step)
        rows = source[a - start:b - start] if isinstance(source, np.ndarray) else source.read(a, b)
        proj[a - start:b - start] = p = rows @ v1
        if arr is not None:
            arr[a:b] = (rows - np.outer(p, v1)).astype(dtype)
    return proj


def rank1_cluster(scores, diag, client: Any, *, store: str | None = None, dtype: str | None = None,
                  block_rows: int = DEFAULT_BLOCK_ROWS, task_bytes: int = DEFAULT_TASK_BYTES):
    """``u_1 = S v_1 / sigma_1`` on a cluster, and optionally the rank-1 residual written to zarr.

    Every task writes its own rows of the residual into a zarr array whose chunks are the task
    partitions, so no two tasks touch the same chunk; the store is written into a temporary name
    and renamed into place once every task has finished.

    Parameters
    ----------
    scores : xarray.DataArray
        The matrix the diagnostics were computed on.
    diag : Diagnostics
        Its diagnostics.
    client : distributed.Client
        The cluster.
    store : str, optional
        Destination ``.zarr`` folder (on storage the workers share) for the residual
        (dims ``segment`` x ``query``).
    dtype : str, optional
        Residual dtype (default: the input's float dtype, float64 for integers).
    block_rows, task_bytes : int
        Partition parameters.

    Returns
    -------
    aria.diagnostics.residual.Rank1Axis
    """
    import os
    import shutil
    from pathlib import Path

    from aria.diagnostics.residual import Rank1Axis, _check

    _check(scores, diag)
    n, q = scores.shape
    parts = partitions(n, q, block_rows=block_rows, task_bytes=task_bytes)
    source = row_source(scores)
    if dtype is None:
        dtype = str(scores.dtype) if np.dtype(scores.dtype).kind == "f" else "float64"
    tmp = None
    if store is not None:
        import zarr

        final = Path(store)
        tmp = final.with_name(f".{final.name}.part-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        zarr.create_array(str(tmp), shape=(n, q), dtype=dtype,
                          chunks=(chunk_rows(q, block_rows=block_rows, task_bytes=task_bytes), q))
    payloads = _payloads(scores, source, parts)
    step = chunk_rows(q, block_rows=block_rows, task_bytes=task_bytes)
    futures = [client.submit(_residual_task, p, a, b, diag.v1, None if tmp is None else str(tmp), dtype,
                             step, pure=False, retries=2) for p, (a, b) in zip(payloads, parts, strict=True)]
    u1 = np.concatenate(client.gather(futures)) / diag.sigma_1
    if tmp is not None:
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    return Rank1Axis(diag.sigma_1, u1, diag.v1.copy(), np.asarray(scores.coords["track"].values))


def _subset_task(source: RowSource | np.ndarray, start: int, stop: int, mask: np.ndarray,
                 step: int) -> np.ndarray:
    out = np.zeros((mask.shape[0], source.shape[1]))
    for a in range(start, stop, step):
        b = min(stop, a + step)
        rows = source[a - start:b - start] if isinstance(source, np.ndarray) else source.read(a, b)
        out += mask[:, a - start:b - start].astype(np.float64) @ rows
    return out


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a + b


def subset_scores_cluster(scores, subsets: np.ndarray, client: Any, *, block_rows: int = DEFAULT_BLOCK_ROWS,
                          task_bytes: int = DEFAULT_TASK_BYTES) -> np.ndarray:
    """LDS's predicted subset scores ``P = M S`` on a cluster (partial products summed in a fixed tree).

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (N x Q).
    subsets : numpy.ndarray
        Boolean mask (n_subsets, N).
    client : distributed.Client
        The cluster.
    block_rows, task_bytes : int
        Partition parameters.

    Returns
    -------
    numpy.ndarray
        float64 (n_subsets, Q), equal to :func:`aria.evaluate.lds.subset_scores` to rounding.
    """
    n, q = scores.shape
    parts = partitions(n, q, block_rows=block_rows, task_bytes=task_bytes)
    payloads = _payloads(scores, row_source(scores), parts)
    step = chunk_rows(q, block_rows=block_rows, task_bytes=task_bytes)
    level = [client.submit(_subset_task, p, a, b, subsets[:, a:b], step, pure=False, retries=2)
             for p, (a, b) in zip(payloads, parts, strict=True)]
    while len(level) > 1:
        nxt = [client.submit(_add, level[i], level[i + 1], pure=False) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].result()
