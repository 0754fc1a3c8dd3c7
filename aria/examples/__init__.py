"""The one registry of Aria's shipped examples.

Score matrices (``.npz``: ``scores``, ``segment_track``, ``query_ids``), each
regenerated bit for bit from its seed by :func:`generate`:

``query-dependent``, ``collapsed``, ``offset-dominated``
    Synthetic matrices with a known verdict (:mod:`aria.examples.synthetic`).
``bach-knn``, ``bach-random``, ``bach-collapsed``
    Synthetic attribution methods over 406 real Bach chorales
    (:mod:`aria.examples.bach_scores`), with the chorales' feature table
    (:func:`features_path`, built by :mod:`aria.examples.bach`), query modes
    (:func:`labels`) and a synthetic LDS ground truth (:func:`ground_truth`).

Examples
--------
>>> import aria
>>> aria.examples.NAMES[:3]
('query-dependent', 'collapsed', 'offset-dominated')
>>> aria.examples.path("collapsed").name
'collapsed.npz'
>>> aria.examples.is_bach("bach-knn")
True
"""

from __future__ import annotations

import importlib
from pathlib import Path

from aria.errors import AriaInputError
from aria.examples.files import shipped_file
from aria.params import Interval, Options, validate_params

__all__ = ["SYNTHETIC_NAMES", "BACH_NAMES", "NAMES", "path", "generate", "is_bach", "features_path",
           "labels", "ground_truth", "shipped_file"]

#: Synthetic matrices with a known verdict.
SYNTHETIC_NAMES = ("query-dependent", "collapsed", "offset-dominated")
#: Synthetic methods over the shipped Bach chorales (homogeneity, evidence and LDS examples).
BACH_NAMES = ("bach-knn", "bach-random", "bach-collapsed")
#: Every shipped example score matrix.
NAMES = SYNTHETIC_NAMES + BACH_NAMES


def _module(name: str):
    if name not in NAMES:
        raise AriaInputError(f"unknown example {name!r}; choose from {', '.join(NAMES)}")
    module = "aria.examples.bach_scores" if is_bach(name) else "aria.examples.synthetic"
    return importlib.import_module(module)


def is_bach(name: str) -> bool:
    """Whether ``name`` is one of the Bach chorale examples (they come with features and labels)."""
    return name in BACH_NAMES


@validate_params({"name": Options(NAMES)})
def path(name: str) -> Path:
    """Path of a shipped example score matrix ``.npz``.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    pathlib.Path
    """
    return _module(name).path(name)


@validate_params({"name": Options(NAMES), "seed": [None, "seed"]})
def generate(name: str, seed: int | None = None) -> dict:
    """Regenerate one example from its seed (equal to the shipped file).

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    seed : int, optional
        Generator seed (default: the seed the shipped file was made with).

    Returns
    -------
    dict of numpy.ndarray
    """
    module = _module(name)
    return module.generate(name, module.SEED if seed is None else seed)


def features_path() -> Path:
    """Path of the shipped Bach chorale feature table (Parquet, symbolic channel set)."""
    from aria.examples.bach import example_path

    return example_path()


@validate_params({"name": Options(BACH_NAMES), "column": Options(("mode", "key"))})
def labels(name: str = "bach-knn", column: str = "mode"):
    """Query labels (``mode`` or ``key``) of a Bach example, as a pandas Series indexed by query id."""
    from aria.examples import bach_scores

    return bach_scores.labels(name, column)


@validate_params({"n_subsets": Interval(int, 3, None), "seed": "seed", "noise": Interval(float, 0, None)})
def ground_truth(**kwargs):
    """Synthetic LDS ground truth over the Bach examples (:func:`aria.examples.bach_scores.ground_truth`)."""
    from aria.examples import bach_scores

    return bach_scores.ground_truth(**kwargs)
