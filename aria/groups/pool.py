"""The pool: tracks of a score matrix that have usable features, and their pairwise similarities."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aria.features.table import FeatureTable
from aria.groups.similarity import LCSSimilarity, VectorSimilarity

__all__ = ["PoolCounts", "Pool", "build_pool", "PoolSimilarity"]


@dataclass
class PoolCounts:
    """How many tracks could take part, and why the others could not.

    The ``counts`` of a :class:`Pool`; :meth:`to_dict` is their JSON form.

    Attributes
    ----------
    score_tracks : int
        Distinct tracks in the score matrix (``M``).
    pool : int
        Tracks with usable features (eligible for groups and the null).
    without_features : int
        Score-matrix tracks left out (``score_tracks - pool``).
    absent_from_table : int
        ... of which have no row in the feature table.
    failed : int
        ... of which have a failed extraction.
    invalid : int
        ... of which have a null or non-finite feature.
    unmatched_feature_rows : int
        Usable feature-table rows whose track is not in the score matrix.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.groups.pool import build_pool
    >>> c = build_pool(np.array(["t0", "t1", "t9"]), aria.examples.tiny().features).counts
    >>> c.score_tracks, c.pool, c.without_features, c.absent_from_table
    (3, 2, 1, 1)
    """

    score_tracks: int
    pool: int
    without_features: int
    absent_from_table: int
    failed: int
    invalid: int
    unmatched_feature_rows: int

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return dict(self.__dict__)


@dataclass
class Pool:
    """Tracks eligible for groups: in the score matrix and with usable features, in track order.

    Attributes
    ----------
    track_ids : numpy.ndarray
        Pool track ids (str), in track order.
    rows : numpy.ndarray
        Row of each pool track in the track score matrix.
    features : FeatureTable
        Features aligned with ``track_ids``.
    counts : PoolCounts
        Exclusion counts.
    excluded : pandas.DataFrame
        Score-matrix tracks left out, with columns ``track`` and ``reason``.

    Examples
    --------
    >>> import aria
    >>> pool = aria.examples.tiny().prepare().pool
    >>> pool.size, pool.rows.tolist()[:3], pool.excluded.empty
    (8, [0, 1, 2], True)
    """

    track_ids: np.ndarray
    rows: np.ndarray
    features: FeatureTable
    counts: PoolCounts
    excluded: pd.DataFrame

    @property
    def size(self) -> int:
        """Number of pool tracks."""
        return int(self.track_ids.size)


def build_pool(track_ids: np.ndarray, features: FeatureTable) -> Pool:
    """Match score-matrix tracks with feature-table rows (by string form of the id).

    Parameters
    ----------
    track_ids : numpy.ndarray
        Track ids of the track score matrix, in its row (track) order.
    features : FeatureTable
        Usable features.

    Returns
    -------
    Pool
        Matched tracks in score-matrix order, counts and exclusions.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.groups.pool import build_pool
    >>> pool = build_pool(np.array(["t2", "t0", "nope"]), aria.examples.tiny().features)
    >>> pool.track_ids.tolist(), pool.rows.tolist()
    (['t2', 't0'], [0, 1])
    >>> pool.excluded.to_dict("records")
    [{'track': 'nope', 'reason': 'no row in the feature table'}]
    """
    tids = np.asarray([str(t) for t in track_ids], dtype=object).astype(str)
    ft_pos = pd.Index(features.track_ids).get_indexer(tids)
    rows = np.flatnonzero(ft_pos >= 0)
    excluded_reason = dict(zip(features.excluded["track"].astype(str), features.excluded["reason"],
                               strict=True))
    missing = tids[ft_pos < 0]
    reasons = np.array([excluded_reason.get(t, "no row in the feature table") for t in missing],
                       dtype=object)
    failed = int(sum(r.startswith("failed") for r in reasons))
    absent = int(sum(r == "no row in the feature table" for r in reasons))
    matched = np.zeros(features.n_tracks, dtype=bool)
    matched[ft_pos[rows]] = True
    counts = PoolCounts(
        score_tracks=int(tids.size), pool=int(rows.size), without_features=int(missing.size),
        absent_from_table=absent, failed=failed, invalid=int(missing.size) - absent - failed,
        unmatched_feature_rows=int((~matched).sum()),
    )
    return Pool(tids[rows], rows, features.take(ft_pos[rows]), counts,
                pd.DataFrame({"track": missing, "reason": reasons.astype(str)}))


class PoolSimilarity:
    """Similarity evaluators of every feature over a pool (``s_j`` fixed on the pool).

    Parameters
    ----------
    features : FeatureTable
        Pool-aligned features.
    mapping : str
        Distance -> similarity mapping of vector features (``"inverse"`` or ``"exp"``).

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.groups.pool import PoolSimilarity
    >>> psim = PoolSimilarity(aria.examples.tiny().features)
    >>> psim.pairs("x", np.array([0, 0]), np.array([1, 7])).round(3).tolist()
    [0.71, 0.259]
    """

    def __init__(self, features: FeatureTable, mapping: str = "inverse") -> None:
        self.channel_set = features.channel_set
        self.mapping = mapping
        self.features = self.channel_set.feature_names
        self.channels = self.channel_set.channels
        self.n = features.n_tracks
        self._features = features
        self._eval: dict[str, VectorSimilarity | LCSSimilarity] = {}
        for f in self.channel_set.features:
            if f.kind == "vector":
                self._eval[f.name] = VectorSimilarity(features.vectors[f.name], mapping)
            else:
                self._eval[f.name] = LCSSimilarity(features.sequences[f.name])
        # channel membership matrix (C x F), rows averaging the channel's features
        self.channel_weights = np.zeros((len(self.channels), len(self.features)))
        for ci, c in enumerate(self.channels):
            idx = [self.features.index(f.name) for f in self.channel_set.features_of(c)]
            self.channel_weights[ci, idx] = 1.0 / len(idx)
        self._fingerprint: str | None = None

    def dropped_dimensions(self) -> dict[str, int]:
        """Vector feature -> number of dimensions dropped because ``s_j = 0``."""
        return {k: v.n_dropped for k, v in self._eval.items()
                if isinstance(v, VectorSimilarity) and v.n_dropped}

    def pairs(self, feature: str, ia: np.ndarray, ib: np.ndarray, *, workers: int = 1) -> np.ndarray:
        """Similarities of pool-index pairs for one feature."""
        return self._eval[feature].pairs(ia, ib, workers=workers)

    def channel_means(self, h_feature: np.ndarray) -> np.ndarray:
        """``H_c = mean over f in F_c of H_f`` (spec section 3; last axis features -> channels).

        Parameters
        ----------
        h_feature : numpy.ndarray
            (..., F) ``H_f`` values.

        Returns
        -------
        numpy.ndarray
            (..., C): ``h_feature @ channel_weights.T``, each row of ``channel_weights`` averaging
            the features of one channel.
        """
        return h_feature @ self.channel_weights.T

    def fingerprint(self) -> str:
        """SHA-256 over the pool's track ids, feature values, similarities and mapping."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            ft = self._features
            h.update(json.dumps({"mapping": self.mapping, "channels": self.channel_set.to_dict()["channels"],
                                 "features": self.channel_set.to_dict()["features"]},
                                sort_keys=True).encode())
            h.update("\0".join(ft.track_ids.tolist()).encode())
            for f in self.channel_set.features:
                h.update(f.name.encode() + b"\0")
                if f.kind == "vector":
                    h.update(np.ascontiguousarray(ft.vectors[f.name], dtype=np.float64).tobytes())
                else:
                    s = ft.sequences[f.name]
                    h.update(np.ascontiguousarray(s.offsets, dtype=np.int64).tobytes())
                    h.update(np.ascontiguousarray(s.values, dtype=np.uint8).tobytes())
            self._fingerprint = h.hexdigest()
        return self._fingerprint
