"""``aria inspect``: what Aria sees in each score file, without computing anything."""

from __future__ import annotations

import argparse
import json
import sys

from aria.errors import AriaDependencyError, AriaError

EPILOG = """\
examples:
  aria inspect scores.npy
  aria inspect trak_results/ --experiment quickstart
  aria inspect influence_results/my_analysis/scores_pairwise/ tracin.pt --json

Reads headers and metadata only (format, arrays or keys, shape, dtype, orientation and why, size,
whether the pass streams from disk); computes nothing.

exit status: 0 when at least one file could be described, 2 when every file failed (each failure
is one line on stderr).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``inspect`` sub-command."""
    p = sub.add_parser(
        "inspect",
        help="what Aria sees in score files: format, arrays, shape, dtype, orientation; computes nothing",
        description=(
            "Describe each score file (or folder: TRAK save_dir, Kronfluence scores, quanda cache, "
            "bergson scores, zarr) as aria would read it, without computing anything."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="score files or folders")
    p.add_argument("--variable", help="array/key inside .npz/.nc/.zarr/.pt/.safetensors")
    p.add_argument("--experiment", metavar="NAME",
                   help="TRAK experiment / Kronfluence scores name inside a folder that holds several")
    p.add_argument("--json", action="store_true", help="print one JSON list instead of text")
    p.set_defaults(func=run)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def _shape(shape) -> str:
    return " x ".join(str(s) for s in shape) if shape is not None else "-"


def format_inspection(info: dict) -> str:
    """Text block for one :func:`aria.io.inspect_scores` result."""
    lines = [info["path"]]

    def row(label: str, text: str) -> None:
        lines.append(f"  {label:<12} {text}")

    row("format", str(info["format"]))
    row("size", _size(int(info["size_bytes"])))
    for k, a in enumerate(info["arrays"] or []):
        row("arrays" if k == 0 else "", f"{a['name']}  {_shape(a['shape'])}  {a['dtype']}")
    if info["stored_shape"] is not None:
        row("stored", f"{_shape(info['stored_shape'])}  {info['dtype']}")
    orientation = info["orientation"] or "unknown"
    row("orientation", f"{orientation}: {info['orientation_reason']}")
    if info["shape"] is not None:
        row("read as", f"{info['shape'][0]} segments x {info['shape'][1]} queries")
    if info["streams"] is not None:
        row("streams", f"{'yes' if info['streams'] else 'no'} ({info['streams_reason']})")
    for note in info["notes"]:
        row("note", note)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria inspect``."""
    from aria.io.inspect import inspect_scores

    results = []
    for path in args.files:
        try:
            results.append(inspect_scores(path, variable=args.variable, experiment=args.experiment))
        except (AriaError, AriaDependencyError) as exc:
            print(f"aria: error: {' '.join(str(exc).split())}", file=sys.stderr)
    if not results:
        return 2
    if args.json:
        from aria.io.output import json_safe

        print(json.dumps(json_safe(results), indent=2, allow_nan=False))
    else:
        print("\n\n".join(format_inspection(r) for r in results))
    return 0
