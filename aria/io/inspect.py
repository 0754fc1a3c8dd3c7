"""What Aria sees in a score file, without computing anything: :func:`inspect_scores`.

Reads headers, metadata and (for torch and quanda) memory-mapped tensors; never reads the values of
a large array, never sums, never transposes.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from aria.errors import AriaInputError
from aria.io.npyfile import npy_header
from aria.io.peers import QUERIES_X_SEGMENTS, SEGMENTS_X_QUERIES, detect_peer, peer_runs, read_peer
from aria.io.scores import bare_orientation
from aria.params import validate_params

__all__ = ["inspect_scores"]

_PEER_NAMES = {"trak": "TRAK", "kronfluence": "Kronfluence", "safetensors": "safetensors",
               "quanda": "quanda explanations cache", "bergson": "bergson score folder"}


@validate_params({"path": "path", "variable": [None, "str"], "experiment": [None, "str"]})
def inspect_scores(path: str | os.PathLike[str], *, variable: str | None = None,
                   experiment: str | None = None) -> dict:
    """Describe a score file as :func:`aria.load_scores` would read it, computing nothing.

    Parameters
    ----------
    path : path-like
        Any input :func:`aria.load_scores` accepts (file or folder).
    variable, experiment : str, optional
        As for :func:`aria.load_scores`.

    Returns
    -------
    dict
        ``path``, ``format``, ``size_bytes``, ``arrays`` (``name``, ``shape``, ``dtype`` of each
        array, key or batch file), ``stored_shape``, ``dtype``, ``orientation``
        (``"segments-x-queries"``, ``"queries-x-segments"`` or None when it cannot be known and
        Aria refuses the file without ``--transpose`` / ``--orientation``), ``orientation_reason``,
        ``shape`` (segments, queries as read; None when the orientation is unknown), ``streams``
        (bool) and ``streams_reason``, ``notes`` (list of str).

    Raises
    ------
    AriaInputError
        Missing, unreadable or malformed input (one line), as :func:`aria.load_scores` would.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "s.npy")
    >>> np.save(p, np.zeros((20, 200), np.float32))
    >>> info = inspect_scores(p)
    >>> info["format"], info["stored_shape"], info["orientation"]
    ('npy', [20, 200], None)
    """
    p = Path(path)
    if not p.exists():
        raise AriaInputError(f"{p}: no such file or directory")
    out: dict = {"path": str(p), "size_bytes": _size(p), "notes": []}
    fmt = detect_peer(p)
    runs = peer_runs(p, fmt) if fmt is not None and experiment is None else []
    if len(runs) > 1:
        _describe_runs(p, fmt, runs, variable, out)
    elif fmt is not None:
        peer = read_peer(p, fmt, variable=variable, experiment=experiment, load=False)
        out.update(format=peer.fmt, arrays=peer.parts, stored_shape=list(peer.shape), dtype=peer.dtype,
                   streams=peer.streams, notes=list(peer.notes))
        out["streams_reason"] = ("memory map, read in row blocks" if peer.streams
                                 else "assembled in memory before the pass")
        if peer.stored is not None:
            out.update(orientation=peer.stored, orientation_reason=peer.reason)
        else:
            _orient(out, peer.shape)
    elif p.is_dir():
        _describe_xarray(p, "zarr", variable, out)
    else:
        from aria.io.scores import _sniff_format

        fmt = _sniff_format(p)
        if fmt == "npy":
            shape, dtype, fortran, _ = npy_header(p)
            out.update(format="npy", arrays=[{"name": p.name, "shape": list(shape), "dtype": str(dtype)}],
                       stored_shape=list(shape), dtype=str(dtype), streams=True,
                       streams_reason="memory map, read in row blocks")
            if p.suffix.lower() == ".mmap":
                out["notes"].append(".mmap is an .npy file (TRAK writes its memmaps so)")
            if fortran:
                out["notes"].append("Fortran (column-major) order: row blocks read strided")
            _orient(out, shape)
        elif fmt == "npz":
            _describe_npz(p, variable, out)
        elif fmt == "torch":
            _describe_torch(p, variable, out)
        else:
            _describe_xarray(p, fmt, variable, out)
    out.setdefault("shape", None)
    if out.get("stored_shape") is None:
        pass
    elif out.get("orientation") == SEGMENTS_X_QUERIES:
        out["shape"] = list(out["stored_shape"])
    elif out.get("orientation") == QUERIES_X_SEGMENTS:
        out["shape"] = list(out["stored_shape"])[::-1]
    order = ["path", "format", "size_bytes", "arrays", "stored_shape", "dtype", "orientation",
             "orientation_reason", "shape", "streams", "streams_reason", "notes"]
    return {k: out.get(k) for k in order}


def _describe_runs(p: Path, fmt: str, runs: list[str], variable: str | None, out: dict) -> None:
    """A folder with several runs: list them all; Aria reads one, named with --experiment."""
    arrays, reason = [], ""
    for name in runs:
        peer = read_peer(p, fmt, variable=variable, experiment=name, load=False)
        arrays += [dict(a, name=f"{name}: {a['name']}") for a in peer.parts]
        reason = peer.reason
        stored = peer.stored
    kind = "experiments" if fmt == "trak" else "score runs (scores_<name>/)"
    out.update(format=fmt, arrays=arrays, stored_shape=None, dtype=None, orientation=stored,
               orientation_reason=reason, streams=None, streams_reason="depends on the run chosen",
               notes=[f"{len(runs)} {kind}: {', '.join(runs)}; Aria reads one, chosen with "
                      "--experiment NAME"])


def _size(p: Path) -> int:
    if p.is_file():
        return p.stat().st_size
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def _orient(out: dict, shape, query_ids: int | None = None, segment_track: int | None = None) -> None:
    if len(shape) != 2:
        out.update(orientation=None, orientation_reason=f"{len(shape)}-D: not a score matrix")
        return
    orient, why = bare_orientation((int(shape[0]), int(shape[1])), query_ids=query_ids,
                                   segment_track=segment_track)
    if orient is None:
        why += "; refused unless --transpose or --orientation segments-x-queries says which"
    elif orient == QUERIES_X_SEGMENTS:
        why += "; refused unless --transpose confirms it"
        orient = None
    out.update(orientation=orient, orientation_reason=why)


def _describe_npz(p: Path, variable: str | None, out: dict) -> None:
    arrays = []
    try:
        with zipfile.ZipFile(p) as zf:
            for name in zf.namelist():
                with zf.open(name) as fh:
                    version = np.lib.format.read_magic(fh)
                    reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                              else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = reader(fh)
                arrays.append({"name": name.removesuffix(".npy"), "shape": list(shape), "dtype": str(dtype)})
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise AriaInputError(f"{p}: truncated or corrupt .npz file ({exc})") from None
    by_name = {a["name"]: a for a in arrays}
    others = [n for n in by_name if n not in ("segment_track", "query_ids")]
    key = variable or ("scores" if "scores" in by_name else (others[0] if len(others) == 1 else None))
    if key is None or key not in by_name:
        raise AriaInputError(
            f"{p}: .npz has no array {'named scores' if key is None else repr(key)} "
            f"(arrays: {', '.join(by_name)}); name it 'scores' or pass variable=NAME"
        )
    a = by_name[key]
    out.update(format="npz", arrays=arrays, stored_shape=a["shape"], dtype=a["dtype"], streams=False,
               streams_reason=".npz members are read into memory")
    if key != "scores":
        out["notes"].append(f"array {key!r}")

    def _len(name):
        return int(np.prod(by_name[name]["shape"])) if name in by_name else None

    _orient(out, a["shape"], query_ids=_len("query_ids"), segment_track=_len("segment_track"))


def _describe_torch(p: Path, variable: str | None, out: dict) -> None:
    import torch

    from aria.io.torchfile import torch_load_mapped

    obj, mapped = torch_load_mapped(p)

    def _d(name, t):
        if isinstance(t, torch.Tensor):
            return {"name": name, "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
        return {"name": name, "shape": None, "dtype": type(t).__name__}

    out.update(format="torch", streams=mapped,
               streams_reason="memory-mapped by torch (mmap=True)" if mapped
               else "read into memory by torch")
    if isinstance(obj, tuple | list):
        out.update(arrays=[_d(f"[{i}]", t) for i, t in enumerate(obj)], stored_shape=None, dtype=None,
                   orientation=None, orientation_reason="a tuple is not a score matrix",
                   streams=None, streams_reason="not a score matrix")
        if len(obj) == 2:
            out["notes"].append("a 2-tuple: dattri's LDS ground truth (gt_values, indices)? "
                                "give it to aria compare --lds-gt")
        return
    qlen = slen = None
    if isinstance(obj, dict):
        out["arrays"] = [_d(str(k), v) for k, v in obj.items()]
        key = variable or "scores"
        if key not in obj:
            raise AriaInputError(f"{p}: dict has no {key!r} tensor (keys: {', '.join(map(str, obj))})")
        qlen = len(obj["query_ids"]) if "query_ids" in obj else None
        slen = len(obj["segment_track"]) if "segment_track" in obj else None
        obj = obj[key]
    else:
        out["arrays"] = [_d("<tensor>", obj)]
    if not isinstance(obj, torch.Tensor):
        raise AriaInputError(f"{p}: expected a tensor, found {type(obj).__name__}")
    out.update(stored_shape=list(obj.shape), dtype=str(obj.dtype).removeprefix("torch."))
    if obj.dtype == torch.bfloat16:
        out["notes"].append("bfloat16: converted to float32 in memory")
        out.update(streams=False, streams_reason="bfloat16 is converted in memory")
    _orient(out, tuple(obj.shape), query_ids=qlen, segment_track=slen)


def _describe_xarray(p: Path, fmt: str, variable: str | None, out: dict) -> None:
    from aria.io.scores import load_scores

    da = load_scores(p, variable=variable)  # lazy: opens the store, reads coordinates only
    out.update(format=fmt, arrays=[{"name": "scores" if variable is None else variable,
                                    "shape": list(da.shape), "dtype": str(da.dtype)}],
               stored_shape=list(da.shape), dtype=str(da.dtype), orientation=SEGMENTS_X_QUERIES,
               orientation_reason="dims named in the file (segment/query or train/test)",
               streams=True, streams_reason="read lazily, one row block at a time")
