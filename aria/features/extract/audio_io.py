"""Audio input: finding audio files and decoding them (once) to a mono signal.

This module reads files and computes nothing; :mod:`aria.features.extract.audio` computes the features.
"""

from __future__ import annotations

import math
import os
import struct
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from aria.errors import AriaInputError, AudioDecodeError
from aria.features.extract import _audio_compat as compat
from aria.params import Options, validate_params

__all__ = ["AUDIO_EXTENSIONS", "AudioDecodeError", "TRACK_ID_SCHEMES", "data_chunk_extent", "decode_audio",
           "find_audio_files", "scan_audio_inputs", "track_ids"]

#: How a file's track id is derived from its name (see :func:`track_ids`).
TRACK_ID_SCHEMES = ("stem", "int", "path")

#: Suffixes picked up when a directory is given (explicitly named files are always taken).
AUDIO_EXTENSIONS = frozenset({
    ".wav", ".wave", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".aifc", ".au",
    ".caf", ".w64", ".rf64", ".m4a", ".aac", ".wma",
})


def scan_audio_inputs(paths: Sequence[str | os.PathLike[str]], extensions: Iterable[str] = AUDIO_EXTENSIONS
                      ) -> tuple[list[Path], list[tuple[Path, Path, str]]]:
    """Expand files and directories into audio files, and the folders that could not be listed.

    Parameters
    ----------
    paths : sequence of path-like
        Files (taken whatever their suffix) and directories (searched recursively for files whose
        suffix, lower-cased, is in ``extensions``; hidden files and folders are skipped).
    extensions : iterable of str
        Suffixes (with the dot) picked up inside directories.

    Returns
    -------
    files : list of pathlib.Path
        In argument order, each directory's files sorted by path; duplicates removed (first kept).
    problems : list of (folder, root, reason)
        Each folder (the given directory included) that could not be listed, with the directory
        it was found under and a one-line reason; in argument order, sorted by path.

    Raises
    ------
    AriaInputError
        A path does not exist, or nothing at all was found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from aria.features.extract.audio_io import scan_audio_inputs
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("b.wav", "a.flac", "notes.txt", ".hidden.wav"):
    ...     _ = (d / name).write_bytes(b"")
    >>> files, problems = scan_audio_inputs([d])
    >>> [f.name for f in files], problems
    (['a.flac', 'b.wav'], [])
    """
    from aria.features.extract.inputs import walk_files

    exts = tuple(e.lower() for e in extensions)
    out: list[Path] = []
    problems: list[tuple[Path, Path, str]] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files, bad = walk_files(p, exts, skip_hidden=True)
            found = sorted(files)
            problems.extend(sorted((d, p, reason) for d, reason in bad))
        elif p.exists():
            found = [p]
        else:
            raise AriaInputError(f"{p}: no such file or directory")
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    if not out and not problems:
        raise AriaInputError("no audio files found in " + ", ".join(str(p) for p in paths)
                             + f" (suffixes searched: {', '.join(sorted(exts))})")
    return out, problems


