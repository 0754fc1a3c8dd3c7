"""Everything that touches a file: reading, validating, streaming, writing, provenance.

Modules
-------
scores
    :func:`load_scores` (one reader per format) and :func:`scores_from_array` -> labelled matrix.
peers
    The attribution libraries' own outputs: TRAK save_dir, Kronfluence safetensors, quanda
    cache, bergson score folder.
inspect
    :func:`inspect_scores`: what Aria sees in a file (format, shape, orientation), computing nothing.
npyfile, torchfile
    ``.npy`` headers and memory maps; torch files with ``weights_only=True``.
tables
    Segment -> track maps and query metadata.
groundtruth
    LDS ground truth (``GT.npz``, dattri's ``(gt_values, indices)`` tuple) and precomputed LDS values.
validate
    The input gate: shapes, dtypes, ids, finiteness, no pickle.
streaming
    Fixed-size row blocks over memory maps and lazy arrays.
atomic, output
    Atomic files and result writers (strict JSON, CSV/Parquet).
provenance
    SHA-256 of inputs, parameters, seeds and versions.

The main readers are importable from here (``aria.io.load_scores``, ``aria.io.inspect_scores``...),
each on first use.
"""

from __future__ import annotations

import importlib

#: Public name -> submodule that defines it (imported lazily, PEP 562).
_LAZY = {
    "load_scores": "aria.io.scores",
    "scores_from_array": "aria.io.scores",
    "inspect_scores": "aria.io.inspect",
    "load_track_map": "aria.io.tables",
    "load_query_metadata": "aria.io.tables",
    "load_ground_truth": "aria.io.groundtruth",
    "load_lds_values": "aria.io.groundtruth",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aria.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
