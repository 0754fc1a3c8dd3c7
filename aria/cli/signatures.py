"""``aria signatures``: fixed-seed JL signatures, cosine scores and shares, per rights channel."""

from __future__ import annotations

import argparse

from aria.cli._common import add_command
from aria.errors import AriaInputError

EPILOG = """\
examples:
  aria signatures train_emb.npy query_emb.npy --no-project --out clap/    # embedding baseline (Eq. 15)
  aria signatures --composition attn_train.npy attn_queries.npy \\
                  --recording ffn_train.npy ffn_queries.npy --out lumina/

Inputs are .npy/.npz arrays, one row per training item / query. Written to --out: scores[_CHANNEL].npy
(training items x queries, ready for aria diagnose), shares[_CHANNEL].npy, top_shares.csv,
signatures.json and provenance.json (with the seed).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``aria signatures``."""
    p = add_command(
        sub,
        "signatures",
        epilog=EPILOG,
        description=(
            "Project activations/gradients to k-dimensional signatures with a fixed-seed Gaussian "
            "(Johnson-Lindenstrauss) matrix, L2-normalize, score every training item against every "
            "query by cosine, and give each query's shares (positive scores over their sum). "
            "Composition and recording rights are two channels with their own signature sets."
        ),
    )
    p.add_argument("inputs", nargs="*", metavar="TRAIN QUERIES", help="one signature set (channel 'scores')")
    p.add_argument(
        "--composition", nargs=2, metavar=("TRAIN", "QUERIES"), help="composition (publishing) channel inputs"
    )
    p.add_argument(
        "--recording", nargs=2, metavar=("TRAIN", "QUERIES"), help="recording (master) channel inputs"
    )
    p.add_argument("--k", type=int, default=512, help="signature dimension (default 512)")
    p.add_argument("--seed", type=int, default=422024, help="projection seed (default 422024)")
    p.add_argument(
        "--no-project",
        action="store_true",
        help="the inputs are signatures/embeddings already: normalize, do not project",
    )
    p.add_argument(
        "--top", type=int, default=5, metavar="N", help="largest shares per query in top_shares.csv"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``aria signatures``."""
    import numpy as np
    import pandas as pd

    from aria.cli._evaluate_common import emit, read_matrix, start
    from aria.signatures import rights_attribution

    channels: dict[str, tuple[str, str]] = {}
    if args.inputs:
        if len(args.inputs) != 2:
            raise AriaInputError("give TRAIN QUERIES (two files) or --composition/--recording")
        channels["scores"] = (args.inputs[0], args.inputs[1])
    for name in ("composition", "recording"):
        if getattr(args, name):
            channels[name] = tuple(getattr(args, name))
    if not channels:
        raise AriaInputError("give TRAIN QUERIES, or --composition and/or --recording TRAIN QUERIES")
    if args.inputs and len(channels) > 1:
        raise AriaInputError("give either one unnamed signature set or the rights channels, not both")
    if args.k < 1 or args.seed < 0 or args.top < 1:
        raise AriaInputError("--k and --top must be >= 1 and --seed >= 0")
    inputs = {
        f"{ch}_{role}": path
        for ch, pair in channels.items()
        for role, path in zip(("train", "queries"), pair, strict=True)
    }
    out = start(args, inputs)
    train = {ch: read_matrix(t, items_by_rows=True) for ch, (t, _) in channels.items()}
    queries = {ch: read_matrix(q, items_by_rows=True) for ch, (_, q) in channels.items()}
    res = rights_attribution(train, queries, k=args.k, seed=args.seed, project=not args.no_project)
    arrays = {}
    single = list(channels) == ["scores"]
    for ch in res.channels:
        suffix = "" if single else f"_{ch}"
        arrays[f"scores{suffix}.npy"] = res.scores[ch]
        arrays[f"shares{suffix}.npy"] = res.shares[ch]
    top = pd.DataFrame(res.top_shares(args.top))
    summary = {
        "channels": list(res.channels),
        "k": args.k if not args.no_project else None,
        "seed": args.seed if not args.no_project else None,
        "projected": not args.no_project,
        "n_train": int(next(iter(res.scores.values())).shape[0]),
        "n_queries": int(next(iter(res.scores.values())).shape[1]),
        "queries_without_positive_score": {ch: int(np.isnan(res.shares[ch][0]).sum()) for ch in res.channels},
    }
    how = (
        f"JL projection k = {args.k}, seed {args.seed}"
        if not args.no_project
        else "inputs used as signatures (normalized, not projected)"
    )
    text = [f"signatures: {summary['n_train']} training items x {summary['n_queries']} queries; {how}"]
    for ch in res.channels:
        sc = res.scores[ch]
        text.append(
            f"  {ch}: cosine scores mean {sc.mean():.4f} (min {sc.min():.4f}, max {sc.max():.4f}); "
            f"{summary['queries_without_positive_score'][ch]} queries without a positive score"
        )
    emit(
        args,
        out,
        "signatures",
        summary,
        text,
        tables={"top_shares.csv": top},
        arrays=arrays,
        parameters={"k": args.k, "projected": not args.no_project, "top": args.top},
        seeds={"jl_projection": args.seed} if not args.no_project else None,
    )
    return 0
