"""Ground-truth-free reliability signals of a score matrix (issue 15).

Each signal is computed from the stored matrix ``S`` (N segments x Q queries) plus what a user
has without retraining: the segment -> track map and, optionally, a group per query (the column of
the query metadata naming its source or label). Every function here is pure (arrays and
parameters in, numbers out); :func:`track_moments` gathers what the track coherence needs from a
score matrix in one streaming pass over its rows, and :func:`reliability_score` puts it together.

Signals (higher = more reliable unless stated):

``track_coherence``
    Adjusted within-track coherence. Per query, the share of the column's variance between tracks,
    ``eta2_q = SS_between / SS_total`` over the segments of tracks with at least two segments,
    adjusted for chance: ``kappa_q = (eta2_q - e0) / (1 - e0)`` with ``e0 = (M' - 1) / (N' - 1)``,
    the expected ``eta2`` when scores are exchangeable across segments (``M'`` tracks and ``N'``
    segments used). Averaged over queries. 0 for scores unrelated to the track, 1 when every
    segment of a track scores the same.
``group_contrast``
    Mean Pearson correlation between the columns of queries in the same group minus the mean over
    queries in different groups. 0 when the group does not matter (pure noise, or every query
    alike); positive when queries that share a source are attributed alike.
``spike_energy`` / ``spike_energy_2``
    Fraction of the columns' standardized variance in eigenvalues of the inter-query correlation
    matrix above the Marchenko-Pastur edge ``(1 + sqrt(Q / N))^2`` (the largest eigenvalue that
    independent noise produces); ``_2`` leaves the leading eigenvalue out (query-specific
    structure, not a common axis).
``topk_overlap`` (:func:`topk_signals`)
    Mean fraction of top-k rows shared by two queries
    (:func:`aria.evaluate.overlap.topk_overlap_queries`), as excess over chance,
    ``(o - k/N) / (1 - k/N)``: high when the same rows top every query (global influence).
``global_share`` (:func:`topk_signals`)
    Share of all top-k slots taken by the k most frequent rows (RelatIF's global influence):
    1 when one fixed set of rows tops every query.

The last two (in-memory functions of the matrix) did not track LDS in the benchmark
(Kendall tau near 0) and are not computed by ``aria diagnose``.

The combined score (:func:`combine`)::

    reliability_score = (1 - rho_bar) * mean(track_coherence, group_contrast)

over the components that are defined (``group_contrast`` needs query groups, ``track_coherence``
tracks with two or more segments); ``1 - rho_bar`` gates out collapsed matrices, whose coherence
describes one fixed ranking. No constant is fitted (see :class:`ReliabilityParameters`);
``docs/reliability.md`` gives the benchmark behind the choice and what the score cannot tell.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from aria.errors import AriaInputError
from aria.io.streaming import DEFAULT_BLOCK_ROWS
from aria.params import STREAMING, Array, InstanceOf, Interval, MappingOf, validate_params

#: Fewest methods for which :func:`kendall_tau_bootstrap` gives an interval (else NaN).
MIN_METHODS_FOR_INTERVAL = 4

#: Constraint of ``query_groups``: one label per query (strings, numbers; None/NaN/"" = no group).
_GROUPS = [None, InstanceOf(np.ndarray, list, tuple, "pandas.Series",
                            what="an array-like of query groups (one per query)")]
_TRACKS = InstanceOf(np.ndarray, list, tuple, "pandas.Series",
                     what="an array-like of track ids (one per row)")

__all__ = [
    "SCORE_COMPONENTS",
    "MIN_METHODS_FOR_INTERVAL",
    "FORMULA",
    "ReliabilityParameters",
    "TrackMoments",
    "ReliabilityScore",
    "track_coherence",
    "track_coherence_from_moments",
    "group_contrast",
    "spike_energy",
    "topk_signals",
    "track_moments",
    "reliability_components",
    "combine",
    "reliability_score",
    "kendall_tau_bootstrap",
]


@dataclass(frozen=True)
class ReliabilityParameters:
    """Every constant of the reliability score, with where it comes from.

    The score has no fitted weight: it is ``(1 - rho_bar) x mean(components)`` over the
    components in ``components`` that are defined for the matrix (see :func:`combine`). Which
    components enter, and the gate, were chosen on the design half of the benchmark in
    ``benchmarks/reliability`` (``docs/reliability.md``); nothing was tuned on the held-out half.

    Attributes
    ----------
    components : tuple of str
        Components averaged into the score, when defined: ``track_coherence`` (needs tracks with
        at least two segments) and ``group_contrast`` (needs a query group column).
    provenance : str
        Where the definition comes from.

    Examples
    --------
    >>> ReliabilityParameters().components
    ('track_coherence', 'group_contrast')
    >>> ReliabilityParameters(components=("track_coherence",)).to_dict()["components"]
    ['track_coherence']
    """

    components: tuple[str, ...] = ("track_coherence", "group_contrast")
    provenance: str = (
        "benchmarks/reliability (issue 15): components chosen on the 21 design matrices, no "
        "constant fitted; Kendall tau with LDS 0.58 design, 0.46 held-out, 0.62 on a fresh "
        "domain (docs/reliability.md)"
    )

    def __post_init__(self) -> None:
        unknown = set(self.components) - set(SCORE_COMPONENTS)
        if unknown or not self.components:
            raise AriaInputError(f"components must be a non-empty subset of {SCORE_COMPONENTS}, "
                                 f"got {self.components}", parameter="components")

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        d = asdict(self)
        d["components"] = list(self.components)
        return d


#: Components the score can average.
SCORE_COMPONENTS = ("track_coherence", "group_contrast")
#: The score's formula, as printed in the JSON.
FORMULA = "(1 - mean_abs_interquery_corr) * mean(defined components)"


# --------------------------------------------------------------------------------------------
# components on arrays


def _codes(segment_track: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, codes, counts = np.unique(np.asarray(segment_track), return_inverse=True, return_counts=True)
    return codes.reshape(-1).astype(np.int64), counts.astype(np.int64)


@validate_params({"n_tracks": Interval(int, 0, None), "n_segments": Interval(int, 0, None)})
def track_coherence_from_moments(
    between_sumsq: np.ndarray,
    total: np.ndarray,
    sumsq: np.ndarray,
    n_tracks: int,
    n_segments: int,
) -> tuple[float, np.ndarray, float]:
    """Adjusted within-track coherence from per-query moments (the streaming form).

    Over the ``N'`` segments of the ``M'`` tracks that have at least two segments, with the
    scores shifted by any per-query constant: ``SS_total = sumsq - total^2 / N'`` and
    ``SS_between = between_sumsq - total^2 / N'``.

    Parameters
    ----------
    between_sumsq : numpy.ndarray
        (Q,) ``sum over tracks m of (sum of the track's scores)^2 / n_m``.
    total : numpy.ndarray
        (Q,) sum of the scores.
    sumsq : numpy.ndarray
        (Q,) sum of the squared scores.
    n_tracks, n_segments : int
        ``M'`` and ``N'``.

    Returns
    -------
    mean : float
        Mean of the defined per-query values (NaN when none).
    per_query : numpy.ndarray
        (Q,) ``kappa_q`` (NaN for a constant column, or fewer than 2 tracks).
    chance : float
        ``e0 = (M' - 1) / (N' - 1)``.

    Examples
    --------
    Two tracks of two segments, scores 1, 1 | 0, 0: all variance is between tracks
    (``SS_between = SS_total = 1``, ``e0 = 1/3``), so ``kappa = 1``:

    >>> mean, per_query, chance = track_coherence_from_moments(
    ...     np.array([2.0]), np.array([2.0]), np.array([2.0]), 2, 4)
    >>> mean, round(chance, 4)
    (1.0, 0.3333)
    """
    sumsq = np.asarray(sumsq, dtype=np.float64)
    per_query = np.full(sumsq.shape[0], np.nan)
    m, n = int(n_tracks), float(n_segments)
    if m < 2 or n <= m:
        return math.nan, per_query, math.nan
    total = np.asarray(total, dtype=np.float64)
    ss_tot = sumsq - total**2 / n
    ss_between = np.asarray(between_sumsq, dtype=np.float64) - total**2 / n
    chance = (m - 1) / (n - 1)
    ok = ss_tot > 64 * np.finfo(np.float64).eps * np.maximum(np.abs(sumsq), 1e-300)
    eta2 = np.clip(ss_between[ok] / ss_tot[ok], 0.0, 1.0)
    per_query[ok] = (eta2 - chance) / (1.0 - chance)
    mean = float(per_query[ok].mean()) if ok.any() else math.nan
    return mean, per_query, float(chance)


@validate_params({"values": Array(), "segment_track": _TRACKS})
def track_coherence(values: np.ndarray, segment_track: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Adjusted within-track coherence of an in-memory matrix (dense reference).

    Parameters
    ----------
    values : numpy.ndarray
        (N, Q) scores.
    segment_track : numpy.ndarray
        (N,) track id of each row.

    Returns
    -------
    mean : float
        Mean over queries of ``kappa_q`` (see the module docstring).
    per_query : numpy.ndarray
        (Q,) ``kappa_q``.
    chance : float
        ``e0``.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[1.0], [1.0], [0.0], [0.0]])
    >>> track_coherence(s, np.array(["a", "a", "b", "b"]))[0]
    1.0
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    codes, counts = _codes(segment_track)
    keep = counts[codes] >= 2
    v = v[keep] - v[keep].mean(axis=0) if keep.any() else v[:0]
    used = np.flatnonzero(counts >= 2)
    remap = np.full(counts.size, -1)
    remap[used] = np.arange(used.size)
    sums = np.zeros((used.size, v.shape[1]))
    np.add.at(sums, remap[codes[keep]], v)
    between = (sums**2 / counts[used][:, None]).sum(axis=0)
    return track_coherence_from_moments(between, v.sum(axis=0), (v * v).sum(axis=0), used.size,
                                        int(counts[used].sum()))


@validate_params({"correlation": Array(2), "groups": _GROUPS[1:]})
def group_contrast(correlation: np.ndarray, groups: np.ndarray) -> tuple[float, int, int]:
    """Mean same-group minus mean different-group inter-query correlation.

    Parameters
    ----------
    correlation : numpy.ndarray
        (k, k) Pearson correlation matrix of the columns (e.g. ``Diagnostics.correlation``).
    groups : numpy.ndarray
        (k,) group label of each of those columns; missing labels (None/NaN/pd.NA/NaT/"") are
        left out.

    Returns
    -------
    contrast : float
        NaN when there is no same-group pair or no different-group pair.
    n_same, n_different : int
        Pairs used.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[1, .8, 0], [.8, 1, .2], [0, .2, 1]])
    >>> round(group_contrast(r, np.array(["a", "a", "b"]))[0], 6)
    0.7
    """
    import pandas as pd

    r = np.asarray(correlation, dtype=np.float64)
    g = np.asarray(groups, dtype=object)
    valid = np.array([not pd.isna(x) and str(x) != "" for x in g], dtype=bool)
    r = r[np.ix_(valid, valid)]
    g = np.asarray([str(x) for x in g[valid]])
    iu = np.triu_indices(g.size, 1)
    same = g[iu[0]] == g[iu[1]]
    vals = r[iu]
    n_same, n_diff = int(same.sum()), int((~same).sum())
    if n_same == 0 or n_diff == 0:
        return math.nan, n_same, n_diff
    return float(vals[same].mean() - vals[~same].mean()), n_same, n_diff


@validate_params({"correlation": Array(2), "n_rows": Interval(int, 0, None)})
def spike_energy(correlation: np.ndarray, n_rows: int) -> dict[str, float]:
    """Energy of the inter-query correlation matrix above the Marchenko-Pastur noise edge.

    Parameters
    ----------
    correlation : numpy.ndarray
        (k, k) correlation matrix of the columns (trace k).
    n_rows : int
        Rows N it was computed from.

    Returns
    -------
    dict
        ``edge`` = ``(1 + sqrt(k / N))^2``, ``spike_energy`` = sum of eigenvalues above the edge
        / k, ``spike_energy_2`` = the same without the leading eigenvalue, ``n_spikes``.

    Examples
    --------
    >>> import numpy as np
    >>> spike_energy(np.eye(4), 100)["spike_energy"]
    0.0
    """
    r = np.asarray(correlation, dtype=np.float64)
    k = r.shape[0]
    if k < 2 or n_rows < 2:
        return {"edge": math.nan, "spike_energy": math.nan, "spike_energy_2": math.nan,
                "n_spikes": 0}
    lam = np.sort(np.linalg.eigvalsh((r + r.T) / 2))[::-1]
    edge = (1.0 + math.sqrt(k / n_rows)) ** 2
    above = lam > edge
    return {"edge": edge, "spike_energy": float(lam[above].sum() / k),
            "spike_energy_2": float(lam[1:][above[1:]].sum() / k), "n_spikes": int(above.sum())}


@validate_params({"values": Array(2), "k": Interval(int, 1, None)})
def topk_signals(values: np.ndarray, k: int) -> dict[str, float]:
    """Top-k overlap across queries (excess over chance) and the global share of the top rows.

    With ``c_i`` the number of queries whose top k holds row ``i``:

    - ``overlap`` = mean over query pairs of ``|top_k(q) & top_k(q')| / k``
      = ``sum_i c_i (c_i - 1) / (k Q (Q - 1))``; ``chance`` = ``k / N``;
      ``excess`` = ``(overlap - k/N) / (1 - k/N)`` (1 when every query has the same top k);
    - ``global_share`` = share of the ``Q k`` top-k slots taken by the k rows with the largest
      ``c_i`` (RelatIF's global influence; 1 when one fixed set of rows tops every query).

    Parameters
    ----------
    values : numpy.ndarray
        (N, Q) scores, held in memory.
    k : int
        Rows per query (capped at N).

    Returns
    -------
    dict
        ``overlap``, ``chance``, ``excess`` (NaN with fewer than 2 queries, or k = N) and
        ``global_share``.

    Examples
    --------
    >>> s = np.array([[3.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    >>> out = topk_signals(s, 2)
    >>> out["excess"], out["global_share"]
    (1.0, 1.0)
    """
    from aria.evaluate.overlap import top_k_sets, topk_overlap_queries

    v = np.asarray(values, dtype=np.float64)
    n, q = v.shape
    k = min(int(k), n)
    c = np.bincount(top_k_sets(v, k).reshape(-1), minlength=n)
    share = float(np.sort(c)[::-1][:k].sum() / (k * q)) if q else math.nan
    if q < 2:
        return {"overlap": math.nan, "chance": math.nan, "excess": math.nan, "global_share": share}
    between = topk_overlap_queries(v, k)  # the one top-k overlap between queries (issue 14)
    o, chance = between["overlap"], between["random_expectation"]
    excess = (o - chance) / (1 - chance) if chance < 1 else math.nan
    return {"overlap": o, "chance": chance, "excess": float(excess), "global_share": share}


# --------------------------------------------------------------------------------------------
# one streaming pass


@dataclass
class TrackMoments:
    """Per-query moments behind the track coherence, from one pass over the rows.

    Attributes
    ----------
    between_sumsq, total, sumsq : numpy.ndarray
        (Q,) see :func:`track_coherence_from_moments` (scores shifted by ``shift``).
    n_tracks, n_segments : int
        Tracks with at least two segments, and their segments.
    contiguous : bool
        Every track's rows were consecutive (memory O(Q)); otherwise per-track sums were kept
        (memory ``8 x n_tracks x Q`` bytes).

    Examples
    --------
    >>> import aria
    >>> s = aria.scores_from_array(np.array([[1.0], [3.0], [0.0], [2.0]]), segment_track=[0, 0, 1, 1])
    >>> m = track_moments(s)
    >>> m.n_tracks, m.n_segments, m.contiguous, m.total.tolist()
    (2, 4, True, [6.0])
    """

    between_sumsq: np.ndarray
    total: np.ndarray
    sumsq: np.ndarray
    n_tracks: int
    n_segments: int
    contiguous: bool


@validate_params({"scores": "scores", "shift": [None, Array(1)], **STREAMING})
def track_moments(scores, *, shift: np.ndarray | None = None, block_rows: int = DEFAULT_BLOCK_ROWS,
                  chunk_rows: int | None = None,
                  progress: Callable[[int], None] | None = None, client: object = None) -> TrackMoments:
    """The track-coherence moments of a score matrix, in one streaming pass over its rows.

    When each track's segments are consecutive rows (the usual layout), a track's sums are
    folded into ``between_sumsq`` as soon as it ends, so memory stays O(Q); otherwise the
    per-track sums of the tracks with two or more segments are kept (``8 x M' x Q`` bytes).

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix with a ``track`` coordinate on ``segment``.
    block_rows, chunk_rows, progress
        Streaming parameters, as in :func:`aria.io.streaming.iter_blocks`.
    client : distributed.Client, optional
        Run the pass on this dask cluster, one task per fixed row range
        (:func:`aria.scale.diagnose.track_moments_cluster`; ``chunk_rows`` is then unused): the
        same result on any number of workers, equal to the single-process pass up to rounding.
    shift : numpy.ndarray, optional
        (Q,) values subtracted from every row (the column means from :func:`aria.diagnose` keep
        the sums of squares free of cancellation).

    Returns
    -------
    TrackMoments
        Sums over the tracks with two or more segments, and their counts.

    Examples
    --------
    >>> import aria
    >>> s = aria.scores_from_array(np.array([[1.0], [1.0], [0.0], [0.0]]), segment_track=[0, 0, 1, 1])
    >>> m = track_moments(s)
    >>> track_coherence_from_moments(m.between_sumsq, m.total, m.sumsq, m.n_tracks, m.n_segments)[0]
    1.0
    """
    from aria.io.streaming import iter_blocks

    n, q = scores.shape
    codes, counts = _codes(np.asarray(scores.coords["track"].values))
    used = np.flatnonzero(counts >= 2)
    remap = np.full(counts.size, -1)
    remap[used] = np.arange(used.size)
    rows_track = remap[codes]
    # consecutive rows per track: as many runs of equal codes as distinct codes
    contiguous = int(np.count_nonzero(np.diff(codes)) + 1 if n else 0) == counts.size
    shift = np.zeros(q) if shift is None else np.asarray(shift, dtype=np.float64)
    between = np.zeros(q)
    total = np.zeros(q)
    sumsq = np.zeros(q)
    if used.size == 0:  # no track with two segments: nothing to read
        return TrackMoments(between, total, sumsq, 0, 0, bool(contiguous))
    if client is not None:
        from aria.scale.diagnose import track_moments_cluster

        between, total, sumsq = track_moments_cluster(scores, client, rows_track, counts[used], shift,
                                                      block_rows=block_rows, progress=progress)
        return TrackMoments(between_sumsq=between, total=total, sumsq=sumsq, n_tracks=int(used.size),
                            n_segments=int(counts[used].sum()), contiguous=bool(contiguous))
    sums = None if contiguous else np.zeros((used.size, q))
    open_track, open_sum = -1, np.zeros(q)
    for start, block in iter_blocks(scores, block_rows=block_rows,
                                    chunk_rows=chunk_rows, progress=progress):
        t = rows_track[start:start + block.shape[0]]
        keep = t >= 0
        if not keep.any():
            continue
        b = block[keep] - shift
        t = t[keep]
        total += b.sum(axis=0)
        sumsq += (b * b).sum(axis=0)
        if sums is not None:
            np.add.at(sums, t, b)
            continue
        # contiguous: runs of one track inside the block; the first may continue the open track
        starts = np.concatenate(([0], np.flatnonzero(t[1:] != t[:-1]) + 1))
        run_sums = np.add.reduceat(b, starts, axis=0)
        for tr, rs_ in zip(t[starts], run_sums, strict=True):
            if tr == open_track:
                open_sum += rs_
                continue
            if open_track >= 0:
                between += open_sum**2 / counts[used[open_track]]
            open_track, open_sum = int(tr), rs_.copy()
    if sums is not None:
        between = (sums**2 / counts[used][:, None]).sum(axis=0)
    elif open_track >= 0:
        between += open_sum**2 / counts[used[open_track]]
    return TrackMoments(between_sumsq=between, total=total, sumsq=sumsq, n_tracks=int(used.size),
                        n_segments=int(counts[used].sum()), contiguous=bool(contiguous))


# --------------------------------------------------------------------------------------------
# the score


@dataclass
class ReliabilityScore:
    """The ground-truth-free reliability score of one matrix, with its components.

    Attributes
    ----------
    score : float
        ``(1 - rho_bar) x mean(defined components)``; NaN when no component is defined.
    components : dict
        ``track_coherence``, ``group_contrast`` (NaN when undefined) and ``query_specificity``
        (``1 - rho_bar``, the gate).
    used : list of str
        Components that entered the mean.
    signals : dict
        Reported beside the score, not in it: ``spike_energy``, ``spike_energy_2``,
        ``n_spikes``, ``noise_edge`` (free: from the correlation matrix).
    details : dict
        Counts behind the components (tracks and segments used, chance level, pairs).
    undefined : dict
        Why a component or the score is undefined.
    parameters : ReliabilityParameters
        The parameters used.

    Examples
    --------
    >>> r = combine({"track_coherence": 0.5, "group_contrast": 0.25, "query_specificity": 0.8})
    >>> round(r.score, 6), r.used
    (0.3, ['track_coherence', 'group_contrast'])
    >>> sorted(r.json_fields())
    ['reliability', 'reliability_components', 'reliability_score']
    """

    score: float
    components: dict[str, float]
    used: list[str]
    signals: dict[str, float]
    details: dict[str, float | int | str | None]
    undefined: dict[str, str] = field(default_factory=dict)
    parameters: ReliabilityParameters = field(default_factory=ReliabilityParameters)

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN -> None)."""
        return {
            "score": _num(self.score),
            "formula": FORMULA,
            "components": {k: _num(v) for k, v in self.components.items()},
            "used": list(self.used),
            "signals": {k: _num(v) for k, v in self.signals.items()},
            "details": {k: (_num(v) if isinstance(v, float) else v) for k, v in self.details.items()},
            "undefined": dict(self.undefined),
            "parameters": self.parameters.to_dict(),
        }

    def json_fields(self) -> dict:
        """The keys ``aria diagnose --json`` adds.

        ``reliability_score``, its components beside it (``reliability_components``) and
        ``reliability`` (formula, details, signals, undefined parts, parameters).
        """
        d = self.to_dict()
        return {"reliability_score": d["score"], "reliability_components": d["components"],
                "reliability": {k: v for k, v in d.items() if k not in ("score", "components")}}


def _num(x) -> float | int | None:
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None


@validate_params({"diagnostics": InstanceOf("aria.diagnostics.reliability.Diagnostics"),
                  "moments": TrackMoments, "query_groups": _GROUPS,
                  "parameters": [None, ReliabilityParameters]})
def reliability_components(
    diagnostics,
    moments: TrackMoments,
    *,
    query_groups: np.ndarray | None = None,
    parameters: ReliabilityParameters | None = None,
) -> ReliabilityScore:
    """All components and reported signals from the diagnostics and the track moments.

    Parameters
    ----------
    diagnostics : Diagnostics
        Output of :func:`aria.diagnose` for the same matrix (its correlation matrix and
        ``rho_bar`` are used).
    moments : TrackMoments
        Output of :func:`track_moments` for the same matrix.
    query_groups : numpy.ndarray, optional
        (Q,) group of each query, in the matrix's query order (None/NaN/"" = no group).
    parameters : ReliabilityParameters, optional
        Defaults when omitted.

    Returns
    -------
    ReliabilityScore
        With the score from :func:`combine`.

    Examples
    --------
    >>> import aria
    >>> rng = np.random.default_rng(1)
    >>> s = aria.scores_from_array(rng.normal(size=(40, 6)), segment_track=np.repeat(np.arange(20), 2))
    >>> r = reliability_components(aria.diagnose(s), track_moments(s),
    ...                            query_groups=np.array(list("aabbcc"), dtype=object))
    >>> r.used, r.details["tracks_used"], r.details["group_pairs_same"]
    (['track_coherence', 'group_contrast'], 20, 3)
    """
    params = parameters or ReliabilityParameters()
    d = diagnostics
    if moments.total.shape != (d.n_queries,):
        raise AriaInputError(f"moments are for {moments.total.size} queries, the diagnostics for "
                             f"{d.n_queries}: compute both from the same matrix", parameter="moments")
    undefined: dict[str, str] = {}
    tc, _, chance = track_coherence_from_moments(moments.between_sumsq, moments.total, moments.sumsq,
                                                 moments.n_tracks, moments.n_segments)
    details: dict = {"tracks_used": moments.n_tracks, "segments_used": moments.n_segments,
                     "track_coherence_chance": chance}
    if not math.isfinite(tc):
        undefined["track_coherence"] = (
            "needs at least 2 tracks with 2 or more segments (give the segment -> track map)"
            if moments.n_tracks < 2 else "every column is constant within the used segments")
    gc = math.nan
    if query_groups is None:
        undefined["group_contrast"] = "no query groups given (query metadata and its group column)"
    else:
        groups = np.asarray(query_groups, dtype=object)
        if groups.shape != (d.n_queries,):
            raise AriaInputError(f"query_groups must have one entry per query ({d.n_queries}), "
                                 f"got shape {groups.shape}", parameter="query_groups")
        if d.correlation is None:
            undefined["group_contrast"] = "fewer than 2 non-constant columns"
        else:
            usable = ~np.isin(d.query_ids, d.excluded_correlation)
            gc, n_same, n_diff = group_contrast(d.correlation, groups[usable])
            details.update(group_pairs_same=n_same, group_pairs_different=n_diff)
            if not math.isfinite(gc):
                undefined["group_contrast"] = (
                    f"needs pairs of queries in the same group and in different groups "
                    f"(found {n_same} and {n_diff})")
    rho = float(d.mean_abs_interquery_corr)
    components = {"track_coherence": tc, "group_contrast": gc,
                  "query_specificity": 1.0 - rho if math.isfinite(rho) else math.nan}
    signals: dict[str, float] = {}
    if d.correlation is not None:
        sp = spike_energy(d.correlation, d.n_segments)
        signals.update(spike_energy=sp["spike_energy"], spike_energy_2=sp["spike_energy_2"],
                       n_spikes=sp["n_spikes"], noise_edge=sp["edge"])
    return combine(components, parameters=params, signals=signals, details=details,
                   undefined=undefined)


@validate_params({"components": MappingOf(), "parameters": [None, ReliabilityParameters]})
def combine(
    components: dict[str, float],
    *,
    parameters: ReliabilityParameters | None = None,
    signals: dict[str, float] | None = None,
    details: dict | None = None,
    undefined: dict[str, str] | None = None,
) -> ReliabilityScore:
    """``score = query_specificity x mean of the defined score components``.

    Parameters
    ----------
    components : dict
        ``track_coherence``, ``group_contrast`` (either may be NaN = undefined) and
        ``query_specificity`` = ``1 - rho_bar``.
    parameters : ReliabilityParameters, optional
        Which components may enter.
    signals, details, undefined : dict, optional
        Carried into the result.

    Returns
    -------
    ReliabilityScore

    Examples
    --------
    >>> combine({"track_coherence": 0.4, "group_contrast": float("nan"),
    ...          "query_specificity": 0.5}).score
    0.2
    """
    params = parameters or ReliabilityParameters()
    undefined = dict(undefined or {})
    used = [c for c in params.components if math.isfinite(float(components.get(c, math.nan)))]
    gate = float(components.get("query_specificity", math.nan))
    if not used:
        score = math.nan
        undefined["score"] = "no component is defined: " + ", ".join(
            f"{c}: {undefined.get(c, 'not computed')}" for c in params.components)
    elif not math.isfinite(gate):
        score = math.nan
        undefined["score"] = "mean_abs_interquery_corr is undefined (fewer than 2 usable queries)"
    else:
        score = gate * float(np.mean([components[c] for c in used]))
    return ReliabilityScore(score=score, components=dict(components), used=used,
                            signals=dict(signals or {}), details=dict(details or {}),
                            undefined=undefined, parameters=params)


@validate_params({"scores": "scores",
                  "diagnostics": [None, InstanceOf("aria.diagnostics.reliability.Diagnostics")],
                  "query_groups": _GROUPS, "parameters": [None, ReliabilityParameters],
                  **STREAMING})
def reliability_score(scores, diagnostics=None, *, query_groups: np.ndarray | None = None,
                      parameters: ReliabilityParameters | None = None, block_rows: int = DEFAULT_BLOCK_ROWS,
                      chunk_rows: int | None = None,
                      progress: Callable[[int], None] | None = None,
                      client: object = None) -> ReliabilityScore:
    """Ground-truth-free reliability score of a score matrix (one extra streaming pass).

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segments x queries) with its ``track`` coordinate, as returned by
        :func:`aria.load_scores` (``tracks=`` gives the segment -> track map).
    diagnostics : Diagnostics, optional
        :func:`aria.diagnose` of the same matrix (same segment count and query ids, else
        :class:`~aria.errors.AriaInputError`); computed when omitted.
    query_groups : array-like, optional
        (Q,) group of each query (its source or label), in query order.
    block_rows, chunk_rows, progress
        Streaming parameters of the extra pass, as in :func:`aria.io.streaming.iter_blocks`.
    parameters : ReliabilityParameters, optional
        Which components enter the score (default: both, :class:`ReliabilityParameters`).
    client : distributed.Client, optional
        Run the extra pass (and :func:`aria.diagnose` when computed here) on this dask cluster.

    Returns
    -------
    ReliabilityScore
        The score, its components, the reported signals and why any part is undefined.

    Examples
    --------
    >>> import aria
    >>> rng = np.random.default_rng(0)
    >>> tracks = np.repeat(np.arange(50), 4)
    >>> signal = np.repeat(rng.normal(size=(50, 12)), 4, axis=0)
    >>> planted = aria.scores_from_array(signal + rng.normal(size=(200, 12)), segment_track=tracks)
    >>> noise = aria.scores_from_array(rng.normal(size=(200, 12)), segment_track=tracks)
    >>> reliability_score(planted).score > reliability_score(noise).score
    True
    """
    params = parameters or ReliabilityParameters()
    if diagnostics is None:
        from aria.diagnostics.reliability import diagnose

        diagnostics = diagnose(scores, block_rows=block_rows, chunk_rows=chunk_rows, client=client)
    elif (diagnostics.n_segments != scores.shape[0]
          or not np.array_equal(np.asarray(diagnostics.query_ids).astype(str),
                                np.asarray(scores.coords["query"].values).astype(str))):
        raise AriaInputError(
            f"diagnostics are for another matrix ({diagnostics.n_segments} segments x "
            f"{diagnostics.n_queries} queries, not these {scores.shape[0]} x {scores.shape[1]} "
            "or not the same query ids): pass aria.diagnose() of these scores",
            parameter="diagnostics")
    moments = track_moments(scores, shift=diagnostics.column_mean, block_rows=block_rows,
                            chunk_rows=chunk_rows, progress=progress, client=client)
    return reliability_components(diagnostics, moments, query_groups=query_groups, parameters=params)


@validate_params({"n_boot": Interval(int, 1, None), "seed": "seed",
                  "level": Interval(float, 0, 1, closed="neither")})
def kendall_tau_bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """Kendall tau-b between two method-level series, with a bootstrap interval over methods.

    Methods (pairs ``(x_i, y_i)``) are resampled with replacement ``n_boot`` times with a seeded
    generator; the interval is the percentile interval of the resampled taus (resamples where
    tau is undefined, e.g. all values tied, are dropped and counted). With fewer than
    :data:`MIN_METHODS_FOR_INTERVAL` (4) methods the interval is undefined (NaN, no resampling):
    with 2 or 3 methods nearly every resample that keeps a defined tau repeats the observed
    order, so the interval would collapse onto the estimate (1.0 .. 1.0 for 2 methods).

    Parameters
    ----------
    x, y : numpy.ndarray
        One value per method; pairs with a non-finite value are left out.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling generator.
    level : float
        Coverage of the interval.

    Returns
    -------
    dict
        ``tau``, ``pvalue``, ``ci_low``, ``ci_high``, ``n_methods``, ``n_boot``, ``n_boot_defined``
        (resamples with a defined tau; 0 when the interval is undefined), ``seed``, ``level``.

    Examples
    --------
    >>> out = kendall_tau_bootstrap([1, 2, 3, 4, 5], [2, 1, 3, 5, 4], n_boot=200)
    >>> round(out["tau"], 3), out["n_methods"]
    (0.6, 5)
    >>> two = kendall_tau_bootstrap([1, 2], [1, 2], n_boot=200)
    >>> two["tau"], two["ci_low"], two["n_boot_defined"]
    (1.0, nan, 0)
    """
    from scipy import stats

    from aria.diagnostics.bootstrap import percentile_interval

    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    n = int(xa.size)
    out = {"tau": math.nan, "pvalue": math.nan, "ci_low": math.nan, "ci_high": math.nan,
           "n_methods": n, "n_boot": int(n_boot), "n_boot_defined": 0, "seed": int(seed),
           "level": float(level)}
    if n < 2:
        return out
    res = stats.kendalltau(xa, ya)
    out["tau"], out["pvalue"] = float(res.statistic), float(res.pvalue)
    if n < MIN_METHODS_FOR_INTERVAL:
        return out
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(int(n_boot)):
        idx = rng.integers(0, n, n)
        t = stats.kendalltau(xa[idx], ya[idx]).statistic
        if math.isfinite(t):
            taus.append(t)
    out["ci_low"], out["ci_high"] = percentile_interval(np.asarray(taus, dtype=np.float64), level)
    out["n_boot_defined"] = len(taus)
    return out
