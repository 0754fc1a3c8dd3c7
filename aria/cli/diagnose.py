"""``aria diagnose``: reliability diagnostics of a score matrix."""

from __future__ import annotations

import argparse
from pathlib import Path

from aria.cli._common import (
    add_command,
    add_output_options,
    add_progress_flags,
    add_scheduler_flag,
    add_score_inputs,
    add_streaming_flags,
    print_result,
    progress_bar,
    reader_options,
    score_source,
    streaming_options,
)
from aria.errors import AriaInputError

EPILOG = """\
examples:
  aria diagnose --example collapsed
  aria diagnose scores.npy
  aria diagnose scores.npy --tracks segment_track.csv --json
  aria diagnose scores_test_x_train.pt --transpose --out results/
  aria diagnose scores.npy --residual residual.npy --out results/
  aria diagnose scores.npy --tracks map.csv --labels queries.csv --query-group source --json
  aria diagnose scores.npy --bootstrap 1000 --seed 0 --json   # 95% CIs over queries
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``diagnose`` sub-command."""
    from aria.diagnostics.verdict import VerdictThresholds

    p = add_command(sub, "diagnose", epilog=EPILOG, description=(
        "Compute the reliability diagnostics of a training-segments x queries score matrix "
        "in one streaming pass and give a verdict: collapsed, offset-dominated or "
        "query-dependent."))
    add_score_inputs(p, example_help="diagnose a shipped example matrix instead of SCORES")
    add_output_options(p, "write diagnostics.json, per_query.csv and provenance.json here")
    p.add_argument("--residual", metavar="PATH",
                   help="stream the rank-1 residual S - s1 u1 v1^T to this .npy (second pass)")
    p.add_argument("--spectrum-length", type=int, default=20, metavar="K",
                   help="leading energy ratios to report (default 20)")
    add_streaming_flags(p)
    t = VerdictThresholds()
    g = p.add_argument_group("verdict thresholds")
    for name in ("collapsed_corr", "collapsed_energy", "collapsed_max_concentration", "offset_concentration",
                 "partial_offset_concentration"):
        g.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(t, name), metavar="X")
    add_scheduler_flag(p)
    from aria.cli._reliability import add_reliability_flags

    add_reliability_flags(p)
    from aria.cli._bootstrap import add_bootstrap_flags

    add_bootstrap_flags(p, seed_flags=("--seed", "--bootstrap-seed"))
    add_progress_flags(p, "always show a progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria diagnose``."""
    import numpy as np

    from aria.diagnostics.reliability import VerdictThresholds, diagnose
    from aria.diagnostics.reliability_score import reliability_score
    from aria.diagnostics.residual import write_residual
    from aria.io.output import check_out_dir, check_out_file, write_result_set
    from aria.io.provenance import provenance_record
    from aria.io.scores import load_scores
    from aria.io.tables import load_query_labels
    from aria.report.reliability import format_reliability
    from aria.report.text import format_diagnostics
    from aria.scale.cluster import connect, parse_scheduler

    source = score_source(args)
    from aria.cli._bootstrap import check_bootstrap_args

    check_bootstrap_args(args)
    scheduler = parse_scheduler(args.scheduler) if args.scheduler else None  # a bad spec fails first
    # VerdictThresholds checks its fields, diagnose() the spectrum and block sizes
    thresholds = VerdictThresholds(
        collapsed_corr=args.collapsed_corr,
        collapsed_energy=args.collapsed_energy,
        collapsed_max_concentration=args.collapsed_max_concentration,
        offset_concentration=args.offset_concentration,
        partial_offset_concentration=args.partial_offset_concentration,
    )
    if args.query_group and not args.labels:
        raise AriaInputError("--query-group needs --labels (the query metadata it is a column of)")
    if args.no_reliability_score and args.labels:
        raise AriaInputError("--labels: only the reliability score uses it, and "
                             "--no-reliability-score turns the score off: drop one of the two")
    inputs = [source, args.tracks, args.labels]
    check_out_file(args.residual, inputs, "residual")  # before the pass, not after it
    out_dir = check_out_dir(args.out, inputs)
    scores = load_scores(source, **reader_options(args))
    n = scores.sizes["segment"]
    groups = None  # read before any pass, so that bad metadata fails first
    if args.labels:
        groups = load_query_labels(args.labels, scores.coords["query"].values,
                                   args.query_group).to_numpy(dtype=object)
    zarr_residual = bool(args.residual) and Path(args.residual).suffix == ".zarr"
    if zarr_residual and scheduler is None:
        raise AriaInputError("a .zarr residual is written by a dask cluster: add --scheduler local "
                             "(or write a .npy residual)")
    with connect(scheduler) as client:
        with progress_bar(n, "diagnose", args.progress) as update:
            diag = diagnose(scores, thresholds=thresholds, spectrum_length=args.spectrum_length,
                            progress=update, client=client, bootstrap=args.bootstrap,
                            bootstrap_seed=args.bootstrap_seed, confidence=args.confidence,
                            **streaming_options(args))
        axis = None
        if zarr_residual:
            from aria.scale.residual import rank1_cluster

            axis = rank1_cluster(scores, diag, client, store=args.residual, block_rows=args.block_rows)
        elif args.residual:
            with progress_bar(n, "residual", args.progress) as update:
                axis = write_residual(scores, diag, args.residual, progress=update, **streaming_options(args))
        rel = None
        if not args.no_reliability_score:
            with progress_bar(n, "reliability", args.progress) as update:
                rel = reliability_score(scores, diag, query_groups=groups, progress=update, client=client,
                                        **streaming_options(args))
    n_tracks = int(np.unique(scores.coords["track"].values).size)
    result = diag.to_dict()
    result["source"] = source
    result["n_tracks"] = n_tracks
    if rel is not None:
        result.update(rel.json_fields())
    if args.residual:
        result["residual_path"] = str(args.residual)
    if out_dir is not None:
        parameters = {"transpose": args.transpose, "variable": args.variable, "experiment": args.experiment,
                      "orientation": args.orientation,
                      "spectrum_length": args.spectrum_length, **streaming_options(args),
                      "thresholds": result["thresholds"],
                      "residual": args.residual, "query_group": args.query_group,
                      "reliability_score": not args.no_reliability_score,
                      "bootstrap": args.bootstrap, "confidence": args.confidence,
                      "scheduler": scheduler.to_dict() if scheduler is not None else None}
        write_result_set(out_dir, {
            "per_query.csv": diag.to_frame(),
            "rank1_u1_per_track.csv": axis.track_u1().reset_index() if axis is not None else None,
            "diagnostics.json": result,
            "provenance.json": provenance_record(
                {"scores": source, "tracks": args.tracks, "labels": args.labels}, parameters,
                seeds={"bootstrap": args.bootstrap_seed} if args.bootstrap else None,
                command=args.command_line),
        })
    print_result(args, result, lambda: format_diagnostics(diag, source=source, n_tracks=n_tracks)
                 + (format_reliability(rel) if rel is not None else ""), out_dir,
                 "diagnostics.json, per_query.csv, provenance.json")
    if args.residual and not args.json:
        print(f"rank-1 residual written to {args.residual}")
    return 0
