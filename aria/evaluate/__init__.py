"""Comparing attribution methods and judging evidence.

Modules
-------
lds
    Linear datamodeling score against retraining ground truth (as dattri defines it).
compare
    :func:`compare_methods`: one row per method, rankings and agreement with LDS.
evidence
    :func:`query_evidence`: one query's top-K tracks, their similarity and z.
"""
