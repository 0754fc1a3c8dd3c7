"""Command-line interface: a thin shell over the Python API.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``
(which sets ``func``) and is listed in :data:`COMMANDS` with its one-line help.
Only the module of the command being run is imported, so ``aria --help`` loads
no heavy library. Errors in user input
print one line ``aria: error: ...`` and exit 2; nothing prints a traceback
unless ``ARIA_DEBUG=1`` is set.

Parameter checks live in the Python API (:mod:`aria.params`), whose errors name
the API parameter (``AriaInputError.parameter``); :func:`main` maps that name to
the command's flag here, in one place: :data:`PARAMETER_FLAGS` where the flag's
``dest`` differs from the parameter, else the flag whose ``dest`` is the
parameter. ``aria homogeneity ... --null-groups 1`` thus prints
``aria: error: --null-groups: must be an integer >= 2, got 1``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from aria._version import __version__
from aria.errors import AriaError, AriaInputError

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
}

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

# Flags that read a feature table and a channel set (homogeneity, evidence, compare, report).
_FEATURE_FLAGS = {"load_channel_set.spec": "--channels", "load_feature_table.path": "--features",
                  "feature_table_from_frame.channel_set": "--channels"}
_LABEL_FLAGS = {"load_query_metadata.source": "--labels"}
_LDS_FLAGS = {"load_ground_truth.path": "--lds-gt", "load_ground_truth.target_kind": "--gt-target-kind",
              "load_lds_values.path": "--lds"}

#: Command -> {API parameter -> flag}, for the parameters whose flag's ``dest`` is not their name.
#: Keys are ``"function.parameter"`` (function = the qualified name in ``AriaInputError.function``)
#: or a bare ``"parameter"``; the others map to the flag whose ``dest`` is the parameter's name.
PARAMETER_FLAGS: dict[str, dict[str, str]] = {
    "diagnose": {"write_residual.path": "--residual"},
    "homogeneity": {**_FEATURE_FLAGS, **_LABEL_FLAGS, "homogeneity.mapping": "--similarity-map"},
    "evidence": {**_FEATURE_FLAGS, "query_evidence.matrix": "--residual"},
    "compare": {**_FEATURE_FLAGS, **_LDS_FLAGS},
    "report": {**_FEATURE_FLAGS, **_LABEL_FLAGS, **_LDS_FLAGS, "pick_k.k": "--summary-k",
               "homogeneity_summary.k": "--summary-k"},
    "features symbolic": {"load_channelset.source": "--channelset", "read_spans.spans": "--spans"},
    "features audio": {"load_audio_config.channelset": "--channelset",
                       "audio_items.id_scheme": "--track-ids"},
}


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
            f"aria: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(rerun with ARIA_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def executed_command(parser: argparse.ArgumentParser,
                     args: argparse.Namespace) -> tuple[str, argparse.ArgumentParser]:
    """The (sub-)sub-command that ran and its parser, e.g. ``("features audio", <parser>)``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The top-level parser (:func:`build_parser`).
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    name : str
        Space-separated command path (empty for the top level).
    parser : argparse.ArgumentParser
        The innermost parser that parsed the arguments.
    """
    names: list[str] = []
    current = parser
    while True:
        # argparse keeps a parser's sub-commands in a private action class; there is no public accessor
        sub = next((a for a in current._actions if isinstance(a, argparse._SubParsersAction)), None)
        chosen = getattr(args, sub.dest, None) if sub is not None else None
        if chosen is None or chosen not in sub.choices:
            return " ".join(names), current
        names.append(chosen)
        current = sub.choices[chosen]


def parameter_flag(command: str, parser: argparse.ArgumentParser, parameter: str,
                   function: str | None = None) -> str | None:
    """The flag of ``command`` that sets API ``parameter`` (of ``function``), or None.

    Parameters
    ----------
    command : str
        Command path (``"homogeneity"``, ``"features audio"``).
    parser : argparse.ArgumentParser
        That command's parser.
    parameter : str
        API parameter name (``AriaInputError.parameter``).
    function : str, optional
        Qualified name of the API function (``AriaInputError.function``).

    Returns
    -------
    str or None
        A long option of ``parser`` (e.g. ``"--null-groups"``); None when no
        option sets it (a positional argument, or a value the command fixes).
    """
    options = {s for a in parser._actions for s in a.option_strings}
    table = PARAMETER_FLAGS.get(command, {})
    flag = table.get(f"{function}.{parameter}") if function else None
    flag = flag or table.get(parameter)
    if flag is None:
        for action in parser._actions:
            if action.dest == parameter and action.option_strings:
                flag = next((s for s in action.option_strings if s.startswith("--")),
                            action.option_strings[0])
                break
    return flag if flag in options else None


def error_message(exc: BaseException, parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """One-line message of an error, prefixed with the flag of the parameter it names.

    An :class:`~aria.errors.AriaInputError` about parameter ``k`` whose message
    starts with ``"k "`` (or ``"k: "``) becomes ``"--k: <rest of the message>"``.

    Parameters
    ----------
    exc : BaseException
        The error.
    parser : argparse.ArgumentParser
        The top-level parser.
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    str
    """
    text = _one_line(exc)
    parameter = getattr(exc, "parameter", None) if isinstance(exc, AriaInputError) else None
    if not parameter:
        return text
    command, sub = executed_command(parser, args)
    flag = parameter_flag(command, sub, parameter, getattr(exc, "function", None))
    if flag is None:
        return text
    for lead in (parameter + ": ", parameter + " "):
        if text.startswith(lead):
            text = text[len(lead):]
            break
    return f"{flag}: {text}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
