"""``aria features {symbolic,audio}``: extract per-track feature tables."""

from __future__ import annotations

import argparse
import importlib

from aria.cli._common import add_command

#: Modules adding one ``aria features <kind>`` sub-command each (``add_parser(subparsers)``).
FEATURE_COMMANDS: tuple[str, ...] = ("aria.cli.features_symbolic", "aria.cli.features_audio")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``aria features`` and its per-kind sub-commands."""
    p = add_command(sub, "features", "Extract per-track feature tables (Parquet) for homogeneity analysis.")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", parser_class=type(p))
    for name in FEATURE_COMMANDS:
        importlib.import_module(name).add_parser(kinds)
    p.set_defaults(func=lambda args: p.error("choose a kind: " + (", ".join(kinds.choices) or "none")))
