"""Writing results: strict JSON, tables and result directories, always atomically."""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aria.errors import AriaInputError
from aria.io.atomic import atomic_open, atomic_path, clean_stale, temp_prefix
from aria.params import InstanceOf, validate_params

__all__ = ["json_safe", "write_json", "write_table", "check_out_dir", "check_out_file",
           "write_result_set", "staged_result_set", "homogeneity_files",
           "groups_frame"]


def json_safe(obj: object) -> object:
    """Recursively convert numpy scalars/arrays to Python and NaN/Inf to ``None``.

    Parameters
    ----------
    obj : object
        Nested dicts/lists/tuples of numbers, strings, numpy values.

    Returns
    -------
    object
        Something :func:`json.dumps` accepts with ``allow_nan=False``.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.io.output import json_safe
    >>> json_safe({"n": np.int64(3), "x": np.array([1.5, np.nan]), "inf": float("inf")})
    {'n': 3, 'x': [1.5, None], 'inf': None}
    """
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def finite_or_none(x: float) -> float | None:
    """``x`` as a Python float, or ``None`` when it is NaN or infinite (a JSON number or null).

    Parameters
    ----------
    x : float
        A real number (Python or numpy scalar).

    Returns
    -------
    float or None

    Examples
    --------
    >>> import numpy as np
    >>> from aria.io.output import finite_or_none
    >>> finite_or_none(np.float32(0.5)), finite_or_none(float("nan")), finite_or_none(3)
    (0.5, None, 3.0)
    """
    x = float(x)
    return x if math.isfinite(x) else None


@validate_params({"path": "path"})
def write_json(path: str | os.PathLike[str], obj: object) -> Path:
    """Write strict JSON (no NaN/Infinity tokens) atomically.

    Parameters
    ----------
    path : path-like
        Destination.
    obj : object
        Data, passed through :func:`json_safe`.

    Returns
    -------
    pathlib.Path
        ``path``, written whole or not at all.

    Examples
    --------
    >>> import json, tempfile, pathlib, numpy as np
    >>> from aria.io.output import write_json
    >>> p = write_json(pathlib.Path(tempfile.mkdtemp()) / "r.json", {"rho": np.float32(0.5), "e": np.nan})
    >>> json.loads(p.read_text())
    {'rho': 0.5, 'e': None}
    """
    with atomic_open(path, "w") as fh:
        json.dump(json_safe(obj), fh, indent=2, allow_nan=False, sort_keys=False)
        fh.write("\n")
    return Path(path)


@validate_params({"path": "path", "frame": InstanceOf(pd.DataFrame)})
def write_table(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write a table as CSV or Parquet (by suffix) atomically.

    Parameters
    ----------
    path : path-like
        Destination ending in ``.csv`` or ``.parquet``.
    frame : pandas.DataFrame
        The table; its index is not written.

    Returns
    -------
    pathlib.Path
        The written path.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from aria.io.output import write_table
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> frame = pd.DataFrame({"query": ["q1", "q2"], "z": [1.5, -0.25]})
    >>> write_table(d / "z.csv", frame).read_text().splitlines()
    ['query,z', 'q1,1.5', 'q2,-0.25']
    >>> pd.read_parquet(write_table(d / "z.parquet", frame)).equals(frame)
    True
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise AriaInputError(f"path must end in .csv or .parquet, got {p.name}", parameter="path",
                             function="write_table")
    with atomic_path(p) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False, float_format="%.17g")
        else:
            frame.to_parquet(tmp, index=False)
    return p


def _check_out_path(out: Path, inputs: Sequence[str | os.PathLike[str] | None], flag: str,
                    *, folder: bool) -> None:
    """Shared checks of an output path: kind, not an input, a writable existing ancestor."""
    try:
        st = os.stat(out)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise AriaInputError(f"{flag}: {out}: {exc.strerror or exc}", parameter=flag) from None
    if st is not None:
        if folder and not stat.S_ISDIR(st.st_mode):
            raise AriaInputError(f"{flag}: {out} exists and is not a directory", parameter=flag)
        if not folder and not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise AriaInputError(f"{flag}: {out} exists and is {kind}", parameter=flag)
    resolved = out.resolve()
    if resolved in {Path(p).resolve() for p in inputs if p}:
        raise AriaInputError(f"{flag}: {out} is one of the inputs; it would overwrite an input file",
                             parameter=flag)
    ancestor = resolved if (folder and st is not None) else resolved.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise AriaInputError(f"{flag}: {ancestor} is not a directory", parameter=flag)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise AriaInputError(f"{flag}: cannot write in {ancestor} (permission denied)", parameter=flag)


