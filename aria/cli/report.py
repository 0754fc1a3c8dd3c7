"""``aria report``: one self-contained HTML report for one or several score matrices."""

from __future__ import annotations

import argparse
import sys

from aria.cli._bootstrap import add_bootstrap_flags, check_bootstrap_args
from aria.cli._common import add_progress_flags, prepare_out_dir, progress_bar
from aria.cli.compare import EXAMPLE_NAMES, method_sources
from aria.errors import AriaInputError
from aria.examples import bach_scores as examples_bach_scores

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
    p.add_argument("--example", action="append", choices=EXAMPLE_NAMES, default=[],
                   help="add a shipped example matrix (repeatable); with bach-* examples and no --features "
                        "the shipped Bach chorale features and query modes are used")
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
    h = p.add_argument_group("homogeneity (needs a feature table)")
    h.add_argument("--features", metavar="TABLE", help="feature table (.parquet), one row per track")
    h.add_argument("--channels", default="symbolic", metavar="SET",
                   help="channel set: audio, symbolic or a TOML path (default symbolic)")
    h.add_argument("--k", metavar="K1,K2,...",
                   help="group sizes (default 5,10,20,50,100 below the pool size)")
    h.add_argument("--summary-k", type=int, metavar="K",
                   help="K of the comparison, residual and confound tables (default 10 when swept)")
    h.add_argument("--null-groups", type=int, default=1000, metavar="R",
                   help="random reference groups per K (default 1000)")
    h.add_argument("--seed", type=int, default=0, help="seed of the random reference groups (default 0)")
    h.add_argument("--normalize", choices=("auto", "zscore", "rank"), default="auto",
                   help="per-query normalization (default auto)")
    h.add_argument("--no-residual", action="store_true", help="skip the rank-1 residual analysis")
    h.add_argument("--labels", metavar="META", help="query metadata (.csv/.parquet with a 'query' column)")
    h.add_argument("--label-column", metavar="COL", help="label column of --labels (e.g. genre)")
    h.add_argument("--query", action="append", default=[], metavar="Q",
                   help="add single-query evidence for this query id (repeatable)")
    h.add_argument("--cache-dir", metavar="DIR", help="on-disk null cache (default: none, in-session only)")
    p.add_argument("--no-figures", action="store_true", help="leave the figures out (smaller file)")
    p.add_argument("--save-figures", action="store_true",
                   help="also write every figure as PNG and SVG into DIR/figures/")
    p.add_argument("--dpi", type=int, default=80, help="figure resolution (default 80)")
    add_bootstrap_flags(p, what="rho_bar, C_bar, E1, homogeneity and LDS")
    add_progress_flags(p, "show progress on stderr")
    p.set_defaults(func=run)


def _labels(path: str, column: str | None, query_ids) -> object:
    from aria.io.tables import load_query_metadata

    meta = load_query_metadata(path, query_ids)
    if column is None:
        if meta.shape[1] != 1:
            raise AriaInputError(f"{path}: choose the label with --label-column "
                                 f"(columns: {', '.join(map(str, meta.columns))})")
        column = meta.columns[0]
    if column not in meta.columns:
        raise AriaInputError(f"{path}: no column {column!r} (columns: {', '.join(map(str, meta.columns))})")
    return meta[column].rename(column)


def parse_k(text: str | None) -> list[int] | None:
    """Parse ``--k 5,10,20``."""
    if text is None:
        return None
    try:
        ks = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise AriaInputError(f"--k must be comma-separated integers, got {text!r}") from None
    if not ks:
        raise AriaInputError("--k is empty")
    return ks


