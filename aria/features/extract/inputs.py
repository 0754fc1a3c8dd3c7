"""Turning command-line inputs (files, directories, a spans table) into batch items.

Track ids
    A file named directly gets its name without suffix (``songs/a.mid`` -> ``a``); a file found
    under a directory gets its path relative to that directory, without suffix, with ``/``
    separators (``dir/jazz/b.mid`` -> ``jazz/b``). Directories are searched recursively; files
    are listed in sorted order of their ids, directories and files in the order given.
Unreadable folders
    A folder (or sub-folder) that cannot be listed is an input of its own: its id is its
    relative path followed by ``/`` (``dir/locked`` -> ``locked/``) and it becomes a failed row
    whose reason says why (e.g. ``unreadable folder (Permission denied)``), instead of being
    skipped silently. Names that are not valid UTF-8 are kept as the file system gives them
    (see :func:`aria.features.extract.batch.printable_name` for how the table stores them).
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

__all__ = ["SPAN_UNITS", "Found", "discover_files", "file_items", "read_spans", "walk_files"]

SPAN_UNITS = ("seconds", "beats")


class Found(tuple):
    """A discovered input ``(track_id, path)`` (a plain pair), with the reason it cannot be read.

    Attributes
    ----------
    problem : str or None
        None for a file; the one-line reason for a folder that could not be listed.

    Examples
    --------
    >>> from aria.features.extract.inputs import Found
    >>> f = Found("jazz/", "/data/jazz", "cannot list folder (Permission denied)")
    >>> track_id, path = f
    >>> track_id, f.problem
    ('jazz/', 'cannot list folder (Permission denied)')
    """

    problem: str | None

    def __new__(cls, track_id: str, path: str, problem: str | None = None) -> Found:
        """Build ``(track_id, path)`` with its ``problem``."""
        self = super().__new__(cls, (track_id, path))
        self.problem = problem
        return self


def walk_files(root: str | os.PathLike[str], suffixes: Sequence[str],
               skip_hidden: bool = False) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files under a folder, recursively, and the folders that could not be listed.

    Symbolic links to folders are not followed (as ``Path.rglob``); a symbolic link to a file is
    taken like the file.

    Parameters
    ----------
    root : path-like
        Folder to search.
    suffixes : sequence of str
        Lower-case suffixes (with the dot) of the files wanted.
    skip_hidden : bool
        Leave out files and folders whose name starts with ``.``.

    Returns
    -------
    files : list of pathlib.Path
        In no particular order.
    problems : list of (pathlib.Path, str)
        Each folder that could not be listed (``root`` itself included), with the reason.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a.mid").write_bytes(b"")
    0
    >>> walk_files(d, (".mid",))[0] == [d / "a.mid"]
    True
    """
    suffixes = tuple(s.lower() for s in suffixes)
    files: list[Path] = []
    problems: list[tuple[Path, str]] = []

    def failed(exc: OSError) -> None:
        problems.append((Path(exc.filename if exc.filename is not None else root),
                         f"unreadable folder ({exc.strerror or type(exc).__name__})"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=failed):
        if skip_hidden:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if skip_hidden and name.startswith("."):
                continue
            if os.path.splitext(name)[1].lower() in suffixes:
                f = Path(dirpath, name)
                if f.is_file():
                    files.append(f)
    return files, problems


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
    list of Found
        ``(track_id, path)`` pairs; a folder that could not be listed is one more pair (id
        ``<relative path>/``) whose ``problem`` says why.

    Raises
    ------
    AriaInputError
        A path that does not exist, or two files with the same track id.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from aria.features.extract.inputs import discover_files
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "jazz").mkdir()
    >>> for name in ("jazz/b.mid", "a.MID", "notes.txt"):
    ...     _ = (d / name).write_bytes(b"")
    >>> [tid for tid, path in discover_files([d], (".mid", ".midi"))]
    ['a', 'jazz/b']
    """
    out: list[Found] = []
    suffixes = tuple(s.lower() for s in suffixes)
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files, problems = walk_files(p, suffixes)
            found = [Found(f.relative_to(p).with_suffix("").as_posix(), str(f)) for f in files]
            for d, reason in problems:
                rel = d.relative_to(p).as_posix() if d != p else str(p).rstrip("/")
                found.append(Found(rel + "/", str(d), reason))
            out.extend(sorted(found))
        elif p.is_file():
            out.append(Found(p.with_suffix("").name if p.suffix else p.name, str(p)))
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
        From :func:`discover_files` (a :class:`Found` folder that could not be listed becomes a
        problem item: a failed row with its reason).

    Returns
    -------
    list of Item

    Examples
    --------
    >>> from aria.features.extract.inputs import Found, file_items
    >>> items = file_items([Found("a", "a.mid"), Found("x/", "x", "cannot list folder")])
    >>> [(it.id, it.start, it.problem) for it in items]
    [('a', None, None), ('x/', None, 'cannot list folder')]
    """
    return [Item(f[0], f[1], problem=getattr(f, "problem", None)) for f in files]


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

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from aria.features.extract.inputs import read_spans
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "spans.csv"
    >>> spans = pd.DataFrame({"id": ["intro", "verse"], "file": "song", "start": [0, 8], "end": [8, 24]})
    >>> spans.to_csv(p, index=False)
    >>> [(it.id, it.path, it.end) for it in read_spans(p, [("song", "midi/song.mid")], unit="beats")]
    [('intro', 'midi/song.mid', 8.0), ('verse', 'midi/song.mid', 24.0)]
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
