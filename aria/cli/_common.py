"""What the sub-commands share: argument blocks, the one ``--k`` parser, progress bars, JSON output.

Only the standard library is imported here (heavy modules are imported inside the functions
that need them), so building any parser stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from aria.cli._progress import (  # noqa: F401 (for the commands)
    BLOCK_ROWS,
    add_progress_flags,
    add_streaming_flags,
    progress_bar,
    progress_factory,
    streaming_options,
)
from aria.errors import AriaInputError

#: Last line of every command's ``--help``.
EXIT_STATUS = "exit status: 0 success, 2 bad input (one-line message on stderr), 1 internal error."
#: Score matrix formats, as the help texts name them.
FORMATS = ".npy, .npz, .nc, .zarr or .pt"
#: Defaults shown in help texts, equal to the API's (tests/cli/test_common.py checks them):
#: ``aria.groups.engine.DEFAULT_K``, ``aria.groups.normalize.METHODS`` /
#: ``DEFAULT_KURTOSIS_THRESHOLD`` and (``BLOCK_ROWS``) ``aria.io.streaming.DEFAULT_BLOCK_ROWS``.
DEFAULT_K = (5, 10, 20, 50, 100)
NORMALIZE_METHODS = ("auto", "zscore", "rank")
KURTOSIS_THRESHOLD = 6.0


def add_command(sub: argparse._SubParsersAction, name: str, description: str,
                epilog: str | None = None) -> argparse.ArgumentParser:
    """Add sub-command ``name`` with its one-line help from :data:`aria.cli.COMMANDS`.

    ``epilog`` (examples, shown verbatim) is followed by the exit statuses every command shares.
    """
    from aria.cli import COMMANDS

    if epilog is not None:
        epilog += f"\n{EXIT_STATUS}\n"
    return sub.add_parser(name, help=COMMANDS[name][1], description=description, epilog=epilog,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def add_score_inputs(parser: argparse.ArgumentParser, *, several: bool = False,
                     example_help: str | None = None) -> None:
    """Add ``SCORES``, ``--example`` and the reader flags (``--tracks``, ``--transpose``, ...).

    ``several``: one matrix per method (``SCORES...``, repeatable ``--example``, ``--names``);
    else one matrix, ``SCORES`` or ``--example`` (see :func:`score_source`).
    """
    from aria import examples

    if several:
        parser.add_argument("scores", nargs="*", help=f"score matrices ({FORMATS}), one per method")
        parser.add_argument("--example", action="append", choices=examples.NAMES, default=[],
                            help=example_help or "add a shipped example matrix as a method (repeatable)")
        parser.add_argument("--names", nargs="+", metavar="NAME",
                            help="method names (default: file stems)")
    else:
        parser.add_argument("scores", nargs="?", help=f"score matrix ({FORMATS}), segments x queries")
        parser.add_argument("--example", choices=examples.NAMES,
                            help=example_help or "use a shipped example matrix instead of SCORES")
    parser.add_argument("--tracks", metavar="MAP",
                        help="segment->track map (.csv/.parquet with columns segment,track, or .npy)"
                             + (", applied to every matrix" if several else ""))
    parser.add_argument("--transpose", action="store_true",
                        help=("the files hold" if several else "the file holds") + " queries x segments")
    parser.add_argument("--variable", help="array/variable name inside .npz/.nc/.zarr/.pt")
    parser.add_argument("--experiment", metavar="NAME",
                        help="TRAK experiment (or Kronfluence scores name) in a folder holding several")
    parser.add_argument("--orientation", choices=("segments-x-queries", "queries-x-segments"),
                        help="how a bare array is laid out; needed when it has fewer rows than columns")


def reader_options(args: argparse.Namespace) -> dict:
    """The :func:`aria.load_scores` keywords of :func:`add_score_inputs`'s flags."""
    return {"tracks": args.tracks, "transpose": args.transpose, "variable": args.variable,
            "experiment": args.experiment, "orientation": args.orientation}


def score_source(args: argparse.Namespace) -> str:
    """The one score matrix of a single-matrix command: ``SCORES`` or the ``--example`` file."""
    if (args.scores is None) == (args.example is None):
        raise AriaInputError("give either SCORES or --example NAME")
    if args.example:
        from aria import examples

        return str(examples.path(args.example))
    return args.scores


def k_list(text: str) -> list[int]:
    """``--k K1,K2,...``: comma-separated integers; spaces and empty items are ignored."""
    try:
        ks = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated integers, got {text!r}") from None
    if not ks:
        raise argparse.ArgumentTypeError("needs at least one value")
    return ks


