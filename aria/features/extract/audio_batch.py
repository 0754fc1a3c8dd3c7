"""Audio feature extraction over many files, on the generic batch machinery.

Wraps :func:`aria.features.extract.batch.extract_table` (deterministic worker pool, shards, resume,
per-file error capture) with what audio needs around it:

- the file list and track ids (:mod:`aria.features.extract.audio_io`);
- a check, in the parent, that the audio stack imports (a missing package is one
  :class:`~aria.errors.AriaDependencyError`, not one failed row per file);
- a warm-up of librosa's numba functions and BeatNet in the parent before any worker starts;
  workers are forked from it on Linux (they start warm) and never compile numba code
  concurrently;
- one BLAS/OpenMP thread per worker, so that workers do not oversubscribe the cores;
- a per-file time limit, so that a hung worker stops the run loudly instead of hanging it;
- a ``duration`` column (seconds of decoded audio) next to the batch's metadata columns.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from aria.errors import AriaInputError
from aria.features.extract.audio import (
    AudioConfig,
    AudioFeatureError,
    check_audio_stack,
    compute_features,
    load_audio_config,
    warm_up,
)
from aria.features.extract.audio_io import (
    TRACK_ID_SCHEMES,
    AudioDecodeError,
    decode_audio,
    scan_audio_inputs,
    track_ids,
)
from aria.features.extract.batch import BatchResult, ExtractionError, Item, check_one_engine, extract_table
from aria.features.table import DEFAULT_META_COLUMNS, channelset_fingerprint, table_metadata, table_schema
from aria.params import Interval, Options, SequenceOf, constraints_of, validate_params
from aria.scale.cluster import connect

__all__ = ["AUDIO_META_COLUMNS", "DEFAULT_SHARD_SIZE", "audio_items", "extract_audio", "extract_audio_item",
           "file_list_digest", "run_audio_batch", "run_audio_table", "select_part"]

#: Metadata columns of the audio feature table (the batch's, plus the decoded duration).
AUDIO_META_COLUMNS: dict[str, pa.DataType] = {**DEFAULT_META_COLUMNS, "duration": pa.float64()}

#: Files per shard: a killed run loses at most this many files' work.
DEFAULT_SHARD_SIZE = 64

#: Files per task sent to a worker.
_CHUNK = 1

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def extract_audio_item(item: Item, config: AudioConfig) -> dict[str, Any]:
    """Batch extractor: decode ``item.path`` once and compute its features.

    Parameters
    ----------
    item : Item
        One whole file (spans are not supported for audio).
    config : AudioConfig
        From :func:`aria.features.extract.audio.load_audio_config`.

    Returns
    -------
    dict
        ``duration`` and one value per feature column.

    Raises
    ------
    ExtractionError
        Undecodable, empty, too short or silent file, or an extractor failed (the row is
        recorded as failed with this reason).
    """
    if item.start is not None or item.end is not None:
        raise ExtractionError("audio spans are not supported; extract whole files")
    try:
        with _single_threaded_blas():
            y = decode_audio(item.path, config.sample_rate)
            row = compute_features(y, config.sample_rate, config, source=item.path)
    except (AudioDecodeError, AudioFeatureError) as exc:
        raise ExtractionError(str(exc)) from None
    row["duration"] = y.size / config.sample_rate
    return row


@validate_params({"paths": SequenceOf("path", min_len=0), "id_scheme": Options(TRACK_ID_SCHEMES)})
def audio_items(paths: Sequence[str | os.PathLike[str]], id_scheme: str = "stem") -> list[Item]:
    """Batch items (one per audio file) for files and directories.

    Parameters
    ----------
    paths : sequence of path-like
        Files and directories.
    id_scheme : {"stem", "int", "path"}
        See :func:`aria.features.extract.audio_io.track_ids`.

    Returns
    -------
    list of Item
        One per file, then one problem item per folder that could not be listed (track id: its
        path relative to the directory given, followed by ``/``): a failed row with the reason.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from aria.features.extract.audio_batch import audio_items
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("000002.mp3", "000005.mp3"):
    ...     _ = (d / name).write_bytes(b"")
    >>> [(it.id, pathlib.Path(it.path).name) for it in audio_items([d], id_scheme="int")]
    [('2', '000002.mp3'), ('5', '000005.mp3')]
    """
    files, problems = scan_audio_inputs(paths)
    ids = track_ids(files, paths, id_scheme) if files else []
    items = [Item(id=i, path=str(f)) for i, f in zip(ids, files, strict=True)]
    for folder, root, reason in problems:
        rel = folder.relative_to(root).as_posix() if folder != root else str(root).rstrip("/")
        items.append(Item(id=rel + "/", path=str(folder), problem=reason))
    return items


def _single_threaded_blas() -> contextlib.AbstractContextManager:
    """One BLAS/OpenMP thread while extracting a file.

    A multi-threaded BLAS sums in a different order than a single-threaded one, which changes
    float32 results (mel spectrogram, chroma) in their last bits; with one thread everywhere, a
    file's features are bit-identical whether it runs in this process or in a worker.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with librosa (via scikit-learn)
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