def run(args: argparse.Namespace) -> int:
    """Execute ``aria report``."""
    import tempfile

    from aria.diagnostics.reliability import diagnose
    from aria.evaluate.compare import compare_methods
    from aria.evaluate.evidence import query_evidence
    from aria.evaluate.lds import lds as compute_lds
    from aria.groups.setup import HomogeneitySetup, homogeneity_summary, pick_k
    from aria.io.groundtruth import load_ground_truth, load_lds_values
    from aria.io.output import write_json
    from aria.io.provenance import provenance_record
    from aria.io.scores import load_scores
    from aria.report.html import (
        ReportWarning,
        build_report,
        evidence_block,
        homogeneity_blocks,
        homogeneity_warnings,
        render_html,
        write_report,
    )

    if args.dpi < 10:
        raise AriaInputError("--dpi must be >= 10")
    if args.label_column and not args.labels:
        raise AriaInputError("--label-column needs --labels")
    check_bootstrap_args(args)
    boot_kw = {"bootstrap": args.bootstrap, "bootstrap_seed": args.bootstrap_seed,
               "confidence": args.confidence}
    ks = parse_k(args.k)
    sources, names = method_sources(args)
    features = args.features
    bach = [e for e in args.example if e in examples_bach_scores.NAMES]
    auto_labels = None
    if bach and not features:
        features, args.channels = str(examples_bach_scores.features_path()), "symbolic"
        if not args.labels:
            auto_labels = examples_bach_scores.labels(bach[0])
        print(f"using the shipped Bach chorale features ({features}) with the symbolic channel set",
              file=sys.stderr)
    if (args.labels or args.query) and not features:
        raise AriaInputError("--labels and --query need --features (they are homogeneity analyses)")
    inputs = {f"scores[{n}]": s for n, s in zip(names, sources, strict=True)}
    inputs.update(tracks=args.tracks, lds=args.lds, lds_gt=args.lds_gt, features=features,
                  labels=args.labels)
    out_dir = prepare_out_dir(args.out, [v for v in inputs.values() if v])
    lds_values: dict = load_lds_values(args.lds) if args.lds else {}
    unknown = set(lds_values) - set(names)
    if unknown:
        raise AriaInputError(f"{args.lds}: LDS for unknown method(s) {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="aria-nulls-") as tmp_cache:
        setup = None
        if features:
            setup = HomogeneitySetup.load(features, args.channels, k=ks, null_groups=args.null_groups,
                                          seed=args.seed, normalize=args.normalize,
                                          cache_dir=args.cache_dir or tmp_cache)
        diags, n_tracks, gt, blocks, warnings, summaries = {}, {}, None, {}, [], {}
        summary_k = None
        for name, src in zip(names, sources, strict=True):
            scores = load_scores(src, tracks=args.tracks, transpose=args.transpose, variable=args.variable)
            with progress_bar(scores.sizes["segment"], f"diagnose {name}", args.progress) as update:
                diags[name] = diag = diagnose(scores, progress=update, **boot_kw)
            n_tracks[name] = len(set(scores.coords["track"].values.tolist()))
            if args.lds_gt:
                if gt is None:
                    gt = load_ground_truth(args.lds_gt, scores.sizes["segment"],
                                           target_kind=args.gt_target_kind)
                lds_values[name] = compute_lds(scores, gt)
            if setup is None:
                continue
            labels = _labels(args.labels, args.label_column, scores.coords["query"].values) \
                if args.labels else _example_labels(auto_labels, scores)
            try:
                result = setup.run(scores, diag, residual=not args.no_residual, labels=labels)
            except AriaInputError as exc:  # e.g. no track of this matrix has features: report, go on
                warnings.append(ReportWarning(name, "homogeneity skipped", str(exc), "failed"))
                print(f"aria: warning: {name}: homogeneity skipped: {exc}", file=sys.stderr)
                continue
            try:
                summary_k = pick_k(result.k_values, args.summary_k)
            except ValueError as exc:
                raise AriaInputError(f"--summary-k: {exc}") from None
            summaries[name] = homogeneity_summary(result, summary_k)
            hboot = None
            if args.bootstrap:
                from aria.evaluate.bootstrap import homogeneity_bootstrap

                hboot = homogeneity_bootstrap(result, replicates=args.bootstrap, seed=args.bootstrap_seed,
                                              confidence=args.confidence)
            blocks[name] = homogeneity_blocks(_slug(name), result, k=summary_k, figures=not args.no_figures,
                                              dpi=args.dpi, bootstrap=hboot)
            warnings += homogeneity_warnings(name, result)
            for q in args.query:
                try:
                    ev = query_evidence(scores, setup, q, k=summary_k, diagnostics=diag, result=result)
                except AriaInputError as exc:  # e.g. this method has no such query: report, go on
                    warnings.append(ReportWarning(name, "evidence skipped", str(exc), None))
                    print(f"aria: warning: {name}: evidence for {q!r} skipped: {exc}", file=sys.stderr)
                    continue
                blocks[name].append(evidence_block(_slug(name), ev, figures=not args.no_figures,
                                                   dpi=args.dpi))
    comparison = None
    if len(diags) > 1 or lds_values:
        comparison = compare_methods(diags, lds=lds_values, homogeneity=summaries or None,
                                     homogeneity_k=summary_k, sources=dict(zip(names, sources, strict=True)))
        if args.bootstrap:
            from aria.cli._bootstrap import add_lds_intervals

            add_lds_intervals(comparison, args)
    params = {"names": names, "transpose": args.transpose, "variable": args.variable,
              "gt_target_kind": args.gt_target_kind, "figures": not args.no_figures, "dpi": args.dpi,
              "thresholds": next(iter(diags.values())).to_dict()["thresholds"]}
    seeds = {"bootstrap": args.bootstrap_seed} if args.bootstrap else {}
    params.update(bootstrap=args.bootstrap, confidence=args.confidence)
    if setup is not None:
        params.update(homogeneity=setup.parameters(), residual=not args.no_residual,
                      label_column=args.label_column if auto_labels is None else "mode (Bach example)",
                      queries=list(args.query), summary_k=summary_k)
        seeds["null_groups"] = args.seed
    prov = provenance_record(inputs, params, seeds=seeds, command=args.command_line)
    data = build_report(diags, provenance=prov, sources=dict(zip(names, sources, strict=True)),
                        comparison=comparison, n_tracks=n_tracks, title=args.title, extra_blocks=blocks,
                        extra_warnings=warnings, figures=not args.no_figures, dpi=args.dpi)
    path = write_report(render_html(data), out_dir)
    figs = []
    if args.save_figures:
        from aria.report.html import write_figures

        figs = write_figures(data, out_dir)
    write_json(out_dir / "provenance.json", prov)
    for n, d in diags.items():
        line = f"{n}: {d.verdict}"
        if n in summaries:
            line += f"; homogeneity at K = {summary_k}: " + ", ".join(
                f"{c} z={_z(v['z_bar'])}" for c, v in summaries[n].items())
        print(line)
    print(f"report written to {path}")
    if figs:
        print(f"{len(figs)} figure files written to {out_dir / 'figures'}")
    return 0


def _example_labels(labels, scores):
    """The Bach examples' query modes, when this matrix has exactly those queries."""
    if labels is None:
        return None
    qids = [str(q) for q in scores.coords["query"].values]
    return labels if set(qids) <= set(labels.index) else None


def _z(x: float) -> str:
    from aria.report.render import fmt_number

    text = fmt_number(x, 2)
    return "undefined" if text == "-" else text


def _slug(name: str) -> str:
    from aria.report.html import slugify

    return slugify(name)
