"""Example score matrices over the shipped Bach chorale feature table, reproducibly generated.

The score matrices of :mod:`aria.examples` use synthetic track ids; these use
the track ids of ``aria/examples/data/bach_chorales_symbolic.parquet`` (406
chorales, :mod:`aria.examples.bach`), so homogeneity, alignment, confounds
and single-query evidence run on real music features. They are *synthetic
attribution methods* (no model was trained): 812 training segments (two per
chorale) x 32 query chorales, float32.

``bach-knn``
    A musically meaningful, query-dependent method: each segment's score is
    a Gaussian kernel ``exp(-d^2 / 0.3)`` of the standardized feature
    distance ``d`` between its chorale and the query chorale (RMS over the
    feature dimensions), plus segment noise. Its top-K groups are musically
    alike.
``bach-random``
    Query-dependent but musically blind: a random low-rank score structure
    over the chorales. Diagnosed query-dependent; homogeneity near the null.
``bach-collapsed``
    One fixed profile over the chorales scaled per query plus weak noise:
    every query retrieves the same chorales. Diagnosed collapsed.

Each ``.npz`` holds ``scores``, ``segment_track`` (chorale ids),
``query_ids`` (``"q-<chorale>"``) and the query chorales' ``query_mode``
(major/minor) and ``query_key`` for confound analysis. :func:`ground_truth`
builds a synthetic LDS ground truth whose retraining targets follow the
``bach-knn`` structure (for demonstrating ``aria compare``; it is not a
measurement). The test suite checks that the shipped files equal a fresh
generation.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from aria.params import Interval, Options, validate_params

__all__ = ["NAMES", "SEED", "path", "generate", "labels", "ground_truth", "features_path", "write_all"]

NAMES = ("bach-knn", "bach-random", "bach-collapsed")
#: Seed of the generator.
SEED = 20251124
_SEGMENTS_PER_TRACK, _N_QUERIES, _RANK = 2, 32, 8


def features_path() -> Path:
    """Path of the shipped Bach chorale feature table (Parquet)."""
    from aria.examples.bach import example_path

    return example_path()


@validate_params({"name": Options(NAMES)})
def path(name: str) -> Path:
    """Path of a shipped Bach example score matrix ``.npz``.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    pathlib.Path
    """
    from aria.examples.files import shipped_file

    return shipped_file(f"{name}.npz")


def _feature_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Standardized concatenation of every numeric / list feature column (zero-variance dims dropped)."""
    from aria.features.channels import load_channel_set

    cset = load_channel_set("symbolic")
    blocks = []
    for f in cset.features:
        col = frame[f.name]
        if f.dim == 1 and not isinstance(col.iloc[0], list | np.ndarray):
            blocks.append(col.to_numpy(dtype=np.float64)[:, None])
        else:
            blocks.append(np.vstack([np.asarray(v, dtype=np.float64) for v in col]))
    x = np.hstack(blocks)
    sd = x.std(axis=0)
    keep = sd > 0
    return (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]


def _table(features: str | os.PathLike[str] | None) -> pd.DataFrame:
    frame = pd.read_parquet(features or features_path())
    frame = frame[frame["status"] == "ok"].sort_values("track", kind="stable").reset_index(drop=True)
    return frame


