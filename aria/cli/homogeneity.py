"""``aria homogeneity``: musical homogeneity of each query's top-K tracks against random groups."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from aria.cli._bootstrap import add_bootstrap_flags, check_bootstrap_args
from aria.cli._common import add_progress_flags
from aria.errors import AriaInputError
from aria.features.channels import load_channel_set
from aria.features.table import load_feature_table
from aria.groups.engine import DEFAULT_K, HomogeneityResult, homogeneity
from aria.groups.normalize import DEFAULT_KURTOSIS_THRESHOLD, METHODS
from aria.groups.null import default_cache_dir
from aria.io.output import json_safe, write_json, write_table
from aria.io.provenance import provenance_record
from aria.io.scores import load_scores
from aria.io.streaming import DEFAULT_BLOCK_ROWS
from aria.io.tables import load_query_metadata

EPILOG = """\
examples:
  aria homogeneity scores.npy --features feats.parquet --channels audio --tracks map.csv
  aria homogeneity scores.npy --features feats.parquet --channels symbolic --k 5,10,20 --json
  aria homogeneity scores.npy --features feats.parquet --channels my_channels.toml --residual \\
      --labels queries.csv --label-column genre --out results/

--json prints, per channel and K, z_mean, pos and sig (and the same under "residual" with
--residual), the diagnostics verdict and any warnings (a collapsed matrix's homogeneity describes
one fixed retrieved group, not attribution).

exit status: 0 success, 2 bad input (one-line message on stderr), 1 internal error.
"""


def _parse_k(text: str) -> list[int]:
    try:
        ks = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k must be comma-separated integers, got {text!r}") from None
    if not ks:
        raise argparse.ArgumentTypeError("--k needs at least one value")
    return ks


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``homogeneity`` sub-command."""
    p = sub.add_parser(
        "homogeneity",
        help="musical homogeneity of each query's top-K tracks vs random groups, per channel",
        description=(
            "Normalize each query's scores, aggregate them per track, and test whether each query's "
            "top-K tracks are more alike than random groups along each musical channel (z-scores "
            "against a cached random-reference null; summaries z_mean, Pos, Sig per channel and K)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scores", help=".npy, .npz, .nc, .zarr or .pt score matrix (training segments x queries)")
    p.add_argument("--features", required=True, metavar="FEATS.parquet",
                   help="per-track feature table (Parquet, one column per feature of the channel set)")
    p.add_argument("--channels", default="audio", metavar="audio|symbolic|PATH.toml",
                   help="channel set: a shipped name or your own TOML (default audio)")
    p.add_argument("--tracks", metavar="MAP",
                   help="segment->track map (.csv/.parquet with columns segment,track, or .npy)")
    p.add_argument("--transpose", action="store_true", help="the file holds queries x training segments")
    p.add_argument("--variable", help="array/variable name inside .npz/.nc/.zarr/.pt")
    p.add_argument("--k", type=_parse_k, default=None, metavar="K1,K2,...",
                   help=f"group sizes (default {','.join(map(str, DEFAULT_K))} where K < #tracks)")
    p.add_argument("--normalize", choices=METHODS, default="auto",
                   help="per-query normalization (default auto: rank if heavy-tailed, else zscore)")
    p.add_argument("--kurtosis-threshold", type=float, default=DEFAULT_KURTOSIS_THRESHOLD, metavar="X",
                   help=f"auto picks rank when the median excess kurtosis exceeds X "
                        f"(default {DEFAULT_KURTOSIS_THRESHOLD:g})")
    p.add_argument("--null-groups", type=int, default=1000, metavar="R",
                   help="random reference groups per K (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random reference groups (default 0)")
    p.add_argument("--similarity-map", choices=("inverse", "exp"), default="inverse",
                   help="vector distance -> similarity: 1/(1+d) (default) or exp(-d)")
    p.add_argument("--residual", action="store_true", help="also analyse the rank-1 residual")
    p.add_argument("--labels", metavar="META", help="query metadata (.csv/.parquet with a 'query' column)")
    p.add_argument("--label-column", metavar="COL", help="label column of --labels (e.g. genre)")
    p.add_argument("--no-alignment", action="store_true", help="skip the axis-channel alignment")
    p.add_argument("--cache-dir", metavar="DIR",
                   help=f"null cache directory (default {default_cache_dir()}; env ARIA_CACHE_DIR)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the null cache")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="threads for similarities and ranking (results do not depend on it)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--out", metavar="DIR", help="write tables, JSON and provenance.json here")
    p.add_argument("--table-format", choices=("parquet", "csv"), default="parquet",
                   help="format of the per-query tables in --out (default parquet)")
    p.add_argument("--block-rows", type=int, default=DEFAULT_BLOCK_ROWS, metavar="N",
                   help=f"rows per computation block (default {DEFAULT_BLOCK_ROWS})")
    p.add_argument("--chunk-rows", type=int, default=None, metavar="N",
                   help="rows read from disk at a time (default: about 128 MiB)")
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


