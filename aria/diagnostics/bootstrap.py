"""Bootstrap over queries: percentile intervals for rho_bar, C_bar and E1 from the Gram statistics.

What is resampled: the **queries** (columns of ``S``), with replacement; the training rows are
kept. Replicate ``b`` (``b = 0 .. B-1``) is the ``b``-th call ``rng.integers(0, Q, size=Q)`` of
``rng = numpy.random.default_rng(seed)``, giving the resampled matrix ``S* = S[:, idx_b]``. Its
diagnostics are the spec's estimators applied to ``S*``, computed without touching the rows
again: with ``c`` the resampling counts (``c_q`` = how often query ``q`` was drawn),

- ``rho_bar*`` is the mean ``|R[q, q']|`` over the pairs of **distinct queries** among the
  resampled columns: ``rho_bar* = (c^T |R| c - sum c_q^2) / (k*^2 - sum c_q^2)`` over the usable
  (non-constant) queries, ``k* = sum of their counts`` (``duplicate_pairs="exclude"``, the
  default). A query drawn twice gives two identical columns whose correlation is 1; the spec's
  estimator averages over pairs of distinct queries and leaves out a query's pair with itself,
  so the pair of a query with its own copy is left out the same way. Counting those pairs as
  ordinary pairs of columns (``duplicate_pairs="include"``: exactly ``diagnose(S[:, idx])``,
  ``(c^T |R| c - k*) / (k* (k* - 1))``) shifts every replicate up by about
  ``(1 - rho_bar) / (Q - 1)``: on the shipped query-dependent example (Q = 40; B = 1000,
  seed 0) the replicates' mean is 0.303 for an estimate of 0.285 and the interval [0.283, 0.329]
  barely contains it, while without the copies the mean is 0.285 and the interval
  [0.265, 0.309] is centred on it.
- ``C_bar* = sum_q c_q C_q / sum_q c_q`` over the non-zero columns;
- ``E1* = lambda_1(G*) / trace(G*)`` with ``G* = G[idx][:, idx]``. The non-zero eigenvalues of
  ``G*`` are those of ``D^(1/2) G D^(1/2)``, ``D = diag(c)``; its largest eigenvalue is found by
  Lanczos iterations run for a batch of replicates at once (one ``Q x Q`` by ``Q x batch``
  matrix product per step), started from ``D^(1/2) v1``, and stopped when the residual bound
  ``beta_j |s_j|`` of the largest Ritz value is below ``tol * trace(G*)`` (so ``E1*`` is within
  ``tol`` of the exact value). Replicates that do not converge in ``max_iter`` steps are solved
  exactly (dense eigenvalues of the selected block) and counted.

``E1`` is a largest eigenvalue: copies of a query add coherent energy to ``G*``, so ``E1*`` is
biased upward when Q is small (shipped query-dependent example, Q = 40: estimate 0.214, 95%
interval [0.215, 0.322] with B = 1000, seed 0). Read its interval as the spread of E1 over
query sets, not as a symmetric error bar; rho_bar and C_bar (means over queries and pairs) have no such bias.

The interval is the percentile interval: the ``(1 - confidence)/2`` and ``(1 + confidence)/2``
quantiles (numpy's default linear interpolation) of the defined replicate values.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from aria.errors import AriaInputError
from aria.io.output import finite_or_none
from aria.params import Interval, Options, validate_params

__all__ = [
    "DiagnosticsBootstrap",
    "bootstrap_counts",
    "bootstrap_diagnostics",
    "BOOTSTRAP_PARAMS",
    "percentile_interval",
    "top_eigenvalues",
]

#: JSON name of each bootstrapped diagnostic (the short names of ``aria compare``) -> attribute;
#: the intervals are ``<name>_ci`` keys (``rho_bar_ci``: the interval of ``mean_abs_interquery_corr``).
CI_KEYS = {"rho_bar": "rho_bar", "C_bar": "c_bar", "E1": "e1"}
#: What the bootstrap resamples (shown in JSON and reports).
RESAMPLED = "queries (columns of S), with replacement; training rows fixed"


#: Constraints of the bootstrap keywords of :func:`aria.diagnose`, ``compare_files`` and
#: ``make_report`` (``bootstrap = 0``: no bootstrap), shared with the command line.
BOOTSTRAP_PARAMS = {"bootstrap": Interval(int, 0, None), "bootstrap_seed": "seed",
                    "confidence": Interval(float, 0, 1, closed="neither")}


@validate_params({"confidence": Interval(float, 0, 1, closed="neither")})
def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates (NaN replicates are left out).

    Parameters
    ----------
    values : numpy.ndarray
        Replicate values.
    confidence : float
        Coverage, in (0, 1).

    Returns
    -------
    tuple of float
        ``(low, high)``; ``(nan, nan)`` when no replicate is defined.

    Examples
    --------
    >>> from aria.diagnostics.bootstrap import percentile_interval
    >>> percentile_interval(np.arange(101.0), 0.5)
    (25.0, 75.0)
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(v, [alpha, 1.0 - alpha])
    return float(low), float(high)


@validate_params({"rng": np.random.Generator, "n": Interval(int, 1, None),
                  "replicates": Interval(int, 1, None), "batch": Interval(int, 1, None)})
def bootstrap_counts(rng: np.random.Generator, n: int, replicates: int,
                     batch: int = 256) -> Iterator[np.ndarray]:
    """Resampling counts of ``n`` units, ``batch`` replicates at a time.

    Replicate ``b`` is the ``b``-th call ``rng.integers(0, n, size=n)``; the batch size does not
    change the draws.

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeded generator.
    n : int
        Number of units (queries).
    replicates : int
        Number of replicates ``B``.
    batch : int
        Replicates per yielded array.

    Yields
    ------
    numpy.ndarray
        (b, n) float64 counts ``c[b, q]`` (each row sums to ``n``).

    Examples
    --------
    >>> from aria.diagnostics.bootstrap import bootstrap_counts
    >>> batches = list(bootstrap_counts(np.random.default_rng(0), 4, 5, batch=2))
    >>> [b.shape for b in batches], batches[0].sum(axis=1).tolist()
    ([(2, 4), (2, 4), (1, 4)], [4.0, 4.0])
    """
    for start in range(0, replicates, batch):
        size = min(batch, replicates - start)
        counts = np.zeros((size, n), dtype=np.float64)
        for b in range(size):
            counts[b] = np.bincount(rng.integers(0, n, size=n), minlength=n)
        yield counts


@validate_params({"tol": Interval(float, 0, None, closed="neither"), "max_iter": Interval(int, 1, None),
                  "check_every": Interval(int, 1, None)})
def top_eigenvalues(gram: np.ndarray, counts: np.ndarray, *, start: np.ndarray | None = None,
                    tol: float = 1e-11, max_iter: int = 300, check_every: int = 4) -> tuple[np.ndarray, int]:
    """Largest eigenvalue of ``G[idx][:, idx]`` for each row of resampling counts.

    Batched Lanczos on ``D^(1/2) G D^(1/2)`` (``D = diag(counts[b])``), which has the same
    non-zero eigenvalues as the resampled Gram matrix; see the module docstring.

    Parameters
    ----------
    gram : numpy.ndarray
        (Q, Q) symmetric positive semi-definite matrix.
    counts : numpy.ndarray
        (B, Q) resampling counts.
    start : numpy.ndarray, optional
        (Q,) start direction (e.g. the full-sample ``v1``); default all ones.
    tol : float
        Stop when the residual bound is below ``tol * trace`` of the replicate.
    max_iter : int
        Lanczos steps before the exact fallback.
    check_every : int
        Steps between the first convergence checks (later ones are ~25% of the steps apart).

    Returns
    -------
    lam : numpy.ndarray
        (B,) largest eigenvalues.
    n_exact : int
        Replicates solved by the exact fallback.

    Examples
    --------
    >>> from aria.diagnostics.bootstrap import top_eigenvalues
    >>> gram = np.diag([4.0, 1.0, 1.0, 1.0])
    >>> counts = np.array([[1.0, 1, 1, 1], [2, 0, 1, 1], [0, 2, 1, 1]])  # query 0 once, twice, never
    >>> lam, n_exact = top_eigenvalues(gram, counts)
    >>> lam.round(12).tolist(), n_exact
    ([4.0, 8.0, 2.0], 0)
    """
    b_total, q = counts.shape
    w_all = np.sqrt(counts).T.copy()  # (Q, B)
    trace = counts @ np.diag(gram)
    lam = np.zeros(b_total)
    x0 = np.ones(q) if start is None else np.asarray(start, dtype=np.float64)
    x0 = x0 + 1e-3 * np.linspace(1.0, 2.0, q) * np.abs(x0).max()  # no exact orthogonality to v1
    active = np.flatnonzero(trace > 0)
    v = w_all[:, active] * x0[:, None]
    v /= np.linalg.norm(v, axis=0)
    v_prev = np.zeros_like(v)
    beta_prev = np.zeros(active.size)
    alphas: list[np.ndarray] = []
    betas: list[np.ndarray] = []
    w = w_all[:, active]
    # convergence checks (a batched j x j eigenproblem each) at steps growing ~25% at a time
    checks = {step for step in range(check_every, max_iter + 1, check_every)
              if step <= 8 * check_every or step & (step - 1) == 0
              or (step % (2 ** max(0, step.bit_length() - 3)) == 0)}
    for step in range(1, max_iter + 1):
        y = w * (gram @ (w * v))
        alpha = np.einsum("ij,ij->j", y, v)
        y -= alpha * v + beta_prev * v_prev
        beta = np.linalg.norm(y, axis=0)
        alphas.append(alpha)
        betas.append(beta)
        tiny = beta <= 1e-300 + 64 * np.finfo(float).eps * np.abs(alpha)
        if step not in checks and step < max_iter and not tiny.any():
            v_prev, v, beta_prev = v, y / beta, beta
            continue
        theta, last = _ritz_top(np.asarray(alphas), np.asarray(betas))
        bound = betas[-1] * np.abs(last)
        done = (bound <= tol * trace[active]) | tiny
        lam[active[done]] = theta[done]
        if done.all():
            active = active[:0]
            break
        keep = ~done
        active = active[keep]
        alphas = [x[keep] for x in alphas]
        betas = [x[keep] for x in betas]
        w = w[:, keep]
        with np.errstate(divide="ignore", invalid="ignore"):
            v_prev, v, beta_prev = v[:, keep], y[:, keep] / beta[keep], beta[keep]
    for j in active:  # exact fallback for the few that did not converge
        sel = counts[j] > 0
        sq = np.sqrt(counts[j, sel])
        lam[j] = np.linalg.eigvalsh(sq[:, None] * gram[np.ix_(sel, sel)] * sq[None, :])[-1]
    return lam, int(active.size)


def _ritz_top(alphas: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest Ritz value and the last component of its vector, for each column of a Lanczos run.

    ``alphas`` (j, b) and ``betas`` (j, b) are the recurrence coefficients of ``b`` runs; the
    ``j x j`` tridiagonal matrices are solved together (one batched ``eigh``).
    """
    j, b = alphas.shape
    t = np.zeros((b, j, j))
    ar = np.arange(j)
    t[:, ar, ar] = alphas.T
    if j > 1:
        t[:, ar[:-1], ar[1:]] = betas[:-1].T
        t[:, ar[1:], ar[:-1]] = betas[:-1].T
    vals, vecs = np.linalg.eigh(t)
    return vals[:, -1], vecs[:, -1, -1]


