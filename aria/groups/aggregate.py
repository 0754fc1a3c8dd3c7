"""Segment -> track aggregation of normalized scores (spec section 2, Eq. 1), streamed.

``T[m, q] = mean over the segments i of track m of normalized S[i, q]``.

Nothing here loops over segments in Python: block sums use ``np.add.reduceat``
over rows sorted by track and per-column sums use ``np.bincount``. Large
matrices (e.g. a 4 GB memory-mapped ``.npy``) are streamed with
:func:`aria.io.streaming.iter_blocks` and never loaded whole:

- ``zscore`` is affine per column, so ``T = (track_mean(S) - mean_q) / std_q``:
  one pass over the rows gives the per-track sums and the column moments
  (each block centred on its own mean and merged with Chan et al.'s pairwise
  update, so large offsets do not cancel). The rank-1 residual ``S_res = S (I - v1 v1^T)`` is linear in
  ``S`` too: its track means are ``T_S (I - v1 v1^T)`` and its column moments
  are accumulated in the same pass.
- ``rank`` needs whole columns: they are processed in blocks of query
  columns (``rank_block_bytes`` of float64 at a time, default 512 MiB), each
  block read row-chunk by row-chunk, ranked column by column (optionally in
  worker threads) and averaged per track with ``np.bincount``.

Results are bit-identical for any ``chunk_rows`` and any number of workers at
a fixed ``block_rows``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from aria.errors import AriaInputError
from aria.groups.normalize import (
    DEFAULT_KURTOSIS_THRESHOLD,
    METHODS,
    ColumnMoments,
    NormalizationReport,
    average_ranks,
    choose_method,
    zero_std_mask,
)
from aria.io.streaming import DEFAULT_BLOCK_ROWS, iter_blocks
from aria.io.validate import QUERY, TRACK, check_finite
from aria.params import STREAMING, Array, Interval, Options, validate_params

__all__ = [
    "TrackIndex",
    "ScoreScan",
    "TrackScores",
    "track_mean",
    "scan_scores",
    "track_scores",
]

#: Default float64 bytes of one query-column block in the rank pass.
DEFAULT_RANK_BLOCK_BYTES = 512 * 2**20


@dataclass
class TrackIndex:
    """Segment -> track coding.

    Attributes
    ----------
    track_ids : numpy.ndarray
        Distinct track ids, sorted (the "track order" used to break ties).
    codes : numpy.ndarray
        int64 position in ``track_ids`` of each segment's track.
    counts : numpy.ndarray
        Number of segments of each track.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.aggregate import TrackIndex
    >>> idx = TrackIndex.from_segment_track(np.array(["b", "a", "b", "c"]))
    >>> idx.track_ids.tolist(), idx.codes.tolist(), idx.counts.tolist()
    (['a', 'b', 'c'], [1, 0, 1, 2], [1, 2, 1])
    """

    track_ids: np.ndarray
    codes: np.ndarray
    counts: np.ndarray

    @classmethod
    def from_segment_track(cls, segment_track: np.ndarray) -> TrackIndex:
        """Build from one track id per segment (ids sorted as :meth:`Rank1Axis.track_u1` does)."""
        codes, uniques = pd.factorize(pd.Series(np.asarray(segment_track)), sort=True)
        codes = codes.astype(np.int64)
        return cls(np.asarray(uniques), codes, np.bincount(codes, minlength=len(uniques)))

    @classmethod
    def from_scores(cls, scores: xr.DataArray) -> TrackIndex:
        """Build from a score matrix's ``track`` coordinate."""
        return cls.from_segment_track(np.asarray(scores.coords[TRACK].values))

    @property
    def n_tracks(self) -> int:
        """Number of tracks ``M``."""
        return int(self.track_ids.size)

    @property
    def track_strings(self) -> np.ndarray:
        """Track ids as strings (how feature tables are matched)."""
        return np.asarray([str(t) for t in self.track_ids], dtype=object).astype(str)


