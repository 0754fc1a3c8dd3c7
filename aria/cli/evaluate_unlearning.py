"""``aria evaluate skew|unlearning|self-rank``: unlearning-based scores and their sanity check."""

from __future__ import annotations

import argparse

from aria.errors import AriaInputError


def add_parsers(verbs: argparse._SubParsersAction) -> None:
    """Register the three verbs."""
    from aria.cli._evaluate_common import TRANSPOSE_HELP, add_verb

    p = add_verb(verbs, "skew", run_skew,
                 "MUCS normalized noise-consistent loss skew per training item",
                 example="aria evaluate skew loss_original.npy loss_unlearned.npy --out skew/",
                 inputs={"original": "original model's losses, items x noise pairs (.npy/.npz)",
                         "unlearned": "unlearned model's losses, same shape"},
                 transpose="the files hold noise pairs x items")
    p.add_argument("--eps", type=float, default=1e-3, help="stabilizer (default 1e-3)")

    p = add_verb(verbs, "unlearning", run_unlearning,
                 "unlearning attribution score tau = L(unlearned) - L(original)",
                 example="aria evaluate unlearning loss_original.npy loss_unlearned.npy --json",
                 inputs={"original": "original model's losses",
                         "unlearned": "unlearned model's losses, same shape"})
    p.add_argument("--column", help="column of CSV inputs")

    p = add_verb(verbs, "self-rank", run_self_rank,
                 "self-influence rank R(z_tar): rank of each query's own training item",
                 example="aria evaluate self-rank scores.npy --self-index own_rows.csv",
                 inputs={"scores": "score matrix, training items x queries"}, transpose=TRANSPOSE_HELP)
    p.add_argument("--self-index", required=True, metavar="PATH",
                   help="row of each query's own training item (.npy or a CSV column), one per query")
    p.add_argument("--column", help="column of a CSV --self-index")


def _summary(x) -> dict:
    import numpy as np

    return {
        "mean": float(x.mean()),
        "min": float(x.min()),
        "median": float(np.median(x)),
        "max": float(x.max()),
    }


def run_skew(args: argparse.Namespace) -> int:
    """Execute ``aria evaluate skew``.

    a_i = mean_j (L2 - L1) / (|L2| + |L1| + eps) over noise pairs j, from the original (L1) and
    unlearned (L2) models' losses, items x noise pairs (MUCS paper, Eq. 3).
    """
    import numpy as np
    import pandas as pd

    from aria.cli._evaluate_common import emit, read_matrix, start
    from aria.evaluate.unlearning import mucs_skew

    out = start(args, {"loss_original": args.original, "loss_unlearned": args.unlearned})
    l1 = read_matrix(args.original, args, items_by_rows=True)
    l2 = read_matrix(args.unlearned, args, items_by_rows=True)
    skew = mucs_skew(l1, l2, eps=args.eps)
    order = np.argsort(-skew, kind="stable")
    result = {
        "n_items": int(skew.size),
        "n_noise_pairs": int(l1.shape[1]),
        "eps": args.eps,
        "summary": _summary(skew),
        "top_items": order[:10].tolist(),
    }
    text = [
        f"MUCS skew of {skew.size} items over {l1.shape[1]} noise pairs (eps = {args.eps:g})",
        "  mean {mean:.4f}  min {min:.4f}  median {median:.4f}  max {max:.4f}".format(**result["summary"]),
        "  most influential items: " + ", ".join(f"{i} ({skew[i]:.4f})" for i in order[:10]),
    ]
    emit(
        args,
        out,
        "skew",
        result,
        text,
        tables={"skew.csv": pd.DataFrame({"item": np.arange(skew.size), "skew": skew})},
        parameters={"eps": args.eps, "transpose": args.transpose},
    )
    return 0


def _read_any(path: str, column: str | None):
    """Losses from ``path``: a CSV/``.npy`` vector, or a 2-D ``.npy``/``.npz`` matrix (items x queries)."""
    from aria.cli._evaluate_common import read_matrix, read_vector

    low = path.lower()
    if column is None and low.endswith(".npz"):
        return read_matrix(path, items_by_rows=True)
    if column is None and low.endswith(".npy"):
        from aria.io.vectors import load_vector

        try:
            return load_vector(path)
        except AriaInputError as exc:
            if "must be 1-D" not in str(exc):
                raise
        return read_matrix(path, items_by_rows=True)
    return read_vector(path, column, "losses")


def run_unlearning(args: argparse.Namespace) -> int:
    """Execute ``aria evaluate unlearning``.

    tau = L(z_i, unlearned) - L(z_i, original) per training item (unlearning poster); inputs are 1-D
    (.npy or a CSV column) or 2-D (items x queries, .npy).
    """
    import numpy as np
    import pandas as pd

    from aria.cli._evaluate_common import emit, start
    from aria.evaluate.unlearning import unlearning_difference

    out = start(args, {"loss_original": args.original, "loss_unlearned": args.unlearned})
    tau = unlearning_difference(_read_any(args.original, args.column), _read_any(args.unlearned, args.column))
    if tau.ndim == 1:
        table = pd.DataFrame({"item": np.arange(tau.size), "tau": tau})
    else:
        table = pd.DataFrame(
            {
                "item": np.repeat(np.arange(tau.shape[0]), tau.shape[1]),
                "column": np.tile(np.arange(tau.shape[1]), tau.shape[0]),
                "tau": tau.ravel(),
            }
        )
    result = {"shape": list(tau.shape), "summary": _summary(tau)}
    text = [
        f"unlearning score tau = L(unlearned) - L(original), shape {' x '.join(map(str, tau.shape))}",
        "  mean {mean:.4f}  min {min:.4f}  median {median:.4f}  max {max:.4f}".format(**result["summary"]),
    ]
    emit(args, out, "unlearning", result, text, tables={"tau.csv": table}, parameters={"column": args.column})
    return 0


def run_self_rank(args: argparse.Namespace) -> int:
    """Execute ``aria evaluate self-rank``.

    rank_q = 1 + #{i: S[i, q] > S[self_index[q], q]} (1 = top) and its mean R(z_tar).
    """
    import pandas as pd

    from aria.cli._evaluate_common import emit, read_matrix, read_vector, start
    from aria.evaluate.unlearning import self_influence_rank

    out = start(args, {"scores": args.scores, "self_index": args.self_index})
    scores, qids = read_matrix(args.scores, args, with_ids=True)
    res = self_influence_rank(scores, read_vector(args.self_index, args.column, "row indices"))
    ranks = res["ranks"]
    result = {
        "mean_rank": res["mean"],
        "n_queries": int(ranks.size),
        "n_items": int(scores.shape[0]),
        "n_rank_1": int((ranks == 1).sum()),
        "ranks": dict(zip(qids.tolist(), ranks.tolist(), strict=True)),
    }
    text = [
        f"self-influence rank R(z_tar) = {res['mean']:.3f} over {ranks.size} queries "
        f"({result['n_rank_1']} rank their own item first; 1 = top of {scores.shape[0]})"
    ]
    emit(
        args,
        out,
        "self_rank",
        result,
        text,
        tables={"self_rank.csv": pd.DataFrame({"query": qids, "rank": ranks})},
        parameters={"transpose": args.transpose, "column": args.column},
    )
    return 0