def check_out_dir(path: str | os.PathLike[str] | None,
                  inputs: Sequence[str | os.PathLike[str] | None]) -> Path | None:
    """Check an output directory up front; it is created only when results are written.

    Refuses, before any work: a path that exists and is not a directory (a file, a pipe), one
    of the inputs, and a folder whose nearest existing ancestor is not
    writable. Leftovers of killed runs (``.aria-tmp-<dead pid>-*``) next to it and inside it are
    removed (:func:`~aria.io.atomic.clean_stale`).

    Parameters
    ----------
    path : path-like or None
        The output directory (None: nothing is written).
    inputs : sequence of path-like
        Input paths that must not be overwritten (None entries are ignored).

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> str(check_out_dir("results", ["scores.npy"]))
    'results'
    """
    if path is None:
        return None
    out = Path(path)
    _check_out_path(out, inputs, "out", folder=True)
    clean_stale(out.resolve().parent)
    if out.is_dir():
        clean_stale(out)
    return out


def check_out_file(path: str | os.PathLike[str] | None,
                   inputs: Sequence[str | os.PathLike[str] | None], flag: str = "out") -> Path | None:
    """Check a single output file (e.g. ``--residual``) up front, before any work.

    Refuses a path that exists and is not a regular file (a folder, a pipe, a device), one of
    the inputs, and a file whose nearest existing ancestor folder is not writable; removes
    leftovers of killed runs in its folder (:func:`~aria.io.atomic.clean_stale`).

    Parameters
    ----------
    path : path-like or None
        The output file (None: nothing is written).
    inputs : sequence of path-like or None
        Input paths that must not be overwritten (None entries are ignored).
    flag : str
        Parameter name used in messages (the CLI maps it to its flag).

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> str(check_out_file("residual.npy", ["scores.npy"], "path"))
    'residual.npy'
    """
    if path is None:
        return None
    out = Path(path)
    _check_out_path(out, inputs, flag, folder=False)
    clean_stale(out.resolve().parent)
    return out


def write_result_set(out_dir: str | os.PathLike[str], files: Mapping[str, object]) -> list[Path]:
    """Write a result set all or nothing: into a temporary folder, then moved into place.

    Every file is first written into ``.aria-tmp-<pid>-<name>.<random>/`` next to
    ``out_dir``. Only when all of them are written: a missing or empty ``out_dir`` is replaced
    by that folder in one rename; an existing ``out_dir`` receives the files by one rename each
    (same file system, so no copy and no disk-full in between). On any error, or Ctrl-C, the
    temporary folder is removed and ``out_dir`` is left as it was; after a SIGKILL the next
    run removes it (:func:`~aria.io.atomic.clean_stale`).

    Parameters
    ----------
    out_dir : path-like
        Destination directory (created if needed).
    files : mapping
        File name -> content: a DataFrame for ``.csv``/``.parquet`` (:func:`write_table`),
        anything JSON-ready for ``.json`` (:func:`write_json`), a ``bytes`` or ``str`` for any
        other name (written as is). None entries are skipped.

    Returns
    -------
    list of pathlib.Path
        The written paths (in ``out_dir``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = {"t.csv": pd.DataFrame({"a": [1]}), "r.json": {"x": 1}, "no.csv": None}
    ...     paths = write_result_set(d, files)
    ...     [p.name for p in paths]
    ['t.csv', 'r.json']
    """
    names = []
    with staged_result_set(out_dir) as stage:
        for name, content in files.items():
            if content is None:
                continue
            target = stage / name
            if Path(name).suffix.lower() == ".json":
                write_json(target, content)
            elif isinstance(content, bytes | str):
                with atomic_open(target, "wb" if isinstance(content, bytes) else "w") as fh:
                    fh.write(content)
            else:
                write_table(target, content)
            names.append(name)
    return [Path(out_dir) / n for n in names]


