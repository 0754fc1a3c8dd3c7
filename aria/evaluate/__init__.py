"""Comparing attribution methods, judging evidence, and the evaluation toolkit of the source papers.

Modules
-------
lds
    Linear datamodeling score against retraining ground truth (as dattri defines it).
compare
    :func:`compare_methods`: one row per method, rankings and agreement with LDS.
evidence
    :func:`query_evidence`: one query's top-K tracks, their similarity and z.
pipeline
    Methods given as files: :func:`~aria.evaluate.pipeline.evaluate_methods` (load -> diagnose ->
    LDS -> homogeneity) and :func:`~aria.evaluate.pipeline.compare_files` (``aria compare``).
unlearning
    :func:`mucs_skew`, :func:`unlearning_difference`, :func:`self_influence_rank` (spec 8).
counterfactual
    :func:`counterfactual_auc`, :func:`similarity_difference` (leave-k-out evaluation, spec 8).
overlap
    :func:`topk_overlap_queries`, :func:`topk_overlap_methods`, :func:`topk_cardinality` (spec 8).
ensemble
    :func:`rank_ensemble` (spec 8).
bootstrap
    Percentile intervals over queries for homogeneity summaries and LDS.

The functions are imported on first use (PEP 562), so ``import aria.evaluate`` loads no scipy.
"""

from __future__ import annotations

from aria._lazy import attach

#: Public name -> module that defines it (imported lazily).
_LAZY = {
    "mucs_skew": "aria.evaluate.unlearning",
    "unlearning_difference": "aria.evaluate.unlearning",
    "self_influence_rank": "aria.evaluate.unlearning",
    "counterfactual_auc": "aria.evaluate.counterfactual",
    "similarity_difference": "aria.evaluate.counterfactual",
    "topk_overlap_queries": "aria.evaluate.overlap",
    "topk_overlap_methods": "aria.evaluate.overlap",
    "topk_cardinality": "aria.evaluate.overlap",
    "rank_ensemble": "aria.evaluate.ensemble",
    "homogeneity_bootstrap": "aria.evaluate.bootstrap",
    "lds_bootstrap": "aria.evaluate.bootstrap",
}


__getattr__, __dir__ = attach(__name__, _LAZY)

__all__ = list(_LAZY)
