"""``aria compare``: one table comparing several attribution methods' score matrices."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aria.cli._common import (
    add_command,
    add_homogeneity_options,
    add_lds_options,
    add_output_options,
    add_progress_flags,
    add_scheduler_flag,
    add_score_inputs,
    print_result,
    progress_factory,
    reader_options,
)

EPILOG = """\
examples:
  aria compare trak.npy grad_cos.npy clap.npy --names TRAK Grad-Cos CLAP
  aria compare --example query-dependent --example collapsed
  aria compare a.npy b.npy --tracks segment_track.csv --lds-gt GT.npz --out results/
  aria compare a.npy b.npy --lds lds.json --json
  aria compare a.npy b.npy --tracks map.csv --labels queries.csv --query-group source --lds-gt GT.npz

GT.npz (retraining ground truth, as dattri): 'subsets' (n_subsets x N boolean mask, or
n_subsets x subset_size row indices, out-of-range = padding), 'targets' (n_subsets x Q,
higher = subset supports the query more; add target_kind='loss' or --gt-target-kind loss for a
raw loss), optional 'query_ids'. LDS.json: {"method name": lds, ...}.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``compare`` sub-command."""
    p = add_command(sub, "compare", epilog=EPILOG, description=(
        "Diagnose several score matrices (one per attribution method) and compare them in one "
        "table: verdict, diagnostics, optional homogeneity per channel and optional LDS, with "
        "rankings that leave out collapsed methods and the agreement of each diagnostic's "
        "ordering with LDS (Kendall tau); with the ground-truth-free reliability score, the "
        "ranking by it and its Kendall tau with LDS."))
    add_score_inputs(p, several=True)
    add_lds_options(p)
    add_homogeneity_options(p, k="one", channels_default="symbolic")
    add_output_options(p, "write comparison.csv, comparison.json, agreement.csv, provenance.json here")
    add_scheduler_flag(p)
    from aria.cli._reliability import add_reliability_flags

    add_reliability_flags(p, tau_bootstrap=True)
    from aria.cli._bootstrap import add_bootstrap_flags

    add_bootstrap_flags(p, what="each method's LDS (with --lds-gt) and rho_bar, C_bar, E1")
    add_progress_flags(p, "show progress on stderr")
    p.add_argument("--query-subset", action="store_true",
                   help="accept methods scored on different query sets when each is a subset of "
                        "the largest (default: every matrix must have the same segments and "
                        "query ids)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria compare``."""
    from aria.cli._bootstrap import check_bootstrap_args
    from aria.evaluate.pipeline import compare_files
    from aria.report.reliability import format_comparison_reliability
    from aria.report.text import format_comparison

    check_bootstrap_args(args)
    result = compare_files(
        args.scores, examples=args.example, names=args.names, **reader_options(args), lds=args.lds,
        lds_gt=args.lds_gt, gt_target_kind=args.gt_target_kind,
        features=args.features, channels=args.channels, k=args.k, null_groups=args.null_groups,
        seed=args.seed, normalize=args.normalize, cache_dir=args.cache_dir, out=args.out,
        command=args.command_line, progress=progress_factory(args.progress),
        log=lambda line: print(line, file=sys.stderr), query_subset=args.query_subset,
        bootstrap=args.bootstrap, bootstrap_seed=args.bootstrap_seed, confidence=args.confidence,
        labels=args.labels, query_group=args.query_group, reliability_score=not args.no_reliability_score,
        tau_bootstrap=args.tau_bootstrap, tau_bootstrap_seed=args.tau_bootstrap_seed,
        scheduler=args.scheduler)
    out_dir = None if args.out is None else Path(args.out)
    comparison = result.comparison
    print_result(args, comparison.to_dict(),
                 lambda: format_comparison(comparison) + format_comparison_reliability(comparison),
                 out_dir, "comparison.csv, comparison.json, provenance.json")
    return 0
