"""``aria report``: one self-contained HTML report for one or several score matrices."""

from __future__ import annotations

import argparse
import sys

from aria.cli._common import (
    add_command,
    add_homogeneity_options,
    add_lds_options,
    add_progress_flags,
    add_scheduler_flag,
    add_score_inputs,
    progress_factory,
    reader_options,
)

EPILOG = """\
examples:
  aria report --example query-dependent --out report/
  aria report trak.npy grad_cos.npy --names TRAK Grad-Cos --tracks map.csv --out report/
  aria report scores.npy --features features.parquet --channels symbolic --out report/
  aria report a.npy b.npy --lds-gt GT.npz --features f.parquet --labels queries.csv --query q07 --out r/

The report (report.html) is one self-contained file: figures are embedded, it needs no network
access. Without --features it reports the diagnostics only. provenance.json is written beside it.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``report`` sub-command."""
    p = add_command(sub, "report", epilog=EPILOG, description=(
        "Write one self-contained HTML report (verdict first, warnings at the top, figures inline, "
        "every number linked to its definition, provenance at the end) for one or several score "
        "matrices."))
    add_score_inputs(p, several=True, example_help=(
        "add a shipped example matrix (repeatable); with bach-* examples and no --features the shipped "
        "Bach chorale features and query modes are used"))
    p.add_argument("--out", metavar="DIR", required=True,
                   help="output directory (report.html, provenance.json)")
    p.add_argument("--title", default="Aria report", help="report title")
    add_lds_options(p)
    h = add_homogeneity_options(p, k="many", channels_default="symbolic", labels=True)
    h.add_argument("--summary-k", type=int, metavar="K",
                   help="K of the comparison, residual and confound tables (default 10 when swept)")
    h.add_argument("--no-residual", action="store_true", help="skip the rank-1 residual analysis")
    h.add_argument("--query", action="append", default=[], metavar="Q",
                   help="add single-query evidence for this query id (repeatable)")
    p.add_argument("--no-figures", action="store_true", help="leave the figures out (smaller file)")
    p.add_argument("--save-figures", action="store_true",
                   help="also write every figure as PNG and SVG into DIR/figures/")
    p.add_argument("--dpi", type=int, default=80, help="figure resolution (default 80)")
    add_scheduler_flag(p)
    from aria.cli._bootstrap import add_bootstrap_flags

    add_bootstrap_flags(p, what="rho_bar, C_bar, E1, homogeneity and LDS")
    add_progress_flags(p, "show progress on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria report``."""
    from aria.cli._bootstrap import check_bootstrap_args
    from aria.report.pipeline import make_report

    check_bootstrap_args(args)
    report = make_report(
        scores=args.scores, examples=args.example, names=args.names, out=args.out, title=args.title,
        **reader_options(args), lds=args.lds,
        lds_gt=args.lds_gt, gt_target_kind=args.gt_target_kind, features=args.features,
        channels=args.channels, k=args.k, summary_k=args.summary_k, null_groups=args.null_groups,
        seed=args.seed, normalize=args.normalize,
        residual=not args.no_residual, labels=args.labels, label_column=args.label_column, queries=args.query,
        cache_dir=args.cache_dir, figures=not args.no_figures, save_figures=args.save_figures, dpi=args.dpi,
        command=args.command_line, progress=progress_factory(args.progress),
        log=lambda line: print(line, file=sys.stderr), bootstrap=args.bootstrap,
        bootstrap_seed=args.bootstrap_seed, confidence=args.confidence, scheduler=args.scheduler)
    print(report.summary())
    return 0