def k_one(text: str) -> int:
    """``--k K`` of the commands that take one group size: :func:`k_list` with exactly one value."""
    if len(ks := k_list(text)) != 1:
        raise argparse.ArgumentTypeError(f"this command takes one group size, got {text!r}")
    return ks[0]


def add_lds_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--lds LDS.json`` | ``--lds-gt GT.npz`` and ``--gt-target-kind``."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--lds", metavar="LDS.json", help="precomputed LDS per method (JSON name -> value)")
    g.add_argument("--lds-gt", metavar="GT.npz", help="retraining ground truth; Aria computes each LDS")
    parser.add_argument("--gt-target-kind", choices=("score", "loss"),
                        help="override GT.npz's target_kind (loss = negate, as dattri)")


def add_homogeneity_options(parser: argparse.ArgumentParser, *, k: str, channels_default: str,
                            features_required: bool = False, cache_help: str | None = None,
                            labels: bool = False) -> argparse._ActionsContainer:
    """Add the homogeneity options (``--features``, ``--channels``, ``--k``, ``--null-groups``...).

    ``k`` is ``"one"`` (one group size, default 10) or ``"many"`` (a list, default the sweep);
    ``--channels`` defaults to the set recorded in the table, else ``channels_default`` (see
    :func:`channel_set`); ``labels`` adds ``--labels``/``--label-column``. Returns the container
    the options went to (an optional group unless ``features_required``).
    """
    h = parser if features_required else parser.add_argument_group("homogeneity (needs a feature table)")
    h.add_argument("--features", required=features_required, metavar="TABLE",
                   help="feature table (.parquet), one row per track")
    h.add_argument("--channels", default=None, metavar="SET",
                   help="channel set: audio, symbolic or a TOML path (default: the set recorded in the "
                        f"feature table, else {channels_default})")
    parser.set_defaults(channels_default=channels_default)
    if k == "one":
        h.add_argument("--k", type=k_one, default=10, metavar="K", help="group size (one value, default 10)")
    else:
        h.add_argument("--k", type=k_list, default=None, metavar="K1,K2,...",
                       help=f"group sizes (default {','.join(map(str, DEFAULT_K))} below the number of "
                            "tracks with features)")
    h.add_argument("--null-groups", type=int, default=1000, metavar="R",
                   help="random reference groups per K (default 1000)")
    h.add_argument("--seed", type=int, default=0, help="seed of the random reference groups (default 0)")
    h.add_argument("--normalize", choices=NORMALIZE_METHODS, default="auto",
                   help="per-query normalization (default auto: rank if heavy-tailed, else zscore)")
    h.add_argument("--cache-dir", metavar="DIR",
                   help=cache_help or "on-disk null cache (default: none, in-session only)")
    if labels:
        h.add_argument("--labels", metavar="META",
                       help="query metadata (.csv/.parquet with a 'query' column)")
        h.add_argument("--label-column", metavar="COL", help="label column of --labels (e.g. genre)")
    return h


def channel_set(args: argparse.Namespace) -> str:
    """``--channels``, else the set recorded in ``--features``, else the command's default."""
    from aria.features.table import resolve_channel_set

    return resolve_channel_set(args.channels, args.features, args.channels_default)


def add_output_options(parser: argparse.ArgumentParser, out_help: str, *, json: bool = True) -> None:
    """Add ``--json`` (one JSON object on stdout) and ``--out DIR``."""
    if json:
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--out", metavar="DIR", help=out_help)


def print_result(args: argparse.Namespace, obj: object, text: Callable[[], str], out_dir: object,
                 files: str = "") -> None:
    """Print ``obj`` as JSON (``--json``), else ``text()`` and where ``--out`` wrote ``files``."""
    if args.json:
        return print_json(obj)
    print(text())
    if out_dir is not None:
        print(f"\nresults written to {out_dir}/" + (f" ({files})" if files else ""))


def print_json(obj: object) -> None:
    """Print one strict JSON object (NaN -> null) on stdout."""
    import json

    from aria.io.output import json_safe

    print(json.dumps(json_safe(obj), indent=2, allow_nan=False))


def add_scheduler_flag(parser: argparse.ArgumentParser) -> None:
    """Add ``--scheduler local[:N]|HOST:PORT`` (run on a dask cluster; the ``scale`` extra)."""
    parser.add_argument("--scheduler", metavar="SPEC",
                        help="run on a dask cluster: local (one worker per core), local:N, or the "
                             "HOST:PORT of a running scheduler (needs the scale extra)")
