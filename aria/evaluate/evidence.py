"""Single-query evidence: what an analyst takes to a rights discussion.

For one query and group size K: the query's top-K retrieved tracks with their
track scores ``T[m, q]`` and ranks, and, per channel, how similar each track
is to the rest of the group (its mean similarity to the other K - 1 tracks,
averaging the channel's features); the group's within-group similarity
``H_c(q)`` (the mean of those values), the random-reference null it was
compared with (``mu_c``, ``sd_c``, R groups, seed) and the z-score
``z_c(q) = (H_c(q) - mu_c) / sd_c``.

Built over the public functions of the homogeneity engine
(:func:`aria.groups.engine.homogeneity`, :func:`aria.groups.aggregate.track_scores`,
:func:`aria.groups.pool.build_pool`, :class:`aria.groups.pool.PoolSimilarity`);
the per-track similarities are recomputed here and their mean is checked
against the engine's ``H_c(q)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from aria.diagnostics.reliability import Diagnostics, diagnose
from aria.errors import AriaInputError
from aria.io.output import json_safe
from aria.params import InstanceOf, Interval, Options, validate_params

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    from aria.groups.engine import HomogeneityResult
    from aria.groups.setup import HomogeneitySetup

__all__ = ["QueryEvidence", "query_evidence"]


@dataclass
class QueryEvidence:
    """Evidence for one query's top-K group.

    Attributes
    ----------
    query : str
        Query id.
    k : int
        Group size.
    matrix : str
        ``"scores"`` or ``"residual"``.
    verdict : str
        Diagnostics verdict of the raw score matrix.
    normalization : str
        Normalization applied to the columns (``zscore`` or ``rank``).
    tracks : pandas.DataFrame
        One row per group track, best first: ``rank`` (1..K, in the group),
        ``track``, ``track_score`` (``T[m, q]``), ``overall_rank`` (among all
        tracks of the score matrix, with or without features) and
        ``sim_to_rest_<channel>`` per channel.
    channels : pandas.DataFrame
        One row per channel: ``channel, H, null_mean, null_sd, z, significant``
        (``z > 1.645``).
    features : pandas.DataFrame
        One row per feature: ``feature, channel, H, null_mean, null_sd, z``.
    null_channel_values : numpy.ndarray
        (R, C) ``H_c`` of the R random reference groups.
    null_groups : int
        R.
    seed : int or None
        Seed of the null.
    warnings : list of str
        Caveats (collapsed matrix, tracks without features...).

    Examples
    --------
    >>> import aria
    >>> from aria.groups.setup import HomogeneitySetup
    >>> s = aria.load_scores(aria.examples.path("bach-knn"))
    >>> symbolic = HomogeneitySetup.load(aria.examples.features_path(), "symbolic", null_groups=50, seed=0)
    >>> ev = aria.query_evidence(s, symbolic, s["query"].values[0].item(), k=5)
    >>> ev.k, len(ev.tracks), list(ev.channels.columns)
    (5, 5, ['channel', 'H', 'null_mean', 'null_sd', 'z', 'significant'])
    """

    query: str
    k: int
    matrix: str
    verdict: str
    normalization: str
    tracks: pd.DataFrame
    channels: pd.DataFrame
    features: pd.DataFrame
    null_channel_values: np.ndarray = field(repr=False)
    null_groups: int = 0
    seed: int | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN -> null)."""
        return json_safe({
            "query": self.query, "k": self.k, "matrix": self.matrix, "verdict": self.verdict,
            "normalization": self.normalization, "null_groups": self.null_groups, "seed": self.seed,
            "warnings": list(self.warnings),
            "tracks": self.tracks.to_dict("records"),
            "channels": self.channels.to_dict("records"),
            "features": self.features.to_dict("records"),
        })


def _pair_matrix(psim, feature: str, idx: np.ndarray) -> np.ndarray:
    k = idx.size
    a, b = np.triu_indices(k, 1)
    sims = np.asarray(psim.pairs(feature, idx[a], idx[b]), dtype=np.float64)
    m = np.zeros((k, k))
    m[a, b] = sims
    m[b, a] = sims
    return m


@validate_params({"scores": "scores", "setup": InstanceOf("aria.groups.setup.HomogeneitySetup"),
                  "query": ["str", Interval(int, None, None)], "k": Interval(int, 2, None),
                  "matrix": Options(("scores", "residual")), "diagnostics": [None, Diagnostics],
                  "result": [None, InstanceOf("aria.groups.result.HomogeneityResult")]})
