"""Benchmark ``aria.diagnose`` against the naive dense route, in one process.

Measures, for a float32 ``.npy`` score matrix on disk:

1. 200,000 x 1,000: aria (streamed, memory-mapped) vs naive (load as float64,
   ``np.corrcoef`` + ``np.linalg.svd``): time ratio and peak RSS of each;
2. the floor set by the Q x Q Gram product: this machine's float64
   ``S_chunk.T @ S_chunk`` throughput, measured in the same run, and aria's
   achieved fraction of it;
3. growth of aria's time with N (1e4 .. 1e6 at Q = 1,000; the 1e6 file is 4 GB
   and must be diagnosed in under 1 GB RSS) and with Q (100 .. 4,000 at N = 100,000).

Usage: ``python benchmarks/bench_diagnose.py [--quick] [--workdir DIR] [--keep]``.
Results are printed as a table and written to ``benchmarks/results/diagnose.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import measure, write_npy  # noqa: E402

import aria  # noqa: E402


def naive(path: Path) -> dict:
    s = np.load(path).astype(np.float64)
    r = np.corrcoef(s, rowvar=False)
    q = s.shape[1]
    rho = np.abs(r[np.triu_indices(q, 1)]).mean()
    sv = np.linalg.svd(s, compute_uv=False)
    e = sv**2 / (sv**2).sum()
    c = (s.sum(0) ** 2 / (s.shape[0] * (s**2).sum(0))).mean()
    return {"rho": float(rho), "e1": float(e[0]), "c": float(c)}


def gram_floor(n: int, q: int, rows: int = 16384, repeats: int = 3) -> float:
    """Seconds for the float64 S^T S over n rows, extrapolated from chunk products."""
    x = np.random.default_rng(0).normal(size=(rows, q))
    x.T @ x
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        x.T @ x
        best = min(best, time.perf_counter() - t0)
    return best * n / rows


def run_aria(path: Path) -> tuple[dict, aria.Diagnostics]:
    res: dict = {}
    with measure(res):
        d = aria.diagnose(aria.load_scores(path))
    return res, d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (minutes, not tens of minutes)")
    ap.add_argument("--workdir", default="/tmp/aria-bench", help="where the .npy files go")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "diagnose.json"))
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    q = 1000
    n_main = 50_000 if args.quick else 200_000
    report: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "numpy": np.__version__, "load_avg": os.getloadavg()}}

    # 1. aria vs naive
    path = write_npy(work / f"s_{n_main}x{q}.npy", n_main, q)
    file_mb = path.stat().st_size / 2**20
    a, d = run_aria(path)
    gc.collect()
    nv: dict = {}
    with measure(nv):
        ref = naive(path)
    gc.collect()
    agree = max(abs(ref["rho"] - d.mean_abs_interquery_corr), abs(ref["e1"] - d.energy_ratio_1),
                abs(ref["c"] - d.mean_concentration))
    floor = gram_floor(n_main, q)
    report["vs_naive"] = {
        "n": n_main, "q": q, "file_mb": file_mb,
        "aria_s": a["seconds"], "aria_peak_rss_mb": a["peak_rss_mb"],
        "naive_s": nv["seconds"], "naive_peak_rss_mb": nv["peak_rss_mb"],
        "speedup": nv["seconds"] / a["seconds"],
        "aria_rss_over_file": a["peak_rss_mb"] / file_mb,
        "max_abs_diff_vs_naive": agree,
        "gram_floor_s": floor, "aria_over_floor": a["seconds"] / floor,
    }
    print(json.dumps(report["vs_naive"], indent=2))

    # 2. growth with N at Q = 1000
    ns = [10_000, 100_000, 300_000] if args.quick else [10_000, 100_000, 1_000_000]
    report["growth_n"] = []
    for n in ns:
        p = write_npy(work / f"s_{n}x{q}.npy", n, q, seed=1)
        r, _ = run_aria(p)
        row = {"n": n, "q": q, "file_mb": p.stat().st_size / 2**20, "seconds": r["seconds"],
               "peak_rss_mb": r["peak_rss_mb"], "gram_floor_s": gram_floor(n, q)}
        row["aria_over_floor"] = row["seconds"] / row["gram_floor_s"]
        report["growth_n"].append(row)
        print(row)
        if n >= 1_000_000 and not args.keep:
            p.unlink()

    # 3. growth with Q at fixed N
    nq = 20_000 if args.quick else 100_000
    report["growth_q"] = []
    for qq in ([100, 500, 1000, 2000] if args.quick else [100, 500, 1000, 2000, 4000]):
        p = write_npy(work / f"s_{nq}x{qq}.npy", nq, qq, seed=2)
        r, _ = run_aria(p)
        row = {"n": nq, "q": qq, "seconds": r["seconds"], "peak_rss_mb": r["peak_rss_mb"],
               "gram_floor_s": gram_floor(nq, qq, rows=4096)}
        row["aria_over_floor"] = row["seconds"] / row["gram_floor_s"]
        report["growth_q"].append(row)
        print(row)
    report["machine"]["load_avg_end"] = os.getloadavg()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
