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

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from aria.diagnostics.reliability import Diagnostics, diagnose
from aria.errors import AriaInputError
from aria.features.channels import ChannelSet, load_channel_set
from aria.features.table import FeatureTable, feature_table_from_frame, load_feature_table
from aria.groups.aggregate import DEFAULT_RANK_BLOCK_BYTES, track_scores
from aria.groups.normalize import DEFAULT_KURTOSIS_THRESHOLD
from aria.groups.null import NullDistribution, compute_null, null_key
from aria.groups.pool import PoolSimilarity, build_pool
from aria.groups.result import COLLAPSED_WARNING, SIG_THRESHOLD, HomogeneityResult, matrix_homogeneity
from aria.io.streaming import DEFAULT_BLOCK_ROWS

__all__ = [
    "DEFAULT_K",
    "SIG_THRESHOLD",
    "PoolSimilarity",
    "NullDistribution",
    "HomogeneityResult",
    "build_pool",
    "compute_null",
    "matrix_homogeneity",
    "homogeneity",
    "COLLAPSED_WARNING",
]

#: Default K sweep (values with K >= pool size are dropped).
DEFAULT_K = (5, 10, 20, 50, 100)


# ---------------------------------------------------------------------------------------------
# pool


# ---------------------------------------------------------------------------------------------
# groups and their similarities


# ---------------------------------------------------------------------------------------------
# null


# ---------------------------------------------------------------------------------------------
# per-matrix homogeneity


# ---------------------------------------------------------------------------------------------
# top-level result and API


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
    from aria.groups.alignment import axis_alignment
    from aria.groups.confound import confound_analysis
    from aria.groups.null import NullCache

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
    if cache is not None:
        warnings.extend(cache.warnings)  # an unwritable cache costs nothing but this line
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