def _block_track_sums(block: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-track sums of a block's rows: (distinct codes, sums)."""
    if codes.size > 1 and np.any(codes[1:] < codes[:-1]):
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
        block = block[order]
    starts = np.concatenate(([0], np.flatnonzero(codes[1:] != codes[:-1]) + 1))
    return codes[starts], np.add.reduceat(block, starts, axis=0)


def track_mean(values: np.ndarray, index: TrackIndex) -> np.ndarray:
    """Eq. 1 for an in-memory matrix: per-track mean of the rows.

    Parameters
    ----------
    values : numpy.ndarray
        (N, Q) values (e.g. normalized scores).
    index : TrackIndex
        Segment -> track coding.

    Returns
    -------
    numpy.ndarray
        (M, Q) float64 track means, rows in ``index.track_ids`` order.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.aggregate import TrackIndex, track_mean
    >>> idx = TrackIndex.from_segment_track(np.array(["a", "a", "b"]))
    >>> track_mean(np.array([[1.0, 4.0], [3.0, 2.0], [5.0, 0.0]]), idx).tolist()
    [[2.0, 3.0], [5.0, 0.0]]
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    codes, sums = _block_track_sums(v, index.codes)
    out = np.zeros((index.n_tracks, v.shape[1]))
    out[codes] = sums
    return out / index.counts[:, None]


class _Moments:
    """Streaming column moments, merged block by block.

    Each block is centred on its own mean and merged with Chan et al.'s / Pébay's pairwise
    update (float64), so a large offset never cancels catastrophically.
    """

    def __init__(self, higher: bool) -> None:
        self.higher = higher
        self.n = 0
        self.mean: np.ndarray | None = None
        self.m2 = self.m3 = self.m4 = None

    def add(self, block: np.ndarray) -> None:
        nb = block.shape[0]
        mb = block.mean(axis=0)
        d = block - mb
        d2 = d * d
        m2b = d2.sum(axis=0)
        if self.higher:
            m3b = (d2 * d).sum(axis=0)
            d2 *= d2
            m4b = d2.sum(axis=0)
        else:
            m3b = m4b = None
        if self.mean is None:
            self.n, self.mean, self.m2, self.m3, self.m4 = nb, mb, m2b, m3b, m4b
            return
        na = self.n
        n = na + nb
        delta = mb - self.mean
        m2a = self.m2
        if self.higher:
            m3a = self.m3
            self.m4 = (self.m4 + m4b + delta ** 4 * (na * nb * (na * na - na * nb + nb * nb) / n ** 3)
                       + 6 * delta ** 2 * (na * na * m2b + nb * nb * m2a) / n ** 2
                       + 4 * delta * (na * m3b - nb * m3a) / n)
            self.m3 = (m3a + m3b + delta ** 3 * (na * nb * (na - nb) / n ** 2)
                       + 3 * delta * (na * m2b - nb * m2a) / n)
        self.m2 = m2a + m2b + delta ** 2 * (na * nb / n)
        self.mean = self.mean + delta * (nb / n)
        self.n = n

    def result(self) -> ColumnMoments:
        n = self.n
        return ColumnMoments(n, self.mean, np.maximum(self.m2 / n, 0.0),
                             self.m3 / n if self.higher else None,
                             self.m4 / n if self.higher else None)


@dataclass
class ScoreScan:
    """What one streaming pass over the rows gathers.

    Attributes
    ----------
    index : TrackIndex
        Segment -> track coding.
    track_sum : numpy.ndarray
        (M, Q) per-track sums of the raw scores.
    moments : ColumnMoments
        Column moments of ``S``.
    projection : numpy.ndarray or None
        ``S v1`` per segment (= ``sigma_1 u_1``), when an axis was given.
    residual_moments : ColumnMoments or None
        Column moments of ``S (I - v1 v1^T)``, when an axis was given.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.aggregate import scan_scores
    >>> scan = scan_scores(aria.examples.tiny().scores)  # one segment per track: sums = scores
    >>> scan.track_sum.shape, scan.moments.mean.tolist(), scan.projection is None
    ((8, 2), [-2.75, -2.75], True)
    """

    index: TrackIndex
    track_sum: np.ndarray
    moments: ColumnMoments
    projection: np.ndarray | None = None
    residual_moments: ColumnMoments | None = None


def scan_scores(
    scores: xr.DataArray,
    index: TrackIndex | None = None,
    *,
    axis: np.ndarray | None = None,
    higher_moments: bool = False,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    chunk_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ScoreScan:
    """One streaming pass: per-track sums, column moments, and the rank-1 projection.

    Each block of rows (:func:`aria.io.streaming.iter_blocks`) is read once: the per-track sums
    become the track scores ``T``, the column moments choose and apply the normalization.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segment x query).
    index : TrackIndex, optional
        Segment -> track coding (default from the ``track`` coordinate).
    axis : numpy.ndarray, optional
        Unit query-side vector ``v1``; when given, also collect ``S v1`` and
        the residual's column moments.
    higher_moments : bool
        Also accumulate third and fourth moments (for the ``auto`` rule).
    block_rows, chunk_rows, progress
        Streaming parameters, as in :func:`aria.io.streaming.iter_blocks`.

    Returns
    -------
    ScoreScan
        Track sums and column moments (of the residual too, with ``axis``).

    Examples
    --------
    >>> import numpy as np
    >>> import aria
    >>> from aria.groups.aggregate import scan_scores
    >>> x = np.array([[1.0, 4.0], [3.0, 2.0], [5.0, 0.0]])
    >>> scan = scan_scores(aria.scores_from_array(x, segment_track=["a", "a", "b"]), block_rows=2)
    >>> bool(np.allclose(scan.moments.std, x.std(axis=0)))
    True
    """
    index = index or TrackIndex.from_scores(scores)
    n, q = scores.shape
    qids = np.asarray(scores.coords[QUERY].values) if QUERY in scores.coords else None
    sums = np.zeros((index.n_tracks, q))
    mom = _Moments(higher_moments)
    res_mom = _Moments(higher_moments) if axis is not None else None
    proj = np.empty(n) if axis is not None else None
    for start, block in iter_blocks(scores, block_rows=block_rows, chunk_rows=chunk_rows,
                                    progress=progress):
        check_finite(block, start, qids)
        stop = start + block.shape[0]
        codes, part = _block_track_sums(block, index.codes[start:stop])
        sums[codes] += part
        mom.add(block)
        if axis is not None:
            p = block @ axis
            proj[start:stop] = p
            block -= np.outer(p, axis)
            res_mom.add(block)
    return ScoreScan(index, sums, mom.result(), proj,
                     res_mom.result() if res_mom is not None else None)


@dataclass
class TrackScores:
    """Normalized track-level score matrix ``T`` (tracks x queries).

    Attributes
    ----------
    values : numpy.ndarray
        (M, Q) float64, rows in ``track_ids`` order.
    track_ids : numpy.ndarray
        Track ids (sorted).
    query_ids : numpy.ndarray
        Query ids (str).
    report : NormalizationReport
        The normalization applied.
    residual : TrackScores or None
        The same for the rank-1 residual, when requested.
    track_u1 : numpy.ndarray or None
        ``u_1`` averaged over each track's segments (spec section 5), when an
        axis was given (equal to ``rank1_axis(...).track_u1()``).

    Examples
    --------
    >>> import aria
    >>> ts = aria.examples.tiny().prepare().track_scores
    >>> ts.track_ids.tolist()[:3], ts.query_ids.tolist(), ts.values.shape, ts.report.method
    (['t0', 't1', 't2'], ['q1', 'q2'], (8, 2), 'zscore')
    """

    values: np.ndarray
    track_ids: np.ndarray
    query_ids: np.ndarray
    report: NormalizationReport
    residual: TrackScores | None = None
    track_u1: np.ndarray | None = None

    def to_frame(self) -> pd.DataFrame:
        """The matrix as a DataFrame (index track, columns query)."""
        return pd.DataFrame(self.values, index=pd.Index(self.track_ids, name=TRACK),
                            columns=pd.Index(self.query_ids, name=QUERY))


def _zscore_tracks(tmean: np.ndarray, mom: ColumnMoments, zero: np.ndarray) -> np.ndarray:
    std = np.where(zero, 1.0, mom.std)
    tmean -= mom.mean
    tmean /= std
    tmean[:, zero] = 0.0
    return tmean


def _rank_tracks(
    scores: xr.DataArray,
    index: TrackIndex,
    *,
    axis: np.ndarray | None,
    projection: np.ndarray | None,
    block_rows: int,
    chunk_rows: int | None,
    block_bytes: int,
    workers: int,
    progress: Callable[[int], None] | None,
) -> np.ndarray:
    """Mean per-track rank / N of every column (of ``S``, or of its residual when ``axis`` is given)."""
    n, q = scores.shape
    width = int(max(1, min(q, block_bytes // (8 * max(1, n)))))
    out = np.empty((index.n_tracks, q))
    codes = index.codes
    counts = index.counts.astype(np.float64)

    def rank_col(j: int, col: np.ndarray) -> None:
        order, r = average_ranks(col)
        ranks = np.empty(n)
        ranks[order] = r
        out[:, j] = np.bincount(codes, weights=ranks, minlength=index.n_tracks) / counts / n

    for c0 in range(0, q, width):
        c1 = min(q, c0 + width)
        sub = scores.isel({QUERY: slice(c0, c1)})
        buf = np.empty((n, c1 - c0), order="F")  # columns contiguous for the sorts
        for start, block in iter_blocks(sub, block_rows=block_rows, chunk_rows=chunk_rows):
            stop = start + block.shape[0]
            if axis is not None:
                block -= np.outer(projection[start:stop], axis[c0:c1])
            buf[start:stop] = block
        jobs = [(c0 + j, buf[:, j]) for j in range(c1 - c0)]
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for fut in [pool.submit(rank_col, j, col) for j, col in jobs]:
                    fut.result()
        else:
            for j, col in jobs:
                rank_col(j, col)
        if progress is not None:
            progress(c1 - c0)
        del buf, jobs
    return out


@validate_params({"scores": "scores", "method": Options(METHODS), "axis": [None, Array(ndim=1)],
                  "sigma_1": [None, "real"], "residual": "boolean",
                  "kurtosis_threshold": Interval(float, None, None), **STREAMING,
                  "rank_block_bytes": Interval(int, 1, None), "workers": Interval(int, 1, None)})
def track_scores(
    scores: xr.DataArray,
    *,
    method: str = "auto",
    axis: np.ndarray | None = None,
    sigma_1: float | None = None,
    residual: bool = False,
    kurtosis_threshold: float = DEFAULT_KURTOSIS_THRESHOLD,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    chunk_rows: int | None = None,
    rank_block_bytes: int = DEFAULT_RANK_BLOCK_BYTES,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> TrackScores:
    """Normalize each query column and average per track (streamed; spec section 2).

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (segment x query), in memory or memory-mapped.
    method : str
        ``"auto"`` (default), ``"zscore"`` or ``"rank"``.
    axis : numpy.ndarray, optional
        Unit query-side singular vector ``v1`` (``Diagnostics.v1``). Needed for
        ``residual`` and for ``track_u1``.
    sigma_1 : float, optional
        Leading singular value; with ``axis`` it gives ``track_u1``.
    residual : bool
        Also normalize and aggregate the rank-1 residual ``S (I - v1 v1^T)``.
    kurtosis_threshold : float
        ``auto`` rule threshold on the median excess kurtosis.
    block_rows, chunk_rows : int
        Streaming parameters (results do not depend on ``chunk_rows``).
    rank_block_bytes : int
        Memory for one block of query columns in the rank pass.
    workers : int
        Threads used to rank columns.
    progress : callable, optional
        Called with rows (scan pass) and then columns (rank passes) processed.

    Returns
    -------
    TrackScores
        With ``residual`` filled when requested.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> s = aria.scores_from_array(np.array([[1.0, 4.0], [3.0, 2.0], [5.0, 0.0]]),
    ...                            query_ids=["q1", "q2"], segment_track=["a", "a", "b"])
    >>> t = aria.track_scores(s, method="zscore")
    >>> z = (s.values - s.values.mean(0)) / s.values.std(0)
    >>> bool(np.allclose(t.values, [z[:2].mean(0), z[2]]))
    True
    """
    if residual and axis is None:
        raise AriaInputError("the residual needs the rank-1 axis v1 (run aria.diagnose first)")
    if axis is not None:
        axis = np.asarray(axis, dtype=np.float64)
        if axis.shape != (scores.shape[1],):
            raise AriaInputError(f"axis has {axis.size} entries for {scores.shape[1]} queries")
    index = TrackIndex.from_scores(scores)
    qids = np.asarray(scores.coords[QUERY].values).astype(str)
    higher = method == "auto"
    scan = scan_scores(scores, index, axis=axis if residual else None, higher_moments=higher,
                       block_rows=block_rows, chunk_rows=chunk_rows, progress=progress)
    tmean = scan.track_sum
    tmean /= index.counts[:, None]
    u1 = None
    if axis is not None and sigma_1:
        u1 = (tmean @ axis) / sigma_1
    raw_rms = np.sqrt(scan.moments.mean ** 2 + scan.moments.m2)
    # the track means live only in `means`, so a rank normalization can free them first
    means = {"scores": tmean}
    if residual:
        means["residual"] = tmean - np.outer(tmean @ axis, axis)
    scan.track_sum = None
    del tmean

    def finish(key: str, mom: ColumnMoments, ref: np.ndarray | None) -> TrackScores:
        is_res = key == "residual"
        zero = zero_std_mask(mom, ref)
        kurt = mom.excess_kurtosis(zero) if higher else None
        chosen, stat, reason = choose_method(method, kurt, kurtosis_threshold)
        report = NormalizationReport(method, chosen, stat, kurtosis_threshold,
                                     [str(x) for x in qids[zero]], reason)
        if chosen == "zscore":
            values = _zscore_tracks(means.pop(key), mom, zero)
        else:
            means.pop(key)
            values = _rank_tracks(scores, index, axis=axis if is_res else None,
                                  projection=scan.projection if is_res else None,
                                  block_rows=block_rows, chunk_rows=chunk_rows,
                                  block_bytes=rank_block_bytes, workers=workers, progress=progress)
        return TrackScores(values, index.track_ids, qids, report)

    res = finish("residual", scan.residual_moments, raw_rms) if residual else None
    main = finish("scores", scan.moments, None)
    main.residual = res
    main.track_u1 = u1
    return main
