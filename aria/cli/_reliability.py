"""The ground-truth-free reliability score on the command line (``aria diagnose``, ``aria compare``).

One place maps the flags ``--labels META --query-group COLUMN --no-reliability-score`` to
:func:`aria.diagnostics.reliability_score.reliability_score`, so both commands read them alike.
"""

from __future__ import annotations

import argparse

from aria.errors import AriaInputError


def add_reliability_flags(parser: argparse.ArgumentParser, bootstrap: bool = False) -> None:
    """Add the reliability-score flags to a sub-command's parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser (it must also have ``--tracks``).
    bootstrap : bool
        Also add ``--bootstrap N`` and ``--bootstrap-seed S`` (the interval of the score's
        Kendall tau with LDS over methods, ``aria compare``).
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
    if bootstrap:
        g.add_argument("--bootstrap", type=int, default=2000, metavar="N",
                       help="bootstrap resamples over methods for the interval of the score's "
                            "Kendall tau with LDS (default 2000)")
        g.add_argument("--bootstrap-seed", type=int, default=0, metavar="S",
                       help="seed of those resamples (default 0)")


def check_reliability_args(args: argparse.Namespace) -> None:
    """Reject inconsistent flags before any work."""
    if args.query_group and not args.labels:
        raise AriaInputError("--query-group needs --labels")
    if getattr(args, "bootstrap", 1) < 1:
        raise AriaInputError("--bootstrap must be >= 1")
    if args.no_reliability_score and (args.labels or args.query_group):
        raise AriaInputError("--labels/--query-group are used only by the reliability score: "
                             "drop them or --no-reliability-score")


def query_groups(args: argparse.Namespace, scores):
    """The group of each query of ``scores`` from ``--labels``/``--query-group`` (None without them).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.
    scores : xarray.DataArray
        The score matrix (its query ids select and order the metadata rows).

    Returns
    -------
    numpy.ndarray or None
    """
    if not args.labels:
        return None
    from aria.io.tables import load_query_metadata

    meta = load_query_metadata(args.labels, scores.coords["query"].values)
    col = args.query_group
    if col is None:
        if meta.shape[1] != 1:
            raise AriaInputError(f"{args.labels}: choose the group with --query-group "
                                 f"(columns: {', '.join(map(str, meta.columns))})")
        col = meta.columns[0]
    if col not in meta.columns:
        raise AriaInputError(f"{args.labels}: no column {col!r} "
                             f"(columns: {', '.join(map(str, meta.columns))})")
    return meta[col].to_numpy(dtype=object)


def reliability_for(args: argparse.Namespace, scores, diag, groups=None, progress=None):
    """The reliability score of one matrix, or None with ``--no-reliability-score``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (``block_rows``/``chunk_rows`` are used when present).
    scores : xarray.DataArray
        The score matrix.
    diag : Diagnostics
        Its diagnostics.
    groups : numpy.ndarray, optional
        :func:`query_groups` of the matrix (read before the diagnostics pass, so that a bad
        ``--labels`` fails before any work).
    progress : callable, optional
        Progress callback of the extra pass.

    Returns
    -------
    ReliabilityScore or None
    """
    if args.no_reliability_score:
        return None
    from aria.diagnostics.reliability_score import reliability_score

    return reliability_score(scores, diag, query_groups=groups,
                             block_rows=getattr(args, "block_rows", None),
                             chunk_rows=getattr(args, "chunk_rows", None), progress=progress)


def json_fields(result) -> dict:
    """The keys added to a diagnostics JSON object (``reliability_score`` and beside it)."""
    d = result.to_dict()
    return {"reliability_score": d["score"], "reliability_components": d["components"],
            "reliability": {k: v for k, v in d.items() if k not in ("score", "components")}}
