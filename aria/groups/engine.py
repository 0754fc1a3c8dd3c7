"""Within-group homogeneity against random reference groups (spec sections 2-6): the engine.

:func:`homogeneity` runs five named steps, each a function of its own:

1. :func:`resolve_inputs` - the channel set and the feature table (the only step that may read
   files, through :func:`aria.features.channels.load_channel_set` and
   :func:`aria.features.table.load_feature_table`);
2. :func:`prepare` - diagnostics, normalized track scores ``T`` (and of the rank-1 residual), the
   pool of tracks with features, their similarities, the K sweep;
3. :func:`aria.groups.null.null_distributions` - the random-reference null of each K, read from
   and written to a :class:`~aria.groups.null.NullStore` (the on-disk
   :class:`~aria.groups.null.NullCache` when ``cache_dir`` is given);
4. :func:`group_homogeneity` - top-K groups, ``H_f``, ``H_c`` and ``z`` of every query, for the
   scores and the residual (:func:`aria.groups.result.matrix_homogeneity`);
5. :func:`collect` - warnings, axis-channel alignment, confound analysis, and the labelled
   :class:`~aria.groups.result.HomogeneityResult`.

Where each formula is computed: ``G_q(K)`` :func:`aria.groups.topk.top_k_groups`; ``H_f``
:func:`aria.groups.topk.nested_group_similarity` (queries) and
:func:`aria.groups.topk.group_similarity` (null groups); ``H_c``
:meth:`aria.groups.pool.PoolSimilarity.channel_means`; ``mu``, ``sd``
:class:`aria.groups.null.NullDistribution`; ``z`` :func:`aria.groups.result.z_scores`;
``z_bar``, ``Pos``, ``Sig`` :func:`aria.groups.result.summarize`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from aria.diagnostics.reliability import Diagnostics, diagnose
from aria.errors import AriaInputError
from aria.features.channels import ChannelSet, load_channel_set
from aria.features.table import FeatureTable, feature_table_from_frame, load_feature_table
from aria.groups.aggregate import DEFAULT_RANK_BLOCK_BYTES, TrackScores, track_scores
from aria.groups.alignment import axis_alignment
from aria.groups.confound import confound_analysis
from aria.groups.normalize import DEFAULT_KURTOSIS_THRESHOLD, METHODS
from aria.groups.null import NullCache, NullDistribution, compute_null, null_distributions
from aria.groups.pool import Pool, PoolSimilarity, build_pool
from aria.groups.result import (
    COLLAPSED_WARNING,
    SIG_THRESHOLD,
    HomogeneityResult,
    MatrixHomogeneity,
    matrix_homogeneity,
)
from aria.groups.similarity import MAPPINGS
from aria.io.streaming import DEFAULT_BLOCK_ROWS
from aria.params import STREAMING, InstanceOf, Interval, Options, SequenceOf, check_params, validate_params

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
    "Prepared",
    "check_parameters",
    "resolve_inputs",
    "resolve_k",
    "prepare",
    "group_homogeneity",
    "collect_warnings",
    "collect",
]

#: Default K sweep (values with K >= pool size are dropped).
DEFAULT_K = (5, 10, 20, 50, 100)

Progress = Callable[[str, int, int], None]


def _report(progress: Progress | None, stage: str, done: int = 0, total: int = 1) -> None:
    if progress is not None:
        progress(stage, done, total)


#: Constraints of the engine's parameters (:mod:`aria.params`), checked before any work is done.
PARAMETERS = {
    "k": [None, SequenceOf(Interval(int, 2, None))], "normalize": Options(METHODS),
    "null_groups": Interval(int, 2, None), "seed": "seed", "rng": [None, InstanceOf(np.random.Generator)],
    "residual": "boolean", "labels": [None, pd.Series, Mapping], "diagnostics": [None, Diagnostics],
    "mapping": Options(MAPPINGS), "cache_dir": [None, "path"], "workers": Interval(int, 1, None),
    "kurtosis_threshold": Interval(float, None, None), **STREAMING,
    "rank_block_bytes": Interval(int, 1, None), "alignment": "boolean",
}
_INPUTS = {"features": [FeatureTable, pd.DataFrame, "path"], "channels": [ChannelSet, "path"]}


def check_parameters(*, normalize: str = "auto", mapping: str = "inverse", null_groups: int = 1000,
                     workers: int = 1) -> None:
    """Reject invalid engine parameters before any work is done (the constraints of :data:`PARAMETERS`).

    Parameters
    ----------
    normalize : str
        ``"auto"``, ``"zscore"`` or ``"rank"``.
    mapping : str
        ``"inverse"`` or ``"exp"``.
    null_groups : int
        ``R`` (>= 2).
    workers : int
        Threads (>= 1).

    Raises
    ------
    AriaInputError
        On the first invalid parameter.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.engine import check_parameters
    >>> check_parameters(normalize="rank", null_groups=100)
    >>> try:
    ...     check_parameters(null_groups=0)
    ... except aria.AriaError as e:
    ...     print(type(e).__name__)
    AriaInputError
    """
    check_params(PARAMETERS, {"normalize": normalize, "mapping": mapping, "null_groups": null_groups,
                              "workers": workers}, function="homogeneity")


@validate_params(_INPUTS)
def resolve_inputs(
    features: FeatureTable | pd.DataFrame | str | os.PathLike[str],
    channels: ChannelSet | str | os.PathLike[str] = "audio",
) -> tuple[ChannelSet, FeatureTable]:
    """Step 1: the channel set and the feature table checked against it.

    Files are read here and nowhere else in the engine: a channel-set name or TOML path through
    :func:`~aria.features.channels.load_channel_set`, a Parquet path through
    :func:`~aria.features.table.load_feature_table`.

    Parameters
    ----------
    features : FeatureTable, pandas.DataFrame or path
        Per-track features.
    channels : ChannelSet, str or path
        ``"audio"``, ``"symbolic"``, a TOML path, or a loaded :class:`ChannelSet`.

    Returns
    -------
    channel_set : ChannelSet
    table : FeatureTable
        Usable features, checked against ``channel_set``.

    Examples
    --------
    >>> import aria
    >>> t = aria.examples.tiny()
    >>> cset, table = resolve_inputs(t.frame.head(2), t.channel_set)
    >>> table.n_tracks, cset.channels
    (2, ('a',))
    """
    cset = channels if isinstance(channels, ChannelSet) else load_channel_set(channels)
    if isinstance(features, FeatureTable):
        if features.channel_set.feature_names != cset.feature_names:
            raise AriaInputError("the feature table was checked against another channel set")
        return cset, features
    if isinstance(features, pd.DataFrame):
        return cset, feature_table_from_frame(features, cset)
    return cset, load_feature_table(Path(features), cset)


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

    Examples
    --------
    >>> resolve_k(None, 30)
    ((5, 10, 20), [50, 100])
    >>> resolve_k([10, 3, 10], 30)
    ((3, 10), [])
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
                             "(the number of tracks with features)", parameter="k", function="homogeneity")
    if not ks:
        raise AriaInputError("k must hold at least one group size", parameter="k", function="homogeneity")
    return tuple(ks), []


@dataclass
class Prepared:
    """What the null and group steps need, computed once per run (output of :func:`prepare`).

    Attributes
    ----------
    channel_set : ChannelSet
        Channels and features.
    diagnostics : Diagnostics
        Reliability diagnostics of the raw scores.
    track_scores : TrackScores
        Normalized track scores ``T`` (with ``.residual`` when the residual is analysed).
    pool : Pool
        Tracks with usable features.
    similarity : PoolSimilarity
        Their pairwise similarities.
    ks : tuple of int
        The K sweep.
    dropped_k : list of int
        Default K values dropped because they are not below the pool size.

    Examples
    --------
    >>> import aria
    >>> prep = aria.examples.tiny().prepare()
    >>> prep.ks, prep.pool.track_ids.tolist()
    ((3,), ['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7'])
    """

    channel_set: ChannelSet
    diagnostics: Diagnostics
    track_scores: TrackScores
    pool: Pool
    similarity: PoolSimilarity
    ks: tuple[int, ...]
    dropped_k: list[int]

    @property
    def has_axis(self) -> bool:
        """Whether the scores have a rank-1 axis (``sigma_1 > 0``)."""
        return bool(self.diagnostics.sigma_1 > 0)


@validate_params({"scores": "scores", "channel_set": ChannelSet, "table": FeatureTable,
                  **{name: PARAMETERS[name] for name in (
                      "k", "normalize", "residual", "diagnostics", "mapping", "kurtosis_threshold",
                      "block_rows", "chunk_rows", "rank_block_bytes", "workers", "progress")}})
def prepare(
    scores: xr.DataArray,
    channel_set: ChannelSet,
    table: FeatureTable,
    *,
    k: Iterable[int] | None = None,
    normalize: str = "auto",
    residual: bool = False,
    diagnostics: Diagnostics | None = None,
    mapping: str = "inverse",
    kurtosis_threshold: float = DEFAULT_KURTOSIS_THRESHOLD,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    chunk_rows: int | None = None,
    rank_block_bytes: int = DEFAULT_RANK_BLOCK_BYTES,
    workers: int = 1,
    progress: Progress | None = None,
) -> Prepared:
    """Step 2: diagnostics, track scores ``T`` (spec section 2), the pool and its similarities.

    Parameters
    ----------
    scores : xarray.DataArray
        The score matrix (segments x queries), as :func:`aria.load_scores` returns it.
    channel_set : ChannelSet
        Channels and features (from :func:`resolve_inputs`).
    table : FeatureTable
        Usable features (from :func:`resolve_inputs`).
    k : iterable of int, optional
        Group sizes (see :func:`resolve_k`).
    normalize : str
        ``"auto"``, ``"zscore"`` or ``"rank"``.
    residual : bool
        Also normalize and aggregate the rank-1 residual.
    diagnostics : Diagnostics, optional
        Precomputed :func:`aria.diagnose` result of ``scores``.
    mapping : str
        Vector distance -> similarity mapping.
    kurtosis_threshold : float
        ``auto`` normalization threshold.
    block_rows, chunk_rows, rank_block_bytes : int
        Streaming parameters.
    workers : int
        Threads.
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    Prepared
        Input of :func:`~aria.groups.null.null_distributions` and :func:`group_homogeneity`.

    Examples
    --------
    >>> import aria
    >>> t = aria.examples.tiny()
    >>> from aria.groups.engine import prepare
    >>> prep = prepare(t.scores, t.channel_set, t.features, k=[3, 5])
    >>> prep.ks, prep.dropped_k
    ((3, 5), [])
    >>> prep.track_scores.values.shape
    (8, 2)
    """
    if diagnostics is None:
        _report(progress, "diagnose")
        diagnostics = diagnose(scores, block_rows=block_rows, chunk_rows=chunk_rows)
    has_axis = bool(diagnostics.sigma_1 > 0)
    if residual and not has_axis:
        raise AriaInputError("the score matrix is all zeros: it has no rank-1 axis, so no residual")
    _report(progress, f"normalize and aggregate ({normalize})")
    tsc = track_scores(scores, method=normalize, axis=diagnostics.v1 if has_axis else None,
                       sigma_1=diagnostics.sigma_1 if has_axis else None, residual=residual,
                       kurtosis_threshold=kurtosis_threshold, block_rows=block_rows,
                       chunk_rows=chunk_rows, rank_block_bytes=rank_block_bytes, workers=workers)
    _report(progress, "pool and similarities")
    pool = build_pool(tsc.track_ids, table)
    ks, dropped = resolve_k(k, pool.size)
    return Prepared(channel_set, diagnostics, tsc, pool, PoolSimilarity(pool.features, mapping), ks, dropped)


def group_homogeneity(
    prep: Prepared,
    nulls: Mapping[int, NullDistribution],
    *,
    workers: int = 1,
    progress: Progress | None = None,
    group_similarity: Callable[..., np.ndarray] | None = None,
) -> tuple[MatrixHomogeneity, MatrixHomogeneity | None]:
    """Step 4: top-K groups, ``H_f``, ``H_c`` and ``z`` of every query (spec section 3).

    Parameters
    ----------
    prep : Prepared
        Output of :func:`prepare`.
    nulls : mapping of int -> NullDistribution
        Null of every K of ``prep.ks``.
    workers : int
        Threads.
    progress : callable, optional
        ``progress(stage, done, total)``.
    group_similarity : callable, optional
        How ``H_f`` of the nested groups is computed (see
        :func:`~aria.groups.result.matrix_homogeneity`; a dask cluster passes its own).

    Returns
    -------
    scores : MatrixHomogeneity
        Homogeneity of the scores.
    residual : MatrixHomogeneity or None
        Homogeneity of the rank-1 residual, when ``prep`` holds it.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.engine import group_homogeneity
    >>> t = aria.examples.tiny()
    >>> scores, residual = group_homogeneity(t.prepare(), t.nulls())
    >>> scores.data.groups.sel(query="q1", rank=[1, 2, 3]).values.tolist(), residual is None
    (['t1', 't0', 't2'], True)
    """
    args = (prep.pool, prep.similarity, nulls, prep.ks)
    _report(progress, "groups and z (scores)")
    main = matrix_homogeneity(prep.track_scores, *args, matrix="scores", workers=workers,
                              group_similarity=group_similarity)
    res = None
    if prep.track_scores.residual is not None:
        _report(progress, "groups and z (residual)")
        res = matrix_homogeneity(prep.track_scores.residual, *args, matrix="residual", workers=workers,
                                 group_similarity=group_similarity)
    return main, res


def collect_warnings(prep: Prepared, nulls: Mapping[int, NullDistribution]) -> list[str]:
    """Caveats of a run, in the order they are shown.

    A collapsed matrix; default K values dropped; tracks without features; constant query columns;
    channels whose null sd is 0 (their z is undefined).

    Parameters
    ----------
    prep : Prepared
        Output of :func:`prepare`.
    nulls : mapping of int -> NullDistribution
        Null per K.

    Returns
    -------
    list of str
        Empty when nothing needs saying.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.engine import collect_warnings
    >>> t = aria.examples.tiny()
    >>> for line in collect_warnings(t.prepare(), t.nulls()):
    ...     print(line[:35])
    diagnostics verdict is 'collapsed':
    """
    warnings: list[str] = []
    if prep.diagnostics.verdict == "collapsed":
        warnings.append(COLLAPSED_WARNING)
    if prep.dropped_k:
        warnings.append(f"K = {', '.join(map(str, prep.dropped_k))} dropped: not below the "
                        f"{prep.pool.size} tracks with features")
    counts = prep.pool.counts
    if counts.without_features:
        warnings.append(f"{counts.without_features} of {counts.score_tracks} tracks have no "
                        "usable features and are left out of groups and null")
    n_const = len(prep.track_scores.report.zero_std_columns)
    if n_const:
        warnings.append(f"{n_const} query column(s) are constant: left out of the summaries")
    for kk, nl in nulls.items():
        if not np.all(nl.channel_sd > 0):
            bad = [c for c, s in zip(nl.channels, nl.channel_sd, strict=True) if not s > 0]
            warnings.append(f"K = {kk}: null sd is 0 for channel(s) {', '.join(bad)}; their z is undefined")
    return warnings


def collect(
    prep: Prepared,
    scores: MatrixHomogeneity,
    residual: MatrixHomogeneity | None,
    nulls: Mapping[int, NullDistribution],
    *,
    labels: pd.Series | Mapping | None = None,
    alignment: bool = True,
    parameters: Mapping | None = None,
    progress: Progress | None = None,
) -> HomogeneityResult:
    """Step 5: warnings, axis-channel alignment (spec 5), confounds (spec 6), and the result.

    Parameters
    ----------
    prep : Prepared
        Output of :func:`prepare`.
    scores, residual : MatrixHomogeneity
        Output of :func:`group_homogeneity`.
    nulls : mapping of int -> NullDistribution
        Null per K.
    labels : pandas.Series or mapping, optional
        Query id -> label for :func:`~aria.groups.confound.confound_analysis`.
    alignment : bool
        Compute :func:`~aria.groups.alignment.axis_alignment` (when the scores have an axis).
    parameters : mapping, optional
        Parameters of the run, stored in the result.
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    HomogeneityResult
        Labelled results of the run.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.engine import collect, group_homogeneity
    >>> t = aria.examples.tiny()
    >>> prep, nulls = t.prepare(), t.nulls()
    >>> scores, residual = group_homogeneity(prep, nulls)
    >>> res = collect(prep, scores, residual, nulls, alignment=False)
    >>> res.k_values, res.verdict
    ((3,), 'collapsed')
    """
    tsc, pool = prep.track_scores, prep.pool
    align = None
    _report(progress, "alignment")
    if alignment and prep.has_axis and tsc.track_u1 is not None:
        align = axis_alignment(pd.Series(tsc.track_u1[pool.rows], index=pool.track_ids), pool.features)
    conf = None
    if labels is not None:
        conf = confound_analysis([scores] + ([residual] if residual is not None else []), labels)
    _report(progress, "done")
    return HomogeneityResult(scores, residual, dict(nulls), prep.channel_set, pool.counts, pool.excluded,
                             prep.diagnostics, align, conf, dict(parameters or {}),
                             collect_warnings(prep, nulls), prep.similarity.dropped_dimensions())


@validate_params({"scores": "scores", **_INPUTS, **PARAMETERS})
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
    progress: Progress | None = None,
    scheduler: str | None = None,
    client: object = None,
) -> HomogeneityResult:
    """Musical homogeneity of each query's top-K tracks against random groups (spec sections 2-6).

    Runs :func:`resolve_inputs`, :func:`prepare`, :func:`~aria.groups.null.null_distributions`,
    :func:`group_homogeneity` and :func:`collect`.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segment x query) from :func:`aria.load_scores`.
    features : FeatureTable, pandas.DataFrame or path
        Per-track features (a Parquet path is read with
        :func:`aria.features.table.load_feature_table`).
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
    scheduler : str, optional
        Compute the nulls (a task per K) and the group similarities (a task per block of queries)
        on a dask cluster: ``"local:N"`` or ``"HOST:PORT"`` (see :mod:`aria.scale`). z, Pos and Sig
        equal the single-process values.
    client : distributed.Client, optional
        An existing dask client instead of ``scheduler``.

    Returns
    -------
    HomogeneityResult
        Labelled results: ``result.scores.data.z`` is ``z_c(q)`` with dims ``(k, query, channel)``.

    Examples
    --------
    >>> import aria
    >>> t = aria.examples.tiny()
    >>> res = homogeneity(t.scores, t.frame, t.channel_set, k=[3], null_groups=200, seed=0,
    ...                   alignment=False)
    >>> res.scores.data.groups.sel(query="q2", rank=[1, 2, 3]).values.tolist()
    ['t6', 't5', 't7']
    >>> bool(res.scores.data.z.sel(k=3, channel="a").min() > 1)
    True
    """
    cset, table = resolve_inputs(features, channels)
    prep = prepare(scores, cset, table, k=k, normalize=normalize, residual=residual, diagnostics=diagnostics,
                   mapping=mapping, kurtosis_threshold=kurtosis_threshold, block_rows=block_rows,
                   chunk_rows=chunk_rows, rank_block_bytes=rank_block_bytes, workers=workers,
                   progress=progress)
    store = NullCache(cache_dir) if cache_dir is not None and rng is None else None
    if (scheduler is not None or client is not None) and rng is None:
        from aria.scale.cluster import connect
        from aria.scale.homogeneity import group_similarity_on, null_distributions_cluster

        with connect(scheduler, client) as c:
            nulls = null_distributions_cluster(prep.similarity, prep.ks, null_groups, c, seed=seed,
                                               store=store, progress=progress)
            main, res = group_homogeneity(prep, nulls, progress=progress,
                                          group_similarity=group_similarity_on(c, prep.similarity))
    else:
        nulls = null_distributions(prep.similarity, prep.ks, null_groups, seed=seed, rng=rng, store=store,
                                   workers=workers, progress=progress)
        main, res = group_homogeneity(prep, nulls, workers=workers, progress=progress)
    params = {
        "channels": cset.name, "channel_set_source": cset.source, "k": list(prep.ks),
        "normalize": normalize, "null_groups": null_groups, "seed": seed if rng is None else None,
        "residual": residual, "mapping": mapping, "kurtosis_threshold": kurtosis_threshold,
        "block_rows": block_rows, "sig_threshold": SIG_THRESHOLD, "null_sd_ddof": 1,
        "feature_scale_ddof": 1, "null_rng": "numpy.random.default_rng([seed, K])",
    }
    result = collect(prep, main, res, nulls, labels=labels, alignment=alignment, parameters=params,
                     progress=progress)
    if store is not None:
        result.warnings.extend(store.warnings)  # an unwritable cache costs nothing but these lines
    return result
