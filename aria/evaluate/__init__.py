"""Comparing attribution methods and judging evidence.

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
"""
