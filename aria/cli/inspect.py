"""``aria inspect``: what Aria sees in each score file, without computing anything."""

from __future__ import annotations

import argparse
import sys

from aria.cli._common import add_command, print_json
from aria.errors import AriaError

EPILOG = """\
examples:
  aria inspect scores.npy
  aria inspect trak_results/ --experiment quickstart
  aria inspect influence_results/my_analysis/scores_pairwise/ tracin.pt --json

Reads headers and metadata only (format, arrays or keys, shape, dtype, orientation and why, size,
whether the pass streams from disk); computes nothing. Exit status 2 only when every file failed
(each failure is one line on stderr)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``inspect`` sub-command."""
    p = add_command(sub, "inspect", (
        "Describe each score file (or folder: TRAK save_dir, Kronfluence scores, quanda cache, "
        "bergson scores, zarr) as aria would read it, without computing anything."), EPILOG)
    p.add_argument("files", nargs="+", metavar="FILE", help="score files or folders")
    p.add_argument("--variable", help="array/key inside .npz/.nc/.zarr/.pt/.safetensors")
    p.add_argument("--experiment", metavar="NAME",
                   help="TRAK experiment / Kronfluence scores name inside a folder that holds several")
    p.add_argument("--json", action="store_true", help="print one JSON list instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria inspect``."""
    from aria.io.inspect import inspect_scores
    from aria.report.text import format_inspection

    results = []
    for path in args.files:
        try:
            results.append(inspect_scores(path, variable=args.variable, experiment=args.experiment))
        except AriaError as exc:
            print(f"aria: error: {' '.join(str(exc).split())}", file=sys.stderr)
    if not results:
        return 2
    if args.json:
        print_json(results)
    else:
        print("\n\n".join(format_inspection(r) for r in results))
    return 0
