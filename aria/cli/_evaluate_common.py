"""Input flags, readers and output writing shared by the ``aria evaluate`` verbs and ``aria signatures``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    import numpy as np

__all__ = ["read_matrix", "read_vector", "emit", "start"]


def start(args: argparse.Namespace, inputs: dict[str, str | None]) -> Path | None:
    """Check ``--out`` against the inputs before any work; remember the inputs for provenance."""
    from aria.io.output import check_out_dir

    args.evaluate_inputs = inputs
    return check_out_dir(getattr(args, "out", None), list(inputs.values()))


def read_matrix(
    path: str, args: argparse.Namespace | None = None, *, with_ids: bool = False, items_by_rows: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """A 2-D array (rows x columns) read with :func:`aria.io.scores.load_scores` (no pickle, checked).

    With ``with_ids``, also the column (query) ids. ``items_by_rows``: the array is not a score
    matrix (losses, features, signatures): its rows are the items whatever its shape, so the
    score matrices' orientation check does not apply (``--transpose`` still swaps the axes).
    """
    import numpy as np

    from aria.io.scores import load_scores
    from aria.io.validate import check_finite

    transpose = bool(getattr(args, "transpose", False))
    if items_by_rows:
        da = load_scores(path, variable=getattr(args, "variable", None),
                         orientation="queries-x-segments" if transpose else "segments-x-queries")
    else:
        da = load_scores(path, transpose=transpose, variable=getattr(args, "variable", None))
    arr = np.asarray(da.values, dtype=np.float64)
    qids = np.asarray(da.coords["query"].values).astype(str)
    check_finite(arr, 0, qids, path)
    return (arr, qids) if with_ids else arr


def read_vector(
    path: str, column: str | None = None, what: str = "values", flag: str = "--column"
) -> np.ndarray:
    """A 1-D array from ``.npy`` or a table column (:func:`aria.io.vectors.load_vector`).

    An error about the ``column`` parameter names ``flag``, the option that sets it.
    """
    from aria.errors import AriaInputError
    from aria.io.vectors import load_vector

    try:
        return load_vector(path, column=column, what=what)
    except AriaInputError as exc:
        if exc.parameter != "column":
            raise
        raise AriaInputError(f"{flag}: {str(exc).removeprefix('column: ')}") from None


def emit(
    args: argparse.Namespace,
    out_dir: Path | None,
    name: str,
    result: dict,
    text: list[str],
    *,
    tables: dict | None = None,
    arrays: dict | None = None,
    parameters: dict | None = None,
    seeds: dict | None = None,
) -> None:
    """Write ``--out`` (``name.json``, tables, arrays, ``provenance.json``) and print JSON or text.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (``json``, ``command_line``).
    out_dir : pathlib.Path or None
        Output directory.
    name : str
        Stem of the result JSON.
    result : dict
        JSON-ready result.
    text : list of str
        Lines printed without ``--json``.
    tables : dict of str -> pandas.DataFrame, optional
        File name -> table.
    arrays : dict of str -> numpy.ndarray, optional
        File name (``.npy``) -> array, written atomically.
    parameters, seeds : dict, optional
        Recorded in ``provenance.json``.
    """
    import numpy as np

    from aria.io.output import json_safe, write_json, write_table

    written = []
    if out_dir is not None:
        from aria.io.atomic import atomic_path
        from aria.io.provenance import provenance_record

        out_dir.mkdir(parents=True, exist_ok=True)
        for fname, frame in (tables or {}).items():
            write_table(out_dir / fname, frame)
            written.append(fname)
        for fname, arr in (arrays or {}).items():
            with atomic_path(out_dir / fname) as tmp, open(tmp, "wb") as fh:
                np.save(fh, np.asarray(arr), allow_pickle=False)
            written.append(fname)
        write_json(out_dir / f"{name}.json", result)
        prov = provenance_record(
            getattr(args, "evaluate_inputs", {}),
            parameters or {},
            seeds=seeds,
            command=getattr(args, "command_line", None),
        )
        write_json(out_dir / "provenance.json", prov)
        written += [f"{name}.json", "provenance.json"]
    if args.json:
        print(json.dumps(json_safe(result), indent=2, allow_nan=False))
    else:
        print("\n".join(text))
        if written:
            print(f"\nresults written to {out_dir}/ ({', '.join(written)})")
