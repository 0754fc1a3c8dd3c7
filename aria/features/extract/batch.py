r"""Generic batch extraction: a worker pool, per-item error capture, shards and resume.

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

*problem items*
    An item may carry a ``problem`` (e.g. a folder that could not be listed): it becomes a failed
    row with that reason without calling the extractor, so that what could not be read is in the
    table instead of silently missing.

*names*
    Paths and ids come from the file system and may hold bytes that are not UTF-8 (decoded by
    Python as lone surrogates, PEP 383), which no UTF-8 table can store. The ``track`` and
    ``file`` columns hold :func:`printable_name` of them: unchanged when valid, else each
    undecodable byte written ``\xHH``; :func:`raw_name` gives the bytes back. The extractor
    still gets the real path.

Guarantees of :func:`extract_table`:

- rows come out in the order of ``items`` whatever the number of workers, so the written table
  is bit-identical for any ``workers``;
- with ``out``, finished rows are flushed every ``shard_size`` rows into numbered shard files in
  ``<out>.shards/`` (each written atomically), so a killed run loses at most the shard in
  progress, and an interrupted run (or one whose worker died) first flushes the rows it had
  finished; ``resume=True`` reuses rows found in those shards and in an existing ``out`` (same
  item, same channel-set fingerprint) and computes only the others (failed rows are retried);
- the final table is written atomically (then the shard directory is removed), with the
  channel-set name, fingerprint and Aria version in the Parquet key-value metadata;
- a worker that dies (segfault, out of memory) or a task that exceeds ``task_timeout`` stops the
  run with :class:`~aria.errors.AriaError` instead of hanging; finished shards are kept.

Worker-pool lifecycle (one place, :func:`extract_rows`):

- SIGINT (Ctrl-C) and SIGTERM stop a run the same way: while a batch runs in the main thread, a
  SIGTERM whose handler is the default one raises :class:`KeyboardInterrupt`; the rows finished so
  far are flushed to a last shard (so ``resume=True`` carries on from them), the workers are
  terminated and waited for, and the exception propagates (``aria`` exits with status 130).
  Workers ignore SIGINT themselves: only the parent decides;
- workers never outlive the parent, even when it is killed with SIGKILL: on Linux each worker
  asks the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and on every
  OS a watchdog thread in each worker exits it within a second of its parent's death. Once the
  parent and its workers are gone, multiprocessing's resource tracker (and a fork server, with
  ``mp_context="forkserver"``) sees its pipe close and exits too, so no process is left holding
  the caller's pipes.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import json
import math
import multiprocessing
import os
import re
import shutil
import signal
import sys
import threading
import time
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
from aria.io.atomic import atomic_open, atomic_path, pid_alive
from aria.params import Interval, Options, validate_params
from aria.scale.cluster import connect

__all__ = ["BatchResult", "ExtractionError", "Item", "extract_rows", "extract_table", "printable_name",
           "raw_name", "shard_dir_for"]

Extractor = Callable[["Item", Mapping[str, Any]], Mapping[str, Any]]
Progress = Callable[[int], None]

_MAX_REASON = 300


def printable_name(name: str) -> str:
    r"""The text stored in a table for a file-system name: valid UTF-8, faithful, printable.

    A name that is valid Unicode is returned unchanged. A name holding bytes that are not UTF-8
    (Python decodes them as lone surrogates, ``os.fsdecode``'s ``surrogateescape``) gets each such
    byte written as ``\xHH`` (Python's ``backslashreplace``): ``b"bad\xff.mid"`` is stored as the
    nine characters ``bad\xff.mid``. :func:`raw_name` undoes it.

    Parameters
    ----------
    name : str
        A path or track id as Python got it from the file system.

    Returns
    -------
    str
        The name unchanged when it is valid Unicode.

    Examples
    --------
    >>> import os
    >>> printable_name(os.fsdecode(b"dir/bad\xff\xfe.mid"))
    'dir/bad\\xff\\xfe.mid'
    >>> printable_name("caf\u00e9.mid")
    'café.mid'
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


_ESCAPED = re.compile(rb"\\x([89a-f][0-9a-f])")


def raw_name(text: str) -> bytes:
    r"""The file-system bytes of a name stored by :func:`printable_name` (``open()`` accepts them).

    Every ``\xHH`` with ``HH`` in ``80..ff`` becomes the byte ``HH`` (only such bytes are ever
    escaped: bytes below 0x80 are ASCII, always valid UTF-8). A valid name that itself contains
    such a text, e.g. a file really named ``a\xff.mid`` in ASCII, reads back as the escaped
    form: two inputs whose stored names coincide are refused as duplicate track ids.

    Parameters
    ----------
    text : str
        A ``track`` or ``file`` value of a feature table.

    Returns
    -------
    bytes

    Examples
    --------
    >>> raw_name("dir/bad\\xff\\xfe.mid")
    b'dir/bad\xff\xfe.mid'
    """
    return _ESCAPED.sub(lambda m: bytes([int(m[1], 16)]), text.encode("utf-8"))


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
    problem : str or None
        Why this input cannot be extracted, known before extraction (e.g. an unreadable
        folder): the row is failed with this reason and the extractor is not called.

    Examples
    --------
    >>> from aria.features.extract.batch import Item
    >>> it = Item("bwv269/bars1-4", "bwv269.mid", 0.0, 8.0, "beats")
    >>> it.key(), it.base_row()["track"]
    (('bwv269/bars1-4', 'bwv269.mid', 0.0, 8.0, 'beats'), 'bwv269/bars1-4')
    """

    id: str
    path: str
    start: float | None = None
    end: float | None = None
    unit: str | None = None
    problem: str | None = None

    def key(self) -> tuple:
        """Identity of the row (used by resume to match stored rows), as stored in the table."""
        return (printable_name(self.id), printable_name(self.path), _num(self.start), _num(self.end),
                self.unit)

    def base_row(self) -> dict[str, Any]:
        """The non-feature columns of this item's row (names made printable)."""
        return {"track": printable_name(self.id), "file": printable_name(self.path),
                "start": self.start, "end": self.end, "unit": self.unit}


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

    Examples
    --------
    >>> from aria.features.extract.batch import Item, extract_table
    >>> from aria.features.table import feature_specs, table_schema
    >>> specs = feature_specs({"features": {"n": {"kind": "vector", "dim": 1}}})
    >>> def id_length(item, params):
    ...     return {"n": float(len(item.id))}
    >>> items = [Item("ab", "ab.mid"), Item("x", "x.mid", problem="unreadable")]
    >>> res = extract_table(items, id_length, {}, specs=specs, schema=table_schema(specs))
    >>> res.n_ok, res.n_failed, res.table.column("error").to_pylist()
    (1, 1, [None, 'unreadable'])
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
    if item.problem is not None:
        row.update(status="failed", error=_reason(ExtractionError(item.problem)))
        return row
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
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_WATCH_SECONDS = 0.5


def _init_worker(extractor: Extractor, params: Mapping[str, Any], parent: int | None = None) -> None:
    """Worker initializer: signal dispositions, death with the parent, the extractor."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles interruptions
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the parent's handler
    _die_with_parent(parent)
    _WORKER["extractor"] = extractor
    _WORKER["params"] = params


def _die_with_parent(parent: int | None) -> None:
    """Make this worker exit when the process that owns the pool dies (even by SIGKILL).

    ``parent`` is the pool owner's pid. When it is this process's parent (``spawn``, ``fork``),
    the kernel is asked for SIGKILL on its death (Linux) and a watchdog thread polls the parent
    pid (any OS; a dead parent's children are re-parented); if it is already gone, exit at once.
    When a fork server stands between them (``forkserver``: the server lives as long as its
    children do), the watchdog polls whether the owner still exists.
    """
    if parent is None:
        return
    if os.getppid() == parent:
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                libc = ctypes.CDLL(None, use_errno=True)
                libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
        alive = functools.partial(_is_parent, parent)
    else:
        if not pid_alive(parent):
            os._exit(1)
        alive = functools.partial(pid_alive, parent)
    threading.Thread(target=_watch, args=(alive,), name="aria-parent-watchdog", daemon=True).start()


def _is_parent(pid: int) -> bool:
    return os.getppid() == pid


def _watch(alive: Callable[[], bool]) -> None:
    while alive():
        time.sleep(_WATCH_SECONDS)
    os._exit(1)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while a batch runs (main thread, default handler only)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _worker_pool(workers: int, mp_context: str, extractor: Extractor,
                 params: Mapping[str, Any]) -> Iterator[ProcessPoolExecutor]:
    """The one worker-pool lifecycle: start, and on any exit stop every worker before returning.

    A clean exit waits for the pool; an exception (a dead worker, a timeout, an interruption)
    cancels pending tasks, terminates the workers, waits for them (SIGKILL after 5 s) and
    re-raises.
    """
    ctx = multiprocessing.get_context(mp_context)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(extractor, params, os.getpid()))
    try:
        yield pool
    except BaseException:
        with _interruptions_ignored():  # a second Ctrl-C must not cut the cleanup short
            _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def _interruptions_ignored() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM during the block (main thread only: where handlers live).

    The block is the pool's cleanup, bounded in time; the run is already stopping, so a second
    Ctrl-C has nothing left to do but cut the cleanup short and leave workers behind.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in saved:
        signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)


def _stop_pool(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            if proc.is_alive():
                proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)
    # let the pool's manager thread finish its own cleanup now: left running into interpreter
    # shutdown, it races concurrent.futures' exit hook ("Bad file descriptor" on stderr)
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None and manager is not threading.current_thread():
        manager.join(max(1.0, deadline - time.monotonic()))


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


#: Constraints of the pool parameters of :func:`extract_rows` (also taken by :func:`extract_table`).
_POOL_CHECKS = {"workers": Interval(int, 1, None), "progress": [None, "callable"],
                "chunk_size": [None, Interval(int, 1, None)], "retries": Interval(int, 0, None),
                "task_timeout": [None, Interval(float, 0, None, closed="neither")],
                "mp_context": Options(("spawn", "fork", "forkserver"))}


@validate_params(_POOL_CHECKS)
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
    client: object = None,
    retries: int = 2,
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
    client : distributed.Client, optional
        Run the chunks as tasks of this dask cluster instead (``workers`` and ``mp_context`` are
        then unused): the extractor and ``params`` travel with the tasks (``params`` once, as a
        task result the scheduler can recompute), at most 4 tasks per worker thread of the cluster
        are queued, and rows are yielded in item order as with a pool. A worker lost mid-task has its
        chunk rerun elsewhere by the scheduler.
    retries : int
        With ``client``: times a task that raised is retried (the extractor's own errors are
        already rows; this covers a failure around it, e.g. an unpicklable result).

    Yields
    ------
    dict
        ``track``, ``file``, ``start``, ``end``, ``unit``, ``status``, ``error`` and the features.

    Raises
    ------
    AriaError
        A worker died or a task timed out (with ``client``: a chunk killed every worker that ran
        it, dask's ``distributed.scheduler.allowed-failures`` + 1 times).

    Examples
    --------
    >>> from aria.features.extract.batch import Item, extract_rows
    >>> def upper(item, params):
    ...     return {"name": item.id.upper() + params["suffix"]}
    >>> rows = extract_rows([Item("a", "a.mid"), Item("b", "b.mid")], upper, {"suffix": "!"})
    >>> [(r["track"], r["name"], r["status"]) for r in rows]
    [('a', 'A!', 'ok'), ('b', 'B!', 'ok')]
    """
    with _sigterm_as_interrupt():
        if client is not None:  # the cluster's worker threads, at least one (more may join later)
            workers = max(1, sum(client.nthreads().values()))
        elif workers == 1 or len(items) <= 1:
            for it in items:
                row = _extract_one(extractor, params, it)
                if progress is not None:
                    progress(1)
                yield row
            return
        if chunk_size is None:
            chunk_size = max(1, min(16, math.ceil(len(items) / (workers * 8))))
        chunks = _chunks(items, chunk_size)
        if client is not None:
            yield from _cluster_rows(client, chunks, extractor, params, 4 * workers, progress, task_timeout,
                                     retries)
            return
        with _worker_pool(workers, mp_context, extractor, params) as pool:
            yield from _pooled_rows(pool, chunks, workers, progress, task_timeout)


def _pooled_rows(pool: ProcessPoolExecutor, chunks: list[list[Item]], workers: int,
                 progress: Progress | None, task_timeout: float | None) -> Iterator[dict[str, Any]]:
    """Rows of ``chunks`` computed by ``pool``, in order, with at most ``4 * workers`` tasks queued."""
    window: deque[tuple[list[Item], Future]] = deque()
    pending = iter(chunks)

    def submit(chunk: list[Item]) -> bool:
        # A worker may die between two results: the pool then refuses new tasks, and the task
        # that was running on it fails below with the same error (or, if none is left, the last).
        try:
            window.append((chunk, pool.submit(_run_chunk, chunk)))
        except BrokenProcessPool:
            return False
        return True

    broken_at: list[Item] | None = None
    for chunk in pending:
        if not submit(chunk):
            broken_at = chunk
            break
        if len(window) >= 4 * workers:
            break
    while window:
        chunk, fut = window.popleft()
        try:
            rows = fut.result(timeout=task_timeout)
        except BrokenProcessPool:
            raise _worker_died(chunk) from None
        except FutureTimeout:
            raise AriaError(
                f"no result after {task_timeout:g} s for the task starting at {chunk[0].path!r}; "
                "the pool was stopped"
            ) from None
        nxt = next(pending, None) if broken_at is None else None
        if nxt is not None and not submit(nxt):
            broken_at = nxt
        if progress is not None:
            progress(len(rows))
        yield from rows
    if broken_at is not None:
        raise _worker_died(broken_at)


def _worker_died(chunk: list[Item]) -> AriaError:
    return AriaError(
        f"a worker process died while extracting {chunk[0].path!r} (or a file near it); "
        "finished rows are kept: resume the run, or run it with one worker to find the file"
    )


def check_one_engine(workers: int, scheduler: str | None, client: object) -> None:
    """Refuse ``workers > 1`` together with a cluster: they are two engines, not one setting.

    Examples
    --------
    >>> check_one_engine(2, None, None)
    >>> check_one_engine(2, "local:2", None)
    Traceback (most recent call last):
    ...
    aria.errors.AriaInputError: give either a cluster or more than one worker process, not both
    """
    if workers > 1 and (scheduler is not None or client is not None):
        raise AriaInputError("give either a cluster or more than one worker process, not both",
                             parameter="workers")


def _run_chunk_with(extractor: Extractor, params: Mapping[str, Any], items: Sequence[Item]
                    ) -> list[dict[str, Any]]:
    """A cluster task: the rows of one chunk (extractor and parameters arrive with the task)."""
    return [_extract_one(extractor, params, it) for it in items]


def _cluster_rows(client: Any, chunks: list[list[Item]], extractor: Extractor, params: Mapping[str, Any],
                  window_size: int, progress: Progress | None, task_timeout: float | None,
                  retries: int) -> Iterator[dict[str, Any]]:
    """Rows of ``chunks`` computed as tasks of a dask cluster, in order, ``window_size`` tasks queued.

    Pending tasks are cancelled on any exit (an error, an interruption, the caller closing the
    generator), so a stopped run leaves nothing running on the cluster.
    """
    from aria.scale.cluster import on_cluster

    params_f = on_cluster(client, params)
    window: deque[tuple[list[Item], Any]] = deque()
    pending = iter(chunks)

    def submit(chunk: list[Item]) -> None:
        window.append((chunk, client.submit(_run_chunk_with, extractor, params_f, chunk,
                                            pure=False, retries=retries)))

    try:
        for chunk in itertools.islice(pending, window_size):
            submit(chunk)
        while window:
            chunk, fut = window.popleft()
            try:
                rows = fut.result(timeout=task_timeout)
            except TimeoutError:
                raise AriaError(f"no result after {task_timeout:g} s for the cluster task starting at "
                                f"{chunk[0].path!r}; finished rows are kept: resume the run") from None
            except Exception as exc:  # KilledWorker, a cancelled task, a lost scheduler
                raise AriaError(
                    f"the cluster task starting at {chunk[0].path!r} failed ({type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[:200]}); finished rows are kept: resume the run"
                ) from None
            nxt = next(pending, None)
            if nxt is not None:
                submit(nxt)
            if progress is not None:
                progress(len(rows))
            yield from rows
    finally:
        with contextlib.suppress(Exception):
            client.cancel([f for _, f in window] + [params_f])


# --- shards and resume ---------------------------------------------------------------------------
def shard_dir_for(out: str | os.PathLike[str]) -> Path:
    """Directory holding the shards of an in-progress output: ``<out>.shards``.

    Parameters
    ----------
    out : path-like
        The Parquet output of :func:`extract_table`.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> from aria.features.extract.batch import shard_dir_for
    >>> shard_dir_for("out/features.parquet").as_posix()
    'out/features.parquet.shards'
    """
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


@validate_params({"out": [None, "path"], "resume": "boolean", "shard_size": Interval(int, 1, None),
                  "scheduler": [None, "str"],
                  **_POOL_CHECKS})
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
    scheduler: str | None = None,
    client: object = None,
    retries: int = 2,
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
    scheduler : str, optional
        Extract on a dask cluster instead of ``workers`` processes: ``"local"``, ``"local:N"``
        (a LocalCluster started and stopped here) or ``"HOST:PORT"`` (see :mod:`aria.scale`).
        Rows, order and values are those of ``workers=1``; shards and ``resume`` work the same.
    client : distributed.Client, optional
        An existing dask client instead of ``scheduler``.
    retries : int
        With a cluster: times a failed task is retried (see :func:`extract_rows`).

    Returns
    -------
    BatchResult

    Raises
    ------
    AriaInputError
        Duplicate item ids, or resuming from an output built with different parameters.
    AriaError
        A worker died or hung.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from aria.features.extract.batch import Item, extract_table
    >>> from aria.features.table import feature_specs, load_channelset, table_schema
    >>> cs = load_channelset({"features": {"size": {"kind": "vector", "dim": 1}}})
    >>> specs = feature_specs(cs)
    >>> def path_length(item, params):
    ...     return {"size": float(len(item.path))}
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "features.parquet"
    >>> items = [Item("a", "a.mid"), Item("bb", "bb.mid")]
    >>> schema = table_schema(specs, metadata={"aria.fingerprint": "path-length-v1"})  # guards resume
    >>> first = extract_table(items, path_length, cs, specs=specs, schema=schema, out=out)
    >>> again = extract_table(items, path_length, cs, specs=specs, schema=schema, out=out, resume=True)
    >>> first.table.column("size").to_pylist(), again.n_reused, out.exists()
    ([5.0, 6.0], 2, True)
    """
    ids = [printable_name(it.id) for it in items]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))
        raise AriaInputError(f"duplicate track id {dup!r}: track and span ids must be unique")
    meta = schema.metadata or {}
    fingerprint = meta.get(b"aria.fingerprint", b"").decode()

    check_one_engine(workers, scheduler, client)
    with connect(scheduler, client) as engine:  # None: this machine (workers / this process)
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

        rows = extract_rows(todo, extractor, params, workers=workers, progress=progress,
                            chunk_size=chunk_size, task_timeout=task_timeout, mp_context=mp_context,
                            client=engine, retries=retries)
        with _sigterm_as_interrupt():  # until the table is written: SIGTERM unwinds like Ctrl-C
            with contextlib.closing(rows):
                try:
                    for row in rows:
                        buffer.append(row)
                        if len(buffer) >= shard_size:
                            flush()
                except BaseException:  # interrupted, or a worker died: keep the rows finished so far
                    rows.close()  # stop the workers first
                    if shard_dir is not None:
                        with contextlib.suppress(Exception):
                            flush()
                    raise
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
