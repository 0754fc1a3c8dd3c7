"""Generic batch extraction: a worker pool, per-item error capture, shards and resume.

Shared by symbolic (MIDI) and audio extraction. The vocabulary:

*item* (:class:`Item`)
    ``(id, path, start, end, unit)``: one output row. ``start``/``end`` are None for a whole file;
    ``unit`` says how a span is measured (``"seconds"`` or ``"beats"``; the extractor interprets it).
*extractor*
    A picklable **top-level** function ``extractor(item, params) -> dict`` returning the feature
    columns of one item (``{column: value}``; vectors as lists or numpy arrays). ``params`` is any
    picklable mapping (typically the parsed channel set) sent once to every worker. It signals an
    expected failure (empty file, drum-only, ...) by raising :class:`ExtractionError` with a
    one-line reason; any other exception is captured the same way (reason
    ``"<ExceptionType>: <message>"``), so one bad file never stops the batch. Extractors that load
    a file once for several spans may cache the last file loaded: the items of one file are kept
    together in one task whenever possible.

Guarantees of :func:`extract_table`:

- rows come out in the order of ``items`` whatever the number of workers, so the written table
  is bit-identical for any ``workers``;
- with ``out``, finished rows are flushed every ``shard_size`` rows into numbered shard files in
  ``<out>.shards/`` (each written atomically), so a killed run loses at most the shard in
  progress; ``resume=True`` reuses rows found in those shards and in an existing ``out`` (same
  item, same channel-set fingerprint) and computes only the others (failed rows are retried);
- the final table is written atomically (then the shard directory is removed), with the
  channel-set name, fingerprint and Aria version in the Parquet key-value metadata;
- a worker that dies (segfault, out of memory) or a task that exceeds ``task_timeout`` stops the
  run with :class:`~aria.errors.AriaError` instead of hanging; finished shards are kept.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from aria.errors import AriaError, AriaInputError, ExtractionError
from aria.features.table import (
    FeatureSpec,
    read_feature_table,
    rows_to_table,
    write_feature_table,
)
from aria.io.atomic import atomic_open, atomic_path
from aria.params import Interval, Options, validate_params

__all__ = ["BatchResult", "ExtractionError", "Item", "extract_rows", "extract_table", "shard_dir_for"]

Extractor = Callable[["Item", Mapping[str, Any]], Mapping[str, Any]]
Progress = Callable[[int], None]

_MAX_REASON = 300


@dataclass(frozen=True)
class Item:
    """One row to extract.

    Attributes
    ----------
    id : str
        Track id (or span id) written to the ``track`` column; unique within a batch.
    path : str
        Input file.
    start, end : float or None
        Span limits (None for the whole file).
    unit : str or None
        Unit of ``start``/``end`` (``"seconds"`` or ``"beats"``), None for a whole file.
    """

    id: str
    path: str
    start: float | None = None
    end: float | None = None
    unit: str | None = None

    def key(self) -> tuple:
        """Identity of the row (used by resume to match stored rows)."""
        return (self.id, self.path, _num(self.start), _num(self.end), self.unit)

    def base_row(self) -> dict[str, Any]:
        """The non-feature columns of this item's row."""
        return {"track": self.id, "file": self.path, "start": self.start, "end": self.end,
                "unit": self.unit}


