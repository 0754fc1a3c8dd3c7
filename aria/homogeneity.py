"""Within-group homogeneity against random reference groups (spec section 3).

For each query ``q`` and group size ``K``, the group ``G_q(K)`` is the K
tracks with the highest normalized track score ``T[:, q]`` among the *pool*
(tracks of the score matrix that have usable features), ties broken by track
order. For each feature ``f``::

    H_f(q) = 2 / (K (K - 1)) * sum_{a < b in G_q(K)} sim_f(x_a, x_b)
    H_c(q) = mean over features f of channel c of H_f(q)

The null: ``R`` groups of K distinct pool tracks drawn uniformly with
``numpy.random.default_rng([seed, K])`` (so the null of one K does not depend
on which other K are swept); ``mu`` and ``sd`` (``ddof = 1``) of ``H`` over
those groups, per feature and per channel. Then ``z = (H - mu) / sd`` and,
over queries, ``z_bar = mean z``, ``Pos = P(z > 0)``, ``Sig = P(z > 1.645)``.

Efficiency: groups of the K sweep are nested prefixes of each query's ranking,
so one ``K_max x K_max`` block of pair similarities per query gives every K
(cumulative sums); pairs shared by several groups (e.g. every query of a
collapsed matrix retrieves the same tracks) are evaluated once; LCS uses the
bit-parallel batch algorithm of :mod:`aria.similarity`. The null depends only
on (pool, features, similarity mapping, K, R, seed) and can be cached on disk
(:class:`aria.nullcache.NullCache`) and reused across queries and methods.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from aria.aggregate import DEFAULT_RANK_BLOCK_BYTES, TrackScores, track_scores
from aria.channels import ChannelSet, load_channel_set
from aria.diagnostics import Diagnostics, diagnose
from aria.errors import AriaInputError
from aria.featuretable import FeatureTable, feature_table_from_frame, load_feature_table
from aria.normalize import DEFAULT_KURTOSIS_THRESHOLD, NormalizationReport
from aria.similarity import LCSSimilarity, VectorSimilarity
from aria.streaming import DEFAULT_BLOCK_ROWS

__all__ = [
    "DEFAULT_K",
    "SIG_THRESHOLD",
    "NULL_ALGORITHM_VERSION",
    "PoolCounts",
    "Pool",
    "PoolSimilarity",
    "NullDistribution",
    "MatrixHomogeneity",
    "HomogeneityResult",
    "build_pool",
    "top_k_groups",
    "random_groups",
    "group_similarity",
    "nested_group_similarity",
    "compute_null",
    "matrix_homogeneity",
    "summarize",
    "homogeneity",
    "COLLAPSED_WARNING",
]

#: Default K sweep (values with K >= pool size are dropped).
DEFAULT_K = (5, 10, 20, 50, 100)
#: One-sided 5% threshold of the standard normal.
SIG_THRESHOLD = 1.645
#: Bumped whenever the null computation changes (part of the cache key).
NULL_ALGORITHM_VERSION = 1
#: Warning attached to the homogeneity of a collapsed matrix.
COLLAPSED_WARNING = (
    "diagnostics verdict is 'collapsed': every query retrieves nearly the same tracks, so these "
    "homogeneity numbers describe one fixed retrieved group, not attribution; do not rank this "
    "method by them"
)


# ---------------------------------------------------------------------------------------------
# pool


@dataclass
class PoolCounts:
    """How many tracks could take part, and why the others could not.

    Attributes
    ----------
    score_tracks : int
        Distinct tracks in the score matrix (``M``).
    pool : int
        Tracks with usable features (eligible for groups and the null).
    without_features : int
        Score-matrix tracks left out (``score_tracks - pool``).
    absent_from_table : int
        ... of which have no row in the feature table.
    failed : int
        ... of which have a failed extraction.
    invalid : int
        ... of which have a null or non-finite feature.
    unmatched_feature_rows : int
        Usable feature-table rows whose track is not in the score matrix.
    """

    score_tracks: int
    pool: int
    without_features: int
    absent_from_table: int
    failed: int
    invalid: int
    unmatched_feature_rows: int

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return dict(self.__dict__)


@dataclass
class Pool:
    """Tracks eligible for groups: in the score matrix and with usable features, in track order.

    Attributes
    ----------
    track_ids : numpy.ndarray
        Pool track ids (str), in track order.
    rows : numpy.ndarray
        Row of each pool track in the track score matrix.
    features : FeatureTable
        Features aligned with ``track_ids``.
    counts : PoolCounts
        Exclusion counts.
    excluded : pandas.DataFrame
        Score-matrix tracks left out, with columns ``track`` and ``reason``.
    """

    track_ids: np.ndarray
    rows: np.ndarray
    features: FeatureTable
    counts: PoolCounts
    excluded: pd.DataFrame

    @property
    def size(self) -> int:
        """Number of pool tracks."""
        return int(self.track_ids.size)


def build_pool(track_ids: np.ndarray, features: FeatureTable) -> Pool:
    """Match score-matrix tracks with feature-table rows (by string form of the id).

    Parameters
    ----------
    track_ids : numpy.ndarray
        Track ids of the track score matrix, in its row (track) order.
    features : FeatureTable
        Usable features.

    Returns
    -------
    Pool
    """
    tids = np.asarray([str(t) for t in track_ids], dtype=object).astype(str)
    ft_pos = pd.Index(features.track_ids).get_indexer(tids)
    rows = np.flatnonzero(ft_pos >= 0)
    excluded_reason = dict(zip(features.excluded["track"].astype(str), features.excluded["reason"],
                               strict=True))
    missing = tids[ft_pos < 0]
    reasons = np.array([excluded_reason.get(t, "no row in the feature table") for t in missing],
                       dtype=object)
    failed = int(sum(r.startswith("failed") for r in reasons))
    absent = int(sum(r == "no row in the feature table" for r in reasons))
    matched = np.zeros(features.n_tracks, dtype=bool)
    matched[ft_pos[rows]] = True
    counts = PoolCounts(
        score_tracks=int(tids.size), pool=int(rows.size), without_features=int(missing.size),
        absent_from_table=absent, failed=failed, invalid=int(missing.size) - absent - failed,
        unmatched_feature_rows=int((~matched).sum()),
    )
    return Pool(tids[rows], rows, features.take(ft_pos[rows]), counts,
                pd.DataFrame({"track": missing, "reason": reasons.astype(str)}))


class PoolSimilarity:
    """Similarity evaluators of every feature over a pool (``s_j`` fixed on the pool).

    Parameters
    ----------
    features : FeatureTable
        Pool-aligned features.
    mapping : str
        Distance -> similarity mapping of vector features (``"inverse"`` or ``"exp"``).
    """

    def __init__(self, features: FeatureTable, mapping: str = "inverse") -> None:
        self.channel_set = features.channel_set
        self.mapping = mapping
        self.features = self.channel_set.feature_names
        self.channels = self.channel_set.channels
        self.n = features.n_tracks
        self._features = features
        self._eval: dict[str, VectorSimilarity | LCSSimilarity] = {}
        for f in self.channel_set.features:
            if f.kind == "vector":
                self._eval[f.name] = VectorSimilarity(features.vectors[f.name], mapping)
            else:
                self._eval[f.name] = LCSSimilarity(features.sequences[f.name])
        # channel membership matrix (C x F), rows averaging the channel's features
        self.channel_weights = np.zeros((len(self.channels), len(self.features)))
        for ci, c in enumerate(self.channels):
            idx = [self.features.index(f.name) for f in self.channel_set.features_of(c)]
            self.channel_weights[ci, idx] = 1.0 / len(idx)
        self._fingerprint: str | None = None

    def dropped_dimensions(self) -> dict[str, int]:
        """Vector feature -> number of dimensions dropped because ``s_j = 0``."""
        return {k: v.n_dropped for k, v in self._eval.items()
                if isinstance(v, VectorSimilarity) and v.n_dropped}

    def pairs(self, feature: str, ia: np.ndarray, ib: np.ndarray, *, workers: int = 1) -> np.ndarray:
        """Similarities of pool-index pairs for one feature."""
        return self._eval[feature].pairs(ia, ib, workers=workers)

    def channel_means(self, h_feature: np.ndarray) -> np.ndarray:
        """``H_c`` from ``H_f`` (last axis features -> channels)."""
        return h_feature @ self.channel_weights.T

    def fingerprint(self) -> str:
        """SHA-256 over the pool's track ids, feature values, similarities and mapping."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            ft = self._features
            h.update(json.dumps({"mapping": self.mapping, "channels": self.channel_set.to_dict()["channels"],
                                 "features": self.channel_set.to_dict()["features"]},
                                sort_keys=True).encode())
            h.update("\0".join(ft.track_ids.tolist()).encode())
            for f in self.channel_set.features:
                h.update(f.name.encode() + b"\0")
                if f.kind == "vector":
                    h.update(np.ascontiguousarray(ft.vectors[f.name], dtype=np.float64).tobytes())
                else:
                    s = ft.sequences[f.name]
                    h.update(np.ascontiguousarray(s.offsets, dtype=np.int64).tobytes())
                    h.update(np.ascontiguousarray(s.values, dtype=np.uint8).tobytes())
            self._fingerprint = h.hexdigest()
        return self._fingerprint


