"""``aria evidence``: single-query evidence (top-K tracks, similarity to the group, z vs the null)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from aria.cli._common import prepare_out_dir
from aria.cli.compare import EXAMPLE_NAMES, example_path
from aria.errors import AriaInputError

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    from aria.evaluate.evidence import QueryEvidence

EPILOG = """\
examples:
  aria evidence scores.npy --features features.parquet --channels symbolic --query q07
  aria evidence scores.npy --tracks map.csv --features f.parquet --query q07 --k 20 --out evidence/
  aria evidence scores.npy --features f.parquet --query q07 --residual --json

exit status: 0 success, 2 bad input (one-line message on stderr), 1 internal error.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``evidence`` sub-command."""
    p = sub.add_parser(
        "evidence",
        help="single-query evidence: top-K tracks, per-channel similarity to the group, z vs the null",
        description=(
            "For one query: its top-K tracks with track scores and ranks and, per channel, each track's "
            "mean similarity to the rest of the group, the group's within-group similarity H_c, the "
            "random-reference null it is compared with and the z-score."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scores", nargs="?", help="score matrix (.npy, .npz, .nc, .zarr, .pt)")
    p.add_argument("--example", choices=EXAMPLE_NAMES, help="use a shipped example matrix")
    p.add_argument("--query", required=True, help="query id")
    p.add_argument("--features", required=True, metavar="TABLE", help="feature table (.parquet)")
    p.add_argument("--channels", default="symbolic", metavar="SET",
                   help="channel set: audio, symbolic or a TOML path (default symbolic)")
    p.add_argument("--tracks", metavar="MAP", help="segment->track map")
    p.add_argument("--transpose", action="store_true", help="the file holds queries x segments")
    p.add_argument("--variable", help="array/variable name inside .npz/.nc/.zarr/.pt")
    p.add_argument("--k", type=int, default=10, help="group size (default 10)")
    p.add_argument("--residual", action="store_true", help="use the rank-1 residual instead of the scores")
    p.add_argument("--null-groups", type=int, default=1000, metavar="R", help="random groups (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random groups (default 0)")
    p.add_argument("--normalize", choices=("auto", "zscore", "rank"), default="auto")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", metavar="DIR",
                   help="write evidence_tracks.csv, evidence_channels.csv, evidence.json, provenance.json")
    p.set_defaults(func=run)


def format_evidence(ev: QueryEvidence) -> str:
    """Terminal rendering of a :class:`~aria.evaluate.evidence.QueryEvidence`."""
    from aria.report.render import fmt_number

    chans = list(ev.channels["channel"])
    lines = [f"Aria evidence: query {ev.query}, top-{ev.k} tracks ({ev.matrix}, normalization "
             f"{ev.normalization}; verdict {ev.verdict})", ""]
    header = ["rank", "track", "score", "overall"] + [f"{c}" for c in chans]
    rows = [[str(r["rank"]), str(r["track"]), fmt_number(r["track_score"], 3), str(r["overall_rank"])]
            + [fmt_number(r[f"sim_to_rest_{c}"], 3) for c in chans] for r in ev.tracks.to_dict("records")]
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines += ["", "(per channel: mean similarity of the track to the other tracks of the group)", "",
              f"group vs {ev.null_groups} random groups of {ev.k} tracks (seed {ev.seed}):"]
    for r in ev.channels.to_dict("records"):
        sig = "  significant (z > 1.645)" if r["significant"] else ""
        lines.append(f"  {r['channel']:<10} H = {fmt_number(r['H'], 4)}  null {fmt_number(r['null_mean'], 4)}"
                     f" ± {fmt_number(r['null_sd'], 4)}  z = {fmt_number(r['z'], 2)}{sig}")
    for w in ev.warnings:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria evidence``."""
    from aria.evaluate.evidence import query_evidence
    from aria.groups.setup import HomogeneitySetup
    from aria.io.output import write_json, write_table
    from aria.io.provenance import provenance_record
    from aria.io.scores import load_scores

    if (args.scores is None) == (args.example is None):
        raise AriaInputError("give either SCORES or --example NAME")
    if args.k < 2:
        raise AriaInputError("--k must be >= 2")
    source = example_path(args.example) if args.example else args.scores
    inputs = {"scores": source, "tracks": args.tracks, "features": args.features}
    out_dir = prepare_out_dir(args.out, [v for v in inputs.values() if v])
    scores = load_scores(source, tracks=args.tracks, transpose=args.transpose, variable=args.variable)
    setup = HomogeneitySetup.load(args.features, args.channels, null_groups=args.null_groups, seed=args.seed,
                                  normalize=args.normalize)
    ev = query_evidence(scores, setup, args.query, k=args.k,
                        matrix="residual" if args.residual else "scores")
    if out_dir is not None:
        write_table(out_dir / "evidence_tracks.csv", ev.tracks)
        write_table(out_dir / "evidence_channels.csv", ev.channels)
        write_json(out_dir / "evidence.json", ev.to_dict())
        params = {"query": args.query, "k": args.k, "residual": args.residual, **setup.parameters()}
        write_json(out_dir / "provenance.json",
                   provenance_record(inputs, params, seeds={"null_groups": args.seed},
                                     command=args.command_line))
    if args.json:
        print(json.dumps(ev.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_evidence(ev))
        if out_dir is not None:
            print(f"\nresults written to {out_dir}/")
    return 0
