"""Input validation, done once at the boundary (mir_eval style).

Every function here either returns normally or raises
:class:`~aria.errors.AriaInputError` with a one-line message that names the
offending file, position or id. Computation modules trust their input.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from aria.errors import AriaInputError
from aria.params import validate_params

#: Dimension names of a score matrix.
SEGMENT, QUERY, TRACK = "segment", "query", "track"


def validate_dtype(dtype: np.dtype, what: str = "score matrix") -> None:
    """Reject arrays that are not real numbers (object, string, bool, complex...).

    Parameters
    ----------
    dtype : numpy.dtype
        The array's dtype.
    what : str
        Name used in the message.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.errors import AriaInputError
    >>> from aria.io.validate import validate_dtype
    >>> validate_dtype(np.dtype("float32"))  # passes silently
    >>> try:
    ...     validate_dtype(np.dtype("complex128"))
    ... except AriaInputError as e:
    ...     print(e)
    score matrix: must hold real numbers (integer or float), got dtype complex128
    """
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise AriaInputError(
            f"{what}: holds Python objects (dtype={dtype}); Aria never unpickles data: "
            "save a numeric array instead"
        )
    if dtype.kind not in "iuf":
        raise AriaInputError(
            f"{what}: must hold real numbers (integer or float), got dtype {dtype}"
        )


def validate_scores(scores: xr.DataArray) -> None:
    """Check the structure of a labelled score matrix.

    Values (NaN/Inf) are checked while they stream through the diagnostics,
    so that a multi-gigabyte file is read once, not twice; see
    :func:`check_finite`.

    Parameters
    ----------
    scores : xarray.DataArray
        Matrix with dims ``("segment", "query")`` and a ``track`` coordinate
        on ``segment``.

    Raises
    ------
    AriaInputError
        Wrong dims, empty, non-numeric, duplicate query ids, or a track
        coordinate of the wrong length.

    Examples
    --------
    >>> import numpy as np, aria
    >>> from aria.io.validate import validate_scores
    >>> validate_scores(aria.scores_from_array(np.ones((3, 2))))
    >>> try:
    ...     validate_scores(aria.scores_from_array(np.ones((3, 1))).expand_dims("extra"))
    ... except aria.AriaInputError as e:
    ...     print(type(e).__name__)
    AriaInputError
    """
    if not isinstance(scores, xr.DataArray):
        raise AriaInputError(
            f"expected an xarray.DataArray (use aria.load_scores), got {type(scores).__name__}"
        )
    if scores.ndim != 2:
        raise AriaInputError(
            f"score matrix must be 2-D (segments x queries), got {scores.ndim}-D "
            f"with shape {tuple(scores.shape)}"
        )
    if tuple(scores.dims) != (SEGMENT, QUERY):
        raise AriaInputError(
            f"score matrix dims must be ('segment', 'query'), got {tuple(scores.dims)}"
        )
    n, q = scores.shape
    if n == 0 or q == 0:
        raise AriaInputError(f"score matrix is empty (shape {n} x {q})")
    validate_dtype(scores.dtype)
    if QUERY in scores.coords:
        ids = scores.coords[QUERY].values
        _check_unique(ids, "query id")
    if TRACK in scores.coords:
        track = scores.coords[TRACK]
        if track.dims != (SEGMENT,):
            raise AriaInputError("the 'track' coordinate must lie along the 'segment' dim")


def _check_unique(ids: Sequence | np.ndarray, what: str) -> None:
    ids = np.asarray(ids)
    uniq, counts = np.unique(ids, return_counts=True)
    if uniq.size != ids.size:
        dup = uniq[counts > 1][:3]
        shown = ", ".join(repr(x.item() if hasattr(x, "item") else x) for x in dup)
        noun, sep, where = what.partition(" in ")  # "segment id in map.csv" -> "segment ids in map.csv"
        plural = noun if noun.endswith("s") else noun + "s"  # "query ids" stays "query ids"
        raise AriaInputError(
            f"duplicate {plural}{sep}{where}: {shown} ({int((counts > 1).sum())} duplicated)")


def check_unique(ids: Sequence | np.ndarray, what: str) -> None:
    """Raise if ``ids`` holds duplicates; the message shows up to three of them.

    Parameters
    ----------
    ids : array-like
        Identifiers.
    what : str
        Noun used in the message (e.g. ``"query id"`` or ``"segment id in map.csv"``); made plural
        unless it already is.

    Examples
    --------
    >>> import aria
    >>> from aria.io.validate import check_unique
    >>> check_unique(["q1", "q2"], "query id")
    >>> try:
    ...     check_unique(["q1", "q2", "q1"], "query id")
    ... except aria.AriaInputError as e:
    ...     print(e)
    duplicate query ids: 'q1' (1 duplicated)
    >>> try:
    ...     check_unique(["a", "b", "a", "b"], "track ids in map.csv")
    ... except aria.AriaInputError as e:
    ...     print(e)
    duplicate track ids in map.csv: 'a', 'b' (2 duplicated)
    """
    _check_unique(ids, what)


def check_finite(
    block: np.ndarray, row_offset: int, query_ids: np.ndarray | None = None, source: str = ""
) -> None:
    """Raise on the first NaN or infinite value of a row block.

    Parameters
    ----------
    block : numpy.ndarray
        Rows ``row_offset .. row_offset + len(block)`` of the score matrix.
    row_offset : int
        Index of the block's first row in the whole matrix.
    query_ids : numpy.ndarray, optional
        Query labels, used to name the offending column.
    source : str
        File name used as the message's prefix.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.io.validate import check_finite
    >>> check_finite(np.ones((2, 2)), 0)
    >>> try:
    ...     check_finite(np.array([[1.0, np.nan]]), 41, np.array(["q1", "q2"]))
    ... except aria.AriaInputError as e:
    ...     print(e)
    score matrix has a NaN at segment 41, query 'q2' (1 non-finite value(s) in rows 41..41);
    fix or drop those entries first
    """
    finite = np.isfinite(block)
    if finite.all():
        return
    r, c = np.argwhere(~finite)[0]
    value = block[r, c]
    n_bad = int((~finite).sum())
    col = f"query {str(query_ids[c])!r}" if query_ids is not None else f"column {c}"
    kind = "a NaN" if np.isnan(value) else "an infinite value"
    prefix = f"{source}: " if source else ""
    raise AriaInputError(
        f"{prefix}score matrix has {kind} at segment {row_offset + r}, {col} "
        f"({n_bad} non-finite value(s) in rows {row_offset}..{row_offset + len(block) - 1}); "
        "fix or drop those entries first"
    )


def validate_track_map(track: np.ndarray, n_segments: int, source: str = "track map") -> None:
    """Check that a segment -> track map covers every segment exactly once.

    Parameters
    ----------
    track : numpy.ndarray
        One track id per segment, in row order.
    n_segments : int
        Number of rows of the score matrix.
    source : str
        Name used in messages.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.io.validate import validate_track_map
    >>> validate_track_map(np.array(["a", "a", "b"]), 3)
    >>> try:
    ...     validate_track_map(np.array(["a", "b"]), 3)
    ... except aria.AriaInputError as e:
    ...     print(e)
    track map has 2 entries but the score matrix has 3 segments
    """
    track = np.asarray(track)
    if track.ndim != 1:
        raise AriaInputError(f"{source} must be 1-D (one track id per segment), got {track.ndim}-D")
    if track.shape[0] != n_segments:
        raise AriaInputError(
            f"{source} has {track.shape[0]} entries but the score matrix has {n_segments} segments"
        )
    if track.dtype.hasobject:
        missing = [i for i, t in enumerate(track) if t is None or (isinstance(t, float) and t != t)]
        if missing:
            raise AriaInputError(f"{source} has no track for segment {missing[0]}")
    elif track.dtype.kind == "f" and not np.isfinite(track).all():
        raise AriaInputError(
            f"{source} has no track for segment {int(np.flatnonzero(~np.isfinite(track))[0])}"
        )


#: numcodecs / zarr codec ids that decode to Python objects by running a deserialiser; a store
#: naming one is refused before anything is decoded (``pickle`` runs arbitrary code).
_OBJECT_CODECS = frozenset({
    "pickle", "msgpack", "msgpack2", "json", "json2", "vlen-array", "categorize",
})
#: Codecs that turn an object (``|O``) array into plain strings or bytes and nothing else.
_STRING_CODECS = frozenset({"vlen-utf8", "vlen-bytes"})
#: Metadata file names of zarr v2 (array, consolidated) and zarr v3 stores.
_ZARR_META = (".zarray", ".zmetadata", "zarr.json")
#: Upper bound on metadata files walked in one store (a store is a handful of arrays).
_MAX_ZARR_META = 10_000


def _codec_id(codec: object) -> str:
    """The lower-case id of a zarr v2 (``{"id": ...}``) or v3 (``{"name": ...}``) codec entry."""
    if isinstance(codec, dict):
        name = codec.get("id", codec.get("name", ""))
        return str(name).lower().removeprefix("numcodecs.")
    return str(codec).lower().removeprefix("numcodecs.")


def _check_zarr_array_meta(meta: dict, where: str) -> None:
    """Refuse one array's metadata (v2 ``.zarray`` or v3 ``zarr.json``) that decodes objects."""
    codecs: list[object] = []
    for key in ("filters", "codecs"):
        value = meta.get(key)
        if isinstance(value, list):
            codecs.extend(value)
    comp = meta.get("compressor")
    if comp is not None:
        codecs.append(comp)
    # sharding nests its own codec chains (v3 "sharding_indexed": configuration.codecs)
    stack = list(codecs)
    ids: list[str] = []
    while stack:
        c = stack.pop()
        ids.append(_codec_id(c))
        if isinstance(c, dict) and isinstance(c.get("configuration"), dict):
            for key in ("codecs", "index_codecs"):
                inner = c["configuration"].get(key)
                if isinstance(inner, list):
                    stack.extend(inner)
    bad = sorted({i for i in ids if i in _OBJECT_CODECS or "pickle" in i})
    if bad:
        raise AriaInputError(
            f"{where}: uses the object codec {bad[0]!r}, which can run code when decoded; "
            "Aria refuses it (store numbers, and ids as fixed-width or vlen-utf8 strings)"
        )
    dtype = meta.get("dtype", meta.get("data_type"))
    text = json.dumps(dtype) if not isinstance(dtype, str) else dtype
    if "|O" in text or text.strip('"').lower() in ("object", "o"):
        if not ids or not set(ids) & _STRING_CODECS or set(ids) - _STRING_CODECS - _SAFE_BYTES:
            raise AriaInputError(
                f"{where}: holds Python objects (dtype {text}) without a plain string codec; "
                "Aria never decodes objects (store fixed-width or vlen-utf8 strings)"
            )


