"""Mapping API parameter names to a command's flags, in one place.

Parameter checks live in the Python API (:mod:`aria.params`); their errors name the API
parameter (``AriaInputError.parameter``, and the function in ``.function``). :func:`error_message`
turns such an error into the command-line message naming the flag: :data:`PARAMETER_FLAGS` where
the flag's ``dest`` differs from the parameter, else the flag whose ``dest`` is the parameter.
"""

from __future__ import annotations

import argparse
import re

from aria.errors import AriaInputError

__all__ = ["PARAMETER_FLAGS", "error_message", "executed_command", "keywords_to_flags", "one_line",
           "parameter_flag"]

# Flags that read a feature table and a channel set (homogeneity, evidence, compare, report).
_FEATURE_FLAGS = {"load_channel_set.spec": "--channels", "load_feature_table.path": "--features",
                  "feature_table_from_frame.channel_set": "--channels"}
_LABEL_FLAGS = {"load_query_metadata.source": "--labels"}
#: The reliability score's query groups (diagnose, compare).
_GROUP_FLAGS = {**_LABEL_FLAGS, "load_query_labels.column": "--query-group"}
_LDS_FLAGS = {"load_ground_truth.path": "--lds-gt", "load_ground_truth.target_kind": "--gt-target-kind",
              "load_lds_values.path": "--lds"}
#: The bootstrap's API names (``replicates``, ``seed``) -> the shared flags (aria/cli/_bootstrap.py).
_BOOTSTRAP_FLAGS = {f"{fn}.{param}": flag for fn in ("homogeneity_bootstrap", "lds_bootstrap")
                    for param, flag in (("replicates", "--bootstrap"), ("seed", "--bootstrap-seed"))}

#: Command -> {API parameter -> flag}, for the parameters whose flag's ``dest`` is not their name.
#: Keys are ``"function.parameter"`` (function = the qualified name in ``AriaInputError.function``)
#: or a bare ``"parameter"``; the others map to the flag whose ``dest`` is the parameter's name.
PARAMETER_FLAGS: dict[str, dict[str, str]] = {
    "diagnose": {**_GROUP_FLAGS, "write_residual.path": "--residual"},
    "homogeneity": {**_FEATURE_FLAGS, **_LABEL_FLAGS, **_BOOTSTRAP_FLAGS,
                    "homogeneity.mapping": "--similarity-map", "load_query_labels.column": "--label-column"},
    "evidence": {**_FEATURE_FLAGS, "query_evidence.matrix": "--residual"},
    "compare": {**_FEATURE_FLAGS, **_LDS_FLAGS, **_BOOTSTRAP_FLAGS, **_GROUP_FLAGS},
    "report": {**_FEATURE_FLAGS, **_LABEL_FLAGS, **_LDS_FLAGS, **_BOOTSTRAP_FLAGS, "pick_k.k": "--summary-k",
               "homogeneity_summary.k": "--summary-k", "load_query_labels.column": "--label-column",
               "make_report.queries": "--query", "make_report.features": "--features"},
    "features symbolic": {"load_channelset.source": "--channelset", "read_spans.spans": "--spans"},
    "features audio": {"load_audio_config.channelset": "--channelset",
                       "audio_items.id_scheme": "--track-ids"},
    "evaluate auc": {"counterfactual_auc.method": "--p-method"},
    "evaluate simdiff": {"similarity_difference.replicates": "--bootstrap",
                         "similarity_difference.seed": "--seed"},
}


def one_line(exc: BaseException) -> str:
    """The error's message on one line (white space folded)."""
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


#: An API keyword in a message: ``transpose=True``, ``orientation='segments-x-queries'``, ``variable=NAME``.
_KEYWORD = re.compile(r"\b([a-z][a-z_]*)=(True|'[^']*'|[A-Z][A-Z_]*\b)")


def keywords_to_flags(text: str, command: str, parser: argparse.ArgumentParser) -> str:
    """Write the API keywords a message suggests as the command's flags.

    ``transpose=True`` becomes ``--transpose``, ``orientation='segments-x-queries'`` becomes
    ``--orientation segments-x-queries`` and ``variable=NAME`` ``--variable NAME``, for the
    parameters this command has a flag for; other text is left as it is.
    """
    def flag_form(m: re.Match) -> str:
        flag = parameter_flag(command, parser, m.group(1))
        if flag is None:
            return m.group(0)
        value = m.group(2)
        return flag if value == "True" else f"{flag} {value.strip(chr(39))}"

    return _KEYWORD.sub(flag_form, text)


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
    command, sub = executed_command(parser, args)
    text = keywords_to_flags(one_line(exc), command, sub)
    parameter = getattr(exc, "parameter", None) if isinstance(exc, AriaInputError) else None
    if not parameter:
        return text
    flag = parameter_flag(command, sub, parameter, getattr(exc, "function", None))
    if flag is None:
        return text
    for lead in (parameter + ": ", parameter + " "):
        if text.startswith(lead):
            text = text[len(lead):]
            break
    return f"{flag}: {text}"
