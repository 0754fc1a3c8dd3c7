"""Row sources a dask worker can open by itself: ``.npy`` files, folders of ``.npy`` row shards, zarr.

A :class:`RowSource` is a small picklable description (paths, offsets, variable names), never the
data: each task opens the file on its worker and reads only its rows, so the client sends kilobytes,
not the matrix. A matrix held in memory (no file behind it) is split into row slices and scattered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aria.errors import AriaInputError

__all__ = ["RowSource", "row_source", "open_npy_shards", "partitions", "chunk_rows", "DEFAULT_TASK_BYTES",
           "MIN_ROWS_PER_QUERY"]

#: Target float64 bytes of one task's rows (fixed, so results never depend on the cluster size).
DEFAULT_TASK_BYTES = 64 * 2**20


@dataclass
class RowSource:
    """Where a worker finds rows ``[start, stop)`` of a score matrix (segment x query).

    Attributes
    ----------
    kind : str
        ``"npy"`` (one file, memory-mapped), ``"shards"`` (several ``.npy`` files stacked by rows),
        ``"zarr"`` (a store path or fsspec URL and a variable) or ``"memory"``.
    shape : tuple of int
        ``(n_segments, n_queries)``.
    paths : list of str
        Files (``npy``: one; ``shards``: in row order).
    rows : list of int
        Rows of each shard.
    transpose : bool
        The file holds queries x segments.
    variable : str or None
        zarr variable; ``dims`` its dimension names, segment dim first after ``transpose``.
    """

    kind: str
    shape: tuple[int, int]
    paths: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    transpose: bool = False
    variable: str | None = None
    dims: tuple[str, str] | None = None
    data: Any = None  # in-memory array ("memory" kind only, never sent as a whole)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` as a C-ordered float64 array (run on a worker)."""
        if self.kind == "npy":
            arr = np.load(self.paths[0], mmap_mode="r", allow_pickle=False)
            part = arr[:, start:stop].T if self.transpose else arr[start:stop]
            return np.array(part, dtype=np.float64, order="C")
        if self.kind == "shards":
            bounds = np.concatenate([[0], np.cumsum(self.rows)])
            pieces = []
            for i, path in enumerate(self.paths):
                lo, hi = max(start, bounds[i]), min(stop, bounds[i + 1])
                if lo < hi:
                    arr = np.load(path, mmap_mode="r", allow_pickle=False)
                    pieces.append(np.asarray(arr[lo - bounds[i]:hi - bounds[i]], dtype=np.float64))
            return np.ascontiguousarray(np.concatenate(pieces, axis=0))
        if self.kind == "zarr":
            import xarray as xr

            ds = xr.open_zarr(self.paths[0], consolidated=None)
            da = ds[self.variable]
            seg, qry = self.dims
            part = da.isel({seg: slice(start, stop)}).transpose(seg, qry)
            return np.ascontiguousarray(np.asarray(part.values, dtype=np.float64))
        if self.kind == "memory":
            return np.array(self.data[start:stop], dtype=np.float64, order="C")
        raise AriaInputError(f"unknown row source kind {self.kind!r}")  # pragma: no cover

    def describe(self) -> dict[str, Any]:
        """What the source is, for provenance records (no data)."""
        return {"kind": self.kind, "shape": list(self.shape), "paths": list(self.paths),
                "transpose": self.transpose, "variable": self.variable}


#: A task covers at least this many rows per query, so the Q x Q partial it sends back is at
#: most 1/16 of the float32 rows it read (network traffic stays far below the data size).
MIN_ROWS_PER_QUERY = 32