#: Byte-level compressors and checksums that may follow a string codec on an object array.
_SAFE_BYTES = frozenset({
    "blosc", "zstd", "lz4", "gzip", "zlib", "bz2", "lzma", "crc32", "crc32c", "adler32",
    "fletcher32", "shuffle", "bytes",
})


def check_zarr_store(path: str | os.PathLike[str]) -> None:
    """Refuse a zarr store whose metadata names an object or pickle codec, before decoding.

    Reads the JSON metadata files itself (zarr v2 ``.zarray`` and consolidated ``.zmetadata``,
    zarr v3 ``zarr.json``), so no array of the store is opened or decoded here. Refused: any
    codec that deserialises Python objects (``pickle``, ``msgpack``, ``json``, ``vlen-array``,
    ``categorize``), and any object dtype (``|O``, v3 ``object``) that is not decoded by a
    plain string codec (``vlen-utf8``/``vlen-bytes``) alone.

    Parameters
    ----------
    path : path-like
        The store's root folder.

    Raises
    ------
    AriaInputError
        A refused codec or dtype, or metadata that is not valid JSON, naming the file.

    Examples
    --------
    >>> import json, os, tempfile
    >>> root = tempfile.mkdtemp(suffix=".zarr")
    >>> os.mkdir(os.path.join(root, "query"))
    >>> meta = {"zarr_format": 2, "dtype": "|O", "filters": [{"id": "pickle"}], "compressor": None}
    >>> with open(os.path.join(root, "query", ".zarray"), "w") as f:
    ...     json.dump(meta, f)
    >>> try:
    ...     check_zarr_store(root)
    ... except AriaInputError as e:
    ...     print("refused" if "pickle" in str(e) else e)
    refused
    """
    root = Path(path)
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            if name not in _ZARR_META:
                continue
            seen += 1
            if seen > _MAX_ZARR_META:
                raise AriaInputError(f"{root}: more than {_MAX_ZARR_META} zarr metadata files")
            f = Path(dirpath) / name
            try:
                meta = json.loads(f.read_bytes())
            except (OSError, ValueError) as exc:
                raise AriaInputError(f"{f}: unreadable zarr metadata ({type(exc).__name__})") from None
            if not isinstance(meta, dict):
                raise AriaInputError(f"{f}: zarr metadata is not a JSON object")
            if name == ".zmetadata":
                entries = meta.get("metadata", {})
                for key, sub in (entries.items() if isinstance(entries, dict) else ()):
                    if isinstance(sub, dict) and key.endswith((".zarray", "zarr.json")):
                        _check_zarr_array_meta(sub, f"{f} [{key}]")
            elif name == "zarr.json":
                if meta.get("node_type") == "array":
                    _check_zarr_array_meta(meta, str(f))
                # v3 consolidated metadata lives in the group's zarr.json
                cons = meta.get("consolidated_metadata")
                nodes = cons.get("metadata", {}) if isinstance(cons, dict) else {}
                for key, sub in (nodes.items() if isinstance(nodes, dict) else ()):
                    if isinstance(sub, dict) and sub.get("node_type") == "array":
                        _check_zarr_array_meta(sub, f"{f} [{key}]")
            else:
                _check_zarr_array_meta(meta, str(f))