@dataclass
class BatchResult:
    """Outcome of :func:`extract_table`.

    Attributes
    ----------
    table : pyarrow.Table
        The feature table, rows in item order.
    n_ok, n_failed : int
        Rows with status ``ok`` / ``failed``.
    n_reused : int
        Rows taken from a previous run (``resume=True``) rather than computed.
    """

    table: pa.Table
    n_ok: int
    n_failed: int
    n_reused: int = 0


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if not isinstance(exc, ExtractionError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


def _extract_one(extractor: Extractor, params: Mapping[str, Any], item: Item) -> dict[str, Any]:
    row = item.base_row()
    try:
        features = extractor(item, params)
    except Exception as exc:  # per-item capture: a bad file must never stop the batch
        row.update(status="failed", error=_reason(exc))
        return row
    row.update(features)
    row.update(status="ok", error=None)
    return row


# --- worker side -------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(extractor: Extractor, params: Mapping[str, Any]) -> None:
    _WORKER["extractor"] = extractor
    _WORKER["params"] = params


def _run_chunk(items: Sequence[Item]) -> list[dict[str, Any]]:
    extractor, params = _WORKER["extractor"], _WORKER["params"]
    return [_extract_one(extractor, params, it) for it in items]


def _chunks(items: Sequence[Item], size: int) -> list[list[Item]]:
    """Split items into consecutive chunks of about ``size``, keeping a file's items together.

    A file's items are split only when it alone has more than ``2 * size`` items.
    """
    out: list[list[Item]] = []
    cur: list[Item] = []
    for it in items:
        if cur and len(cur) >= size and (it.path != cur[-1].path or len(cur) >= 2 * size):
            out.append(cur)
            cur = []
        cur.append(it)
    if cur:
        out.append(cur)
    return out


@validate_params({"workers": Interval(int, 1, None), "progress": [None, "callable"],
                  "chunk_size": [None, Interval(int, 1, None)],
                  "task_timeout": [None, Interval(float, 0, None, closed="neither")],
                  "mp_context": Options(("spawn", "fork", "forkserver"))})
def extract_rows(
    items: Sequence[Item],
    extractor: Extractor,
    params: Mapping[str, Any],
    *,
    workers: int = 1,
    progress: Progress | None = None,
    chunk_size: int | None = None,
    task_timeout: float | None = None,
    mp_context: str = "spawn",
) -> Iterator[dict[str, Any]]:
    """Extract items and yield their row dicts in item order.

    Parameters
    ----------
    items : sequence of Item
        Work list.
    extractor : callable
        Picklable top-level ``extractor(item, params) -> dict``.
    params : mapping
        Picklable parameters given to every call.
    workers : int
        Worker processes; 1 runs in this process (no pool).
    progress : callable, optional
        Called with the number of rows just finished.
    chunk_size : int, optional
        Items per task sent to a worker (default: balanced, at most 16).
    task_timeout : float, optional
        Seconds to wait for one task before declaring the pool hung (default: no limit).
    mp_context : str
        Multiprocessing start method (default ``"spawn"``: safe with threads and on every OS).

    Yields
    ------
    dict
        ``track``, ``file``, ``start``, ``end``, ``unit``, ``status``, ``error`` and the features.

    Raises
    ------
    AriaError
        A worker died or a task timed out.
    """
    if workers == 1 or len(items) <= 1:
        for it in items:
            row = _extract_one(extractor, params, it)
            if progress is not None:
                progress(1)
            yield row
        return
    if chunk_size is None:
        chunk_size = max(1, min(16, math.ceil(len(items) / (workers * 8))))
    chunks = _chunks(items, chunk_size)
    ctx = multiprocessing.get_context(mp_context)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(extractor, params))
    window: deque[tuple[list[Item], Future]] = deque()
    pending = iter(chunks)
    clean = False
    try:
        for chunk in pending:
            window.append((chunk, pool.submit(_run_chunk, chunk)))
            if len(window) >= 4 * workers:
                break
        while window:
            chunk, fut = window.popleft()
            try:
                rows = fut.result(timeout=task_timeout)
            except BrokenProcessPool:
                raise AriaError(
                    f"a worker process died while extracting {chunk[0].path!r} (or a file near it); "
                    "finished rows are kept: resume the run, or run it with one worker to find the file"
                ) from None
            except FutureTimeout:
                raise AriaError(
                    f"no result after {task_timeout:g} s for the task starting at {chunk[0].path!r}; "
                    "the pool was stopped"
                ) from None
            nxt = next(pending, None)
            if nxt is not None:
                window.append((nxt, pool.submit(_run_chunk, nxt)))
            if progress is not None:
                progress(len(rows))
            yield from rows
        clean = True
    finally:
        if clean:
            pool.shutdown(wait=True)
        else:
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                if proc.is_alive():
                    proc.terminate()


