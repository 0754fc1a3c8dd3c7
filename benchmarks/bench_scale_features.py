"""Benchmark feature extraction on dask (``--scheduler local:2``) against the process pool (``--workers 2``).

Whole ``aria features symbolic`` processes are timed (Python start-up, the worker pool or the
LocalCluster's start and stop included) on the same MIDI files: music21's corpus written once to
``/tmp/aria-bench-midi`` by ``corpus_midi.py`` (Bach chorales first, then Palestrina). The ratio
``local:2 / --workers 2`` is the engine's overhead (task scheduling, result transfer, cluster
start-up); a ``--workers 1`` run gives the reference table, and every table is checked to be
byte-identical to it. The load average (1 min) is recorded before and after every run.

Usage: ``python benchmarks/bench_scale_features.py [--files 1000] [--repeats 3] [--workdir DIR]``.
Results go to ``benchmarks/results/scale_features.json``; figures are copied into
docs/performance.md by hand.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_midi import DEFAULT_CACHE, build  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def link_inputs(files: list[Path], cache: Path, dest: Path) -> Path:
    """A directory holding exactly ``files`` (symbolic links, same relative paths as in ``cache``)."""
    shutil.rmtree(dest, ignore_errors=True)
    for f in files:
        link = dest / f.relative_to(cache)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(f.resolve())
    return dest


def run(inputs: Path, out: Path, engine: list[str]) -> dict:
    """Wall seconds of one whole ``aria features symbolic`` process, and the 1-minute load around it."""
    out.unlink(missing_ok=True)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "aria", "features", "symbolic", str(inputs), "--out", str(out),
                    "--quiet", *engine], check=True, capture_output=True, text=True)
    return {"seconds": time.perf_counter() - t0, "load_before": load0, "load_after": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=1000, help="MIDI files (default 1000)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/aria-bench-scale-features")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "scale_features.json"))
    args = ap.parse_args()

    work = Path(args.workdir)
    files = build(args.files, DEFAULT_CACHE)
    inputs = link_inputs(files, DEFAULT_CACHE, work / "midi")
    ref = work / "ref.parquet"
    reference = run(inputs, ref, ["--workers", "1"])
    print(f"--workers 1: {reference['seconds']:.1f} s (reference table)", flush=True)
    engines = {"--workers 2": ["--workers", "2"], "--scheduler local:2": ["--scheduler", "local:2"]}
    runs: dict[str, list[dict]] = {label: [] for label in engines}
    for i in range(args.repeats):
        for label, engine in engines.items():  # interleaved, so that load changes hit both alike
            out = work / f"out-{i}.parquet"
            r = run(inputs, out, engine)
            r["identical_to_one_worker"] = out.read_bytes() == ref.read_bytes()
            runs[label].append(r)
            print(f"{label}: {r['seconds']:.1f} s (load {r['load_before']:.1f} -> {r['load_after']:.1f}), "
                  f"identical: {r['identical_to_one_worker']}", flush=True)
    medians = {label: float(np.median([r["seconds"] for r in rs])) for label, rs in runs.items()}
    ratio = medians["--scheduler local:2"] / medians["--workers 2"]
    print(f"local:2 / --workers 2 = {ratio:.2f}")
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "files": len(files), "reference_workers_1": reference, "runs": runs, "medians": medians,
        "ratio_local2_over_workers2": ratio,
        "all_identical": all(r["identical_to_one_worker"] for rs in runs.values() for r in rs),
    }
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
