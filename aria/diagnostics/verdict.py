"""The verdict rule (spec section 1): collapsed, offset-dominated, query-dependent or undetermined."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from aria.params import InstanceOf, Interval, check_params, validate_params

__all__ = ["VERDICTS", "VerdictThresholds", "classify"]

#: Verdict labels, from worst to best.


#: Verdict labels, from worst to best.
VERDICTS = ("collapsed", "offset-dominated", "query-dependent", "undetermined")


_EXPLAIN = {
    "collapsed": (
        "every query retrieves nearly the same training tracks: the matrix is dominated by one "
        "query-independent axis, so its homogeneity describes one fixed group, not attribution"
    ),
    "offset-dominated": (
        "each query's scores are mostly a per-query constant offset; the ranking signal lives in a "
        "small residual around it"
    ),
    "query-dependent": "scores vary with the query: top-K groups reflect query-specific attribution",
    "undetermined": "the diagnostics are undefined for this matrix",
}


@dataclass(frozen=True)
class VerdictThresholds:
    """Thresholds of the verdict rule (spec section 1), calibrated on the paper's Table 2.

    Attributes
    ----------
    collapsed_corr : float
        ``collapsed`` when ``rho_bar >= collapsed_corr``.
    collapsed_energy : float
        ... or when ``E1 >= collapsed_energy`` and ``C_bar < collapsed_max_concentration``.
    collapsed_max_concentration : float
        See ``collapsed_energy``.
    offset_concentration : float
        Otherwise ``offset-dominated`` when ``C_bar >= offset_concentration``.
    partial_offset_concentration : float
        Otherwise ``query-dependent``, noted "partial offset" when
        ``C_bar >= partial_offset_concentration``.

    Examples
    --------
    >>> from aria.diagnostics.verdict import VerdictThresholds, classify
    >>> VerdictThresholds().collapsed_corr
    0.9
    >>> strict = VerdictThresholds(collapsed_corr=0.99, collapsed_energy=0.99)
    >>> classify(0.95, 0.9, 0.2)[0], classify(0.95, 0.9, 0.2, strict)[0]
    ('collapsed', 'query-dependent')
    """

    collapsed_corr: float = 0.90
    collapsed_energy: float = 0.79
    collapsed_max_concentration: float = 0.5
    offset_concentration: float = 0.5
    partial_offset_concentration: float = 0.3

    def __post_init__(self) -> None:
        check_params(dict.fromkeys(asdict(self), Interval(float, 0, 1)), asdict(self),
                     function="VerdictThresholds")


@validate_params({"mean_abs_corr": "real", "energy_ratio_1": "real", "mean_concentration": "real",
                  "thresholds": [None, InstanceOf(VerdictThresholds)]})
def classify(
    mean_abs_corr: float,
    energy_ratio_1: float,
    mean_concentration: float,
    thresholds: VerdictThresholds | None = None,
) -> tuple[str, str, list[str]]:
    """Apply the verdict rule to three diagnostics.

    Parameters
    ----------
    mean_abs_corr : float
        ``rho_bar``; NaN when undefined (it then cannot trigger ``collapsed``).
    energy_ratio_1 : float
        ``E1``.
    mean_concentration : float
        ``C_bar``.
    thresholds : VerdictThresholds, optional
        Defaults as in the spec.

    Returns
    -------
    verdict : str
        One of :data:`VERDICTS`.
    reason : str
        Which rule fired, with the numbers.
    notes : list of str
        Extra remarks (``"partial offset"``).

    Examples
    --------
    >>> from aria.diagnostics.verdict import classify
    >>> verdict, reason, flags = classify(0.95, 0.9, 0.2)
    >>> verdict
    'collapsed'
    >>> classify(0.1, 0.2, 0.05)[0]
    'query-dependent'
    """
    t = thresholds or VerdictThresholds()
    rho, e1, c = (float(x) for x in (mean_abs_corr, energy_ratio_1, mean_concentration))
    notes: list[str] = []
    if math.isnan(e1) or math.isnan(c):
        return "undetermined", "energy ratios or concentration are undefined", notes
    if not math.isnan(rho) and rho >= t.collapsed_corr:
        return "collapsed", f"rho_bar = {rho:.3f} >= {t.collapsed_corr}", notes
    if e1 >= t.collapsed_energy and c < t.collapsed_max_concentration:
        return (
            "collapsed",
            f"E1 = {e1:.3f} >= {t.collapsed_energy} with C_bar = {c:.3f} < "
            f"{t.collapsed_max_concentration}",
            notes,
        )
    if c >= t.offset_concentration:
        return "offset-dominated", f"C_bar = {c:.3f} >= {t.offset_concentration}", notes
    if c >= t.partial_offset_concentration:
        notes.append(f"partial offset (C_bar = {c:.3f} >= {t.partial_offset_concentration})")
    rho_txt = "undefined" if math.isnan(rho) else f"{rho:.3f}"
    return (
        "query-dependent",
        f"rho_bar = {rho_txt} < {t.collapsed_corr}, E1 = {e1:.3f}, C_bar = {c:.3f} < "
        f"{t.offset_concentration}",
        notes,
    )
