"""``aria evaluate overlap|ensemble``: top-k overlap between queries or methods, rank ensembles."""

from __future__ import annotations

import argparse

from aria.errors import AriaInputError


def add_parsers(verbs: argparse._SubParsersAction) -> None:
    """Register ``overlap`` and ``ensemble``."""
    from aria.cli._evaluate_common import TRANSPOSE_HELP, add_verb

    p = add_verb(verbs, "overlap", run_overlap,
                 "top-k overlap between queries (one matrix) or between two methods (two matrices)",
                 example="aria evaluate overlap scores.npy --k 10\n"
                         "aria evaluate overlap trak.npy clap.npy --k 10 --out overlap/",
                 inputs={"scores+": "one or two score matrices (training items x queries)"},
                 transpose=TRANSPOSE_HELP)
    p.add_argument("--k", type=int, required=True, help="top-k size")

    p = add_verb(verbs, "ensemble", run_ensemble,
                 "rank-based ensemble of several methods' score matrices",
                 example="aria evaluate ensemble mucs.npy das.npy clip.npy --weights 10 7 5 --save ens.npy",
                 inputs={"scores+": "score matrices, same shape (training items x queries)"},
                 transpose=TRANSPOSE_HELP)
    p.add_argument("--weights", type=float, nargs="+", metavar="W", help="one weight per matrix (default 1)")
    p.add_argument("--save", required=True, metavar="ENSEMBLE.npy",
                   help="write the ensemble score matrix here")


def run_overlap(args: argparse.Namespace) -> int:
    """Execute ``aria evaluate overlap``.

    One matrix: mean over query pairs of |top_k(q) ∩ top_k(q')| / k, the random expectation k / N
    and quanda's top-k cardinality. Two matrices (same rows and queries): mean over queries of
    |top_k(A) ∩ top_k(B)| / k. Ties are broken by row order.
    """
    import numpy as np
    import pandas as pd

    from aria.cli._evaluate_common import emit, read_matrix, start
    from aria.evaluate.overlap import topk_cardinality, topk_overlap_methods, topk_overlap_queries

    if len(args.scores) > 2:
        raise AriaInputError("give one score matrix (overlap between queries) or two (between methods)")
    out = start(args, {f"scores[{i}]": s for i, s in enumerate(args.scores)})
    mats = [read_matrix(s, args, with_ids=True) for s in args.scores]
    tables = {}
    if len(mats) == 1:
        res = topk_overlap_queries(mats[0][0], args.k)
        text = [
            f"top-{args.k} overlap between queries: {res['overlap']:.4f} (mean over {res['n_pairs']} pairs; "
            f"random expectation k/N = {res['random_expectation']:.4f})",
            f"top-{args.k} cardinality (quanda): {res['cardinality']:.4f} (1 = no item shared, "
            f"1/Q = {1 / res['n_queries']:.4f} = every query retrieves the same items)",
        ]
    else:
        (a, qa), (b, qb) = mats
        if a.shape == b.shape and not np.array_equal(qa, qb):
            raise AriaInputError(
                "the two matrices have different query ids: they must score the same queries"
            )
        res = topk_overlap_methods(a, b, args.k)
        res["cardinality_a"], res["cardinality_b"] = topk_cardinality(a, args.k), topk_cardinality(b, args.k)
        tables["per_query.csv"] = pd.DataFrame({"query": qa, "overlap": res["per_query"]})
        res["per_query"] = dict(zip(qa.tolist(), res["per_query"].tolist(), strict=True))
        text = [
            f"top-{args.k} overlap between the two methods: {res['overlap']:.4f} (mean over "
            f"{res['n_queries']} queries; random expectation k/N = {res['random_expectation']:.4f})"
        ]
    emit(
        args, out, "overlap", res, text, tables=tables, parameters={"k": args.k, "transpose": args.transpose}
    )
    return 0


def run_ensemble(args: argparse.Namespace) -> int:
    """Execute ``aria evaluate ensemble``.

    Per method and query, descending ranks (1 = top, ties share the average rank); the ensemble
    score is -sum_m w_m rank_m (higher = better), written as a new score matrix.
    """
    from pathlib import Path

    import numpy as np

    from aria.cli._evaluate_common import emit, read_matrix, start
    from aria.evaluate.ensemble import rank_ensemble
    from aria.io.atomic import atomic_path

    inputs = {f"scores[{i}]": s for i, s in enumerate(args.scores)}
    save = Path(args.save)
    if save.suffix.lower() != ".npy":
        raise AriaInputError(f"--save {save}: must end in .npy")
    if any(Path(s).resolve() == save.resolve() for s in args.scores):
        raise AriaInputError("--save would overwrite an input file")
    out = start(args, inputs)
    ens = rank_ensemble([read_matrix(s, args) for s in args.scores], args.weights)
    with atomic_path(save) as tmp, open(tmp, "wb") as fh:
        np.save(fh, ens, allow_pickle=False)
    weights = args.weights or [1.0] * len(args.scores)
    res = {
        "shape": list(ens.shape),
        "weights": [{"input": s, "weight": w} for s, w in zip(args.scores, weights, strict=True)],
        "saved": str(save),
    }
    text = [
        f"rank ensemble of {len(args.scores)} methods ({ens.shape[0]} x {ens.shape[1]}), weights "
        + ", ".join(f"{w:g}" for w in weights),
        f"ensemble score matrix written to {save} "
        "(higher = more influential; usable as aria diagnose/homogeneity input)",
    ]
    emit(
        args,
        out,
        "ensemble",
        res,
        text,
        parameters={"weights": weights, "transpose": args.transpose, "save": str(save)},
    )
    return 0
