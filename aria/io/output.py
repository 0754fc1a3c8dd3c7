"""Writing results: strict JSON, tables and result directories, always atomically."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aria.errors import AriaInputError
from aria.io.atomic import atomic_open, atomic_path
from aria.params import InstanceOf, validate_params

__all__ = ["json_safe", "write_json", "write_table", "check_out_dir", "write_result_set", "homogeneity_files",
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
        The written path.
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


def check_out_dir(path: str | os.PathLike[str] | None,
                  inputs: Sequence[str | os.PathLike[str] | None]) -> Path | None:
    """Check an output directory up front; it is created only when results are written.

    Refuses a path that is an existing file or one of the inputs, so that a bad output
    directory fails before any work and a failed run leaves nothing behind.

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
    if out.exists() and not out.is_dir():
        raise AriaInputError(f"out: {out} exists and is not a directory", parameter="out")
    if out.resolve() in {Path(p).resolve() for p in inputs if p}:
        raise AriaInputError(f"out: {out} is one of the inputs", parameter="out")
    return out


def write_result_set(out_dir: str | os.PathLike[str], files: Mapping[str, object]) -> list[Path]:
    """Write named results into a directory, each file atomically, in the given order.

    Parameters
    ----------
    out_dir : path-like
        Destination directory (created if needed).
    files : mapping
        File name -> content: a DataFrame for ``.csv``/``.parquet`` (:func:`write_table`),
        anything JSON-ready for ``.json`` (:func:`write_json`). None entries are skipped.

    Returns
    -------
    list of pathlib.Path
        The written paths.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = {"t.csv": pd.DataFrame({"a": [1]}), "r.json": {"x": 1}, "no.csv": None}
    ...     paths = write_result_set(d, files)
    ...     [p.name for p in paths]
    ['t.csv', 'r.json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        if content is None:
            continue
        if Path(name).suffix.lower() == ".json":
            written.append(write_json(out / name, content))
        else:
            written.append(write_table(out / name, content))
    return written


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