@validate_params({"path": "path", "parse": "callable"})
def read_text_file(path: str | os.PathLike[str], parse: Callable[[str], Any],
                   errors: tuple[type[Exception], ...], *, missing: str, invalid: str) -> Any:
    """``parse`` the UTF-8 text of a file; a missing or unparsable file gives a one-line message.

    Parameters
    ----------
    path : path-like
        The file.
    parse : callable
        Text -> object (``json.loads``, ``tomllib.loads``...).
    errors : tuple of exception types
        What ``parse`` raises on bad text (a non-UTF-8 file is refused too).
    missing, invalid : str
        Messages after ``"<path>: "`` for a missing file and for bad text (the parser's reason
        follows in parentheses).

    Returns
    -------
    object
        The parsed content.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> from aria.errors import AriaInputError
    >>> from aria.io.validate import read_text_file
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
    >>> _ = p.write_text('{"a": 1')
    >>> try:
    ...     read_text_file(p, json.loads, (json.JSONDecodeError,), missing="no such file", invalid="bad JSON")
    ... except AriaInputError as e:
    ...     print(str(e).split(": ", 1)[1])
    bad JSON (Expecting ',' delimiter: line 1 column 8 (char 7))
    """
    try:
        return parse(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AriaInputError(f"{path}: {missing}") from None
    except (*errors, UnicodeDecodeError) as exc:
        raise AriaInputError(f"{path}: {invalid} ({exc})") from None


def check_input_path(path: str | os.PathLike[str], what: str = "input", *,
                     folder_ok: bool = False) -> os.stat_result:
    """Refuse an input that is not a regular file (or, if allowed, a folder), before opening it.

    A named pipe, socket or device would block (or never end) on ``open``/``read``; it is
    refused from :func:`os.stat` alone, without opening anything.

    Parameters
    ----------
    path : path-like
        The input.
    what : str
        What the file is, used in the message (``"score file"``, ``"track map"``...).
    folder_ok : bool
        Whether a folder is acceptable (score stores and peer libraries' folders).

    Returns
    -------
    os.stat_result
        The file's status (follows symbolic links).

    Raises
    ------
    AriaInputError
        Missing, unreadable status, or not a regular file / folder.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "pipe")
    >>> os.mkfifo(p)
    >>> try:
    ...     check_input_path(p, "score file")
    ... except AriaInputError as e:
    ...     print(str(e).split(": ", 1)[1])
    score file is a named pipe; Aria reads regular files only
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AriaInputError(f"{path}: no such file or directory") from None
    except OSError as exc:
        raise AriaInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    mode = st.st_mode
    if stat.S_ISREG(mode) or (folder_ok and stat.S_ISDIR(mode)):
        return st
    if stat.S_ISDIR(mode):
        raise AriaInputError(f"{path}: {what} is a folder; expected a file")
    kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    only = "regular files and folders" if folder_ok else "regular files"
    raise AriaInputError(f"{path}: {what} is {kind}; Aria reads {only} only")