@dataclass
class DiagnosticsBootstrap:
    """Bootstrap replicates of rho_bar, C_bar and E1 and their percentile intervals.

    Attributes
    ----------
    replicates : int
        Number of replicates ``B``.
    seed : int or None
        Seed of ``numpy.random.default_rng`` (None when a generator was passed in).
    confidence : float
        Coverage of the intervals.
    rho_bar, c_bar, e1 : numpy.ndarray
        (B,) replicate values (NaN where undefined, e.g. fewer than 2 usable queries drawn).
    duplicate_pairs : str
        ``"exclude"`` or ``"include"`` (see the module docstring).
    exact_fallbacks : int
        Replicates whose E1 needed the exact eigenvalue fallback.

    Examples
    --------
    >>> import aria
    >>> d = aria.diagnose(aria.load_scores(aria.examples.path("query-dependent")), bootstrap=200)
    >>> low, high = d.bootstrap.interval("rho_bar")
    >>> bool(low <= d.mean_abs_interquery_corr <= high), sorted(d.bootstrap.to_dict())
    (True, ['C_bar_ci', 'E1_ci', 'bootstrap', 'rho_bar_ci'])
    """

    replicates: int
    seed: int | None
    confidence: float
    rho_bar: np.ndarray = field(repr=False)
    c_bar: np.ndarray = field(repr=False)
    e1: np.ndarray = field(repr=False)
    duplicate_pairs: str = "exclude"
    exact_fallbacks: int = 0

    def interval(self, name: str) -> tuple[float, float]:
        """Percentile interval of ``"rho_bar"``, ``"c_bar"`` or ``"e1"``."""
        return percentile_interval(getattr(self, name), self.confidence)

    def to_dict(self) -> dict:
        """``{"rho_bar_ci": [low, high], "C_bar_ci", "E1_ci", "bootstrap": {...}}`` (NaN -> None)."""
        out: dict = {}
        for key, attr in CI_KEYS.items():
            out[f"{key}_ci"] = [finite_or_none(x) for x in self.interval(attr)]
        out["bootstrap"] = {
            "replicates": self.replicates, "seed": self.seed, "confidence": self.confidence,
            "method": "percentile", "resampled": RESAMPLED, "duplicate_pairs": self.duplicate_pairs,
            "undefined_replicates": {key: int((~np.isfinite(getattr(self, a))).sum())
                                     for key, a in CI_KEYS.items()},
            "exact_eigenvalue_fallbacks": self.exact_fallbacks,
        }
        return out


