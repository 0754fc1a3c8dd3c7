"""Per-track musical features: extraction from MIDI and audio into feature tables.

``extract_symbolic`` and ``extract_audio`` are imported lazily so that
``import aria`` never needs pretty_midi, librosa, BeatNet or Chordino.
"""

from __future__ import annotations

from aria._lazy import attach

_LAZY = {
    "extract_symbolic": "aria.features.extract.symbolic",
    "extract_audio": "aria.features.extract.audio_batch",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = attach(__name__, _LAZY)
