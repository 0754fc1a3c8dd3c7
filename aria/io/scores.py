"""Reading score matrices: one reader per format, one labelled matrix (segment x query) out.

Every reader returns labelled data (xarray) and raises
:class:`~aria.errors.AriaInputError` with a one-line message on a bad file.
Nothing here unpickles data: ``.npy``/``.npz`` are read with
``allow_pickle=False`` and torch files with ``weights_only=True``.
Large ``.npy`` files are memory-mapped, never copied whole.

Orientation is never guessed: a format that defines it (TRAK, Kronfluence, quanda, bergson,
netCDF/zarr with named dims, ids stored beside the array) is read in it; a bare array with fewer
rows than columns is refused unless the caller says how it is laid out (``orientation=`` /
``transpose=``, or a segment -> track map with one entry per row).
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import xarray as xr

from aria.errors import AriaDependencyError, AriaInputError
from aria.io.npyfile import NPY_MAGIC, npy_header, open_npy
from aria.io.peers import QUERIES_X_SEGMENTS, SEGMENTS_X_QUERIES, detect_peer, read_peer
from aria.io.tables import load_track_map, normalize_ids
from aria.io.torchfile import tensor_to_numpy, torch_load
from aria.io.validate import (
    QUERY,
    SEGMENT,
    TRACK,
    check_input_path,
    check_unique,
    check_zarr_store,
    validate_dtype,
    validate_scores,
    validate_track_map,
)
from aria.params import InstanceOf, Options, validate_params

__all__ = ["load_scores", "load_track_map", "scores_from_array", "ORIENTATIONS",
           "resolve_orientation", "bare_orientation", "ReaderOptions", "reader_parameters"]

#: Values of ``orientation=`` (``--orientation``): how a bare array's rows and columns are laid out.
ORIENTATIONS = (SEGMENTS_X_QUERIES, QUERIES_X_SEGMENTS)
_PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib", ".dill"}
_DIM_ALIASES = {"train": SEGMENT, "segment": SEGMENT, "test": QUERY, "query": QUERY}


@validate_params({"transpose": "boolean", "source": "str"})
def scores_from_array(
    array: np.ndarray,
    *,
    query_ids: np.ndarray | list | None = None,
    segment_track: np.ndarray | list | None = None,
    transpose: bool = False,
    source: str = "<array>",
) -> xr.DataArray:
    """Wrap a 2-D array (train segments x queries) as a labelled score matrix.

    Parameters
    ----------
    array : numpy.ndarray
        Scores, rows = training segments, columns = queries. Not copied.
    query_ids : array-like, optional
        One label per query; default ``"q0", "q1", ...``.
    segment_track : array-like, optional
        One track id per segment; default: each segment is its own track.
    transpose : bool
        The array is stored queries x segments; transpose it (a view).
    source : str
        Recorded in ``attrs["source"]``.

    Returns
    -------
    xarray.DataArray
        Dims ``("segment", "query")``; coords ``segment`` (row index),
        ``query`` and ``track`` (on ``segment``).

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> s = aria.scores_from_array(np.arange(6.0).reshape(3, 2), query_ids=["q1", "q2"],
    ...                            segment_track=["a", "a", "b"])
    >>> s.dims, s.shape
    (('segment', 'query'), (3, 2))
    >>> s["query"].values.tolist(), s["track"].values.tolist()
    (['q1', 'q2'], ['a', 'a', 'b'])
    """
    if not isinstance(array, np.ndarray):
        raise AriaInputError(f"{source}: expected a numpy array, got {type(array).__name__}")
    validate_dtype(array.dtype, f"{source}")
    if array.ndim != 2:
        raise AriaInputError(
            f"{source}: score matrix must be 2-D (segments x queries), got {array.ndim}-D "
            f"with shape {tuple(array.shape)}"
        )
    if transpose:
        array = array.T
    n, q = array.shape
    if n == 0 or q == 0:
        raise AriaInputError(f"{source}: score matrix is empty (shape {n} x {q})")
    if query_ids is None:
        qids = np.array([f"q{j}" for j in range(q)])
    else:
        qids = np.asarray(query_ids)
        if qids.ndim != 1 or qids.shape[0] != q:
            raise AriaInputError(
                f"{source}: {qids.size} query ids for {q} queries (columns); "
                "is the matrix transposed (stored queries x segments)?"
            )
        qids = qids.astype(str)
        check_unique(qids, "query id")
    if segment_track is None:
        track = np.arange(n, dtype=np.int64)
    else:
        track = normalize_ids(np.asarray(segment_track))
        validate_track_map(track, n, f"{source}: segment_track")
    da = xr.DataArray(
        array,
        dims=(SEGMENT, QUERY),
        coords={SEGMENT: np.arange(n, dtype=np.int64), QUERY: qids, TRACK: (SEGMENT, track)},
        attrs={"source": source},
    )
    validate_scores(da)
    return da


def resolve_orientation(transpose: bool = False, orientation: str | None = None) -> str | None:
    """Combine ``transpose=`` and ``orientation=`` into one stated layout (or None: not stated).

    Parameters
    ----------
    transpose : bool
        The file holds queries x segments.
    orientation : {"segments-x-queries", "queries-x-segments"}, optional
        The layout, stated explicitly.

    Returns
    -------
    str or None
        One of :data:`ORIENTATIONS`, or None when neither was given.

    Examples
    --------
    >>> resolve_orientation(True)
    'queries-x-segments'
    >>> resolve_orientation(orientation="segments-x-queries")
    'segments-x-queries'
    """
    if orientation is not None and orientation not in ORIENTATIONS:
        raise AriaInputError(
            f"orientation must be one of {', '.join(ORIENTATIONS)}, got {orientation!r}"
        )
    if transpose:
        if orientation == SEGMENTS_X_QUERIES:
            raise AriaInputError(
                "transpose=True contradicts orientation='segments-x-queries' (transpose means "
                "queries-x-segments); give one of them"
            )
        return QUERIES_X_SEGMENTS
    return orientation


def bare_orientation(shape: tuple[int, int], *, stated: str | None = None,
                     query_ids: int | None = None, segment_track: int | None = None,
                     track_map_rows: bool = False) -> tuple[str | None, str]:
    """How a bare array is laid out, and why; None when it cannot be known (a wide matrix).

    Parameters
    ----------
    shape : tuple of int
        Stored (rows, columns).
    stated : str, optional
        The caller's ``orientation`` (see :func:`resolve_orientation`).
    query_ids, segment_track : int, optional
        Lengths of ids stored beside the array.
    track_map_rows : bool
        A segment -> track map given by the caller has one entry per row.

    Returns
    -------
    orientation : str or None
    reason : str

    Examples
    --------
    >>> bare_orientation((200, 20))
    ('segments-x-queries', 'more rows (200) than columns (20): rows are segments')
    >>> bare_orientation((20, 200))[0] is None
    True
    """
    rows, cols = shape
    if stated is not None:
        return stated, "stated by the caller (--orientation / --transpose)"
    if query_ids is not None and query_ids == cols:
        return SEGMENTS_X_QUERIES, f"{query_ids} query ids stored with it match the columns"
    if query_ids is not None and query_ids == rows:
        return QUERIES_X_SEGMENTS, f"{query_ids} query ids stored with it match the rows"
    if segment_track is not None and segment_track == rows:
        return SEGMENTS_X_QUERIES, f"{segment_track} segment tracks stored with it match the rows"
    if segment_track is not None and segment_track == cols:
        return QUERIES_X_SEGMENTS, f"{segment_track} segment tracks stored with it match the columns"
    if track_map_rows:
        return SEGMENTS_X_QUERIES, f"the segment->track map has one entry per row ({rows})"
    if rows >= cols:
        return SEGMENTS_X_QUERIES, f"more rows ({rows}) than columns ({cols}): rows are segments" \
            if rows > cols else f"square ({rows} x {cols}): rows are segments, as documented"
    return None, (f"fewer rows ({rows}) than columns ({cols}): a test x train matrix saved without "
                  "transposing looks like this")


def _wide_refusal(src: str, shape: tuple[int, int]) -> AriaInputError:
    rows, cols = shape
    return AriaInputError(
        f"{src}: {rows} rows x {cols} columns: fewer training segments than queries looks like a "
        "queries x segments (test x train) matrix; pass transpose=True if it is one, or "
        "orientation='segments-x-queries' to confirm the rows are segments"
    )


class ReaderOptions(TypedDict, total=False):
    """How to read score files: the keywords of :func:`load_scores` after ``path``.

    Functions that read several score files the same way
    (:func:`aria.evaluate.pipeline.evaluate_methods`, :func:`aria.evaluate.pipeline.compare_files`)
    take them as ``**reader`` and pass them on; :func:`reader_parameters` fills in the defaults.

    Attributes
    ----------
    tracks : path-like, array or None
        Segment -> track map.
    transpose : bool
        The files hold queries x segments.
    variable, experiment, orientation : str or None
        As in :func:`load_scores`.

    Examples
    --------
    >>> import aria
    >>> from aria.io.scores import ReaderOptions
    >>> opts = ReaderOptions(orientation="segments-x-queries")
    >>> aria.load_scores(aria.examples.path("collapsed"), **opts).shape
    (1000, 40)
    """

    tracks: str | os.PathLike[str] | np.ndarray | None
    transpose: bool
    variable: str | None
    experiment: str | None
    orientation: str | None


def reader_parameters(reader: ReaderOptions) -> dict[str, Any]:
    """Every :class:`ReaderOptions` keyword with its value, defaults filled in (for provenance).

    Parameters
    ----------
    reader : ReaderOptions
        The keywords given.

    Returns
    -------
    dict
        ``tracks, transpose, variable, experiment, orientation`` in that order.

    Examples
    --------
    >>> from aria.io.scores import reader_parameters
    >>> reader_parameters({"transpose": True})
    {'tracks': None, 'transpose': True, 'variable': None, 'experiment': None, 'orientation': None}
    """
    defaults = {"tracks": None, "transpose": False, "variable": None, "experiment": None, "orientation": None}
    return {key: reader.get(key, default) for key, default in defaults.items()}


@validate_params({"path": "path", "tracks": [None, "path", InstanceOf(np.ndarray)], "transpose": "boolean",
                  "variable": [None, "str"], "experiment": [None, "str"],
                  "orientation": [None, Options(ORIENTATIONS)]})
def load_scores(
    path: str | os.PathLike[str],
    *,
    tracks: str | os.PathLike[str] | np.ndarray | None = None,
    transpose: bool = False,
    variable: str | None = None,
    experiment: str | None = None,
    orientation: str | None = None,
) -> xr.DataArray:
    """Load a score matrix (training segments x queries) from disk.

    Parameters
    ----------
    path : path-like
        ``.npy`` (memory-mapped; also TRAK's ``.mmap``), ``.npz`` (array ``scores``, optional
        ``segment_track`` and ``query_ids``), netCDF ``.nc`` or ``.zarr`` (a DataArray with dims
        ``segment``/``query``, or ``train``/``test``, and an optional ``track`` coordinate),
        torch ``.pt`` (a tensor, or a dict with a ``scores`` tensor; ``weights_only=True``), or a
        peer library's own output: a TRAK ``save_dir`` (or its ``scores/`` folder or a
        ``scores/<experiment>.mmap``), Kronfluence ``pairwise_scores*.safetensors`` (or the
        ``scores_<name>/`` folder), a quanda explanations cache folder, a bergson score folder
        (see ``data/README.md``).
    tracks : path-like or array, optional
        Segment -> track map (see :func:`load_track_map`); overrides a map
        stored in the score file.
    transpose : bool
        The file holds queries x segments (e.g. saved test x train); same as
        ``orientation="queries-x-segments"``. Refused for formats that define their orientation.
    variable : str, optional
        Variable to read from a multi-variable netCDF/zarr store, ``.npz``, ``.pt`` dict or
        safetensors file (Kronfluence: one module instead of all modules summed).
    experiment : str, optional
        TRAK save_dir with several experiments: which one. Kronfluence analysis folder with
        several ``scores_<name>/`` runs: which name. Formats without experiments ignore it (so
        ``aria compare`` can mix a TRAK save_dir with other files).
    orientation : {"segments-x-queries", "queries-x-segments"}, optional
        How a bare array (``.npy``, ``.npz``, ``.pt``, generic safetensors) is laid out. Without
        it, a bare array with fewer rows than columns is refused (it looks transposed).

    Returns
    -------
    xarray.DataArray
        Dims ``("segment", "query")``, coords ``segment``, ``query`` and
        ``track``; ``attrs["source"]``, ``attrs["format"]`` and ``attrs["orientation"]`` (why
        the rows are segments).

    Raises
    ------
    AriaInputError
        Missing, truncated, pickled, non-numeric, wrongly shaped, ambiguous or
        inconsistent input, with a one-line message.

    Examples
    --------
    >>> import aria
    >>> import numpy as np, tempfile, os, aria
    >>> p = os.path.join(tempfile.mkdtemp(), "s.npy")
    >>> np.save(p, np.random.default_rng(0).normal(size=(20, 200)))
    >>> aria.load_scores(p, transpose=True).shape
    (200, 20)
    """
    stated = resolve_orientation(transpose, orientation)
    if isinstance(path, str) and "://" in path:  # a zarr store behind an fsspec URL (s3://, gs://, file://)
        if stated == QUERIES_X_SEGMENTS:
            raise AriaInputError(f"transpose does not apply to zarr stores, whose dims are named ({path})",
                                 parameter="transpose", function="load_scores")
        return _finish(_load_xarray(path, "zarr", variable), path, "zarr", "dims named in the file", tracks)
    p = Path(path)
    src = str(p)
    check_input_path(p, "score file", folder_ok=True)  # a pipe or device would block
    suffix = p.suffix.lower()
    if suffix in _PICKLE_SUFFIXES:
        raise AriaInputError(
            f"{src}: refusing to read a pickle (it can run arbitrary code); "
            "save the matrix as .npy, .npz, .nc, .zarr or a torch tensor (.pt)"
        )
    fmt = detect_peer(p)
    if fmt is None:
        if p.is_dir():
            if suffix == ".zarr" or (p / ".zarray").exists() or (p / "zarr.json").exists() \
                    or (p / ".zgroup").exists():
                fmt = "zarr"
            elif _is_shard_folder(p):
                fmt = "npy-shards"
            else:
                raise AriaInputError(
                    f"{src}: is a directory but not a score folder Aria knows (zarr store, folder of "
                    ".npy row shards, TRAK save_dir, Kronfluence scores_<name>/, quanda cache of "
                    "<batch>.pt, bergson info.json + scores.bin)"
                )
        else:
            fmt = _sniff_format(p)
    if fmt in ("netcdf", "zarr"):
        if stated == QUERIES_X_SEGMENTS:
            raise AriaInputError(
                f"transpose does not apply to {fmt} files, whose dims are named ({src})",
                parameter="transpose", function="load_scores")
        da = _load_xarray(p, fmt, variable)
        why = "dims named in the file"
    elif fmt == "npy-shards":  # a folder of .npy row shards, stacked in file-name order
        if stated == QUERIES_X_SEGMENTS:
            raise AriaInputError(f"transpose does not apply to a folder of row shards ({src})",
                                 parameter="transpose", function="load_scores")
        from aria.scale.sources import open_npy_shards

        da, why = open_npy_shards(p), "row shards: rows are segments"
    else:
        da, why, fmt = _load_array_format(p, fmt, stated=stated, variable=variable,
                                          experiment=experiment, tracks=tracks)
    return _finish(da, src, fmt, why, tracks)


def _is_shard_folder(p: Path) -> bool:
    """A folder of ``.npy`` row shards: every ``*.npy`` a 2-D numeric C-order array, same columns."""
    files = sorted(p.glob("*.npy"))
    if not files:
        return False
    columns = set()
    for f in files:
        try:
            shape, dtype, fortran, _ = npy_header(f)
        except AriaInputError:
            return False
        if len(shape) != 2 or fortran or dtype.kind not in "iuf":
            return False
        columns.add(shape[1])
    return len(columns) == 1


def _finish(da: xr.DataArray, src: str, fmt: str, why: str, tracks) -> xr.DataArray:
    da.attrs["source"] = src
    da.attrs["format"] = fmt
    da.attrs["orientation"] = why
    if tracks is not None:
        defined = fmt not in ("npy", "npz", "torch", "safetensors")
        da = da.assign_coords({TRACK: (SEGMENT, _track_map_for(tracks, da, src, defined))})
    validate_scores(da)
    return da


def _track_map_for(tracks, da: xr.DataArray, src: str, defined: bool) -> np.ndarray:
    """The map for the rows; a map that fits the columns instead is named as such."""
    n, q = da.sizes[SEGMENT], da.sizes[QUERY]
    try:
        return load_track_map(tracks, n)
    except AriaInputError as exc:
        original = exc
    if q != n:
        try:
            load_track_map(tracks, q)
        except AriaInputError:
            pass
        else:
            raise AriaInputError(
                f"{_name(tracks)}: the segment->track map has {q} entries, the number of columns "
                f"(queries) of {src}, not of its {n} rows (segments); the matrix is read as {n} "
                f"segments x {q} queries ({da.attrs['orientation']}); "
                + ("the format defines that orientation: is the map for another matrix?" if defined
                   else "if the file holds queries x segments pass transpose=True")
            )
    raise original


def _name(tracks) -> str:
    return "<array>" if isinstance(tracks, np.ndarray) else str(tracks)


def _load_array_format(p: Path, fmt: str, *, stated: str | None, variable: str | None,
                       experiment: str | None, tracks) -> tuple[xr.DataArray, str, str]:
    """Read an array-valued format and orient it: the matrix, why it is oriented so, the format."""
    src = str(p)
    query_ids = segment_track = None
    if fmt in ("trak", "kronfluence", "safetensors", "quanda", "bergson"):
        peer = read_peer(p, fmt, variable=variable, experiment=experiment)
        if peer.stored is not None:
            if stated == QUERIES_X_SEGMENTS:
                raise AriaInputError(
                    f"{src}: {peer.reason}; transpose=True / orientation='queries-x-segments' do not "
                    f"apply to {fmt} output, whose orientation the format defines"
                )
            return scores_from_array(peer.array, transpose=peer.stored == QUERIES_X_SEGMENTS,
                                     source=src), peer.reason, peer.fmt
        array, fmt = peer.array, peer.fmt
    elif fmt == "npy":
        array = open_npy(p)
    elif fmt == "npz":
        array, query_ids, segment_track = _load_npz(p, variable=variable)
    elif fmt == "torch":
        array, query_ids, segment_track = _load_torch(p, variable=variable)
    else:  # pragma: no cover - _sniff_format only returns the above
        raise AriaInputError(f"{src}: unsupported format")
    if array.ndim != 2:
        validate_dtype(array.dtype, src)
        raise AriaInputError(
            f"{src}: score matrix must be 2-D (segments x queries), got {array.ndim}-D "
            f"with shape {tuple(array.shape)}"
        )
    shape = (int(array.shape[0]), int(array.shape[1]))
    map_rows = False
    if tracks is not None and stated is None and shape[0] < shape[1]:
        try:
            load_track_map(tracks, shape[0])
            map_rows = True
        except AriaInputError:
            pass
    orient, why = bare_orientation(
        shape, stated=stated, track_map_rows=map_rows,
        query_ids=None if query_ids is None else int(np.asarray(query_ids).size),
        segment_track=None if segment_track is None else int(np.asarray(segment_track).size),
    )
    if orient is None:
        if tracks is not None:
            try:
                load_track_map(tracks, shape[1])
            except AriaInputError:
                pass
            else:
                raise AriaInputError(
                    f"{_name(tracks)}: the segment->track map has {shape[1]} entries, the number of "
                    f"columns of {src} ({shape[0]} x {shape[1]}), not of its rows: the file looks "
                    "queries x segments; pass transpose=True (or orientation='queries-x-segments')"
                )
        raise _wide_refusal(src, shape)
    if stated is None and (query_ids is not None or segment_track is not None) \
            and orient == QUERIES_X_SEGMENTS:
        # ids stored with the array contradict the documented layout: say so, never transpose silently
        raise AriaInputError(
            f"{src}: {why}, so the array looks stored queries x segments; pass transpose=True "
            "(or orientation='queries-x-segments') to read it so"
        )
    da = scores_from_array(array, query_ids=query_ids, segment_track=segment_track,
                           transpose=orient == QUERIES_X_SEGMENTS, source=src)
    return da, why, fmt


def _sniff_format(p: Path) -> str:
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise AriaInputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if not head:
        raise AriaInputError(f"{p}: file is empty")
    suffix = p.suffix.lower()
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        # .npz and torch's zip format share the zip container.
        if suffix in (".pt", ".pth"):
            return "torch"
        try:
            with zipfile.ZipFile(p) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile:
            raise AriaInputError(f"{p}: truncated or corrupt zip (.npz/.pt) file") from None
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
        return "npz"
    if head.startswith(b"CDF") or head.startswith(b"\x89HDF"):
        return "netcdf"
    if head[:1] == b"\x80" and suffix in (".pt", ".pth"):
        raise AriaInputError(
            f"{p}: legacy (non-zip) torch file; re-save it with torch.save in the default "
            "zip format, which Aria can read with weights_only=True"
        )
    kind = {".npy": "NumPy .npy", ".npz": "NumPy .npz", ".nc": "netCDF",
            ".pt": "torch", ".pth": "torch"}.get(suffix)
    if kind:
        raise AriaInputError(f"{p}: not a valid {kind} file (unrecognised header)")
    raise AriaInputError(
        f"{p}: unrecognised file format; expected .npy, .npz, .nc, .zarr or .pt"
    )


def _load_npz(p: Path, *, variable: str | None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    try:
        with np.load(p, allow_pickle=False) as z:
            names = list(z.files)
            key = variable or ("scores" if "scores" in names else None)
            if key is None:
                others = [n for n in names if n not in ("segment_track", "query_ids")]
                if len(others) != 1:
                    raise AriaInputError(
                        f"{p}: .npz has no array named 'scores' (arrays: {', '.join(names)}); "
                        "name it 'scores' or pass variable="
                    )
                key = others[0]
            if key not in names:
                raise AriaInputError(f"{p}: .npz has no array {key!r} (arrays: {', '.join(names)})")
            array = z[key]
            segment_track = z["segment_track"] if "segment_track" in names else None
            query_ids = z["query_ids"] if "query_ids" in names else None
    except AriaInputError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        msg = str(exc)
        if "allow_pickle" in msg or "pickled" in msg:
            raise AriaInputError(
                f"{p}: .npz holds pickled objects; Aria never unpickles data: "
                "store numeric arrays (and string ids as fixed-width unicode)"
            ) from None
        raise AriaInputError(f"{p}: truncated or corrupt .npz file ({msg})") from None
    validate_dtype(array.dtype, str(p))
    return array, query_ids, segment_track


def _zarr_consolidated(p: Path) -> bool:
    """Whether the store has consolidated metadata (asking avoids zarr's fallback warning)."""
    if (p / ".zmetadata").is_file():
        return True
    try:
        meta = json.loads((p / "zarr.json").read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and isinstance(meta.get("consolidated_metadata"), dict)


def _load_xarray(p: Path | str, fmt: str, variable: str | None) -> xr.DataArray:
    local = isinstance(p, Path)  # else an fsspec URL (its metadata is not pre-checked: docs/security.md)
    if fmt == "zarr" and local and p.is_dir():
        check_zarr_store(p)  # refuse object/pickle codecs before any array is decoded
    try:
        if fmt == "zarr":
            ds = xr.open_zarr(p, consolidated=_zarr_consolidated(p) if local else None)
        else:
            ds = xr.open_dataset(p, cache=False)  # read row blocks lazily, never cache the whole
    except ImportError as exc:
        raise AriaDependencyError(
            f"{p}: reading {fmt} needs an optional package ({exc.name}); "
            "install it with: pip install 'aria-tda[scale]'"
        ) from None
    except Exception as exc:  # backends raise many types for corrupt files
        raise AriaInputError(f"{p}: cannot open {fmt} store ({type(exc).__name__}: {exc})") from None
    names = list(ds.data_vars)
    key = variable or ("scores" if "scores" in names else (names[0] if len(names) == 1 else None))
    if key is None or key not in names:
        raise AriaInputError(
            f"{p}: choose the score variable (variables: {', '.join(names) or 'none'}); "
            "name it 'scores' or pass variable="
        )
    da = ds[key]
    rename = {}
    for d in da.dims:
        target = _DIM_ALIASES.get(str(d))
        if target is None:
            raise AriaInputError(
                f"{p}: variable {key!r} has dims {tuple(da.dims)}; expected 'segment' and 'query' "
                "(or 'train' and 'test')"
            )
        rename[d] = target
    if len(set(rename.values())) != 2 or da.ndim != 2:
        raise AriaInputError(f"{p}: variable {key!r} must have one 'segment' and one 'query' dim")
    da_dims = [next(d for d in da.dims if rename[d] == t) for t in (SEGMENT, QUERY)]
    da = da.rename({k: v for k, v in rename.items() if k != v}).transpose(SEGMENT, QUERY)
    validate_dtype(da.dtype, str(p))
    n, q = da.shape
    if n == 0 or q == 0:
        raise AriaInputError(f"{p}: score matrix is empty (shape {n} x {q})")
    qids = (
        np.asarray(da.coords[QUERY].values).astype(str) if QUERY in da.coords
        else np.array([f"q{j}" for j in range(q)])
    )
    check_unique(qids, "query id")
    if TRACK in da.coords:
        track = normalize_ids(np.asarray(da.coords[TRACK].values))
        validate_track_map(track, n, f"{p}: track coordinate")
    else:
        track = np.arange(n, dtype=np.int64)
    keep = da.drop_vars([c for c in da.coords])  # stays lazy (backend/dask array)
    out = keep.assign_coords(
        {SEGMENT: np.arange(n, dtype=np.int64), QUERY: qids, TRACK: (SEGMENT, track)}
    )
    out.name = None
    # Where a dask worker re-opens this store (aria.scale.sources.row_source).
    out.attrs.update(variable=str(key), source_dims=[str(d) for d in da_dims])
    return out


def _load_torch(p: Path, *, variable: str | None) -> tuple[np.ndarray, object, object]:
    obj = torch_load(p)
    segment_track = query_ids = None
    if isinstance(obj, dict):
        key = variable or "scores"
        if key not in obj:
            raise AriaInputError(
                f"{p}: dict has no {key!r} tensor (keys: {', '.join(map(str, obj))})"
            )
        segment_track = obj.get("segment_track")
        query_ids = obj.get("query_ids")
        obj = obj[key]
    elif isinstance(obj, tuple | list):
        raise AriaInputError(
            f"{p}: holds a {type(obj).__name__} of {len(obj)} items, not a score tensor "
            "(a dattri LDS ground truth (gt_values, indices) is read by load_ground_truth)"
        )
    array = tensor_to_numpy(obj, str(p))

    def _np(x):
        return None if x is None else (tensor_to_numpy(x, str(p)) if hasattr(x, "detach") else x)

    return array, _np(query_ids), _np(segment_track)
