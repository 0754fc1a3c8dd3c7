"""``aria evaluate VERB``: the evaluation toolkit of the source papers (spec section 8)."""

from __future__ import annotations

import argparse
import importlib

from aria.cli._common import add_command

#: Modules adding ``aria evaluate`` verbs (``add_parsers(subparsers)`` each).
EVALUATE_COMMANDS: tuple[str, ...] = (
    "aria.cli.evaluate_unlearning",  # skew, unlearning, self-rank
    "aria.cli.evaluate_counterfactual",  # auc, simdiff
    "aria.cli.evaluate_overlap",  # overlap, ensemble
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``aria evaluate`` and its verbs."""
    p = add_command(
        sub,
        "evaluate",
        "Model-agnostic evaluation utilities from the source papers (MUCS, "
        "unlearning poster); each verb reads .npy/.csv inputs and prints text, --json, or writes "
        "--out DIR.",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=type(p))
    for name in EVALUATE_COMMANDS:
        importlib.import_module(name).add_parsers(verbs)
    p.set_defaults(func=lambda args: p.error("choose a verb: " + ", ".join(verbs.choices)))
