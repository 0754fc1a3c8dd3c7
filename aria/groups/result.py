"""Homogeneity results as labelled data: H, z and their summaries (z_bar, Pos, Sig) per K, query, channel.

Each analysed matrix (the scores, or their rank-1 residual) is a :class:`MatrixHomogeneity` whose
``data`` is an :class:`xarray.Dataset` with dimensions ``k``, ``query``, ``channel``, ``feature``
and ``rank``::

    h, z                  (k, query, channel)   H_c(q) and z_c(q)
    h_feature, z_feature  (k, query, feature)   H_f(q) and z_f(q)
    groups                (query, rank)         track ids of each query's top K_max tracks, best first
    included              (query)               queries used in the summaries

so a number is read by its labels, e.g. ``mh.data.z.sel(k=10, channel="harmony")``. The arrays
``h_channel``, ``z_channel``, ``h_feature``, ``z_feature``, ``groups`` and ``included`` of earlier
versions remain as plain numpy views of the same data, and ``mh.z(channel, k)`` is a label selection.
:meth:`HomogeneityResult.to_dataset` joins both matrices (dimension ``matrix``) and the nulls.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from aria.diagnostics.reliability import Diagnostics
from aria.errors import AriaInputError
from aria.features.channels import ChannelSet
from aria.groups.aggregate import TrackScores
from aria.groups.normalize import NormalizationReport
from aria.groups.null import NullDistribution
from aria.groups.pool import Pool, PoolCounts, PoolSimilarity
from aria.groups.topk import nested_group_similarity, top_k_groups
from aria.params import Options, validate_params

_LEVEL = Options(("channel", "feature"))

__all__ = [
    "SIG_THRESHOLD", "COLLAPSED_WARNING", "z_scores", "summarize", "MatrixHomogeneity",
    "matrix_homogeneity", "HomogeneityResult",
]

#: One-sided 5% threshold of the standard normal.
SIG_THRESHOLD = 1.645


#: Warning attached to the homogeneity of a collapsed matrix.
COLLAPSED_WARNING = (
    "diagnostics verdict is 'collapsed': every query retrieves nearly the same tracks, so these "
    "homogeneity numbers describe one fixed retrieved group, not attribution; do not rank this "
    "method by them"
)

#: Summary statistics of :func:`summarize`, in order.
SUMMARY_STATS = ("z_mean", "pos", "sig", "n_queries")


def z_scores(h: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Homogeneity against the random-reference null (spec section 3): ``z = (H - mu) / sd``.

    Per channel ``z_c(q) = (H_c(q) - mu_c) / sd_c``, per feature ``z_f(q) = (H_f(q) - mu_f) / sd_f``,
    with ``mu`` and ``sd`` (``ddof = 1``) of ``H`` over the null's random groups of the same K
    (:class:`~aria.groups.null.NullDistribution`). Where ``sd`` is not positive, ``z`` is NaN
    (undefined).

    Parameters
    ----------
    h : numpy.ndarray
        (..., N) ``H`` values, last axis channels (or features).
    mu, sd : numpy.ndarray
        (N,) null mean and standard deviation of the same channels (features).

    Returns
    -------
    numpy.ndarray
        ``z``, the shape of ``h``.

    Examples
    --------
    >>> import numpy as np
    >>> z_scores(np.array([[0.5, 0.2]]), np.array([0.3, 0.2]), np.array([0.1, 0.0]))
    array([[ 2., nan]])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (h - mu) / sd
    z[..., ~(sd > 0)] = np.nan
    return z


def summarize(z: np.ndarray, include: np.ndarray | None = None) -> dict:
    """Summaries of per-query z values over queries (spec section 3, Eq. 7).

    Over the included queries with a finite ``z``:
    ``z_bar = mean_q z(q)`` (key ``z_mean``), ``Pos = fraction with z(q) > 0``,
    ``Sig = fraction with z(q) > 1.645`` (:data:`SIG_THRESHOLD`, one-sided 5% under the null),
    and their number ``n_queries``. With no such query every statistic is NaN and ``n_queries`` 0.

    Parameters
    ----------
    z : numpy.ndarray
        (Q,) z values (NaN = undefined).
    include : numpy.ndarray, optional
        Boolean mask of queries to use.

    Returns
    -------
    dict
        ``{"z_mean", "pos", "sig", "n_queries"}``.

    Examples
    --------
    >>> import numpy as np
    >>> summarize(np.array([2.0, -1.0, 0.5, np.nan]))
    {'z_mean': 0.5, 'pos': 0.6666666666666666, 'sig': 0.3333333333333333, 'n_queries': 3}
    """
    z = np.asarray(z, dtype=np.float64)
    if include is not None:
        z = z[include]
    z = z[np.isfinite(z)]
    if z.size == 0:
        return {"z_mean": math.nan, "pos": math.nan, "sig": math.nan, "n_queries": 0}
    return {"z_mean": float(z.mean()), "pos": float((z > 0).mean()),
            "sig": float((z > SIG_THRESHOLD).mean()), "n_queries": int(z.size)}


def _values(var: str, what: str) -> property:
    """Read-only property: the numpy values of the variable ``var`` of ``self.data``."""
    def get(self) -> np.ndarray:
        return self.data[var].values

    return property(get, doc=f"{what} (the values of ``data.{var}``).")


@dataclass(eq=False)
class MatrixHomogeneity:
    """Homogeneity of one track score matrix (the scores, or their rank-1 residual).

    Attributes
    ----------
    matrix : str
        ``"scores"`` or ``"residual"``.
    normalization : NormalizationReport
        How columns were normalized.
    data : xarray.Dataset
        Variables ``h``, ``z`` (k, query, channel): ``H_c(q)`` and ``z_c(q)`` (NaN when the null sd
        is 0); ``h_feature``, ``z_feature`` (k, query, feature): ``H_f(q)`` and ``z_f(q)``;
        ``groups`` (query, rank): track ids (str) of each query's top ``K_max`` tracks, best first
        (``rank`` 1..K_max); ``included`` (query): queries used in the summaries (constant columns
        are left out). Attribute ``matrix``.

    Notes
    -----
    ``query_ids``, ``k_values``, ``channels``, ``features`` and the numpy arrays ``h_channel``,
    ``z_channel``, ``h_feature``, ``z_feature`` (indexed ``[k, query, channel or feature]``),
    ``groups`` (``[query, rank - 1]``) and ``included`` are read-only views of ``data``.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.normalize import NormalizationReport
    >>> mh = MatrixHomogeneity.from_arrays(
    ...     "scores", NormalizationReport("zscore", "zscore", None), query_ids=["q1", "q2"], k_values=[2],
    ...     channels=["rhythm"], features=["ioi"], h_channel=np.array([[[0.6], [0.4]]]),
    ...     z_channel=np.array([[[2.0], [-1.0]]]), h_feature=np.array([[[0.6], [0.4]]]),
    ...     z_feature=np.array([[[2.0], [-1.0]]]), groups=np.array([["t1", "t2"], ["t3", "t1"]]),
    ...     included=np.array([True, True]))
    >>> float(mh.data.z.sel(k=2, query="q1", channel="rhythm"))
    2.0
    >>> mh.z("rhythm", 2)
    array([ 2., -1.])
    >>> mh.data.groups.sel(query="q2").values.tolist()
    ['t3', 't1']
    """

    matrix: str
    normalization: NormalizationReport
    data: xr.Dataset

    @classmethod
    def from_arrays(
        cls,
        matrix: str,
        normalization: NormalizationReport,
        *,
        query_ids: Sequence[str] | np.ndarray,
        k_values: Sequence[int],
        channels: Sequence[str],
        features: Sequence[str],
        h_channel: np.ndarray,
        z_channel: np.ndarray,
        h_feature: np.ndarray,
        z_feature: np.ndarray,
        groups: np.ndarray,
        included: np.ndarray,
    ) -> MatrixHomogeneity:
        """Label the arrays of one matrix (no copies).

        Parameters
        ----------
        matrix : str
            Label of the analysed matrix, ``"scores"`` or ``"residual"``.
        normalization : NormalizationReport
            How its columns were normalized.
        query_ids, k_values, channels, features : sequence
            Coordinates.
        h_channel, z_channel : numpy.ndarray
            (nK, Q, C).
        h_feature, z_feature : numpy.ndarray
            (nK, Q, F).
        groups : numpy.ndarray
            (Q, K_max) track ids.
        included : numpy.ndarray
            (Q,) bool.

        Returns
        -------
        MatrixHomogeneity
        """
        kqc, kqf = ("k", "query", "channel"), ("k", "query", "feature")
        data = xr.Dataset(
            {"h": (kqc, h_channel), "z": (kqc, z_channel), "h_feature": (kqf, h_feature),
             "z_feature": (kqf, z_feature), "groups": (("query", "rank"), groups),
             "included": (("query",), included)},
            coords={"k": np.asarray([int(k) for k in k_values], dtype=np.int64),
                    "query": np.asarray(query_ids),
                    "channel": np.asarray(list(channels), dtype=str),
                    "feature": np.asarray(list(features), dtype=str),
                    "rank": np.arange(1, groups.shape[1] + 1, dtype=np.int64)},
            attrs={"matrix": matrix, "normalization": normalization.method},
        )
        for name, desc in (("h", "H_c(q): mean over the channel's features of H_f(q)"),
                           ("z", "z_c(q) = (H_c(q) - mu_c) / sd_c"),
                           ("h_feature", "H_f(q): mean pairwise similarity of the top-K group"),
                           ("z_feature", "z_f(q) = (H_f(q) - mu_f) / sd_f"),
                           ("groups", "track ids of the top K_max tracks, best first"),
                           ("included", "query used in the summaries")):
            data[name].attrs["description"] = desc
        return cls(matrix, normalization, data)

    # -- coordinates and the numpy views of earlier versions ------------------------------------

    @property
    def query_ids(self) -> np.ndarray:
        """Query ids (str)."""
        return self.data["query"].values

    @property
    def k_values(self) -> tuple[int, ...]:
        """Group sizes."""
        return tuple(int(k) for k in self.data["k"].values)

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel labels."""
        return tuple(str(c) for c in self.data["channel"].values)

    @property
    def features(self) -> tuple[str, ...]:
        """Feature labels."""
        return tuple(str(f) for f in self.data["feature"].values)

    h_channel = _values("h", "(nK, Q, C) ``H_c(q)``")
    z_channel = _values("z", "(nK, Q, C) ``z_c(q)``")
    h_feature = _values("h_feature", "(nK, Q, F) ``H_f(q)``")
    z_feature = _values("z_feature", "(nK, Q, F) ``z_f(q)``")
    groups = _values("groups", "(Q, K_max) track ids of each query's ranked top tracks")
    included = _values("included", "(Q,) queries used in summaries")

    def z(self, channel: str, k: int) -> np.ndarray:
        """Per-query ``z_c`` of one channel and K (``data.z.sel(channel=channel, k=k)``).

        Raises
        ------
        AriaInputError
            When ``channel`` or ``k`` was not computed (a ``ValueError``).
        """
        if channel not in self.channels or k not in self.k_values:
            raise AriaInputError(f"no z for channel {str(channel)!r} at K = {k} (channels: "
                                 f"{', '.join(self.channels)}; K: {', '.join(map(str, self.k_values))})",
                                 parameter="channel" if channel not in self.channels else "k",
                                 function="MatrixHomogeneity.z")
        return self.data["z"].sel(channel=channel, k=k).values

    # -- summaries and tables --------------------------------------------------------------------

    def _summaries(self, level: str) -> dict[str, dict[int, dict]]:
        var = "z" if level == "channel" else "z_feature"
        z = self.data[var]
        return {str(name): {int(k): summarize(z.sel({"k": k, level: name}).values, self.included)
                            for k in self.data["k"].values}
                for name in self.data[level].values}

    def summary(self) -> dict:
        """``{channel: {K: {z_mean, pos, sig, n_queries}}}``, and per feature under ``"features"``."""
        out: dict = {c: {str(k): s for k, s in per_k.items()}
                     for c, per_k in self._summaries("channel").items()}
        out["features"] = {f: {str(k): s for k, s in per_k.items()}
                           for f, per_k in self._summaries("feature").items()}
        return out

    @validate_params({"level": _LEVEL})
    def summary_dataset(self, level: str = "channel") -> xr.Dataset:
        """Summaries ``z_mean``, ``pos``, ``sig``, ``n_queries`` as labelled data (k, channel or feature).

        Parameters
        ----------
        level : str
            ``"channel"`` or ``"feature"``.

        Returns
        -------
        xarray.Dataset
            One variable per statistic of :func:`summarize`, dims ``(k, <level>)``.
        """
        summ = self._summaries(level)
        names = self.data[level].values
        ks = self.data["k"].values
        return xr.Dataset(
            {s: (("k", level), np.array([[summ[str(n)][int(k)][s] for n in names] for k in ks],
                                        dtype=np.int64 if s == "n_queries" else np.float64))
             for s in SUMMARY_STATS},
            coords={"k": ks, level: names}, attrs={"matrix": self.matrix, "sig_threshold": SIG_THRESHOLD})

    def summary_frame(self) -> pd.DataFrame:
        """Long table ``matrix, level, name, k, z_mean, pos, sig, n_queries``."""
        rows = []
        for level in ("channel", "feature"):
            for name, per_k in self._summaries(level).items():
                for k, s in per_k.items():
                    rows.append({"matrix": self.matrix, "level": level, "name": name, "k": k, **s})
        return pd.DataFrame(rows)

    @validate_params({"level": _LEVEL})
    def to_frame(self, level: str = "channel") -> pd.DataFrame:
        """Per-query long table ``matrix, query, k, <level>, h, z, included``.

        Parameters
        ----------
        level : str
            Rows per ``"channel"`` (the default) or per ``"feature"``.

        Returns
        -------
        pandas.DataFrame
            One row per K, query and channel (or feature).
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

    def groups_frame(self) -> pd.DataFrame:
        """Long table ``matrix, query, rank, track`` of each query's ranked top ``K_max`` tracks."""
        q, k = self.groups.shape
        return pd.DataFrame({"matrix": self.matrix, "query": np.repeat(self.query_ids, k),
                             "rank": np.tile(np.arange(1, k + 1), q), "track": self.groups.ravel()})


