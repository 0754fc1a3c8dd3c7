"""Reading LDS ground truth (``GT.npz`` or dattri's ``.pt`` tuple) and precomputed LDS values.

dattri's own ground truth, as its users keep it: ``torch.save((gt_values, indices), path)`` with
what ``dattri.metric.calculate_lds_ground_truth`` returns: ``gt_values`` (n_subsets, Q) targets
(already the negated loss: higher = the subset supports the query more) and ``indices``
(n_subsets, subset_size) training-row indices. Read with ``weights_only=True``.

``GT.npz`` layout (NumPy ``.npz``, read with ``allow_pickle=False``):

``subsets``
    Either a boolean mask of shape (n_subsets, N) (``True`` = training row
    ``i`` was in the subset), or dattri's layout: an integer array
    (n_subsets, subset_size) of training-row indices, each in ``[0, N)``
    (dattri has no padding: an index outside is refused; a repeated index
    counts twice, as in ``dattri.metric.lds``).
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
from aria.io.torchfile import tensor_to_numpy, torch_load
from aria.io.validate import check_input_path, read_text_file
from aria.params import Interval, Options, validate_params

__all__ = ["load_ground_truth", "load_lds_values"]


@validate_params({"path": "path", "n_rows": Interval(int, 1, None),
                  "target_kind": [None, Options(("score", "loss"))]})
def load_ground_truth(
    path: str | os.PathLike[str], n_rows: int, *, target_kind: str | None = None
) -> GroundTruth:
    """Read LDS ground truth: ``GT.npz`` or dattri's ``(gt_values, indices)`` ``.pt`` tuple.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file (layout in the module docstring) or a torch file holding the tuple
        (or list) ``(gt_values, indices)``.
    n_rows : int
        Number of training rows N of the score matrices it applies to.
    target_kind : {"score", "loss"}, optional
        Overrides the file's ``target_kind`` (default ``"score"``; dattri's tuple holds scores).

    Returns
    -------
    GroundTruth

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "GT.npz")
    >>> np.savez(p, subsets=np.array([[0, 1], [1, 2], [2, 3]]), targets=np.eye(3)[:, :2])
    >>> load_ground_truth(p, 4).subsets.shape
    (3, 4)
    """
    p = Path(path)
    src = str(p)
    check_input_path(p, "ground-truth file")
    if _is_torch_file(p):
        return _load_torch_ground_truth(p, n_rows, target_kind)
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise AriaInputError(
            f"{src}: not a readable ground-truth file ({exc}); expected GT.npz or dattri's "
            "torch.save((gt_values, indices)) .pt"
        ) from None
    for key in ("subsets", "targets"):
        if key not in arrays:
            raise AriaInputError(f"{src}: missing array {key!r} (found: {', '.join(arrays) or 'none'})")
    kind = target_kind or (str(arrays["target_kind"]) if "target_kind" in arrays else "score")
    qids = arrays.get("query_ids")
    return _ground_truth(src, arrays["subsets"], arrays["targets"], n_rows, kind, qids)


def _is_torch_file(p: Path) -> bool:
    if p.suffix.lower() in (".pt", ".pth"):
        return True
    try:
        with zipfile.ZipFile(p) as zf:
            return any(n.endswith("data.pkl") for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _load_torch_ground_truth(p: Path, n_rows: int, target_kind: str | None) -> GroundTruth:
    src = str(p)
    obj = torch_load(p, what="dattri ground truth (.pt)")
    if not isinstance(obj, tuple | list) or len(obj) != 2:
        what = f"a {type(obj).__name__}" + (f" of {len(obj)} items" if isinstance(obj, tuple | list | dict)
                                             else "")
        raise AriaInputError(
            f"{src}: expected dattri's ground truth tuple (gt_values, indices) as "
            f"calculate_lds_ground_truth returns it, found {what}"
        )
    targets = tensor_to_numpy(obj[0], f"{src}: gt_values")
    indices = tensor_to_numpy(obj[1], f"{src}: indices")
    if indices.dtype.kind not in "iu":
        raise AriaInputError(
            f"{src}: indices (the second item) must be integer training-row indices, got {indices.dtype}"
        )
    return _ground_truth(src, indices, targets, n_rows, target_kind or "score", None)


def _ground_truth(src: str, subsets: np.ndarray, targets: np.ndarray, n_rows: int, kind: str,
                  qids) -> GroundTruth:
    if kind not in ("score", "loss"):
        raise AriaInputError(f"{src}: target_kind must be 'score' or 'loss', got {kind!r}")
    if targets.dtype.kind not in "iuf":
        raise AriaInputError(f"{src}: 'targets' must be numeric, got dtype {targets.dtype}")
    targets = targets.astype(np.float64)
    if kind == "loss":
        targets = -targets
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

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> from aria.io.groundtruth import load_lds_values
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lds.json"
    >>> _ = p.write_text(json.dumps({"trak": 0.31, "knn": 0.12}))
    >>> load_lds_values(p)
    {'trak': 0.31, 'knn': 0.12}
    """
    p = Path(path)
    check_input_path(p, "LDS values file")
    obj = read_text_file(p, json.loads, (json.JSONDecodeError,), missing="no such file",
                         invalid="not valid JSON")
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
