"""Side-by-side comparison of attribution methods (spec sections 1, 3 and 7).

One row per method: its reliability diagnostics and verdict, optional
homogeneity summaries per channel and optional LDS. Methods whose verdict is
``collapsed`` (or ``undetermined``) are flagged, keep their numbers, and are
left out of every ranking and of the agreement statistics, with the reason
recorded next to them (spec section 1: a collapsed setting's homogeneity
describes one fixed group, not attribution).

Rankings among the remaining methods (1 = most reliable): one per diagnostic
(``rho_bar``, ``E1``, ``C_bar``, lower = more reliable; ties share the lowest
rank), a combined ``reliability_rank`` and, when LDS is known, ``lds_rank``
(higher LDS = better). The combined rank orders by verdict class first
(query-dependent, then query-dependent with a partial offset, then
offset-dominated), then by ``rho_bar`` (the direct measure of whether the
query matters), then ``E1``, then input order. ``E1`` and ``C_bar`` are not
averaged in: a genuinely low-rank query-dependent method has a high ``E1``
without being unreliable (paper Table 2, TRAK on FMA-Full: ``E1 = 0.77``,
query-dependent), and the verdict already accounts for ``C_bar``.

Agreement with LDS: for each diagnostic ``d``, Kendall's tau-b between
``-d`` and LDS over the ranked methods with both values defined. ``tau = 1``:
the diagnostic orders the methods exactly as LDS does; ``tau <= 0``: it does
not. With fewer than two such methods tau is undefined (NaN).

Reliability score: given each method's ground-truth-free
:func:`~aria.diagnostics.reliability_score.reliability_score`, the included methods are also
ranked by it (``ranks["reliability_score"]``, ``ranking_by_reliability_score``; higher score =
rank 1) and, with LDS, its Kendall tau with LDS gets a seeded bootstrap interval over methods.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from aria.diagnostics.reliability import Diagnostics
from aria.evaluate.lds import LDSResult
from aria.io.output import json_safe
from aria.params import Interval, MappingOf, validate_params

__all__ = ["DIAGNOSTIC_KEYS", "SHORT_NAMES", "MethodRow", "Agreement", "Comparison", "check_comparable",
           "compare_methods"]

#: Diagnostics used for ranking (attribute of Diagnostics -> label); lower = more reliable.
DIAGNOSTIC_KEYS = {
    "mean_abs_interquery_corr": "ρ̄ mean |inter-query corr|",
    "energy_ratio_1": "E1 leading energy ratio",
    "mean_concentration": "C̄ mean concentration",
}
#: Column names used in tables and JSON.
SHORT_NAMES = {
    "mean_abs_interquery_corr": "rho_bar",
    "energy_ratio_1": "E1",
    "mean_concentration": "C_bar",
}
_EXCLUDED_VERDICTS = ("collapsed", "undetermined")


@dataclass
class MethodRow:
    """One method in a :class:`Comparison`.

    Attributes
    ----------
    name : str
        Method name.
    diagnostics : Diagnostics
        Its reliability diagnostics.
    lds : float or None
        Its LDS (mean over queries), when known.
    lds_result : LDSResult or None
        Per-query LDS when Aria computed it.
    homogeneity : dict
        ``{channel: {"z_bar": .., "pos": .., "sig": ..}}`` (empty when not computed).
    excluded : bool
        Left out of the rankings (collapsed or undetermined).
    exclusion_reason : str or None
        Why, in one line.
    ranks : dict
        ``rho_bar``, ``E1``, ``C_bar``, ``reliability`` and ``lds`` ranks (None when excluded
        or undefined).
    source : str
        Input file, when known.
    reliability : dict or None
        :meth:`ReliabilityScore.to_dict` of the method's matrix, when computed.
    lds_ci : list or None
        ``[low, high]`` bootstrap interval of the LDS over queries
        (:func:`aria.evaluate.bootstrap.lds_bootstrap`), when computed.

    Examples
    --------
    >>> import aria
    >>> d = {"knn": aria.diagnose(aria.load_scores(aria.examples.path("bach-knn")))}
    >>> row = aria.compare_methods(d, lds={"knn": 0.4}).methods[0]
    >>> row.name, row.lds, row.excluded
    ('knn', 0.4, False)
    """

    name: str
    diagnostics: Diagnostics
    lds: float | None = None
    lds_result: LDSResult | None = None
    homogeneity: dict[str, dict[str, float]] = field(default_factory=dict)
    excluded: bool = False
    exclusion_reason: str | None = None
    ranks: dict[str, int | None] = field(default_factory=dict)
    source: str = ""
    lds_ci: list[float | None] | None = None
    reliability: dict | None = None

    @property
    def reliability_score(self) -> float:
        """The ground-truth-free reliability score (NaN when not computed or undefined)."""
        v = (self.reliability or {}).get("score")
        return math.nan if v is None else float(v)

    @property
    def verdict(self) -> str:
        """The method's verdict."""
        return self.diagnostics.verdict

    def diagnostics_value(self, key: str) -> float:
        """Value of one diagnostic attribute (e.g. ``"energy_ratio_1"``)."""
        return float(getattr(self.diagnostics, key))


