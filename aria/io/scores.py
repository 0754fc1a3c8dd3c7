"""Reading score matrices, segment -> track maps and query metadata.

Every reader returns labelled data (xarray / pandas) and raises
:class:`~aria.errors.AriaInputError` with a one-line message on a bad file.
Nothing here unpickles data: ``.npy``/``.npz`` are read with
``allow_pickle=False`` and torch files with ``weights_only=True``.
Large ``.npy`` files are memory-mapped, never copied whole.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import xarray as xr

from aria.errors import AriaDependencyError, AriaInputError
from aria.io.tables import load_track_map, normalize_ids
from aria.io.validate import (
    QUERY,
    SEGMENT,
    TRACK,
    check_unique,
    validate_dtype,
    validate_scores,
    validate_track_map,
)
from aria.params import InstanceOf, validate_params

__all__ = ["load_scores", "load_track_map", "scores_from_array"]

_NPY_MAGIC = b"\x93NUMPY"
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


@validate_params({"path": "path", "tracks": [None, "path", InstanceOf(np.ndarray)], "transpose": "boolean",
                  "variable": [None, "str"]})
def load_scores(
    path: str | os.PathLike[str],
    *,
    tracks: str | os.PathLike[str] | np.ndarray | None = None,
    transpose: bool = False,
    variable: str | None = None,
) -> xr.DataArray:
    """Load a score matrix (training segments x queries) from disk.

    Parameters
    ----------
    path : path-like
        ``.npy`` (memory-mapped), ``.npz`` (array ``scores``, optional
        ``segment_track`` and ``query_ids``), netCDF ``.nc`` or ``.zarr``
        (a DataArray with dims ``segment``/``query``, or ``train``/``test``,
        and an optional ``track`` coordinate), or torch ``.pt`` (a tensor, or
        a dict with a ``scores`` tensor; loaded with ``weights_only=True``).
    tracks : path-like or array, optional
        Segment -> track map (see :func:`load_track_map`); overrides a map
        stored in the score file.
    transpose : bool
        The file holds queries x segments (e.g. saved test x train).
        Not allowed for netCDF/zarr, whose dims are named.
    variable : str, optional
        Variable to read from a multi-variable netCDF/zarr store or ``.npz``.

    Returns
    -------
    xarray.DataArray
        Dims ``("segment", "query")``, coords ``segment``, ``query`` and
        ``track``; ``attrs["source"]`` and ``attrs["format"]``.

    Raises
    ------
    AriaInputError
        Missing, truncated, pickled, non-numeric, wrongly shaped or
        inconsistent input, with a one-line message.
    """
    p = Path(path)
    src = str(p)
    if not p.exists():
        raise AriaInputError(f"{src}: no such file or directory")
    suffix = p.suffix.lower()
    if suffix in _PICKLE_SUFFIXES:
        raise AriaInputError(
            f"{src}: refusing to read a pickle (it can run arbitrary code); "
            "save the matrix as .npy, .npz, .nc, .zarr or a torch tensor (.pt)"
        )
    if p.is_dir():
        if suffix == ".zarr" or (p / ".zarray").exists() or (p / "zarr.json").exists() \
                or (p / ".zgroup").exists():
            fmt = "zarr"
        else:
            raise AriaInputError(f"{src}: is a directory, not a score file")
    else:
        fmt = _sniff_format(p)
    if fmt == "npy":
        array = _load_npy(p)
        da = scores_from_array(array, transpose=transpose, source=src)
    elif fmt == "npz":
        da = _load_npz(p, transpose=transpose, variable=variable)
    elif fmt in ("netcdf", "zarr"):
        if transpose:
            raise AriaInputError(
                f"transpose does not apply to {fmt} files, whose dims are named ({src})",
                parameter="transpose", function="load_scores")
        da = _load_xarray(p, fmt, variable)
    elif fmt == "torch":
        da = _load_torch(p, transpose=transpose, variable=variable)
    else:  # pragma: no cover - _sniff_format only returns the above
        raise AriaInputError(f"{src}: unsupported format")
    if tracks is not None:
        track = load_track_map(tracks, da.sizes[SEGMENT])
        da = da.assign_coords({TRACK: (SEGMENT, track)})
    da.attrs["source"] = src
    da.attrs["format"] = fmt
    validate_scores(da)
    return da


def _sniff_format(p: Path) -> str:
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise AriaInputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if not head:
        raise AriaInputError(f"{p}: file is empty")
    suffix = p.suffix.lower()
    if head.startswith(_NPY_MAGIC):
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


def _load_npy(p: Path) -> np.ndarray:
    """Memory-map a .npy file after checking its header against its size."""
    try:
        with open(p, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            offset = fh.tell()
    except ValueError as exc:
        raise AriaInputError(f"{p}: corrupt .npy header ({exc})") from None
    validate_dtype(dtype, str(p))
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = p.stat().st_size
    if actual < expected:
        raise AriaInputError(
            f"{p}: truncated .npy file: header says shape {tuple(shape)} {dtype} "
            f"({expected} bytes) but the file has {actual} bytes"
        )
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=dtype)
    try:
        return np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise AriaInputError(f"{p}: cannot read .npy file ({exc})") from None


def _load_npz(p: Path, *, transpose: bool, variable: str | None) -> xr.DataArray:
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
    return scores_from_array(
        array, query_ids=query_ids, segment_track=segment_track, transpose=transpose, source=str(p)
    )


def _load_xarray(p: Path, fmt: str, variable: str | None) -> xr.DataArray:
    try:
        if fmt == "zarr":
            ds = xr.open_zarr(p, consolidated=None) if p.is_dir() else None
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
    return out


def _load_torch(p: Path, *, transpose: bool, variable: str | None) -> xr.DataArray:
    try:
        import torch
    except ImportError:
        raise AriaDependencyError(
            f"{p}: reading .pt files needs torch; install it with: pip install torch==2.13.0 "
            "(or convert the tensor to .npy)"
        ) from None
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError for disallowed objects, RuntimeError for corrupt
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise AriaInputError(
                f"{p}: holds Python objects that cannot be loaded safely (weights_only=True); "
                "save a plain tensor or a dict of tensors"
            ) from None
        raise AriaInputError(f"{p}: truncated or corrupt torch file ({msg})") from None
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
    if not isinstance(obj, torch.Tensor):
        raise AriaInputError(f"{p}: expected a tensor, found {type(obj).__name__}")
    if obj.is_complex() or obj.dtype == torch.bool:
        raise AriaInputError(f"{p}: tensor must hold real numbers, got {obj.dtype}")
    if obj.dtype == torch.bfloat16:
        obj = obj.float()
    array = obj.detach().cpu().numpy()

    def _np(x):
        return None if x is None else (x.cpu().numpy() if isinstance(x, torch.Tensor) else x)

    return scores_from_array(
        array, query_ids=_np(query_ids), segment_track=_np(segment_track),
        transpose=transpose, source=str(p),
    )
