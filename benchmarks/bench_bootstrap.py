"""Benchmark the bootstrap over queries, and measure its coverage on data with a known answer.

1. Speed. ``B = 1,000`` replicates of rho_bar, C_bar and E1 at ``Q = 1,000`` queries
   (``N = 10,000`` rows, in memory), from the Gram statistics (:func:`bootstrap_diagnostics`), for
   two spectra: a low-rank query-dependent matrix (well separated E1) and pure noise (flat
   spectrum: close top eigenvalues, the slow case for the Lanczos iterations). Against the naive
   route: recompute each replicate's diagnostics from the rows of ``S[:, idx]`` (one Gram pass per
   replicate), timed on a few replicates and extrapolated to B; both routes agree (checked).
2. Coverage. ``--sims`` simulated matrices with exactly known rho_bar and C_bar (the factor model
   of ``tests/diagnostics/test_bootstrap.py``), 95% percentile intervals with B = 500 each,
   for both ways of counting a query's pair with its own copy; and the mean of per-query values
   (z_bar / LDS) for normal per-query values with a known mean.

Usage: ``python benchmarks/bench_bootstrap.py [--quick] [--sims N]``.
Results are printed and written to ``benchmarks/results/bootstrap.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aria  # noqa: E402
from aria.diagnostics.bootstrap import bootstrap_diagnostics  # noqa: E402
from aria.diagnostics.reliability import diagnose_stats, gram_stats  # noqa: E402
from aria.evaluate.bootstrap import lds_bootstrap  # noqa: E402


def _stats(s: np.ndarray):
    da = aria.scores_from_array(s)
    st = gram_stats(da)
    return st, diagnose_stats(st, da.coords["query"].values)


def speed(n: int, q: int, b: int, naive_reps: int, kind: str) -> dict:
    rng = np.random.default_rng(0)
    if kind == "low-rank":
        s = rng.normal(size=(n, 8)) @ rng.normal(size=(8, q)) + rng.normal(size=(n, q))
        s += 3 * rng.normal(size=q)
    else:
        s = rng.normal(size=(n, q))
    t0 = time.perf_counter()
    st, d = _stats(s)
    t_pass = time.perf_counter() - t0
    t0 = time.perf_counter()
    boot = bootstrap_diagnostics(st, d, replicates=b, seed=0)
    t_gram = time.perf_counter() - t0
    # naive: the first replicates again, recomputed from the rows of the resampled columns
    rng_b = np.random.default_rng(0)
    t0 = time.perf_counter()
    worst = 0.0
    for i in range(naive_reps):
        idx = rng_b.integers(0, q, size=q)
        _, di = _stats(s[:, idx])
        worst = max(worst, abs(di.energy_ratio_1 - boot.e1[i]), abs(di.mean_concentration - boot.c_bar[i]))
    t_naive = (time.perf_counter() - t0) / naive_reps * b
    return {"kind": kind, "n": n, "q": q, "replicates": b, "E1": d.energy_ratio_1,
            "gram_pass_seconds": round(t_pass, 3), "bootstrap_seconds": round(t_gram, 3),
            "naive_seconds_extrapolated": round(t_naive, 1), "naive_replicates_timed": naive_reps,
            "speedup": round(t_naive / t_gram, 1), "exact_fallbacks": boot.exact_fallbacks,
            "max_abs_difference_vs_naive": worst}


def _factor_matrix(rng, q, extra=50, r_range=(0.1, 0.9)):
    n = q + extra
    m = rng.normal(size=(n, q + 1))
    m -= m.mean(axis=0)
    u, _ = np.linalg.qr(m)
    r = rng.uniform(*r_range, size=q)
    t = rng.uniform(0, 2, size=q)
    return np.sqrt(r) * u[:, :1] + np.sqrt(1 - r) * u[:, 1:] + t / math.sqrt(n)


def coverage(sims: int, q: int, b: int, r_range: tuple[float, float] = (0.1, 0.9)) -> dict:
    lo_r, hi_r = r_range
    true_rho = ((2 / 3) * (hi_r**1.5 - lo_r**1.5) / (hi_r - lo_r)) ** 2
    true_c = (2 - math.atan(2)) / 2
    rng = np.random.default_rng(2024)
    hits = {"rho_bar_exclude": 0, "rho_bar_include": 0, "c_bar": 0, "mean_of_per_query_values": 0}
    widths = {k: [] for k in hits}
    for i in range(sims):
        st, d = _stats(_factor_matrix(rng, q, r_range=r_range))
        for dp in ("exclude", "include"):
            boot = bootstrap_diagnostics(st, d, replicates=b, seed=i, duplicate_pairs=dp)
            lo, hi = boot.interval("rho_bar")
            hits[f"rho_bar_{dp}"] += lo <= true_rho <= hi
            widths[f"rho_bar_{dp}"].append(hi - lo)
        lo, hi = boot.interval("c_bar")
        hits["c_bar"] += lo <= true_c <= hi
        widths["c_bar"].append(hi - lo)
        z = rng.normal(0.7, 1.0, size=q)  # per-query z (or Spearman) values with known mean 0.7
        lo, hi = lds_bootstrap(z, replicates=b, seed=i)["lds_ci"]
        hits["mean_of_per_query_values"] += lo <= 0.7 <= hi
        widths["mean_of_per_query_values"].append(hi - lo)
    return {"sims": sims, "q": q, "replicates": b, "nominal": 0.95, "r_range": list(r_range),
            "coverage": {k: v / sims for k, v in hits.items()},
            "monte_carlo_sd": round(math.sqrt(0.95 * 0.05 / sims), 4),
            "mean_width": {k: float(np.mean(v)) for k, v in widths.items()},
            "true": {"rho_bar": true_rho, "c_bar": true_c, "mean": 0.7}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="Q = 300 and 100 simulations")
    ap.add_argument("--sims", type=int, default=None, help="coverage simulations (default 1000)")
    ap.add_argument("--part", choices=("all", "speed", "coverage"), default="all",
                    help="run one part only (its results replace that part of the JSON file)")
    args = ap.parse_args()
    q, sims = (300, 100) if args.quick else (1000, 1000)
    sims = args.sims or sims
    name = "bootstrap-quick.json" if args.quick else "bootstrap.json"
    dest = Path(__file__).resolve().parent / "results" / name
    results: dict = json.loads(dest.read_text()) if dest.exists() and args.part != "all" else {}
    machine = {"cores": os.cpu_count(), "load_avg_start": os.getloadavg(),
               "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"), "numpy": np.__version__,
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.part in ("all", "speed"):
        results["speed"] = [speed(10_000, q, 1000, 5, kind) for kind in ("low-rank", "noise")]
        results["speed_machine"] = machine
        results.pop("machine", None)  # layout of the first run
    for r in results.get("speed", []) if args.part != "coverage" else []:
        print(f"{r['kind']:>8}: B={r['replicates']} Q={r['q']}: "
              f"Gram bootstrap {r['bootstrap_seconds']:.2f} s, "
              f"naive {r['naive_seconds_extrapolated']:.0f} s (extrapolated) -> {r['speedup']}x; "
              f"max |diff| {r['max_abs_difference_vs_naive']:.1e}; fallbacks {r['exact_fallbacks']}")
    if args.part in ("all", "coverage"):
        results["coverage"] = coverage(sims, 60, 500)
        results["coverage_narrow"] = coverage(sims, 60, 500, r_range=(0.2, 0.3))
        results["coverage_machine"] = machine
        for key in ("coverage", "coverage_narrow"):
            print(key, results[key]["coverage"], "MC sd", results[key]["monte_carlo_sd"])
    machine["load_avg_end"] = os.getloadavg()
    dest.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {dest}")


if __name__ == "__main__":
    main()
