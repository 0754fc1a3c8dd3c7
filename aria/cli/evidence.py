"""``aria evidence``: single-query evidence (top-K tracks, similarity to the group, z vs the null)."""

from __future__ import annotations

import argparse

from aria.cli._common import (
    add_command,
    add_homogeneity_options,
    add_output_options,
    add_score_inputs,
    channel_set,
    print_result,
    reader_options,
    score_source,
)

EPILOG = """\
examples:
  aria evidence scores.npy --features features.parquet --channels symbolic --query q07
  aria evidence scores.npy --tracks map.csv --features f.parquet --query q07 --k 20 --out evidence/
  aria evidence scores.npy --features f.parquet --query q07 --residual --json
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``evidence`` sub-command."""
    p = add_command(sub, "evidence", epilog=EPILOG, description=(
        "For one query: its top-K tracks with track scores and ranks and, "
        "per channel, each track's mean similarity to the rest of the group, "
        "the group's within-group similarity H_c, "
        "the random-reference null it is compared with "
        "and the z-score."))
    add_score_inputs(p)
    p.add_argument("--query", required=True, help="query id")
    add_homogeneity_options(p, k="one", channels_default="symbolic", features_required=True)
    p.add_argument("--residual", action="store_true", help="use the rank-1 residual instead of the scores")
    add_output_options(p, "write evidence_tracks.csv, evidence_channels.csv, evidence.json, provenance.json")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria evidence``."""
    from aria.evaluate.evidence import query_evidence
    from aria.groups.setup import HomogeneitySetup
    from aria.io.output import check_out_dir, write_result_set
    from aria.io.provenance import provenance_record
    from aria.io.scores import load_scores
    from aria.report.text import format_evidence

    source = score_source(args)
    inputs = {"scores": source, "tracks": args.tracks, "features": args.features}
    out_dir = check_out_dir(args.out, [v for v in inputs.values() if v])
    scores = load_scores(source, **reader_options(args))
    setup = HomogeneitySetup.load(args.features, channel_set(args), null_groups=args.null_groups,
                                  seed=args.seed, normalize=args.normalize, cache_dir=args.cache_dir)
    ev = query_evidence(scores, setup, args.query, k=args.k, matrix="residual" if args.residual else "scores")
    if out_dir is not None:
        params = {"query": args.query, "k": args.k, "residual": args.residual, "experiment": args.experiment,
                  "orientation": args.orientation, **setup.parameters()}
        write_result_set(out_dir, {
            "evidence_tracks.csv": ev.tracks,
            "evidence_channels.csv": ev.channels,
            "evidence.json": ev.to_dict(),
            "provenance.json": provenance_record(inputs, params, seeds={"null_groups": args.seed},
                                                 command=args.command_line),
        })
    print_result(args, ev.to_dict(), lambda: format_evidence(ev), out_dir)
    return 0
