"""``aria diagnose``: reliability diagnostics of a score matrix."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from aria import examples
from aria.cli._common import add_progress_flags, prepare_out_dir, progress_bar
from aria.cli._reliability import (
    add_reliability_flags,
    check_reliability_args,
    json_fields,
    query_groups,
    reliability_for,
)
from aria.diagnostics.reliability import VerdictThresholds, diagnose
from aria.diagnostics.residual import write_residual
from aria.errors import AriaInputError
from aria.io.output import write_json, write_table
from aria.io.provenance import provenance_record
from aria.io.scores import load_scores
from aria.io.streaming import DEFAULT_BLOCK_ROWS
from aria.report.reliability import format_reliability
from aria.report.text import format_diagnostics

EPILOG = """\
examples:
  aria diagnose --example collapsed
  aria diagnose scores.npy
  aria diagnose scores.npy --tracks segment_track.csv --json
  aria diagnose scores_test_x_train.pt --transpose --out results/
  aria diagnose scores.npy --residual residual.npy --out results/
  aria diagnose scores.npy --tracks map.csv --labels queries.csv --query-group source --json

exit status: 0 success, 2 bad input (one-line message on stderr), 1 internal error.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``diagnose`` sub-command."""
    p = sub.add_parser(
        "diagnose",
        help="reliability diagnostics of a score matrix (correlation, energy, concentration)",
        description=(
            "Compute the reliability diagnostics of a training-segments x queries score matrix "
            "in one streaming pass and give a verdict: collapsed, offset-dominated or "
            "query-dependent."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scores", nargs="?", help=".npy, .npz, .nc, .zarr or .pt score matrix")
    p.add_argument("--example", choices=examples.NAMES,
                   help="diagnose a shipped example matrix instead of SCORES")
    p.add_argument("--tracks", metavar="MAP",
                   help="segment->track map (.csv/.parquet with columns segment,track, or .npy)")
    p.add_argument("--transpose", action="store_true",
                   help="the file holds queries x training segments")
    p.add_argument("--variable", help="array/variable name inside .npz/.nc/.zarr/.pt")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--out", metavar="DIR",
                   help="write diagnostics.json, per_query.csv and provenance.json here")
    p.add_argument("--residual", metavar="PATH",
                   help="stream the rank-1 residual S - s1 u1 v1^T to this .npy (second pass)")
    p.add_argument("--spectrum-length", type=int, default=20, metavar="K",
                   help="leading energy ratios to report (default 20)")
    p.add_argument("--block-rows", type=int, default=DEFAULT_BLOCK_ROWS, metavar="N",
                   help=f"rows per computation block (default {DEFAULT_BLOCK_ROWS})")
    p.add_argument("--chunk-rows", type=int, default=None, metavar="N",
                   help="rows read from disk at a time (default: about 128 MiB)")
    t = VerdictThresholds()
    g = p.add_argument_group("verdict thresholds")
    g.add_argument("--collapsed-corr", type=float, default=t.collapsed_corr, metavar="X")
    g.add_argument("--collapsed-energy", type=float, default=t.collapsed_energy, metavar="X")
    g.add_argument("--collapsed-max-concentration", type=float,
                   default=t.collapsed_max_concentration, metavar="X")
    g.add_argument("--offset-concentration", type=float, default=t.offset_concentration,
                   metavar="X")
    g.add_argument("--partial-offset-concentration", type=float,
                   default=t.partial_offset_concentration, metavar="X")
    add_reliability_flags(p)
    add_progress_flags(p, "always show a progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria diagnose``."""
    if (args.scores is None) == (args.example is None):
        raise AriaInputError("give either SCORES or --example NAME")
    for name in ("spectrum_length", "block_rows"):
        if getattr(args, name) < 1:
            raise AriaInputError(f"--{name.replace('_', '-')} must be >= 1")
    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise AriaInputError("--chunk-rows must be >= 1")
    check_reliability_args(args)
    try:
        thresholds = VerdictThresholds(
            collapsed_corr=args.collapsed_corr,
            collapsed_energy=args.collapsed_energy,
            collapsed_max_concentration=args.collapsed_max_concentration,
            offset_concentration=args.offset_concentration,
            partial_offset_concentration=args.partial_offset_concentration,
        )
    except ValueError as exc:
        raise AriaInputError(str(exc)) from None
    source = str(examples.path(args.example)) if args.example else args.scores
    inputs = [source, args.tracks, args.labels]
    if args.residual:
        res = Path(args.residual).resolve()
        if any(p and Path(p).resolve() == res for p in inputs):
            raise AriaInputError("--residual would overwrite an input file")
    out_dir = prepare_out_dir(args.out, inputs)
    scores = load_scores(source, tracks=args.tracks, transpose=args.transpose,
                         variable=args.variable)
    groups = query_groups(args, scores)
    n = scores.sizes["segment"]
    with progress_bar(n, "diagnose", args.progress) as update:
        diag = diagnose(scores, thresholds=thresholds, spectrum_length=args.spectrum_length,
                        block_rows=args.block_rows, chunk_rows=args.chunk_rows, progress=update)
    axis = None
    if args.residual:
        with progress_bar(n, "residual", args.progress) as update:
            axis = write_residual(scores, diag, args.residual, block_rows=args.block_rows,
                                  chunk_rows=args.chunk_rows, progress=update)
    rel = None
    if not args.no_reliability_score:
        with progress_bar(n, "reliability", args.progress) as update:
            rel = reliability_for(args, scores, diag, groups, progress=update)
    n_tracks = int(np.unique(scores.coords["track"].values).size)
    result = diag.to_dict()
    result["source"] = source
    result["n_tracks"] = n_tracks
    if rel is not None:
        result.update(json_fields(rel))
    if args.residual:
        result["residual_path"] = str(args.residual)
    if out_dir is not None:
        parameters = {
            "transpose": args.transpose, "variable": args.variable,
            "spectrum_length": args.spectrum_length, "block_rows": args.block_rows,
            "chunk_rows": args.chunk_rows, "thresholds": result["thresholds"],
            "residual": args.residual, "query_group": args.query_group,
            "reliability_score": not args.no_reliability_score,
        }
        frame = diag.to_frame()
        write_table(out_dir / "per_query.csv", frame)
        if axis is not None:
            write_table(out_dir / "rank1_u1_per_track.csv",
                        axis.track_u1().reset_index())
        write_json(out_dir / "diagnostics.json", result)
        prov = provenance_record({"scores": source, "tracks": args.tracks, "labels": args.labels},
                                 parameters,
                                 command=args.command_line)
        write_json(out_dir / "provenance.json", prov)
    if args.json:
        import json

        from aria.io.output import json_safe

        print(json.dumps(json_safe(result), indent=2, allow_nan=False))
    else:
        print(format_diagnostics(diag, source=source, n_tracks=n_tracks))
        if rel is not None:
            print(format_reliability(rel))
        if out_dir is not None:
            print(f"\nresults written to {out_dir}/ (diagnostics.json, per_query.csv, "
                  "provenance.json)")
        if args.residual:
            print(f"rank-1 residual written to {args.residual}")
    return 0
