"""Command-line interface: a thin shell over the Python API.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``
(which sets ``func``) and is listed in :data:`COMMANDS` with its one-line help.
Only the module of the command being run is imported, so ``aria --help`` loads
no heavy library. Errors in user input
print one line ``aria: error: ...`` and exit 2; nothing prints a traceback
unless ``ARIA_DEBUG=1`` is set.

Parameter checks live in the Python API (:mod:`aria.params`), whose errors name
the API parameter (``AriaInputError.parameter``); :func:`main` maps that name to
the command's flag in one place (:mod:`aria.cli._flags`): ``PARAMETER_FLAGS`` where the flag's
``dest`` differs from the parameter, else the flag whose ``dest`` is the
parameter. ``aria homogeneity ... --null-groups 1`` thus prints
``aria: error: --null-groups: must be an integer >= 2, got 1``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from aria._version import __version__
from aria.cli._flags import error_message, one_line
from aria.errors import AriaError

#: Sub-command -> (module, one-line help), in the order ``aria --help`` lists them.
COMMANDS = {
    "diagnose": ("aria.cli.diagnose",
                 "reliability diagnostics of a score matrix (correlation, energy, concentration)"),
    "features": ("aria.cli.features",
                 "extract per-track musical features (symbolic from MIDI, audio from audio files)"),
    "homogeneity": ("aria.cli.homogeneity",
                    "musical homogeneity of each query's top-K tracks vs random groups, per channel"),
    "compare": ("aria.cli.compare",
                "compare attribution methods: diagnostics, verdicts, homogeneity, LDS agreement"),
    "report": ("aria.cli.report",
               "self-contained HTML report: verdict, diagnostics, homogeneity, comparison, provenance"),
    "evidence": ("aria.cli.evidence",
                 "single-query evidence: top-K tracks, per-channel similarity to the group, z vs the null"),
    "evaluate": ("aria.cli.evaluate",
                 "evaluation toolkit: MUCS skew, unlearning, self-rank, counterfactual AUC, top-k overlap, "
                 "rank ensembles"),
    "signatures": ("aria.cli.signatures",
                   "fixed-seed JL signatures, cosine scores and shares (two rights channels)"),
    "inspect": ("aria.cli.inspect",
                "what Aria sees in score files: format, arrays, shape, dtype, orientation"),
}

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (plus the usage) and exit 2."""

    def error(self, message: str) -> None:  # noqa: D102
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"aria: error: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the ``aria`` argument parser.

    Parameters
    ----------
    command : str, optional
        Build only this sub-command in full (the others get their one-line help
        and no arguments, and their modules are not imported). Default: all.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(
        prog="aria",
        description="Aria: diagnose music training-data-attribution score matrices.",
    )
    parser.add_argument("--version", action="version", version=f"aria {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(module).add_parser(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: object = None, line: str | None = None) -> None:
    r"""Print a library warning as one ``aria: warning:`` line (a :func:`warnings.showwarning`).

    numpy, zarr, librosa... warn with the source line and multi-line advice; a user of the CLI
    gets the first line of the message and the warning's class, nothing else.

    Parameters
    ----------
    message : Warning or str
        The warning.
    category : type
        Its class.
    filename, lineno, file, line
        Ignored (the :func:`warnings.showwarning` signature).

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     show_warning(RuntimeWarning("overflow encountered\n  more advice"), RuntimeWarning, "x.py", 1)
    >>> err.getvalue()
    'aria: warning: overflow encountered (RuntimeWarning)\n'
    """
    lines = str(message).strip().splitlines()
    text = " ".join(lines[0].split()) if lines else category.__name__
    print(f"aria: warning: {text} ({category.__name__})", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aria`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 success, 2 bad input, 1 internal error, 130 interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else "")
    args = parser.parse_args(argv)
    args.command_line = ["aria", *argv]  # recorded in provenance records
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    debug = os.environ.get("ARIA_DEBUG") == "1"
    with warnings.catch_warnings():
        if not debug:
            warnings.showwarning = show_warning  # restored on exit (main() is also called in-process)
        return _run(args, parser, debug)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser, debug: bool) -> int:
    """Run the parsed command; map every failure to one stderr line and an exit code."""
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("aria: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AriaError as exc:  # AriaInputError, AriaDependencyError, ...
        if debug:
            raise
        print(f"aria: error: {error_message(exc, parser, args)}", file=sys.stderr)
        return EXIT_INPUT
    except MemoryError:
        print("aria: error: out of memory; try a smaller --chunk-rows", file=sys.stderr)
        return EXIT_INTERNAL
    except OSError as exc:
        if debug:
            raise
        print(f"aria: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # last resort: never a traceback for the user
        if debug:
            raise
        print(
            f"aria: internal error: {type(exc).__name__}: {one_line(exc)} "
            "(rerun with ARIA_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
