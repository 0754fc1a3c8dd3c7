"""Plain-text rendering of comparisons and single-query evidence for the terminal."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    from aria.evaluate.compare import Comparison

__all__ = ["format_comparison", "fmt_number"]


def fmt_number(x: object, digits: int = 3) -> str:
    """Format a number for display: fixed digits, ``-`` for missing/undefined values.

    Parameters
    ----------
    x : object
        Number, None or NA.
    digits : int
        Decimals.

    Returns
    -------
    str
    """
    if x is None:
        return "-"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "-"
    if not math.isfinite(v):
        return "-"
    if float(v).is_integer() and isinstance(x, int):
        return str(int(v))
    return f"{v:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[j]) for r in rows)) if rows else len(h) for j, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out


def format_comparison(comparison: Comparison) -> str:
    """Render a :class:`~aria.evaluate.compare.Comparison` as a table with rankings and exclusions.

    Parameters
    ----------
    comparison : aria.evaluate.compare.Comparison
        The result.

    Returns
    -------
    str
    """
    has_lds = comparison.has_lds
    header = ["method", "verdict", "rho_bar", "E1", "E2:5", "C_bar"]
    for ch in comparison.channels:
        header += [f"{ch} z", f"{ch} Pos", f"{ch} Sig"]
    with_ci = has_lds and any(m.lds_ci is not None for m in comparison.methods)
    if has_lds:
        header += ["LDS", "LDS rank"] + (["LDS CI"] if with_ci else [])
    header += ["rank"]
    rows = []
    for m in comparison.methods:
        d = m.diagnostics
        row = [m.name, d.verdict, fmt_number(d.mean_abs_interquery_corr), fmt_number(d.energy_ratio_1),
               fmt_number(d.energy_ratio_2_5), fmt_number(d.mean_concentration)]
        for ch in comparison.channels:
            h = m.homogeneity.get(ch, {})
            row += [fmt_number(h.get("z_bar"), 2), fmt_number(h.get("pos"), 2), fmt_number(h.get("sig"), 2)]
        if has_lds:
            row += [fmt_number(m.lds), fmt_number(m.ranks.get("lds"))]
            if with_ci:
                row.append(f"[{fmt_number(m.lds_ci[0])}, {fmt_number(m.lds_ci[1])}]" if m.lds_ci else "-")
        row += ["excluded" if m.excluded else fmt_number(m.ranks.get("reliability"))]
        rows.append(row)
    lines = ["Aria compare: reliability of attribution methods", ""]
    if comparison.channels:
        lines.append(f"homogeneity at K = {comparison.homogeneity_k} (z: mean z-score vs random groups; "
                     "Pos/Sig: fraction of queries with z > 0 / z > 1.645)")
    lines += _table(header, rows)
    ranked = comparison.ranked
    lines += ["", "ranking (most reliable first: verdict, then lower rho_bar, then lower E1): "
              + (" > ".join(m.name for m in ranked) if ranked else "no method can be ranked")]
    for m in comparison.methods:
        if m.excluded:
            lines.append(f"  excluded {m.name}: {m.exclusion_reason}")
        elif m.diagnostics.notes:
            lines.append(f"  note {m.name}: {'; '.join(m.diagnostics.notes)}")
    if with_ci:
        lines.append("LDS CI: percentile bootstrap interval over the evaluated queries "
                     "(see --json 'bootstrap')")
    if comparison.agreement:
        lines += ["", "does each diagnostic order the methods as LDS does? (Kendall tau over ranked methods)"]
        for a in comparison.agreement:
            lines.append(f"  {a.diagnostic:<17} tau = {fmt_number(a.tau)}  (n = {a.n_methods}, "
                         f"p = {fmt_number(a.pvalue)})  {a.status}")
    return "\n".join(lines)
