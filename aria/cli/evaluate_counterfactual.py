"""``aria evaluate auc|simdiff``: leave-k-out counterfactual evaluation (MUCS paper, Sec. 4, App. B.1)."""

from __future__ import annotations

import argparse


def add_parsers(verbs: argparse._SubParsersAction) -> None:
    """Register ``auc`` and ``simdiff``."""
    from aria.cli._evaluate_common import add_verb

    p = add_verb(verbs, "auc", run_auc,
                 "counterfactual AUC: random- vs method-removal similarities (Mann-Whitney)",
                 example="aria evaluate auc sims.csv sims.csv --column-random random --column-method mucs",
                 inputs={"random": "similarities after random removals (.npy or a CSV/Parquet column)",
                         "method": "similarities after removing the method's top-k items"}, columns=True)
    p.add_argument("--p-method", choices=("auto", "exact", "asymptotic"), default="auto",
                   help="p-value: exact for small samples without ties (auto, default) or normal "
                        "approximation")

    p = add_verb(verbs, "simdiff", run_simdiff,
                 "average normalized similarity difference (%%) with a bootstrap interval",
                 example="aria evaluate simdiff mucs_sims.npy random_sims.npy --bootstrap 2000 --seed 0",
                 inputs={"method": "similarities after removing the method's top-k items",
                         "random": "similarities after random removals"}, columns=True)
    p.add_argument("--bootstrap", type=int, default=2000, metavar="B",
                   help="bootstrap replicates (default 2000)")
    p.add_argument("--seed", dest="bootstrap_seed", type=int, default=0, metavar="S",
                   help="seed of the bootstrap's numpy Generator (default 0; recorded in provenance)")
    p.add_argument("--confidence", type=float, default=0.95, metavar="C", help="coverage (default 0.95)")


def run_auc(args: argparse.Namespace) -> int:
    """Execute ``aria evaluate auc``.

    AUC = U / (n1 n2) of the random-removal similarities against the method-removal similarities,
    with the one-sided p-value of 'random-removal similarities are greater' (near 1: removing the
    method's top-k changes the regenerations more than random removals).
    """
    from aria.cli._evaluate_common import emit, read_vector, start
    from aria.evaluate.counterfactual import counterfactual_auc

    out = start(args, {"sim_random": args.random, "sim_method": args.method})
    res = counterfactual_auc(
        read_vector(args.random, args.column_random, "similarities", "--column-random"),
        read_vector(args.method, args.column_method, "similarities", "--column-method"),
        method=args.p_method,
    )
    text = [
        f"counterfactual AUC = {res['auc']:.4f}  (U = {res['u']:g}; {res['n_random']} random vs "
        f"{res['n_method']} method removals)",
        f"one-sided p-value (random-removal similarities greater) = {res['p_value']:.3g}",
    ]
    emit(
        args,
        out,
        "auc",
        res,
        text,
        parameters={
            "p_method": args.p_method,
            "column_random": args.column_random,
            "column_method": args.column_method,
        },
    )
    return 0


def run_simdiff(args: argparse.Namespace) -> int:
    """Execute ``aria evaluate simdiff``.

    100/n sum_i (s_i / median(random) - 1) over the method-removal similarities s_i, with a
    percentile bootstrap interval (both samples resampled with replacement).
    """
    from aria.cli._evaluate_common import emit, read_vector, start
    from aria.evaluate.counterfactual import similarity_difference

    out = start(args, {"sim_method": args.method, "sim_random": args.random})
    res = similarity_difference(
        read_vector(args.method, args.column_method, "similarities", "--column-method"),
        read_vector(args.random, args.column_random, "similarities", "--column-random"),
        confidence=args.confidence,
        replicates=args.bootstrap,
        seed=args.bootstrap_seed,
    )
    ci = (f"CI [{res['ci_low']:+.2f}%, {res['ci_high']:+.2f}%]" if res["undefined_replicates"] == 0 else
          f"CI undefined ({res['undefined_replicates']} of {res['replicates']} replicates have median 0)")
    text = [
        f"normalized similarity difference = {res['mean']:+.2f}%  {args.confidence:.0%} {ci}",
        f"  median random-removal similarity {res['median_random']:.4g}; {res['n_method']} method and "
        f"{res['n_random']} random similarities; bootstrap B = {res['replicates']}, seed {res['seed']}",
    ]
    emit(
        args,
        out,
        "simdiff",
        res,
        text,
        parameters={
            "bootstrap": res["replicates"],
            "confidence": args.confidence,
            "column_random": args.column_random,
            "column_method": args.column_method,
        },
        seeds={"bootstrap": args.bootstrap_seed},
    )
    return 0
