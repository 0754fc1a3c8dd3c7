"""Benchmark: symbolic feature extraction at corpus scale, and against music21's own extractors.

Usage: python benchmarks/bench_features_symbolic.py [--files 1000] [--m21-files 20] [--json OUT]

1. Writes (once, cached under /tmp/aria-bench-midi) 1,000 MIDI files from music21's offline corpus
   (Bach chorales, then Palestrina), see ``corpus_midi.py``.
2. Times ``aria.features.extract_symbolic`` on 250, 500 and 1,000 of them with 1 and 2 workers
   (wall clock, including the worker pool's start-up), files in a fixed shuffled order so that
   every prefix has the same mix: files per second, and the linearity of time in the number of
   files.
3. On a subset, times the music21 route for the quantities music21 implements (MIDI parsed by
   ``music21.converter.parse``, then jSymbolic-1 extractors M1 melodic intervals, P20 pitch-class
   distribution, R15 note density, R17 average note duration, T2/T3 independent voices, P10 range)
   against Aria's route (pretty_midi parse, all twelve features) on the same files, one process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from corpus_midi import DEFAULT_CACHE, build  # noqa: E402

from aria._resources import channelset_path  # noqa: E402
from aria.features.extract.symbolic import extract_symbolic, load_midi, symbolic_features  # noqa: E402
from aria.features.table import load_channelset  # noqa: E402

M21_FEATURES = ("MelodicIntervalHistogramFeature", "PitchClassDistributionFeature", "NoteDensityFeature",
                "AverageNoteDurationFeature", "AverageNumberOfIndependentVoicesFeature",
                "VariabilityOfNumberOfIndependentVoicesFeature", "RangeFeature")


def music21_route(path: Path) -> None:
    from music21 import converter, features

    score = converter.parse(str(path))
    di = features.DataInstance(score)
    for name in M21_FEATURES:
        fe = getattr(features.jSymbolic, name)()
        fe.setData(di)
        fe.extract()


def aria_route(path: Path, cs) -> None:
    notes, _ = load_midi(path)
    symbolic_features(notes, cs)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker pool), in seconds."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--m21-files", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")

    files = build(args.files, DEFAULT_CACHE)
    # a fixed shuffle, so that every prefix has the same mix of short chorales and long masses
    files = [files[i] for i in np.random.default_rng(0).permutation(len(files))]
    print(f"{len(files)} MIDI files in {DEFAULT_CACHE}; load average {os.getloadavg()}", flush=True)
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "load_before": os.getloadavg()}, "scaling": [], "music21": {}}

    sizes = [n for n in (250, 500, 1000) if n <= len(files)] or [len(files)]
    for workers in (1, 2):
        for n in sizes:
            t, c = time.perf_counter(), cpu_seconds()
            df = extract_symbolic(files[:n], workers=workers)
            dt, dc = time.perf_counter() - t, cpu_seconds() - c
            ok = int((df["status"] == "ok").sum())
            row = {"files": n, "workers": workers, "seconds": dt, "files_per_s": n / dt, "cpu_s": dc,
                   "cpu_ms_per_file": 1e3 * dc / n, "ok": ok, "load": os.getloadavg()[0]}
            results["scaling"].append(row)
            print(f"workers={workers} files={n:5d}: {dt:7.2f} s  {n / dt:7.1f} files/s  "
                  f"cpu {1e3 * dc / n:5.1f} ms/file  ({ok} ok)  load {row['load']:.2f}", flush=True)

    cs = load_channelset(channelset_path("symbolic"))
    step = max(1, len(files) // args.m21_files)
    subset = sorted(files[::step][: args.m21_files])
    t, c = time.perf_counter(), time.process_time()
    for f in subset:
        aria_route(f, cs)
    t_aria, c_aria = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    for f in subset:
        music21_route(f)
    t_m21, c_m21 = time.perf_counter() - t, time.process_time() - c
    results["music21"] = {"files": len(subset), "aria_s": t_aria, "music21_s": t_m21,
                          "aria_cpu_s": c_aria, "music21_cpu_s": c_m21,
                          "aria_ms_per_file": 1e3 * t_aria / len(subset),
                          "music21_ms_per_file": 1e3 * t_m21 / len(subset),
                          "speedup": t_m21 / t_aria, "speedup_cpu": c_m21 / c_aria}
    print(f"music21 route on {len(subset)} files: {t_m21:.2f} s ({1e3 * t_m21 / len(subset):.0f} ms/file, "
          f"7 of the 12 quantities); aria route: {t_aria:.3f} s ({1e3 * t_aria / len(subset):.1f} ms/file, "
          f"all 12) -> speed-up {t_m21 / t_aria:.0f}x wall, {c_m21 / c_aria:.0f}x CPU", flush=True)
    results["machine"]["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
