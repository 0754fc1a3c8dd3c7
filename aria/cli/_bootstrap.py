"""The ``--bootstrap B --bootstrap-seed S --confidence C`` flags shared by the sub-commands."""

from __future__ import annotations

import argparse

__all__ = ["add_bootstrap_flags", "check_bootstrap_args"]


def add_bootstrap_flags(parser: argparse.ArgumentParser, *,
                        seed_flags: tuple[str, ...] = ("--bootstrap-seed",), what: str = "") -> None:
    """Add ``--bootstrap B``, the bootstrap seed (dest ``bootstrap_seed``) and ``--confidence``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser.
    seed_flags : tuple of str
        Option strings of the seed (``diagnose`` also accepts ``--seed``).
    what : str
        What the intervals are for, appended to the help.
    """
    g = parser.add_argument_group("bootstrap over queries (percentile confidence intervals)")
    g.add_argument("--bootstrap", type=int, default=0, metavar="B",
                   help="bootstrap replicates over queries, resampled with replacement (default 0 = none)"
                        + (f"; intervals for {what}" if what else ""))
    g.add_argument(*seed_flags, dest="bootstrap_seed", type=int, default=0, metavar="S",
                   help="seed of the bootstrap's numpy Generator (default 0; recorded in provenance)")
    g.add_argument("--confidence", type=float, default=0.95, metavar="C",
                   help="coverage of the intervals (default 0.95)")


def check_bootstrap_args(args: argparse.Namespace) -> None:
    """Check the bootstrap flags against the API's constraints before any work (one-line errors)."""
    from aria.diagnostics.bootstrap import BOOTSTRAP_PARAMS
    from aria.params import check_params

    check_params(BOOTSTRAP_PARAMS, vars(args))