@validate_params({"replicates": Interval(int, 1, None), "seed": "seed",
                  "confidence": Interval(float, 0, 1, closed="neither"), "rng": [None, np.random.Generator],
                  "duplicate_pairs": Options(("exclude", "include")), "batch": Interval(int, 1, None),
                  "tol": Interval(float, 0, None, closed="neither"), "max_iter": Interval(int, 1, None)})
def bootstrap_diagnostics(
    stats,
    diagnostics,
    *,
    replicates: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    duplicate_pairs: str = "exclude",
    batch: int = 256,
    tol: float = 1e-11,
    max_iter: int = 300,
) -> DiagnosticsBootstrap:
    """Bootstrap rho_bar, C_bar and E1 over queries from the Gram statistics (no pass over rows).

    Parameters
    ----------
    stats : aria.diagnostics.stats.GramStats
        Sufficient statistics of ``S`` (row count, column means, centred co-moment).
    diagnostics : aria.Diagnostics
        :func:`aria.diagnostics.reliability.diagnose_stats` of the same statistics (gives ``|R|``, the
        per-query concentrations, ``v1`` and the exclusions).
    replicates : int
        Number of replicates ``B``.
    seed : int
        Seed of ``numpy.random.default_rng`` (recorded in the result; required: every random
        draw is seeded and recorded).
    confidence : float
        Coverage of the percentile intervals.
    rng : numpy.random.Generator, optional
        Draw from this generator instead of ``default_rng(seed)``.
    duplicate_pairs : str
        ``"exclude"`` (default: rho_bar over pairs of distinct queries) or ``"include"`` (the
        estimator applied literally to ``S[:, idx]``, copies of a query correlating 1).
    batch : int
        Replicates per Lanczos batch (memory: a few ``Q x batch`` float64 arrays). The draws do
        not depend on it, but the results are not bit-identical across batch sizes: a batch
        runs its Lanczos steps until all its replicates converge, so ``E1*`` changes in the last
        bits (within ``tol``; shipped query-dependent example, B = 1000, seed 0: 720 of 1000
        replicates differ by at most 2.8e-16 between ``batch=256`` and ``batch=16``, and the
        interval's lower end moves by 8e-17), and the matrix products' rounding may depend on
        the batch shape. Keep ``batch`` fixed to reproduce results bit for bit.
    tol : float
        Accuracy of each ``E1*`` (absolute).
    max_iter : int
        Lanczos steps before the exact fallback.

    Returns
    -------
    DiagnosticsBootstrap

    See Also
    --------
    aria.diagnose : ``bootstrap=B`` runs this on the statistics of its one pass.

    Examples
    --------
    >>> import numpy as np, aria
    >>> from aria.diagnostics.reliability import gram_stats, diagnose_stats
    >>> from aria.diagnostics.bootstrap import bootstrap_diagnostics
    >>> s = aria.scores_from_array(np.random.default_rng(0).normal(size=(200, 30)))
    >>> st = gram_stats(s)
    >>> boot = bootstrap_diagnostics(st, diagnose_stats(st, s.coords["query"].values), replicates=200)
    >>> low, high = boot.interval("c_bar")
    >>> bool(low < high)
    True
    """
    if duplicate_pairs not in ("include", "exclude"):
        raise AriaInputError(f"duplicate_pairs must be 'include' or 'exclude', got {duplicate_pairs!r}")
    q = diagnostics.n_queries
    qids = np.asarray(diagnostics.query_ids).astype(str)
    usable = ~np.isin(qids, np.asarray(diagnostics.excluded_correlation, dtype=str))
    abs_r = np.abs(diagnostics.correlation) if diagnostics.correlation is not None else None
    conc = np.asarray(diagnostics.concentration, dtype=np.float64)
    nonzero = np.isfinite(conc)
    gram = stats.gram()
    start = diagnostics.v1 if np.all(np.isfinite(diagnostics.v1)) else None
    gen = rng if rng is not None else np.random.default_rng(seed)
    rho = np.full(replicates, np.nan)
    cbar = np.full(replicates, np.nan)
    e1 = np.full(replicates, np.nan)
    fallbacks = 0
    pos = 0
    for counts in bootstrap_counts(gen, q, replicates, batch=batch):
        sl = slice(pos, pos + counts.shape[0])
        pos += counts.shape[0]
        if abs_r is not None:
            cu = counts[:, usable]
            k = cu.sum(axis=1)
            quad = np.einsum("bi,bi->b", cu @ abs_r, cu)
            if duplicate_pairs == "include":
                num, den = quad - k, k * (k - 1)
            else:
                sq = np.einsum("bi,bi->b", cu, cu)
                num, den = quad - sq, k * k - sq
            with np.errstate(divide="ignore", invalid="ignore"):
                rho[sl] = np.where(den > 0, num / den, np.nan)
        cn = counts[:, nonzero]
        w = cn.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            cbar[sl] = np.where(w > 0, (cn @ conc[nonzero]) / w, np.nan)
        trace = counts @ np.diag(gram)
        lam, n_exact = top_eigenvalues(gram, counts, start=start, tol=tol, max_iter=max_iter)
        fallbacks += n_exact
        with np.errstate(divide="ignore", invalid="ignore"):
            e1[sl] = np.where(trace > 0, np.clip(lam / trace, 0.0, 1.0), np.nan)
    return DiagnosticsBootstrap(replicates=replicates, seed=seed if rng is None else None,
                                confidence=confidence, rho_bar=rho, c_bar=cbar, e1=e1,
                                duplicate_pairs=duplicate_pairs, exact_fallbacks=fallbacks)
