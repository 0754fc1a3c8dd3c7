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

and :func:`tiny`, the in-memory fixture of eight tracks and two queries that the docstring
examples share (:mod:`aria.examples.fixture`); :func:`diagnoses` diagnoses shipped matrices by name.

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
           "labels", "ground_truth", "shipped_file", "diagnoses", "tiny"]

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
    """Whether ``name`` is one of the Bach chorale examples (they come with features and labels).

    Examples
    --------
    >>> import aria
    >>> aria.examples.is_bach("bach-random"), aria.examples.is_bach("collapsed")
    (True, False)
    """
    return name in BACH_NAMES


@validate_params({"name": Options(NAMES)})
def path(name: str) -> Path:
    """Path of a shipped example score matrix ``.npz``.

    Parameters
    ----------
    name : str
        Example name, one of :data:`NAMES`.

    Returns
    -------
    pathlib.Path
        The shipped ``<name>.npz``.

    Examples
    --------
    >>> import aria
    >>> aria.examples.path("query-dependent").name
    'query-dependent.npz'
    >>> aria.load_scores(aria.examples.path("query-dependent")).shape
    (1000, 40)
    """
    return shipped_file(f"{name}.npz")


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
        ``scores``, ``segment_track``, ``query_ids`` (and more for the Bach examples).

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> ex = aria.examples.generate("collapsed")
    >>> sorted(ex)
    ['query_ids', 'scores', 'segment_track']
    >>> with np.load(aria.examples.path("collapsed")) as f:
    ...     bool(np.array_equal(f["scores"], ex["scores"]))
    ...
    True
    """
    module = _module(name)
    return module.generate(name, module.SEED if seed is None else seed)


def features_path() -> Path:
    """Path of the shipped Bach chorale feature table (Parquet, symbolic channel set).

    Examples
    --------
    >>> import aria
    >>> aria.examples.features_path().name
    'bach_chorales_symbolic.parquet'
    >>> aria.load_feature_table(aria.examples.features_path(), aria.load_channel_set("symbolic")).n_rows
    406
    """
    from aria.examples.bach import example_path

    return example_path()


@validate_params({"name": Options(BACH_NAMES), "column": Options(("mode", "key"))})
def labels(name: str = "bach-knn", column: str = "mode"):
    """Query labels (``mode`` or ``key``) of a Bach example, as a pandas Series indexed by query id.

    Examples
    --------
    >>> import aria
    >>> modes = aria.examples.labels("bach-knn")
    >>> sorted(modes.unique())
    ['major', 'minor']
    """
    from aria.examples import bach_scores

    return bach_scores.labels(name, column)


@validate_params({"n_subsets": Interval(int, 3, None), "seed": "seed", "noise": Interval(float, 0, None)})
def ground_truth(**kwargs):
    """Synthetic LDS ground truth over the Bach examples (:func:`aria.examples.bach_scores.ground_truth`).

    Examples
    --------
    >>> import aria
    >>> gt = aria.examples.ground_truth()
    >>> gt.subsets.shape[1]
    812
    """
    from aria.examples import bach_scores

    return bach_scores.ground_truth(**kwargs)


def diagnoses(*names: str) -> dict:
    """Diagnostics of shipped example matrices, by name (what :func:`aria.compare_methods` takes).

    Parameters
    ----------
    *names : str
        Names from :data:`NAMES` (default: ``"bach-knn"`` and ``"bach-collapsed"``).

    Returns
    -------
    dict of str -> aria.diagnostics.reliability.Diagnostics
        In the order of ``names``.

    Examples
    --------
    >>> import aria
    >>> {name: d.verdict for name, d in aria.examples.diagnoses("query-dependent", "collapsed").items()}
    {'query-dependent': 'query-dependent', 'collapsed': 'collapsed'}
    """
    from aria.diagnostics.reliability import diagnose
    from aria.io.scores import load_scores

    return {name: diagnose(load_scores(path(name))) for name in names or ("bach-knn", "bach-collapsed")}


def tiny():
    """The tiny in-memory example the docstring examples share (:func:`aria.examples.fixture.tiny`).

    Eight tracks with one feature ``x = 0..7``, two queries scoring ``-|x - 1|`` and ``-|x - 6|``.

    Returns
    -------
    aria.examples.fixture.TinyExample
        Channel set, feature table, scores and labels, built afresh (identically) on every call.

    Examples
    --------
    >>> import aria
    >>> t = aria.examples.tiny()
    >>> t.scores.shape, t.features.n_tracks
    ((8, 2), 8)
    """
    from aria.examples.fixture import tiny as build

    return build()
