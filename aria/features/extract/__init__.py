"""Feature extraction from MIDI (:mod:`.symbolic`) and audio (:mod:`.audio`) into feature tables.

:mod:`.batch` is the shared worker pool (per-item errors, shards, resume), :mod:`.inputs` turns
files, folders and span tables into items, :mod:`.audio_io` decodes audio once per file and
:mod:`._audio_compat` holds the lazy imports and shims of the audio stack.
"""
