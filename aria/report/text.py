"""Plain-text rendering of results for the terminal (one module, one number formatter).

Every number goes through :func:`fmt_number`; each renderer only chooses the digits and
the text shown for a missing value.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    from aria.diagnostics.reliability import Diagnostics
    from aria.evaluate.bootstrap import HomogeneityBootstrap
    from aria.evaluate.compare import Comparison
    from aria.evaluate.evidence import QueryEvidence
    from aria.groups.result import HomogeneityResult

__all__ = ["fmt_number", "format_diagnostics", "format_comparison", "format_evidence", "format_homogeneity",
           "format_homogeneity_intervals",
           "format_inspection"]


def fmt_number(x: object, digits: int = 3, missing: str = "-") -> str:
    """Format a number for display: fixed digits, ``missing`` for missing/undefined values.

    Parameters
    ----------
    x : object
        Number, None or NA. A Python ``int`` is shown without decimals.
    digits : int
        Decimals.
    missing : str
        Text for None, NA, NaN, infinities and non-numbers.

    Returns
    -------
    str
        ``missing`` or the number with ``digits`` decimals.

    Examples
    --------
    >>> fmt_number(0.12345), fmt_number(float("nan")), fmt_number(None, missing="undefined")
    ('0.123', '-', 'undefined')
    >>> fmt_number(3), fmt_number(2.0, 2)
    ('3', '2.00')
    """
    if x is None:
        return missing
    try:
        v = float(x)
    except (TypeError, ValueError):
        return missing
    if not math.isfinite(v):
        return missing
    if isinstance(x, int) and not isinstance(x, bool):
        return str(int(v))
    return f"{v:.{digits}f}"


def _table(header: list[str], rows: list[list[str]], rule: bool = True, strip: bool = True) -> list[str]:
    """Left-aligned columns two spaces apart (``rule``: dashes under the header; ``strip``: no end blanks)."""
    widths = [max(len(h), *(len(r[j]) for r in rows)) if rows else len(h) for j, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        text = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        return text.rstrip() if strip else text

    out = [line(header)]
    if rule:
        out.append("  ".join("-" * w for w in widths))
    return out + [line(r) for r in rows]


def _ci(diag: Diagnostics, name: str) -> str:
    """``"  [low, high]"`` when the diagnostics carry a bootstrap, else ``""``."""
    boot = getattr(diag, "bootstrap", None)
    if boot is None:
        return ""
    low, high = boot.interval(name)
    return f"  [{fmt_number(low, 3, 'undefined')}, {fmt_number(high, 3, 'undefined')}]"


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
        Lines separated by newlines (no trailing newline).

    Examples
    --------
    >>> import aria
    >>> diag = aria.diagnose(aria.load_scores(aria.examples.path("collapsed")))
    >>> print(format_diagnostics(diag).splitlines()[-2])
    verdict: COLLAPSED  (rho_bar = 0.996 >= 0.9)
    """
    def f(x: object) -> str:
        return fmt_number(x, 3, "undefined")

    shape = f"{diag.n_segments} x {diag.n_queries}"
    if n_tracks is not None:
        shape += f"  ({n_tracks} tracks)"
    spectrum = " ".join(f(x) for x in diag.energy_spectrum[:10])
    pairs = f"  over {diag.n_correlation_pairs} query pairs" if diag.n_correlation_pairs else ""
    rows = [
        ("segments x queries", shape),
        ("mean |inter-query corr|", f(diag.mean_abs_interquery_corr) + _ci(diag, "rho_bar") + pairs),
        ("energy ratio E1", f(diag.energy_ratio_1) + _ci(diag, "e1")),
        ("energy ratio E2:5", f(diag.energy_ratio_2_5)),
        ("v1 uniformity U1", f(diag.v1_uniformity)),
        ("mean concentration C", f(diag.mean_concentration) + _ci(diag, "c_bar")),
        ("leading spectrum E1..", spectrum),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"Aria diagnose{': ' + source if source else ''}", ""]
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    lines += ["", f"verdict: {diag.verdict.upper()}  ({diag.verdict_reason})", f"  {diag.explanation}"]
    boot = getattr(diag, "bootstrap", None)
    if boot is not None:
        lines.append(f"  [..]: {boot.confidence * 100:g}% percentile bootstrap intervals over queries "
                     f"(B = {boot.replicates}, seed {boot.seed}; queries resampled with replacement)")
    for key, why in diag.undefined.items():
        lines.append(f"  note: {key} undefined: {why}")
    if diag.excluded_columns:
        shown = ", ".join(diag.excluded_columns[:5])
        more = f" and {len(diag.excluded_columns) - 5} more" if len(diag.excluded_columns) > 5 else ""
        lines.append(f"  excluded columns: {shown}{more}")
    return "\n".join(lines)


