"""``aria compare``: one table comparing several attribution methods' score matrices."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aria import examples
from aria.cli._common import add_progress_flags, prepare_out_dir, progress_bar
from aria.cli._reliability import (
    add_reliability_flags,
    check_reliability_args,
    query_groups,
    reliability_for,
)
from aria.errors import AriaInputError
from aria.examples import bach_scores as examples_bach_scores

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

exit status: 0 success, 2 bad input (one-line message on stderr), 1 internal error.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``compare`` sub-command."""
    p = sub.add_parser(
        "compare",
        help="compare attribution methods: diagnostics, verdicts, homogeneity, LDS agreement",
        description=(
            "Diagnose several score matrices (one per attribution method) and compare them in one "
            "table: verdict, diagnostics, optional homogeneity per channel and optional LDS, with "
            "rankings that leave out collapsed methods and the agreement of each diagnostic's "
            "ordering with LDS (Kendall tau)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scores", nargs="*", help="score matrices (.npy, .npz, .nc, .zarr, .pt), one per method")
    p.add_argument("--example", action="append", choices=EXAMPLE_NAMES, default=[],
                   help="add a shipped example matrix as a method (repeatable)")
    p.add_argument("--names", nargs="+", metavar="NAME", help="method names (default: file stems)")
    p.add_argument("--tracks", metavar="MAP", help="segment->track map applied to every matrix")
    p.add_argument("--transpose", action="store_true", help="the files hold queries x segments")
    p.add_argument("--variable", help="array/variable name inside .npz/.nc/.zarr/.pt")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--lds", metavar="LDS.json", help="precomputed LDS per method (JSON name -> value)")
    g.add_argument("--lds-gt", metavar="GT.npz", help="retraining ground truth; Aria computes each LDS")
    p.add_argument("--gt-target-kind", choices=("score", "loss"),
                   help="override GT.npz's target_kind (loss = negate, as dattri)")
    h = p.add_argument_group("homogeneity (needs a feature table)")
    h.add_argument("--features", metavar="TABLE", help="feature table (.parquet), one row per track")
    h.add_argument("--channels", default="symbolic", metavar="SET",
                   help="channel set: audio, symbolic or a TOML path (default symbolic)")
    h.add_argument("--k", type=int, default=10, help="group size K (default 10)")
    h.add_argument("--null-groups", type=int, default=1000, metavar="R",
                   help="random reference groups (default 1000)")
    h.add_argument("--seed", type=int, default=0, help="seed of the random reference groups")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--out", metavar="DIR",
                   help="write comparison.csv, comparison.json, agreement.csv, provenance.json here")
    add_reliability_flags(p, bootstrap=True)
    add_progress_flags(p, "show progress on stderr")
    p.set_defaults(func=run)


#: Shipped example matrices usable with ``--example``.
EXAMPLE_NAMES = examples.NAMES + examples_bach_scores.NAMES


def example_path(name: str) -> str:
    """Path of a shipped example matrix (synthetic or Bach)."""
    if name in examples_bach_scores.NAMES:
        return str(examples_bach_scores.path(name))
    return str(examples.path(name))


