"""Per-query normalization of score columns (spec section 2).

- ``zscore``: ``(S[i, q] - mean_q) / std_q`` with the population std; a
  zero-std column becomes all zeros and is reported.
- ``rank``: average rank of ``S[i, q]`` within column ``q`` (ties share the
  average rank), divided by ``N`` so values lie in (0, 1].
- ``auto`` (default): ``rank`` when the columns are heavy-tailed, else
  ``zscore``. Heavy-tailed = the median over columns of the sample excess
  kurtosis ``m4 / m2^2 - 3`` (biased moments, as :func:`scipy.stats.kurtosis`
  with its defaults) exceeds a threshold (default 6). Zero-variance columns
  have no kurtosis and are left out of the median; if every column is
  constant, ``zscore`` is chosen.

The functions here work on in-memory arrays and on column statistics; the
streaming, segment -> track version for large matrices is
:func:`aria.groups.aggregate.track_scores`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aria.params import Array, Interval, Options, validate_params

__all__ = [
    "METHODS",
    "DEFAULT_KURTOSIS_THRESHOLD",
    "ColumnMoments",
    "NormalizationReport",
    "choose_method",
    "normalize_columns",
    "average_ranks",
    "zero_std_mask",
]

#: Normalization methods accepted by the API and the CLI.
METHODS = ("auto", "zscore", "rank")
#: ``auto`` picks ``rank`` when the median excess kurtosis exceeds this.
DEFAULT_KURTOSIS_THRESHOLD = 6.0
#: A column whose std is below this fraction of its root-mean-square is treated as constant.
ZERO_STD_RTOL = 1e-12


@dataclass
class ColumnMoments:
    """Per-column moments of a matrix (population, i.e. biased, central moments).

    Attributes
    ----------
    n : int
        Number of rows.
    mean : numpy.ndarray
        Column means.
    m2 : numpy.ndarray
        Second central moment (population variance).
    m3, m4 : numpy.ndarray or None
        Third and fourth central moments, when computed.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.normalize import ColumnMoments
    >>> x = np.array([[1.0, 0.0], [2.0, 0.0], [6.0, 3.0]])
    >>> m = ColumnMoments.from_array(x)
    >>> m.n, m.mean.tolist()
    (3, [3.0, 1.0])
    >>> bool(np.allclose(m.std, x.std(axis=0)))
    True
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray
    m3: np.ndarray | None = None
    m4: np.ndarray | None = None

    @property
    def std(self) -> np.ndarray:
        """Population standard deviation."""
        return np.sqrt(np.maximum(self.m2, 0.0))

    def excess_kurtosis(self, zero_std: np.ndarray | None = None) -> np.ndarray:
        """Sample excess kurtosis ``m4 / m2^2 - 3`` per column (NaN for constant columns)."""
        if self.m4 is None:
            raise RuntimeError("fourth moments were not computed")
        zero = self.m2 <= 0 if zero_std is None else zero_std
        out = np.full(self.m2.shape, np.nan)
        ok = ~zero
        out[ok] = self.m4[ok] / self.m2[ok] ** 2 - 3.0
        return out

    @classmethod
    def from_array(cls, x: np.ndarray, higher: bool = True) -> ColumnMoments:
        """Moments of an in-memory array's columns (float64, two-pass)."""
        x = np.asarray(x, dtype=np.float64)
        mean = x.mean(axis=0)
        d = x - mean
        d2 = d * d
        return cls(x.shape[0], mean, d2.mean(axis=0),
                   (d2 * d).mean(axis=0) if higher else None,
                   (d2 * d2).mean(axis=0) if higher else None)


@dataclass
class NormalizationReport:
    """What normalization was applied and why.

    Attributes
    ----------
    requested : str
        ``"auto"``, ``"zscore"`` or ``"rank"``.
    method : str
        The method applied (``"zscore"`` or ``"rank"``).
    median_excess_kurtosis : float or None
        The ``auto`` statistic (computed whenever the moments are available).
    kurtosis_threshold : float
        Threshold of the ``auto`` rule.
    zero_std_columns : list of str
        Query ids whose column is constant (all zeros after ``zscore``, all
        tied after ``rank``): their top-K groups follow track order only.
    reason : str
        One sentence explaining the choice.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.normalize import normalize_columns
    >>> x = np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]])
    >>> _, report = normalize_columns(x, "zscore", query_ids=np.array(["q1", "q2"]))
    >>> report.method, report.zero_std_columns
    ('zscore', ['q2'])
    """

    requested: str
    method: str
    median_excess_kurtosis: float | None
    kurtosis_threshold: float = DEFAULT_KURTOSIS_THRESHOLD
    zero_std_columns: list[str] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {
            "requested": self.requested,
            "method": self.method,
            "median_excess_kurtosis": self.median_excess_kurtosis,
            "kurtosis_threshold": self.kurtosis_threshold,
            "zero_std_columns": list(self.zero_std_columns),
            "reason": self.reason,
        }


def zero_std_mask(moments: ColumnMoments, reference_rms: np.ndarray | None = None) -> np.ndarray:
    """Columns treated as constant: ``std <= 1e-12 * rms`` (``rms`` of the column, or a reference).

    Parameters
    ----------
    moments : ColumnMoments
        Column moments.
    reference_rms : numpy.ndarray, optional
        Scale to compare with (e.g. the raw matrix's column RMS when
        normalizing its rank-1 residual, whose constant columns are pure
        round-off).

    Returns
    -------
    numpy.ndarray
        Boolean mask.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.normalize import ColumnMoments, zero_std_mask
    >>> zero_std_mask(ColumnMoments.from_array(np.array([[1.0, 7.0], [2.0, 7.0], [4.0, 7.0]]))).tolist()
    [False, True]
    """
    rms = np.sqrt(moments.mean ** 2 + np.maximum(moments.m2, 0.0))
    if reference_rms is not None:
        rms = np.maximum(rms, reference_rms)
    return moments.std <= ZERO_STD_RTOL * rms


