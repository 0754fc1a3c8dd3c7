"""Leave-k-out counterfactual evaluation (MUCS paper ``002``, Sec. 4 and App. B.1; spec section 8).

After removing each generation's top-k training items (method) or k random items (reference)
and retraining, every generation is regenerated with the same seed and compared with the
original: ``sim_method[i]`` and ``sim_random[j]`` are those similarities. A good method's
removals change the generations more, so its similarities are lower.

- :func:`counterfactual_auc`: ``AUC = U / (n1 n2)`` with ``U`` the Mann-Whitney statistic of
  ``sim_random`` against ``sim_method`` (``P(random > method) + P(tie) / 2``), and the one-sided
  p-value of "random-removal similarities are greater".
- :func:`similarity_difference`: ``100/n sum_i (s_i / median(sim_random) - 1)`` over the
  method's similarities, with a percentile bootstrap confidence interval.
"""

from __future__ import annotations

import numpy as np

from aria.diagnostics.bootstrap import percentile_interval
from aria.errors import AriaInputError
from aria.evaluate._checks import as_real_array
from aria.params import Interval, Options, validate_params

__all__ = ["counterfactual_auc", "similarity_difference", "mann_whitney_u"]


@validate_params({"method": Options(("auto", "exact", "asymptotic"))})
def mann_whitney_u(x: np.ndarray, y: np.ndarray, method: str = "auto") -> tuple[float, float]:
    """Mann-Whitney ``U`` of ``x`` against ``y`` and the one-sided p-value of ``x > y``.

    ``U = #{(i, j): x_i > y_j} + #{ties} / 2``, computed by
    ``scipy.stats.mannwhitneyu(x, y, alternative="greater", method=method)``: with ``"auto"`` the
    p-value is exact when a sample has at most 8 values and there are no ties, else from the
    normal approximation with tie and continuity corrections. ``"exact"`` with ties is refused
    (the exact null distribution assumes none).

    Parameters
    ----------
    x, y : numpy.ndarray
        1-D samples.
    method : str
        ``"auto"``, ``"exact"`` or ``"asymptotic"``.

    Returns
    -------
    tuple of float
        ``(U, p_value)``.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.evaluate.counterfactual import mann_whitney_u
    >>> mann_whitney_u(np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0]))  # exact: 1 of C(5, 2) orderings
    (6.0, 0.1)
    """
    from scipy.stats import mannwhitneyu

    if method == "exact" and np.unique(np.concatenate([x, y])).size < x.size + y.size:
        raise AriaInputError("the exact Mann-Whitney p-value needs samples without ties")
    res = mannwhitneyu(x, y, alternative="greater", method=method)
    return float(res.statistic), float(res.pvalue)


@validate_params({"method": Options(("auto", "exact", "asymptotic"))})
def counterfactual_auc(sim_random: object, sim_method: object, *, method: str = "auto") -> dict:
    """AUC of random-removal against method-removal similarities, with the one-sided p-value.

    ``AUC = U / (n1 n2)``, ``U`` the Mann-Whitney statistic of ``sim_random`` (``n1`` values)
    against ``sim_method`` (``n2`` values): the probability that a random-removal similarity
    exceeds a method-removal one (ties count one half). 0.5 = the method's removals change the
    generations no more than random removals; near 1 = much more. The p-value tests
    "random-removal similarities are greater" (one-sided; the paper reports ``p < 0.01``).

    Parameters
    ----------
    sim_random : array-like
        1-D similarities after random removals.
    sim_method : array-like
        1-D similarities after removing the method's top-k items.
    method : str
        p-value: ``"auto"`` (exact for small samples without ties, else normal approximation),
        ``"exact"`` or ``"asymptotic"``.

    Returns
    -------
    dict
        ``auc``, ``p_value``, ``u``, ``n_random``, ``n_method``.

    Examples
    --------
    >>> from aria.evaluate import counterfactual_auc
    >>> r = counterfactual_auc([0.9, 0.8, 0.7], [0.75, 0.6])
    >>> round(r["auc"], 4), round(r["p_value"], 4)
    (0.8333, 0.2)
    """
    r = as_real_array(sim_random, "sim_random", 1)
    m = as_real_array(sim_method, "sim_method", 1)
    u, p = mann_whitney_u(r, m, method=method)
    return {"auc": u / (r.size * m.size), "p_value": p, "u": u, "n_random": int(r.size),
            "n_method": int(m.size)}


