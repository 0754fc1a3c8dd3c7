"""Segment -> track maps and query metadata: the tables that label a score matrix."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from aria.errors import AriaDependencyError, AriaInputError
from aria.io.validate import (
    check_input_path,
    check_unique,
    validate_track_map,
)
from aria.params import InstanceOf, Interval, validate_params

__all__ = ["load_track_map", "load_query_metadata", "load_query_labels", "normalize_ids"]


def normalize_ids(ids: np.ndarray) -> np.ndarray:
    """Integer ids stay int64; anything else becomes str.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.io.tables import normalize_ids
    >>> normalize_ids(np.array([3, 1])).dtype
    dtype('int64')
    >>> normalize_ids(np.array([b"a", b"b"])).tolist()
    ['a', 'b']
    """
    ids = np.asarray(ids)
    if ids.dtype.kind in "iu":
        return ids.astype(np.int64)
    if ids.dtype.kind == "f":
        if np.isfinite(ids).all() and np.all(ids == np.round(ids)):
            return ids.astype(np.int64)
        return ids
    if ids.dtype.kind in "US":
        return ids.astype(str)
    return np.array([None if (x is None or (isinstance(x, float) and x != x)) else str(x)
                     for x in ids], dtype=object)


def _read_table(p: Path, what: str) -> pd.DataFrame:
    check_input_path(p, what)
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
        if suffix in (".csv", ".tsv", ".txt"):
            return pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",", dtype=str,
                               keep_default_na=False)
    except ImportError as exc:
        raise AriaDependencyError(f"{p}: reading it needs {exc.name}") from None
    except Exception as exc:
        raise AriaInputError(
            f"{p}: cannot read {what} ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        ) from None
    raise AriaInputError(f"{p}: {what} must be .csv, .tsv or .parquet")


@validate_params({"source": ["path", InstanceOf(np.ndarray)], "n_segments": Interval(int, 1, None)})
def load_track_map(source: str | os.PathLike[str] | np.ndarray, n_segments: int) -> np.ndarray:
    """Read a segment -> track map.

    Parameters
    ----------
    source : path-like or array
        CSV/TSV/Parquet with columns ``segment,track`` (``segment`` = row
        index 0..N-1, any order, each exactly once), or a ``.npy`` / array of
        N track ids in row order.
    n_segments : int
        Number of rows of the score matrix.

    Returns
    -------
    numpy.ndarray
        N track ids in row order (int64 when all ids are integers, else str).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.io.tables import load_track_map
    >>> load_track_map(np.array(["a", "a", "b"]), 3).tolist()
    ['a', 'a', 'b']
    """
    if isinstance(source, np.ndarray):
        track = normalize_ids(source)
        validate_track_map(track, n_segments)
        return track
    p = Path(source)
    if p.suffix.lower() == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except FileNotFoundError:
            raise AriaInputError(f"{p}: no such file") from None
        except (ValueError, OSError) as exc:
            raise AriaInputError(f"{p}: cannot read track map ({exc})") from None
        track = normalize_ids(arr)
        validate_track_map(track, n_segments, str(p))
        return track
    df = _read_table(p, "track map")
    cols = {c.strip().lower(): c for c in df.columns}
    if "segment" not in cols or "track" not in cols:
        raise AriaInputError(
            f"{p}: track map needs columns 'segment' and 'track' (found: {', '.join(df.columns)})"
        )
    seg_raw = df[cols["segment"]]
    seg = pd.to_numeric(seg_raw, errors="coerce")
    invalid = seg.isna() | ~np.isfinite(seg.fillna(0)) | (seg != seg.round())
    if invalid.any():
        bad = seg_raw[invalid].iloc[0]
        raise AriaInputError(f"{p}: segment ids must be row indices 0..N-1, found {bad!r}")
    if seg.size and (seg.min() < 0 or seg.max() >= n_segments):  # before int64 (no wrap-around)
        raise AriaInputError(
            f"{p}: segment ids must lie in 0..{n_segments - 1}, found {seg.min():g}..{seg.max():g}"
        )
    seg = seg.astype(np.int64).to_numpy()
    if seg.size != n_segments:
        raise AriaInputError(
            f"{p}: track map has {seg.size} rows but the score matrix has {n_segments} segments"
        )
    check_unique(seg, f"segment id in {p.name}")
    if seg.min() < 0 or seg.max() >= n_segments:
        raise AriaInputError(
            f"{p}: segment ids must lie in 0..{n_segments - 1}, found {int(seg.min())}..{int(seg.max())}"
        )
    tr = df[cols["track"]].astype(str).str.strip().to_numpy()
    if (tr == "").any():
        raise AriaInputError(f"{p}: empty track id in the track map")
    ordered = np.empty(n_segments, dtype=object)
    ordered[seg] = tr
    track = _ids_from_strings(ordered)
    validate_track_map(track, n_segments, str(p))
    return track


def _ids_from_strings(values: np.ndarray) -> np.ndarray:
    """Ids read as text: int64 when every one is a canonical integer, else str."""
    text = values.astype(str)
    try:
        ints = text.astype(np.int64)
    except ValueError:
        return text
    return ints if np.array_equal(ints.astype(str), text) else text


@validate_params({"source": "path"})
def load_query_metadata(source: str | os.PathLike[str], query_ids: np.ndarray) -> pd.DataFrame:
    """Read per-query metadata (e.g. genre labels) aligned to the score matrix's queries.

    Parameters
    ----------
    source : path-like
        CSV/TSV/Parquet with a ``query`` column plus label columns.
    query_ids : numpy.ndarray
        The score matrix's query ids (as strings).

    Returns
    -------
    pandas.DataFrame
        Indexed by query id, in the score matrix's query order. Rows for
        queries absent from the score matrix are dropped; a query without a
        row raises :class:`AriaInputError`.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd
    >>> from aria.io.tables import load_query_metadata
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"query": ["q2", "q1"], "genre": ["jazz", "folk"]}).to_csv(d / "meta.csv", index=False)
    >>> load_query_metadata(d / "meta.csv", np.array(["q1", "q2"]))["genre"].tolist()
    ['folk', 'jazz']
    """
    p = Path(source)
    df = _read_table(p, "query metadata")
    if "query" not in df.columns:
        raise AriaInputError(f"{p}: query metadata needs a 'query' column (found: {', '.join(df.columns)})")
    df = df.assign(query=df["query"].astype(str))
    check_unique(df["query"].to_numpy(), f"query id in {p.name}")
    qids = np.asarray(query_ids).astype(str)
    missing = np.setdiff1d(qids, df["query"].to_numpy())
    if missing.size:
        raise AriaInputError(
            f"{p}: no metadata for {missing.size} queries (e.g. {str(missing[0])!r})"
        )
    return df.set_index("query").loc[qids]


def load_query_labels(source: str | os.PathLike[str], query_ids: np.ndarray,
                      column: str | None = None) -> pd.Series:
    r"""One label column of the query metadata, aligned to the score matrix's queries.

    Parameters
    ----------
    source : path-like
        Query metadata (see :func:`load_query_metadata`).
    query_ids : numpy.ndarray
        The score matrix's query ids.
    column : str, optional
        Label column; may be omitted when the table has exactly one besides ``query``.

    Returns
    -------
    pandas.Series
        Query id -> label, named after the column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = pathlib.Path(d) / "meta.csv"
    ...     _ = path.write_text("query,genre\nq1,rock\nq0,jazz\n")
    ...     load_query_labels(path, np.array(["q0", "q1"])).tolist()
    ['jazz', 'rock']
    """
    meta = load_query_metadata(source, query_ids)
    columns = ", ".join(map(str, meta.columns))
    if column is None:
        if meta.shape[1] != 1:
            raise AriaInputError(f"{source}: choose the label column (columns: {columns})",
                                 parameter="column", function="load_query_labels")
        column = meta.columns[0]
    if column not in meta.columns:
        raise AriaInputError(f"{source}: no column {column!r} (columns: {columns})")
    return meta[column].rename(column)
