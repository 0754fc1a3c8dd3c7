"""Reading 1-D inputs of the evaluation toolkit: similarity lists, indices (``.npy`` or a CSV column)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from aria.errors import AriaInputError
from aria.io.validate import validate_dtype
from aria.params import validate_params

__all__ = ["load_vector"]


@validate_params({"path": "path", "column": [None, "str"], "what": "str"})
def load_vector(
    path: str | os.PathLike[str], *, column: str | None = None, what: str = "values"
) -> np.ndarray:
    r"""Read a 1-D numeric array from a ``.npy`` file or one column of a CSV/TSV/Parquet table.

    ``.npy`` files are read with the score-matrix reader's checks (no pickle, header against size);
    a 2-D ``.npy`` with a single row or column is flattened. A table must have one column, or
    ``column`` names it.

    Parameters
    ----------
    path : path-like
        Input file.
    column : str, optional
        Column of a table.
    what : str
        Name used in messages.

    Returns
    -------
    numpy.ndarray
        1-D array (float64, or int64 when every value is an integer in a table).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from aria.io.vectors import load_vector
    >>> p = os.path.join(tempfile.mkdtemp(), "sims.csv")
    >>> _ = open(p, "w").write("sim\n0.5\n0.7\n")
    >>> load_vector(p).tolist()
    [0.5, 0.7]
    """
    from aria.io.npyfile import open_npy
    from aria.io.scores import _sniff_format
    from aria.io.tables import _read_table

    p = Path(path)
    if not p.exists():
        raise AriaInputError(f"{p}: no such file")
    if p.suffix.lower() in (".csv", ".tsv", ".txt", ".parquet", ".pq"):
        frame = _read_table(p, what)
        if column is None:
            if frame.shape[1] != 1:
                raise AriaInputError(
                    f"column: choose the column of {what} in {p} "
                    f"(columns: {', '.join(map(str, frame.columns))})",
                    parameter="column",
                )
            column = frame.columns[0]
        if column not in frame.columns:
            raise AriaInputError(f"{p}: no column {column!r} (columns: {', '.join(map(str, frame.columns))})")
        raw = frame[column].to_numpy()
        try:
            arr = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise AriaInputError(f"{p}: column {column!r} holds non-numeric {what}") from None
        if np.isfinite(arr).all() and np.all(arr == np.round(arr)) and np.abs(arr).max(initial=0) < 2**53:
            arr = arr.astype(np.int64)
    else:
        if column is not None:
            raise AriaInputError(f"column: applies to tables, not to the .npy file {p}", parameter="column")
        if _sniff_format(p) != "npy":
            raise AriaInputError(f"{p}: {what} must be a .npy file or a CSV/TSV/Parquet column")
        arr = np.asarray(open_npy(p))
        if arr.ndim == 2 and 1 in arr.shape:
            arr = arr.ravel()
        if arr.ndim != 1:
            raise AriaInputError(f"{p}: {what} must be 1-D, got shape {arr.shape}")
    validate_dtype(arr.dtype, f"{p}")
    if arr.size == 0:
        raise AriaInputError(f"{p}: no {what}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise AriaInputError(
            f"{p}: NaN or infinite value at index {int(np.flatnonzero(~np.isfinite(arr))[0])}"
        )
    return arr
