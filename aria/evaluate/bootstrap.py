"""Bootstrap over queries for the per-query summaries: homogeneity (z_bar, Pos, Sig) and LDS.

Both summaries are means over queries of per-query values, so a replicate only needs the
resampling counts ``c`` (replicate ``b`` = the ``b``-th call ``rng.integers(0, Q, size=Q)`` of
``numpy.random.default_rng(seed)``, as for the diagnostics, :mod:`aria.diagnostics.bootstrap`):

- homogeneity, per matrix (scores, residual), channel and K: with ``d_q`` = 1 when query ``q``
  is included and its ``z_c(q)`` defined, ``z_bar* = sum c_q d_q z_q / sum c_q d_q``,
  ``Pos* = sum c_q d_q [z_q > 0] / sum c_q d_q``, ``Sig*`` likewise with ``z_q > 1.645``. Every
  channel and K of one replicate uses the same resampled queries.
- LDS: ``LDS* = sum c_q d_q rho_q / sum c_q d_q`` over the queries whose Spearman ``rho_q`` is
  defined. With one seed for several methods scored on the same queries, every method sees the
  same resampled queries (a paired bootstrap).

Intervals are percentile intervals (:func:`aria.diagnostics.bootstrap.percentile_interval`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from aria.diagnostics.bootstrap import bootstrap_counts, percentile_interval
from aria.groups.result import SIG_THRESHOLD
from aria.io.output import finite_or_none
from aria.params import Interval, validate_params

__all__ = ["HomogeneityBootstrap", "homogeneity_bootstrap", "lds_bootstrap", "mean_bootstrap",
           "add_lds_intervals"]

_STATS = ("z_mean", "pos", "sig")


@validate_params({"replicates": Interval(int, 1, None), "rng": np.random.Generator,
                  "batch": Interval(int, 1, None)})
def mean_bootstrap(values: np.ndarray, weights: np.ndarray, replicates: int, rng: np.random.Generator,
                   batch: int = 256) -> np.ndarray:
    """Replicates of weighted means ``sum c_q w_q x_q / sum c_q w_q`` for several series at once.

    Parameters
    ----------
    values : numpy.ndarray
        (Q, m) per-query values of ``m`` series (undefined entries must have weight 0).
    weights : numpy.ndarray
        (Q, m) 0/1 weights ``d_q`` (1 = the value counts in the mean).
    replicates : int
        Number of replicates ``B``.
    rng : numpy.random.Generator
        Generator (replicate ``b`` = its ``b``-th ``integers(0, Q, size=Q)`` call).
    batch : int
        Replicates per batch.

    Returns
    -------
    numpy.ndarray
        (B, m) replicate means (NaN when a replicate drew no defined value).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.evaluate.bootstrap import mean_bootstrap
    >>> values = np.array([[1.0, 5.0], [2.0, 0.0], [3.0, 7.0]])
    >>> weights = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # 0.0 in column 2 is undefined
    >>> reps = mean_bootstrap(values, weights, 100, np.random.default_rng(0))
    >>> reps.shape, bool(((reps[:, 0] >= 1) & (reps[:, 0] <= 3)).all())
    ((100, 2), True)
    >>> col = reps[:, 1]  # means of the defined values 5 and 7 only; NaN when neither was drawn
    >>> bool(np.nanmin(col) >= 5.0 and np.nanmax(col) <= 7.0), bool(np.isnan(col).any())
    (True, True)
    """
    x = np.where(weights > 0, values, 0.0)
    out = np.empty((replicates, values.shape[1]))
    pos = 0
    for counts in bootstrap_counts(rng, values.shape[0], replicates, batch=batch):
        num = counts @ (weights * x)
        den = counts @ weights
        with np.errstate(divide="ignore", invalid="ignore"):
            out[pos:pos + counts.shape[0]] = np.where(den > 0, num / den, np.nan)
        pos += counts.shape[0]
    return out


@dataclass
class HomogeneityBootstrap:
    """Percentile intervals of z_bar, Pos and Sig per matrix, channel and K.

    Attributes
    ----------
    replicates : int
        Number of replicates.
    seed : int or None
        Seed of ``numpy.random.default_rng`` (None when a generator was passed in).
    confidence : float
        Coverage.
    intervals : dict
        ``{matrix: {channel: {K (str): {"z_mean_ci": [lo, hi], "pos_ci": .., "sig_ci": ..}}}}``.

    Examples
    --------
    >>> from aria.evaluate.bootstrap import HomogeneityBootstrap
    >>> boot = HomogeneityBootstrap(200, 0, 0.95, {"scores": {"harmony": {"5": {
    ...     "z_mean_ci": [0.5, 1.5], "pos_ci": [0.6, 0.9], "sig_ci": [0.1, 0.4]}}}})
    >>> boot.interval("harmony", 5, "pos")
    (0.6, 0.9)
    >>> boot.to_frame().shape
    (3, 6)
    """

    replicates: int
    seed: int | None
    confidence: float
    intervals: dict = field(default_factory=dict)

    def interval(self, channel: str, k: int, stat: str = "z_mean",
                 matrix: str = "scores") -> tuple[float, float]:
        """``(low, high)`` of one summary (``stat`` in ``z_mean``, ``pos``, ``sig``)."""
        lo, hi = self.intervals[matrix][channel][str(k)][f"{stat}_ci"]
        return (math.nan if lo is None else lo, math.nan if hi is None else hi)

    def record(self) -> dict:
        """What was resampled, how, and with which seed (for JSON and provenance)."""
        return {"replicates": self.replicates, "seed": self.seed, "confidence": self.confidence,
                "method": "percentile",
                "resampled": "queries (their per-query z values), with replacement; the null is fixed"}

    def to_frame(self):
        """Long table ``matrix, channel, k, stat, low, high`` of every interval."""
        import pandas as pd

        rows = [{"matrix": m, "channel": ch, "k": int(k), "stat": key[:-3], "low": lo, "high": hi}
                for m, per_ch in self.intervals.items() for ch, per_k in per_ch.items()
                for k, cis in per_k.items() for key, (lo, hi) in cis.items()]
        return pd.DataFrame(rows, columns=["matrix", "channel", "k", "stat", "low", "high"])

    def add_to(self, summary: dict) -> dict:
        """Insert ``z_mean_ci``, ``pos_ci``, ``sig_ci`` into a ``HomogeneityResult.to_dict()``.

        Parameters
        ----------
        summary : dict
            Modified in place: ``summary["homogeneity"][channel][K]`` (and the same under
            ``summary["residual"]``) gain the interval keys; ``summary["bootstrap"]`` the record.

        Returns
        -------
        dict
            ``summary``.
        """
        for matrix, target in (("scores", summary.get("homogeneity")),
                               ("residual", (summary.get("residual") or {}).get("homogeneity"))):
            if target is None or matrix not in self.intervals:
                continue
            for ch, per_k in self.intervals[matrix].items():
                for k, cis in per_k.items():
                    if ch in target and k in target[ch]:
                        target[ch][k].update(cis)
        summary["bootstrap"] = self.record()
        return summary


@validate_params({"replicates": Interval(int, 1, None), "seed": [None, "seed"],
                  "confidence": Interval(float, 0, 1, closed="neither"), "rng": [None, np.random.Generator]})
def homogeneity_bootstrap(result, *, replicates: int = 1000, seed: int | None = 0,
                          confidence: float = 0.95,
                          rng: np.random.Generator | None = None) -> HomogeneityBootstrap:
    """Bootstrap the homogeneity summaries over queries.

    Parameters
    ----------
    result : aria.HomogeneityResult
        Output of :func:`aria.homogeneity`.
    replicates : int
        Number of replicates.
    seed : int or None
        Seed of ``numpy.random.default_rng``.
    confidence : float
        Coverage of the percentile intervals.
    rng : numpy.random.Generator, optional
        Draw from this generator instead.

    Returns
    -------
    HomogeneityBootstrap

    Examples
    --------
    >>> import aria
    >>> scores = aria.load_scores(aria.examples.path("bach-knn"))
    >>> res = aria.homogeneity(scores, aria.examples.features_path(), "symbolic", k=[5], null_groups=200)
    >>> boot = homogeneity_bootstrap(res, replicates=200, seed=1)
    >>> low, high = boot.interval("harmony", 5)
    >>> bool(low <= high)
    True
    """
    gen = rng if rng is not None else np.random.default_rng(seed)
    mats = [m for m in (result.scores, result.residual) if m is not None]
    cols, vals, wts = [], [], []
    for m in mats:
        for ki, k in enumerate(m.k_values):
            for ci, ch in enumerate(m.channels):
                z = np.asarray(m.z_channel[ki, :, ci], dtype=np.float64)
                d = (m.included & np.isfinite(z)).astype(np.float64)
                zz = np.where(d > 0, z, 0.0)
                series = (zz, (zz > 0).astype(float), (zz > SIG_THRESHOLD).astype(float))
                for stat, v in zip(_STATS, series, strict=True):
                    cols.append((m.matrix, ch, str(k), stat))
                    vals.append(v)
                    wts.append(d)
    reps = mean_bootstrap(np.stack(vals, axis=1), np.stack(wts, axis=1), replicates, gen) \
        if cols else np.empty((replicates, 0))
    intervals: dict = {}
    for j, (matrix, ch, k, stat) in enumerate(cols):
        lo, hi = percentile_interval(reps[:, j], confidence)
        cell = intervals.setdefault(matrix, {}).setdefault(ch, {}).setdefault(k, {})
        cell[f"{stat}_ci"] = [finite_or_none(lo), finite_or_none(hi)]
    return HomogeneityBootstrap(replicates, seed if rng is None else None, confidence, intervals)


@validate_params({"replicates": Interval(int, 1, None), "seed": [None, "seed"],
                  "confidence": Interval(float, 0, 1, closed="neither"), "rng": [None, np.random.Generator]})
def lds_bootstrap(lds_result, *, replicates: int = 1000, seed: int | None = 0, confidence: float = 0.95,
                  rng: np.random.Generator | None = None) -> dict:
    """Percentile interval of a method's LDS, resampling its evaluated queries.

    Parameters
    ----------
    lds_result : aria.evaluate.lds.LDSResult or array-like
        The per-query Spearman values (``per_query``; NaN = undefined query).
    replicates : int
        Number of replicates.
    seed : int or None
        Seed of ``numpy.random.default_rng``.
    confidence : float
        Coverage.
    rng : numpy.random.Generator, optional
        Draw from this generator instead.

    Returns
    -------
    dict
        ``lds``, ``lds_ci`` ([low, high]), ``replicates``, ``seed``, ``confidence``, ``resampled``.

    Examples
    --------
    >>> r = lds_bootstrap([0.2, 0.4, 0.6, float("nan")], replicates=500, seed=0)
    >>> round(r["lds"], 6), r["lds_ci"][0] >= 0.2, r["lds_ci"][1] <= 0.6
    (0.4, True, True)
    """
    per_query = np.asarray(getattr(lds_result, "per_query", lds_result), dtype=np.float64).ravel()
    d = np.isfinite(per_query).astype(np.float64)
    gen = rng if rng is not None else np.random.default_rng(seed)
    reps = mean_bootstrap(per_query[:, None], d[:, None], replicates, gen)[:, 0]
    lo, hi = percentile_interval(reps, confidence)
    mean = float(per_query[d > 0].mean()) if d.any() else math.nan
    return {"lds": finite_or_none(mean), "lds_ci": [finite_or_none(lo), finite_or_none(hi)],
            "replicates": replicates,
            "seed": seed if rng is None else None, "confidence": confidence,
            "resampled": "evaluated queries (their Spearman values), with replacement"}


@validate_params({"replicates": Interval(int, 1, None), "seed": "seed",
                  "confidence": Interval(float, 0, 1, closed="neither")})
def add_lds_intervals(comparison, *, replicates: int = 1000, seed: int = 0,
                      confidence: float = 0.95) -> list[str]:
    """Set ``lds_ci`` on every method of a comparison whose LDS has per-query values.

    Every method uses the same seed, so methods evaluated on the same queries are resampled
    identically (a paired bootstrap); ``comparison.bootstrap`` records how.

    Parameters
    ----------
    comparison : aria.evaluate.compare.Comparison
        Modified in place.
    replicates, seed, confidence
        As :func:`lds_bootstrap`.

    Returns
    -------
    list of str
        One line per method whose LDS was given as a number (no per-query values, no interval).

    Examples
    --------
    >>> import aria
    >>> from aria.evaluate.bootstrap import add_lds_intervals
    >>> d = {"knn": aria.diagnose(aria.load_scores(aria.examples.path("bach-knn")))}
    >>> c = aria.compare_methods(d, lds={"knn": 0.4})
    >>> add_lds_intervals(c, replicates=100)
    ['knn: no LDS interval: a precomputed LDS has no per-query values']
    >>> c.bootstrap["replicates"], c.methods[0].lds_ci is None
    (100, True)
    """
    notes = []
    for m in comparison.methods:
        if m.lds_result is not None:
            m.lds_ci = lds_bootstrap(m.lds_result, replicates=replicates, seed=seed,
                                     confidence=confidence)["lds_ci"]
        elif m.lds is not None:
            notes.append(f"{m.name}: no LDS interval: a precomputed LDS has no per-query values")
    comparison.bootstrap = {"replicates": replicates, "seed": seed, "confidence": confidence,
                            "method": "percentile",
                            "resampled": "queries, with replacement (the same draws for every method)"}
    return notes