@validate_params({"requested": Options(METHODS), "threshold": Interval(float, None, None)})
def choose_method(
    requested: str,
    kurtosis: np.ndarray | None,
    threshold: float = DEFAULT_KURTOSIS_THRESHOLD,
) -> tuple[str, float | None, str]:
    """Apply the ``auto`` rule.

    Parameters
    ----------
    requested : str
        ``"auto"``, ``"zscore"`` or ``"rank"``.
    kurtosis : numpy.ndarray or None
        Per-column excess kurtosis (NaN for constant columns); needed for ``auto``.
    threshold : float
        Heavy-tail threshold on the median excess kurtosis.

    Returns
    -------
    method : str
        ``"zscore"`` or ``"rank"``.
    statistic : float or None
        Median excess kurtosis over the non-constant columns.
    reason : str
        Explanation.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.normalize import choose_method
    >>> choose_method("auto", np.array([0.5, 1.0, 2.0]))[0]
    'zscore'
    >>> choose_method("auto", np.array([10.0, 12.0, 30.0]))[0]
    'rank'
    """
    stat = None
    if kurtosis is not None:
        finite = np.asarray(kurtosis)[np.isfinite(kurtosis)]
        stat = float(np.median(finite)) if finite.size else None
    if requested != "auto":
        return requested, stat, f"{requested} requested"
    if stat is None:
        return "zscore", None, "auto: every column is constant, kurtosis undefined; using zscore"
    if stat > threshold:
        return "rank", stat, (f"auto: median excess kurtosis {stat:.3g} > {threshold:g} "
                              "(heavy-tailed columns); using rank")
    return "zscore", stat, f"auto: median excess kurtosis {stat:.3g} <= {threshold:g}; using zscore"


def average_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1-based, ties share the mean rank) of a 1-D array, in sorted order.

    Parameters
    ----------
    x : numpy.ndarray
        Values.

    Returns
    -------
    order : numpy.ndarray
        ``argsort(x)`` (the order among tied values is irrelevant: they share one rank).
    ranks_sorted : numpy.ndarray
        float64; ``ranks_sorted[k]`` is the average rank of ``x[order[k]]``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import rankdata
    >>> from aria.groups.normalize import average_ranks
    >>> x = np.array([3.0, 1.0, 3.0, 2.0])
    >>> order, ranks = average_ranks(x)
    >>> order.tolist(), ranks.tolist()
    ([1, 3, 0, 2], [1.0, 2.0, 3.5, 3.5])
    >>> bool(np.array_equal(ranks, np.sort(rankdata(x))))
    True
    """
    order = np.argsort(x)
    xs = x[order]
    n = xs.size
    if n == 0:
        return order, np.zeros(0)
    starts = np.concatenate(([0], np.flatnonzero(xs[1:] != xs[:-1]) + 1))
    ends = np.concatenate((starts[1:], [n]))
    avg = (starts + ends + 1) / 2.0
    return order, np.repeat(avg, ends - starts)


@validate_params({"x": Array(ndim=2), "method": Options(METHODS),
                  "kurtosis_threshold": Interval(float, None, None)})
def normalize_columns(
    x: np.ndarray,
    method: str = "auto",
    *,
    kurtosis_threshold: float = DEFAULT_KURTOSIS_THRESHOLD,
    query_ids: np.ndarray | None = None,
) -> tuple[np.ndarray, NormalizationReport]:
    """Normalize the columns of an in-memory matrix (segments x queries).

    Parameters
    ----------
    x : numpy.ndarray
        2-D array.
    method : str
        ``"auto"``, ``"zscore"`` or ``"rank"``.
    kurtosis_threshold : float
        Threshold of the ``auto`` rule.
    query_ids : numpy.ndarray, optional
        Column labels used in the report.

    Returns
    -------
    normalized : numpy.ndarray
        float64 array of the same shape.
    report : NormalizationReport

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.normalize import normalize_columns
    >>> x = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0]])
    >>> z, report = normalize_columns(x, "zscore")
    >>> z.round(3).tolist()
    [[-1.225, -1.225], [0.0, 1.225], [1.225, 0.0]]
    """
    x = np.asarray(x, dtype=np.float64)
    qids = np.asarray(query_ids if query_ids is not None else [f"q{j}" for j in range(x.shape[1])])
    mom = ColumnMoments.from_array(x, higher=True)
    zero = zero_std_mask(mom)
    chosen, stat, reason = choose_method(method, mom.excess_kurtosis(zero), kurtosis_threshold)
    if chosen == "zscore":
        std = np.where(zero, 1.0, mom.std)
        out = (x - mom.mean) / std
        out[:, zero] = 0.0
    else:
        out = np.empty_like(x)
        for j in range(x.shape[1]):
            order, r = average_ranks(x[:, j])
            out[order, j] = r / x.shape[0]
    report = NormalizationReport(method, chosen, stat, kurtosis_threshold,
                                 [str(q) for q in qids[zero]], reason)
    return out, report
