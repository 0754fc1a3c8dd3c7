"""Aria: can a music training-data-attribution result be trusted, and along which musical aspects.

Main entry points
-----------------
load_scores
    Read a score matrix (training segments x queries) from ``.npy``, ``.npz``,
    netCDF, zarr or torch files as a labelled :class:`xarray.DataArray`.
diagnose
    Reliability diagnostics (inter-query correlation, energy ratios,
    concentration, verdict) in one streaming pass.
rank1_axis, write_residual, residual_scores
    The dominant rank-1 axis and the rank-1 residual.
homogeneity
    Musical homogeneity of each query's top-K tracks against random groups,
    per channel (with normalization, K sweep, residual, alignment, confounds).
load_channel_set, load_feature_table
    Channel sets (``features/*.toml``) and per-track feature tables.
track_scores, normalize_columns
    Per-query normalization and segment -> track aggregation.
axis_alignment, confound_analysis
    Axis-channel alignment and per-label stratification.
compare_methods, query_evidence, lds
    Side-by-side comparison of methods (with LDS ground truth), single-query
    evidence, linear datamodeling score.
plot, report
    Figures (matplotlib) and the self-contained HTML report; imported on first
    use because they need the ``notebook`` extra.
"""

from aria import examples, lds
from aria._version import __version__
from aria.aggregate import TrackScores, track_scores
from aria.alignment import AlignmentResult, axis_alignment
from aria.channels import ChannelSet, load_channel_set
from aria.compare import Comparison, compare_methods
from aria.confound import ConfoundResult, confound_analysis
from aria.diagnostics import Diagnostics, VerdictThresholds, classify, diagnose
from aria.errors import AriaDependencyError, AriaError, AriaInputError
from aria.evidence import QueryEvidence, query_evidence
from aria.featuretable import FeatureTable, feature_table_from_frame, load_feature_table
from aria.homogeneity import HomogeneityResult, MatrixHomogeneity, NullDistribution, homogeneity
from aria.io import load_query_metadata, load_scores, load_track_map, scores_from_array
from aria.normalize import normalize_columns
from aria.residual import Rank1Axis, rank1_axis, residual_scores, write_residual
from aria.similarity import lcs_similarity


def __getattr__(name: str):
    # aria.plot and aria.report need matplotlib/jinja2 (the ``notebook`` extra): import lazily.
    if name in ("plot", "report"):
        import importlib

        return importlib.import_module(f"aria.{name}")
    raise AttributeError(f"module 'aria' has no attribute {name!r}")


__all__ = [
    "__version__",
    "Comparison",
    "QueryEvidence",
    "compare_methods",
    "lds",
    "query_evidence",
    "AlignmentResult",
    "ChannelSet",
    "ConfoundResult",
    "FeatureTable",
    "HomogeneityResult",
    "MatrixHomogeneity",
    "NullDistribution",
    "TrackScores",
    "axis_alignment",
    "confound_analysis",
    "feature_table_from_frame",
    "homogeneity",
    "lcs_similarity",
    "load_channel_set",
    "load_feature_table",
    "normalize_columns",
    "track_scores",
    "AriaDependencyError",
    "AriaError",
    "AriaInputError",
    "Diagnostics",
    "Rank1Axis",
    "VerdictThresholds",
    "classify",
    "diagnose",
    "examples",
    "load_query_metadata",
    "load_scores",
    "load_track_map",
    "rank1_axis",
    "residual_scores",
    "scores_from_array",
    "write_residual",
]