@dataclass
class Agreement:
    """Does a diagnostic order the methods as LDS does.

    Attributes
    ----------
    diagnostic : str
        ``rho_bar``, ``E1``, ``C_bar`` or ``reliability_rank``.
    tau : float
        Kendall tau-b between the reliability implied by the diagnostic and LDS.
    pvalue : float
        Two-sided p-value of tau (exact for small samples without ties).
    n_methods : int
        Methods used.
    status : str
        ``"same order"`` (tau = 1), ``"partly"`` (0 < tau < 1), ``"does not"`` (tau <= 0),
        ``"undefined"``.
    ci_low, ci_high : float
        Bootstrap interval over methods (only for ``reliability_score``; NaN otherwise, and
        NaN with fewer than 4 methods).
    n_boot_defined : int or None
        Resamples with a defined tau behind that interval (``reliability_score`` only).
    level : float or None
        Coverage of that interval (``reliability_score`` only; ``confidence`` of
        :func:`compare_methods`).

    Examples
    --------
    >>> import aria
    >>> d = {name: aria.diagnose(aria.load_scores(aria.examples.path(name)))
    ...      for name in ("bach-knn", "bach-random", "bach-collapsed")}
    >>> c = aria.compare_methods(d, lds={"bach-knn": 0.4, "bach-random": 0.0, "bach-collapsed": 0.1})
    >>> a = c.agreement[0]
    >>> a.diagnostic, a.n_methods
    ('rho_bar', 2)
    """

    diagnostic: str
    tau: float
    pvalue: float
    n_methods: int
    status: str
    ci_low: float = math.nan
    ci_high: float = math.nan
    n_boot_defined: int | None = None
    level: float | None = None


