"""Top-K groups of each query against random reference groups: musical homogeneity (spec 2, 3, 5, 6).

The data flow, one module a step:

normalize
    Per-query column normalization (z-score, rank, auto).
aggregate
    Segment -> track means of the normalized scores (:func:`track_scores`).
pool
    Tracks with usable features and their pairwise similarities.
similarity
    seuclidean vector similarity and the chord-progression LCS (one implementation each).
topk
    Top-K groups and random groups; mean pairwise similarity H.
null
    Random-reference nulls per K and their on-disk cache.
result
    z-scores and their summaries (z_bar, Pos, Sig) as labelled results.
engine
    :func:`homogeneity`: prepare -> nulls -> groups -> results.
alignment, confound
    Axis-channel alignment and label-stratified homogeneity.
setup
    :class:`HomogeneitySetup`: one channel set and feature table shared by several methods.
"""
