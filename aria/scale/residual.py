"""The rank-1 axis and residual on a dask cluster: each task projects its rows, writes its own zarr chunks."""

from __future__ import annotations

from typing import Any

import numpy as np

from aria.io.streaming import DEFAULT_BLOCK_ROWS
from aria.scale.diagnose import _payloads
from aria.scale.sources import DEFAULT_TASK_BYTES, RowSource, chunk_rows, partitions, row_source


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
    scores, diag
        As in :func:`aria.diagnostics.residual.rank1_axis`.
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