def _check_out(path: str | None, inputs: list[str | None]) -> Path | None:
    if path is None:
        return None
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise AriaInputError(f"--out {out}: exists and is not a directory")
    if out.resolve() in {Path(p).resolve() for p in inputs if p}:
        raise AriaInputError(f"--out {out}: is one of the inputs")
    return out


def run(args: argparse.Namespace) -> int:
    """Execute ``aria homogeneity``."""
    for name in ("null_groups", "block_rows", "workers"):
        if getattr(args, name) < 1:
            raise AriaInputError(f"--{name.replace('_', '-')} must be >= 1")
    if args.null_groups < 2:
        raise AriaInputError("--null-groups must be >= 2")
    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise AriaInputError("--chunk-rows must be >= 1")
    if args.label_column and not args.labels:
        raise AriaInputError("--label-column needs --labels")
    check_bootstrap_args(args)
    inputs = [args.scores, args.features, args.tracks, args.labels]
    out_dir = _check_out(args.out, inputs)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if show:
            step = f" {done + 1}/{total}" if total > 1 else ""
            print(f"aria homogeneity: {stage}{step} ({time.perf_counter() - t0:.1f} s, "
                  f"peak RSS {_peak_rss_gib():.2f} GiB)", file=sys.stderr)

    cset = load_channel_set(args.channels)
    ftable = load_feature_table(args.features, cset)
    scores = load_scores(args.scores, tracks=args.tracks, transpose=args.transpose, variable=args.variable)
    labels = None
    if args.labels:
        meta = load_query_metadata(args.labels, scores.coords["query"].values)
        col = args.label_column
        if col is None:
            if meta.shape[1] != 1:
                raise AriaInputError(f"{args.labels}: choose the label with --label-column "
                                     f"(columns: {', '.join(map(str, meta.columns))})")
            col = meta.columns[0]
        if col not in meta.columns:
            raise AriaInputError(f"{args.labels}: no column {col!r} "
                                 f"(columns: {', '.join(map(str, meta.columns))})")
        labels = meta[col].rename(col)
    cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
    result = homogeneity(
        scores, ftable, cset, k=args.k, normalize=args.normalize, null_groups=args.null_groups,
        seed=args.seed, residual=args.residual, labels=labels, mapping=args.similarity_map,
        cache_dir=cache_dir, workers=args.workers, kurtosis_threshold=args.kurtosis_threshold,
        block_rows=args.block_rows, chunk_rows=args.chunk_rows, alignment=not args.no_alignment,
        progress=progress,
    )
    boot = None
    if args.bootstrap:
        from aria.evaluate.bootstrap import homogeneity_bootstrap

        boot = homogeneity_bootstrap(result, replicates=args.bootstrap, seed=args.bootstrap_seed,
                                     confidence=args.confidence)
    summary = result.to_dict()
    if boot is not None:
        boot.add_to(summary)
    summary["source"] = {"scores": args.scores, "features": args.features, "channels": cset.source,
                         "tracks": args.tracks, "labels": args.labels}
    summary["elapsed_seconds"] = round(time.perf_counter() - t0, 3)
    if out_dir is not None:
        _write_outputs(out_dir, result, summary, args, boot)
    if args.json:
        print(json.dumps(json_safe(summary), indent=2, allow_nan=False))
    else:
        print(format_result(result, source=args.scores))
        if boot is not None:
            from aria.report.text import format_homogeneity_intervals

            print(format_homogeneity_intervals(boot))
        if out_dir is not None:
            print(f"\nresults written to {out_dir}/")
    return 0


