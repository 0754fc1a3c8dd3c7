"""Linear datamodeling score (LDS), as dattri defines it (spec section 7).

Ground truth: ``n_subsets`` models were retrained, each on a subset of the
training rows; ``targets[s, q]`` is the target of model ``s`` on query ``q``,
oriented so that *higher means the subset supports the query more* (dattri's
``calculate_lds_ground_truth`` returns the negated loss, i.e. this
orientation; a raw loss must be negated first, see :class:`GroundTruth`).

For each query ``q``: the attribution-predicted score of subset ``s`` is
``p[s, q] = sum_{i in subset s} S[i, q]`` (a training row listed twice in a
subset's indices counts twice, as ``score[:, indices[s]].sum()`` does in
dattri); ``LDS_q = Spearman(p[:, q], targets[:, q])``; the method's LDS is the
mean of ``LDS_q`` over the queries where it is defined (a constant ``p`` or
target column has no rank correlation and is reported). This is
``dattri.metric.lds`` followed by the mean over the non-NaN queries, as
dattri's benchmarks do.

Precision: Aria sums and ranks in float64 whatever the score dtype. dattri
sums in the score tensor's dtype and casts the correlations to it, so for
float16 scores (TRAK's default ``use_half_precision``) its subset sums are
rounded to float16 (ties can appear that float64 does not have) and its LDS
values carry float16 rounding (about 1e-3); for float32/float64 scores the two
agree to rounding (tested to 1e-6 against dattri 0.3.0).

The ground-truth files (``GT.npz``, dattri's ``(gt_values, indices)`` ``.pt``
tuple) are read by :func:`aria.io.groundtruth.load_ground_truth`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Unpack

import numpy as np
import xarray as xr
from scipy import stats

from aria.errors import AriaInputError
from aria.io.output import json_safe
from aria.io.streaming import DEFAULT_BLOCK_ROWS, Streaming, iter_blocks
from aria.io.validate import QUERY
from aria.params import STREAMING, InstanceOf, Interval, Options, check_params, validate_params

__all__ = ["GroundTruth", "LDSResult", "subset_scores", "lds", "spearman_columns"]


@dataclass
class GroundTruth:
    """Retraining ground truth for LDS.

    Attributes
    ----------
    subsets : numpy.ndarray
        Shape (n_subsets, N): a boolean mask (``subsets[s, i]`` is True when
        training row ``i`` was in subset ``s``) or non-negative integer counts
        (how many times row ``i`` is listed in subset ``s``; dattri's index
        layout with a repeated index, which counts twice).
    targets : numpy.ndarray
        float64, shape (n_subsets, Q_gt): target of the model retrained on
        subset ``s`` for query ``q``, higher = more supported (already
        negated when the file held a loss).
    query_ids : numpy.ndarray or None
        Query ids of the target columns (str); None = the score matrix's
        queries, in order.
    target_kind : str
        ``"score"`` (used as is) or ``"loss"`` (negated on load).
    source : str
        The file it was read from (named in messages).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.evaluate.lds import GroundTruth
    >>> m = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=bool)
    >>> gt = GroundTruth(subsets=m, targets=np.array([[1.0], [3.0], [7.0], [4.0]]), query_ids=np.array(["q"]))
    >>> gt.subsets.shape, gt.targets.shape
    ((4, 3), (4, 1))
    """

    subsets: np.ndarray
    targets: np.ndarray
    query_ids: np.ndarray | None = None
    target_kind: str = "score"
    source: str = "<memory>"

    def __post_init__(self) -> None:
        check_params({"target_kind": Options(("score", "loss")), "source": "str"},
                     {"target_kind": self.target_kind, "source": self.source}, function="GroundTruth")
        self.subsets = np.asarray(self.subsets)
        self.targets = np.asarray(self.targets, dtype=np.float64)
        if self.subsets.ndim != 2 or self.subsets.dtype.kind not in "biu":
            raise AriaInputError(
                f"{self.source}: 'subsets' must be a 2-D boolean mask (or integer membership counts)"
            )
        if self.subsets.dtype.kind == "i" and self.subsets.size and self.subsets.min() < 0:
            raise AriaInputError(f"{self.source}: membership counts in 'subsets' must be >= 0")
        if self.targets.ndim != 2:
            raise AriaInputError(f"{self.source}: 'targets' must be 2-D (n_subsets x queries)")
        if self.targets.shape[0] != self.subsets.shape[0]:
            raise AriaInputError(
                f"{self.source}: {self.subsets.shape[0]} subsets but targets have "
                f"{self.targets.shape[0]} rows"
            )
        if self.subsets.shape[0] < 3:
            raise AriaInputError(f"{self.source}: LDS needs at least 3 subsets, got {self.subsets.shape[0]}")
        if not np.isfinite(self.targets).all():
            raise AriaInputError(f"{self.source}: 'targets' contains NaN or infinite values")
        if self.query_ids is not None:
            self.query_ids = np.asarray(self.query_ids).astype(str)
            if self.query_ids.shape != (self.targets.shape[1],):
                raise AriaInputError(
                    f"{self.source}: {self.query_ids.size} query ids for {self.targets.shape[1]} "
                    "target columns"
                )
            if np.unique(self.query_ids).size != self.query_ids.size:
                raise AriaInputError(f"{self.source}: duplicate query ids")

    @property
    def n_subsets(self) -> int:
        """Number of retrained models."""
        return int(self.subsets.shape[0])

    @classmethod
    @validate_params({"n_rows": Interval(int, 1, None)})
    def from_indices(cls, indices: np.ndarray, targets: np.ndarray, n_rows: int, **kwargs) -> GroundTruth:
        """Build from dattri's index layout (n_subsets x subset_size row indices).

        Every index must lie in ``[0, n_rows)``: ``dattri.metric.lds`` has no
        padding (it indexes ``score[:, indices[s]]``, so -1 silently means the
        last row and ``n_rows`` raises), and Aria refuses both with one line.
        A repeated index counts twice, as in dattri's sum.

        Parameters
        ----------
        indices : numpy.ndarray
            Integer array (n_subsets, subset_size).
        targets : numpy.ndarray
            (n_subsets, Q) targets.
        n_rows : int
            Number of training rows N of the score matrix.
        **kwargs
            Passed to the constructor (``query_ids``, ``target_kind``, ``source``).

        Returns
        -------
        GroundTruth
            ``subsets`` is a boolean mask when no subset repeats an index, else counts.

        Examples
        --------
        >>> import numpy as np
        >>> gt = GroundTruth.from_indices(np.array([[0, 1], [1, 1], [2, 0]]), np.eye(3)[:, :2], 3)
        >>> gt.subsets.tolist()
        [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
        """
        source = kwargs.get("source", "<memory>")
        indices = np.asarray(indices)
        if indices.ndim != 2 or indices.dtype.kind not in "iu":
            raise AriaInputError(
                f"{source}: subset indices must be a 2-D integer array (n_subsets x subset_size), "
                f"got {indices.ndim}-D {indices.dtype}"
            )
        if indices.size:
            bad = (indices < 0) | (indices >= n_rows)
            if bad.any():
                s, j = np.argwhere(bad)[0]
                raise AriaInputError(
                    f"{source}: subset index {int(indices[s, j])} (subset {int(s)}, position {int(j)}) "
                    f"is outside 0..{n_rows - 1}, the score matrix's training rows "
                    f"({int(bad.sum())} such entries); dattri has no padding value"
                )
        rows = np.repeat(np.arange(indices.shape[0]), indices.shape[1])
        flat = indices.reshape(-1).astype(np.int64)
        srt = np.sort(indices, axis=1)
        if indices.shape[1] < 2 or not (srt[:, 1:] == srt[:, :-1]).any():
            subsets = np.zeros((indices.shape[0], n_rows), dtype=bool)
            subsets[rows, flat] = True
        else:  # counts in the smallest integer type that holds subset_size
            subsets = np.zeros((indices.shape[0], n_rows), dtype=np.min_scalar_type(indices.shape[1]))
            np.add.at(subsets, (rows, flat), 1)
        return cls(subsets=subsets, targets=targets, **kwargs)


@dataclass
class LDSResult:
    """LDS of one score matrix.

    Attributes
    ----------
    per_query : numpy.ndarray
        Spearman correlation per evaluated query (NaN where undefined).
    pvalues : numpy.ndarray
        Two-sided p-values of ``per_query`` (t approximation, as scipy).
    query_ids : numpy.ndarray
        Evaluated query ids.
    mean : float
        Mean of the defined ``per_query`` values (NaN if none).
    n_subsets : int
        Number of retrained models.
    undefined_queries : list of str
        Queries whose predicted or target column is constant.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.evaluate.lds import GroundTruth, lds
    >>> s = aria.scores_from_array(np.array([[1.0], [2.0], [4.0]]), query_ids=["q"])
    >>> m = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=bool)
    >>> r = lds(s, GroundTruth(subsets=m, targets=np.array([[1.0], [3.0], [7.0], [4.0]])))
    >>> r.mean, r.n_subsets
    (1.0, 4)
    """

    per_query: np.ndarray
    pvalues: np.ndarray
    query_ids: np.ndarray
    mean: float
    n_subsets: int
    undefined_queries: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready summary with the per-query values."""
        return json_safe({
            "lds": self.mean,
            "n_queries": int(self.query_ids.size),
            "n_defined": int(np.isfinite(self.per_query).sum()),
            "n_subsets": self.n_subsets,
            "undefined_queries": list(self.undefined_queries),
            "per_query": dict(zip(self.query_ids.tolist(), self.per_query.tolist(), strict=True)),
        })