@dataclass
class Comparison:
    """Result of :func:`compare_methods`.

    Examples
    --------
    >>> import aria
    >>> d = {name: aria.diagnose(aria.load_scores(aria.examples.path(name)))
    ...      for name in ("bach-knn", "bach-collapsed")}
    >>> c = aria.compare_methods(d)
    >>> [row.name for row in c.methods]
    ['bach-knn', 'bach-collapsed']
    """

    methods: list[MethodRow]
    agreement: list[Agreement]
    homogeneity_k: int | None = None
    channels: list[str] = field(default_factory=list)
    bootstrap: dict | None = None

    @property
    def ranked(self) -> list[MethodRow]:
        """Included methods, most reliable first."""
        inc = [m for m in self.methods if not m.excluded and m.ranks.get("reliability") is not None]
        return sorted(inc, key=lambda m: m.ranks["reliability"])

    @property
    def has_reliability_score(self) -> bool:
        """True when the reliability score was computed for at least one method."""
        return any(m.reliability is not None for m in self.methods)

    @property
    def ranked_by_reliability_score(self) -> list[MethodRow]:
        """Included methods with a defined reliability score, highest first."""
        inc = [m for m in self.methods if m.ranks.get("reliability_score") is not None]
        return sorted(inc, key=lambda m: m.ranks["reliability_score"])

    @property
    def has_lds(self) -> bool:
        """True when at least one method has an LDS value."""
        return any(m.lds is not None and math.isfinite(m.lds) for m in self.methods)

    def to_frame(self) -> pd.DataFrame:
        """One row per method: diagnostics, verdict, homogeneity, LDS, ranks, exclusion."""
        rows = []
        for m in self.methods:
            d = m.diagnostics
            row = {
                "method": m.name,
                "verdict": d.verdict,
                "rho_bar": d.mean_abs_interquery_corr,
                "E1": d.energy_ratio_1,
                "E2_5": d.energy_ratio_2_5,
                "U1": d.v1_uniformity,
                "C_bar": d.mean_concentration,
                "n_segments": d.n_segments,
                "n_queries": d.n_queries,
            }
            for ch in self.channels:
                h = m.homogeneity.get(ch, {})
                for stat in ("z_bar", "pos", "sig"):
                    row[f"{ch}_{stat}"] = h.get(stat, math.nan)
            if self.has_reliability_score:
                row["reliability_score"] = m.reliability_score
            if self.has_lds:
                row["lds"] = m.lds if m.lds is not None else math.nan
                if any(r.lds_ci is not None for r in self.methods):
                    lo, hi = m.lds_ci or (None, None)
                    row["lds_ci_low"] = math.nan if lo is None else lo
                    row["lds_ci_high"] = math.nan if hi is None else hi
            for key in ("reliability", "rho_bar", "E1", "C_bar", "reliability_score", "lds"):
                if (key == "lds" and not self.has_lds) or (
                        key == "reliability_score" and not self.has_reliability_score):
                    continue
                r = m.ranks.get(key)
                row[f"rank_{key}"] = pd.NA if r is None else r
            row["excluded"] = m.excluded
            row["note"] = m.exclusion_reason or "; ".join(d.notes)
            rows.append(row)
        frame = pd.DataFrame(rows)
        for col in [c for c in frame.columns if c.startswith("rank_")]:
            frame[col] = frame[col].astype("Int64")
        return frame

    def agreement_frame(self) -> pd.DataFrame:
        """Agreement of each diagnostic's ordering with LDS."""
        return pd.DataFrame([a.__dict__ for a in self.agreement],
                            columns=["diagnostic", "tau", "pvalue", "n_methods", "status", "ci_low",
                                     "ci_high", "n_boot_defined", "level"])

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN -> null)."""
        methods = []
        for m in self.methods:
            entry = {
                "method": m.name,
                "source": m.source,
                "verdict": m.verdict,
                "verdict_reason": m.diagnostics.verdict_reason,
                "excluded": m.excluded,
                "exclusion_reason": m.exclusion_reason,
                "notes": list(m.diagnostics.notes),
                "diagnostics": m.diagnostics.to_dict(),
                "ranks": dict(m.ranks),
                "lds": m.lds,
            }
            if m.lds_ci is not None:
                entry["lds_ci"] = list(m.lds_ci)
            if m.lds_result is not None:
                entry["lds_detail"] = m.lds_result.to_dict()
            if m.homogeneity:
                entry["homogeneity"] = {"k": self.homogeneity_k, "channels": m.homogeneity}
            if m.reliability is not None:
                entry["reliability_score"] = m.reliability.get("score")
                entry["reliability"] = m.reliability
            methods.append(entry)
        return json_safe({
            "methods": methods,
            "ranking": [m.name for m in self.ranked],
            **({"ranking_by_reliability_score": [m.name for m in self.ranked_by_reliability_score]}
               if self.has_reliability_score else {}),
            "excluded": {m.name: m.exclusion_reason for m in self.methods if m.excluded},
            "agreement_with_lds": [a.__dict__ for a in self.agreement],
            "homogeneity_k": self.homogeneity_k,
            "channels": list(self.channels),
            **({"bootstrap": dict(self.bootstrap)} if self.bootstrap else {}),
        })


def _reliability_dict(value: object) -> dict | None:
    if value is None:
        return None
    return dict(value) if isinstance(value, Mapping) else value.to_dict()


def _exclusion_reason(d: Diagnostics) -> str | None:
    if d.verdict == "collapsed":
        return (f"collapsed ({d.verdict_reason}): every query retrieves the same tracks, so its "
                "homogeneity describes one fixed group, not attribution")
    if d.verdict == "undetermined":
        return f"undetermined ({d.verdict_reason})"
    return None


def _verdict_class(d: Diagnostics) -> int:
    """0 query-dependent, 1 query-dependent with a partial offset, 2 offset-dominated."""
    if d.verdict == "offset-dominated":
        return 2
    return 1 if any(n.startswith("partial offset") for n in d.notes) else 0


def _min_ranks(values: np.ndarray, ascending: bool = True) -> list[int | None]:
    """Competition ranks (1 = best), NaN -> None."""
    vals = np.asarray(values, dtype=float)
    out: list[int | None] = [None] * vals.size
    ok = np.flatnonzero(np.isfinite(vals))
    if ok.size:
        key = vals[ok] if ascending else -vals[ok]
        ranks = stats.rankdata(key, method="min")
        for i, r in zip(ok, ranks, strict=True):
            out[i] = int(r)
    return out


def _status(tau: float) -> str:
    if not math.isfinite(tau):
        return "undefined"
    if tau >= 1 - 1e-12:
        return "same order"
    if tau > 0:
        return "partly"
    return "does not"


def check_comparable(diagnostics: Mapping[str, Diagnostics], *, query_subset: bool = False) -> None:
    """Refuse to rank matrices that do not score the same segments for the same queries.

    Every method must have the same number of training segments and the same set of query ids
    (in any order). Ranking a matrix against, e.g., its own transpose compares diagnostics of
    different things. With ``query_subset`` the query sets may differ when each one is a subset
    of the largest (a method scored on fewer queries); the segment counts must still agree.

    Parameters
    ----------
    diagnostics : mapping
        Method name -> :class:`~aria.diagnostics.reliability.Diagnostics`.
    query_subset : bool
        Allow query sets that are subsets of the largest one.

    Raises
    ------
    AriaInputError
        One line naming the first method that differs from the first one.

    Examples
    --------
    >>> import numpy as np, aria
    >>> rng = np.random.default_rng(0)
    >>> a = aria.diagnose(aria.scores_from_array(rng.normal(size=(60, 8))))
    >>> b = aria.diagnose(aria.scores_from_array(rng.normal(size=(60, 5))))
    >>> check_comparable({"a": a, "b": a})
    >>> try:
    ...     check_comparable({"a": a, "b": b})
    ... except aria.AriaInputError as e:
    ...     print(str(e)[:40])
    cannot compare 'b' with 'a': different q
    >>> check_comparable({"a": a, "b": b}, query_subset=True)
    """
    from aria.errors import AriaInputError

    items = list(diagnostics.items())
    if len(items) < 2:
        return
    first, d0 = items[0]
    for name, d in items[1:]:
        if d.n_segments != d0.n_segments:
            raise AriaInputError(
                f"cannot compare {name!r} with {first!r}: different segment counts "
                f"({d.n_segments} vs {d0.n_segments}); every matrix must score the same training "
                "segments (is one of them transposed?)")
    sets = {name: {str(q) for q in np.asarray(d.query_ids).tolist()} for name, d in items}
    largest = max(sets, key=lambda n: len(sets[n]))
    for name, s in sets.items():
        same = s == sets[first]
        if same or (query_subset and s <= sets[largest]):
            continue
        only = sorted(s - sets[first]) or sorted(sets[first] - s)
        hint = ("; pass query_subset=True to compare methods scored on a subset "
                "of the queries" if not query_subset else " and is not a subset of "
                f"{largest!r}'s queries")
        raise AriaInputError(
            f"cannot compare {name!r} with {first!r}: different query ids ({len(s)} vs "
            f"{len(sets[first])} queries, e.g. {only[0]!r} is not in both){hint}")


@validate_params({"diagnostics": MappingOf(Diagnostics, min_len=1),
                  "lds": [None, MappingOf([None, "real", LDSResult])], "homogeneity": [None, MappingOf()],
                  "homogeneity_k": [None, Interval(int, 2, None)], "sources": [None, MappingOf()],
                  "reliability": [None, MappingOf()], "tau_bootstrap": Interval(int, 1, None),
                  "tau_bootstrap_seed": "seed", "confidence": Interval(float, 0, 1, closed="neither")})
def compare_methods(
    diagnostics: Mapping[str, Diagnostics],
    *,
    lds: Mapping[str, float | LDSResult | None] | None = None,
    homogeneity: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    homogeneity_k: int | None = None,
    sources: Mapping[str, str] | None = None,
    reliability: Mapping[str, object] | None = None,
    tau_bootstrap: int = 2000,
    tau_bootstrap_seed: int = 0,
    confidence: float = 0.95,
) -> Comparison:
    """Compare methods by their diagnostics, homogeneity and LDS.

    Parameters
    ----------
    diagnostics : mapping
        Method name -> :class:`~aria.diagnostics.reliability.Diagnostics`, in display order.
    lds : mapping, optional
        Method name -> LDS value or :class:`~aria.evaluate.lds.LDSResult` (missing or None =
        unknown).
    homogeneity : mapping, optional
        Method name -> ``{channel: {"z_bar", "pos", "sig"}}`` summaries (e.g. from
        :func:`aria.groups.setup.homogeneity_summary`).
    homogeneity_k : int, optional
        Group size the homogeneity summaries are for.
    sources : mapping, optional
        Method name -> input path, recorded in the JSON.
    reliability : mapping, optional
        Method name -> :class:`~aria.diagnostics.reliability_score.ReliabilityScore` (or its
        ``to_dict()``): adds the ``reliability_score`` rank (higher score = rank 1, among the
        included methods) and, with LDS, its Kendall tau with a bootstrap interval over methods.
    tau_bootstrap, tau_bootstrap_seed : int
        Resamples of the methods and their seed, for that interval
        (:func:`~aria.diagnostics.reliability_score.kendall_tau_bootstrap`).
    confidence : float
        Coverage of that interval (``aria compare --confidence``, default 0.95).

    Returns
    -------
    Comparison

    Notes
    -----
    The diagnostics are ranked as given; :func:`check_comparable` (which ``aria compare`` and
    :func:`~aria.evaluate.pipeline.compare_files` apply) refuses matrices that do not score the
    same segments for the same queries.

    Examples
    --------
    >>> import aria
    >>> d = {name: aria.diagnose(aria.load_scores(aria.examples.path(name)))
    ...      for name in ("bach-knn", "bach-collapsed")}
    >>> c = aria.compare_methods(d, lds={"bach-knn": 0.4, "bach-collapsed": 0.1})
    >>> [(row.name, row.verdict) for row in c.methods]
    [('bach-knn', 'query-dependent'), ('bach-collapsed', 'collapsed')]
    """
    lds = dict(lds or {})
    unknown = set(lds) - set(diagnostics)
    if unknown:
        from aria.errors import AriaInputError

        raise AriaInputError(
            f"LDS given for unknown method(s): {', '.join(sorted(unknown))} "
            f"(methods: {', '.join(diagnostics)})"
        )
    unknown = set(reliability or {}) - set(diagnostics)
    if unknown:
        from aria.errors import AriaInputError

        raise AriaInputError(f"reliability given for unknown method(s): {', '.join(sorted(unknown))}",
                             parameter="reliability")
    homogeneity = homogeneity or {}
    rows: list[MethodRow] = []
    for name, d in diagnostics.items():
        value = lds.get(name)
        result = value if isinstance(value, LDSResult) else None
        mean = result.mean if result is not None else (None if value is None else float(value))
        reason = _exclusion_reason(d)
        rows.append(MethodRow(
            name=name, diagnostics=d, lds=mean, lds_result=result,
            homogeneity={c: dict(v) for c, v in (homogeneity.get(name) or {}).items()},
            excluded=reason is not None, exclusion_reason=reason,
            source=(sources or {}).get(name, ""),
            reliability=_reliability_dict((reliability or {}).get(name)),
        ))
    channels: list[str] = []
    for r in rows:
        for c in r.homogeneity:
            if c not in channels:
                channels.append(c)

    included = [i for i, r in enumerate(rows) if not r.excluded]
    for r in rows:
        r.ranks = {"reliability": None, "rho_bar": None, "E1": None, "C_bar": None, "lds": None}
        if reliability:
            r.ranks["reliability_score"] = None
    diag_ranks: dict[str, list[int | None]] = {}
    for key, short in SHORT_NAMES.items():
        vals = np.array([rows[i].diagnostics_value(key) for i in included], dtype=float)
        diag_ranks[short] = _min_ranks(vals)
        for i, rk in zip(included, diag_ranks[short], strict=True):
            rows[i].ranks[short] = rk
    # combined reliability rank: verdict class, then rho_bar, then E1, then input order
    keyed = []
    for pos, i in enumerate(included):
        d = rows[i].diagnostics
        rho, e1 = d.mean_abs_interquery_corr, d.energy_ratio_1
        keyed.append((_verdict_class(d), rho if math.isfinite(rho) else math.inf,
                      e1 if math.isfinite(e1) else math.inf, pos, i))
    for rank, (*_, i) in enumerate(sorted(keyed), start=1):
        rows[i].ranks["reliability"] = rank
    if reliability:
        rel_vals = np.array([rows[i].reliability_score for i in included], dtype=float)
        for i, rk in zip(included, _min_ranks(rel_vals, ascending=False), strict=True):
            rows[i].ranks["reliability_score"] = rk
    lds_vals = np.array([rows[i].lds if rows[i].lds is not None else math.nan for i in included],
                        dtype=float)
    for i, rk in zip(included, _min_ranks(lds_vals, ascending=False), strict=True):
        rows[i].ranks["lds"] = rk

    agreement: list[Agreement] = []
    if any(r.lds is not None and math.isfinite(r.lds) for r in rows):
        for key, short in (*SHORT_NAMES.items(), ("reliability", "reliability_rank")):
            xs, ys = [], []
            for i in included:
                y = rows[i].lds
                x = (rows[i].ranks["reliability"] if key == "reliability"
                     else rows[i].diagnostics_value(key))
                if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
                    continue
                xs.append(-float(x))
                ys.append(float(y))
            if len(xs) >= 2:
                res = stats.kendalltau(xs, ys)
                tau, p = float(res.statistic), float(res.pvalue)
            else:
                tau = p = math.nan
            agreement.append(Agreement(short, tau, p, len(xs), _status(tau)))
        if reliability:
            from aria.diagnostics.reliability_score import kendall_tau_bootstrap

            kt = kendall_tau_bootstrap([rows[i].reliability_score for i in included],
                                       [math.nan if rows[i].lds is None else rows[i].lds for i in included],
                                       n_boot=tau_bootstrap, seed=tau_bootstrap_seed, level=confidence)
            agreement.append(Agreement("reliability_score", kt["tau"], kt["pvalue"], kt["n_methods"],
                                       _status(kt["tau"]),
                                       kt["ci_low"], kt["ci_high"], kt["n_boot_defined"], kt["level"]))
    return Comparison(methods=rows, agreement=agreement, homogeneity_k=homogeneity_k, channels=channels)
