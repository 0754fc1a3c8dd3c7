"""Presentation only: terminal text, figures and the self-contained HTML report.

Modules
-------
text
    Plain-text rendering for the terminal (diagnostics, comparison, evidence, homogeneity),
    with the one number formatter :func:`~aria.report.text.fmt_number`.
reliability
    Plain-text rendering of the ground-truth-free reliability score.
plot
    matplotlib figures (needs the ``notebook`` extra).
html
    Report blocks and the jinja2 HTML rendering.
pipeline
    :func:`make_report`: the one report pipeline the CLI and the notebook call.

The HTML functions are imported on first use (they need jinja2 and matplotlib).
"""

from __future__ import annotations

from aria._lazy import attach

_LAZY = {
    "ReportData": "aria.report.html",
    "ReportWarning": "aria.report.html",
    "build_report": "aria.report.html",
    "render_html": "aria.report.html",
    "write_report": "aria.report.html",
    "write_figures": "aria.report.html",
    "diagnostics_block": "aria.report.html",
    "comparison_block": "aria.report.html",
    "homogeneity_blocks": "aria.report.html",
    "homogeneity_warnings": "aria.report.html",
    "evidence_block": "aria.report.html",
    "method_warnings": "aria.report.html",
    "slugify": "aria.report.html",
    "make_report": "aria.report.pipeline",
    "Report": "aria.report.pipeline",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = attach(__name__, _LAZY)
