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

__all__ = ["merge_stats", "partial_stats", "gram_stats_cluster",
           "subset_scores_cluster", "track_moments_cluster"]


def _chunks(source: RowSource | np.ndarray, start: int, stop: int, step: int):
    """``(first row, rows)`` of rows ``[start, stop)``, ``step`` rows at a time (inside a task)."""
    for a in range(start, stop, step):
        b = min(stop, a + step)
        yield a, (source[a - start:b - start] if isinstance(source, np.ndarray) else source.read(a, b))


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
    for a, rows in _chunks(source, start, stop, step):
        b = a + rows.shape[0]
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


def _report(futures: list, parts: list[tuple[int, int]], progress: Callable[[int], None] | None) -> None:
    """Call ``progress`` with the rows of each task as it finishes (stop at the first error)."""
    if progress is None:
        return
    from distributed import as_completed

    sizes = {f.key: b - a for f, (a, b) in zip(futures, parts, strict=True)}
    for f in as_completed(futures):
        if f.status == "error":
            break
        progress(sizes[f.key])


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
    n, q = scores.shape
    source = row_source(scores)
    qids = np.asarray(scores.coords["query"].values).astype(str)
    parts = partitions(n, q, block_rows=block_rows, task_bytes=task_bytes)
    payloads = _payloads(scores, source, parts)
    futures = [client.submit(partial_stats, payload, a, b, block_rows, qids, task_bytes, pure=False,
                             retries=2)
               for payload, (a, b) in zip(payloads, parts, strict=True)]
    _report(futures, parts, progress)
    merged = _tree(client, futures).result()
    upper = np.triu(merged.comoment)
    merged.comoment = np.ascontiguousarray(upper + np.triu(upper, 1).T)
    return merged


def _subset_task(source: RowSource | np.ndarray, start: int, stop: int, mask: np.ndarray,
                 step: int) -> np.ndarray:
    out = np.zeros((mask.shape[0], source.shape[1]))
    for a, rows in _chunks(source, start, stop, step):
        out += mask[:, a - start:a - start + rows.shape[0]].astype(np.float64) @ rows
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


def _moments_task(source: RowSource | np.ndarray, start: int, stop: int, rows_track: np.ndarray,
                  counts: np.ndarray, shift: np.ndarray, step: int) -> tuple:
    """Track moments of rows ``[start, stop)`` (one task; runs on a worker).

    Returns ``(total, sumsq, between, ids, sums)``: the tracks whose segments all lie in the range
    are folded into ``between``; the others' partial sums ``sums`` (one row per track in ``ids``)
    go back to the client, which adds them up over the tasks.
    """
    q = source.shape[1]
    ids, local = np.unique(rows_track[rows_track >= 0], return_inverse=True)
    sums, total, sumsq = np.zeros((ids.size, q)), np.zeros(q), np.zeros(q)
    for a, rows in _chunks(source, start, stop, step):
        t = rows_track[a - start:a - start + rows.shape[0]]
        keep = t >= 0
        if not keep.any():
            continue
        b = np.asarray(rows, dtype=np.float64)[keep] - shift
        total += b.sum(axis=0)
        sumsq += (b * b).sum(axis=0)
        li = np.searchsorted(ids, t[keep])
        order = np.argsort(li, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(li[order]) != 0])
        sums[li[order][starts]] += np.add.reduceat(b[order], starts, axis=0)
    complete = np.bincount(local, minlength=ids.size) == counts[ids]
    between = (sums[complete] ** 2 / counts[ids[complete]][:, None]).sum(axis=0)
    return total, sumsq, between, ids[~complete], sums[~complete]


def track_moments_cluster(scores, client: Any, rows_track: np.ndarray, counts: np.ndarray,
                          shift: np.ndarray, *, block_rows: int = DEFAULT_BLOCK_ROWS,
                          task_bytes: int = DEFAULT_TASK_BYTES,
                          progress: Callable[[int], None] | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sums of :func:`aria.diagnostics.reliability_score.track_moments` on a dask cluster.

    Each task reads its fixed row range (:func:`~aria.scale.sources.partitions`); the client
    adds the tasks' results in partition order and then the squared sums of the tracks that span
    tasks in track order, so the result is the same on any number of workers (and equals the
    single-process pass up to rounding).

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (N x Q), as for :func:`gram_stats_cluster`.
    client : distributed.Client
        The cluster.
    rows_track : numpy.ndarray
        (N,) index of each row's track among the used tracks (-1 = row left out).
    counts : numpy.ndarray
        (M',) segments of each used track.
    shift : numpy.ndarray
        (Q,) values subtracted from every row.
    block_rows, task_bytes : int
        Partition parameters.
    progress : callable, optional
        Called with the number of rows of each finished task.

    Returns
    -------
    between_sumsq, total, sumsq : numpy.ndarray
        (Q,) each.

    Examples
    --------
    >>> import aria, distributed
    >>> s = aria.scores_from_array(np.array([[1.0], [3.0], [0.0], [2.0]]), segment_track=[0, 0, 1, 1])
    >>> with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as c:
    ...     with distributed.Client(c) as client:
    ...         out = track_moments_cluster(s, client, np.array([0, 0, 1, 1]), np.array([2, 2]), np.zeros(1))
    >>> [v.tolist() for v in out]  # between = 4^2/2 + 2^2/2, total = 6, sumsq = 14
    [[10.0], [6.0], [14.0]]
    """
    n, q = scores.shape
    source = row_source(scores)
    parts = partitions(n, q, block_rows=block_rows, task_bytes=task_bytes)
    step = chunk_rows(q, block_rows=block_rows, task_bytes=task_bytes)
    counts, shift = np.asarray(counts), np.asarray(shift, dtype=np.float64)
    futures = [client.submit(_moments_task, payload, a, b, rows_track[a:b], counts, shift, step,
                             pure=False, retries=2)
               for payload, (a, b) in zip(_payloads(scores, source, parts), parts, strict=True)]
    _report(futures, parts, progress)
    total, sumsq, between = np.zeros(q), np.zeros(q), np.zeros(q)
    open_sums: dict[int, np.ndarray] = {}
    for f in futures:  # partition order, whatever order the tasks finished in
        t, s2, btw, ids, sums = f.result()
        total += t
        sumsq += s2
        between += btw
        for i, row in zip(ids.tolist(), sums, strict=True):
            open_sums[i] = open_sums[i] + row if i in open_sums else row
    for i in sorted(open_sums):
        between += open_sums[i] ** 2 / counts[i]
    return between, total, sumsq
