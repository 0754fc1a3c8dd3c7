"""Reliability diagnostics of a score matrix (spec section 1).

All four diagnostics (mean absolute inter-query correlation, singular-value
energy ratios with v1 uniformity, mean concentration ratio, rank-1 axis) are
functions of three statistics of the raw matrix ``S`` (N x Q): the row count,
the column means and the centred co-moment matrix. :func:`gram_stats` gets
them in one streaming pass over fixed-size row blocks, merging block
statistics with Chan et al.'s pairwise update in float64, so a large common
offset does not cancel catastrophically and the result is bit-identical for
any I/O chunk size. :func:`diagnose` turns them into a :class:`Diagnostics`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Unpack

import numpy as np
import pandas as pd
import xarray as xr

from aria.diagnostics.bootstrap import BOOTSTRAP_PARAMS, DiagnosticsBootstrap, bootstrap_diagnostics
from aria.diagnostics.stats import GramStats, gram_stats
from aria.diagnostics.verdict import _EXPLAIN, VerdictThresholds, classify
from aria.io.output import finite_or_none
from aria.io.streaming import DEFAULT_BLOCK_ROWS, Streaming
from aria.io.validate import QUERY, validate_scores
from aria.params import STREAMING, Interval, validate_params

__all__ = [
    "GramStats",
    "VerdictThresholds",
    "Diagnostics",
    "gram_stats",
    "diagnose",
    "diagnose_stats",
    "classify",
]


@dataclass
class Diagnostics:
    """Reliability diagnostics of one score matrix.

    Attributes mirror the spec's symbols; undefined quantities are NaN and
    explained in ``undefined``. ``to_dict``/``to_json`` give the stable JSON
    contract of spec section 9 (NaN becomes ``null``).

    Examples
    --------
    >>> import aria
    >>> d = aria.diagnose(aria.load_scores(aria.examples.path("collapsed")))
    >>> d.n_segments, d.n_queries, d.verdict
    (1000, 40, 'collapsed')
    >>> round(d.energy_ratio_1, 2)
    1.0
    """

    n_segments: int
    n_queries: int
    query_ids: np.ndarray
    mean_abs_interquery_corr: float
    n_correlation_pairs: int
    energy_spectrum: np.ndarray
    energy_ratio_1: float
    energy_ratio_2_5: float
    v1_uniformity: float
    sigma_1: float
    v1: np.ndarray
    frobenius_norm_sq: float
    concentration: np.ndarray
    mean_concentration: float
    column_mean: np.ndarray
    column_std: np.ndarray
    excluded_correlation: list[str]
    excluded_concentration: list[str]
    verdict: str
    verdict_reason: str
    notes: list[str]
    thresholds: VerdictThresholds
    undefined: dict[str, str] = field(default_factory=dict)
    correlation: np.ndarray | None = field(default=None, repr=False)
    parameters: dict = field(default_factory=dict)
    bootstrap: DiagnosticsBootstrap | None = field(default=None, repr=False)

    @property
    def explanation(self) -> str:
        """One-line plain-language meaning of the verdict."""
        text = _EXPLAIN[self.verdict]
        if self.notes:
            text += "; " + "; ".join(self.notes)
        return text

    @property
    def excluded_columns(self) -> list[str]:
        """Query ids left out of at least one statistic (zero-variance or all-zero columns)."""
        seen = dict.fromkeys(self.excluded_correlation + self.excluded_concentration)
        return list(seen)

    @property
    def is_collapsed(self) -> bool:
        """True when the verdict is ``collapsed``."""
        return self.verdict == "collapsed"

    def interquery_correlations(self) -> np.ndarray:
        """The ``|R|``-eligible pairwise correlations ``R[q, q']``, ``q < q'``, as a flat array."""
        if self.correlation is None or self.correlation.shape[0] < 2:
            return np.empty(0)
        iu = np.triu_indices(self.correlation.shape[0], 1)
        return self.correlation[iu]

    def to_dict(self) -> dict:
        """JSON-ready dict with the spec's section 9 keys (and more); NaN -> None."""
        d = {
            "n_segments": self.n_segments,
            "n_queries": self.n_queries,
            "mean_abs_interquery_corr": finite_or_none(self.mean_abs_interquery_corr),
            "energy_ratio_1": finite_or_none(self.energy_ratio_1),
            "energy_ratio_2_5": finite_or_none(self.energy_ratio_2_5),
            "energy_spectrum": [finite_or_none(x) for x in self.energy_spectrum],
            "v1_uniformity": finite_or_none(self.v1_uniformity),
            "mean_concentration": finite_or_none(self.mean_concentration),
            "excluded_columns": self.excluded_columns,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "explanation": self.explanation,
            "notes": list(self.notes),
            "n_correlation_pairs": self.n_correlation_pairs,
            "excluded_columns_detail": {
                "correlation_zero_variance": list(self.excluded_correlation),
                "concentration_all_zero": list(self.excluded_concentration),
            },
            "sigma_1": finite_or_none(self.sigma_1),
            "frobenius_norm_sq": finite_or_none(self.frobenius_norm_sq),
            "undefined": dict(self.undefined),
            "thresholds": asdict(self.thresholds),
            "parameters": dict(self.parameters),
        }
        if self.bootstrap is not None:  # <key>_ci: [low, high] and a "bootstrap" record
            d.update(self.bootstrap.to_dict())
        return d

    def to_json(self, indent: int | None = 2) -> str:
        """Serialize :meth:`to_dict` as strict JSON (no NaN/Infinity tokens)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_frame(self) -> pd.DataFrame:
        """Per-query table: mean, std, concentration, v1 loading, exclusions."""
        excl_c = set(self.excluded_correlation)
        excl_k = set(self.excluded_concentration)
        return pd.DataFrame(
            {
                "query": self.query_ids,
                "mean": self.column_mean,
                "std": self.column_std,
                "concentration": self.concentration,
                "v1": self.v1,
                "excluded_from_correlation": [q in excl_c for q in self.query_ids],
                "excluded_from_concentration": [q in excl_k for q in self.query_ids],
            }
        )


@validate_params({"scores": "scores", "thresholds": [None, VerdictThresholds],
                  "spectrum_length": Interval(int, 1, None), **STREAMING, **BOOTSTRAP_PARAMS})
def diagnose(
    scores: xr.DataArray,
    *,
    thresholds: VerdictThresholds | None = None,
    spectrum_length: int = 20,
    bootstrap: int = 0,
    bootstrap_seed: int = 0,
    confidence: float = 0.95,
    scheduler: str | None = None,
    client: object = None,
    **streaming: Unpack[Streaming],
) -> Diagnostics:
    """Compute the reliability diagnostics of a score matrix in one streaming pass.

    Parameters
    ----------
    scores : xarray.DataArray
        Training segments x queries, as returned by :func:`aria.load_scores`
        (or :func:`aria.scores_from_array`).
    thresholds : VerdictThresholds, optional
        Verdict thresholds; the spec's defaults when omitted.
    spectrum_length : int
        Number of leading energy ratios ``E_k`` to report (at least 10
        recommended; capped at ``min(N, Q)``).
    bootstrap : int
        Bootstrap replicates over queries (0 = none). With ``B > 0``, ``result.bootstrap`` holds
        percentile intervals of rho_bar, C_bar and E1, computed from the Gram statistics without
        a second pass (:func:`aria.diagnostics.bootstrap.bootstrap_diagnostics`), and
        ``to_dict()`` gains ``<key>_ci: [low, high]`` keys.
    bootstrap_seed : int
        Seed of the bootstrap's ``numpy.random.default_rng`` (an integer >= 0: recorded in
        ``parameters``).
    confidence : float
        Coverage of the bootstrap intervals.
    scheduler : str, optional
        Run on a dask cluster: ``"local"``, ``"local:N"`` (N worker processes, started and
        stopped here) or a scheduler address ``"HOST:PORT"`` (see :mod:`aria.scale`). The result
        equals the single-process one to about 1e-15 relative, for any number of workers.
    client : distributed.Client, optional
        An existing dask client instead of ``scheduler``.
    **streaming
        ``block_rows``, ``chunk_rows``, ``progress``: see :class:`aria.io.streaming.Streaming`.

    Returns
    -------
    Diagnostics
        With ``verdict``, ``to_dict()``, ``to_json()`` and ``to_frame()``.

    Examples
    --------
    >>> import aria
    >>> import numpy as np, aria
    >>> s = aria.scores_from_array(np.random.default_rng(0).normal(size=(500, 20)))
    >>> aria.diagnose(s).verdict
    'query-dependent'
    """
    validate_scores(scores)
    block_rows = streaming.get("block_rows", DEFAULT_BLOCK_ROWS)
    if scheduler is not None or client is not None:
        from aria.scale.cluster import connect
        from aria.scale.diagnose import gram_stats_cluster

        with connect(scheduler, client) as c:
            stats = gram_stats_cluster(scores, c, block_rows=block_rows, progress=streaming.get("progress"))
    else:
        stats = gram_stats(scores, **streaming)
    qids = np.asarray(scores.coords[QUERY].values).astype(str)
    result = diagnose_stats(stats, qids, thresholds=thresholds, spectrum_length=spectrum_length)
    result.parameters.update(block_rows=block_rows)
    if stats.scale_exponent:
        result.parameters.update(scale_exponent=stats.scale_exponent)
    if bootstrap:
        result.bootstrap = bootstrap_diagnostics(stats, result, replicates=bootstrap, seed=bootstrap_seed,
                                                 confidence=confidence)
        result.parameters.update(bootstrap=bootstrap, bootstrap_seed=bootstrap_seed, confidence=confidence)
    return result


@validate_params({"stats": GramStats, "thresholds": [None, VerdictThresholds],
                  "spectrum_length": Interval(int, 1, None)})
def diagnose_stats(
    stats: GramStats,
    query_ids: np.ndarray,
    *,
    thresholds: VerdictThresholds | None = None,
    spectrum_length: int = 20,
) -> Diagnostics:
    """Diagnostics from precomputed :class:`GramStats` (no pass over the data).

    Parameters
    ----------
    stats : GramStats
        Output of :func:`gram_stats`.
    query_ids : numpy.ndarray
        Q query labels.
    thresholds : VerdictThresholds, optional
        Verdict thresholds.
    spectrum_length : int
        Number of leading energy ratios to report.

    Returns
    -------
    Diagnostics
        The same as :func:`diagnose` gives on the matrix the statistics came from.

    Examples
    --------
    >>> import aria
    >>> from aria.diagnostics.reliability import diagnose_stats
    >>> from aria.diagnostics.stats import gram_stats
    >>> s = aria.load_scores(aria.examples.path("query-dependent"))
    >>> d = diagnose_stats(gram_stats(s), s["query"].values)
    >>> d.verdict, d.verdict == aria.diagnose(s).verdict
    ('query-dependent', True)
    """
    thresholds = thresholds or VerdictThresholds()
    n, q = stats.n, stats.mean.shape[0]
    qids = np.asarray(query_ids).astype(str)
    undefined: dict[str, str] = {}
    m = stats.mean
    var_sum = np.clip(np.diag(stats.comoment).copy(), 0.0, None)
    std = np.sqrt(var_sum / n)
    # A constant column's centred co-moment is exactly 0 or a few ulps of its mean.
    tol = n * (64 * np.finfo(np.float64).eps * np.abs(m)) ** 2
    usable = var_sum > tol
    excluded_corr = [str(x) for x in qids[~usable]]

    # 1. mean absolute inter-query correlation
    k = int(usable.sum())
    correlation = None
    if k >= 2:
        sub = stats.comoment[np.ix_(usable, usable)]
        d = np.sqrt(np.diag(sub))
        correlation = np.clip(sub / d[:, None] / d[None, :], -1.0, 1.0)
        np.fill_diagonal(correlation, 1.0)
        abs_sum = np.abs(correlation).sum() - k
        rho_bar = float(abs_sum / (k * (k - 1)))
    else:
        rho_bar = math.nan
        undefined["mean_abs_interquery_corr"] = (
            f"needs at least 2 columns with non-zero variance, found {k} "
            f"({q - k} of {q} excluded as constant)"
        )
    n_pairs = k * (k - 1) // 2

    # 2. energy ratios from the Gram matrix's eigenvalues
    gram = stats.gram()
    sumsq = np.clip(np.diag(gram).copy(), 0.0, None)
    total = float(sumsq.sum())
    if total > 0:
        evals, evecs = np.linalg.eigh(gram)
        evals = np.clip(evals[::-1], 0.0, None)
        evecs = evecs[:, ::-1]
        rank_cap = min(n, q)
        energies = evals[:rank_cap] / total
        spectrum = energies[: min(spectrum_length, rank_cap)]
        e1 = float(energies[0])
        e25 = float(energies[1:5].sum())
        v1 = evecs[:, 0].copy()
        s = v1.sum()
        if s < 0 or (s == 0 and v1[np.flatnonzero(v1)[0]] < 0):
            v1 = -v1
        v1_unif = float(v1.sum() ** 2 / q)
        sigma1 = float(math.sqrt(evals[0]))
    else:
        spectrum = np.full(min(spectrum_length, min(n, q)), np.nan)
        e1 = e25 = v1_unif = math.nan
        sigma1 = 0.0
        v1 = np.full(q, np.nan)
        undefined["energy_ratio_1"] = "the matrix is all zeros (||S||_F = 0)"

    # statistics of 2**-e S (see gram_stats): the ratios above are scale-free; quantities with
    # units go back to the matrix's own, undefined where they leave the float64 range
    e = stats.scale_exponent
    if e:
        m, std = np.ldexp(m, e), np.ldexp(std, e)
        tiny = np.finfo(np.float64).tiny
        with np.errstate(over="ignore", under="ignore"):
            scaled = {"sigma_1": (sigma1, e), "frobenius_norm_sq": (total, 2 * e)}
            sigma1, total = (float(np.ldexp(v, p)) for v, p in scaled.values())
        for (name, (v, p)), value in zip(scaled.items(), (sigma1, total), strict=True):
            if v > 0 and not tiny <= value < math.inf:
                undefined[name] = f"{v!r} x 2^{p} is outside the float64 range"
        if "frobenius_norm_sq" in undefined:
            total = math.nan

    # 3. concentration ratio per query
    nonzero = sumsq > 0
    conc = np.full(q, np.nan)
    sums = stats.column_sums
    conc[nonzero] = sums[nonzero] ** 2 / (n * sumsq[nonzero])
    conc = np.clip(conc, 0.0, 1.0)
    excluded_conc = [str(x) for x in qids[~nonzero]]
    if nonzero.any():
        c_bar = float(np.mean(conc[nonzero]))
    else:
        c_bar = math.nan
        undefined["mean_concentration"] = "every column is all zeros"

    if q < 2:
        verdict, reason, notes = (
            "undetermined",
            "a single query: inter-query correlation is undefined and E1 = 1 trivially",
            [],
        )
    else:
        verdict, reason, notes = classify(rho_bar, e1, c_bar, thresholds)
    if excluded_corr:
        notes.append(f"{len(excluded_corr)} constant column(s) excluded from the correlation")
    if excluded_conc:
        notes.append(f"{len(excluded_conc)} all-zero column(s) excluded from the concentration")
    return Diagnostics(
        n_segments=n, n_queries=q, query_ids=qids,
        # the statistics as computed above: correlation, energy spectrum, concentration
        mean_abs_interquery_corr=rho_bar, n_correlation_pairs=n_pairs, correlation=correlation,
        energy_spectrum=np.asarray(spectrum, dtype=np.float64), energy_ratio_1=e1, energy_ratio_2_5=e25,
        v1_uniformity=v1_unif, sigma_1=sigma1, v1=v1, frobenius_norm_sq=total,
        concentration=conc, mean_concentration=c_bar, column_mean=m.copy(), column_std=std,
        excluded_correlation=excluded_corr, excluded_concentration=excluded_conc,
        verdict=verdict, verdict_reason=reason, notes=notes, thresholds=thresholds,
        undefined=undefined, parameters={"spectrum_length": spectrum_length},
    )