@validate_params({"part": "str"})
def select_part(items: Sequence[Item], part: str) -> list[Item]:
    """The K-th of N contiguous, near-equal parts of a work list (``part = "K/N"``, K from 1).

    Parts of one list are disjoint, cover it, and keep its order, so tables extracted from the
    parts of a list concatenate (in part order) into the table of the whole list.

    Parameters
    ----------
    items : sequence of Item
        The whole work list.
    part : str
        ``"K/N"`` with ``1 <= K <= N``.

    Returns
    -------
    list of Item

    Examples
    --------
    >>> from aria.features.extract.audio_batch import select_part
    >>> from aria.features.extract.batch import Item
    >>> items = [Item(str(i), f"{i}.wav") for i in range(5)]
    >>> [[it.id for it in select_part(items, f"{k}/2")] for k in (1, 2)]
    [['0', '1'], ['2', '3', '4']]
    """
    try:
        k_text, n_text = part.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise AriaInputError(f"part must be 'K/N' (e.g. '3/10'), got {part!r}", parameter="part") from None
    if not 1 <= k <= n:
        raise AriaInputError(f"part must be 'K/N' with 1 <= K <= N, got {part!r}", parameter="part")
    total = len(items)
    return list(items[(k - 1) * total // n: k * total // n])


@contextlib.contextmanager
def _one_thread_per_worker(workers: int) -> Iterator[None]:
    if workers <= 1:
        yield
        return
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: "1" for k in _THREAD_VARS})  # inherited by spawned workers only
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_TIMEOUT = [None, Interval(float, 0, None, closed="neither")]
_SHARD = [None, Interval(int, 1, None)]
_CHANNELSET = [None, "path", Mapping]
_PATHS = ["path", SequenceOf("path", min_len=0)]


@validate_params({"config": AudioConfig, "out": [None, "path"], "workers": Interval(int, 1, None),
                  "resume": "boolean", "shard_size": _SHARD, "progress": [None, "callable"],
                  "file_timeout": _TIMEOUT, "mp_context": [None, Options(("spawn", "fork", "forkserver"))],
                  "scheduler": [None, "str"]})