@validate_params({"name": Options(NAMES), "seed": "seed", "features": [None, "path"]})
def generate(name: str, seed: int = SEED, *, features: str | os.PathLike[str] | None = None) -> dict:
    """Generate one Bach example matrix.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    features : path-like, optional
        Feature table (default: the shipped Bach table).

    Returns
    -------
    dict
        ``scores`` (float32, segments x queries), ``segment_track``, ``query_ids``,
        ``query_mode``, ``query_key`` (str arrays).
    """
    frame = _table(features)
    tracks = np.asarray(frame["track"].astype(str).tolist(), dtype=str)
    m = tracks.size
    # the query chorales and the segment layout are shared by every method
    base = np.random.default_rng([seed, 0])
    qidx = np.sort(base.choice(m, size=_N_QUERIES, replace=False))
    track_idx = np.repeat(np.arange(m), _SEGMENTS_PER_TRACK)
    n = track_idx.size
    rng = np.random.default_rng([seed, 1 + NAMES.index(name)])
    noise = rng.normal(size=(n, _N_QUERIES))
    if name == "bach-knn":
        x = _feature_matrix(frame)
        d = np.sqrt(((x[:, None, :] - x[None, qidx, :]) ** 2).sum(axis=2) / x.shape[1])  # (M, Q)
        kernel = np.exp(-(d ** 2) / 0.3)  # a sharp similarity kernel: each query favours its neighbours
        scores = kernel[track_idx] + 0.15 * kernel.std() * noise
    elif name == "bach-random":
        tf = rng.normal(size=(m, _RANK))
        qf = rng.normal(size=(_N_QUERIES, _RANK))
        scores = (tf @ qf.T)[track_idx] + 0.5 * noise
    else:  # bach-collapsed
        profile = np.abs(rng.normal(size=m))[track_idx] + 0.3 * rng.normal(size=n)
        scores = np.outer(profile, rng.uniform(0.5, 2.0, size=_N_QUERIES)) + 0.05 * noise
    return {
        "scores": scores.astype(np.float32),
        "segment_track": tracks[track_idx],
        "query_ids": np.array([f"q-{t}" for t in tracks[qidx]]),
        "query_mode": np.asarray(frame["mode"].astype(str).tolist(), dtype=str)[qidx],
        "query_key": np.asarray(frame["key"].astype(str).tolist(), dtype=str)[qidx],
    }


@validate_params({"name": Options(NAMES), "column": Options(("mode", "key"))})
def labels(name: str = "bach-knn", column: str = "mode") -> pd.Series:
    """Query labels of a shipped Bach example (``mode``: major/minor, or ``key``).

    Parameters
    ----------
    name : str
        One of :data:`NAMES` (they share their queries).
    column : str
        ``"mode"`` or ``"key"``.

    Returns
    -------
    pandas.Series
        Indexed by query id, named ``column``.
    """
    with np.load(path(name), allow_pickle=False) as z:
        return pd.Series(z[f"query_{column}"], index=z["query_ids"].astype(str), name=column)


@validate_params({"n_subsets": Interval(int, 3, None), "seed": "seed", "noise": Interval(float, 0, None)})
def ground_truth(n_subsets: int = 64, seed: int = SEED, *, noise: float = 0.5):
    """Synthetic LDS ground truth for the Bach examples (demonstration only).

    Retraining subsets are random halves of the 812 segments; the target of
    subset ``s`` for query ``q`` is the sum over its segments of the
    ``bach-knn`` scores, plus Gaussian noise of ``noise`` times the targets'
    standard deviation. ``bach-knn`` therefore has a high LDS and the other
    methods a low one. It is not a measurement of any model.

    Parameters
    ----------
    n_subsets : int
        Number of retraining subsets.
    seed : int
        Generator seed.
    noise : float
        Relative noise level.

    Returns
    -------
    aria.lds.GroundTruth
    """
    from aria.evaluate.lds import GroundTruth

    with np.load(path("bach-knn"), allow_pickle=False) as z:
        s = z["scores"].astype(np.float64)
        qids = z["query_ids"].astype(str)
    rng = np.random.default_rng([seed, 99])
    mask = rng.random((n_subsets, s.shape[0])) < 0.5
    targets = mask.astype(np.float64) @ s
    targets += noise * targets.std(axis=0, keepdims=True) * rng.normal(size=targets.shape)
    return GroundTruth(mask, targets, query_ids=qids, source="aria.examples_bach_scores.ground_truth")


def write_all(directory: str | os.PathLike[str], seed: int = SEED) -> list[Path]:
    """Write every Bach example to ``directory`` (used to build the shipped files).

    Parameters
    ----------
    directory : path-like
        Output folder.
    seed : int
        Generator seed.

    Returns
    -------
    list of pathlib.Path
    """
    from aria.examples.files import write_npz_examples

    return write_npz_examples(directory, NAMES, generate, seed)


if __name__ == "__main__":  # pragma: no cover - build helper
    import sys

    for p in write_all(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "data" / "examples"):
        print(p)
