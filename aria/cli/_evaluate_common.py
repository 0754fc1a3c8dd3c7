"""Input flags, readers and output writing shared by the ``aria evaluate`` verbs and ``aria signatures``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    import numpy as np

__all__ = ["add_verb", "read_matrix", "read_vector", "emit", "start"]

#: ``--transpose`` help of the verbs reading training items x queries matrices.
TRANSPOSE_HELP = "the files hold queries x training items"


def add_verb(verbs: argparse._SubParsersAction, name: str, func: Callable[[argparse.Namespace], int],
             help: str, *, example: str, inputs: dict[str, str], columns: bool = False,
             transpose: str | None = None) -> argparse.ArgumentParser:
    """Add one ``aria evaluate`` verb: its positional ``inputs`` (name -> help), ``--json``/``--out``.

    The description is ``func``'s docstring after its first line; ``example`` lines form the
    epilog; ``columns`` adds ``--column-<input>`` (a table input's column) for each input;
    ``transpose`` (its help) adds ``--transpose``. The caller adds the verb's own options
    to the returned parser.
    """
    import inspect

    from aria.cli._common import add_output_options

    description = inspect.cleandoc(func.__doc__ or "").partition("\n\n")[2]
    p = verbs.add_parser(name, help=help, description=" ".join(description.split()),
                         epilog="example:\n  " + "\n  ".join(example.splitlines()),
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    for arg, text in inputs.items():
        if arg.endswith("+"):
            p.add_argument(arg[:-1], nargs="+", help=text)
        else:
            p.add_argument(arg, help=text)
    for arg in inputs if columns else ():
        p.add_argument(f"--column-{arg}", metavar="COL", help=f"column of a table {arg.upper()}")
    if transpose is not None:
        p.add_argument("--transpose", action="store_true", help=transpose)
    add_output_options(p, "write the result JSON, tables and provenance.json here")
    p.set_defaults(func=func)
    return p


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
    tables: dict | None = None, arrays: dict | None = None,
    parameters: dict | None = None, seeds: dict | None = None,
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
        File name (``.npy``) -> array; the files are written all or nothing
        (:func:`aria.io.output.write_result_set`).
    parameters, seeds : dict, optional
        Recorded in ``provenance.json``.
    """
    import io

    import numpy as np

    from aria.cli._common import print_json
    from aria.io.output import write_result_set

    written = []
    if out_dir is not None:
        from aria.io.provenance import provenance_record

        files: dict[str, object] = dict(tables or {})
        for fname, arr in (arrays or {}).items():
            buf = io.BytesIO()
            np.save(buf, np.asarray(arr), allow_pickle=False)
            files[fname] = buf.getvalue()
        files[f"{name}.json"] = result
        files["provenance.json"] = provenance_record(getattr(args, "evaluate_inputs", {}), parameters or {},
                                                     seeds=seeds, command=getattr(args, "command_line", None))
        written = [p.name for p in write_result_set(out_dir, files)]
    if args.json:
        print_json(result)
    else:
        print("\n".join(text))
        if written:
            print(f"\nresults written to {out_dir}/ ({', '.join(written)})")
