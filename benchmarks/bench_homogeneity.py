"""Benchmark of ``aria homogeneity`` at the scale of the paper's audio experiment (FMA Large).

Full scale: M = 100,000 tracks, N = 1,000,000 segments, Q = 1,000 queries (a 4 GB float32
``.npy``, memory-mapped and streamed), the full audio channel set (244 vector dimensions plus
chord-progression LCS over synthetic root-motion sequences of 20-120 symbols),
K in {5, 10, 20, 50, 100}, R = 1,000 random groups per K.

Each timed run is a fresh ``python -m aria.cli homogeneity`` subprocess (wall time and peak RSS
of that process): ``zscore`` with a cold null cache, ``zscore`` again with the warm cache (how a
second method on the same training set runs), and ``rank`` (warm cache).

A straightforward implementation (per-query Python loop, pandas groupby per query, argsort,
``scipy.spatial.distance.pdist`` per group and feature, dynamic-programming LCS in Python) is run
on a subsample of queries and null groups and extrapolated linearly to the full workload; the
report says so.

Usage::

    python benchmarks/bench_homogeneity.py --scale small          # ~1-2 minutes
    python benchmarks/bench_homogeneity.py --scale full --workdir /tmp/aria-bench   # 4 GB file

The generated files are deleted at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aria.features.channels import load_channel_set  # noqa: E402

SCALES = {
    "full": dict(m=100_000, n=1_000_000, q=1_000, r=1_000),
    "medium": dict(m=30_000, n=300_000, q=300, r=1_000),
    "small": dict(m=10_000, n=100_000, q=200, r=1_000),
    "tiny": dict(m=2_000, n=20_000, q=50, r=200),
}
KS = (5, 10, 20, 50, 100)


def load_conditions() -> dict:
    la = os.getloadavg()
    return {"loadavg_1_5_15": [round(x, 2) for x in la], "cpus": os.cpu_count(),
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def generate(workdir: Path, m: int, n: int, q: int, seed: int = 0) -> dict:
    """Scores (.npy float32, low-rank + noise), segment->track map (.npy), feature table (.parquet)."""
    rng = np.random.default_rng(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rank = 8
    query_side = rng.normal(size=(rank, q)).astype(np.float32)
    track_of = (np.arange(n, dtype=np.int64) * m) // n  # ~n/m contiguous segments per track
    track_side = rng.normal(size=(m, rank)).astype(np.float32)
    scores_path = workdir / "scores.npy"
    arr = np.lib.format.open_memmap(scores_path, mode="w+", dtype=np.float32, shape=(n, q))
    step = 50_000
    for s in range(0, n, step):
        e = min(n, s + step)
        block = rng.standard_normal(size=(e - s, q), dtype=np.float32)
        block += track_side[track_of[s:e]] @ query_side
        arr[s:e] = block
        arr.flush()
    del arr
    np.save(workdir / "tracks.npy", track_of)
    cset = load_channel_set("audio")
    cols = {"track": pa.array(np.arange(m, dtype=np.int64))}
    cluster = rng.integers(0, 20, m)
    for f in cset.features:
        if f.kind == "vector":
            centers = rng.normal(size=(20, f.dim))
            vals = (centers[cluster] + rng.normal(size=(m, f.dim))).ravel()
            cols[f.name] = pa.FixedSizeListArray.from_arrays(pa.array(vals), f.dim)
        else:
            lens = rng.integers(20, 121, m)
            offsets = np.zeros(m + 1, dtype=np.int32)
            np.cumsum(lens, out=offsets[1:])
            vals = rng.integers(0, 12, int(offsets[-1])).astype(np.int64)
            cols[f.name] = pa.ListArray.from_arrays(pa.array(offsets), pa.array(vals))
    cols["status"] = pa.array(["ok"] * m)
    pq.write_table(pa.table(cols), workdir / "features.parquet")
    return {"scores": scores_path, "tracks": workdir / "tracks.npy", "features": workdir / "features.parquet",
            "seconds": time.perf_counter() - t0, "bytes": scores_path.stat().st_size}


_CHILD = (
    "import sys\n"
    "from aria.cli import main\n"
    "try:\n"
    "    rc = main(sys.argv[1:])\n"
    "finally:\n"
    "    hwm = [ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')]\n"
    "    print(f'PEAK_RSS_KB {hwm[0]}', file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def timed_cli(args: list[str], env: dict | None = None) -> dict:
    """Run the CLI in a fresh subprocess; its wall time and its own peak RSS.

    Peak RSS is the child's ``VmHWM`` (high-water mark of its own address space, which starts
    afresh at exec); ``ru_maxrss`` would also count the pages it shared with this parent at fork.
    """
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"aria failed ({proc.returncode}): {proc.stderr.strip()}")
    peak_kb = int(next(ln.split()[1] for ln in proc.stderr.splitlines() if ln.startswith("PEAK_RSS_KB")))
    stages = [ln for ln in proc.stderr.splitlines() if ln.startswith("aria homogeneity:")]
    out = json.loads(proc.stdout)
    return {"wall_seconds": round(wall, 2), "peak_rss_gb": round(peak_kb / 2**20, 3),
            "stages": stages, "result": out}


# ---------------------------------------------------------------------------------------------
# straightforward implementation (reference for the speed-up)


def dp_lcs(a, b) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def naive_group_h(group, vec, var, seqs) -> dict:
    from scipy.spatial.distance import pdist

    h = {}
    for name, x in vec.items():
        d = pdist(x[group], "seuclidean", V=var[name])
        h[name] = float(np.mean(1.0 / (1.0 + d)))
    for name, s in seqs.items():
        sims = []
        for a, b in itertools.combinations(group, 2):
            sa, sb = s[a], s[b]
            sims.append(dp_lcs(sa, sb) / max(len(sa), len(sb)) if len(sa) and len(sb) else 0.0)
        h[name] = float(np.mean(sims))
    return h


def naive(paths: dict, m: int, n: int, q: int, r: int, n_queries: int, n_null: int, seed: int = 0) -> dict:
    """Time the straightforward implementation on a subsample; extrapolate to the full workload."""
    scores = np.load(paths["scores"], mmap_mode="r")
    tracks = np.load(paths["tracks"])
    table = pq.read_table(paths["features"]).to_pandas()
    cset = load_channel_set("audio")
    vec = {f.name: np.stack(table[f.name].to_numpy()) for f in cset.features if f.kind == "vector"}
    var = {k: v.var(axis=0, ddof=1) for k, v in vec.items()}
    seqs = {f.name: [list(x) for x in table[f.name]] for f in cset.features if f.kind == "sequence"}
    rng = np.random.default_rng(seed)
    ks = [k for k in KS if k < m]
    # per-query part: normalize, aggregate, top-K, H for every K
    t0 = time.perf_counter()
    t_norm = 0.0
    for qi in range(n_queries):
        a = time.perf_counter()
        col = np.asarray(scores[:, qi], dtype=np.float64)
        z = (col - col.mean()) / col.std()
        tmean = pd.Series(z).groupby(tracks).mean()
        order = np.argsort(-tmean.to_numpy(), kind="stable")
        t_norm += time.perf_counter() - a
        for k in ks:
            naive_group_h(order[:k], vec, var, seqs)
    t_query = (time.perf_counter() - t0) / n_queries
    t_norm /= n_queries
    # null: time random groups of each K
    t_null_per_k = {}
    for k in ks:
        t1 = time.perf_counter()
        for _ in range(n_null):
            naive_group_h(rng.choice(m, k, replace=False), vec, var, seqs)
        t_null_per_k[k] = (time.perf_counter() - t1) / n_null
    total = q * t_query + r * sum(t_null_per_k.values())
    return {"queries_timed": n_queries, "null_groups_timed_per_k": n_null,
            "seconds_per_query_all_k": round(t_query, 3), "seconds_per_query_normalize": round(t_norm, 3),
            "seconds_per_null_group": {str(k): round(v, 4) for k, v in t_null_per_k.items()},
            "extrapolated_total_seconds": round(total, 1),
            "note": f"measured on {n_queries} queries and {n_null} null groups per K, extrapolated "
                    f"linearly to Q = {q} queries and R = {r} groups per K"}


def lcs_microbench(paths: dict, n_pairs: int, seed: int = 1) -> dict:
    """Bit-parallel batch LCS vs DP on the same random pairs."""
    from aria.features.table import Sequences
    from aria.groups.similarity import LCSSimilarity

    table = pq.read_table(paths["features"], columns=["chord_progression"]).column(0).to_pylist()
    seqs = Sequences.from_list(table)
    ls = LCSSimilarity(seqs)
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, len(table), 1_000_000)
    ib = rng.integers(0, len(table), 1_000_000)
    t0 = time.perf_counter()
    fast = ls.lengths(ia, ib)
    t_fast = (time.perf_counter() - t0) / ia.size
    t0 = time.perf_counter()
    slow = [dp_lcs(table[a], table[b]) for a, b in zip(ia[:n_pairs], ib[:n_pairs], strict=True)]
    t_slow = (time.perf_counter() - t0) / n_pairs
    assert fast[:n_pairs].tolist() == slow
    return {"bitparallel_us_per_pair": round(t_fast * 1e6, 3), "dp_us_per_pair": round(t_slow * 1e6, 1),
            "speedup": round(t_slow / t_fast, 1), "dp_pairs_timed": n_pairs, "bitparallel_pairs": ia.size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=SCALES, default="small")
    ap.add_argument("--workdir", default="/tmp/aria-bench-homogeneity")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--skip-rank", action="store_true")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--naive-queries", type=int, default=2)
    ap.add_argument("--naive-null", type=int, default=2)
    ap.add_argument("--json-out", help="write the figures here as JSON")
    a = ap.parse_args()
    p = SCALES[a.scale]
    m, n, q, r = p["m"], p["n"], p["q"], p["r"]
    work = Path(a.workdir)
    report: dict = {"scale": a.scale, "m": m, "n": n, "q": q, "r": r, "k": [k for k in KS if k < m],
                    "workers": a.workers, "load_before": load_conditions()}
    try:
        paths = generate(work, m, n, q)
        report["generate_seconds"] = round(paths["seconds"], 1)
        report["scores_bytes"] = paths["bytes"]
        base = ["homogeneity", str(paths["scores"]), "--tracks", str(paths["tracks"]), "--features",
                str(paths["features"]), "--channels", "audio", "--k", ",".join(map(str, report["k"])),
                "--null-groups", str(r), "--seed", "0", "--workers", str(a.workers), "--json",
                "--progress", "--cache-dir", str(work / "cache")]
        runs = {}
        one_blas = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        for label, extra, env in (
                ("zscore_cold_cache", ["--normalize", "zscore"], None),
                ("zscore_warm_cache", ["--normalize", "zscore"], None),
                ("zscore_cold_cache_blas1", ["--normalize", "zscore", "--cache-dir", str(work / "cache1")],
                 one_blas),
                ("rank_warm_cache", ["--normalize", "rank"], None)):
            if a.skip_rank and label.startswith("rank"):
                continue
            run = timed_cli(base + extra, env)
            run["env"] = env or {}
            res = run.pop("result")
            run["z_mean_k10"] = {c: res["homogeneity"][c]["10"]["z_mean"] for c in ("rhythm", "harmony",
                                                                                     "timbre")}
            run["verdict"] = res["verdict"]
            runs[label] = run
            print(label, json.dumps(run, indent=1), flush=True)
        report["runs"] = runs
        report["lcs"] = lcs_microbench(paths, n_pairs=2000)
        print("lcs", report["lcs"], flush=True)
        if not a.skip_naive:
            report["naive"] = naive(paths, m, n, q, r, a.naive_queries, a.naive_null)
            cold = runs["zscore_cold_cache"]["wall_seconds"]
            naive_total = report["naive"]["extrapolated_total_seconds"]
            report["speedup_vs_naive_zscore_cold"] = round(naive_total / cold, 1)
            print("naive", report["naive"], flush=True)
        report["load_after"] = load_conditions()
    finally:
        if not a.keep and work.exists():
            shutil.rmtree(work)
    text = json.dumps(report, indent=2)
    print(text)
    if a.json_out:
        Path(a.json_out).write_text(text + "\n")


if __name__ == "__main__":
    main()