def format_comparison(comparison: Comparison) -> str:
    """Render a :class:`~aria.evaluate.compare.Comparison` as a table with rankings and exclusions.

    Parameters
    ----------
    comparison : aria.evaluate.compare.Comparison
        The result.

    Returns
    -------
    str
        The table, the ranking and one line per excluded or noted method.

    Examples
    --------
    >>> import aria
    >>> diags = aria.examples.diagnoses("query-dependent", "collapsed")
    >>> text = format_comparison(aria.compare_methods(diags))
    >>> text.splitlines()[-2]
    'ranking (most reliable first: verdict, then lower rho_bar, then lower E1): query-dependent'
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


def format_evidence(ev: QueryEvidence) -> str:
    """Render a :class:`~aria.evaluate.evidence.QueryEvidence`: the group's tracks, then H and z per channel.

    Parameters
    ----------
    ev : aria.evaluate.evidence.QueryEvidence
        Evidence of one query.

    Returns
    -------
    str
        The tracks table, then one line per channel.

    Examples
    --------
    >>> import aria
    >>> for line in format_evidence(aria.examples.tiny().evidence("q1")).splitlines()[2:6]:
    ...     print(line.rstrip())
    rank  track  score  overall  a
    1     t1     1.386  1        0.710
    2     t0     0.882  2        0.630
    3     t2     0.882  3        0.630
    """
    chans = list(ev.channels["channel"])
    lines = [f"Aria evidence: query {ev.query}, top-{ev.k} tracks ({ev.matrix}, normalization "
             f"{ev.normalization}; verdict {ev.verdict})", ""]
    header = ["rank", "track", "score", "overall"] + [f"{c}" for c in chans]
    rows = [[str(r["rank"]), str(r["track"]), fmt_number(r["track_score"], 3), str(r["overall_rank"])]
            + [fmt_number(r[f"sim_to_rest_{c}"], 3) for c in chans] for r in ev.tracks.to_dict("records")]
    lines += _table(header, rows, rule=False, strip=False)
    lines += ["", "(per channel: mean similarity of the track to the other tracks of the group)", "",
              f"group vs {ev.null_groups} random groups of {ev.k} tracks (seed {ev.seed}):"]
    for r in ev.channels.to_dict("records"):
        sig = "  significant (z > 1.645)" if r["significant"] else ""
        lines.append(f"  {r['channel']:<10} H = {fmt_number(r['H'], 4)}  null {fmt_number(r['null_mean'], 4)}"
                     f" ± {fmt_number(r['null_sd'], 4)}  z = {fmt_number(r['z'], 2)}{sig}")
    for w in ev.warnings:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def format_homogeneity(result: HomogeneityResult, source: str = "") -> str:
    """Plain-text summary of homogeneity: verdict, warnings, and z_mean / Pos / Sig per channel and K.

    Parameters
    ----------
    result : aria.groups.result.HomogeneityResult
        Output of :func:`aria.homogeneity`.
    source : str
        Input name shown in the title.

    Returns
    -------
    str
        A header, one table per analysed matrix, the alignment when computed.

    Examples
    --------
    >>> import aria
    >>> text = format_homogeneity(aria.examples.tiny().homogeneity(k=[2, 3]), "tiny")
    >>> for line in text.splitlines()[-3:]:
    ...     print(line)
    [scores]  z_mean / Pos / Sig (z > 1.645) over 2 queries
    channel                       K=2                   K=3
    a               1.26   1.00   0.00    1.94   1.00   1.00
    """
    def f(x: object, digits: int = 2) -> str:
        return fmt_number(x, digits, "  n/a")

    lines = [f"Aria homogeneity: {source}".rstrip(), ""]
    d = result.diagnostics
    lines.append(f"diagnostics verdict: {d.verdict} ({d.verdict_reason})")
    n = result.scores.normalization
    lines.append(f"normalization: {n.method} ({n.reason})")
    c = result.pool
    lines.append(f"tracks: {c.pool} of {c.score_tracks} with features "
                 f"({c.without_features} left out: {c.absent_from_table} absent, {c.failed} failed, "
                 f"{c.invalid} invalid); channel set {result.channel_set.name}")
    for w in result.warnings:
        lines.append(f"WARNING: {w}")
    for m in (result.scores, result.residual):
        if m is None:
            continue
        lines.append("")
        lines.append(f"[{m.matrix}]  z_mean / Pos / Sig (z > 1.645) over {int(m.included.sum())} queries")
        lines.append(f"{'channel':<12}" + "".join(f"{'K=' + str(k):>22}" for k in m.k_values))
        summ = m.summary()
        for ch in m.channels:
            cells = "".join(f"{f(s['z_mean']):>8} {f(s['pos']):>6} {f(s['sig']):>6}"
                            for s in (summ[ch][str(k)] for k in m.k_values))
            lines.append(f"{ch:<12}{cells}")
    if result.alignment is not None:
        lines.append("")
        lines.append("axis-channel alignment (u1 vs features): A_max, A_grp (R^2), adjusted R^2")
        for row in result.alignment.channels.to_dict("records"):
            lines.append(f"{row['channel']:<12}{f(row['a_max'], 3):>8}{f(row['a_grp'], 3):>8}"
                         f"{f(row['a_grp_adjusted'], 3):>8}")
    return "\n".join(lines)


def format_homogeneity_intervals(boot: HomogeneityBootstrap) -> str:
    """Bootstrap intervals of z_mean, Pos and Sig per matrix, channel and K, as text.

    Parameters
    ----------
    boot : aria.evaluate.bootstrap.HomogeneityBootstrap
        The intervals, from :func:`aria.evaluate.bootstrap.homogeneity_bootstrap`
        (``aria homogeneity --bootstrap B``).

    Returns
    -------
    str
        A header line, then one line per matrix and per channel and K.

    See Also
    --------
    format_homogeneity : the table these intervals accompany.

    Examples
    --------
    >>> from aria.evaluate.bootstrap import HomogeneityBootstrap
    >>> from aria.report.text import format_homogeneity_intervals
    >>> boot = HomogeneityBootstrap(200, 0, 0.95, {"scores": {"harmony": {"5": {
    ...     "z_mean_ci": [0.5, 1.5], "pos_ci": [0.6, 0.9], "sig_ci": [0.1, None]}}}})
    >>> for line in format_homogeneity_intervals(boot).splitlines()[2:]:
    ...     print(line)
    [scores]
      harmony      K=5    z_mean [0.50, 1.50]  pos [0.60, 0.90]  sig [0.10, undefined]
    """
    lines = ["", f"{boot.confidence * 100:g}% percentile bootstrap intervals over queries "
             f"(B = {boot.replicates}, seed {boot.seed}; queries resampled with replacement, the null fixed)"]
    for matrix, per_ch in boot.intervals.items():
        lines.append(f"[{matrix}]")
        for ch, per_k in per_ch.items():
            for k, cis in per_k.items():
                cells = "  ".join(f"{stat} [{fmt_number(cis[stat + '_ci'][0], 2, 'undefined')}, "
                                  f"{fmt_number(cis[stat + '_ci'][1], 2, 'undefined')}]"
                                  for stat in ("z_mean", "pos", "sig"))
                lines.append(f"  {ch:<12} K={k:<4} {cells}")
    return "\n".join(lines)


def _size_text(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def _shape_text(shape) -> str:
    return " x ".join(str(s) for s in shape) if shape is not None else "-"


def format_inspection(info: dict) -> str:
    """Text block for one :func:`aria.io.inspect.inspect_scores` result (``aria inspect``).

    Examples
    --------
    >>> import aria
    >>> import tempfile, os, numpy as np
    >>> from aria.io.inspect import inspect_scores
    >>> from aria.report.text import format_inspection
    >>> p = os.path.join(tempfile.mkdtemp(), "s.npy")
    >>> np.save(p, np.zeros((200, 20), np.float32))
    >>> lines = format_inspection(inspect_scores(p)).splitlines()
    >>> lines[0] == p
    True
    >>> for line in lines[1:3]:
    ...     print(line)
    ...
      format       npy
      size         15.8 KiB
    """
    lines = [info["path"]]

    def row(label: str, text: str) -> None:
        lines.append(f"  {label:<12} {text}")

    row("format", str(info["format"]))
    row("size", _size_text(int(info["size_bytes"])))
    for k, a in enumerate(info["arrays"] or []):
        row("arrays" if k == 0 else "", f"{a['name']}  {_shape_text(a['shape'])}  {a['dtype']}")
    if info["stored_shape"] is not None:
        row("stored", f"{_shape_text(info['stored_shape'])}  {info['dtype']}")
    orientation = info["orientation"] or "unknown"
    row("orientation", f"{orientation}: {info['orientation_reason']}")
    if info["shape"] is not None:
        row("read as", f"{info['shape'][0]} segments x {info['shape'][1]} queries")
    if info["streams"] is not None:
        row("streams", f"{'yes' if info['streams'] else 'no'} ({info['streams_reason']})")
    for note in info["notes"]:
        row("note", note)
    return "\n".join(lines)
