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

API
---
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from aria._atomic import atomic_path
from aria._version import __version__
from aria.errors import AriaInputError

__all__ = [
    "DEFAULT_META_COLUMNS",
    "FeatureSpec",
    "channelset_fingerprint",
    "feature_specs",
    "load_channelset",
    "read_feature_table",
    "rows_to_table",
    "table_metadata",
    "table_schema",
    "write_feature_table",
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
    """
    if isinstance(source, Mapping):
        data = json.loads(json.dumps(source))  # deep copy into plain containers
        where = "channel set"
    else:
        path = Path(source)
        where = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AriaInputError(f"{path}: channel set not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise AriaInputError(f"{path}: not a valid TOML channel set ({exc})") from None
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
        Output of :func:`load_channelset`.

    Returns
    -------
    list of FeatureSpec
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
        raise ValueError(f"feature {spec.name} of {track!r} has length {arr.size}, expected {spec.dim}")
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
    """
    p = Path(path)
    with atomic_path(p) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return p


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