# --- shards and resume ---------------------------------------------------------------------------
def shard_dir_for(out: str | os.PathLike[str]) -> Path:
    """Directory holding the shards of an in-progress output: ``<out>.shards``."""
    out = Path(out)
    return out.with_name(out.name + ".shards")


def _row_key(row: Mapping[str, Any]) -> tuple:
    return (row["track"], row["file"], _num(row["start"]), _num(row["end"]), row["unit"])


def _table_keys(table: pa.Table) -> list[tuple]:
    cols = [table.column(c).to_pylist() for c in ("track", "file", "start", "end", "unit")]
    return [_row_key(dict(zip(("track", "file", "start", "end", "unit"), vals, strict=True)))
            for vals in zip(*cols, strict=True)]


def _conform(table: pa.Table, schema: pa.Schema, where: Path) -> pa.Table:
    try:
        return table.select(schema.names).cast(schema)
    except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise AriaInputError(f"resume: {where} does not have the expected columns ({exc}); "
                             "remove it or do not resume", parameter="resume") from None


def _stored_tables(out: Path, shard_dir: Path, fingerprint: str, schema: pa.Schema) -> list[pa.Table]:
    """Tables of a previous run, oldest first: the existing output, then its shards in order."""
    tables: list[pa.Table] = []
    if out.exists():
        table, meta = read_feature_table(out)
        if meta.get("aria.fingerprint") != fingerprint:
            raise AriaInputError(
                f"resume: {out} was built with different parameters or channel set "
                f"(fingerprint {meta.get('aria.fingerprint')!r}, now {fingerprint!r}); "
                "remove it or do not resume", parameter="resume"
            )
        tables.append(_conform(table, schema, out))
    if shard_dir.is_dir():
        manifest = shard_dir / "manifest.json"
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        if info.get("fingerprint") != fingerprint:
            raise AriaInputError(
                f"resume: shards in {shard_dir} were built with different parameters; "
                "remove that directory or do not resume", parameter="resume"
            )
        for shard in sorted(shard_dir.glob("shard-*.parquet")):
            try:
                table = pq.read_table(shard)
            except (pa.ArrowInvalid, OSError):  # a damaged shard is recomputed
                continue
            tables.append(_conform(table, schema, shard))
    return tables


@validate_params({"out": [None, "path"], "resume": "boolean", "workers": Interval(int, 1, None),
                  "progress": [None, "callable"], "shard_size": Interval(int, 1, None),
                  "chunk_size": [None, Interval(int, 1, None)],
                  "task_timeout": [None, Interval(float, 0, None, closed="neither")],
                  "mp_context": Options(("spawn", "fork", "forkserver"))})