def chunk_rows(n_queries: int, *, block_rows: int, task_bytes: int = DEFAULT_TASK_BYTES) -> int:
    """Rows read at a time inside a task: a multiple of ``block_rows`` near ``task_bytes`` of float64."""
    rows = max(1, task_bytes // (8 * max(1, n_queries)))
    return max(block_rows, (rows // block_rows) * block_rows)


def partitions(n_rows: int, n_queries: int, *, block_rows: int,
               task_bytes: int = DEFAULT_TASK_BYTES) -> list[tuple[int, int]]:
    """Fixed row ranges, one per task.

    A task reads :func:`chunk_rows` rows at a time and covers at least
    ``MIN_ROWS_PER_QUERY * n_queries`` rows (rounded to whole chunks). The ranges depend only on
    the matrix shape and these parameters, never on the number of workers, so a result is the
    same on any cluster.

    Examples
    --------
    >>> partitions(100, 1, block_rows=4, task_bytes=64)
    [(0, 32), (32, 64), (64, 96), (96, 100)]
    """
    chunk = chunk_rows(n_queries, block_rows=block_rows, task_bytes=task_bytes)
    rows = max(chunk, -(-MIN_ROWS_PER_QUERY * n_queries // chunk) * chunk)
    return [(a, min(n_rows, a + rows)) for a in range(0, n_rows, rows)]


def _npy_shape(path: str) -> tuple[tuple[int, ...], bool]:
    with open(path, "rb") as fh:
        major, _ = np.lib.format.read_magic(fh)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, fortran, _ = read(fh)
    return shape, fortran


def open_npy_shards(folder: str | os.PathLike[str]):
    """A folder of ``.npy`` row shards (sorted by name) as one lazy matrix.

    Parameters
    ----------
    folder : path-like
        Folder holding ``*.npy`` files with the same number of columns, stacked by rows in file-name
        order (``part-00000.npy``, ``part-00001.npy``, ...).

    Returns
    -------
    xarray.DataArray
        Lazy (dask) matrix, dims ``segment`` x ``query``, ``attrs["format"] == "npy-shards"``.
    """
    import dask.array as da_
    import xarray as xr

    paths = sorted(str(p) for p in Path(folder).glob("*.npy"))
    if not paths:
        raise AriaInputError(f"{folder}: no .npy shards in this folder")
    arrays, q = [], None
    for p in paths:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
        if arr.ndim != 2 or (q is not None and arr.shape[1] != q):
            raise AriaInputError(f"{p}: every shard must be 2-D with the same number of columns "
                                 f"(got shape {arr.shape})")
        q = arr.shape[1]
        arrays.append(da_.from_array(arr, chunks=(max(1, min(arr.shape[0], 65536)), q)))
    stacked = da_.concatenate(arrays, axis=0)
    n = stacked.shape[0]
    out = xr.DataArray(stacked, dims=("segment", "query"),
                       coords={"segment": np.arange(n), "query": np.array([f"q{j}" for j in range(q)]),
                               "track": ("segment", np.arange(n, dtype=np.int64))},
                       attrs={"source": str(folder), "format": "npy-shards"})
    return out


def row_source(scores) -> RowSource:
    """The :class:`RowSource` behind a labelled matrix from :func:`aria.load_scores`.

    ``.npy`` files are re-opened on the workers (memory-mapped, so they must sit on storage every
    worker sees), folders of shards likewise, zarr stores by path or URL; any other matrix is read
    on the client and its row slices are scattered to the workers.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segment x query) with ``attrs["source"]`` and ``attrs["format"]``.

    Returns
    -------
    RowSource
    """
    shape = (int(scores.shape[0]), int(scores.shape[1]))
    fmt = scores.attrs.get("format")
    src = scores.attrs.get("source")
    if fmt == "npy" and src and Path(src).is_file():
        fshape, fortran = _npy_shape(src)
        if not fortran and len(fshape) == 2:
            if tuple(fshape) == shape:
                return RowSource("npy", shape, [str(Path(src).resolve())])
            if tuple(fshape[::-1]) == shape:
                return RowSource("npy", shape, [str(Path(src).resolve())], transpose=True)
    if fmt == "npy-shards" and src:
        paths = sorted(str(Path(p).resolve()) for p in Path(src).glob("*.npy"))
        rows = [_npy_shape(p)[0][0] for p in paths]
        return RowSource("shards", shape, paths, rows)
    if fmt == "zarr" and src and scores.attrs.get("variable"):
        return RowSource("zarr", shape, [src], variable=scores.attrs["variable"],
                         dims=tuple(scores.attrs["source_dims"]))
    return RowSource("memory", shape, data=scores)