# ---------------------------------------------------------------------------------------------
# groups and their similarities


def top_k_groups(values: np.ndarray, rows: np.ndarray, k: int, *, column_block: int = 64) -> np.ndarray:
    """Each query's top-k pool tracks, best first, ties broken by track (pool) order.

    Parameters
    ----------
    values : numpy.ndarray
        Track score matrix (M x Q).
    rows : numpy.ndarray
        Pool rows of ``values``, in track order.
    k : int
        Group size (``k <= len(rows)``).
    column_block : int
        Columns gathered at a time.

    Returns
    -------
    numpy.ndarray
        (Q, k) int64 pool indices.
    """
    n_pool = rows.size
    q = values.shape[1]
    out = np.empty((q, k), dtype=np.int64)
    for c0 in range(0, q, column_block):
        sub = values[rows, c0:c0 + column_block]
        for j in range(sub.shape[1]):
            x = sub[:, j]
            if k < n_pool:
                part = np.argpartition(-x, k - 1)[:k]
                cand = np.flatnonzero(x >= x[part].min())
            else:
                cand = np.arange(n_pool)
            out[c0 + j] = cand[np.argsort(-x[cand], kind="stable")][:k]
    return out


def random_groups(n_pool: int, k: int, n_groups: int, rng: np.random.Generator) -> np.ndarray:
    """``n_groups`` groups of ``k`` distinct pool indices, each uniform without replacement.

    Parameters
    ----------
    n_pool : int
        Pool size.
    k : int
        Group size.
    n_groups : int
        Number of groups ``R``.
    rng : numpy.random.Generator
        Seeded generator.

    Returns
    -------
    numpy.ndarray
        (n_groups, k) int64.
    """
    out = np.empty((n_groups, k), dtype=np.int64)
    for r in range(n_groups):
        out[r] = rng.choice(n_pool, size=k, replace=False)
    return out


