"""Plain-text rendering of results for the terminal."""

from __future__ import annotations

import math

from aria.diagnostics.reliability import Diagnostics

__all__ = ["format_diagnostics", "format_homogeneity_intervals"]


def _f(x: float, digits: int = 3) -> str:
    return "undefined" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _ci(diag: Diagnostics, name: str) -> str:
    """``"  [low, high]"`` when the diagnostics carry a bootstrap, else ``""``."""
    boot = getattr(diag, "bootstrap", None)
    if boot is None:
        return ""
    low, high = boot.interval(name)
    return f"  [{_f(low)}, {_f(high)}]"


def format_diagnostics(diag: Diagnostics, source: str = "", n_tracks: int | None = None) -> str:
    """Render diagnostics as a readable table with the verdict and a one-line explanation.

    Parameters
    ----------
    diag : Diagnostics
        The result.
    source : str
        Input name shown in the title.
    n_tracks : int, optional
        Number of distinct tracks, shown when known.

    Returns
    -------
    str
    """
    shape = f"{diag.n_segments} x {diag.n_queries}"
    if n_tracks is not None:
        shape += f"  ({n_tracks} tracks)"
    spectrum = " ".join(_f(x) for x in diag.energy_spectrum[:10])
    pairs = f"  over {diag.n_correlation_pairs} query pairs" if diag.n_correlation_pairs else ""
    rows = [
        ("segments x queries", shape),
        ("mean |inter-query corr|", _f(diag.mean_abs_interquery_corr) + _ci(diag, "rho_bar") + pairs),
        ("energy ratio E1", _f(diag.energy_ratio_1) + _ci(diag, "e1")),
        ("energy ratio E2:5", _f(diag.energy_ratio_2_5)),
        ("v1 uniformity U1", _f(diag.v1_uniformity)),
        ("mean concentration C", _f(diag.mean_concentration) + _ci(diag, "c_bar")),
        ("leading spectrum E1..", spectrum),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"Aria diagnose{': ' + source if source else ''}", ""]
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    lines += ["", f"verdict: {diag.verdict.upper()}  ({diag.verdict_reason})", f"  {diag.explanation}"]
    boot = getattr(diag, "bootstrap", None)
    if boot is not None:
        lines.append(f"  [..]: {boot.confidence:.0%} percentile bootstrap intervals over queries "
                     f"(B = {boot.replicates}, seed {boot.seed}; queries resampled with replacement)")
    for key, why in diag.undefined.items():
        lines.append(f"  note: {key} undefined: {why}")
    if diag.excluded_columns:
        shown = ", ".join(diag.excluded_columns[:5])
        more = f" and {len(diag.excluded_columns) - 5} more" if len(diag.excluded_columns) > 5 else ""
        lines.append(f"  excluded columns: {shown}{more}")
    return "\n".join(lines)


def format_homogeneity_intervals(boot) -> str:
    """Bootstrap intervals of z_mean, Pos and Sig per matrix, channel and K, as text.

    Parameters
    ----------
    boot : aria.evaluate.bootstrap.HomogeneityBootstrap
        The intervals.

    Returns
    -------
    str
    """
    lines = ["", f"{boot.confidence:.0%} percentile bootstrap intervals over queries (B = {boot.replicates}, "
             f"seed {boot.seed}; queries resampled with replacement, the null fixed)"]
    for matrix, per_ch in boot.intervals.items():
        lines.append(f"[{matrix}]")
        for ch, per_k in per_ch.items():
            for k, cis in per_k.items():
                cells = "  ".join(f"{stat} [{_f(cis[stat + '_ci'][0], 2)}, {_f(cis[stat + '_ci'][1], 2)}]"
                                  for stat in ("z_mean", "pos", "sig"))
                lines.append(f"  {ch:<12} K={k:<4} {cells}")
    return "\n".join(lines)
