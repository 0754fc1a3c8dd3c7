"""Per-track musical features: extraction from MIDI and audio into feature tables.

``extract_symbolic`` and ``extract_audio`` are imported lazily so that
``import aria`` never needs pretty_midi, librosa, BeatNet or Chordino.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "extract_symbolic": "aria.features.extract.symbolic",
    "extract_audio": "aria.features.extract.audio_batch",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'aria.features' has no attribute {name!r}")
