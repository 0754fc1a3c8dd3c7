"""Plain-text rendering of the ground-truth-free reliability score (``docs/reliability.md``).

Used by ``aria diagnose`` and ``aria compare`` and by the walkthrough notebook, so that they
print the same lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aria.report.text import fmt_number

if TYPE_CHECKING:  # annotations only
    from aria.diagnostics.reliability_score import ReliabilityScore
    from aria.evaluate.compare import Comparison

__all__ = ["format_reliability", "format_comparison_reliability"]


def _f(x: object) -> str:
    return fmt_number(x, missing="undefined")


def format_reliability(result: ReliabilityScore) -> str:
    """Lines for the terminal: the score, its formula with the components, undefined parts.

    Parameters
    ----------
    result : ReliabilityScore
        From :func:`aria.reliability_score`.

    Returns
    -------
    str
        Starts with an empty line (it follows the diagnostics table).

    Examples
    --------
    >>> from aria.diagnostics.reliability_score import combine
    >>> r = combine({"track_coherence": 0.5, "group_contrast": float("nan"), "query_specificity": 0.8},
    ...             undefined={"group_contrast": "no query groups given"})
    >>> print(format_reliability(r))
    <BLANKLINE>
    reliability score: 0.400  (higher = more reliable; ground-truth free, see docs/reliability.md)
      = (1 - rho_bar) 0.800 x mean(track coherence 0.500)
      note: group contrast undefined: no query groups given
    """
    d = result.to_dict()
    comp = d["components"]
    lines = ["", f"reliability score: {_f(d['score'])}  (higher = more reliable; ground-truth free, "
                 "see docs/reliability.md)"]
    if d["score"] is not None:
        parts = ", ".join(f"{c.replace('_', ' ')} {_f(comp[c])}" for c in d["used"])
        lines.append(f"  = (1 - rho_bar) {_f(comp['query_specificity'])} x mean({parts})")
    for key, why in d["undefined"].items():
        lines.append(f"  note: {key.replace('_', ' ')} undefined: {why}")
    return "\n".join(lines)


def format_comparison_reliability(comparison: Comparison) -> str:
    """The methods' reliability scores, the ranking by it and its Kendall tau with LDS.

    Parameters
    ----------
    comparison : Comparison
        From :func:`aria.compare_methods` with ``reliability=``.

    Returns
    -------
    str
        Empty when no method has a score; else starts with a blank line (it follows
        :func:`aria.report.text.format_comparison`).

    Examples
    --------
    >>> import aria
    >>> names = ("query-dependent", "offset-dominated")
    >>> scores = {n: aria.load_scores(aria.examples.path(n)) for n in names}
    >>> diags = {n: aria.diagnose(s) for n, s in scores.items()}
    >>> rel = {n: aria.reliability_score(s, diags[n]) for n, s in scores.items()}
    >>> text = format_comparison_reliability(aria.compare_methods(diags, reliability=rel))
    >>> text.splitlines()[2]
    'reliability score (ground-truth free, higher = more reliable; docs/reliability.md):'
    """
    if not comparison.has_reliability_score:
        return ""
    ranked = comparison.ranked_by_reliability_score
    lines = ["", "", "reliability score (ground-truth free, higher = more reliable; "
             "docs/reliability.md):"]
    for m in comparison.methods:
        rank = m.ranks.get("reliability_score")
        lines.append(f"  {m.name:<20} {_f(m.reliability_score):>9}  "
                     + ("excluded" if m.excluded else f"rank {rank}" if rank else "unranked"))
    lines.append("  ranking by reliability score: "
                 + (" > ".join(m.name for m in ranked) if ranked else "no method can be ranked"))
    for a in comparison.agreement:
        if a.diagnostic == "reliability_score":
            level = f"{a.level * 100:g}%" if a.level is not None else "95%"
            lines.append(f"  Kendall tau with LDS = {_f(a.tau)}  ({level} bootstrap interval over methods "
                         f"{_f(a.ci_low)} .. {_f(a.ci_high)}, n = {a.n_methods})  {a.status}")
    return "\n".join(lines)
