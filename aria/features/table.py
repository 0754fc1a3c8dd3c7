"""Feature tables: schema, assembly and atomic Parquet writing (spec section 10).

A *feature table* has one row per track (or per span of a track) and these columns, in order:

``track`` (string)
    The track id (or span id) matched to the score matrix's track ids by string form.
metadata columns (``file``, ``start``, ``end``, ``unit`` by default)
    Where the row comes from; ``start``/``end`` are null for whole files.
``status`` (string), ``error`` (string)
    ``"ok"`` with a null error, or ``"failed"`` with a one-line reason; failed rows have null
    features.
one column per feature of the channel set, named as in the TOML
    ``kind = "vector"`` with ``dim = 1``: float64; with ``dim > 1``: list<float64> of length
    ``dim``; ``kind = "sequence"``: list<string> (chord labels) unless the feature's
    ``value_type = "int"`` (root motions, list<int64>).

The Parquet schema carries key-value metadata: ``aria.channelset`` (name),
``aria.channelset_version``, ``aria.fingerprint`` (hash of the channel set's parameters and the
extractor, used by ``--resume`` to refuse mixing tables built differently) and ``aria.version``.
No timestamp is written, so the same inputs always give a bit-identical file.

Reading (a table into a :class:`FeatureTable` checked against a channel set)
--------------------------------------------------------------------------
A feature table is Parquet with one row per track: a ``track`` column, one
column per feature of the channel set, and optional ``status``/``error``
columns recording failed extractions. This module reads it (or takes a pandas
DataFrame), checks it against a :class:`~aria.features.channels.ChannelSet` and returns
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

Writing
-------
:func:`load_channelset` reads a channel-set TOML into a dict, :func:`feature_specs` lists its
feature columns, :func:`table_schema` builds the Arrow schema, :func:`rows_to_table` turns row dicts
into a table with that schema (checking vector lengths), :func:`write_feature_table` writes it
atomically with the metadata above and :func:`read_feature_table` reads a table back.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from aria._version import __version__
from aria.errors import AriaInputError
from aria.features.channels import ChannelSet
from aria.features.chords import Sequences, chord_root, ragged_motions
from aria.io.atomic import atomic_path
from aria.io.validate import read_text_file
from aria.params import validate_params

__all__ = [
    "DEFAULT_META_COLUMNS", "FeatureSpec", "channelset_fingerprint", "feature_specs",
    "load_channelset", "read_feature_table", "rows_to_table", "table_metadata", "table_schema",
    "write_feature_table", "FeatureTable", "load_feature_table", "feature_table_from_frame",
    "recorded_channel_set", "resolve_channel_set",
]

#: Metadata columns every extracted row carries between ``track`` and ``status``.
DEFAULT_META_COLUMNS: dict[str, pa.DataType] = {
    "file": pa.string(),
    "start": pa.float64(),
    "end": pa.float64(),
    "unit": pa.string(),
}

_KINDS = ("vector", "sequence")


@dataclass(frozen=True)
class FeatureSpec:
    """One feature column of a channel set.

    Attributes
    ----------
    name : str
        Column name (the TOML key).
    channel : str
        Channel it belongs to.
    kind : str
        ``"vector"`` or ``"sequence"``.
    dim : int or None
        Vector length (None for sequences).
    extractor : str
        Name of the extractor function.
    params : dict
        Extractor parameters.
    value_type : str
        For sequences, ``"string"`` (chord labels) or ``"int"`` (root motions).

    Examples
    --------
    >>> import aria
    >>> from aria.features.table import feature_specs, load_channelset
    >>> spec = feature_specs(load_channelset(aria.load_channel_set("symbolic").source))[0]
    >>> spec.name, spec.channel, spec.kind, spec.dim
    ('melodic_interval_hist', 'melody', 'vector', 25)
    """

    name: str
    channel: str
    kind: str
    dim: int | None
    extractor: str
    params: dict
    value_type: str = "string"

    @property
    def arrow_type(self) -> pa.DataType:
        """Arrow type of this feature's column."""
        if self.kind == "sequence":
            return pa.list_(pa.int64() if self.value_type == "int" else pa.string())
        return pa.float64() if self.dim == 1 else pa.list_(pa.float64())


