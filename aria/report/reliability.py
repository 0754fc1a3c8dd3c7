"""Plain-text rendering of the ground-truth-free reliability score (``docs/reliability.md``).

Used by ``aria diagnose`` and ``aria compare`` and by the walkthrough notebook, so that they
print the same lines.
"""

from __future__ import annotations

__all__ = ["format_reliability", "format_comparison_reliability"]


def format_reliability(result) -> str:
    """Lines for the terminal: the score, its formula with the components, undefined parts.

    Parameters
    ----------
    result : ReliabilityScore
        From :func:`aria.reliability_score`.

    Returns
    -------
    str
        Starts with an empty line (it follows the diagnostics table).
    """
    d = result.to_dict()

    def f(x):
        return "undefined" if x is None else f"{x:.3f}"

    comp = d["components"]
    lines = ["", f"reliability score: {f(d['score'])}  (higher = more reliable; ground-truth free, "
                 "see docs/reliability.md)"]
    if d["score"] is not None:
        parts = ", ".join(f"{c.replace('_', ' ')} {f(comp[c])}" for c in d["used"])
        lines.append(f"  = (1 - rho_bar) {f(comp['query_specificity'])} x mean({parts})")
    for key, why in d["undefined"].items():
        lines.append(f"  note: {key.replace('_', ' ')} undefined: {why}")
    return "\n".join(lines)


def format_comparison_reliability(comparison) -> str:
    """The methods' reliability scores, the ranking by it and its Kendall tau with LDS.

    Parameters
    ----------
    comparison : Comparison
        From :func:`aria.compare_methods` with ``reliability=``.

    Returns
    -------
    str
        Empty when no method has a score; else starts with a blank line (it follows
        :func:`aria.report.render.format_comparison`).
    """
    if not comparison.has_reliability_score:
        return ""

    def f(x):
        return "undefined" if x is None or x != x else f"{x:.3f}"

    ranked = comparison.ranked_by_reliability_score
    lines = ["", "", "reliability score (ground-truth free, higher = more reliable; "
             "docs/reliability.md):"]
    for m in comparison.methods:
        rank = m.ranks.get("reliability_score")
        lines.append(f"  {m.name:<20} {f(m.reliability_score):>9}  "
                     + ("excluded" if m.excluded else f"rank {rank}" if rank else "unranked"))
    lines.append("  ranking by reliability score: "
                 + (" > ".join(m.name for m in ranked) if ranked else "no method can be ranked"))
    for a in comparison.agreement:
        if a.diagnostic == "reliability_score":
            lines.append(f"  Kendall tau with LDS = {f(a.tau)}  (95% bootstrap interval over methods "
                         f"{f(a.ci_low)} .. {f(a.ci_high)}, n = {a.n_methods})  {a.status}")
    return "\n".join(lines)
