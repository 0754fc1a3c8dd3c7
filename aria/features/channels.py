"""Channel sets as data: load and validate ``features/*.toml`` (spec section 4).

A channel set maps musical *channels* (rhythm, harmony, ...) to *features*,
each feature being one column of a feature table with a kind (``vector`` or
``sequence``), a dimension and a similarity. The shipped sets are
``features/audio.toml`` and ``features/symbolic.toml``; a user may pass any
TOML following the same schema to define channels from their own columns.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aria._resources import channelset_path
from aria.errors import AriaInputError
from aria.params import validate_params

__all__ = ["Feature", "ChannelSet", "load_channel_set", "parse_channel_set", "SIMILARITIES", "KINDS"]

#: Similarities a feature may declare, with the feature kind each applies to.
SIMILARITIES = {"seuclidean": "vector", "lcs_root_motion": "sequence"}
#: Feature kinds.
KINDS = ("vector", "sequence")

_FEATURE_KEYS = {"channel", "kind", "dim", "similarity", "extractor", "params", "jsymbolic_id",
                 "description", "value_type"}


@dataclass(frozen=True)
class Feature:
    """One feature (= one feature-table column).

    Attributes
    ----------
    name : str
        Column name in the feature table.
    channel : str
        Channel it belongs to.
    kind : str
        ``"vector"`` (fixed-length list of floats, or a float when ``dim == 1``)
        or ``"sequence"`` (chord labels or root motions).
    similarity : str
        ``"seuclidean"`` or ``"lcs_root_motion"``.
    dim : int or None
        Vector length (vector features); None for sequences.
    extractor : str or None
        Name of the extractor that computes it (informational here).
    params : dict
        Extractor parameters.

    Examples
    --------
    >>> import aria
    >>> f = aria.load_channel_set("symbolic").features[0]
    >>> f.name, f.kind, f.similarity, f.dim
    ('melodic_interval_hist', 'vector', 'seuclidean', 25)
    """

    name: str
    channel: str
    kind: str
    similarity: str
    dim: int | None = None
    extractor: str | None = None
    params: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ChannelSet:
    """A validated channel set.

    Attributes
    ----------
    name : str
        Set name (``"audio"``, ``"symbolic"`` or the user's).
    channels : tuple of str
        Channel names, in file order, each with at least one feature.
    features : tuple of Feature
        Features, in file order.
    source : str
        Where it was read from.
    version : int or str or None
        The file's ``version`` entry.
    descriptions : dict
        Channel name -> description.

    Examples
    --------
    >>> import aria
    >>> cs = aria.load_channel_set("symbolic")
    >>> cs.name, cs.channels
    ('symbolic', ('melody', 'harmony', 'rhythm', 'dynamic', 'texture'))
    >>> cs.features[0].name, cs.features[0].channel
    ('melodic_interval_hist', 'melody')
    """

    name: str
    channels: tuple[str, ...]
    features: tuple[Feature, ...]
    source: str = "<dict>"
    version: int | str | None = None
    descriptions: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Feature (column) names in order."""
        return tuple(f.name for f in self.features)

    def features_of(self, channel: str) -> tuple[Feature, ...]:
        """Features of one channel, in file order."""
        if channel not in self.channels:
            raise KeyError(f"no channel {channel!r} in channel set {self.name!r}")
        return tuple(f for f in self.features if f.channel == channel)

    def feature(self, name: str) -> Feature:
        """The feature called ``name``."""
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(f"no feature {name!r} in channel set {self.name!r}")

    def to_dict(self) -> dict:
        """JSON-ready description (name, source, channels -> feature names)."""
        return {
            "name": self.name,
            "source": self.source,
            "version": self.version,
            "channels": {c: [f.name for f in self.features_of(c)] for c in self.channels},
            "features": {f.name: {"channel": f.channel, "kind": f.kind, "dim": f.dim,
                                  "similarity": f.similarity} for f in self.features},
        }


@validate_params({"spec": "path"})
def load_channel_set(spec: str | os.PathLike[str]) -> ChannelSet:
    """Load a channel set by shipped name (``"audio"``, ``"symbolic"``) or TOML path.

    Parameters
    ----------
    spec : str or path-like
        A shipped set's name, or the path of a TOML file.

    Returns
    -------
    ChannelSet

    Raises
    ------
    AriaInputError
        Missing or unparsable file, or a schema violation (one-line message).

    Examples
    --------
    >>> import aria
    >>> cs = aria.load_channel_set("audio")
    >>> cs.channels
    ('rhythm', 'harmony', 'timbre')
    """
    text = str(spec)
    p = Path(text)
    if p.suffix.lower() != ".toml" and os.sep not in text and "/" not in text:
        p = channelset_path(text)
    if not p.is_file():
        raise AriaInputError(f"{p}: no such channel-set file")
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise AriaInputError(f"{p}: invalid TOML ({exc})") from None
    except OSError as exc:
        raise AriaInputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    return parse_channel_set(data, source=str(p), default_name=p.stem)


@validate_params({"data": Mapping, "source": "str", "default_name": "str"})
def parse_channel_set(data: dict, *, source: str = "<dict>", default_name: str = "custom") -> ChannelSet:
    """Validate a parsed channel-set mapping (the TOML's content).

    Parameters
    ----------
    data : dict
        Parsed TOML.
    source : str
        Name used in error messages.
    default_name : str
        Name when the mapping has no ``name`` entry.

    Returns
    -------
    ChannelSet

    Examples
    --------
    >>> from aria.features.channels import parse_channel_set
    >>> cs = parse_channel_set({"name": "tiny", "channels": {"pitch": {}}, "features": {
    ...     "pc": {"channel": "pitch", "kind": "vector", "dim": 12, "similarity": "seuclidean"}}})
    >>> cs.name, cs.channels, [f.name for f in cs.features]
    ('tiny', ('pitch',), ['pc'])
    """
    def err(msg: str) -> AriaInputError:
        return AriaInputError(f"{source}: {msg}")

    if not isinstance(data, dict):
        raise err("channel set must be a table")
    channels_tbl = data.get("channels")
    features_tbl = data.get("features")
    if not isinstance(channels_tbl, dict) or not channels_tbl:
        raise err("no [channels.<name>] tables: declare at least one channel")
    if not isinstance(features_tbl, dict) or not features_tbl:
        raise err("no [features.<column>] tables: declare at least one feature")
    descriptions = {}
    for cname, ctbl in channels_tbl.items():
        if not isinstance(ctbl, dict):
            raise err(f"[channels.{cname}] must be a table")
        descriptions[cname] = str(ctbl.get("description", ""))
    features = []
    for fname, ftbl in features_tbl.items():
        where = f"[features.{fname}]"
        if not isinstance(ftbl, dict):
            raise err(f"{where} must be a table")
        unknown = set(ftbl) - _FEATURE_KEYS
        if unknown:
            raise err(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        channel = ftbl.get("channel")
        if channel is None:
            raise err(f"{where}: missing 'channel'")
        if channel not in channels_tbl:
            raise err(
                f"{where}: channel {channel!r} is not declared (channels: {', '.join(channels_tbl)}); "
                f"add a [channels.{channel}] table"
            )
        similarity = ftbl.get("similarity")
        if similarity is None:
            raise err(f"{where}: missing 'similarity' (one of {', '.join(SIMILARITIES)})")
        if similarity not in SIMILARITIES:
            raise err(f"{where}: unknown similarity {similarity!r} (known: {', '.join(SIMILARITIES)})")
        kind = ftbl.get("kind", SIMILARITIES[similarity])
        if kind not in KINDS:
            raise err(f"{where}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
        if SIMILARITIES[similarity] != kind:
            raise err(f"{where}: similarity {similarity!r} applies to {SIMILARITIES[similarity]} "
                      f"features, not {kind}")
        dim = ftbl.get("dim")
        if kind == "vector":
            if dim is None:
                raise err(f"{where}: missing 'dim' (vector length) for a vector feature")
            if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
                raise err(f"{where}: 'dim' must be a positive integer, got {dim!r}")
        elif dim is not None:
            raise err(f"{where}: a sequence feature has no 'dim'")
        value_type = ftbl.get("value_type")
        if value_type is not None and (kind != "sequence" or value_type not in ("string", "int")):
            raise err(f"{where}: 'value_type' applies to sequence features and is 'string' (chord "
                      f"labels) or 'int' (root motions), got {value_type!r}")
        params = ftbl.get("params", {})
        if not isinstance(params, dict):
            raise err(f"{where}: 'params' must be a table")
        features.append(Feature(name=str(fname), channel=str(channel), kind=kind, similarity=similarity,
                                dim=dim, extractor=ftbl.get("extractor"), params=dict(params)))
    used = {f.channel for f in features}
    empty = [c for c in channels_tbl if c not in used]
    if empty:
        raise err(f"channel(s) without features: {', '.join(empty)}")
    return ChannelSet(
        name=str(data.get("name", default_name)),
        channels=tuple(channels_tbl),
        features=tuple(features),
        source=source,
        version=data.get("version"),
        descriptions=descriptions,
    )