def query_evidence(
    scores: xr.DataArray,
    setup: HomogeneitySetup,
    query: str,
    *,
    k: int = 10,
    matrix: str = "scores",
    diagnostics: Diagnostics | None = None,
    result: HomogeneityResult | None = None,
) -> QueryEvidence:
    """Top-K tracks of one query with per-channel similarity to the rest of the group and z-scores.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segment x query) holding ``query``.
    setup : aria.groups.setup.HomogeneitySetup
        Channel set, feature table, null parameters.
    query : str
        Query id (a column of ``scores``).
    k : int
        Group size.
    matrix : str
        ``"scores"`` (default) or ``"residual"`` (the rank-1 residual).
    diagnostics : Diagnostics, optional
        Precomputed diagnostics of ``scores``.
    result : aria.groups.result.HomogeneityResult, optional
        Precomputed homogeneity of ``scores`` with the same setup that includes
        ``k`` (and the residual when ``matrix="residual"``); computed when omitted.

    Returns
    -------
    QueryEvidence

    Examples
    --------
    >>> import aria
    >>> from aria.groups.setup import HomogeneitySetup
    >>> setup = HomogeneitySetup.load(aria.examples.features_path(), "symbolic", null_groups=50, seed=0)
    >>> s = aria.load_scores(aria.examples.path("bach-knn"))
    >>> q = s["query"].values[0].item()
    >>> ev = aria.query_evidence(s, setup, q, k=5)
    >>> top = s.sel(query=q).groupby("track").mean().to_series().nlargest(5).index.tolist()
    >>> sorted(ev.tracks["track"].tolist()) == sorted(top)
    True
    """
    from aria.groups.aggregate import track_scores
    from aria.groups.engine import SIG_THRESHOLD, PoolSimilarity, build_pool, homogeneity

    qids = [str(x) for x in scores.coords["query"].values]
    if str(query) not in qids:
        shown = ", ".join(qids[:5]) + (" ..." if len(qids) > 5 else "")
        raise AriaInputError(f"unknown query {query!r} (queries: {shown})", parameter="query",
                             function="query_evidence")
    qi = qids.index(str(query))
    diag = diagnostics or diagnose(scores)
    if matrix == "residual" and not diag.sigma_1 > 0:
        raise AriaInputError("the score matrix is all zeros: it has no rank-1 residual", parameter="matrix",
                             function="query_evidence")
    if result is None or k not in result.k_values or (matrix == "residual" and result.residual is None):
        result = homogeneity(scores, setup.features, setup.channel_set, k=[k], normalize=setup.normalize,
                             null_groups=setup.null_groups, seed=setup.seed,
                             residual=matrix == "residual", diagnostics=diag, cache_dir=setup.cache_dir,
                             alignment=False)
    mh = result.scores if matrix == "scores" else result.residual
    ki = mh.k_values.index(k)
    group = [str(t) for t in mh.groups[qi, :k]]
    params = result.parameters
    tsc = track_scores(scores, method=params.get("normalize", setup.normalize), axis=diag.v1,
                       sigma_1=diag.sigma_1, residual=matrix == "residual",
                       kurtosis_threshold=params.get("kurtosis_threshold", 6.0))
    ts = tsc if matrix == "scores" else tsc.residual
    tids = np.asarray([str(t) for t in ts.track_ids])
    row_of = {t: i for i, t in enumerate(tids)}
    col = ts.values[:, qi]
    # overall rank among all tracks (1 = highest), ties by track order as the engine
    order = np.lexsort((np.arange(col.size), -col))
    overall = np.empty(col.size, dtype=np.int64)
    overall[order] = np.arange(1, col.size + 1)

    pool = build_pool(ts.track_ids, setup.features)
    psim = PoolSimilarity(pool.features, params.get("mapping", "inverse"))
    pos = {str(t): i for i, t in enumerate(pool.track_ids)}
    idx = np.array([pos[t] for t in group], dtype=np.int64)
    feats = list(psim.features)
    fmats = np.stack([_pair_matrix(psim, f, idx) for f in feats])  # (F, K, K)
    cmats = np.einsum("cf,fab->cab", psim.channel_weights, fmats)  # (C, K, K)
    rest = cmats.sum(axis=2) / (k - 1)  # (C, K)
    h_check = rest.mean(axis=1)
    h_engine = mh.h_channel[ki, qi]
    if not np.allclose(h_check, h_engine, rtol=1e-9, atol=1e-12, equal_nan=True):  # pragma: no cover
        raise RuntimeError("per-track similarities do not reproduce the engine's H_c(q)")

    tracks = pd.DataFrame({
        "rank": np.arange(1, k + 1),
        "track": group,
        "track_score": [float(col[row_of[t]]) for t in group],
        "overall_rank": [int(overall[row_of[t]]) for t in group],
    })
    for ci, c in enumerate(psim.channels):
        tracks[f"sim_to_rest_{c}"] = rest[ci]
    nl = result.nulls[k]
    zc = mh.z_channel[ki, qi]
    channels = pd.DataFrame({
        "channel": list(psim.channels), "H": h_engine, "null_mean": nl.channel_mean,
        "null_sd": nl.channel_sd, "z": zc, "significant": zc > SIG_THRESHOLD,
    })
    features = pd.DataFrame({
        "feature": feats,
        "channel": [setup.channel_set.feature(f).channel for f in feats],
        "H": mh.h_feature[ki, qi], "null_mean": nl.feature_mean, "null_sd": nl.feature_sd,
        "z": mh.z_feature[ki, qi],
    })
    warnings = list(result.warnings)
    if str(query) in mh.normalization.zero_std_columns:
        warnings.append(f"query {query!r} has a constant score column: its group follows track order only")
    return QueryEvidence(
        query=str(query), k=k, matrix=matrix, verdict=diag.verdict, normalization=mh.normalization.method,
        tracks=tracks, channels=channels, features=features, null_channel_values=nl.channel_values,
        null_groups=nl.n_groups, seed=nl.seed, warnings=warnings,
    )

