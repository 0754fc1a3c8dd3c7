"""Reading LDS ground truth (``GT.npz``) and precomputed LDS values (``LDS.json``).

``GT.npz`` layout (NumPy ``.npz``, read with ``allow_pickle=False``):

``subsets``
    Either a boolean mask of shape (n_subsets, N) (``True`` = training row
    ``i`` was in the subset), or dattri's layout: an integer array
    (n_subsets, subset_size) of training-row indices, where entries outside
    ``[0, N)`` are padding and ignored.
``targets``
    float array (n_subsets, Q): target of the model retrained on subset
    ``s`` for query ``q``, higher = the subset supports the query more
    (dattri's ``calculate_lds_ground_truth`` output, which is the negated
    loss).
``query_ids`` (optional)
    (Q,) strings: which queries of the score matrix the target columns are;
    without it, the columns are the score matrix's queries in order.
``target_kind`` (optional)
    0-d string, ``"score"`` (default, used as is) or ``"loss"`` (a raw loss,
    lower = better; Aria negates it, as dattri does).

``LDS.json``: an object mapping method name to its LDS (a number or null),
either at the top level or under a key ``"lds"``.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from aria.errors import AriaInputError
from aria.evaluate.lds import GroundTruth
from aria.params import Interval, Options, validate_params

__all__ = ["load_ground_truth", "load_lds_values"]


@validate_params({"path": "path", "n_rows": Interval(int, 1, None),
                  "target_kind": [None, Options(("score", "loss"))]})
def load_ground_truth(
    path: str | os.PathLike[str], n_rows: int, *, target_kind: str | None = None
) -> GroundTruth:
    """Read ``GT.npz`` (layout in the module docstring).

    Parameters
    ----------
    path : path-like
        The ``.npz`` file.
    n_rows : int
        Number of training rows N of the score matrices it applies to.
    target_kind : {"score", "loss"}, optional
        Overrides the file's ``target_kind``.

    Returns
    -------
    GroundTruth
    """
    p = Path(path)
    src = str(p)
    if not p.is_file():
        raise AriaInputError(f"{src}: no such file")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise AriaInputError(f"{src}: not a readable .npz ground-truth file ({exc})") from None
    for key in ("subsets", "targets"):
        if key not in arrays:
            raise AriaInputError(f"{src}: missing array {key!r} (found: {', '.join(arrays) or 'none'})")
    kind = target_kind or (str(arrays["target_kind"]) if "target_kind" in arrays else "score")
    if kind not in ("score", "loss"):
        raise AriaInputError(f"{src}: target_kind must be 'score' or 'loss', got {kind!r}")
    targets = arrays["targets"]
    if targets.dtype.kind not in "iuf":
        raise AriaInputError(f"{src}: 'targets' must be numeric, got dtype {targets.dtype}")
    targets = targets.astype(np.float64)
    if kind == "loss":
        targets = -targets
    subsets = arrays["subsets"]
    qids = arrays.get("query_ids")
    if subsets.dtype == bool:
        if subsets.ndim != 2 or subsets.shape[1] != n_rows:
            raise AriaInputError(
                f"{src}: boolean 'subsets' must be (n_subsets, {n_rows}), got {subsets.shape}"
            )
        return GroundTruth(subsets, targets, query_ids=qids, target_kind=kind, source=src)
    if subsets.dtype.kind in "iu":
        return GroundTruth.from_indices(subsets, targets, n_rows, query_ids=qids, target_kind=kind,
                                        source=src)
    raise AriaInputError(f"{src}: 'subsets' must be boolean or integer, got dtype {subsets.dtype}")


@validate_params({"path": "path"})
def load_lds_values(path: str | os.PathLike[str]) -> dict[str, float]:
    """Read precomputed LDS values per method from JSON.

    Parameters
    ----------
    path : path-like
        ``{"method": 0.12, ...}`` or ``{"lds": {"method": 0.12, ...}}``.

    Returns
    -------
    dict
        Method name -> LDS (NaN for null).
    """
    p = Path(path)
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AriaInputError(f"{p}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AriaInputError(f"{p}: not valid JSON ({exc})") from None
    if isinstance(obj, dict) and isinstance(obj.get("lds"), dict):
        obj = obj["lds"]
    if not isinstance(obj, dict) or not obj:
        raise AriaInputError(f"{p}: expected an object mapping method name to LDS")
    out = {}
    for name, value in obj.items():
        if value is None:
            out[str(name)] = math.nan
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[str(name)] = float(value)
        else:
            raise AriaInputError(f"{p}: LDS of {name!r} must be a number or null, got {value!r}")
    return out
