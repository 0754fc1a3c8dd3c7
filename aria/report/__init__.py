"""Presentation only: terminal text, figures and the self-contained HTML report.

Modules
-------
text
    Plain-text rendering for the terminal.
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

import importlib

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
    "ReportRequest": "aria.report.pipeline",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'aria.report' has no attribute {name!r}")
