"""``aria features symbolic``: jSymbolic-style feature table from MIDI files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aria.cli._common import add_progress_flags, add_scheduler_flag, progress_bar
from aria.errors import AriaInputError

EPILOG = """\
track ids: a file named directly -> its name without suffix; a file under a directory ->
its path relative to that directory without suffix (dir/jazz/b.mid -> jazz/b); with --spans,
the span id. Spans table: CSV/Parquet with columns id,file,start,end (file = a track id or a path).

examples:
  aria features symbolic midi/ --out feats.parquet --workers 2
  aria features symbolic midi/ --spans spans.csv --unit beats --out feats.parquet
  aria features symbolic midi/ --out feats.parquet --resume      # carry on after a kill

exit status: 0 when at least one row was extracted (failed rows carry a reason in 'error'),
2 when nothing could be extracted or the input is bad, 1 internal error.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``aria features symbolic``."""
    p = sub.add_parser(
        "symbolic",
        help="melody/harmony/rhythm/dynamic/texture features from MIDI (jSymbolic-style)",
        description=(
            "Extract the symbolic channel set's features (features/symbolic.toml) from MIDI files, "
            "one row per file or per span, into a Parquet feature table. Drum tracks are ignored; "
            "unreadable, empty or drum-only files get status 'failed' and a reason."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="MIDI files and/or directories")
    p.add_argument("--spans", metavar="SPANS", help="spans table (id,file,start,end) to extract instead")
    p.add_argument("--unit", choices=("seconds", "beats"), default="seconds",
                   help="unit of the spans' start/end (default seconds; beats = quarter notes)")
    p.add_argument("--out", metavar="FEATS.parquet", required=True, help="output feature table")
    p.add_argument("--channelset", metavar="TOML",
                   help="symbolic channel set (default: the shipped features/symbolic.toml)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default 1)")
    p.add_argument("--resume", action="store_true",
                   help="keep rows already in --out (or its .shards/ of a killed run) and extract the rest")
    p.add_argument("--shard-size", type=int, default=256, metavar="N",
                   help="rows per shard flushed to disk while running (default 256)")
    add_scheduler_flag(p)
    add_progress_flags(p, "show a progress bar")
    p.add_argument("--quiet", action="store_true", help="do not list the failed rows")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``aria features symbolic``."""
    from aria.features.extract.batch import Item
    from aria.features.extract.inputs import discover_files, file_items, read_spans
    from aria.features.extract.symbolic import MIDI_SUFFIXES, extract_symbolic
    from aria.io.output import write_json
    from aria.io.provenance import provenance_record
    from aria.scale.cluster import scheduler_record

    engine = scheduler_record(args.scheduler)  # a malformed --scheduler fails first
    if not args.paths and not args.spans:
        raise AriaInputError("give MIDI files/directories, or --spans")
    out = Path(args.out)
    if out.suffix.lower() != ".parquet":
        raise AriaInputError(f"--out {out}: must end in .parquet")
    if out.is_dir():
        raise AriaInputError(f"--out {out}: is a directory")
    files = discover_files(args.paths, MIDI_SUFFIXES)
    items: list[Item] = read_spans(args.spans, files, args.unit) if args.spans else file_items(files)
    if not items:
        raise AriaInputError("no MIDI files found in " + " ".join(args.paths)
                             + " (looked for " + ", ".join(MIDI_SUFFIXES) + ")")
    inputs = {Path(i.path).resolve() for i in items}
    if out.resolve() in inputs:
        raise AriaInputError(f"--out {out}: is one of the inputs")

    with progress_bar(len(items), "symbolic features", args.progress) as update:
        df = extract_symbolic(spans=items, channelset=args.channelset, out=out, workers=args.workers,
                              resume=args.resume, progress=update, shard_size=args.shard_size,
                              scheduler=args.scheduler)
    failed = df[df["status"] != "ok"]
    n_ok = len(df) - len(failed)
    if not args.quiet:
        for tid, err in list(zip(failed["track"], failed["error"], strict=True))[:20]:
            print(f"failed: {tid}: {err}", file=sys.stderr)
        if len(failed) > 20:
            print(f"... and {len(failed) - 20} more failed rows (see the 'error' column)", file=sys.stderr)
    roles: dict[str, str | None] = {f"path{i}": p for i, p in enumerate(args.paths)}
    roles.update(spans=args.spans, channelset=args.channelset)
    record = provenance_record(
        roles,
        {"paths": list(args.paths), "spans": args.spans, "unit": args.unit if args.spans else None,
         "channelset": args.channelset or "symbolic (shipped)", "n_rows": len(df), "n_ok": n_ok,
         "workers": args.workers, "resume": args.resume, "shard_size": args.shard_size,
         "scheduler": engine},
        command=args.command_line,
    )
    write_json(out.with_name(out.name + ".provenance.json"), record)
    print(f"{n_ok} ok, {len(failed)} failed -> {out}")
    return 0 if n_ok > 0 else 2
