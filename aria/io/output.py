"""Writing results: strict JSON, tables and result directories, always atomically."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from aria.errors import AriaInputError
from aria.io.atomic import atomic_open, atomic_path
from aria.params import InstanceOf, validate_params

__all__ = ["json_safe", "write_json", "write_table"]


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