def run_audio_table(items: Sequence[Item], config: AudioConfig, *, out: Path | None = None,
                    workers: int = 1, resume: bool = False, shard_size: int | None = None,
                    progress: Callable[[int], None] | None = None,
                    file_timeout: float | None = 600.0, mp_context: str | None = None,
                    scheduler: str | None = None, client: object = None) -> BatchResult:
    """Extract items into an audio feature table (the engine under :func:`run_audio_batch`).

    Parameters
    ----------
    items : sequence of Item
        Files, in output order.
    config : AudioConfig
        Channel set and extraction parameters.
    out : pathlib.Path, optional
        Parquet destination (enables shards and ``resume``).
    workers : int
        Worker processes (1: in this process).
    resume : bool
        Reuse the rows of a killed run writing the same ``out``.
    shard_size : int, optional
        Files per shard (default :data:`DEFAULT_SHARD_SIZE`).
    progress : callable, optional
        Called with the number of files just finished.
    file_timeout : float or None
        Seconds allowed per file before the pool is declared hung (None: no limit).
    mp_context : str, optional
        Start method of the workers. Default: ``"fork"`` on Linux, so that every worker starts
        with this process's warmed-up state (numba functions compiled, torch and BeatNet loaded:
        about 3 s saved per worker), else ``"spawn"``.
    scheduler : str, optional
        Extract on a dask cluster (``"local:N"`` or ``"HOST:PORT"``, see :mod:`aria.scale`) instead
        of ``workers`` processes: one file per task, the table identical to ``workers=1``. Workers
        of a local cluster start with one BLAS thread and find librosa's numba code compiled by the
        warm-up here (on-disk cache); remote workers compile it on their first file.
    client : distributed.Client, optional
        An existing dask client instead of ``scheduler``.

    Returns
    -------
    aria.features.extract.batch.BatchResult
    """
    if resume and out is None:
        raise AriaInputError("resume needs out (the output file to resume)", parameter="resume")
    check_audio_stack(config)
    if mp_context is None:
        mp_context = "fork" if sys.platform.startswith("linux") else "spawn"
    fingerprint = channelset_fingerprint(config.channelset, {"extractor": "aria.features.audio",
                                                             **config.parameters()})
    schema = table_schema(config.specs, AUDIO_META_COLUMNS, table_metadata(config.channelset, fingerprint))
    check_one_engine(workers, scheduler, client)
    chunk = _CHUNK
    # a local cluster's workers start inside, with one BLAS thread; a bad address fails before the warm-up
    with _one_thread_per_worker(max(workers, 2) if scheduler is not None else workers), \
            connect(scheduler, client) as engine:
        # Compile librosa's numba functions once, here, before any worker computes (workers compiling
        # them concurrently can corrupt numba's on-disk cache), and load BeatNet. Forked workers
        # inherit all of it; spawned ones (and a local cluster's) find the compiled code in numba's
        # cache. torch runs with one intra-op thread here, so no thread pool exists when the workers
        # are forked.
        warm_up(config)
        return extract_table(
            items, extract_audio_item, config, specs=config.specs, schema=schema, out=out,
            resume=resume, workers=workers, progress=progress,
            shard_size=shard_size or DEFAULT_SHARD_SIZE, chunk_size=chunk,
            task_timeout=None if file_timeout is None else file_timeout * chunk + 120.0,
            mp_context=mp_context, client=engine,
        )


@validate_params({"paths": _PATHS, "out": [None, "path"], "workers": Interval(int, 1, None),
                  "sr": [None, Interval(int, 4000, 192000)], "resume": "boolean", "channelset": _CHANNELSET,
                  "track_ids": Options(TRACK_ID_SCHEMES), "shard_size": _SHARD,
                  "progress": [None, "callable"], "file_timeout": _TIMEOUT, "scheduler": [None, "str"]})
def run_audio_batch(paths: Sequence[str | os.PathLike[str]], *, out: Path | None = None, workers: int = 1,
                    sr: int | None = None, resume: bool = False,
                    channelset: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                    track_ids: str = "stem", shard_size: int | None = None,
                    progress: Callable[[int], None] | None = None,
                    file_timeout: float | None = 600.0, scheduler: str | None = None,
                    client: object = None) -> pd.DataFrame:
    """Find audio files, extract them and return (and optionally write) the feature table.

    Parameters
    ----------
    paths : sequence of path-like
        Audio files and directories.
    out, workers, resume, shard_size, progress, file_timeout, scheduler, client
        See :func:`run_audio_table`.
    sr : int, optional
        Sample rate overriding the channel set's.
    channelset : path-like or mapping, optional
        Audio channel set (default ``features/audio.toml``).
    track_ids : {"stem", "int", "path"}
        How track ids are derived from file names.

    Returns
    -------
    pandas.DataFrame
        The feature table, one row per file in input order.
    """
    config = load_audio_config(channelset, sr=sr)
    items = audio_items(paths, track_ids)
    result = run_audio_table(items, config, out=out, workers=workers, resume=resume, shard_size=shard_size,
                             progress=progress, file_timeout=file_timeout, scheduler=scheduler, client=client)
    return result.table.to_pandas()