def extract_table(
    items: Sequence[Item],
    extractor: Extractor,
    params: Mapping[str, Any],
    *,
    specs: Sequence[FeatureSpec],
    schema: pa.Schema,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    workers: int = 1,
    progress: Progress | None = None,
    shard_size: int = 256,
    chunk_size: int | None = None,
    task_timeout: float | None = None,
    mp_context: str = "spawn",
) -> BatchResult:
    """Extract every item into a feature table, optionally written to Parquet with shards/resume.

    Parameters
    ----------
    items : sequence of Item
        Work list, in output order; ids must be unique.
    extractor : callable
        Picklable top-level ``extractor(item, params) -> dict`` (see module docstring).
    params : mapping
        Parameters for the extractor.
    specs : sequence of FeatureSpec
        Feature columns (:func:`aria.features.table.feature_specs`).
    schema : pyarrow.Schema
        Output schema with key-value metadata (:func:`aria.features.table.table_schema`); its
        ``aria.fingerprint`` entry guards resume.
    out : path-like, optional
        Parquet destination; enables shards and resume. Without it nothing is written.
    resume : bool
        Reuse rows already present in ``out`` and its shards.
    workers : int
        Worker processes (1: in this process).
    progress : callable, optional
        Called with the number of rows just computed.
    shard_size : int
        Rows per shard file.
    chunk_size, task_timeout, mp_context
        See :func:`extract_rows`.

    Returns
    -------
    BatchResult

    Raises
    ------
    AriaInputError
        Duplicate item ids, or resuming from an output built with different parameters.
    AriaError
        A worker died or hung.
    """
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))
        raise AriaInputError(f"duplicate track id {dup!r}: track and span ids must be unique")
    meta = schema.metadata or {}
    fingerprint = meta.get(b"aria.fingerprint", b"").decode()

    out_path = Path(out) if out is not None else None
    shard_dir = shard_dir_for(out_path) if out_path is not None else None
    # Rows live in Arrow tables (compact), never all as Python objects: the tables of a previous
    # run (resume), then one table per shard of this run. ``where[key]`` = (table, row) of the row
    # kept for an item; later tables win.
    tables: list[pa.Table] = []
    where: dict[tuple, tuple[int, int]] = {}
    if out_path is not None and shard_dir is not None:
        if resume:
            tables = _stored_tables(out_path, shard_dir, fingerprint, schema)
            for ti, table in enumerate(tables):
                status = table.column("status").to_pylist()
                for ri, key in enumerate(_table_keys(table)):
                    if status[ri] == "ok":
                        where[key] = (ti, ri)
        elif shard_dir.exists():
            shutil.rmtree(shard_dir)
    wanted = {it.key() for it in items}
    where = {k: v for k, v in where.items() if k in wanted}
    todo = [it for it in items if it.key() not in where]
    n_reused = len(items) - len(todo)

    buffer: list[dict[str, Any]] = []
    next_shard = 0
    if shard_dir is not None and todo:
        shard_dir.mkdir(parents=True, exist_ok=True)
        with atomic_open(shard_dir / "manifest.json", "w") as fh:
            json.dump({"fingerprint": fingerprint, "out": out_path.name}, fh)
        existing = sorted(shard_dir.glob("shard-*.parquet"))
        next_shard = (int(existing[-1].stem.split("-")[1]) + 1) if existing else 0

    def flush() -> None:
        nonlocal next_shard, buffer
        if not buffer:
            return
        table = rows_to_table(buffer, schema, specs)
        if shard_dir is not None:
            with atomic_path(shard_dir / f"shard-{next_shard:06d}.parquet") as tmp:
                pq.write_table(table, tmp)
            next_shard += 1
        for ri, row in enumerate(buffer):
            where[_row_key(row)] = (len(tables), ri)
        tables.append(table)
        buffer = []

    for row in extract_rows(todo, extractor, params, workers=workers, progress=progress,
                            chunk_size=chunk_size, task_timeout=task_timeout, mp_context=mp_context):
        buffer.append(row)
        if len(buffer) >= shard_size:
            flush()
    flush()

    offsets = [0]
    for table in tables:
        offsets.append(offsets[-1] + table.num_rows)
    take = [offsets[ti] + ri for ti, ri in (where[it.key()] for it in items)]
    combined = pa.concat_tables(tables) if tables else schema.empty_table()
    table = combined.take(pa.array(take, pa.int64())).combine_chunks()
    table = table.replace_schema_metadata(schema.metadata)
    if out_path is not None:
        write_feature_table(table, out_path)
        if shard_dir is not None and shard_dir.exists():
            shutil.rmtree(shard_dir)
    statuses = table.column("status").to_pylist()
    n_ok = sum(s == "ok" for s in statuses)
    return BatchResult(table=table, n_ok=n_ok, n_failed=len(statuses) - n_ok, n_reused=n_reused)