def method_sources(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Input paths and unique method names from ``SCORES``, ``--example`` and ``--names``."""
    sources = [str(s) for s in args.scores] + [example_path(e) for e in args.example]
    if not sources:
        raise AriaInputError("give at least one score matrix (or --example NAME)")
    default = [Path(s).stem for s in args.scores] + list(args.example)
    names = list(args.names) if args.names else default
    if len(names) != len(sources):
        raise AriaInputError(f"--names has {len(names)} names for {len(sources)} score matrices")
    if len(set(names)) != len(names):
        if args.names:
            raise AriaInputError("--names must be unique")
        seen: dict[str, int] = {}
        unique = []
        for n in names:
            seen[n] = seen.get(n, 0) + 1
            unique.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
        names = unique
    return sources, names


def run(args: argparse.Namespace) -> int:
    """Execute ``aria compare``."""
    from aria.diagnostics.reliability import diagnose
    from aria.evaluate.compare import compare_methods
    from aria.evaluate.lds import lds as compute_lds
    from aria.io.groundtruth import load_ground_truth, load_lds_values
    from aria.io.output import json_safe, write_json, write_table
    from aria.io.provenance import provenance_record
    from aria.io.scores import load_scores
    from aria.report.reliability import format_comparison_reliability
    from aria.report.render import format_comparison

    check_reliability_args(args)
    sources, names = method_sources(args)
    inputs = {f"scores[{n}]": s for n, s in zip(names, sources, strict=True)}
    inputs.update(tracks=args.tracks, lds=args.lds, lds_gt=args.lds_gt, features=args.features,
                  labels=args.labels)
    out_dir = prepare_out_dir(args.out, [v for v in inputs.values() if v])
    lds_values: dict = {}
    if args.lds:
        lds_values = load_lds_values(args.lds)
        unknown = set(lds_values) - set(names)
        if unknown:
            raise AriaInputError(f"{args.lds}: LDS for unknown method(s) {', '.join(sorted(unknown))}; "
                                 f"methods are {', '.join(names)}")
    homog_spec = None
    if args.features:
        import tempfile

        from aria.groups.setup import HomogeneitySetup

        cache = tempfile.TemporaryDirectory(prefix="aria-nulls-")
        homog_spec = HomogeneitySetup.load(args.features, args.channels, k=[args.k],
                                           null_groups=args.null_groups, seed=args.seed,
                                           cache_dir=cache.name)
    diags, homog, gt, rel = {}, {}, None, {}
    for name, src in zip(names, sources, strict=True):
        scores = load_scores(src, tracks=args.tracks, transpose=args.transpose, variable=args.variable)
        groups = query_groups(args, scores)
        with progress_bar(scores.sizes["segment"], f"diagnose {name}", args.progress) as update:
            diags[name] = diagnose(scores, progress=update)
        if not args.no_reliability_score:
            with progress_bar(scores.sizes["segment"], f"reliability {name}", args.progress) as update:
                rel[name] = reliability_for(args, scores, diags[name], groups, progress=update)
        if args.lds_gt:
            if gt is None:
                gt = load_ground_truth(args.lds_gt, scores.sizes["segment"],
                                       target_kind=args.gt_target_kind)
            lds_values[name] = compute_lds(scores, gt)
        if homog_spec is not None:
            try:
                homog[name] = homog_spec.summary(scores, diags[name])
            except AriaInputError as exc:  # e.g. no track of this matrix has features: report, go on
                print(f"aria: warning: {name}: homogeneity skipped: {exc}", file=sys.stderr)
    if homog_spec is not None:
        cache.cleanup()
    comparison = compare_methods(diags, lds=lds_values, homogeneity=homog or None,
                                 homogeneity_k=args.k if homog else None,
                                 sources=dict(zip(names, sources, strict=True)),
                                 reliability=rel or None, bootstrap=args.bootstrap,
                                 bootstrap_seed=args.bootstrap_seed)
    result = comparison.to_dict()
    if out_dir is not None:
        write_table(out_dir / "comparison.csv", comparison.to_frame())
        write_json(out_dir / "comparison.json", result)
        if comparison.agreement:
            write_table(out_dir / "agreement.csv", comparison.agreement_frame())
        params = {"names": names, "transpose": args.transpose, "variable": args.variable,
                  "gt_target_kind": args.gt_target_kind, "query_group": args.query_group,
                  "reliability_score": not args.no_reliability_score, "bootstrap": args.bootstrap}
        seeds = {}
        if any(a.diagnostic == "reliability_score" for a in comparison.agreement):
            seeds["reliability_bootstrap"] = args.bootstrap_seed
        if homog_spec is not None:
            params.update(homog_spec.parameters())
            seeds["null_groups"] = args.seed
        prov = provenance_record(inputs, params, seeds=seeds, command=args.command_line)
        write_json(out_dir / "provenance.json", prov)
    if args.json:
        print(json.dumps(json_safe(result), indent=2, allow_nan=False))
    else:
        print(format_comparison(comparison) + format_comparison_reliability(comparison))
        if out_dir is not None:
            print(f"\nresults written to {out_dir}/ (comparison.csv, comparison.json, provenance.json)")
    return 0