def file_list_digest(items: Sequence[Item]) -> str:
    """SHA-256 over the ids, paths, sizes and modification times of the input files.

    A cheap identity of a large input set for provenance (hashing 100,000 audio files'
    content would take longer than extracting a good part of them).

    Parameters
    ----------
    items : sequence of Item
        The batch items.

    Returns
    -------
    str
        SHA-256 in hexadecimal (64 characters).

    Examples
    --------
    >>> from aria.features.extract.audio_batch import file_list_digest
    >>> from aria.features.extract.batch import Item
    >>> a, b = Item("a", "missing/a.wav"), Item("b", "missing/b.wav")
    >>> len(file_list_digest([a, b])), file_list_digest([a, b]) == file_list_digest([b, a])
    (64, False)
    """
    h = hashlib.sha256()
    for it in items:
        try:
            st = os.stat(it.path)
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime = -1, -1
        h.update(f"{it.id}\0{it.path}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


@validate_params(constraints_of(run_audio_batch))
def extract_audio(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *,
                  out: str | os.PathLike[str] | None = None, workers: int = 1, sr: int | None = None,
                  resume: bool = False, channelset: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                  track_ids: str = "stem", shard_size: int | None = None,
                  progress: Callable[[int], None] | None = None, file_timeout: float | None = 600.0,
                  scheduler: str | None = None, client: object = None):
    """Extract the audio feature table of files and directories (the API of ``aria features audio``).

    Every file is decoded once; rows come out in input order whatever the number of workers.
    Undecodable, empty, too short or silent files get ``status = "failed"`` and a one-line
    ``error``, and the batch goes on.

    Parameters
    ----------
    paths : path-like or sequence of path-like
        Audio files (any suffix) and/or directories (searched recursively for audio suffixes).
    out : path-like, optional
        Parquet file to write atomically; while running, finished files are flushed in shards to
        ``<out>.shards/`` so that a killed run can be resumed.
    workers : int
        Worker processes (1 = in this process).
    sr : int, optional
        Sample rate overriding the channel set's ``[extraction] sample_rate``.
    resume : bool
        Reuse the rows of a killed (or finished) run writing the same ``out``.
    channelset : path-like or mapping, optional
        Audio channel set (default: the shipped ``features/audio.toml``).
    track_ids : {"stem", "int", "path"}
        Track id of a file: its name without suffix, that name as an integer (FMA), or its path
        relative to the directory given.
    shard_size : int, optional
        Files per shard (default 64).
    progress : callable, optional
        Called with the number of files just finished.
    file_timeout : float or None
        Seconds allowed per file before a worker pool is declared hung.
    scheduler : str, optional
        Extract on a dask cluster (``"local:N"`` or ``"HOST:PORT"``, see :mod:`aria.scale`).
    client : distributed.Client, optional
        An existing dask client instead of ``scheduler``.

    Returns
    -------
    pandas.DataFrame
        ``track``, ``file``, ``start``, ``end``, ``unit`` (null for whole files), ``duration``,
        ``status``, ``error`` and one column per feature (spec section 10).

    Raises
    ------
    AriaInputError
        Missing paths, no audio found, duplicate track ids, bad channel set, or resuming a run
        made with other parameters.
    AriaDependencyError
        The audio stack is not installed (the message names the install command).
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return run_audio_batch(list(paths), out=Path(out) if out is not None else None, workers=workers, sr=sr,
                           resume=resume, channelset=channelset, track_ids=track_ids,
                           shard_size=shard_size, progress=progress, file_timeout=file_timeout,
                           scheduler=scheduler, client=client)