def _unique_pairs(ia: np.ndarray, ib: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = np.minimum(ia, ib).ravel()
    hi = np.maximum(ia, ib).ravel()
    keys, inv = np.unique(lo * n + hi, return_inverse=True)
    return keys // n, keys % n, inv.reshape(ia.shape)


def group_similarity(psim: PoolSimilarity, groups: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """``H_f`` of arbitrary groups.

    Parameters
    ----------
    psim : PoolSimilarity
        Pool similarities.
    groups : numpy.ndarray
        (G, K) pool indices, K >= 2.
    workers : int
        Threads for the pair similarities.

    Returns
    -------
    numpy.ndarray
        (G, F) within-group mean pairwise similarity per feature.
    """
    g, k = groups.shape
    iu = np.triu_indices(k, 1)
    ua, ub, inv = _unique_pairs(groups[:, iu[0]], groups[:, iu[1]], psim.n)
    out = np.empty((g, len(psim.features)))
    for fi, f in enumerate(psim.features):
        sims = psim.pairs(f, ua, ub, workers=workers)[inv]
        out[:, fi] = sims.sum(axis=1) / iu[0].size
    return out


def nested_group_similarity(psim: PoolSimilarity, ranked: np.ndarray, ks: Sequence[int], *,
                            workers: int = 1) -> np.ndarray:
    """``H_f`` of every prefix ``ranked[:, :K]`` for K in ``ks``, from one K_max block per query.

    Parameters
    ----------
    psim : PoolSimilarity
        Pool similarities.
    ranked : numpy.ndarray
        (Q, K_max) pool indices, best first.
    ks : sequence of int
        Group sizes (2 <= K <= K_max).
    workers : int
        Threads.

    Returns
    -------
    numpy.ndarray
        (len(ks), Q, F).
    """
    q, kmax = ranked.shape
    iu = np.triu_indices(kmax, 1)
    ua, ub, inv = _unique_pairs(ranked[:, iu[0]], ranked[:, iu[1]], psim.n)
    ks = list(ks)
    npairs = np.array([kk * (kk - 1) / 2 for kk in ks])
    out = np.empty((len(ks), q, len(psim.features)))
    step = max(1, (1 << 23) // (kmax * kmax))
    mat = np.zeros((min(q, step), kmax, kmax))
    cols = [kk - 1 for kk in ks]
    for fi, f in enumerate(psim.features):
        sims = psim.pairs(f, ua, ub, workers=workers)
        for q0 in range(0, q, step):
            q1 = min(q, q0 + step)
            m = mat[:q1 - q0]
            m[:, iu[0], iu[1]] = sims[inv[q0:q1]]
            # column b holds sim(a, b) for a < b: cumulative column sums give every prefix K
            csum = np.cumsum(m.sum(axis=1), axis=1)
            out[:, q0:q1, fi] = (csum[:, cols] / npairs).T
    return out


# ---------------------------------------------------------------------------------------------
# null


@dataclass
class NullDistribution:
    """Random-reference null of one group size.

    Attributes
    ----------
    k : int
        Group size.
    n_groups : int
        ``R``.
    seed : int or None
        Seed of ``default_rng([seed, k])``; None when a caller's generator was used.
    features, channels : tuple of str
        Labels of the columns below.
    feature_values : numpy.ndarray
        (R, F) ``H_f`` of each random group.
    channel_values : numpy.ndarray
        (R, C) ``H_c`` of each random group.
    key : str or None
        Cache key (None when not cacheable).
    from_cache : bool
        Whether it was read from the cache.
    """

    k: int
    n_groups: int
    seed: int | None
    features: tuple[str, ...]
    channels: tuple[str, ...]
    feature_values: np.ndarray
    channel_values: np.ndarray
    key: str | None = None
    from_cache: bool = False

    @property
    def feature_mean(self) -> np.ndarray:
        """``mu_f`` (F,)."""
        return self.feature_values.mean(axis=0)

    @property
    def feature_sd(self) -> np.ndarray:
        """``sd_f`` (F,), ``ddof = 1``."""
        return self.feature_values.std(axis=0, ddof=1)

    @property
    def channel_mean(self) -> np.ndarray:
        """``mu_c`` (C,)."""
        return self.channel_values.mean(axis=0)

    @property
    def channel_sd(self) -> np.ndarray:
        """``sd_c`` (C,), ``ddof = 1``."""
        return self.channel_values.std(axis=0, ddof=1)

    def to_frame(self) -> pd.DataFrame:
        """Rows per channel and feature: ``k, level, name, mean, sd, n_groups``."""
        rows = [{"k": self.k, "level": "channel", "name": c, "mean": m, "sd": s, "n_groups": self.n_groups}
                for c, m, s in zip(self.channels, self.channel_mean, self.channel_sd, strict=True)]
        rows += [{"k": self.k, "level": "feature", "name": f, "mean": m, "sd": s, "n_groups": self.n_groups}
                 for f, m, s in zip(self.features, self.feature_mean, self.feature_sd, strict=True)]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """JSON-ready summary (means and sds, not the R values)."""
        return {
            "k": self.k, "n_groups": self.n_groups, "seed": self.seed, "key": self.key,
            "from_cache": self.from_cache,
            "channel_mean": dict(zip(self.channels, self.channel_mean.tolist(), strict=True)),
            "channel_sd": dict(zip(self.channels, self.channel_sd.tolist(), strict=True)),
            "feature_mean": dict(zip(self.features, self.feature_mean.tolist(), strict=True)),
            "feature_sd": dict(zip(self.features, self.feature_sd.tolist(), strict=True)),
        }


def null_key(psim: PoolSimilarity, k: int, n_groups: int, seed: int) -> str:
    """Cache key of a null: hash of (pool fingerprint, K, R, seed, algorithm version)."""
    payload = json.dumps({"pool": psim.fingerprint(), "k": int(k), "n_groups": int(n_groups),
                          "seed": int(seed), "version": NULL_ALGORITHM_VERSION}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def compute_null(psim: PoolSimilarity, k: int, n_groups: int = 1000, *, seed: int | None = 0,
                 rng: np.random.Generator | None = None, workers: int = 1) -> NullDistribution:
    """Sample the random-reference null of group size ``k``.

    Parameters
    ----------
    psim : PoolSimilarity
        Pool similarities.
    k : int
        Group size (2 <= k <= pool size).
    n_groups : int
        ``R`` (>= 2).
    seed : int, optional
        Groups are drawn with ``numpy.random.default_rng([seed, k])``.
    rng : numpy.random.Generator, optional
        Use this generator instead of ``seed`` (the result is then not cacheable).
    workers : int
        Threads.

    Returns
    -------
    NullDistribution
    """
    if not 2 <= k <= psim.n:
        raise AriaInputError(f"group size K = {k} must lie in 2..{psim.n} (pool size)")
    if n_groups < 2:
        raise AriaInputError(f"the null needs at least 2 groups, got {n_groups}")
    if rng is None:
        if seed is None:
            raise ValueError("give seed or rng")
        gen = np.random.default_rng([int(seed), int(k)])
        key = null_key(psim, k, n_groups, int(seed))
    else:
        gen, key, seed = rng, None, None
    groups = random_groups(psim.n, k, n_groups, gen)
    hf = group_similarity(psim, groups, workers=workers)
    return NullDistribution(k, n_groups, seed, tuple(psim.features), tuple(psim.channels), hf,
                            psim.channel_means(hf), key=key)


# ---------------------------------------------------------------------------------------------
# per-matrix homogeneity


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


# ---------------------------------------------------------------------------------------------
# top-level result and API


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
        from aria.output import json_safe

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


def resolve_k(ks: Iterable[int] | None, pool_size: int) -> tuple[tuple[int, ...], list[int]]:
    """Validate the K sweep.

    Parameters
    ----------
    ks : iterable of int or None
        Requested sizes; None = :data:`DEFAULT_K` with ``K < pool_size``.
    pool_size : int
        Number of pool tracks.

    Returns
    -------
    ks : tuple of int
        Sorted, distinct, valid sizes.
    dropped : list of int
        Default sizes dropped because they are not below the pool size.
    """
    if pool_size < 3:
        raise AriaInputError(f"only {pool_size} track(s) of the score matrix have usable features; "
                             "homogeneity needs at least 3")
    if ks is None:
        valid = tuple(k for k in DEFAULT_K if k < pool_size)
        dropped = [k for k in DEFAULT_K if k >= pool_size]
        if not valid:
            valid = (2,)
        return valid, dropped
    ks = sorted({int(k) for k in ks})
    bad = [k for k in ks if k < 2 or k >= pool_size]
    if bad:
        raise AriaInputError(f"K = {bad[0]} is invalid: every K must satisfy 2 <= K < {pool_size} "
                             "(the number of tracks with features)")
    if not ks:
        raise AriaInputError("give at least one K")
    return tuple(ks), []


def homogeneity(
    scores: xr.DataArray,
    features: FeatureTable | pd.DataFrame | str | os.PathLike[str],
    channels: ChannelSet | str | os.PathLike[str] = "audio",
    *,
    k: Iterable[int] | None = None,
    normalize: str = "auto",
    null_groups: int = 1000,
    seed: int = 0,
    rng: np.random.Generator | None = None,
    residual: bool = False,
    labels: pd.Series | Mapping | None = None,
    diagnostics: Diagnostics | None = None,
    mapping: str = "inverse",
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int = 1,
    kurtosis_threshold: float = DEFAULT_KURTOSIS_THRESHOLD,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    chunk_rows: int | None = None,
    rank_block_bytes: int = DEFAULT_RANK_BLOCK_BYTES,
    alignment: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> HomogeneityResult:
    """Musical homogeneity of each query's top-K tracks against random groups (spec sections 2-6).

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segment x query) from :func:`aria.load_scores`.
    features : FeatureTable, pandas.DataFrame or path
        Per-track features (a Parquet path is read with
        :func:`aria.featuretable.load_feature_table`).
    channels : ChannelSet, str or path
        ``"audio"``, ``"symbolic"``, a TOML path, or a loaded :class:`ChannelSet`.
    k : iterable of int, optional
        Group sizes; default 5, 10, 20, 50, 100 where K < pool size.
    normalize : str
        ``"auto"``, ``"zscore"`` or ``"rank"``.
    null_groups : int
        Random reference groups ``R`` per K.
    seed : int
        Null seed (groups drawn with ``default_rng([seed, K])``).
    rng : numpy.random.Generator, optional
        Draw the null from this generator instead (disables the cache).
    residual : bool
        Also analyse the rank-1 residual.
    labels : pandas.Series or mapping, optional
        Query id -> label (e.g. genre) for the confound analysis.
    diagnostics : Diagnostics, optional
        Precomputed :func:`aria.diagnose` result of ``scores``.
    mapping : str
        Vector distance -> similarity: ``"inverse"`` (``1/(1+d)``) or ``"exp"``.
    cache_dir : path-like, optional
        Directory of the on-disk null cache (None = no cache).
    workers : int
        Threads for similarities and ranking (results do not depend on it).
    kurtosis_threshold : float
        ``auto`` normalization threshold.
    block_rows, chunk_rows, rank_block_bytes : int
        Streaming parameters.
    alignment : bool
        Compute the axis-channel alignment.
    progress : callable, optional
        ``progress(stage, done, total)`` callback.

    Returns
    -------
    HomogeneityResult
    """
    from aria.alignment import axis_alignment
    from aria.confound import confound_analysis
    from aria.nullcache import NullCache

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    if normalize not in ("auto", "zscore", "rank"):
        raise AriaInputError(f"unknown normalization {normalize!r} (auto, zscore or rank)")
    if mapping not in ("inverse", "exp"):
        raise AriaInputError(f"unknown similarity mapping {mapping!r} (inverse or exp)")
    if null_groups < 2:
        raise AriaInputError(f"--null-groups must be >= 2, got {null_groups}")
    if workers < 1:
        raise AriaInputError(f"workers must be >= 1, got {workers}")
    cset = channels if isinstance(channels, ChannelSet) else load_channel_set(channels)
    if isinstance(features, FeatureTable):
        ftable = features
        if ftable.channel_set.feature_names != cset.feature_names:
            raise AriaInputError("the feature table was checked against another channel set")
    elif isinstance(features, pd.DataFrame):
        ftable = feature_table_from_frame(features, cset)
    else:
        ftable = load_feature_table(Path(features), cset)
    if diagnostics is None:
        report("diagnose", 0, 1)
        diagnostics = diagnose(scores, block_rows=block_rows, chunk_rows=chunk_rows)
    has_axis = bool(diagnostics.sigma_1 > 0)
    warnings: list[str] = []
    if residual and not has_axis:
        raise AriaInputError("the score matrix is all zeros: it has no rank-1 axis, so no residual")
    report(f"normalize and aggregate ({normalize})", 0, 1)
    tsc = track_scores(scores, method=normalize, axis=diagnostics.v1 if has_axis else None,
                       sigma_1=diagnostics.sigma_1 if has_axis else None, residual=residual,
                       kurtosis_threshold=kurtosis_threshold, block_rows=block_rows,
                       chunk_rows=chunk_rows, rank_block_bytes=rank_block_bytes, workers=workers)
    report("pool and similarities", 0, 1)
    pool = build_pool(tsc.track_ids, ftable)
    ks, dropped = resolve_k(k, pool.size)
    if dropped:
        warnings.append(f"K = {', '.join(map(str, dropped))} dropped: not below the {pool.size} tracks "
                        "with features")
    psim = PoolSimilarity(pool.features, mapping)
    cache = NullCache(cache_dir) if (cache_dir is not None and rng is None) else None
    nulls: dict[int, NullDistribution] = {}
    for i, kk in enumerate(ks):
        report(f"null K={kk}", i, len(ks))
        nl = None
        if cache is not None:
            key = null_key(psim, kk, null_groups, seed)
            nl = cache.load(key, kk, null_groups, seed, tuple(psim.features), tuple(psim.channels))
        if nl is None:
            nl = compute_null(psim, kk, null_groups, seed=seed, rng=rng, workers=workers)
            if cache is not None:
                cache.save(nl)
        nulls[kk] = nl
    report("groups and z (scores)", 0, 1)
    main = matrix_homogeneity(tsc, pool, psim, nulls, ks, matrix="scores", workers=workers)
    res = None
    if residual:
        report("groups and z (residual)", 0, 1)
        res = matrix_homogeneity(tsc.residual, pool, psim, nulls, ks, matrix="residual",
                                 workers=workers)
    if diagnostics.verdict == "collapsed":
        warnings.insert(0, COLLAPSED_WARNING)
    if pool.counts.without_features:
        warnings.append(f"{pool.counts.without_features} of {pool.counts.score_tracks} tracks have no "
                        "usable features and are left out of groups and null")
    n_const = len(tsc.report.zero_std_columns)
    if n_const:
        warnings.append(f"{n_const} query column(s) are constant: left out of the summaries")
    for kk, nl in nulls.items():
        if not np.all(nl.channel_sd > 0):
            bad = [c for c, s in zip(nl.channels, nl.channel_sd, strict=True) if not s > 0]
            warnings.append(f"K = {kk}: null sd is 0 for channel(s) {', '.join(bad)}; their z is undefined")
    align = None
    report("alignment", 0, 1)
    if alignment and has_axis and tsc.track_u1 is not None:
        u1 = pd.Series(tsc.track_u1[pool.rows], index=pool.track_ids)
        align = axis_alignment(u1, pool.features)
    conf = None
    if labels is not None:
        conf = confound_analysis([main] + ([res] if res is not None else []), labels)
    report("done", 0, 1)
    params = {
        "channels": cset.name, "channel_set_source": cset.source, "k": list(ks),
        "normalize": normalize, "null_groups": null_groups, "seed": seed if rng is None else None,
        "residual": residual, "mapping": mapping, "kurtosis_threshold": kurtosis_threshold,
        "block_rows": block_rows, "sig_threshold": SIG_THRESHOLD, "null_sd_ddof": 1,
        "feature_scale_ddof": 1, "null_rng": "numpy.random.default_rng([seed, K])",
    }
    return HomogeneityResult(main, res, nulls, cset, pool.counts, pool.excluded, diagnostics,
                             align, conf, params, warnings, psim.dropped_dimensions())