@validate_params({"scores": "scores", "subsets": InstanceOf(np.ndarray), **STREAMING})
def subset_scores(scores: xr.DataArray, subsets: np.ndarray, **streaming: Unpack[Streaming]) -> np.ndarray:
    """Attribution-predicted subset scores ``P = M S`` (sum of S over each subset's rows), streamed.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (N x Q).
    subsets : numpy.ndarray
        Boolean mask or membership counts (n_subsets, N).
    **streaming
        ``block_rows``, ``chunk_rows``, ``progress``: see :class:`aria.io.streaming.Streaming`.

    Returns
    -------
    numpy.ndarray
        float64 (n_subsets, Q).

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.evaluate.lds import subset_scores
    >>> s = aria.scores_from_array(np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]]))
    >>> subset_scores(s, np.array([[True, False, True], [False, True, True]])).tolist()
    [[5.0, 50.0], [6.0, 60.0]]
    """
    n, q = scores.shape
    if subsets.shape[1] != n:
        raise AriaInputError(
            f"ground truth subsets cover {subsets.shape[1]} training rows but the score matrix has {n}"
        )
    out = np.zeros((subsets.shape[0], q), dtype=np.float64)
    for start, block in iter_blocks(scores, **streaming):
        # the mask is cast one block at a time: memory stays O(n_subsets x block_rows)
        out += subsets[:, start:start + block.shape[0]].astype(np.float64) @ block
    return out


