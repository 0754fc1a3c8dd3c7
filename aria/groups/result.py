"""Homogeneity results: H, z and their summaries (z_bar, Pos, Sig) per K, query and channel."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aria.diagnostics.reliability import Diagnostics
from aria.features.channels import ChannelSet
from aria.groups.aggregate import TrackScores
from aria.groups.normalize import NormalizationReport
from aria.groups.null import NullDistribution
from aria.groups.pool import Pool, PoolCounts, PoolSimilarity
from aria.groups.topk import nested_group_similarity, top_k_groups

__all__ = [
    "SIG_THRESHOLD", "COLLAPSED_WARNING", "summarize", "MatrixHomogeneity", "matrix_homogeneity",
    "HomogeneityResult",
]

#: One-sided 5% threshold of the standard normal.
SIG_THRESHOLD = 1.645


#: Warning attached to the homogeneity of a collapsed matrix.
COLLAPSED_WARNING = (
    "diagnostics verdict is 'collapsed': every query retrieves nearly the same tracks, so these "
    "homogeneity numbers describe one fixed retrieved group, not attribution; do not rank this "
    "method by them"
)


def _z(h: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (h - mu) / sd
    z[..., ~(sd > 0)] = np.nan
    return z


def summarize(z: np.ndarray, include: np.ndarray | None = None) -> dict:
    """``z_mean``, ``pos``, ``sig`` and ``n_queries`` of per-query z values.

    Parameters
    ----------
    z : numpy.ndarray
        (Q,) z values (NaN = undefined).
    include : numpy.ndarray, optional
        Boolean mask of queries to use.

    Returns
    -------
    dict
    """
    z = np.asarray(z, dtype=np.float64)
    if include is not None:
        z = z[include]
    z = z[np.isfinite(z)]
    if z.size == 0:
        return {"z_mean": math.nan, "pos": math.nan, "sig": math.nan, "n_queries": 0}
    return {"z_mean": float(z.mean()), "pos": float((z > 0).mean()),
            "sig": float((z > SIG_THRESHOLD).mean()), "n_queries": int(z.size)}


@dataclass
class MatrixHomogeneity:
    """Homogeneity of one track score matrix (the scores, or their rank-1 residual).

    Arrays are indexed ``[k_index, query_index, channel_or_feature_index]``.

    Attributes
    ----------
    matrix : str
        ``"scores"`` or ``"residual"``.
    normalization : NormalizationReport
        How columns were normalized.
    query_ids : numpy.ndarray
        Query ids (str).
    k_values : tuple of int
        Group sizes.
    channels, features : tuple of str
        Labels.
    h_channel, z_channel : numpy.ndarray
        (nK, Q, C) ``H_c(q)`` and ``z_c(q)`` (NaN when the null sd is 0).
    h_feature, z_feature : numpy.ndarray
        (nK, Q, F) ``H_f(q)`` and ``z_f(q)``.
    groups : numpy.ndarray
        (Q, K_max) track ids (str) of each query's ranked top tracks.
    included : numpy.ndarray
        (Q,) queries used in summaries (constant columns are left out).
    """

    matrix: str
    normalization: NormalizationReport
    query_ids: np.ndarray
    k_values: tuple[int, ...]
    channels: tuple[str, ...]
    features: tuple[str, ...]
    h_channel: np.ndarray
    z_channel: np.ndarray
    h_feature: np.ndarray
    z_feature: np.ndarray
    groups: np.ndarray
    included: np.ndarray

    def z(self, channel: str, k: int) -> np.ndarray:
        """Per-query ``z_c`` of one channel and K."""
        return self.z_channel[self.k_values.index(k), :, self.channels.index(channel)]

    def summary(self) -> dict:
        """``{channel: {K: {z_mean, pos, sig, n_queries}}}``, and per feature under ``"features"``."""
        out: dict = {}
        for ci, c in enumerate(self.channels):
            out[c] = {str(k): summarize(self.z_channel[ki, :, ci], self.included)
                      for ki, k in enumerate(self.k_values)}
        out["features"] = {
            f: {str(k): summarize(self.z_feature[ki, :, fi], self.included)
                for ki, k in enumerate(self.k_values)}
            for fi, f in enumerate(self.features)}
        return out

    def summary_frame(self) -> pd.DataFrame:
        """Long table ``matrix, level, name, k, z_mean, pos, sig, n_queries``."""
        rows = []
        for level, names, z in (("channel", self.channels, self.z_channel),
                                ("feature", self.features, self.z_feature)):
            for ni, name in enumerate(names):
                for ki, k in enumerate(self.k_values):
                    rows.append({"matrix": self.matrix, "level": level, "name": name, "k": k,
                                 **summarize(z[ki, :, ni], self.included)})
        return pd.DataFrame(rows)

    def to_frame(self, level: str = "channel") -> pd.DataFrame:
        """Per-query long table ``matrix, query, k, <level>, h, z, included``.

        Parameters
        ----------
        level : str
            ``"channel"`` or ``"feature"``.
        """
        names, h, z = ((self.channels, self.h_channel, self.z_channel) if level == "channel"
                       else (self.features, self.h_feature, self.z_feature))
        nk, q, nn = h.shape
        return pd.DataFrame({
            "matrix": self.matrix,
            "query": np.tile(np.repeat(self.query_ids, nn), nk),
            "k": np.repeat(np.asarray(self.k_values), q * nn),
            level: np.tile(np.asarray(names, dtype=object), nk * q),
            "h": h.ravel(),
            "z": z.ravel(),
            "included": np.tile(np.repeat(self.included, nn), nk),
        })


def matrix_homogeneity(
    tscores: TrackScores,
    pool: Pool,
    psim: PoolSimilarity,
    nulls: Mapping[int, NullDistribution],
    ks: Sequence[int],
    *,
    matrix: str = "scores",
    workers: int = 1,
) -> MatrixHomogeneity:
    """Top-K groups, ``H`` and ``z`` of every query for one track score matrix.

    Parameters
    ----------
    tscores : TrackScores
        Normalized track scores.
    pool : Pool
        Eligible tracks (``pool.rows`` index ``tscores.values``).
    psim : PoolSimilarity
        Pool similarities.
    nulls : mapping of int -> NullDistribution
        Null per K.
    ks : sequence of int
        Group sizes, increasing.
    matrix : str
        Label (``"scores"`` or ``"residual"``).
    workers : int
        Threads.

    Returns
    -------
    MatrixHomogeneity
    """
    ks = tuple(int(k) for k in ks)
    ranked = top_k_groups(tscores.values, pool.rows, max(ks))
    hf = nested_group_similarity(psim, ranked, ks, workers=workers)
    hc = psim.channel_means(hf)
    zf = np.empty_like(hf)
    zc = np.empty_like(hc)
    for ki, k in enumerate(ks):
        nl = nulls[k]
        zf[ki] = _z(hf[ki], nl.feature_mean, nl.feature_sd)
        zc[ki] = _z(hc[ki], nl.channel_mean, nl.channel_sd)
    constant = set(tscores.report.zero_std_columns)
    included = np.array([q not in constant for q in tscores.query_ids], dtype=bool)
    return MatrixHomogeneity(matrix, tscores.report, np.asarray(tscores.query_ids), ks,
                             tuple(psim.channels), tuple(psim.features), hc, zc, hf, zf,
                             pool.track_ids[ranked], included)


@dataclass
class HomogeneityResult:
    """Everything ``aria homogeneity`` computes.

    Attributes
    ----------
    scores : MatrixHomogeneity
        Homogeneity of the (normalized) scores.
    residual : MatrixHomogeneity or None
        Homogeneity of the rank-1 residual, when requested.
    nulls : dict of int -> NullDistribution
        Null per K (shared by ``scores`` and ``residual``).
    channel_set : ChannelSet
        Channels and features used.
    pool : PoolCounts
        Track counts (pool size, tracks without features and why).
    excluded_tracks : pandas.DataFrame
        Score-matrix tracks left out of groups and null (``track``, ``reason``).
    diagnostics : Diagnostics
        Reliability diagnostics of the raw scores.
    alignment : AlignmentResult or None
        Axis-channel alignment (spec section 5).
    confound : ConfoundResult or None
        Per-label stratification (spec section 6), when labels were given.
    parameters : dict
        Every parameter of the run.
    warnings : list of str
        Caveats to show next to the numbers (e.g. the collapsed-matrix warning).
    """

    scores: MatrixHomogeneity
    residual: MatrixHomogeneity | None
    nulls: dict[int, NullDistribution]
    channel_set: ChannelSet
    pool: PoolCounts
    excluded_tracks: pd.DataFrame
    diagnostics: Diagnostics
    alignment: object | None = None
    confound: object | None = None
    parameters: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    dropped_dimensions: dict = field(default_factory=dict)

    @property
    def k_values(self) -> tuple[int, ...]:
        """Group sizes."""
        return self.scores.k_values

    @property
    def verdict(self) -> str:
        """Diagnostics verdict of the raw scores."""
        return self.diagnostics.verdict

    def to_dict(self) -> dict:
        """JSON-ready dict: per channel and K ``z_mean``, ``pos``, ``sig``; verdict; counts; nulls."""
        d = {
            "verdict": self.diagnostics.verdict,
            "verdict_reason": self.diagnostics.verdict_reason,
            "warnings": list(self.warnings),
            "channel_set": self.channel_set.to_dict(),
            "k": list(self.k_values),
            "n_queries": int(self.scores.query_ids.size),
            "normalization": self.scores.normalization.to_dict(),
            "homogeneity": self.scores.summary(),
            "tracks": self.pool.to_dict(),
            "dropped_dimensions": dict(self.dropped_dimensions),
            "null": {str(k): nl.to_dict() for k, nl in self.nulls.items()},
            "diagnostics": self.diagnostics.to_dict(),
            "parameters": dict(self.parameters),
        }
        if self.residual is not None:
            d["residual"] = {"normalization": self.residual.normalization.to_dict(),
                             "homogeneity": self.residual.summary()}
        if self.alignment is not None:
            d["alignment"] = self.alignment.to_dict()
        if self.confound is not None:
            d["confound"] = self.confound.to_dict()
        return d

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (NaN -> null) of :meth:`to_dict`."""
        from aria.io.output import json_safe

        return json.dumps(json_safe(self.to_dict()), indent=indent, allow_nan=False)

    def to_frame(self, level: str = "channel") -> pd.DataFrame:
        """Per-query long table of the scores (and residual) homogeneity."""
        frames = [self.scores.to_frame(level)]
        if self.residual is not None:
            frames.append(self.residual.to_frame(level))
        return pd.concat(frames, ignore_index=True)

    def summary_frame(self) -> pd.DataFrame:
        """Summary table (``z_mean``, ``pos``, ``sig``) per matrix, channel/feature and K."""
        frames = [self.scores.summary_frame()]
        if self.residual is not None:
            frames.append(self.residual.summary_frame())
        return pd.concat(frames, ignore_index=True)

    def null_frame(self) -> pd.DataFrame:
        """Null mean and sd per K, channel and feature."""
        return pd.concat([nl.to_frame() for nl in self.nulls.values()], ignore_index=True)
