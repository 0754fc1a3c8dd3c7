"""``aria features audio``: per-track rhythm/harmony/timbre features from audio files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aria.cli._common import add_progress_flags, add_scheduler_flag
from aria.errors import AriaInputError

_HELP = "audio features (BeatNet beats, librosa onsets/chroma/tonnetz/MFCC/CQT, Chordino chords)"


def add_parser(kinds: argparse._SubParsersAction) -> None:
    """Register ``aria features audio``."""
    p = kinds.add_parser(
        "audio", help=_HELP,
        description="Extract the audio feature table (Parquet, one row per file) of audio files and "
                    "directories, as declared by features/audio.toml. Bad files are reported per file "
                    "(status/error columns) and the batch goes on. Install the audio stack with "
                    "`bash .ci/install-audio`.",
    )
    p.add_argument("paths", nargs="+", metavar="PATHS_OR_DIRS",
                   help="audio files (any suffix) and directories (searched recursively)")
    p.add_argument("--out", required=True, metavar="FEATS.parquet", help="feature table to write")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--sr", type=int, default=None,
                   help="analysis sample rate in Hz (default: the channel set's, 22050)")
    p.add_argument("--resume", action="store_true",
                   help="carry on a killed run writing the same --out from its finished shards")
    p.add_argument("--channelset", default=None, metavar="TOML",
                   help="audio channel set (default: the shipped features/audio.toml)")
    p.add_argument("--track-ids", choices=("stem", "int", "path"), default="stem",
                   help="track id of a file: its name without suffix (default), that name as an "
                        "integer (FMA: 000002.mp3 -> 2), or its path relative to the directory given")
    p.add_argument("--part", default=None, metavar="K/N",
                   help="extract only the K-th of N contiguous parts of the file list (run the parts on "
                        "different machines, then concatenate the tables in part order)")
    p.add_argument("--shard-size", type=int, default=None, metavar="N",
                   help="files per checkpoint shard (default 64)")
    p.add_argument("--file-timeout", type=float, default=600.0, metavar="SECONDS",
                   help="seconds allowed per file before the worker pool is declared hung (default 600)")
    add_scheduler_flag(p)
    add_progress_flags(p, "show a progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``aria features audio``.

    Returns
    -------
    int
        0 when every file was extracted, 0 as well when some failed (they are reported).
    """
    from aria.cli._common import progress_bar
    from aria.features.extract.audio import load_audio_config
    from aria.features.extract.audio_batch import audio_items, file_list_digest, run_audio_table, select_part
    from aria.io.output import write_json
    from aria.io.provenance import provenance_record
    from aria.scale.cluster import scheduler_record

    engine = scheduler_record(args.scheduler)  # a malformed --scheduler fails first
    out = Path(args.out)
    if out.suffix.lower() != ".parquet":
        raise AriaInputError(f"--out {out}: the feature table must be a .parquet file")
    if out.exists() and out.is_dir():
        raise AriaInputError(f"--out {out}: is a directory")
    config = load_audio_config(args.channelset, sr=args.sr)
    items = audio_items(args.paths, args.track_ids)
    if args.part is not None:
        n_all = len(items)
        items = select_part(items, args.part)
        if not items:
            raise AriaInputError(f"--part {args.part}: this part of the {n_all} files is empty")
    resolved_out = out.resolve()
    if any(Path(it.path).resolve() == resolved_out for it in items):
        raise AriaInputError(f"--out {out}: is one of the inputs")
    with progress_bar(len(items), "audio features", args.progress) as update:
        result = run_audio_table(items, config, out=out, workers=args.workers, resume=args.resume,
                                 shard_size=args.shard_size, progress=update, file_timeout=args.file_timeout,
                                 scheduler=args.scheduler)
    record = provenance_record(
        inputs={"channelset": args.channelset} if args.channelset else {},
        parameters={"paths": [str(p) for p in args.paths], "n_files": len(items),
                    "file_list_sha256": file_list_digest(items), "track_ids": args.track_ids,
                    "workers": args.workers, "resume": args.resume, "part": args.part, "scheduler": engine,
                    **config.parameters()},
        command=args.command_line,
    )
    write_json(out.with_name(out.stem + ".provenance.json"), record)
    reused = f", {result.n_reused} reused" if result.n_reused else ""
    print(f"aria: {out}: {result.n_ok} ok, {result.n_failed} failed{reused}", file=sys.stderr)
    if result.n_failed:
        failed = [r for r in result.table.select(["file", "error"]).to_pylist()
                  if r["error"] is not None][:5]
        for r in failed:
            print(f"aria:   failed {r['file']}: {r['error']}", file=sys.stderr)
        if result.n_failed > len(failed):
            print(f"aria:   ... {result.n_failed - len(failed)} more (see the status/error columns)",
                  file=sys.stderr)
    return 0