def spearman_columns(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spearman rank correlation between matching columns of two (n x Q) arrays.

    Ties get average ranks; a constant column gives NaN.

    Parameters
    ----------
    a, b : numpy.ndarray
        Same shape (n, Q), n >= 3.

    Returns
    -------
    rho : numpy.ndarray
        (Q,) correlations.
    pvalue : numpy.ndarray
        (Q,) two-sided p-values (Student t with n - 2 degrees of freedom).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import spearmanr
    >>> from aria.evaluate.lds import spearman_columns
    >>> a = np.array([[1.0, 3.0], [2.0, 1.0], [3.0, 2.0], [4.0, 5.0]])
    >>> b = np.array([[1.0, 2.0], [3.0, 1.0], [2.0, 4.0], [4.0, 3.0]])
    >>> rho, p = spearman_columns(a, b)
    >>> rho.round(3).tolist()
    [0.8, 0.4]
    >>> bool(np.isclose(rho[1], spearmanr(a[:, 1], b[:, 1]).statistic))
    True
    """
    ra = stats.rankdata(a, axis=0)
    rb = stats.rankdata(b, axis=0)
    ra -= ra.mean(axis=0)
    rb -= rb.mean(axis=0)
    num = (ra * rb).sum(axis=0)
    den = np.sqrt((ra * ra).sum(axis=0) * (rb * rb).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        rho = np.clip(rho, -1.0, 1.0)
        dof = a.shape[0] - 2
        t = rho * np.sqrt(dof / np.maximum((1.0 - rho) * (1.0 + rho), 1e-300))
        p = 2.0 * stats.t.sf(np.abs(t), dof)
    p = np.where(np.isfinite(rho), p, np.nan)
    return rho, p


@validate_params({"scores": "scores", "ground_truth": GroundTruth, **STREAMING})
def lds(
    scores: xr.DataArray,
    ground_truth: GroundTruth,
    *,
    scheduler: str | None = None,
    client: object = None,
    **streaming: Unpack[Streaming],
) -> LDSResult:
    """Linear datamodeling score of a score matrix against retraining ground truth.

    The subset scores ``P = M S`` come from one streaming pass (:func:`subset_scores`); each
    query's column of ``P`` is then compared with its targets by Spearman's rank correlation.

    Parameters
    ----------
    scores : xarray.DataArray
        Score matrix (N training rows x Q queries).
    ground_truth : GroundTruth
        Subsets and targets. With ``query_ids``, LDS is evaluated on those
        queries (each must be a query of ``scores``); without, ``targets``
        must have one column per query of ``scores``.
    scheduler : str, optional
        Compute the subset scores on a dask cluster (``"local:N"`` or ``"HOST:PORT"``, see
        :mod:`aria.scale`); equal to the single process to rounding.
    client : distributed.Client, optional
        A running dask client to compute on, instead of ``scheduler``.
    **streaming
        ``block_rows``, ``chunk_rows``, ``progress``: see :class:`aria.io.streaming.Streaming`.

    Returns
    -------
    LDSResult
        Per-query Spearman correlations, their p-values and mean.

    Examples
    --------
    >>> import numpy as np, aria
    >>> from aria.evaluate.lds import GroundTruth, lds
    >>> s = aria.scores_from_array(np.eye(4)[:, :2])
    >>> gt = GroundTruth(np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0]], bool),
    ...                  np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]))
    >>> round(lds(s, gt).mean, 4)  # each query: Spearman([1, 0, 1], [1, 0, 0.5]) = sqrt(3) / 2
    0.866
    """
    qids = np.asarray(scores.coords[QUERY].values).astype(str)
    if ground_truth.query_ids is None:
        if ground_truth.targets.shape[1] != qids.size:
            raise AriaInputError(
                f"{ground_truth.source}: targets have {ground_truth.targets.shape[1]} columns but the "
                f"score matrix has {qids.size} queries (store 'query_ids' to evaluate a subset)"
            )
        cols = np.arange(qids.size)
        eval_ids = qids
    else:
        pos = {q: j for j, q in enumerate(qids)}
        missing = [q for q in ground_truth.query_ids if q not in pos]
        if missing:
            raise AriaInputError(
                f"{ground_truth.source}: {len(missing)} ground-truth queries are not in the score "
                f"matrix (e.g. {missing[0]!r})"
            )
        cols = np.array([pos[q] for q in ground_truth.query_ids], dtype=np.int64)
        eval_ids = ground_truth.query_ids
    if scheduler is not None or client is not None:
        from aria.scale.cluster import connect
        from aria.scale.diagnose import subset_scores_cluster

        if ground_truth.subsets.shape[1] != scores.shape[0]:
            raise AriaInputError(f"ground truth subsets cover {ground_truth.subsets.shape[1]} training "
                                 f"rows but the score matrix has {scores.shape[0]}")
        with connect(scheduler, client) as c:
            block_rows = streaming.get("block_rows", DEFAULT_BLOCK_ROWS)
            predicted = subset_scores_cluster(scores, ground_truth.subsets, c, block_rows=block_rows)[:, cols]
    else:
        predicted = subset_scores(scores, ground_truth.subsets, **streaming)[:, cols]
    rho, p = spearman_columns(predicted, ground_truth.targets)
    defined = np.isfinite(rho)
    mean = float(rho[defined].mean()) if defined.any() else math.nan
    return LDSResult(per_query=rho, pvalues=p, query_ids=np.asarray(eval_ids), mean=mean,
                     n_subsets=ground_truth.n_subsets,
                     undefined_queries=[str(x) for x in np.asarray(eval_ids)[~defined]])