def matrix_homogeneity(
    tscores: TrackScores,
    pool: Pool,
    psim: PoolSimilarity,
    nulls: Mapping[int, NullDistribution],
    ks: Sequence[int],
    *,
    matrix: str = "scores",
    workers: int = 1,
    group_similarity: Callable[..., np.ndarray] | None = None,
) -> MatrixHomogeneity:
    """Top-K groups, ``H`` and ``z`` of every query for one track score matrix (spec section 3).

    ``G_q(K)``: :func:`~aria.groups.topk.top_k_groups`; ``H_f(q)``:
    :func:`~aria.groups.topk.nested_group_similarity`; ``H_c(q)``:
    :meth:`~aria.groups.pool.PoolSimilarity.channel_means`; ``z_c(q)``, ``z_f(q)``:
    :func:`z_scores` against ``nulls[K]``. Queries with a constant column are labelled not
    ``included``.

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
    group_similarity : callable, optional
        ``f(psim, ranked, ks, workers=...)`` computing ``H_f`` of the nested groups; default
        :func:`~aria.groups.topk.nested_group_similarity` (a dask cluster passes its own, which
        splits the queries into tasks and returns the same values).

    Returns
    -------
    MatrixHomogeneity
        Labelled ``H``, ``z`` and groups of every query.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.result import matrix_homogeneity
    >>> t = aria.examples.tiny()
    >>> prep = t.prepare()
    >>> m = matrix_homogeneity(prep.track_scores, prep.pool, prep.similarity, t.nulls(), [3])
    >>> m.data.groups.sel(query="q2", rank=[1, 2, 3]).values.tolist()
    ['t6', 't5', 't7']
    """
    ks = tuple(int(k) for k in ks)
    ranked = top_k_groups(tscores.values, pool.rows, max(ks))
    hf = (group_similarity or nested_group_similarity)(psim, ranked, ks, workers=workers)
    hc = psim.channel_means(hf)
    zf = np.empty_like(hf)
    zc = np.empty_like(hc)
    for ki, k in enumerate(ks):
        nl = nulls[k]
        zf[ki] = z_scores(hf[ki], nl.feature_mean, nl.feature_sd)
        zc[ki] = z_scores(hc[ki], nl.channel_mean, nl.channel_sd)
    constant = set(tscores.report.zero_std_columns)
    included = np.array([q not in constant for q in tscores.query_ids], dtype=bool)
    return MatrixHomogeneity.from_arrays(
        matrix, tscores.report, query_ids=np.asarray(tscores.query_ids), k_values=ks,
        channels=psim.channels, features=psim.features, h_channel=hc, z_channel=zc, h_feature=hf,
        z_feature=zf, groups=pool.track_ids[ranked], included=included)


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
    dropped_dimensions : dict
        Vector feature -> dimensions dropped because their scale ``s_j`` is 0.

    Examples
    --------
    >>> import aria
    >>> res = aria.examples.tiny().homogeneity(k=[2, 3], residual=True)
    >>> res.k_values, res.verdict, [m.matrix for m in res.matrices()]
    ((2, 3), 'collapsed', ['scores', 'residual'])
    >>> res.to_dataset().z.sel(matrix="scores", channel="a").round(2).values.tolist()
    [[1.26, 1.26], [1.94, 1.94]]
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

    def matrices(self) -> list[MatrixHomogeneity]:
        """The analysed matrices: ``[scores]`` or ``[scores, residual]``."""
        return [self.scores] + ([self.residual] if self.residual is not None else [])

    def to_dataset(self) -> xr.Dataset:
        """Both matrices and the nulls as one labelled dataset.

        Returns
        -------
        xarray.Dataset
            The variables of :attr:`MatrixHomogeneity.data` with a leading dimension ``matrix``
            (``"scores"``, and ``"residual"`` when analysed); ``null_mean``, ``null_sd``
            (k, channel) and ``null_feature_mean``, ``null_feature_sd`` (k, feature): the null's
            ``mu`` and ``sd`` per K, so ``z == (h - null_mean) / null_sd`` by label.
        """
        mats = self.matrices()
        ds = xr.concat([m.data for m in mats], dim=pd.Index([m.matrix for m in mats], name="matrix"),
                       combine_attrs="drop_conflicts")
        ds.attrs.pop("normalization", None)
        nulls = [self.nulls[k] for k in self.k_values]
        ds["null_mean"] = (("k", "channel"), np.stack([nl.channel_mean for nl in nulls]))
        ds["null_sd"] = (("k", "channel"), np.stack([nl.channel_sd for nl in nulls]))
        ds["null_feature_mean"] = (("k", "feature"), np.stack([nl.feature_mean for nl in nulls]))
        ds["null_feature_sd"] = (("k", "feature"), np.stack([nl.feature_sd for nl in nulls]))
        ds.attrs.update(verdict=self.diagnostics.verdict, channel_set=self.channel_set.name,
                        sig_threshold=SIG_THRESHOLD)
        return ds

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

    @validate_params({"level": _LEVEL})
    def to_frame(self, level: str = "channel") -> pd.DataFrame:
        """Per-query long table of the scores (and residual) homogeneity."""
        return pd.concat([m.to_frame(level) for m in self.matrices()], ignore_index=True)

    def summary_frame(self) -> pd.DataFrame:
        """Summary table (``z_mean``, ``pos``, ``sig``) per matrix, channel/feature and K."""
        return pd.concat([m.summary_frame() for m in self.matrices()], ignore_index=True)

    def groups_frame(self) -> pd.DataFrame:
        """Long table ``matrix, query, rank, track`` of the ranked groups of every analysed matrix."""
        return pd.concat([m.groups_frame() for m in self.matrices()], ignore_index=True)

    def null_frame(self) -> pd.DataFrame:
        """Null mean and sd per K, channel and feature."""
        return pd.concat([nl.to_frame() for nl in self.nulls.values()], ignore_index=True)
