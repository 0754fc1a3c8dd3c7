"""Aria: can a music training-data-attribution result be trusted, and along which musical aspects.

The package follows the data flow (see ``docs/overview.md``):

``aria.io``
    Files in and out: score matrices, track maps, query metadata, ground
    truth, validation, streaming, atomic output, provenance.
``aria.diagnostics``
    Reliability diagnostics of the raw matrix (spec section 1) and its rank-1 residual.
``aria.groups``
    Per-query normalization, segment -> track aggregation, top-K groups against
    random reference groups: musical homogeneity, alignment, confounds (spec 2-6).
``aria.features``
    Channel sets, feature tables, feature extraction from MIDI and audio.
``aria.evaluate``
    LDS, method comparison, single-query evidence, the source papers' evaluation toolkit
    (MUCS skew, unlearning, counterfactual AUC, top-k overlap, rank ensembles) and bootstraps.
``aria.signatures``
    Fixed-seed Johnson-Lindenstrauss signatures, cosine scores, shares, two rights channels.
``aria.report``
    Text, figures and the HTML report.
``aria.examples``
    Shipped example matrices and features.

The names below are the public API; each is imported on first use, so
``import aria`` stays light (no scipy, pandas or xarray until needed).

Examples
--------
>>> import aria
>>> scores = aria.load_scores(aria.examples.path("collapsed"))
>>> aria.diagnose(scores).verdict
'collapsed'
"""

from __future__ import annotations

from aria._lazy import attach
from aria._version import __version__
from aria.errors import AriaDependencyError, AriaError, AriaInputError

#: Public name -> module that defines it (imported lazily, PEP 562).
_LAZY = {
    # io
    "load_scores": "aria.io.scores",
    "scores_from_array": "aria.io.scores",
    "inspect_scores": "aria.io.inspect",
    "load_track_map": "aria.io.tables",
    "load_query_metadata": "aria.io.tables",
    # diagnostics
    "Diagnostics": "aria.diagnostics.reliability",
    "diagnose": "aria.diagnostics.reliability",
    "VerdictThresholds": "aria.diagnostics.verdict",
    "classify": "aria.diagnostics.verdict",
    "Rank1Axis": "aria.diagnostics.residual",
    "rank1_axis": "aria.diagnostics.residual",
    "residual_scores": "aria.diagnostics.residual",
    "write_residual": "aria.diagnostics.residual",
    "reliability_score": "aria.diagnostics.reliability_score",
    "ReliabilityScore": "aria.diagnostics.reliability_score",
    "ReliabilityParameters": "aria.diagnostics.reliability_score",
    # groups
    "normalize_columns": "aria.groups.normalize",
    "TrackScores": "aria.groups.aggregate",
    "track_scores": "aria.groups.aggregate",
    "lcs_similarity": "aria.groups.similarity",
    "NullDistribution": "aria.groups.null",
    "HomogeneityResult": "aria.groups.result",
    "MatrixHomogeneity": "aria.groups.result",
    "homogeneity": "aria.groups.engine",
    "AlignmentResult": "aria.groups.alignment",
    "axis_alignment": "aria.groups.alignment",
    "ConfoundResult": "aria.groups.confound",
    "confound_analysis": "aria.groups.confound",
    # features
    "ChannelSet": "aria.features.channels",
    "load_channel_set": "aria.features.channels",
    "FeatureTable": "aria.features.table",
    "feature_table_from_frame": "aria.features.table",
    "load_feature_table": "aria.features.table",
    # evaluate
    "Comparison": "aria.evaluate.compare",
    "compare_methods": "aria.evaluate.compare",
    "QueryEvidence": "aria.evaluate.evidence",
    "query_evidence": "aria.evaluate.evidence",
}
#: Public modules, also imported on first use (``aria.plot`` and ``aria.report`` need the notebook extra).
_MODULES = {
    "examples": "aria.examples",
    "evaluate": "aria.evaluate",
    "io": "aria.io",
    "lds": "aria.evaluate.lds",
    "plot": "aria.report.plot",
    "report": "aria.report",
    "signatures": "aria.signatures",
}


__getattr__, __dir__ = attach(__name__, _LAZY, _MODULES)

__all__ = ["__version__", "AriaDependencyError", "AriaError", "AriaInputError", *_LAZY, *_MODULES]
