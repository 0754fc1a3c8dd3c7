"""Self-contained HTML report (jinja2 template ``aria/report/templates/report.html.j2``).

:func:`build_report` assembles, from result objects computed by the public
API (diagnostics, comparison, LDS and, when features are given, homogeneity,
residual homogeneity, alignment, confounds and single-query evidence), a
:class:`ReportData`: the verdict per method, the warnings, blocks of tables
and figures, the definitions of every number and the provenance record.
:func:`render_html` renders it with jinja2 (autoescaped); figures are inline
base64 PNGs, so the file needs no network access and holds no external URL.
Rendering is deterministic: the same inputs, parameters and seeds give a
byte-identical file apart from the provenance timestamp.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from aria._version import __version__
from aria.diagnostics.reliability import Diagnostics
from aria.errors import AriaDependencyError
from aria.evaluate.compare import Comparison
from aria.io.output import json_safe
from aria.params import InstanceOf, Interval, MappingOf, validate_params
from aria.report.text import fmt_number

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    from aria.evaluate.bootstrap import HomogeneityBootstrap
    from aria.evaluate.evidence import QueryEvidence
    from aria.groups.engine import HomogeneityResult

_DPI = Interval(int, 10, None)
_RESULT = InstanceOf("aria.groups.result.HomogeneityResult")

__all__ = [
    "DEFINITIONS",
    "Cell",
    "Row",
    "Table",
    "Figure",
    "Block",
    "ReportWarning",
    "MethodSection",
    "ReportData",
    "diagnostics_block",
    "comparison_block",
    "method_warnings",
    "homogeneity_blocks",
    "evidence_block",
    "homogeneity_warnings",
    "build_report",
    "render_html",
    "write_report",
    "write_figures",
]


def _definitions() -> list[dict[str, str]]:
    text = (resources.files("aria.report") / "templates" / "definitions.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["definition"]


#: Definitions shown in the report (``key``, ``symbol``, ``name``, ``text``), read from
#: ``aria/report/templates/definitions.toml``; every number links to one by its key. Each text is the
#: **Report** paragraph of the same key in docs/formulas.md, word for word (tests/test_formulas.py).
DEFINITIONS: list[dict[str, str]] = _definitions()
_DEF_KEYS = {d["key"] for d in DEFINITIONS}
#: Longest per-query table shown inline.
_MAX_DETAIL_ROWS = 500


@dataclass
class Cell:
    """A table cell: text, optional definition key (link), numeric alignment.

    Examples
    --------
    >>> from aria.report.html import Cell
    >>> c = Cell("0.93", ref="rho_bar", num=True)
    >>> c.text, c.ref, c.num
    ('0.93', 'rho_bar', True)
    """

    text: str
    ref: str | None = None
    num: bool = False


@dataclass
class Row:
    """A table row.

    Examples
    --------
    >>> from aria.report.html import Cell, Row
    >>> row = Row([Cell("knn"), Cell("0.40", num=True)], css="best")
    >>> [c.text for c in row.cells], row.css
    (['knn', '0.40'], 'best')
    """

    cells: list[Cell]
    css: str | None = None


@dataclass
class Table:
    """A captioned table.

    Examples
    --------
    >>> from aria.report.html import Cell, Row, Table
    >>> header = [Cell("method"), Cell("LDS", num=True)]
    >>> t = Table("LDS per method", header, [Row([Cell("knn"), Cell("0.40", num=True)])])
    >>> t.caption, len(t.rows)
    ('LDS per method', 1)
    """

    caption: str
    header: list[Cell]
    rows: list[Row]


@dataclass
class Figure:
    """An inline figure (``data:`` URI) and its SVG rendering (for saving it beside the report).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from aria.report.html import Figure
    >>> from aria.report.plot import figure_to_data_uri
    >>> fig, ax = plt.subplots(figsize=(2, 1.5))
    >>> _ = ax.plot([0, 1], [1, 0])
    >>> f = Figure(figure_to_data_uri(fig, dpi=40), "a line", "A falling line.")
    >>> plt.close(fig)
    >>> f.uri.startswith("data:image/png;base64,")
    True
    """

    uri: str
    alt: str
    caption: str
    svg: bytes = field(default=b"", repr=False)


@dataclass
class Block:
    """A titled report section with paragraphs, tables, figures and collapsible text.

    Examples
    --------
    >>> from aria.io.provenance import provenance_record
    >>> from aria.report.html import Block, Cell, ReportData, Row, Table, render_html
    >>> header = [Cell("method"), Cell("LDS", num=True)]
    >>> table = Table("Scores", header, [Row([Cell("knn"), Cell("0.40", num=True)])])
    >>> block = Block("lds", "LDS", paragraphs=["Higher is better."], tables=[table])
    >>> html = render_html(ReportData("Demo", [], [], provenance_record({}, {}), top_blocks=[block]))
    >>> "Higher is better." in html, 'id="lds"' in html
    (True, True)
    """

    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    details: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ReportWarning:
    """A warning shown at the top of the report.

    Attributes
    ----------
    method : str
        Method it is about.
    kind : str
        Category shown first (``collapsed``, ``failed tracks``, ``homogeneity``...).
    text : str
        The warning itself.
    ref : str or None
        Key of the definition (:data:`DEFINITIONS`) it links to.

    Examples
    --------
    >>> import aria
    >>> from aria.report.html import method_warnings
    >>> warnings = method_warnings("tiny", aria.diagnose(aria.examples.tiny().scores))
    >>> [(w.method, w.kind, w.ref) for w in warnings]
    [('tiny', 'collapsed', 'verdict')]
    """

    method: str
    kind: str
    text: str
    ref: str | None = None


@dataclass
class MethodSection:
    """Everything the report shows about one method.

    Examples
    --------
    >>> import aria
    >>> from aria.report.html import build_report
    >>> from aria.io.provenance import provenance_record
    >>> data = build_report({"Tiny method": aria.diagnose(aria.examples.tiny().scores)},
    ...                     provenance=provenance_record({}, {}), figures=False)
    >>> [(m.name, m.slug, m.verdict, m.shape) for m in data.methods]
    [('Tiny method', 'tiny-method', 'collapsed', '8 segments x 2 queries')]
    """

    name: str
    slug: str
    source: str
    shape: str
    verdict: str
    verdict_reason: str
    explanation: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class ReportData:
    """Content of a report, ready to render.

    Examples
    --------
    >>> import aria
    >>> data = aria.report.build_report(aria.examples.diagnoses(), provenance={}, figures=False)
    >>> data.title, [m.name for m in data.methods], data.ranking
    ('Aria report', ['bach-knn', 'bach-collapsed'], ['bach-knn'])
    """

    title: str
    methods: list[MethodSection]
    warnings: list[ReportWarning]
    provenance: dict
    top_blocks: list[Block] = field(default_factory=list)
    ranking: list[str] = field(default_factory=list)


def slugify(name: str) -> str:
    """Lower-case ``[a-z0-9-]`` identifier for HTML ids."""
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "method"


def _num(x: object, digits: int = 3) -> Cell:
    return Cell(fmt_number(x, digits), num=True)


def _interval(diag: Diagnostics, name: str) -> tuple[float, float] | None:
    boot = getattr(diag, "bootstrap", None)
    return None if boot is None else boot.interval(name)


def _num_ci(x: object, ci: tuple[object, object] | list | None, digits: int = 3) -> Cell:
    """A number with its bootstrap interval ``x [low, high]`` (just ``x`` without one)."""
    if ci is None:
        return _num(x, digits)
    lo, hi = fmt_number(ci[0], digits), fmt_number(ci[1], digits)
    return Cell(f"{fmt_number(x, digits)} [{lo}, {hi}]", num=True)


def _hdr(*items: str | tuple[str, str]) -> list[Cell]:
    return [Cell(i) if isinstance(i, str) else Cell(i[0], ref=i[1]) for i in items]


def _figure(fig, alt: str, caption: str, dpi: int) -> Figure:
    from aria.report.plot import figure_to_bytes, figure_to_data_uri

    uri = figure_to_data_uri(fig, "png", dpi=dpi)
    svg = figure_to_bytes(fig, "svg")
    fig.clear()
    return Figure(uri=uri, alt=alt, caption=caption, svg=svg)


@validate_params({"slug": "str", "diag": Diagnostics, "figures": "boolean", "dpi": _DPI})
def diagnostics_block(slug: str, diag: Diagnostics, *, figures: bool = True, dpi: int = 80) -> Block:
    """Report block with the diagnostics table and the three diagnostics figures.

    Parameters
    ----------
    slug : str
        Method id used in HTML ids.
    diag : Diagnostics
        Result of :func:`aria.diagnose`.
    figures : bool
        Include the figures (needs matplotlib).
    dpi : int
        Figure resolution.

    Returns
    -------
    Block
        Id ``<slug>-diagnostics``: the diagnostics table, the three figures, per-query details.

    Examples
    --------
    >>> import aria
    >>> from aria.report.html import diagnostics_block
    >>> d = aria.diagnose(aria.load_scores(aria.examples.path("bach-knn")))
    >>> block = diagnostics_block("knn", d, dpi=30)
    >>> len(block.figures), block.tables[0].caption
    (3, 'Diagnostics of the raw score matrix')
    """
    excluded = ", ".join(diag.excluded_columns) if diag.excluded_columns else "none"
    rows = [
        Row([Cell("segments x queries", ref="shape"),
             Cell(f"{diag.n_segments} x {diag.n_queries}", num=True)]),
        Row([Cell("mean |inter-query corr| ρ̄", ref="rho_bar"), _num_ci(diag.mean_abs_interquery_corr,
                                                                        _interval(diag, "rho_bar"))]),
        Row([Cell("query pairs used", ref="rho_bar"), Cell(str(diag.n_correlation_pairs), num=True)]),
        Row([Cell("energy ratio E1", ref="E1"), _num_ci(diag.energy_ratio_1, _interval(diag, "e1"))]),
        Row([Cell("energy ratio E2:5", ref="E2_5"), _num(diag.energy_ratio_2_5)]),
        Row([Cell("v1 uniformity U1", ref="U1"), _num(diag.v1_uniformity)]),
        Row([Cell("mean concentration C̄", ref="C_bar"), _num_ci(diag.mean_concentration,
                                                                   _interval(diag, "c_bar"))]),
        Row([Cell("leading spectrum E1..E10", ref="spectrum"),
             Cell(" ".join(fmt_number(x) for x in diag.energy_spectrum[:10]), num=True)]),
        Row([Cell("excluded columns", ref="excluded"), Cell(excluded)]),
        Row([Cell("verdict", ref="verdict"), Cell(diag.verdict)]),
    ]
    block = Block(
        id=f"{slug}-diagnostics", title="Reliability diagnostics",
        paragraphs=[f"Verdict {diag.verdict}: {diag.explanation}. Rule: {diag.verdict_reason}."],
        tables=[Table("Diagnostics of the raw score matrix", _hdr("quantity", "value"), rows)],
    )
    undefined = "; ".join(f"{k}: {v}" for k, v in diag.undefined.items())
    if undefined:
        block.paragraphs.append(f"Undefined: {undefined}.")
    boot = getattr(diag, "bootstrap", None)
    if boot is not None:
        block.paragraphs.append(
            f"Brackets: {boot.confidence * 100:g}% percentile bootstrap intervals over queries "
            f"(B = {boot.replicates}, seed {boot.seed}): the queries are resampled with replacement and the "
            "diagnostics recomputed from the Gram statistics; a query's pair with its own copy is left out "
            "of ρ̄. E1's interval describes its spread over query sets and sits above the estimate when Q "
            "is small.")
    if figures:
        from aria.report.plot import plot_concentration, plot_energy_spectrum, plot_interquery_correlations

        block.figures += [
            _figure(plot_energy_spectrum(diag), "Bar chart of the leading energy ratios",
                    "Leading singular-value energy spectrum; E1 (vermillion) and E2:5 (blue) marked, "
                    "with the cumulative energy.", dpi),
            _figure(plot_interquery_correlations(diag), "Histogram of inter-query correlations",
                    "Pairwise Pearson correlations between query columns, with rho_bar and the "
                    "collapsed threshold.", dpi),
            _figure(plot_concentration(diag), "Histogram of per-query concentration",
                    "Per-query concentration ratio with C_bar and the offset thresholds.", dpi),
        ]
    frame = diag.to_frame()
    summary = "Per-query diagnostics (mean, std, concentration, v1 loading)"
    if len(frame) > _MAX_DETAIL_ROWS:
        summary += f" - first {_MAX_DETAIL_ROWS} of {len(frame)} queries (all in aria diagnose --out)"
        frame = frame.head(_MAX_DETAIL_ROWS)
    block.details.append({"summary": summary,
                          "text": frame.to_string(index=False, float_format=lambda v: f"{v:.4g}")})
    return block


@validate_params({"comparison": Comparison, "figures": "boolean", "dpi": _DPI})
def comparison_block(comparison: Comparison, *, figures: bool = True, dpi: int = 80) -> Block:
    """Report block comparing the methods (table, figure, agreement with LDS).

    Parameters
    ----------
    comparison : Comparison
        Result of :func:`aria.evaluate.compare.compare_methods`.
    figures : bool
        Include the comparison figure.
    dpi : int
        Figure resolution.

    Returns
    -------
    Block
        Id ``comparison``: one row per method, homogeneity per channel, agreement with LDS.

    Examples
    --------
    >>> import aria
    >>> from aria.report.html import comparison_block
    >>> d = aria.examples.diagnoses()
    >>> block = comparison_block(aria.compare_methods(d), figures=False)
    >>> block.title, len(block.tables) > 0
    ('Method comparison', True)
    """
    has_lds = comparison.has_lds
    header = _hdr("method", ("verdict", "verdict"), ("ρ̄", "rho_bar"), ("E1", "E1"), ("E2:5", "E2_5"),
                  ("C̄", "C_bar"))
    if has_lds:
        header += _hdr(("LDS", "lds"), ("LDS rank", "lds"))
    header += _hdr(("rank", "reliability_rank"), "note")
    rows = []
    for m in comparison.methods:
        d = m.diagnostics
        cells = [Cell(m.name), Cell(d.verdict, ref="verdict"), _num(d.mean_abs_interquery_corr),
                 _num(d.energy_ratio_1), _num(d.energy_ratio_2_5), _num(d.mean_concentration)]
        if has_lds:
            cells += [_num_ci(m.lds, m.lds_ci), _num(m.ranks.get("lds"))]
        cells.append(Cell("excluded") if m.excluded else _num(m.ranks.get("reliability")))
        cells.append(Cell(m.exclusion_reason or "; ".join(d.notes)))
        rows.append(Row(cells, css="excluded" if m.excluded else None))
    paragraphs = ["Lower ρ̄, E1 and C̄ mean a more reliable, query-dependent method. Collapsed methods keep "
                  "their numbers but are excluded from the rankings."]
    if comparison.channels:
        paragraphs.append(f"Homogeneity at K = {comparison.homogeneity_k}. For an excluded (collapsed) "
                          "method the homogeneity describes one fixed retrieved group, not attribution.")
    block = Block(id="comparison", title="Method comparison", paragraphs=paragraphs,
                  tables=[Table("One row per method", header, rows)])
    if comparison.channels:
        hh = _hdr("method", ("verdict", "verdict"), "channel", ("z̄", "z_bar"), ("Pos", "Pos"), ("Sig", "Sig"),
                  "note")
        hrows = []
        for m in comparison.methods:
            for ch in comparison.channels:
                h = m.homogeneity.get(ch, {})
                note = "one fixed group, not attribution" if m.verdict == "collapsed" else ""
                hrows.append(Row([Cell(m.name), Cell(m.verdict, ref="verdict"), Cell(ch),
                                  _num(h.get("z_bar"), 2), _num(h.get("pos"), 2), _num(h.get("sig"), 2),
                                  Cell(note)], css="excluded" if m.excluded else None))
        block.tables.append(Table(f"Homogeneity per method and channel at K = {comparison.homogeneity_k}",
                                  hh, hrows))
    if comparison.agreement:
        block.tables.append(Table(
            "Does each diagnostic order the methods as LDS does?",
            _hdr("diagnostic", ("Kendall tau", "kendall"), "p-value", "methods", "agreement"),
            [Row([Cell(a.diagnostic), _num(a.tau), _num(a.pvalue), Cell(str(a.n_methods), num=True),
                  Cell(a.status)]) for a in comparison.agreement]))
    if figures:
        from aria.report.plot import plot_compare

        block.figures.append(_figure(plot_compare(comparison), "Grouped bar chart of diagnostics per method",
                                     "Diagnostics per method (hatched = excluded); LDS as diamonds "
                                     "when known.", dpi))
    return block


@validate_params({"slug": "str", "result": _RESULT, "k": [None, Interval(int, 2, None)],
                  "figures": "boolean", "dpi": _DPI,
                  "bootstrap": [None, InstanceOf("aria.evaluate.bootstrap.HomogeneityBootstrap")]})
def homogeneity_blocks(slug: str, result: HomogeneityResult, *, k: int | None = None, figures: bool = True,
                       dpi: int = 80, bootstrap: HomogeneityBootstrap | None = None) -> list[Block]:
    """Report blocks of one method's homogeneity: K sweep, residual, alignment, confounds.

    Parameters
    ----------
    slug : str
        Method id used in HTML ids.
    result : aria.groups.result.HomogeneityResult
        Homogeneity of the method.
    k : int, optional
        Group size of the residual and confound tables (default 10 when computed).
    figures : bool
        Include the z, K-sweep, residual, alignment and confound figures.
    dpi : int
        Figure resolution.
    bootstrap : aria.evaluate.bootstrap.HomogeneityBootstrap, optional
        Bootstrap intervals shown beside z̄, Pos and Sig.

    Returns
    -------
    list of Block
        The homogeneity block, then residual, alignment and confound blocks when computed.

    Examples
    --------
    >>> import aria
    >>> res = aria.examples.tiny().report_result()
    >>> from aria.report.html import homogeneity_blocks
    >>> [b.title for b in homogeneity_blocks("tiny", res, figures=False)]
    ['Musical homogeneity', 'Residual homogeneity', 'Axis-channel alignment', 'Confound analysis by register']
    """
    from aria.groups.result import summarize
    from aria.groups.setup import pick_k

    k = pick_k(result.k_values, k)
    collapsed = result.diagnostics.verdict == "collapsed"
    caveat = ("Caveat: this matrix is collapsed, so these numbers describe one fixed retrieved group, "
              "not attribution." if collapsed else None)
    counts = result.pool
    mh = result.scores
    norm = mh.normalization
    intro = [
        f"Each query's top-K tracks (K = {', '.join(map(str, result.k_values))}) compared with "
        f"{result.parameters.get('null_groups')} random groups of K tracks (seed "
        f"{result.parameters.get('seed')}), per channel of the '{result.channel_set.name}' channel set.",
        f"Normalization: {norm.method} ({norm.reason}). Tracks: {counts.pool} of {counts.score_tracks} have "
        f"usable features ({counts.failed} failed, {counts.absent_from_table} absent from the feature table, "
        f"{counts.invalid} with invalid values).",
    ]
    if caveat:
        intro.insert(0, caveat)
    if bootstrap is not None:
        intro.append(f"Brackets: {bootstrap.confidence * 100:g}% percentile bootstrap intervals over queries "
                     f"(B = {bootstrap.replicates}, seed {bootstrap.seed}; the queries' z values are "
                     "resampled with replacement, the null is fixed).")
    header = _hdr("channel", ("K", "K"), ("z̄", "z_bar"), ("Pos", "Pos"), ("Sig", "Sig"), "queries",
                  ("null μ", "null"), ("null sd", "null"))
    rows = []
    for ci, c in enumerate(mh.channels):
        for ki, kk in enumerate(mh.k_values):
            sm = summarize(mh.z_channel[ki, :, ci], mh.included)
            nl = result.nulls[kk]
            cis = (bootstrap.intervals.get("scores", {}).get(c, {}).get(str(kk), {})
                   if bootstrap is not None else {})
            rows.append(Row([Cell(c), Cell(str(kk), num=True), _num_ci(sm["z_mean"], cis.get("z_mean_ci"), 2),
                             _num_ci(sm["pos"], cis.get("pos_ci"), 2),
                             _num_ci(sm["sig"], cis.get("sig_ci"), 2), Cell(str(sm["n_queries"]), num=True),
                             _num(nl.channel_mean[ci], 4), _num(nl.channel_sd[ci], 4)]))
    main = Block(id=f"{slug}-homogeneity", title="Musical homogeneity", paragraphs=intro,
                 tables=[Table("Homogeneity per channel and K" + (" (collapsed: one fixed group)"
                                                                   if collapsed else ""), header, rows)])
    if figures:
        from aria.report.plot import plot_k_sweep, plot_z_distribution

        main.figures += [
            _figure(plot_z_distribution(result), "Box plots of per-query z-scores per channel and K",
                    "Per-query z per channel and K; grey band: |z| <= 1.645 (null), dashed: z = 1.645.", dpi),
            _figure(plot_k_sweep(result), "Line plots of z_bar, Pos and Sig against K",
                    "K sweep of z_bar, Pos and Sig per channel; dotted: expectation under the null.", dpi),
        ]
    main.details.append({"summary": "Per-feature summaries (all K)",
                         "text": result.summary_frame().query("matrix == 'scores' and level == 'feature'")
                         .drop(columns=["matrix", "level"]).to_string(index=False,
                                                                    float_format=lambda v: f"{v:.3f}")})
    blocks = [main]
    if result.residual is not None:
        rmh = result.residual
        ki = mh.k_values.index(k)
        rrows = []
        for ci, c in enumerate(mh.channels):
            a = summarize(mh.z_channel[ki, :, ci], mh.included)
            b = summarize(rmh.z_channel[ki, :, ci], rmh.included)
            rrows.append(Row([Cell(c), _num(a["z_mean"], 2), _num(b["z_mean"], 2), _num(a["pos"], 2),
                              _num(b["pos"], 2), _num(a["sig"], 2), _num(b["sig"], 2)]))
        rb = Block(id=f"{slug}-residual", title="Residual homogeneity",
                   paragraphs=[f"The same analysis on the rank-1 residual S_res (normalization "
                               f"{rmh.normalization.method}), at K = {k}: what remains once the dominant "
                               "query-independent axis is removed."],
                   tables=[Table(f"Raw vs residual at K = {k}",
                                 _hdr("channel", ("z̄ raw", "z_bar"), ("z̄ residual", "residual"),
                                      ("Pos raw", "Pos"), ("Pos residual", "residual"), ("Sig raw", "Sig"),
                                      ("Sig residual", "residual")), rrows)])
        if figures:
            from aria.report.plot import plot_residual_comparison

            rb.figures.append(_figure(plot_residual_comparison(result, k=k), "Bars of raw and residual z_bar",
                                      "z_bar per channel for the raw scores and the rank-1 residual.", dpi))
        blocks.append(rb)
    if result.alignment is not None:
        al = result.alignment
        arows = [Row([Cell(str(r["channel"])), _num(r["a_max"]),
                      Cell(f"{r['a_max_feature']}[{r['a_max_dim']}]" if isinstance(r["a_max_feature"], str)
                           else "-"),
                      _num(r["a_grp"]), _num(r["a_grp_adjusted"]),
                      Cell(r["a_grp_feature"] if isinstance(r["a_grp_feature"], str) else "-")])
                 for r in al.channels.to_dict("records")]
        ab = Block(id=f"{slug}-alignment", title="Axis-channel alignment",
                   paragraphs=[f"How strongly the dominant train-side axis u1 ({al.n_tracks} tracks) follows "
                               "each channel's features; high alignment means the rank-1 component is a "
                               "musical attribute rather than attribution."
                               + (f" Sequence features skipped: {', '.join(al.skipped)}." if al.skipped
                                  else "")],
                   tables=[Table("Alignment per channel",
                                 _hdr("channel", ("A_max", "A_max"), "feature[dim]", ("A_grp R²", "A_grp"),
                                      ("adjusted R²", "A_grp"), "feature"), arows)])
        if figures:
            from aria.report.plot import plot_alignment

            ab.figures.append(_figure(plot_alignment(al), "Bars of A_max and A_grp per channel",
                                      "Axis-channel alignment per channel.", dpi))
        blocks.append(ab)
    if result.confound is not None:
        cf = result.confound
        tab = cf.table[(cf.table["matrix"] == "scores") & (cf.table["k"] == k)]
        crows = [Row([Cell(str(r["label"])), Cell(str(r["channel"])), Cell(str(r["n"]), num=True),
                      _num(r["z_mean"], 2), _num(r["pos"], 2), _num(r["sig"], 2)])
                 for r in tab.to_dict("records")]
        spread = cf.spread[(cf.spread["matrix"] == "scores") & (cf.spread["k"] == k)]
        srows = [Row([Cell(str(r["channel"])), Cell(str(r["n_labels"]), num=True),
                      _num(r["sd_label_means"], 3)]) for r in spread.to_dict("records")]
        cb = Block(id=f"{slug}-confound", title=f"Confound analysis by {cf.label_name}",
                   paragraphs=[f"Per-query z stratified by the query label '{cf.label_name}' at K = {k}. A "
                               "large spread of the per-label means says homogeneity depends on the label."],
                   tables=[Table("Per label and channel",
                                 _hdr(cf.label_name, "channel", "queries", ("mean z", "confound"),
                                      ("Pos", "Pos"), ("Sig", "Sig")), crows),
                           Table("Spread of the per-label means",
                                 _hdr("channel", "labels", ("sd of label means", "confound")), srows)])
        if figures:
            from aria.report.plot import plot_confound

            cb.figures.append(_figure(plot_confound(cf, k=k), "Heatmap of mean z per label and channel",
                                      "Mean z per label (rows) and channel (columns), with the number of "
                                      "queries.", dpi))
        blocks.append(cb)
    return blocks


@validate_params({"slug": "str", "ev": InstanceOf("aria.evaluate.evidence.QueryEvidence"),
                  "figures": "boolean", "dpi": _DPI})
def evidence_block(slug: str, ev: QueryEvidence, *, figures: bool = True, dpi: int = 80) -> Block:
    """Report block with single-query evidence (top-K tracks, per-channel similarity, z, null).

    Parameters
    ----------
    slug : str
        Method id; the block's HTML id is ``<slug>-evidence-<query>``.
    ev : aria.evaluate.evidence.QueryEvidence
        Evidence for one query.
    figures : bool
        Include the null-distribution figure.
    dpi : int
        Figure resolution.

    Returns
    -------
    Block
        Id ``<slug>-evidence-<query>``: the group's tracks and its similarity against the null.

    Examples
    --------
    >>> import aria
    >>> from aria.report.html import evidence_block
    >>> block = evidence_block("tiny", aria.examples.tiny().evidence("q2"), figures=False)
    >>> block.id, block.title, [t.caption for t in block.tables]
    ('tiny-evidence-q2', 'Evidence for query q2', ['Top-3 tracks', 'Group similarity against the null'])
    """
    chans = list(ev.channels["channel"])
    header = _hdr(("rank", "K"), "track", ("track score", "track_score"), ("rank among all tracks", "K"))
    header += _hdr(*[(f"{c} sim to rest", "rest_similarity") for c in chans])
    rows = []
    for r in ev.tracks.to_dict("records"):
        cells = [Cell(str(r["rank"]), num=True), Cell(str(r["track"])), _num(r["track_score"], 4),
                 Cell(str(r["overall_rank"]), num=True)]
        cells += [_num(r[f"sim_to_rest_{c}"], 4) for c in chans]
        rows.append(Row(cells))
    crow = [Row([Cell(str(r["channel"])), _num(r["H"], 4), _num(r["null_mean"], 4), _num(r["null_sd"], 4),
                 _num(r["z"], 2), Cell("yes" if r["significant"] else "no")])
            for r in ev.channels.to_dict("records")]
    paragraphs = [f"Query {ev.query}: its top-{ev.k} tracks ({ev.matrix}, normalization {ev.normalization}) "
                  f"and, per channel, each track's mean similarity to the other {ev.k - 1}; the group's "
                  f"H_c is their mean, compared with {ev.null_groups} random groups of {ev.k} tracks "
                  f"(seed {ev.seed})."]
    if ev.verdict == "collapsed":
        paragraphs.insert(0, "Caveat: this matrix is collapsed; this group is (nearly) the same for every "
                             "query, so it is not evidence of attribution for this query.")
    block = Block(id=f"{slug}-evidence-{slugify(ev.query)}", title=f"Evidence for query {ev.query}",
                  paragraphs=paragraphs,
                  tables=[Table(f"Top-{ev.k} tracks", header, rows),
                          Table("Group similarity against the null",
                                _hdr("channel", ("H_c", "H"), ("null μ", "null"), ("null sd", "null"),
                                     ("z", "z"), ("significant (z > 1.645)", "Sig")), crow)])
    if figures:
        from aria.report.plot import plot_evidence

        block.figures.append(_figure(plot_evidence(ev), "Histograms of random-group similarity per channel",
                                     "H_c of the random reference groups (grey) and of the query's group "
                                     "(coloured line), with the null mean ± 1.645 sd shaded.", dpi))
    return block


@validate_params({"name": "str", "result": _RESULT})
def homogeneity_warnings(name: str, result: HomogeneityResult) -> list[ReportWarning]:
    """Warnings from a homogeneity run (failed tracks, dropped K, undefined z...).

    Tracks without features become one warning that lists them; a message repeated at several K
    becomes one line naming the K values; the collapsed-matrix caveat is left to
    :func:`method_warnings`.

    Parameters
    ----------
    name : str
        Method name.
    result : aria.groups.result.HomogeneityResult
        Output of :func:`aria.homogeneity` (or :meth:`~aria.groups.setup.HomogeneitySetup.run`) for it.

    Returns
    -------
    list of ReportWarning
        One per caveat: tracks without features, dropped K, undefined z.

    Examples
    --------
    >>> import aria
    >>> from aria.report.html import homogeneity_warnings
    >>> res = aria.examples.tiny().homogeneity(k=None)  # the default sweep: K = 10, 20, 50, 100 dropped
    >>> [(w.kind, w.text) for w in homogeneity_warnings("tiny", res)]
    [('homogeneity', 'K = 10, 20, 50, 100 dropped: not below the 8 tracks with features')]
    """
    from aria.groups.engine import COLLAPSED_WARNING

    out = []
    c = result.pool
    if c.without_features:
        ex = result.excluded_tracks
        listing = _listing([f"{t} ({r})" for t, r in zip(ex["track"], ex["reason"], strict=True)], 5)
        out.append(ReportWarning(name, "failed tracks",
                           f"{c.without_features} of {c.score_tracks} tracks have no usable features "
                           f"({c.failed} failed, {c.absent_from_table} absent, {c.invalid} invalid) and are "
                           f"left out of groups and null: {listing}", "failed"))
    per_k: dict[str, list[str]] = {}
    for w in result.warnings:
        if w == COLLAPSED_WARNING or w.split(" of ")[0].isdigit() and "usable features" in w:
            continue
        head, sep, rest = w.partition(": ")
        if sep and head.startswith("K = ") and head[4:].isdigit():
            per_k.setdefault(rest, []).append(head[4:])  # one line for the same message at every K
            continue
        out.append(ReportWarning(name, "homogeneity", w, None))
    for rest, ks in per_k.items():
        out.append(ReportWarning(name, "homogeneity", f"K = {', '.join(ks)}: {rest}", "null"))
    return out


@validate_params({"name": "str", "diag": Diagnostics})
def method_warnings(name: str, diag: Diagnostics) -> list[ReportWarning]:
    """Warnings about one method's diagnostics (collapse, offset, exclusions, undefined values).

    Parameters
    ----------
    name : str
        Method name shown with each warning.
    diag : Diagnostics
        Result of :func:`aria.diagnose` for that method.

    Returns
    -------
    list of ReportWarning
        Empty for a query-dependent method without notes.

    Examples
    --------
    >>> import aria
    >>> from aria.report.html import method_warnings
    >>> d = aria.diagnose(aria.load_scores(aria.examples.path("offset-dominated")))
    >>> [w.kind for w in method_warnings("offset", d)]
    ['offset-dominated']
    >>> method_warnings("qd", aria.diagnose(aria.load_scores(aria.examples.path("query-dependent"))))
    []
    """
    out = []
    if diag.verdict == "collapsed":
        out.append(ReportWarning(name, "collapsed",
                           f"{diag.verdict_reason}; every query retrieves nearly the same tracks, so its "
                           "homogeneity numbers describe one fixed retrieved group, not attribution, and "
                           "it is excluded from rankings", "verdict"))
    elif diag.verdict == "offset-dominated":
        out.append(ReportWarning(name, "offset-dominated",
                           f"{diag.verdict_reason}; the ranking signal lives in a small residual "
                           "around a per-query offset (see the residual homogeneity)", "C_bar"))
    elif diag.verdict == "undetermined":
        out.append(ReportWarning(name, "undetermined", diag.verdict_reason, "verdict"))
    for note in diag.notes:
        if note.startswith("partial offset"):
            out.append(ReportWarning(name, "partial offset", note, "C_bar"))
    if diag.excluded_correlation:
        out.append(ReportWarning(name, "excluded columns",
                           f"{len(diag.excluded_correlation)} constant column(s) left out of rho_bar: "
                           + _listing(diag.excluded_correlation), "excluded"))
    if diag.excluded_concentration:
        out.append(ReportWarning(name, "excluded columns",
                           f"{len(diag.excluded_concentration)} all-zero column(s) left out of C_bar: "
                           + _listing(diag.excluded_concentration), "excluded"))
    for key, why in diag.undefined.items():
        out.append(ReportWarning(name, "undefined", f"{key}: {why}", None))
    return out


def _listing(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


@validate_params({"diagnostics": MappingOf(Diagnostics, min_len=1), "provenance": MappingOf(),
                  "sources": [None, MappingOf()], "comparison": [None, Comparison],
                  "extra_blocks": [None, MappingOf()], "extra_warnings": [None, list],
                  "top_blocks": [None, list], "n_tracks": [None, MappingOf()], "title": "str",
                  "figures": "boolean", "dpi": _DPI})
def build_report(
    diagnostics: Mapping[str, Diagnostics],
    *,
    provenance: dict,
    sources: Mapping[str, str] | None = None,
    comparison: Comparison | None = None,
    extra_blocks: Mapping[str, list[Block]] | None = None,
    extra_warnings: list[ReportWarning] | None = None,
    top_blocks: list[Block] | None = None,
    n_tracks: Mapping[str, int] | None = None,
    title: str = "Aria report",
    figures: bool = True,
    dpi: int = 80,
) -> ReportData:
    """Assemble a report from results computed by the public API.

    Parameters
    ----------
    diagnostics : mapping
        Method name -> Diagnostics (display order).
    provenance : dict
        Provenance record (:func:`aria.io.provenance.provenance_record`).
    sources : mapping, optional
        Method name -> input path shown in its section.
    comparison : Comparison, optional
        Shown as a "Method comparison" block (default: computed when there are
        several methods).
    extra_blocks : mapping, optional
        Method name -> further blocks (homogeneity, evidence...) after the diagnostics.
    extra_warnings : list of ReportWarning, optional
        Further warnings (failed tracks...).
    top_blocks : list of Block, optional
        Blocks shown after the comparison, before the per-method sections.
    n_tracks : mapping, optional
        Method name -> number of distinct tracks, shown with the matrix size.
    title : str
        Report title.
    figures : bool
        Include figures (every block's).
    dpi : int
        Resolution of every figure.

    Returns
    -------
    ReportData
        Ready for :func:`render_html`.

    Examples
    --------
    >>> import aria
    >>> from aria.io.provenance import provenance_record
    >>> from aria.report.html import build_report, render_html
    >>> d = aria.examples.diagnoses()
    >>> data = build_report(d, provenance=provenance_record({}, {"seed": 0}),
    ...                     comparison=aria.compare_methods(d), figures=False)
    >>> [m.verdict for m in data.methods]
    ['query-dependent', 'collapsed']
    >>> render_html(data).startswith("<!DOCTYPE html>")
    True
    """
    from aria.evaluate.compare import compare_methods

    if comparison is None and len(diagnostics) > 1:
        comparison = compare_methods(diagnostics)
    methods, warnings = [], []
    slugs: set[str] = set()
    for name, diag in diagnostics.items():
        slug = slugify(name)
        while slug in slugs:
            slug += "-x"
        slugs.add(slug)
        shape = f"{diag.n_segments} segments x {diag.n_queries} queries"
        if n_tracks and name in n_tracks:
            shape += f", {n_tracks[name]} tracks"
        sec = MethodSection(name=name, slug=slug, source=(sources or {}).get(name, ""), shape=shape,
                            verdict=diag.verdict, verdict_reason=diag.verdict_reason,
                            explanation=diag.explanation)
        sec.blocks.append(diagnostics_block(slug, diag, figures=figures, dpi=dpi))
        for b in (extra_blocks or {}).get(name, []):
            sec.blocks.append(b)
        methods.append(sec)
        warnings += method_warnings(name, diag)
    warnings += list(extra_warnings or [])
    blocks = []
    ranking: list[str] = []
    if comparison is not None:
        blocks.append(comparison_block(comparison, figures=figures, dpi=dpi))
        ranking = [m.name for m in comparison.ranked]
    blocks += list(top_blocks or [])
    return ReportData(title=title, methods=methods, warnings=warnings, provenance=provenance,
                      top_blocks=blocks, ranking=ranking if len(diagnostics) > 1 else [])


def _environment():
    try:
        import jinja2
    except ImportError:
        raise AriaDependencyError(
            "the HTML report needs jinja2; install it with: pip install 'aria-tda[notebook]' "
            "(or pip install jinja2)"
        ) from None
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


@validate_params({"data": ReportData})
def render_html(data: ReportData) -> str:
    """Render a report to one self-contained HTML document (jinja2, autoescaped).

    Parameters
    ----------
    data : ReportData
        The report's content, e.g. the output of :func:`build_report`.

    Returns
    -------
    str
        The HTML text.

    Examples
    --------
    >>> from aria.io.provenance import provenance_record
    >>> from aria.report.html import ReportData, render_html
    >>> html = render_html(ReportData("<Demo>", [], [], provenance_record({}, {})))
    >>> "&lt;Demo&gt;" in html, "<Demo>" in html
    (True, False)
    """
    env = _environment()
    text = (resources.files("aria.report") / "templates" / "report.html.j2").read_text(encoding="utf-8")
    template = env.from_string(text)
    refs = set()
    for sec in data.methods:
        for b in sec.blocks:
            refs |= _refs(b)
    for b in data.top_blocks:
        refs |= _refs(b)
    refs |= {w.ref for w in data.warnings if w.ref}
    missing = refs - _DEF_KEYS
    if missing:  # pragma: no cover - guards the definitions list against typos
        raise RuntimeError(f"report links to undefined definitions: {sorted(missing)}")
    prov = json_safe(data.provenance)
    return template.render(
        title=data.title,
        version=__version__,
        created=prov.get("created", ""),
        methods=data.methods,
        warnings=data.warnings,
        top_blocks=data.top_blocks,
        ranking=data.ranking,
        definitions=DEFINITIONS,
        provenance=prov,
        provenance_json=json.dumps(prov, indent=2, allow_nan=False),
    )


def _refs(block: Block) -> set[str]:
    out = set()
    for t in block.tables:
        out |= {c.ref for c in t.header if c.ref}
        for r in t.rows:
            out |= {c.ref for c in r.cells if c.ref}
    return out


@validate_params({"data": ReportData, "out_dir": "path"})
def write_figures(data: ReportData, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write every figure of a report as PNG and SVG into ``out_dir/figures/`` (atomically).

    Files are named ``<block id>-<n>.png`` / ``.svg``.

    Parameters
    ----------
    data : ReportData
        Output of :func:`build_report`.
    out_dir : path-like
        Report directory.

    Returns
    -------
    list of pathlib.Path
        The written files.

    Examples
    --------
    >>> import aria
    >>> from aria.io.provenance import provenance_record
    >>> import tempfile
    >>> from aria.report.html import build_report, write_figures
    >>> d = {"knn": aria.diagnose(aria.load_scores(aria.examples.path("bach-knn")))}
    >>> data = build_report(d, provenance=provenance_record({}, {}), dpi=30)
    >>> paths = write_figures(data, tempfile.mkdtemp())
    >>> sorted({p.suffix for p in paths}), paths[0].parent.name
    (['.png', '.svg'], 'figures')
    """
    import base64

    from aria.io.atomic import atomic_open

    blocks = list(data.top_blocks) + [b for m in data.methods for b in m.blocks]
    written = []
    for b in blocks:
        for i, f in enumerate(b.figures, start=1):
            stem = Path(out_dir) / "figures" / f"{b.id}-{i}"
            png = base64.b64decode(f.uri.split(",", 1)[1])
            for suffix, payload in ((".png", png), (".svg", f.svg)):
                if payload:
                    with atomic_open(stem.with_suffix(suffix), "wb") as fh:
                        fh.write(payload)
                    written.append(stem.with_suffix(suffix))
    return written


@validate_params({"html": "str", "out_dir": "path", "name": "str"})
def write_report(html: str, out_dir: str | os.PathLike[str], name: str = "report.html") -> Path:
    """Write the HTML report atomically into ``out_dir``.

    Parameters
    ----------
    html : str
        Output of :func:`render_html`.
    out_dir : path-like
        Destination directory (created if needed).
    name : str
        File name.

    Returns
    -------
    pathlib.Path
        Path of the written file.

    Examples
    --------
    >>> from aria.io.provenance import provenance_record
    >>> import tempfile
    >>> from aria.report.html import ReportData, render_html, write_report
    >>> html = render_html(ReportData("Demo", [], [], provenance_record({}, {})))
    >>> p = write_report(html, tempfile.mkdtemp())
    >>> p.name, p.read_text().count("<html")
    ('report.html', 1)
    """
    from aria.io.atomic import atomic_open

    path = Path(out_dir) / name
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(html)
    return path

