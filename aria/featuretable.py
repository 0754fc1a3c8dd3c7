"""Feature tables (spec section 10): read, check against a channel set, convert.

A feature table is Parquet with one row per track: a ``track`` column, one
column per feature of the channel set, and optional ``status``/``error``
columns recording failed extractions. This module reads it (or takes a pandas
DataFrame), checks it against a :class:`~aria.channels.ChannelSet` and returns
a :class:`FeatureTable` holding only the usable tracks:

- a missing ``track`` or feature column, a duplicate or empty track id, a
  vector of the wrong length or a chord label that cannot be parsed is an
  error (:class:`~aria.errors.AriaInputError`, one line);
- rows with ``status == "failed"``, a null feature or a non-finite value are
  *excluded and counted* (``FeatureTable.excluded`` lists them with a reason).

Chord-progression columns hold either chord labels (``list<string>``: roots
are parsed, no-chord ``N``/``X`` dropped, consecutive repeats merged, then
root motions ``(r[t+1] - r[t]) mod 12`` taken) or root motions already
(``list<int>``, taken modulo 12).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aria.channels import ChannelSet
from aria.errors import AriaInputError

__all__ = [
    "FeatureTable",
    "Sequences",
    "load_feature_table",
    "feature_table_from_frame",
    "chord_root",
    "labels_to_root_motions",
    "roots_to_motions",
]

_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ROOT_RE = re.compile(r"^([A-G])([#b\u266f\u266d]*)")
#: Labels meaning "no chord" (dropped before root motions are taken).
NO_CHORD = frozenset({"N", "X", "N.C.", "NC"})


@dataclass
class Sequences:
    """Ragged integer sequences (root motions), one per track.

    Attributes
    ----------
    values : numpy.ndarray
        All symbols concatenated, uint8 in 0..11.
    offsets : numpy.ndarray
        int64, length ``n + 1``; sequence ``i`` is ``values[offsets[i]:offsets[i+1]]``.
    """

    values: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.offsets.size - 1)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i]:self.offsets[i + 1]]

    @property
    def lengths(self) -> np.ndarray:
        """Length of each sequence."""
        return np.diff(self.offsets)

    def take(self, index: np.ndarray) -> Sequences:
        """Sequences ``index`` (in that order) as a new :class:`Sequences`."""
        index = np.asarray(index, dtype=np.int64)
        lens = self.lengths[index]
        offsets = np.zeros(index.size + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        starts = self.offsets[:-1][index]
        flat = np.repeat(starts - offsets[:-1], lens) + np.arange(offsets[-1], dtype=np.int64)
        return Sequences(self.values[flat], offsets)

    @classmethod
    def from_list(cls, seqs: list) -> Sequences:
        """Build from a list of integer sequences (values taken modulo 12)."""
        lens = np.array([len(s) for s in seqs], dtype=np.int64)
        offsets = np.zeros(lens.size + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        vals = (np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs]) if lens.sum()
                else np.zeros(0, dtype=np.int64))
        return cls(np.mod(vals, 12).astype(np.uint8), offsets)


@dataclass
class FeatureTable:
    """Usable per-track features, checked against a channel set.

    Attributes
    ----------
    track_ids : numpy.ndarray
        Track ids (str) of the usable rows, in table order.
    vectors : dict of str -> numpy.ndarray
        Vector feature -> float64 array (n_tracks x dim).
    sequences : dict of str -> Sequences
        Sequence feature -> root-motion sequences.
    channel_set : ChannelSet
        The channel set it was checked against.
    n_rows : int
        Rows in the input table.
    excluded : pandas.DataFrame
        Rows left out, columns ``track`` and ``reason`` (failed extraction,
        missing feature, non-finite value).
    source : str
        Where the table came from.
    metadata : dict
        Key-value metadata of the Parquet schema (e.g. channel set, version).
    """

    track_ids: np.ndarray
    vectors: dict[str, np.ndarray]
    sequences: dict[str, Sequences]
    channel_set: ChannelSet
    n_rows: int
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["track", "reason"]))
    source: str = "<frame>"
    metadata: dict = field(default_factory=dict)

    @property
    def n_tracks(self) -> int:
        """Number of usable tracks."""
        return int(self.track_ids.size)

    @property
    def n_failed(self) -> int:
        """Rows excluded because extraction failed (``status == "failed"``)."""
        return int(self.excluded["reason"].str.startswith("failed").sum())

    @property
    def n_invalid(self) -> int:
        """Rows excluded for a null or non-finite feature value."""
        return int(len(self.excluded) - self.n_failed)

    def take(self, index: np.ndarray) -> FeatureTable:
        """Rows ``index`` (positions among usable tracks) in that order (``self`` if the identity)."""
        index = np.asarray(index, dtype=np.int64)
        if index.size == self.n_tracks and np.array_equal(index, np.arange(self.n_tracks)):
            return self
        return FeatureTable(
            track_ids=self.track_ids[index],
            vectors={k: v[index] for k, v in self.vectors.items()},
            sequences={k: s.take(index) for k, s in self.sequences.items()},
            channel_set=self.channel_set, n_rows=self.n_rows, excluded=self.excluded,
            source=self.source, metadata=self.metadata,
        )

    def counts(self) -> dict:
        """Row counts: total, usable, failed, invalid."""
        return {"rows": self.n_rows, "usable": self.n_tracks, "failed": self.n_failed,
                "invalid": self.n_invalid}


# ---------------------------------------------------------------------------------------------
# chord labels -> roots -> root motions


def chord_root(label: str) -> int | None:
    """Pitch class of a chord label's root, or None for no-chord.

    Accepts Chordino/Harte style labels: ``"C"``, ``"F#m"``, ``"Bb7"``,
    ``"C:maj"``, ``"A:min7/b3"``, ``"Gb/Bb"`` (root before the slash).
    ``"N"``/``"X"`` mean no chord.

    Parameters
    ----------
    label : str
        Chord label.

    Returns
    -------
    int or None
        Root pitch class 0..11, None for no chord.

    Raises
    ------
    ValueError
        The label does not start with a note name A-G.
    """
    s = label.strip()
    if s in NO_CHORD:
        return None
    m = _ROOT_RE.match(s)
    if m is None:
        raise ValueError(f"cannot parse a chord root from {label!r}")
    acc = m.group(2)
    shift = acc.count("#") + acc.count("\u266f") - acc.count("b") - acc.count("\u266d")
    return (_PITCH[m.group(1)] + shift) % 12


def roots_to_motions(roots: np.ndarray) -> np.ndarray:
    """Root motions ``(r[t+1] - r[t]) mod 12`` after merging consecutive repeats.

    Parameters
    ----------
    roots : numpy.ndarray
        Root pitch classes (no-chords already dropped).

    Returns
    -------
    numpy.ndarray
        uint8 motions, one fewer than the merged roots (empty for < 2 roots).
    """
    r = np.asarray(roots, dtype=np.int64)
    if r.size:
        r = r[np.concatenate(([True], r[1:] != r[:-1]))]
    return np.mod(np.diff(r), 12).astype(np.uint8)


def labels_to_root_motions(labels: list[str]) -> np.ndarray:
    """Chord labels -> roots (no-chord dropped, repeats merged) -> root motions mod 12.

    Parameters
    ----------
    labels : list of str
        Chord labels in time order.

    Returns
    -------
    numpy.ndarray
        uint8 root motions.
    """
    roots = [r for r in (chord_root(x) for x in labels) if r is not None]
    return roots_to_motions(np.asarray(roots, dtype=np.int64))


def _ragged_motions(roots: np.ndarray, offsets: np.ndarray) -> Sequences:
    """Vectorized :func:`roots_to_motions` over many sequences (roots < 0 = no chord)."""
    n = offsets.size - 1
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    keep = roots >= 0
    r, o = roots[keep], owner[keep]
    if r.size:
        first = np.concatenate(([True], (r[1:] != r[:-1]) | (o[1:] != o[:-1])))
        r, o = r[first], o[first]
    same = o[1:] == o[:-1] if r.size else np.zeros(0, dtype=bool)
    motions = np.mod(r[1:] - r[:-1], 12)[same].astype(np.uint8)
    mo = o[1:][same]
    counts = np.bincount(mo, minlength=n)
    new_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=new_off[1:])
    return Sequences(motions, new_off)


# ---------------------------------------------------------------------------------------------
# reading


def load_feature_table(path: str | os.PathLike[str], channel_set: ChannelSet) -> FeatureTable:
    """Read a Parquet feature table and check it against a channel set.

    Parameters
    ----------
    path : path-like
        Parquet file (spec section 10).
    channel_set : ChannelSet
        The channels/features to read; other columns are ignored.

    Returns
    -------
    FeatureTable

    Raises
    ------
    AriaInputError
        Unreadable file, missing ``track`` or feature column, duplicate track
        ids, wrong vector length, unparsable chord label.
    """
    import pyarrow.parquet as pq

    p = Path(path)
    if not p.is_file():
        raise AriaInputError(f"{p}: no such feature table")
    try:
        pf = pq.ParquetFile(p)
        schema = pf.schema_arrow
    except Exception as exc:
        raise AriaInputError(f"{p}: not a readable Parquet file ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    names = list(schema.names)
    _check_columns(names, channel_set, str(p))
    wanted = ["track", *channel_set.feature_names] + [c for c in ("status", "error") if c in names]
    try:
        table = pf.read(columns=wanted)
    except Exception as exc:
        raise AriaInputError(f"{p}: cannot read feature table ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    meta = {}
    if schema.metadata:
        for k, v in schema.metadata.items():
            key = k.decode(errors="replace")
            if key != "pandas":
                meta[key] = v.decode(errors="replace")
    return _from_arrow(table, channel_set, str(p), meta)


def feature_table_from_frame(frame: pd.DataFrame, channel_set: ChannelSet,
                             source: str = "<frame>") -> FeatureTable:
    """Check an in-memory feature table (pandas DataFrame) against a channel set.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``track``, one per feature (lists/arrays for vectors and
        sequences, floats for dim-1 features), optional ``status``/``error``.
    channel_set : ChannelSet
        Channel set.
    source : str
        Name used in messages.

    Returns
    -------
    FeatureTable
    """
    _check_columns(list(frame.columns), channel_set, source)
    wanted = ["track", *channel_set.feature_names] + [c for c in ("status", "error") if c in frame]
    sub = frame[wanted].copy()
    for f in channel_set.features:
        if f.kind == "vector" and sub[f.name].dtype == object:
            sub[f.name] = [None if v is None or (isinstance(v, float) and v != v)
                           else list(np.asarray(v, dtype=np.float64).ravel()) for v in sub[f.name]]
        elif f.kind == "sequence":
            sub[f.name] = [None if v is None or (isinstance(v, float) and v != v)
                           else list(v.tolist() if isinstance(v, np.ndarray) else v) for v in sub[f.name]]
    try:
        table = pa.Table.from_pandas(sub, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise AriaInputError(f"{source}: cannot convert feature table ({str(exc).splitlines()[0]})") from None
    return _from_arrow(table, channel_set, source, {})


def _check_columns(names: list[str], channel_set: ChannelSet, source: str) -> None:
    if "track" not in names:
        raise AriaInputError(f"{source}: feature table has no 'track' column (columns: "
                             f"{', '.join(map(str, names)) or 'none'})")
    missing = [f for f in channel_set.feature_names if f not in names]
    if missing:
        raise AriaInputError(
            f"{source}: feature table lacks column(s) {', '.join(missing)} required by channel set "
            f"{channel_set.name!r} (columns: {', '.join(map(str, names))})"
        )


def _track_strings(col: pa.ChunkedArray, source: str) -> np.ndarray:
    if col.null_count:
        raise AriaInputError(f"{source}: {col.null_count} row(s) with an empty track id")
    t = col.type
    if pa.types.is_floating(t):
        vals = col.to_numpy()
        if not (np.isfinite(vals).all() and np.all(vals == np.round(vals))):
            raise AriaInputError(f"{source}: track ids must be integers or strings")
        ids = vals.astype(np.int64).astype(str)
    elif pa.types.is_integer(t):
        ids = col.to_numpy().astype(np.int64).astype(str)
    else:
        ids = np.asarray(pc.cast(col, pa.string()).to_pylist(), dtype=object).astype(str)
        ids = np.char.strip(ids)
        if (ids == "").any():
            raise AriaInputError(f"{source}: empty track id at row {int(np.flatnonzero(ids == '')[0])}")
    uniq, counts = np.unique(ids, return_counts=True)
    if uniq.size != ids.size:
        dup = uniq[counts > 1][:3]
        raise AriaInputError(f"{source}: duplicate track id(s) {', '.join(map(repr, dup.tolist()))} "
                             f"({int((counts > 1).sum())} duplicated)")
    return ids


def _list_parts(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """(row valid mask, offsets, flat values) of a list-like column."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        n = len(arr)
        flat = arr.flatten()  # only valid rows
        lens = np.where(valid, size, 0)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        return valid, offsets, flat
    valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    lens = np.asarray(pc.fill_null(pc.list_value_length(arr), 0).to_numpy(), dtype=np.int64)
    offsets = np.zeros(len(arr) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    flat = pc.list_flatten(arr)
    return valid, offsets, flat


def _from_arrow(table: pa.Table, channel_set: ChannelSet, source: str, meta: dict) -> FeatureTable:
    n = table.num_rows
    ids = _track_strings(table.column("track"), source)
    reasons = np.full(n, None, dtype=object)
    if "status" in table.column_names:
        status = np.asarray(pc.fill_null(pc.cast(table.column("status"), pa.string()), "ok")
                            .to_pylist(), dtype=object).astype(str)
        status = np.char.lower(np.char.strip(status))
        bad = ~np.isin(status, ["ok", "failed"])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise AriaInputError(f"{source}: status of track {str(ids[i])!r} is {str(status[i])!r}; "
                                 "expected 'ok' or 'failed'")
        errors = (np.asarray(table.column("error").to_pylist(), dtype=object)
                  if "error" in table.column_names else np.full(n, None, dtype=object))
        for i in np.flatnonzero(status == "failed"):
            msg = errors[i]
            reasons[i] = "failed: " + (" ".join(str(msg).split()) if msg else "extraction failed")
    ok = np.array([r is None for r in reasons], dtype=bool)

    vectors: dict[str, np.ndarray] = {}
    seq_parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for f in channel_set.features:
        col = table.column(f.name)
        if f.kind == "vector":
            data, valid = _vector_column(col, f.name, f.dim, ids, ok, source)
            finite = np.isfinite(data).all(axis=1)
            for i in np.flatnonzero(ok & ~valid):
                reasons[i] = f"missing {f.name}"
            ok &= valid
            for i in np.flatnonzero(ok & ~finite):
                reasons[i] = f"non-finite value in {f.name}"
            ok &= finite
            vectors[f.name] = data
        else:
            valid, motions, offsets = _sequence_column(col, f.name, ids, ok, source)
            for i in np.flatnonzero(ok & ~valid):
                reasons[i] = f"missing {f.name}"
            ok &= valid
            seq_parts[f.name] = (motions, offsets)
    keep = np.flatnonzero(ok)
    excl = np.flatnonzero(~ok)
    excluded = pd.DataFrame({"track": ids[excl], "reason": reasons[excl].astype(str)})
    every = keep.size == n
    sequences = {name: Sequences(m, o) if every else Sequences(m, o).take(keep)
                 for name, (m, o) in seq_parts.items()}
    return FeatureTable(
        track_ids=ids[keep],
        vectors={k: np.ascontiguousarray(v if every else v[keep]) for k, v in vectors.items()},
        sequences=sequences,
        channel_set=channel_set,
        n_rows=n,
        excluded=excluded,
        source=source,
        metadata=meta,
    )


def _vector_column(col: pa.ChunkedArray, name: str, dim: int, ids: np.ndarray, ok: np.ndarray,
                   source: str) -> tuple[np.ndarray, np.ndarray]:
    n = len(col)
    t = col.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        if dim != 1:
            raise AriaInputError(f"{source}: column {name!r} holds scalars but the channel set "
                                 f"declares dim = {dim}")
        valid = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        vals = np.asarray(pc.cast(pc.fill_null(col, 0), pa.float64()).to_numpy(), dtype=np.float64)
        return vals.reshape(n, 1), valid
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise AriaInputError(f"{source}: column {name!r} must hold lists of numbers, found {t}")
    vt = t.value_type
    if not (pa.types.is_integer(vt) or pa.types.is_floating(vt) or pa.types.is_null(vt)):
        raise AriaInputError(f"{source}: column {name!r} must hold lists of numbers, found {t}")
    valid, offsets, flat = _list_parts(col)
    lens = np.diff(offsets)
    wrong = valid & ok & (lens != dim)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise AriaInputError(
            f"{source}: column {name!r} of track {str(ids[i])!r} has length {int(lens[i])}, the channel set "
            f"declares dim = {dim} ({int(wrong.sum())} row(s) wrong)"
        )
    values = np.asarray(pc.cast(pc.fill_null(flat, np.nan), pa.float64()).to_numpy(), dtype=np.float64)
    ok_len = valid & (lens == dim)
    if ok_len.all():  # the usual case: no gather needed
        return values.reshape(n, dim), ok_len
    out = np.full((n, dim), np.nan)
    good = np.flatnonzero(ok_len)
    if good.size:
        out[good] = values[offsets[good][:, None] + np.arange(dim)]
    return out, ok_len


def _sequence_column(col: pa.ChunkedArray, name: str, ids: np.ndarray, ok: np.ndarray,
                     source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = col.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise AriaInputError(f"{source}: column {name!r} must hold lists of chord labels (strings) or "
                             f"root motions (integers), found {t}")
    vt = t.value_type
    valid, offsets, flat = _list_parts(col)
    if pa.types.is_string(vt) or pa.types.is_large_string(vt) or pa.types.is_dictionary(vt):
        if flat.null_count:
            raise AriaInputError(f"{source}: column {name!r} has a null chord label inside a list")
        enc = pc.dictionary_encode(pc.cast(flat, pa.string()))
        labels = enc.dictionary.to_pylist()
        table_roots = np.empty(len(labels), dtype=np.int64)
        for j, lab in enumerate(labels):
            try:
                r = chord_root(lab)
            except ValueError:
                owner = int(np.searchsorted(offsets, int(np.flatnonzero(
                    np.asarray(enc.indices.to_numpy()) == j)[0]), side="right") - 1)
                raise AriaInputError(
                    f"{source}: column {name!r} of track {str(ids[owner])!r}: cannot parse a chord root from "
                    f"{lab!r} (expected labels like C, F#m, Bb7, C:maj, or N for no chord)"
                ) from None
            table_roots[j] = -1 if r is None else r
        roots = table_roots[np.asarray(enc.indices.to_numpy(), dtype=np.int64)]
        seqs = _ragged_motions(roots, offsets)
        return valid, seqs.values, seqs.offsets
    if pa.types.is_integer(vt) or pa.types.is_null(vt):
        if flat.null_count:
            raise AriaInputError(f"{source}: column {name!r} has a null root motion inside a list")
        vals = np.asarray(pc.cast(flat, pa.int64()).to_numpy(), dtype=np.int64)
        return valid, np.mod(vals, 12).astype(np.uint8), offsets
    raise AriaInputError(f"{source}: column {name!r} must hold lists of chord labels (strings) or "
                         f"root motions (integers), found {t}")
