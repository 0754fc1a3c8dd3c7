"""``aria homogeneity``: musical homogeneity of each query's top-K tracks against random groups."""

from __future__ import annotations

import argparse
import sys
import time

from aria.cli._common import (
    KURTOSIS_THRESHOLD,
    add_command,
    add_homogeneity_options,
    add_output_options,
    add_progress_flags,
    add_scheduler_flag,
    add_score_inputs,
    add_streaming_flags,
    channel_set,
    print_result,
    reader_options,
    score_source,
    streaming_options,
)
from aria.errors import AriaInputError

EPILOG = """\
examples:
  aria homogeneity scores.npy --features feats.parquet --channels audio --tracks map.csv
  aria homogeneity scores.npy --features feats.parquet --channels symbolic --k 5,10,20 --json
  aria homogeneity scores.npy --features feats.parquet --channels my_channels.toml --residual \\
      --labels queries.csv --label-column genre --out results/

--json prints, per channel and K, z_mean, pos and sig (and the same under "residual" with
--residual), the diagnostics verdict and any warnings (a collapsed matrix's homogeneity describes
one fixed retrieved group, not attribution).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``homogeneity`` sub-command."""
    p = add_command(sub, "homogeneity", epilog=EPILOG, description=(
        "Normalize each query's scores, aggregate them per track, and test whether each query's "
        "top-K tracks are more alike than random groups along each musical channel (z-scores "
        "against a cached random-reference null; summaries z_mean, Pos, Sig per channel and K)."))
    add_score_inputs(p)
    h = add_homogeneity_options(p, k="many", channels_default="audio", features_required=True, labels=True,
                                cache_help="null cache directory (default $ARIA_CACHE_DIR, else "
                                           "$XDG_CACHE_HOME/aria/nulls, else ~/.cache/aria/nulls)")
    h.add_argument("--no-cache", action="store_true", help="neither read nor write the null cache")
    h.add_argument("--kurtosis-threshold", type=float, default=KURTOSIS_THRESHOLD, metavar="X",
                   help=f"auto picks rank when the median excess kurtosis exceeds X "
                        f"(default {KURTOSIS_THRESHOLD:g})")
    h.add_argument("--similarity-map", choices=("inverse", "exp"), default="inverse",
                   help="vector distance -> similarity: 1/(1+d) (default) or exp(-d)")
    h.add_argument("--residual", action="store_true", help="also analyse the rank-1 residual")
    h.add_argument("--no-alignment", action="store_true", help="skip the axis-channel alignment")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="threads for similarities and ranking (results do not depend on it)")
    add_output_options(p, "write tables, JSON and provenance.json here")
    p.add_argument("--table-format", choices=("parquet", "csv"), default="parquet",
                   help="format of the per-query tables in --out (default parquet)")
    add_streaming_flags(p)
    add_scheduler_flag(p)
    from aria.cli._bootstrap import add_bootstrap_flags

    add_bootstrap_flags(p, what="z_mean, Pos and Sig per channel and K")
    add_progress_flags(p, "report stages on stderr")
    p.set_defaults(func=run)


def _peak_rss_gib() -> float:
    """Peak resident memory of this process so far, GiB (0 where unavailable).

    Linux: ``VmHWM`` of ``/proc/self/status`` (this address space only; ``ru_maxrss`` would
    also count pages shared with the parent at fork). Elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 2**30 if sys.platform == "darwin" else kb / 2**20


def run(args: argparse.Namespace) -> int:
    """Execute ``aria homogeneity``."""
    from aria.features.channels import load_channel_set
    from aria.features.table import load_feature_table
    from aria.groups.engine import homogeneity
    from aria.groups.null import default_cache_dir
    from aria.io.output import check_out_dir, homogeneity_files, write_result_set
    from aria.io.provenance import provenance_record
    from aria.io.scores import load_scores
    from aria.io.tables import load_query_labels
    from aria.report.text import format_homogeneity
    from aria.scale.cluster import scheduler_record

    source = score_source(args)
    engine = scheduler_record(args.scheduler)  # a malformed --scheduler fails first
    if args.label_column and not args.labels:
        raise AriaInputError("--label-column needs --labels")
    from aria.cli._bootstrap import check_bootstrap_args

    check_bootstrap_args(args)
    out_dir = check_out_dir(args.out, [source, args.features, args.tracks, args.labels])
    show = sys.stderr.isatty() if args.progress is None else args.progress
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if show:
            step = f" {done + 1}/{total}" if total > 1 else ""
            print(f"aria homogeneity: {stage}{step} ({time.perf_counter() - t0:.1f} s, "
                  f"peak RSS {_peak_rss_gib():.2f} GiB)", file=sys.stderr)

    cset = load_channel_set(channel_set(args))
    ftable = load_feature_table(args.features, cset)
    scores = load_scores(source, **reader_options(args))
    labels = None
    if args.labels:
        labels = load_query_labels(args.labels, scores.coords["query"].values, args.label_column)
    cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
    result = homogeneity(
        scores, ftable, cset, k=args.k, normalize=args.normalize, null_groups=args.null_groups,
        seed=args.seed, residual=args.residual, labels=labels, mapping=args.similarity_map,
        cache_dir=cache_dir, workers=args.workers, kurtosis_threshold=args.kurtosis_threshold,
        alignment=not args.no_alignment, progress=progress, **streaming_options(args),
        scheduler=args.scheduler,
    )
    boot = None
    if args.bootstrap:
        from aria.evaluate.bootstrap import homogeneity_bootstrap

        boot = homogeneity_bootstrap(result, replicates=args.bootstrap, seed=args.bootstrap_seed,
                                     confidence=args.confidence)
    summary = result.to_dict()
    if boot is not None:
        boot.add_to(summary)
    summary["source"] = {"scores": source, "features": args.features, "channels": cset.source,
                         "tracks": args.tracks, "labels": args.labels}
    summary["elapsed_seconds"] = round(time.perf_counter() - t0, 3)
    if out_dir is not None:
        params = dict(result.parameters)
        params.update(transpose=args.transpose, variable=args.variable, experiment=args.experiment,
                      orientation=args.orientation, label_column=args.label_column,
                      chunk_rows=args.chunk_rows, workers=args.workers, table_format=args.table_format,
                      cache=not args.no_cache, bootstrap=args.bootstrap, confidence=args.confidence,
                      scheduler=engine)
        prov = provenance_record(
            {"scores": source, "features": args.features, "tracks": args.tracks, "labels": args.labels,
             "channels": result.channel_set.source},
            params, seeds={"null": args.seed, **({"bootstrap": args.bootstrap_seed} if boot else {})},
            command=args.command_line)
        extra = {"summary_ci.csv": boot.to_frame()} if boot is not None else {}
        write_result_set(out_dir, {**homogeneity_files(result, summary, args.table_format), **extra,
                                   "provenance.json": prov})

    def text() -> str:
        shown = format_homogeneity(result, source=source)
        if boot is not None:
            from aria.report.text import format_homogeneity_intervals

            shown += "\n" + format_homogeneity_intervals(boot)
        return shown

    print_result(args, summary, text, out_dir)
    return 0
