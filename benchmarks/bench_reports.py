"""Benchmark the presentation layer: LDS, ``compare`` and the HTML report, in one process.

1. LDS of a 200,000 x 1,000 float32 ``.npy`` (763 MiB, memory-mapped) against 100 retraining
   subsets (boolean masks): streamed subset sums + Spearman per query; time and peak RSS.
2. ``compare_methods`` + text table of three such matrices' diagnostics (diagnose dominates).
3. Report rendering for one method with every diagnostics figure (build + render + write):
   time and HTML size; then with homogeneity on the shipped Bach example (R = 1000 nulls, K sweep,
   residual, alignment, confound): total time, of which report assembly/figures.

Usage: ``python benchmarks/bench_reports.py [--quick] [--workdir DIR]``.
Results are printed and written to ``benchmarks/results/reports.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import measure, write_npy  # noqa: E402

import aria  # noqa: E402
from aria.evaluate.compare import compare_methods  # noqa: E402
from aria.evaluate.lds import GroundTruth, lds  # noqa: E402
from aria.examples import bach_scores as bach  # noqa: E402
from aria.groups.setup import HomogeneitySetup  # noqa: E402
from aria.io.provenance import provenance_record  # noqa: E402
from aria.report.html import build_report, homogeneity_blocks, render_html, write_report  # noqa: E402
from aria.report.text import format_comparison  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="20,000 x 500 instead of 200,000 x 1,000")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    n, q = (20_000, 500) if args.quick else (200_000, 1_000)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="aria-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"n": n, "q": q}

    paths = [write_npy(work / f"m{i}_{n}x{q}.npy", n, q, seed=i) for i in range(3)]
    rng = np.random.default_rng(0)
    mask = rng.random((100, n)) < 0.5
    targets = rng.normal(size=(100, q))
    gt = GroundTruth(mask, targets)
    scores = aria.load_scores(paths[0])
    r: dict = {}
    with measure(r):
        res = lds(scores, gt)
    r["lds"] = res.mean
    results["lds_100_subsets"] = r
    print(f"LDS {n} x {q}, 100 subsets: {r['seconds']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MiB")

    r = {}
    with measure(r):
        diags = {p.stem: aria.diagnose(aria.load_scores(p)) for p in paths}
        text = format_comparison(compare_methods(diags))
    results["compare_3_methods"] = r
    print(f"compare 3 x ({n} x {q}): {r['seconds']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MiB")
    print(text.splitlines()[4])

    r = {}
    out = work / "report"
    with measure(r):
        prov = provenance_record({"scores": paths[0]}, {})
        html = render_html(build_report({"m0": diags[paths[0].stem]}, provenance=prov))
        write_report(html, out)
    r["html_kib"] = len(html.encode()) / 1024
    results["report_diagnostics"] = r
    print(f"report (diagnostics, 3 figures): {r['seconds']:.2f} s incl. input hashing, "
          f"{r['html_kib']:.0f} KiB")

    r = {}
    with measure(r):
        setup = HomogeneitySetup.load(bach.features_path(), "symbolic")
        s = aria.load_scores(bach.path("bach-knn"))
        d = aria.diagnose(s)
        t0 = time.perf_counter()
        result = setup.run(s, d, residual=True, labels=bach.labels())
        r["homogeneity_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        prov = provenance_record({"scores": bach.path("bach-knn")}, {})
        html = render_html(build_report({"bach-knn": d}, provenance=prov,
                                        extra_blocks={"bach-knn": homogeneity_blocks("bach-knn", result)}))
        write_report(html, out)
        r["report_seconds"] = time.perf_counter() - t0
    r["html_kib"] = len(html.encode()) / 1024
    results["report_bach_homogeneity"] = r
    print(f"report (Bach, homogeneity R=1000, 10 figures): {r['seconds']:.2f} s total, homogeneity "
          f"{r['homogeneity_seconds']:.2f} s, report {r['report_seconds']:.2f} s, {r['html_kib']:.0f} KiB")

    name = "reports-quick.json" if args.quick else "reports.json"
    dest = Path(__file__).resolve().parent / "results" / name
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {dest}")


if __name__ == "__main__":
    main()
