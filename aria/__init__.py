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
"""

from aria import examples
from aria._version import __version__
from aria.diagnostics import Diagnostics, VerdictThresholds, classify, diagnose
from aria.errors import AriaDependencyError, AriaError, AriaInputError
from aria.io import load_query_metadata, load_scores, load_track_map, scores_from_array
from aria.residual import Rank1Axis, rank1_axis, residual_scores, write_residual

__all__ = [
    "__version__",
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
