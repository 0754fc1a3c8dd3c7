"""Turning command-line inputs (files, directories, a spans table) into batch items.

Track ids
    A file named directly gets its name without suffix (``songs/a.mid`` -> ``a``); a file found
    under a directory gets its path relative to that directory, without suffix, with ``/``
    separators (``dir/jazz/b.mid`` -> ``jazz/b``). Directories are searched recursively; files
    are listed in sorted order of their ids, directories and files in the order given.
Spans table
    CSV or Parquet with columns ``id,file,start,end``: each row is one output row with track id
    ``id``. ``file`` is a track id of a discovered file, or a path (absolute, relative to the
    working directory, or relative to the spans table's directory). ``start < end``, both
    finite and ``>= 0``, in the unit given (``seconds`` or ``beats``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from aria.errors import AriaInputError
from aria.features.extract.batch import Item
from aria.params import Options, validate_params

__all__ = ["SPAN_UNITS", "discover_files", "file_items", "read_spans"]

SPAN_UNITS = ("seconds", "beats")


def discover_files(paths: Iterable[str | os.PathLike[str]], suffixes: Sequence[str]) -> list[tuple[str, str]]:
    """Find input files and give each its track id.

    Parameters
    ----------
    paths : iterable of path-like
        Files and directories.
    suffixes : sequence of str
        Lower-case suffixes searched for in directories (e.g. ``(".mid", ".midi")``). Files
        named directly are taken whatever their suffix.

    Returns
    -------
    list of (track_id, path)

    Raises
    ------
    AriaInputError
        A path that does not exist, or two files with the same track id.
    """
    out: list[tuple[str, str]] = []
    suffixes = tuple(s.lower() for s in suffixes)
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = []
            for f in p.rglob("*"):
                if f.suffix.lower() in suffixes and f.is_file():
                    rel = f.relative_to(p).with_suffix("")
                    found.append((rel.as_posix(), str(f)))
            out.extend(sorted(found))
        elif p.is_file():
            out.append((p.with_suffix("").name if p.suffix else p.name, str(p)))
        elif p.exists():
            raise AriaInputError(f"{p}: not a regular file or directory")
        else:
            raise AriaInputError(f"{p}: no such file or directory")
    seen: dict[str, str] = {}
    for tid, path in out:
        if tid in seen:
            raise AriaInputError(f"two inputs have the track id {tid!r}: {seen[tid]} and {path}")
        seen[tid] = path
    return out


def file_items(files: Sequence[tuple[str, str]]) -> list[Item]:
    """One whole-file item per discovered file.

    Parameters
    ----------
    files : sequence of (track_id, path)
        From :func:`discover_files`.

    Returns
    -------
    list of Item
    """
    return [Item(tid, path) for tid, path in files]


@validate_params({"spans": "path", "unit": Options(SPAN_UNITS)})
def read_spans(spans: str | os.PathLike[str], files: Sequence[tuple[str, str]],
               unit: str = "seconds") -> list[Item]:
    """Read a spans table (``id,file,start,end``) into items, in the table's row order.

    Parameters
    ----------
    spans : path-like
        CSV or Parquet spans table.
    files : sequence of (track_id, path)
        Discovered files, whose track ids ``file`` may name.
    unit : {"seconds", "beats"}
        Unit of ``start``/``end``.

    Returns
    -------
    list of Item

    Raises
    ------
    AriaInputError
        Unreadable table, missing columns, bad or duplicate values.
    """
    sp = Path(spans)
    try:
        if sp.suffix.lower() == ".parquet":
            df = pd.read_parquet(sp)
        else:
            df = pd.read_csv(sp, dtype={"id": str, "file": str})
    except FileNotFoundError:
        raise AriaInputError(f"{sp}: spans table not found") from None
    except Exception as exc:  # pandas raises many types for malformed tables
        raise AriaInputError(f"{sp}: cannot read spans table ({type(exc).__name__}: {exc})") from None
    missing = [c for c in ("id", "file", "start", "end") if c not in df.columns]
    if missing:
        raise AriaInputError(f"{sp}: spans table lacks column(s) {', '.join(missing)} "
                             "(expected id,file,start,end)")
    if df.empty:
        raise AriaInputError(f"{sp}: spans table has no rows")
    by_id = dict(files)
    items: list[Item] = []
    for n, row in enumerate(df.itertuples(index=False), start=2):
        sid, fname = str(row.id), str(row.file)
        try:
            start, end = float(row.start), float(row.end)
        except (TypeError, ValueError):
            raise AriaInputError(f"{sp}: row {n}: start/end must be numbers") from None
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
            raise AriaInputError(f"{sp}: row {n} ({sid}): need 0 <= start < end, got {start}, {end}")
        if fname in by_id:
            path = by_id[fname]
        else:
            cand = Path(fname)
            if not cand.is_absolute() and not cand.exists() and (sp.parent / cand).exists():
                cand = sp.parent / cand
            path = str(cand)
        items.append(Item(sid, path, start, end, unit))
    return items
