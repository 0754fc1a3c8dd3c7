"""Beyond one machine: the same analyses on a dask.distributed cluster (the ``scale`` extra).

cluster
    ``scheduler="local[:N]" | "HOST:PORT"`` -> a client (:func:`connect`).
sources
    Row sources a worker opens itself (``.npy``, ``.npy`` shards, zarr by path or fsspec URL).
diagnose
    Reliability diagnostics from per-task partial statistics merged in a fixed tree.
"""