def _write_outputs(out: Path, result: HomogeneityResult, summary: dict, args: argparse.Namespace,
                   boot=None) -> None:
    ext = "." + args.table_format
    out.mkdir(parents=True, exist_ok=True)
    write_table(out / f"per_query{ext}", result.to_frame("channel"))
    write_table(out / f"per_query_features{ext}", result.to_frame("feature"))
    write_table(out / "summary.csv", result.summary_frame())
    if boot is not None:
        write_table(out / "summary_ci.csv", boot.to_frame())
    write_table(out / "null.csv", result.null_frame())
    write_table(out / f"groups{ext}", groups_frame(result))
    write_table(out / "excluded_tracks.csv", result.excluded_tracks)
    if result.alignment is not None:
        write_table(out / "alignment.csv", result.alignment.channels)
        write_table(out / "alignment_features.csv", result.alignment.features)
    if result.confound is not None:
        write_table(out / "confound.csv", result.confound.table)
        write_table(out / "confound_spread.csv", result.confound.spread)
    write_json(out / "homogeneity.json", summary)
    params = dict(result.parameters)
    params.update(transpose=args.transpose, variable=args.variable, label_column=args.label_column,
                  chunk_rows=args.chunk_rows, workers=args.workers, table_format=args.table_format,
                  cache=not args.no_cache, bootstrap=args.bootstrap, confidence=args.confidence)
    prov = provenance_record(
        {"scores": args.scores, "features": args.features, "tracks": args.tracks, "labels": args.labels,
         "channels": result.channel_set.source},
        params, seeds={"null": args.seed, **({"bootstrap": args.bootstrap_seed} if boot else {})},
        command=args.command_line)
    write_json(out / "provenance.json", prov)


def groups_frame(result: HomogeneityResult):
    """Long table ``matrix, query, rank, track`` of each query's ranked top K_max tracks."""
    import numpy as np
    import pandas as pd

    frames = []
    for m in (result.scores, result.residual):
        if m is None:
            continue
        q, k = m.groups.shape
        frames.append(pd.DataFrame({"matrix": m.matrix, "query": np.repeat(m.query_ids, k),
                                    "rank": np.tile(np.arange(1, k + 1), q), "track": m.groups.ravel()}))
    return pd.concat(frames, ignore_index=True)


def _f(x: float | None, digits: int = 2) -> str:
    return "  n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def format_result(result: HomogeneityResult, source: str = "") -> str:
    """Plain-text summary: verdict, warnings, and z_mean / Pos / Sig per channel and K."""
    lines = [f"Aria homogeneity: {source}".rstrip(), ""]
    d = result.diagnostics
    lines.append(f"diagnostics verdict: {d.verdict} ({d.verdict_reason})")
    n = result.scores.normalization
    lines.append(f"normalization: {n.method} ({n.reason})")
    c = result.pool
    lines.append(f"tracks: {c.pool} of {c.score_tracks} with features "
                 f"({c.without_features} left out: {c.absent_from_table} absent, {c.failed} failed, "
                 f"{c.invalid} invalid); channel set {result.channel_set.name}")
    for w in result.warnings:
        lines.append(f"WARNING: {w}")
    for m in (result.scores, result.residual):
        if m is None:
            continue
        lines.append("")
        lines.append(f"[{m.matrix}]  z_mean / Pos / Sig (z > 1.645) over {int(m.included.sum())} queries")
        header = f"{'channel':<12}" + "".join(f"{'K=' + str(k):>22}" for k in m.k_values)
        lines.append(header)
        summ = m.summary()
        for ch in m.channels:
            cells = "".join(f"{_f(s['z_mean']):>8} {_f(s['pos']):>6} {_f(s['sig']):>6}"
                            for s in (summ[ch][str(k)] for k in m.k_values))
            lines.append(f"{ch:<12}{cells}")
    if result.alignment is not None:
        lines.append("")
        lines.append("axis-channel alignment (u1 vs features): A_max, A_grp (R^2), adjusted R^2")
        for row in result.alignment.channels.to_dict("records"):
            lines.append(f"{row['channel']:<12}{_f(row['a_max'], 3):>8}{_f(row['a_grp'], 3):>8}"
                         f"{_f(row['a_grp_adjusted'], 3):>8}")
    return "\n".join(lines)
