"""The reliability-score flags of ``aria diagnose`` and ``aria compare`` (``docs/reliability.md``).

``--labels META --query-group COLUMN --no-reliability-score`` (and, for ``aria compare``,
``--tau-bootstrap N --tau-bootstrap-seed S``), added by one function so that both commands read
them alike; the API checks the values (:func:`aria.reliability_score`,
:func:`aria.evaluate.pipeline.compare_files`).
"""

from __future__ import annotations

import argparse

__all__ = ["add_reliability_flags"]


def add_reliability_flags(parser: argparse.ArgumentParser, *, tau_bootstrap: bool = False) -> None:
    """Add the reliability-score flags to a sub-command's parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser (it must also have ``--tracks``).
    tau_bootstrap : bool
        Also add ``--tau-bootstrap N`` and ``--tau-bootstrap-seed S`` (the interval over methods
        of the score's Kendall tau with LDS, ``aria compare``).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_reliability_flags(p, tau_bootstrap=True)
    >>> a = p.parse_args(["--labels", "q.csv", "--query-group", "source"])
    >>> a.labels, a.query_group, a.no_reliability_score, a.tau_bootstrap
    ('q.csv', 'source', False, 2000)
    """
    g = parser.add_argument_group(
        "reliability score (ground-truth free; docs/reliability.md)",
        "reliability_score = (1 - rho_bar) * mean(track coherence, query-group contrast): "
        "the track coherence needs --tracks (tracks with 2+ segments), the group contrast "
        "--labels and --query-group")
    g.add_argument("--labels", metavar="META",
                   help="query metadata (.csv/.parquet with a 'query' column)")
    g.add_argument("--query-group", metavar="COLUMN",
                   help="column of --labels naming each query's source or group")
    g.add_argument("--no-reliability-score", action="store_true",
                   help="skip the reliability score (saves its second pass over the rows)")
    if tau_bootstrap:
        g.add_argument("--tau-bootstrap", type=int, default=2000, metavar="N",
                       help="bootstrap resamples over methods for the interval of the score's "
                            "Kendall tau with LDS (default 2000)")
        g.add_argument("--tau-bootstrap-seed", type=int, default=0, metavar="S",
                       help="seed of those resamples (default 0)")
