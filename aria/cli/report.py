"""``aria report``: one self-contained HTML report for one or several score matrices."""

from __future__ import annotations

import argparse
import sys

from aria import examples
from aria.cli._common import prepare_out_dir, progress_bar
from aria.cli.compare import method_sources
from aria.errors import AriaInputError

EPILOG = """\
examples:
  aria report --example query-dependent --out report/
  aria report trak.npy grad_cos.npy --names TRAK Grad-Cos --tracks map.csv --out report/
  aria report scores.npy --features features.parquet --channels symbolic --out report/
  aria report a.npy b.npy --lds-gt GT.npz --features f.parquet --labels queries.csv --query q07 --out r/

The report (report.html) is one self-contained file: figures are embedded, it needs no network
access. Without --features it reports the diagnostics only. provenance.json is written beside it.

exit status: 0 success, 2 bad input (one-line message on stderr), 1 internal error.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``report`` sub-command."""
    p = sub.add_parser(
        "report",
        help="self-contained HTML report: verdict, diagnostics, homogeneity, comparison, provenance",
        description=(
            "Write one self-contained HTML report (verdict first, warnings at the top, figures inline, "
            "every number linked to its definition, provenance at the end) for one or several score "
            "matrices."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scores", nargs="*", help="score matrices (.npy, .npz, .nc, .zarr, .pt), one per method")
    p.add_argument("--example", action="append", choices=examples.NAMES, default=[],
                   help="add a shipped example matrix (repeatable)")
    p.add_argument("--names", nargs="+", metavar="NAME", help="method names (default: file stems)")
    p.add_argument("--tracks", metavar="MAP", help="segment->track map applied to every matrix")
    p.add_argument("--transpose", action="store_true", help="the files hold queries x segments")
    p.add_argument("--variable", help="array/variable name inside .npz/.nc/.zarr/.pt")
    p.add_argument("--out", metavar="DIR", required=True,
                   help="output directory (report.html, provenance.json)")
    p.add_argument("--title", default="Aria report", help="report title")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--lds", metavar="LDS.json", help="precomputed LDS per method")
    g.add_argument("--lds-gt", metavar="GT.npz", help="retraining ground truth; Aria computes each LDS")
    p.add_argument("--gt-target-kind", choices=("score", "loss"), help="override GT.npz's target_kind")
    p.add_argument("--no-figures", action="store_true", help="leave the figures out (smaller file)")
    p.add_argument("--dpi", type=int, default=80, help="figure resolution (default 80)")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None)
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria report``."""
    from aria.compare import compare_methods
    from aria.diagnostics import diagnose
    from aria.groundtruth import load_ground_truth, load_lds_values
    from aria.io import load_scores
    from aria.lds import lds as compute_lds
    from aria.output import write_json
    from aria.provenance import provenance_record
    from aria.report import build_report, render_html, write_report

    if args.dpi < 10:
        raise AriaInputError("--dpi must be >= 10")
    sources, names = method_sources(args)
    inputs = {f"scores[{n}]": s for n, s in zip(names, sources, strict=True)}
    inputs.update(tracks=args.tracks, lds=args.lds, lds_gt=args.lds_gt)
    out_dir = prepare_out_dir(args.out, [v for v in inputs.values() if v])
    lds_values: dict = load_lds_values(args.lds) if args.lds else {}
    unknown = set(lds_values) - set(names)
    if unknown:
        raise AriaInputError(f"{args.lds}: LDS for unknown method(s) {', '.join(sorted(unknown))}")
    diags, n_tracks, gt = {}, {}, None
    for name, src in zip(names, sources, strict=True):
        scores = load_scores(src, tracks=args.tracks, transpose=args.transpose, variable=args.variable)
        with progress_bar(scores.sizes["segment"], f"diagnose {name}", args.progress) as update:
            diags[name] = diagnose(scores, progress=update)
        n_tracks[name] = len(set(scores.coords["track"].values.tolist()))
        if args.lds_gt:
            if gt is None:
                gt = load_ground_truth(args.lds_gt, scores.sizes["segment"], target_kind=args.gt_target_kind)
            lds_values[name] = compute_lds(scores, gt)
    comparison = None
    if len(diags) > 1 or lds_values:
        comparison = compare_methods(diags, lds=lds_values, sources=dict(zip(names, sources, strict=True)))
    params = {"names": names, "transpose": args.transpose, "variable": args.variable,
              "gt_target_kind": args.gt_target_kind, "figures": not args.no_figures, "dpi": args.dpi,
              "thresholds": next(iter(diags.values())).to_dict()["thresholds"]}
    prov = provenance_record(inputs, params, command=["aria", *sys.argv[1:]])
    data = build_report(diags, provenance=prov, sources=dict(zip(names, sources, strict=True)),
                        comparison=comparison, n_tracks=n_tracks, title=args.title,
                        figures=not args.no_figures, dpi=args.dpi)
    path = write_report(render_html(data), out_dir)
    write_json(out_dir / "provenance.json", prov)
    verdicts = ", ".join(f"{n}: {d.verdict}" for n, d in diags.items())
    print(f"verdict: {verdicts}")
    print(f"report written to {path}")
    return 0