@validate_params({"confidence": Interval(float, 0, 1, closed="neither"), "replicates": Interval(int, 1, None),
                  "seed": "seed", "rng": [None, np.random.Generator]})
def similarity_difference(sim_method: object, sim_random: object, *, confidence: float = 0.95,
                          replicates: int = 2000, seed: int = 0,
                          rng: np.random.Generator | None = None) -> dict:
    """Average normalized similarity difference (%) with a percentile bootstrap interval.

    ``D = 100/n sum_i (s_i / median(sim_random) - 1)`` over the method's ``n`` similarities
    ``s_i``; negative = the method's removals lowered the similarity below the random reference.
    The interval resamples both samples independently with replacement (replicate ``b`` draws
    ``sim_method`` then ``sim_random`` indices from ``numpy.random.default_rng(seed)``) and takes
    the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the replicated ``D``.
    A replicate whose resampled ``sim_random`` has median 0 has no ``D`` (it would be +-inf);
    such replicates are counted in ``undefined_replicates`` and, when there is at least one, the
    interval is undefined (``ci_low = ci_high = None``) rather than computed from the remaining
    replicates (dropping them would bias one tail and narrow the interval).

    Parameters
    ----------
    sim_method : array-like
        1-D similarities after removing the method's top-k items.
    sim_random : array-like
        1-D similarities after random removals (its median must not be 0).
    confidence : float
        Coverage of the interval, in (0, 1).
    replicates : int
        Bootstrap replicates.
    seed : int
        Seed of the generator (ignored when ``rng`` is given).
    rng : numpy.random.Generator, optional
        Generator to draw from.

    Returns
    -------
    dict
        ``mean``, ``ci_low``, ``ci_high`` (None when ``undefined_replicates > 0``),
        ``undefined_replicates``, ``median_random``, ``n_method``, ``n_random``,
        ``confidence``, ``replicates``, ``seed``.

    Examples
    --------
    >>> from aria.evaluate import similarity_difference
    >>> d = similarity_difference([0.6, 0.8], [1.0, 0.8, 0.9], replicates=200)
    >>> round(d["mean"], 6), d["ci_low"] <= d["mean"] <= d["ci_high"]
    (-22.222222, True)
    >>> d = similarity_difference([0.5, 0.6, 0.7], [0, 0, 1, 1, 1])
    >>> d["undefined_replicates"] > 0, d["ci_low"], d["ci_high"]
    (True, None, None)
    """
    s = as_real_array(sim_method, "sim_method", 1)
    r = as_real_array(sim_random, "sim_random", 1)
    med = float(np.median(r))
    if med == 0:
        raise AriaInputError("sim_random: its median is 0, so the normalized difference is undefined")
    mean = float(100.0 * (s / med - 1.0).mean())
    gen = rng if rng is not None else np.random.default_rng(seed)
    reps = np.empty(replicates)
    with np.errstate(divide="ignore", invalid="ignore"):
        for b in range(replicates):
            i_s = gen.integers(0, s.size, size=s.size)
            i_r = gen.integers(0, r.size, size=r.size)
            reps[b] = 100.0 * (s[i_s].mean() / np.median(r[i_r]) - 1.0)
    undefined = int(np.count_nonzero(~np.isfinite(reps)))
    low, high = percentile_interval(reps, confidence) if undefined == 0 else (None, None)
    return {"mean": mean, "ci_low": low, "ci_high": high, "undefined_replicates": undefined,
            "median_random": med,
            "n_method": int(s.size), "n_random": int(r.size), "confidence": confidence,
            "replicates": replicates, "seed": seed if rng is None else None}