@validate_params({"source": ["path", Mapping]})
def load_channelset(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Read and check a channel-set TOML (or pass a parsed one through the same checks).

    Parameters
    ----------
    source : path-like or mapping
        Path of a ``features/*.toml`` file, or its already parsed content.

    Returns
    -------
    dict
        The parsed channel set (plain dicts and lists, picklable).

    Raises
    ------
    AriaInputError
        Unreadable TOML, or a feature without a valid ``channel``/``kind``/``dim``.

    Examples
    --------
    >>> import aria
    >>> from aria.features.table import load_channelset
    >>> cs = load_channelset(aria.load_channel_set("symbolic").source)
    >>> cs["name"], sorted(cs["channels"])
    ('symbolic', ['dynamic', 'harmony', 'melody', 'rhythm', 'texture'])
    """
    if isinstance(source, Mapping):
        data = json.loads(json.dumps(source))  # deep copy into plain containers
        where = "channel set"
    else:
        path = Path(source)
        where = str(path)
        data = read_text_file(path, tomllib.loads, (tomllib.TOMLDecodeError,),
                              missing="channel set not found", invalid="not a valid TOML channel set")
    features = data.get("features")
    if not isinstance(features, dict) or not features:
        raise AriaInputError(f"{where}: no [features.<column>] tables")
    channels = data.get("channels", {})
    for name, spec in features.items():
        if not isinstance(spec, dict):
            raise AriaInputError(f"{where}: features.{name} must be a table")
        kind = spec.get("kind")
        if kind not in _KINDS:
            raise AriaInputError(f"{where}: features.{name}.kind must be one of {_KINDS}, got {kind!r}")
        if kind == "vector":
            dim = spec.get("dim")
            if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
                raise AriaInputError(f"{where}: features.{name}.dim must be a positive integer")
        if channels and spec.get("channel") not in channels:
            raise AriaInputError(f"{where}: features.{name}.channel {spec.get('channel')!r} is not "
                                 f"declared under [channels]")
        if name in ("track", "status", "error") or name in DEFAULT_META_COLUMNS:
            raise AriaInputError(f"{where}: feature name {name!r} is reserved")
    return data


def feature_specs(channelset: Mapping[str, Any]) -> list[FeatureSpec]:
    """List the feature columns of a parsed channel set, in TOML order.

    Parameters
    ----------
    channelset : mapping
        Parsed channel set (:func:`load_channelset`).

    Returns
    -------
    list of FeatureSpec

    Examples
    --------
    >>> import aria
    >>> from aria.features.table import feature_specs, load_channelset
    >>> specs = feature_specs(load_channelset(aria.load_channel_set("audio").source))
    >>> [(s.name, s.channel) for s in specs][:2]
    [('beat_interval_hist', 'rhythm'), ('onset_interval_hist', 'rhythm')]
    """
    out = []
    for name, spec in channelset["features"].items():
        out.append(FeatureSpec(
            name=name,
            channel=str(spec.get("channel", "")),
            kind=spec["kind"],
            dim=int(spec["dim"]) if spec["kind"] == "vector" else None,
            extractor=str(spec.get("extractor", name)),
            params=dict(spec.get("params", {})),
            value_type=str(spec.get("value_type", "string")),
        ))
    return out


def channelset_fingerprint(channelset: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> str:
    """SHA-256 (hex, 16 chars) of a channel set's content plus extra parameters.

    Parameters
    ----------
    channelset : mapping
        Parsed channel set.
    extra : mapping, optional
        Anything else that changes the numbers (e.g. the extractor's qualified name).

    Returns
    -------
    str
        16 hexadecimal digits; equal for equal content, whatever the key order.

    Examples
    --------
    >>> import aria
    >>> from aria.features.table import channelset_fingerprint, load_channelset
    >>> cs = load_channelset(aria.load_channel_set("symbolic").source)
    >>> fp = channelset_fingerprint(cs)
    >>> len(fp), fp == channelset_fingerprint(cs), fp == channelset_fingerprint(cs, {"sr": 22050})
    (16, True, False)
    """
    blob = json.dumps({"channelset": channelset, "extra": extra or {}}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def table_schema(
    specs: Sequence[FeatureSpec],
    meta_columns: Mapping[str, pa.DataType] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> pa.Schema:
    """Arrow schema of a feature table.

    Parameters
    ----------
    specs : sequence of FeatureSpec
        Feature columns.
    meta_columns : mapping, optional
        Metadata columns between ``track`` and ``status`` (default :data:`DEFAULT_META_COLUMNS`).
    metadata : mapping of str to str, optional
        Parquet key-value metadata.

    Returns
    -------
    pyarrow.Schema

    Examples
    --------
    >>> import aria
    >>> from aria.features.table import feature_specs, load_channelset, table_schema
    >>> schema = table_schema(feature_specs(load_channelset(aria.load_channel_set("symbolic").source)))
    >>> schema.names[:3]
    ['track', 'file', 'start']
    """
    meta_columns = DEFAULT_META_COLUMNS if meta_columns is None else meta_columns
    fields = [pa.field("track", pa.string())]
    fields += [pa.field(k, t) for k, t in meta_columns.items()]
    fields += [pa.field("status", pa.string()), pa.field("error", pa.string())]
    fields += [pa.field(s.name, s.arrow_type) for s in specs]
    return pa.schema(fields, metadata={k: str(v) for k, v in (metadata or {}).items()} or None)


def table_metadata(channelset: Mapping[str, Any], fingerprint: str) -> dict[str, str]:
    """Key-value metadata recorded in the Parquet schema of a feature table.

    Parameters
    ----------
    channelset : mapping
        Parsed channel set.
    fingerprint : str
        Output of :func:`channelset_fingerprint`.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> import aria
    >>> from aria.features.table import channelset_fingerprint, load_channelset, table_metadata
    >>> cs = load_channelset(aria.load_channel_set("symbolic").source)
    >>> meta = table_metadata(cs, channelset_fingerprint(cs))
    >>> sorted(meta)[:3]
    ['aria.channelset', 'aria.channelset_version', 'aria.fingerprint']
    """
    return {
        "aria.channelset": str(channelset.get("name", "")),
        "aria.channelset_version": str(channelset.get("version", "")),
        "aria.fingerprint": fingerprint,
        "aria.version": __version__,
    }


def _check_value(spec: FeatureSpec, value: Any, track: str) -> Any:
    if value is None:
        return None
    if spec.kind == "sequence":
        seq = list(value)
        return [int(v) for v in seq] if spec.value_type == "int" else [str(v) for v in seq]
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size != spec.dim:
        raise AriaInputError(f"feature {spec.name} of {track!r} has length {arr.size}, expected {spec.dim}")
    if spec.dim == 1:
        return float(arr[0])
    return arr.tolist()


def rows_to_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema,
                  specs: Sequence[FeatureSpec]) -> pa.Table:
    """Build a feature table from row dicts.

    Parameters
    ----------
    rows : iterable of mapping
        One dict per row with ``track``, metadata, ``status``, ``error`` and feature values
        (missing keys are null). Vector values may be lists or numpy arrays.
    schema : pyarrow.Schema
        From :func:`table_schema`.
    specs : sequence of FeatureSpec
        The feature columns of ``schema``.

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    ValueError
        A vector value of the wrong length (an extractor bug, not a user error).

    Examples
    --------
    >>> from aria.features.table import rows_to_table, table_schema, FeatureSpec
    >>> spec = FeatureSpec("density", "rhythm", "vector", 1, "note_density", {}, "float")
    >>> rows = [{"track": "t1", "density": [2.5]}, {"track": "t2", "density": [1.0]}]
    >>> t = rows_to_table(rows, table_schema([spec]), [spec])
    >>> t.num_rows, t.column("density").to_pylist()
    (2, [2.5, 1.0])
    """
    by_name = {s.name: s for s in specs}
    columns: dict[str, list] = {f.name: [] for f in schema}
    for row in rows:
        track = str(row.get("track"))
        for name, col in columns.items():
            value = row.get(name)
            if name in by_name:
                value = _check_value(by_name[name], value, track)
            elif isinstance(value, float) and math.isnan(value) and name in ("start", "end"):
                value = None
            col.append(value)
    return pa.Table.from_pydict(columns, schema=schema)


@validate_params({"table": pa.Table, "path": "path"})
def write_feature_table(table: pa.Table, path: str | os.PathLike[str]) -> Path:
    """Write a feature table to Parquet atomically (schema metadata included).

    Parameters
    ----------
    table : pyarrow.Table
        The table (its schema's key-value metadata is written as is).
    path : path-like
        Destination ``.parquet`` file.

    Returns
    -------
    pathlib.Path
        ``path``, written whole (a temporary file renamed into place).

    Examples
    --------
    >>> import aria
    >>> import tempfile, pathlib
    >>> from aria.features.table import read_feature_table, write_feature_table
    >>> table, meta = read_feature_table(aria.examples.features_path())
    >>> out = write_feature_table(table, pathlib.Path(tempfile.mkdtemp()) / "features.parquet")
    >>> read_feature_table(out)[0].equals(table)
    True
    """
    p = Path(path)
    with atomic_path(p) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return p


@validate_params({"path": "path"})
def read_feature_table(path: str | os.PathLike[str]) -> tuple[pa.Table, dict[str, str]]:
    """Read a feature table and its Aria key-value metadata.

    Parameters
    ----------
    path : path-like
        A Parquet feature table.

    Returns
    -------
    (pyarrow.Table, dict of str to str)

    Raises
    ------
    AriaInputError
        Missing file, not Parquet, or no ``track`` column.

    Examples
    --------
    >>> import aria
    >>> from aria.features.table import read_feature_table
    >>> table, meta = read_feature_table(aria.examples.features_path())
    >>> table.num_rows, "track" in table.column_names
    (406, True)
    """
    p = Path(path)
    try:
        table = pq.read_table(p)
    except FileNotFoundError:
        raise AriaInputError(f"{p}: feature table not found") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise AriaInputError(f"{p}: not a readable Parquet feature table ({exc})") from None
    if "track" not in table.column_names:
        raise AriaInputError(f"{p}: feature table has no 'track' column")
    raw = table.schema.metadata or {}
    meta = {k.decode(): v.decode() for k, v in raw.items() if k.startswith(b"aria.")}
    return table, meta



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

    Examples
    --------
    >>> import aria
    >>> ft = aria.load_feature_table(aria.examples.features_path(), aria.load_channel_set("symbolic"))
    >>> ft.track_ids.size, ft.n_rows
    (406, 406)
    >>> ft.vectors["pitch_class_hist"].shape
    (406, 12)
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


# ---------------------------------------------------------------------------------------------
# reading


@validate_params({"path": "path", "channel_set": ChannelSet})
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

    Examples
    --------
    >>> import aria
    >>> ft = aria.load_feature_table(aria.examples.features_path(), aria.load_channel_set("symbolic"))
    >>> ft.channel_set.name, ft.track_ids[:2].tolist()
    ('symbolic', ['bwv1.6', 'bwv10.7'])
    """
    import pyarrow.parquet as pq

    p = Path(path)
    if not p.exists():
        raise AriaInputError(f"{p}: no such feature table")
    from aria.io.validate import check_input_path

    check_input_path(p, "feature table")  # a pipe or device would block
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


def recorded_channel_set(path: str | os.PathLike[str]) -> str | None:
    """The shipped channel set a feature table says it was extracted with, if any.

    Reads only the Parquet schema's ``aria.channelset`` metadata (written by ``aria features``).

    Parameters
    ----------
    path : path-like
        A Parquet feature table, as for :func:`read_feature_table`.

    Returns
    -------
    str or None
        ``"audio"``, ``"symbolic"`` (a shipped set), or None when the table records no
        channel set, records one that is not shipped, or cannot be read (reading it
        properly then reports why).

    Examples
    --------
    >>> import aria
    >>> recorded_channel_set(aria.examples.features_path())
    'symbolic'
    """
    from aria._resources import features_dir

    try:
        metadata = pq.read_schema(Path(path)).metadata or {}
    except Exception:  # unreadable: load_feature_table gives the one-line reason
        return None
    name = metadata.get(b"aria.channelset", b"").decode(errors="replace")
    return name if name and (features_dir() / f"{name}.toml").is_file() else None


def resolve_channel_set(channels: str | os.PathLike[str] | None, features: object,
                        default: str) -> str | os.PathLike[str]:
    """The one ``--channels`` default rule: given, else recorded in the table, else ``default``.

    Parameters
    ----------
    channels : str or path-like or None
        The channel set asked for (None = not given).
    features : path-like or pandas.DataFrame or None
        The feature table; only a path can record a channel set.
    default : str
        Channel set when neither is known.

    Returns
    -------
    str or path-like

    Examples
    --------
    >>> import aria
    >>> resolve_channel_set(None, aria.examples.features_path(), "audio")
    'symbolic'
    >>> resolve_channel_set("audio", aria.examples.features_path(), "symbolic")
    'audio'
    >>> resolve_channel_set(None, None, "audio")
    'audio'
    """
    if channels is not None:
        return channels
    if isinstance(features, str | os.PathLike):
        return recorded_channel_set(features) or default
    return default


@validate_params({"frame": pd.DataFrame, "channel_set": ChannelSet, "source": "str"})
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
        The rows that passed (:attr:`FeatureTable.excluded` says why the others did not).

    Examples
    --------
    >>> import aria
    >>> import pandas as pd
    >>> from aria.features.channels import parse_channel_set
    >>> cs = parse_channel_set({"channels": {"a": {}}, "features": {
    ...     "x": {"channel": "a", "kind": "vector", "dim": 1, "similarity": "seuclidean"}}})
    >>> ft = aria.feature_table_from_frame(pd.DataFrame({"track": ["t1", "t2"], "x": [0.5, 1.5]}), cs)
    >>> ft.track_ids.tolist(), ft.vectors["x"].ravel().tolist()
    (['t1', 't2'], [0.5, 1.5])
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
        seqs = ragged_motions(roots, offsets)
        return valid, seqs.values, seqs.offsets
    if pa.types.is_integer(vt) or pa.types.is_null(vt):
        if flat.null_count:
            raise AriaInputError(f"{source}: column {name!r} has a null root motion inside a list")
        vals = np.asarray(pc.cast(flat, pa.int64()).to_numpy(), dtype=np.int64)
        return valid, np.mod(vals, 12).astype(np.uint8), offsets
    raise AriaInputError(f"{source}: column {name!r} must hold lists of chord labels (strings) or "
                         f"root motions (integers), found {t}")
