"""Audio input: finding audio files and decoding them (once) to a mono signal.

This module reads files and computes nothing; :mod:`aria.features.extract.audio` computes the features.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from aria.errors import AriaInputError, AudioDecodeError
from aria.features.extract import _audio_compat as compat
from aria.params import Options, validate_params

__all__ = ["AUDIO_EXTENSIONS", "AudioDecodeError", "TRACK_ID_SCHEMES", "decode_audio", "find_audio_files",
           "track_ids"]

#: How a file's track id is derived from its name (see :func:`track_ids`).
TRACK_ID_SCHEMES = ("stem", "int", "path")

#: Suffixes picked up when a directory is given (explicitly named files are always taken).
AUDIO_EXTENSIONS = frozenset({
    ".wav", ".wave", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".aifc", ".au",
    ".caf", ".w64", ".rf64", ".m4a", ".aac", ".wma",
})


def find_audio_files(paths: Sequence[str | os.PathLike[str]],
                     extensions: Iterable[str] = AUDIO_EXTENSIONS) -> list[Path]:
    """Expand files and directories into an ordered list of audio files.

    Parameters
    ----------
    paths : sequence of path-like
        Files (taken whatever their suffix) and directories (searched recursively for files whose
        suffix, lower-cased, is in ``extensions``; hidden files and folders are skipped).
    extensions : iterable of str
        Suffixes (with the dot) picked up inside directories.

    Returns
    -------
    list of pathlib.Path
        In argument order, each directory's files sorted by path; duplicates removed (first kept).

    Raises
    ------
    AriaInputError
        A path does not exist, or nothing was found.
    """
    exts = {e.lower() for e in extensions}
    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*")
                if f.suffix.lower() in exts and f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.exists():
            found = [p]
        else:
            raise AriaInputError(f"{p}: no such file or directory")
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    if not out:
        raise AriaInputError("no audio files found in " + ", ".join(str(p) for p in paths)
                             + f" (suffixes searched: {', '.join(sorted(exts))})")
    return out


@validate_params({"scheme": Options(TRACK_ID_SCHEMES)})
def track_ids(files: Sequence[Path], roots: Sequence[str | os.PathLike[str]],
              scheme: str = "stem") -> list[str]:
    """Track id of each file.

    Parameters
    ----------
    files : sequence of pathlib.Path
        Output of :func:`find_audio_files`.
    roots : sequence of path-like
        The paths given by the user (directories make relative ids for ``scheme="path"``).
    scheme : {"stem", "int", "path"}
        ``"stem"``: the file name without suffix (FMA's ``000/000002.mp3`` -> ``"000002"``);
        ``"int"``: that name read as an integer (``"000002"`` -> ``"2"``, FMA's track ids);
        ``"path"``: the path relative to the directory it was found in, without suffix.

    Returns
    -------
    list of str

    Raises
    ------
    AriaInputError
        Two files get the same id, or an unknown scheme.
    """
    dirs = [Path(r).resolve() for r in roots if Path(r).is_dir()]
    ids = []
    for f in files:
        if scheme == "stem":
            ids.append(f.stem)
            continue
        if scheme == "int":
            if not f.stem.isascii() or not f.stem.isdigit():
                raise AriaInputError(f"{f}: file name is not an integer track id (use ids by stem or path)")
            ids.append(str(int(f.stem)))
            continue
        full = f.resolve()
        rel = next((full.relative_to(d) for d in dirs if full.is_relative_to(d)), Path(f.name))
        ids.append(rel.with_suffix("").as_posix())
    first: dict[str, Path] = {}
    for tid, f in zip(ids, files, strict=True):
        if tid in first:
            hint = " (use track ids by path)" if scheme != "path" else ""
            raise AriaInputError(f"files {first[tid]} and {f} both get track id {tid!r}{hint}")
        first[tid] = f
    return ids


def decode_audio(path: str | os.PathLike[str], sr: int, mono: bool = True) -> np.ndarray:
    """Decode an audio file to a float32 mono signal at ``sr`` Hz (one read, one resample).

    libsndfile (through soundfile) reads WAV, FLAC, Ogg/Opus, MP3, AIFF and more; other formats
    go through librosa's audioread fallback when a backend (e.g. ffmpeg) is installed.
    Resampling uses librosa's default (soxr "HQ"), exactly as ``librosa.load``.

    Parameters
    ----------
    path : path-like
        Audio file.
    sr : int
        Target sample rate.
    mono : bool
        Down-mix to mono (Aria's extractors need mono; False is rejected).

    Returns
    -------
    numpy.ndarray
        1-D float32 signal.

    Raises
    ------
    AudioDecodeError
        Empty, unreadable or undecodable file.
    """
    if not mono:
        raise AriaInputError("mono must be True: Aria's audio extractors work on mono signals",
                             parameter="mono")
    lb = compat.librosa()
    import soundfile as sf

    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise AudioDecodeError(f"cannot read file ({exc.strerror})") from None
    if size == 0:
        raise AudioDecodeError("empty file (0 bytes)")
    try:
        sf.info(str(p))
        sf_problem = None
    except Exception as exc:  # libsndfile cannot open it: maybe audioread can
        sf_problem = _libsndfile_reason(exc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa's audioread fallback warns (FutureWarning, UserWarning)
        try:
            y, _ = lb.load(str(p), sr=sr, mono=True)
        except Exception as exc:
            reason = sf_problem or f"{type(exc).__name__}: {exc}"
            raise AudioDecodeError(f"undecodable audio ({' '.join(str(reason).split())})") from None
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:  # pragma: no cover - librosa.load(mono=True) always returns 1-D
        y = y.reshape(-1)
    return y


def _libsndfile_reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    # "Error opening '/path/x.wav': Format not recognised." -> "Format not recognised."
    if text.startswith("Error opening") and "': " in text:
        text = text.split("': ", 1)[1]
    if "does not exist or is not a regular file" in text:  # libsndfile's words for corrupt MPEG data
        text = "unrecognised format or corrupt data"
    return text or type(exc).__name__