def find_audio_files(paths: Sequence[str | os.PathLike[str]],
                     extensions: Iterable[str] = AUDIO_EXTENSIONS) -> list[Path]:
    """Expand files and directories into an ordered list of audio files.

    Parameters
    ----------
    paths, extensions
        As in :func:`scan_audio_inputs`.

    Returns
    -------
    list of pathlib.Path
        In argument order, each directory's files sorted by path; duplicates removed (first kept).

    Raises
    ------
    AriaInputError
        A path does not exist, or nothing was found.

    Examples
    --------
    >>> import os, tempfile
    >>> from aria.features.extract.audio_io import find_audio_files
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "live"))
    >>> for name in ("live/x.mp3", "y.ogg"):
    ...     open(os.path.join(root, name), "wb").close()
    >>> [os.path.relpath(f, root) for f in find_audio_files([root])]
    ['live/x.mp3', 'y.ogg']
    """
    files, problems = scan_audio_inputs(paths, extensions)
    if not files:
        raise AriaInputError("no audio files found in " + ", ".join(str(p) for p in paths)
                             + f" ({len(problems)} folder(s) could not be listed: {problems[0][2]})")
    return files


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

    Examples
    --------
    >>> from pathlib import Path
    >>> from aria.features.extract.audio_io import track_ids
    >>> files = [Path("fma/000/000002.mp3"), Path("fma/011/011638.mp3")]
    >>> track_ids(files, ["fma"]), track_ids(files, ["fma"], scheme="int")
    (['000002', '011638'], ['2', '11638'])
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

    A truncated file is refused rather than analysed from its partial audio: a RIFF/RF64/Wave64
    or AIFF file whose data chunk declares more bytes than the file holds
    (:func:`data_chunk_extent`), and any file libsndfile decodes to more than 1% (and more than
    two samples) fewer frames than its header declares (e.g. an MP3 or FLAC cut short).

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
        Empty, unreadable, truncated or undecodable file.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np, soundfile as sf
    >>> from aria.errors import AudioDecodeError
    >>> from aria.features.extract.audio_io import decode_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "cut.wav")
    >>> sf.write(path, np.zeros((8000, 2), dtype=np.float32), 8000, subtype="FLOAT")  # 64000 bytes
    >>> os.truncate(path, os.path.getsize(path) - 32000)  # half the audio is gone
    >>> try:
    ...     decode_audio(path, sr=8000)
    ... except AudioDecodeError as e:
    ...     print(e)
    truncated file: its header declares 64000 bytes of audio data, the file holds 32000 (50%)
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
        with open(p, "rb") as fh:
            extent = data_chunk_extent(fh)
    except OSError as exc:
        raise AudioDecodeError(f"cannot read file ({exc.strerror or type(exc).__name__})") from None
    if extent is not None and extent[0] > extent[1]:
        declared, present = extent
        raise AudioDecodeError(
            f"truncated file: its header declares {declared} bytes of audio data, the file holds "
            f"{present} ({100 * present / declared:.0f}%)")
    # libsndfile takes str paths as UTF-8 text: a name that is not valid UTF-8 goes as bytes
    name: str | bytes = str(p)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = os.fsencode(p)
    try:
        info = sf.info(name)
        sf_problem = None
    except Exception as exc:  # libsndfile cannot open it: maybe audioread can
        info, sf_problem = None, _libsndfile_reason(exc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa's audioread fallback warns (FutureWarning, UserWarning)
        try:
            y, _ = lb.load(name, sr=sr, mono=True)
        except Exception as exc:
            reason = sf_problem or f"{type(exc).__name__}: {exc}"
            raise AudioDecodeError(f"undecodable audio ({' '.join(str(reason).split())})") from None
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:  # pragma: no cover - librosa.load(mono=True) always returns 1-D
        y = y.reshape(-1)
    if info is not None and info.frames > 0 and info.samplerate > 0:
        expected = math.ceil(info.frames * sr / info.samplerate)  # librosa.resample's length
        if expected - y.size > max(2, 0.01 * expected):
            raise AudioDecodeError(
                f"truncated or corrupt file: decoded {y.size / sr:.2f} s of the "
                f"{info.frames / info.samplerate:.2f} s its header declares")
    return y


_W64_RIFF = b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\x00\x00"
_W64_DATA = b"data\xf3\xac\xd3\x11\x8c\xd1\x00\xc0\x4f\x8e\xdb\x8a"
_MAX_CHUNKS = 4096


def data_chunk_extent(fh: BinaryIO) -> tuple[int, int] | None:
    """Declared and present size, in bytes, of the audio data chunk of a RIFF-family or AIFF file.

    Reads chunk headers only. Containers: RIFF/RIFX WAVE, RF64/BW64 (64-bit size from ``ds64``),
    Sony Wave64, and AIFF/AIFC (``SSND``). A declared size larger than what the file holds means
    the file was cut short (a WAV's decoder would silently return the part that is there).

    Parameters
    ----------
    fh : binary file
        Open at any position, seekable.

    Returns
    -------
    (declared, present) or None
        None for other formats, for a header that declares no size (0 or 0xFFFFFFFF, as
        streaming writers leave it) and for a file without a data chunk.

    Examples
    --------
    >>> import io, struct
    >>> fmt = struct.pack("<4sI", b"fmt ", 16) + bytes(16)
    >>> wav = b"RIFF" + struct.pack("<I", 4 + len(fmt) + 8 + 100) + b"WAVE" + fmt
    >>> wav += struct.pack("<4sI", b"data", 100) + bytes(60)   # 100 bytes declared, 60 present
    >>> data_chunk_extent(io.BytesIO(wav))
    (100, 60)
    """
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    head = fh.read(16)
    if len(head) < 12:
        return None
    if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        endian = ">" if head[:4] == b"RIFX" else "<"
        pos, ds64_data = 12, None
        for _ in range(_MAX_CHUNKS):
            fh.seek(pos)
            hdr = fh.read(8)
            if len(hdr) < 8:
                return None
            cid, n = hdr[:4], struct.unpack(endian + "I", hdr[4:])[0]
            if cid == b"ds64":
                body = fh.read(16)
                if len(body) == 16:
                    ds64_data = struct.unpack("<Q", body[8:16])[0]
            elif cid == b"data":
                if n == 0xFFFFFFFF and ds64_data is not None:
                    n = ds64_data
                if n in (0, 0xFFFFFFFF):
                    return None
                return n, size - (pos + 8)
            pos += 8 + n + (n & 1)
        return None
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        pos = 12
        for _ in range(_MAX_CHUNKS):
            fh.seek(pos)
            hdr = fh.read(8)
            if len(hdr) < 8:
                return None
            cid, n = hdr[:4], struct.unpack(">I", hdr[4:])[0]
            if cid == b"SSND":
                if n in (0, 0xFFFFFFFF):
                    return None
                return n, size - (pos + 8)
            pos += 8 + n + (n & 1)
        return None
    if head == _W64_RIFF:
        pos = 40  # riff GUID, 64-bit size, wave GUID
        for _ in range(_MAX_CHUNKS):
            fh.seek(pos)
            hdr = fh.read(24)
            if len(hdr) < 24:
                return None
            n = struct.unpack("<Q", hdr[16:])[0]  # includes the 24-byte header
            if hdr[:16] == _W64_DATA:
                return (n - 24, size - (pos + 24)) if n > 24 else None
            if n < 24:
                return None
            pos += n + (-n % 8)
        return None
    return None


def _libsndfile_reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    # "Error opening '/path/x.wav': Format not recognised." -> "Format not recognised."
    if text.startswith("Error opening") and "': " in text:
        text = text.split("': ", 1)[1]
    if "does not exist or is not a regular file" in text:  # libsndfile's words for corrupt MPEG data
        text = "unrecognised format or corrupt data"
    return text or type(exc).__name__
