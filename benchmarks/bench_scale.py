"""Benchmark ``aria diagnose --scheduler`` (dask.distributed) against the single process.

Whole processes are timed (start-up of Python, of the LocalCluster and its workers included), on
zarr stores written by this script (float32, row chunks of 16,384, low-rank + noise + offsets):

1. 300,000 x 500 (600 MB): single process vs ``--scheduler local:2`` (goal: within 2x);
2. 2,000,000 x 2,000 (16 GB, ``--large``): ``local:1`` vs ``local:2`` (strong scaling) and the
   single process; a model ``T(m) = t0 + N Q^2 / (m r) + P Q^2 / r_merge`` calibrated on those runs
   predicts the time on m machines (``N Q^2`` Gram flops split over m workers; the reduction costs
   ``Q^2`` per partition P, done by the merge tree).

Usage: ``python benchmarks/bench_scale.py [--large] [--workdir DIR] [--keep] [--repeats R]``.
Results go to ``benchmarks/results/scale.json``; figures are copied into docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def write_zarr(path: Path, n: int, q: int, seed: int = 0, rank: int = 8, chunk: int = 16_384) -> Path:
    """An n x q float32 zarr store (variable ``scores``, dims segment x query), written chunk by chunk."""
    import zarr

    if (path / "done").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    root = zarr.open_group(str(path), mode="w")
    arr = root.create_array("scores", shape=(n, q), chunks=(chunk, q), dtype="float32",
                            dimension_names=("segment", "query"))
    rng = np.random.default_rng(seed)
    b = rng.normal(size=(rank, q)).astype(np.float32)
    offset = rng.normal(size=q).astype(np.float32) * 3
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        r = np.random.default_rng([seed, start])
        block = r.normal(size=(stop - start, rank)).astype(np.float32) @ b
        block += r.standard_normal(size=(stop - start, q), dtype=np.float32) + offset
        arr[start:stop] = block
    zarr.consolidate_metadata(str(path))
    (path / "done").write_text("")
    return path


def run(args: list[str]) -> tuple[float, dict]:
    """Wall seconds of one whole ``aria`` process and its JSON output."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "aria", "diagnose", *args, "--json"], capture_output=True,
                         text=True, check=True)
    return time.perf_counter() - t0, json.loads(out.stdout)


def timed(label: str, args: list[str], repeats: int) -> dict:
    times, result = [], None
    for _ in range(repeats):
        t, result = run(args)
        times.append(t)
        print(f"{label}: {t:.1f} s", flush=True)
    return {"label": label, "seconds": times, "median": float(np.median(times)),
            "E1": result["energy_ratio_1"], "rho_bar": result["mean_abs_interquery_corr"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--large", action="store_true", help="also the 16 GB 2,000,000 x 2,000 store")
    ap.add_argument("--workdir", default="/tmp/aria-bench-scale")
    ap.add_argument("--keep", action="store_true", help="keep the generated stores")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                             "load_before": os.getloadavg()}, "runs": []}
    medium = write_zarr(work / "s300k.zarr", 300_000, 500)
    single = timed("300k x 500 single process", [str(medium)], a.repeats)
    local2 = timed("300k x 500 local:2", [str(medium), "--scheduler", "local:2"], a.repeats)
    res["runs"] += [single, local2]
    res["medium_ratio_local2_vs_single"] = local2["median"] / single["median"]
    assert abs(single["E1"] - local2["E1"]) <= 1e-12 * abs(single["E1"])
    if a.large:
        t0 = time.perf_counter()
        big = write_zarr(work / "s2m.zarr", 2_000_000, 2_000)
        res["large_write_seconds"] = time.perf_counter() - t0
        runs = [timed("2M x 2000 local:1", [str(big), "--scheduler", "local:1"], 1),
                timed("2M x 2000 local:2", [str(big), "--scheduler", "local:2"], 1),
                timed("2M x 2000 single process", [str(big)], 1)]
        res["runs"] += runs
        t1, t2 = runs[0]["median"], runs[1]["median"]
        n, q = 2_000_000, 2_000
        # T(m) = t0 + W / m  fitted on m = 1, 2 (W: the parallel work; t0: start-up, tree, verdict)
        w = 2 * (t1 - t2)
        t0_ = t1 - w
        res["model"] = {"t0_seconds": t0_, "parallel_work_seconds": w,
                        "gram_gflops_per_worker": n * q * q / w / 1e9,
                        "predicted_seconds": {m: t0_ + w / m for m in (1, 2, 4, 8, 16, 32)},
                        "speedup_1_to_2": t1 / t2}
    res["machine"]["load_after"] = os.getloadavg()
    out = ROOT / "benchmarks" / "results" / "scale.json"
    out.write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