@contextlib.contextmanager
def staged_result_set(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder to write a result set into; move it onto ``out_dir`` on success.

    What :func:`write_result_set` uses; for writers that produce their own files (the HTML
    report and its figures). On an exception (or Ctrl-C) the folder is removed and ``out_dir``
    is untouched; files of ``out_dir`` that the result set does not name are kept.

    Parameters
    ----------
    out_dir : path-like
        Destination directory (created if needed).

    Yields
    ------
    pathlib.Path
        The staging folder, ``.aria-tmp-<pid>-<name>.<random>`` next to ``out_dir``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = pathlib.Path(d) / "res"
    ...     with staged_result_set(out) as stage:
    ...         _ = (stage / "a.txt").write_text("x")
    ...     sorted(p.name for p in pathlib.Path(d).iterdir()), (out / "a.txt").read_text()
    (['res'], 'x')
    """
    import shutil
    import tempfile

    out = Path(out_dir)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    clean_stale(parent)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out.name), dir=parent))
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp creates 0700
        names = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if not p.is_dir())
        _publish(tmp, out, names)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)  # empty unless files were moved one by one


def _publish(tmp: Path, out: Path, names: list[str]) -> None:
    """Move a finished result set into place: one rename of the folder when possible."""
    if not out.exists():
        os.rename(tmp, out)
        return
    try:
        out.rmdir()  # an empty folder: replace it whole
    except OSError:
        pass
    else:
        os.rename(tmp, out)
        return
    for name in names:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / name, out / name)


def groups_frame(result: Any) -> pd.DataFrame:
    """Long table ``matrix, query, rank, track`` of each query's ranked top K_max tracks.

    Parameters
    ----------
    result : aria.groups.result.HomogeneityResult
        A homogeneity result (its ``scores`` and optional ``residual`` groups); typed ``Any``
        because :mod:`aria.io` imports no analysis package, not even for annotations.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import aria
    >>> from aria.io.output import groups_frame
    >>> g = groups_frame(aria.examples.tiny().homogeneity())  # K = 3
    >>> list(g.columns)
    ['matrix', 'query', 'rank', 'track']
    >>> g[g["query"] == "q2"]["track"].tolist()
    ['t6', 't5', 't7']
    """
    frames = []
    for m in (result.scores, result.residual):
        if m is None:
            continue
        q, k = m.groups.shape
        frames.append(pd.DataFrame({"matrix": m.matrix, "query": np.repeat(m.query_ids, k),
                                    "rank": np.tile(np.arange(1, k + 1), q), "track": m.groups.ravel()}))
    return pd.concat(frames, ignore_index=True)


def homogeneity_files(result: Any, summary: Mapping[str, object],
                      table_format: str = "parquet") -> dict[str, object]:
    """The result set ``aria homogeneity --out`` writes, as file name -> content.

    Parameters
    ----------
    result : aria.groups.result.HomogeneityResult
        The result.
    summary : mapping
        The JSON summary (``homogeneity.json``).
    table_format : {"parquet", "csv"}
        Format of the per-query tables (the small tables are always CSV).

    Returns
    -------
    dict
        For :func:`write_result_set` (add ``provenance.json`` to it).

    Examples
    --------
    >>> import aria
    >>> from aria.io.output import homogeneity_files
    >>> res = aria.examples.tiny().homogeneity()
    >>> sorted(homogeneity_files(res, {"verdict": res.verdict}, "csv"))
    ['excluded_tracks.csv', 'groups.csv', 'homogeneity.json', 'null.csv', 'per_query.csv',
     'per_query_features.csv', 'summary.csv']
    """
    ext = "." + table_format
    files: dict[str, object] = {
        f"per_query{ext}": result.to_frame("channel"),
        f"per_query_features{ext}": result.to_frame("feature"),
        "summary.csv": result.summary_frame(),
        "null.csv": result.null_frame(),
        f"groups{ext}": groups_frame(result),
        "excluded_tracks.csv": result.excluded_tracks,
    }
    if result.alignment is not None:
        files.update({"alignment.csv": result.alignment.channels,
                      "alignment_features.csv": result.alignment.features})
    if result.confound is not None:
        files.update({"confound.csv": result.confound.table, "confound_spread.csv": result.confound.spread})
    files["homogeneity.json"] = summary
    return files
