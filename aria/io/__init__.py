"""Everything that touches a file: reading, validating, streaming, writing, provenance.

Modules
-------
scores
    :func:`load_scores` (one reader per format) and :func:`scores_from_array` -> labelled matrix.
tables
    Segment -> track maps and query metadata.
groundtruth
    LDS ground truth (``GT.npz``) and precomputed LDS values.
validate
    The input gate: shapes, dtypes, ids, finiteness, no pickle.
streaming
    Fixed-size row blocks over memory maps and lazy arrays.
atomic, output
    Atomic files and result writers (strict JSON, CSV/Parquet).
provenance
    SHA-256 of inputs, parameters, seeds and versions.
"""
