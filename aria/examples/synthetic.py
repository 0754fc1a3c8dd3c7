"""Shipped example score matrices, reproducibly generated.

Three small synthetic matrices (1,000 segments of 200 tracks x 40 queries,
float32) with a known diagnosis, used by the README, the docs and the tests:

``query-dependent``
    Low-rank query-specific structure plus noise: each query favours its own
    tracks. Diagnosed ``query-dependent``.
``collapsed``
    One fixed training-side profile scaled per query plus weak noise: every
    query retrieves the same tracks. Diagnosed ``collapsed``.
``offset-dominated``
    The query-dependent matrix shifted by a large per-query constant.
    Diagnosed ``offset-dominated``.

:func:`generate` rebuilds them bit for bit from the seed; the test suite
checks that the shipped files equal a fresh generation.
"""

from __future__ import annotations

import numpy as np

from aria.params import Options, validate_params

__all__ = ["NAMES", "SEED", "generate"]

NAMES = ("query-dependent", "collapsed", "offset-dominated")
#: Seed of the example generator.
SEED = 20251124
_N_TRACKS, _SEGMENTS_PER_TRACK, _N_QUERIES, _RANK = 200, 5, 40, 8


@validate_params({"name": Options(NAMES), "seed": "seed"})
def generate(name: str, seed: int = SEED) -> dict[str, np.ndarray]:
    """Generate one example matrix.

    Parameters
    ----------
    name : str
        ``"query-dependent"``, ``"collapsed"`` or ``"offset-dominated"``.
    seed : int
        Generator seed; the shipped files were made with :data:`SEED`.

    Returns
    -------
    dict
        ``scores`` (float32, segments x queries), ``segment_track`` (str) and
        ``query_ids`` (str).
    """
    rng = np.random.default_rng([seed, NAMES.index(name)])
    n = _N_TRACKS * _SEGMENTS_PER_TRACK
    track_idx = np.repeat(np.arange(_N_TRACKS), _SEGMENTS_PER_TRACK)
    # Track-level latent factors shared by a track's segments.
    track_factors = rng.normal(size=(_N_TRACKS, _RANK))
    seg_factors = track_factors[track_idx] + 0.3 * rng.normal(size=(n, _RANK))
    query_factors = rng.normal(size=(_N_QUERIES, _RANK))
    noise = rng.normal(size=(n, _N_QUERIES))
    if name == "query-dependent":
        scores = seg_factors @ query_factors.T + 0.5 * noise
    elif name == "collapsed":
        profile = np.abs(seg_factors[:, 0]) + 0.5 * rng.normal(size=n)
        scale = rng.uniform(0.5, 2.0, size=_N_QUERIES)
        scores = np.outer(profile, scale) + 0.05 * noise
    else:  # offset-dominated
        base = seg_factors @ query_factors.T + 0.5 * noise
        scores = base + rng.uniform(8.0, 12.0, size=_N_QUERIES)[None, :]
    return {
        "scores": scores.astype(np.float32),
        "segment_track": np.array([f"track{t:03d}" for t in track_idx]),
        "query_ids": np.array([f"query{q:02d}" for q in range(_N_QUERIES)]),
    }


if __name__ == "__main__":  # pragma: no cover - build helper
    from aria.examples.files import build_examples_main

    build_examples_main(NAMES, generate, SEED)
