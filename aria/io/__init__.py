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

from aria import _LAZY as _ARIA_LAZY
from aria._lazy import attach

#: Public name -> submodule that defines it (imported lazily, PEP 562): the readers of the
#: top-level API (``aria.load_scores``...) and the ground-truth readers.
_LAZY = {name: module for name, module in _ARIA_LAZY.items() if module.startswith("aria.io.")}
_LAZY.update(load_ground_truth="aria.io.groundtruth", load_lds_values="aria.io.groundtruth")


__getattr__, __dir__ = attach(__name__, _LAZY)
