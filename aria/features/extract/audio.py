"""Audio features (spec section 4): rhythm, harmony and timbre of one track, from real audio.

The channel set ``features/audio.toml`` declares the features; this module computes them. One
file is decoded and resampled once, and the intermediate results that several features share are
computed once (:class:`AudioAnalysis`):

- the log-power mel spectrogram feeds both the onset envelope and the MFCCs (librosa's own
  ``onset_strength`` and ``mfcc`` compute exactly this spectrogram from ``y``);
- the chroma feeds the tonnetz (``tonnetz(chroma=...)``; ``tonnetz(y)`` would recompute it);
- the constant-Q transform of the CQT statistics (84 bins, 12 per octave) can also feed the
  chroma (``chroma_cqt(C=|CQT|)``, chroma parameter ``cqt_from = "cqt"``). The shipped channel
  set does not do this: 12 bins per octave smear the chroma (measured in
  ``docs/features-audio.md``), so the chroma keeps librosa's default 36-bin-per-octave CQT.

BeatNet (offline mode, DBN inference) gives the beats and Chordino (the NNLS-Chroma vamp plugin)
the chord labels, both from the same decoded signal; omnizart's ``chord_v1`` replaces Chordino
when its checkpoint is installed. BeatNet keeps state (its LSTM's hidden state) between calls, so
every file gets a fresh estimator.

Public API: :func:`load_audio_config`,
:func:`extract_file` and :func:`compute_features` (one file / one signal -> row),
:func:`interval_histogram`, the homogeneity engine's chord helpers re-exported for convenience
(:func:`chord_root`, :func:`root_motions`, :func:`root_motion_similarity`), plus
:func:`check_audio_stack` and :func:`warm_up`. A batch of files -> feature table is
:func:`aria.features.extract.audio_batch.extract_audio`.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from aria.errors import AriaDependencyError, AriaInputError, AudioFeatureError
from aria.features.chords import labels_to_root_motions
from aria.features.extract import _audio_compat as compat
from aria.features.extract.audio_io import AudioDecodeError, decode_audio
from aria.features.table import FeatureSpec, chord_root, feature_specs, load_channelset
from aria.groups.similarity import lcs_similarity
from aria.params import Interval, validate_params

__all__ = [
    "AudioAnalysis",
    "AudioConfig",
    "AudioFeatureError",
    "EXTRACTORS",
    "beatnet_beats",
    "check_audio_stack",
    "chord_root",
    "chordino_chords",
    "compute_features",
    "extract_file",
    "interval_histogram",
    "load_audio_config",
    "omnizart_chords",
    "root_motion_similarity",
    "root_motions",
    "warm_up",
]

#: BeatNet's networks were trained on 22050 Hz log spectrograms.
BEATNET_SAMPLE_RATE = 22050

# --------------------------------------------------------------------------------------------
# Configuration (the channel set as data)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AudioConfig:
    """Everything that determines the features of a file (picklable; sent to workers).

    Attributes
    ----------
    channelset : dict
        The parsed channel set (``features/audio.toml`` or a user's TOML).
    specs : tuple of FeatureSpec
        Its feature columns, in TOML order.
    sample_rate : int
        Analysis sample rate (Hz): every file is decoded and resampled to it once.
    hop_length : int
        Frame hop (samples) of every frame-based librosa feature.
    min_duration : float
        Shorter files are reported as failed (seconds).
    silence_db : float
        Files whose RMS level is below this (dBFS) are reported as failed (silent).
    chord_backend : str
        ``"chordino"`` or ``"omnizart"``: the chord backend resolved from ``backend = "auto"``.

    Examples
    --------
    >>> from aria.features.extract.audio import load_audio_config
    >>> config = load_audio_config(sr=16000)
    >>> config.sample_rate, config.parameters()["hop_length"], config.spec("onset_interval_hist").dim > 0
    (16000, 512, True)
    """

    channelset: dict
    specs: tuple[FeatureSpec, ...]
    sample_rate: int
    hop_length: int
    min_duration: float
    silence_db: float
    chord_backend: str = "chordino"

    def spec(self, name: str) -> FeatureSpec:
        """Feature spec of column ``name``.

        Parameters
        ----------
        name : str
            Feature column.

        Returns
        -------
        FeatureSpec
        """
        for s in self.specs:
            if s.name == name:
                return s
        raise AriaInputError(f"channel set {self.channelset.get('name', '')!r} has no feature {name!r}")

    def parameters(self) -> dict[str, Any]:
        """Every parameter that changes the numbers (for provenance and resume checks).

        Returns
        -------
        dict
        """
        return {"sample_rate": self.sample_rate, "hop_length": self.hop_length,
                "min_duration": self.min_duration, "silence_db": self.silence_db,
                "chord_backend": self.chord_backend,
                "features": {s.name: {"extractor": s.extractor, "dim": s.dim, "params": s.params}
                             for s in self.specs}}


@validate_params({"channelset": [None, "path", Mapping], "sr": [None, Interval(int, 4000, 192000)]})
def load_audio_config(channelset: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                      sr: int | None = None) -> AudioConfig:
    """Read an audio channel set and check that every feature has a known extractor.

    Parameters
    ----------
    channelset : path-like or mapping, optional
        A channel-set TOML (default: the shipped ``features/audio.toml``) or its parsed content.
    sr : int, optional
        Sample rate overriding ``[extraction] sample_rate``.

    Returns
    -------
    AudioConfig

    Raises
    ------
    AriaInputError
        Unknown extractor, bad parameter, or a reference to a missing column.

    Examples
    --------
    >>> from aria.features.extract.audio import load_audio_config
    >>> config = load_audio_config()  # the shipped features/audio.toml
    >>> config.sample_rate, config.chord_backend in ("chordino", "omnizart")
    (22050, True)
    """
    if channelset is None:
        from aria._resources import channelset_path

        channelset = channelset_path("audio")
    data = load_channelset(channelset)
    ext = dict(data.get("extraction", {}))
    rate = int(sr if sr is not None else ext.get("sample_rate", 22050))
    if rate < 4000 or rate > 192000:
        raise AriaInputError(f"sample rate {rate} Hz is outside 4000..192000")
    if not ext.get("mono", True):
        raise AriaInputError("[extraction] mono = false is not supported: the audio extractors need mono")
    hop = int(ext.get("hop_length", 512))
    if hop < 1:
        raise AriaInputError("[extraction] hop_length must be positive")
    specs = tuple(feature_specs(data))
    for s in specs:
        if s.extractor not in EXTRACTORS:
            raise AriaInputError(
                f"features.{s.name}: unknown audio extractor {s.extractor!r} "
                f"(known: {', '.join(sorted(EXTRACTORS))})")
    names = {s.name for s in specs}
    backend = "chordino"
    for s in specs:
        ref_key = {"tonnetz_mean": "from_chroma", "chroma_cqt_mean": "cqt_from"}.get(s.extractor)
        ref = s.params.get(ref_key) if ref_key else None
        if ref and ref not in names:
            raise AriaInputError(f"features.{s.name}.params.{ref_key} = {ref!r} is not a feature of the set")
        if s.extractor == "chord_labels":
            backend = _resolve_chord_backend(str(s.params.get("backend", "auto")))
    return AudioConfig(channelset=data, specs=specs, sample_rate=rate, hop_length=hop,
                       min_duration=float(ext.get("min_duration", 1.0)),
                       silence_db=float(ext.get("silence_db", -60.0)), chord_backend=backend)


def _resolve_chord_backend(backend: str) -> str:
    if backend == "chordino":
        return backend
    if backend == "omnizart":
        if compat.omnizart_chord_checkpoint() is None:
            raise AriaDependencyError(
                "chord backend 'omnizart' needs omnizart with its chord_v1 checkpoint installed "
                "(pip install omnizart, then `omnizart download-checkpoints`), or use backend = 'auto'")
        return backend
    if backend == "auto":
        return "omnizart" if compat.omnizart_chord_checkpoint() is not None else "chordino"
    raise AriaInputError(f"chord backend must be 'auto', 'chordino' or 'omnizart', got {backend!r}")


# --------------------------------------------------------------------------------------------
# Small helpers with hand-checkable definitions
# --------------------------------------------------------------------------------------------

def interval_histogram(times: np.ndarray, bins: int, value_range: Sequence[float],
                       normalize: str | None = "l1", min_events: int = 2) -> np.ndarray:
    """Histogram of the intervals between consecutive event times.

    Parameters
    ----------
    times : array_like
        Event times in seconds (sorted ascending).
    bins : int
        Number of equal-width bins over ``value_range``.
    value_range : (float, float)
        Interval range in seconds; intervals outside are clipped into the edge bins.
    normalize : {"l1", None}
        Divide by the number of intervals (sum 1) or keep counts.
    min_events : int
        Fewer events than this give an all-zero histogram.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(bins,)``.

    Examples
    --------
    >>> from aria.features.extract.audio import interval_histogram
    >>> interval_histogram([0.0, 0.5, 1.0, 2.0], bins=2, value_range=(0.0, 2.0)).tolist()  # 0.5, 0.5, 1.0
    [0.6666666666666666, 0.3333333333333333]
    """
    lo, hi = float(value_range[0]), float(value_range[1])
    if not hi > lo or bins < 1:
        raise AriaInputError(f"bad histogram range {value_range!r} or bins {bins}")
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    hist = np.zeros(bins, dtype=np.float64)
    if t.size < max(2, min_events):
        return hist
    iv = np.clip(np.diff(t), lo, hi)
    edges = np.linspace(lo, hi, bins + 1)
    idx = np.clip(np.searchsorted(edges, iv, side="right") - 1, 0, bins - 1)
    np.add.at(hist, idx, 1.0)
    if normalize == "l1":
        hist /= hist.sum()
    elif normalize is not None:
        raise AriaInputError(f"histogram normalize must be 'l1' or none, got {normalize!r}")
    return hist


def root_motions(labels: Sequence[str]) -> list[int]:
    """Root-motion sequence of a chord progression, as the homogeneity engine derives it.

    No-chord labels are dropped, consecutive repeated roots merged, then
    ``m_t = (r_{t+1} - r_t) mod 12`` (spec section 3; :func:`aria.features.chords.labels_to_root_motions`).

    Parameters
    ----------
    labels : sequence of str
        Chord labels in time order (Chordino ``"F#m7"``, Harte ``"A#:min"``, ``"N"``).

    Returns
    -------
    list of int
        Values in 1..11 (repeats are merged, so 0 never occurs).

    Examples
    --------
    >>> from aria.features.extract.audio import root_motions
    >>> root_motions(["C", "C", "N", "F", "G7", "C"])  # C -> F -> G -> C: up 5, 2, 5
    [5, 2, 5]
    """
    return [int(m) for m in labels_to_root_motions(list(labels))]


def root_motion_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """``LCS(a, b) / max(len(a), len(b))``, 0 if either is empty (:func:`aria.lcs_similarity`).

    Parameters
    ----------
    a, b : sequence of int
        Root-motion sequences, as :func:`root_motions` gives them.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> from aria.features.extract.audio import root_motion_similarity
    >>> root_motion_similarity([5, 2, 5], [5, 5])  # LCS [5, 5] over length 3
    0.6666666666666666
    """
    return float(lcs_similarity(list(a), list(b)))


# --------------------------------------------------------------------------------------------
# Shared intermediate results of one signal
# --------------------------------------------------------------------------------------------

class AudioAnalysis:
    """Lazily computed, cached intermediate results of one mono signal.

    Every intermediate is keyed by the parameters that define it, so two features asking for
    the same transform share it and features asking for different ones do not.

    Parameters
    ----------
    y : numpy.ndarray
        Mono signal (float32).
    sr : int
        Its sample rate.
    hop_length : int
        Frame hop of the frame-based features.
    source : path-like, optional
        The file it was decoded from (used only by backends that must read a file themselves).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.features.extract.audio import AudioAnalysis
    >>> a = AudioAnalysis(np.zeros(44100), 22050, hop_length=512)  # nothing is computed yet
    >>> a.duration, a.y.dtype, a.hop_length
    (2.0, dtype('float32'), 512)
    """

    def __init__(self, y: np.ndarray, sr: int, hop_length: int,
                 source: str | os.PathLike[str] | None = None) -> None:
        self.y = np.ascontiguousarray(y, dtype=np.float32)
        self.sr = int(sr)
        self.hop_length = int(hop_length)
        self.source = source
        self._cache: dict[tuple, Any] = {}
        self.lb = compat.librosa()

    def _cached(self, key: tuple, fn: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def duration(self) -> float:
        """Signal length in seconds."""
        return self.y.size / self.sr

    def log_mel(self, n_fft: int = 2048, n_mels: int = 128) -> np.ndarray:
        """``power_to_db(melspectrogram(y))``: the spectrogram of ``onset_strength`` and ``mfcc``."""
        lb = self.lb
        return self._cached(("log_mel", n_fft, n_mels), lambda: lb.power_to_db(
            lb.feature.melspectrogram(y=self.y, sr=self.sr, n_fft=n_fft, hop_length=self.hop_length,
                                      n_mels=n_mels)))

    def cqt_magnitude(self, n_bins: int = 84, bins_per_octave: int = 12,
                      tuning: float | None = 0.0) -> np.ndarray:
        """``|librosa.cqt(y)|`` (fmin C1)."""
        return self._cached(("cqt", n_bins, bins_per_octave, tuning), lambda: np.abs(self.lb.cqt(
            self.y, sr=self.sr, hop_length=self.hop_length, n_bins=n_bins,
            bins_per_octave=bins_per_octave, tuning=tuning)))

    def chroma(self, n_chroma: int = 12, cqt: tuple[int, int] | None = None,
               bins_per_octave: int = 36, n_octaves: int = 7) -> np.ndarray:
        """``chroma_cqt``: from the shared CQT ``cqt = (n_bins, bins_per_octave)`` or its own."""
        lb = self.lb
        if cqt is not None:
            n_bins, bpo = cqt
            return self._cached(("chroma", n_chroma, "shared", n_bins, bpo), lambda: lb.feature.chroma_cqt(
                C=self.cqt_magnitude(n_bins, bpo), sr=self.sr, hop_length=self.hop_length,
                bins_per_octave=bpo, n_chroma=n_chroma))
        key = ("chroma", n_chroma, "own", bins_per_octave, n_octaves)
        return self._cached(key, lambda: lb.feature.chroma_cqt(
            y=self.y, sr=self.sr, hop_length=self.hop_length, n_chroma=n_chroma,
            bins_per_octave=bins_per_octave, n_octaves=n_octaves))

    def onset_times(self, n_fft: int = 2048, n_mels: int = 128) -> np.ndarray:
        """``onset_detect(units='time')`` on ``onset_strength`` of the shared log-mel spectrogram."""
        lb = self.lb

        def run() -> np.ndarray:
            env = lb.onset.onset_strength(S=self.log_mel(n_fft, n_mels), sr=self.sr,
                                          hop_length=self.hop_length)
            return lb.onset.onset_detect(onset_envelope=env, sr=self.sr, hop_length=self.hop_length,
                                         units="time")
        return self._cached(("onsets", n_fft, n_mels), run)

    def beat_times(self, model: int = 1) -> np.ndarray:
        """BeatNet beat times (offline mode, DBN inference), from a fresh estimator."""
        return self._cached(("beats", model), lambda: beatnet_beats(self.y, self.sr, model))

    def chord_labels(self, backend: str = "chordino", roll_on: float = 1.0) -> list[str]:
        """Chord labels in time order (Chordino or omnizart ``chord_v1``)."""
        if backend == "omnizart":
            return self._cached(("chords", backend), lambda: omnizart_chords(self.y, self.sr, self.source))
        return self._cached(("chords", backend, roll_on), lambda: chordino_chords(self.y, self.sr, roll_on))


def beatnet_beats(y: np.ndarray, sr: int, model: int = 1) -> np.ndarray:
    """Beat times (s) from BeatNet, offline mode with madmom's DBN decoder.

    Parameters
    ----------
    y : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (resampled to BeatNet's 22050 Hz when different).
    model : {1, 2, 3}
        BeatNet's pretrained model (1: trained without GTZAN, 2: without Ballroom, 3: without
        the Rock corpus).

    Returns
    -------
    numpy.ndarray
        Beat times in seconds (float64), ascending.
    """
    if model not in (1, 2, 3):
        raise AriaInputError(f"BeatNet model must be 1, 2 or 3, got {model!r}")
    beatnet = compat.beatnet_class()
    if sr != BEATNET_SAMPLE_RATE:
        y = compat.librosa().resample(y, orig_sr=sr, target_sr=BEATNET_SAMPLE_RATE)
    # A fresh estimator per call: BeatNet keeps its LSTM state between process() calls, which
    # would make a file's beats depend on the file analysed before it.
    estimator = beatnet(model, mode="offline", inference_model="DBN", plot=[], thread=False)
    with _single_torch_thread():
        out = estimator.process(np.ascontiguousarray(y, dtype=np.float32))
    out = np.asarray(out, dtype=np.float64)
    return out[:, 0].copy() if out.size else np.empty(0, dtype=np.float64)


@contextlib.contextmanager
def _single_torch_thread() -> Iterator[None]:
    # One intra-op thread: the same floating-point summation order in any process, so results
    # do not depend on the number of workers (and workers do not oversubscribe the cores).
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def chordino_chords(y: np.ndarray, sr: int, roll_on: float = 1.0) -> list[str]:
    """Chord labels from Chordino (vamp NNLS-Chroma plugin), e.g. ``["N", "C", "F", "G7"]``.

    Parameters
    ----------
    y : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate.
    roll_on : float
        Chordino's spectral roll-on (percent, 0..5).

    Returns
    -------
    list of str
        One label per chord change, in time order ("N" = no chord).
    """
    vamp, key = compat.chordino_plugin()
    # Same defaults as chord_extractor's Chordino (suggested settings for generic pop music).
    params = {"useNNLS": 1, "rollon": float(roll_on), "tuningmode": 0, "whitening": 1.0, "s": 0.7,
              "boostn": 0.1}
    result = vamp.collect(np.ascontiguousarray(y, dtype=np.float32), sr, key, parameters=params)
    return [str(item["label"]) for item in result.get("list", [])]


def omnizart_chords(y: np.ndarray, sr: int, source: str | os.PathLike[str] | None) -> list[str]:
    """Chord labels from omnizart's ``chord_v1`` model (only when its checkpoint is installed).

    omnizart reads the audio file itself; a signal without a source file is written to a
    temporary WAV first. Its labels (``"C:maj"``, ``"A#:min"``) are rewritten as ``"C"``, ``"A#m"``.

    Parameters
    ----------
    y, sr
        Mono signal and its sample rate, as in :func:`chordino_chords`.
    source : path-like or None
        The decoded file.

    Returns
    -------
    list of str
    """
    if compat.omnizart_chord_checkpoint() is None:
        raise AriaDependencyError("omnizart's chord_v1 checkpoint is not installed")
    import csv

    from omnizart.chord import app  # noqa: PLC0415 - optional, heavy (TensorFlow)

    with tempfile.TemporaryDirectory(prefix="aria-omnizart-") as tmp:
        if source is None:
            import soundfile as sf

            source = os.path.join(tmp, "input.wav")
            sf.write(source, y, sr)
        app.transcribe(str(source), output=tmp)
        rows = []
        for name in os.listdir(tmp):
            if name.endswith(".csv"):
                with open(os.path.join(tmp, name), newline="") as fh:
                    rows = list(csv.DictReader(fh))
    labels = []
    for row in sorted(rows, key=lambda r: float(r["start"])):
        root, _, quality = row["chord"].partition(":")
        labels.append(root + ("m" if quality == "min" else ""))
    return labels


# --------------------------------------------------------------------------------------------
# Extractors: (analysis, params, config) -> value; names are the TOML's `extractor` keys
# --------------------------------------------------------------------------------------------

def _hist_params(params: Mapping[str, Any]) -> tuple[int, tuple[float, float], str | None]:
    rng = params.get("range", (0.0, 1.0))
    norm = params.get("normalize", "l1")
    norm = None if norm in ("none", None) else norm
    return int(params.get("bins", 16)), (float(rng[0]), float(rng[1])), norm


def _beat_interval_histogram(a: AudioAnalysis, params: Mapping[str, Any], cfg: AudioConfig) -> np.ndarray:
    if params.get("backend", "beatnet") != "beatnet":
        raise AriaInputError(f"beat backend must be 'beatnet', got {params.get('backend')!r}")
    bins, rng, norm = _hist_params(params)
    return interval_histogram(a.beat_times(int(params.get("model", 1))), bins, rng, norm,
                              int(params.get("min_beats", 2)))


def _onset_interval_histogram(a: AudioAnalysis, params: Mapping[str, Any], cfg: AudioConfig) -> np.ndarray:
    bins, rng, norm = _hist_params(params)
    return interval_histogram(a.onset_times(), bins, rng, norm, int(params.get("min_onsets", 2)))


def _chroma_matrix(a: AudioAnalysis, params: Mapping[str, Any], cfg: AudioConfig) -> np.ndarray:
    src = params.get("cqt_from")
    shared = None
    if src:
        cp = cfg.spec(src).params
        shared = (int(cp.get("n_bins", 84)), int(cp.get("bins_per_octave", 12)))
    return a.chroma(int(params.get("n_chroma", 12)), shared, int(params.get("bins_per_octave", 36)),
                    int(params.get("n_octaves", 7)))


def _chroma_cqt_mean(a: AudioAnalysis, params: Mapping[str, Any], cfg: AudioConfig) -> np.ndarray:
    return _chroma_matrix(a, params, cfg).mean(axis=1)


def _tonnetz_mean(a: AudioAnalysis, params: Mapping[str, Any], cfg: AudioConfig) -> np.ndarray:
    src = params.get("from_chroma")
    chroma = (_chroma_matrix(a, cfg.spec(src).params, cfg) if src
              else a.chroma(12, None))
    return a.lb.feature.tonnetz(chroma=chroma, sr=a.sr).mean(axis=1)


def _chord_labels(a: AudioAnalysis, params: Mapping[str, Any], cfg: AudioConfig) -> list[str]:
    return a.chord_labels(cfg.chord_backend, float(params.get("chordino_roll_on", 1.0)))


def _stats(matrix: np.ndarray, stats: Sequence[str]) -> np.ndarray:
    funcs = {"mean": lambda m: m.mean(axis=1), "std": lambda m: m.std(axis=1)}
    unknown = [s for s in stats if s not in funcs]
    if unknown:
        raise AriaInputError(f"unknown statistics {unknown} (known: mean, std)")
    return np.concatenate([funcs[s](matrix) for s in stats]).astype(np.float64)


def _mfcc_stats(a: AudioAnalysis, params: Mapping[str, Any], cfg: AudioConfig) -> np.ndarray:
    m = a.lb.feature.mfcc(S=a.log_mel(), n_mfcc=int(params.get("n_mfcc", 13)))
    return _stats(m, params.get("stats", ("mean", "std")))


def _cqt_db_stats(a: AudioAnalysis, params: Mapping[str, Any], cfg: AudioConfig) -> np.ndarray:
    if params.get("ref", "max") != "max":
        raise AriaInputError(f"cqt ref must be 'max', got {params.get('ref')!r}")
    mag = a.cqt_magnitude(int(params.get("n_bins", 84)), int(params.get("bins_per_octave", 12)))
    return _stats(a.lb.amplitude_to_db(mag, ref=np.max), params.get("stats", ("mean", "std")))


#: Extractor name (the TOML's ``extractor``) -> function ``(analysis, params, config) -> value``.
EXTRACTORS: dict[str, Callable[[AudioAnalysis, Mapping[str, Any], AudioConfig], Any]] = {
    "beat_interval_histogram": _beat_interval_histogram,
    "onset_interval_histogram": _onset_interval_histogram,
    "chroma_cqt_mean": _chroma_cqt_mean,
    "tonnetz_mean": _tonnetz_mean,
    "chord_labels": _chord_labels,
    "mfcc_stats": _mfcc_stats,
    "cqt_db_stats": _cqt_db_stats,
}


# --------------------------------------------------------------------------------------------
# One signal / one file -> one row
# --------------------------------------------------------------------------------------------

def compute_features(y: np.ndarray, sr: int, config: AudioConfig,
                     source: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Compute every feature of the channel set from one mono signal.

    Parameters
    ----------
    y : numpy.ndarray
        Mono signal at ``config.sample_rate``.
    sr : int
        Its sample rate (must equal ``config.sample_rate``).
    config : AudioConfig
        From :func:`load_audio_config`.
    source : path-like, optional
        The file ``y`` came from (only omnizart reads it).

    Returns
    -------
    dict
        Column -> value (float64 arrays for vectors, float for ``dim = 1``, list of str for chord
        labels).

    Raises
    ------
    AudioFeatureError
        Too short, silent, non-finite signal, or an extractor failed.
    """
    if sr != config.sample_rate:
        raise AriaInputError(f"sr must be the config's sample rate {config.sample_rate} Hz, got {sr}",
                             parameter="sr")
    y = np.asarray(y, dtype=np.float32)
    duration = y.size / sr
    if duration < config.min_duration:
        raise AudioFeatureError(f"too short ({duration:.3f} s < {config.min_duration:g} s)")
    if not np.all(np.isfinite(y)):
        raise AudioFeatureError("signal has non-finite samples")
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    level = 20 * math.log10(rms) if rms > 0 else -math.inf
    if level < config.silence_db:
        raise AudioFeatureError(f"silent (RMS {level:.1f} dBFS < {config.silence_db:g} dBFS)")
    analysis = AudioAnalysis(y, sr, config.hop_length, source)
    out: dict[str, Any] = {}
    for spec in config.specs:
        try:
            with warnings.catch_warnings():
                # librosa warns when a short file's low CQT octaves (decimated) are shorter than
                # the FFT; the result is still defined, and one warning per short file is noise.
                warnings.filterwarnings("ignore", message=r"n_fft=\d+ is too large", category=UserWarning)
                value = EXTRACTORS[spec.extractor](analysis, spec.params, config)
        except (AriaDependencyError, AriaInputError):
            raise
        except Exception as exc:
            raise AudioFeatureError(f"{spec.name}: {type(exc).__name__}: {exc}") from exc
        if spec.kind == "vector":
            value = np.asarray(value, dtype=np.float64).reshape(-1)
            if value.size != spec.dim:
                raise AriaInputError(f"features.{spec.name}: extractor {spec.extractor} gives "
                                     f"{value.size} values but dim = {spec.dim}")
            if not np.all(np.isfinite(value)):
                raise AudioFeatureError(f"{spec.name}: non-finite values")
            if spec.dim == 1:
                value = float(value[0])
        out[spec.name] = value
    return out


def extract_file(path: str | os.PathLike[str], config: AudioConfig) -> dict[str, Any]:
    """Decode one file once and compute its features; problems become a failed row.

    Parameters
    ----------
    path : path-like
        Audio file.
    config : AudioConfig
        From :func:`load_audio_config`.

    Returns
    -------
    dict
        ``status`` ("ok" / "failed"), ``error`` (None or a one-line reason), ``duration``
        (seconds, None when undecodable) and, when ok, one entry per feature column.

    Raises
    ------
    AriaDependencyError
        The audio stack is missing (a problem of the installation, not of the file).
    """
    row: dict[str, Any] = {"duration": None, "status": "ok", "error": None}
    try:
        y = decode_audio(path, config.sample_rate)
        row["duration"] = y.size / config.sample_rate
        row.update(compute_features(y, config.sample_rate, config, source=path))
    except (AudioDecodeError, AudioFeatureError) as exc:
        row.update(status="failed", error=" ".join(str(exc).split()) or type(exc).__name__)
    return row


# --------------------------------------------------------------------------------------------
# Installation checks and warm-up
# --------------------------------------------------------------------------------------------

def check_audio_stack(config: AudioConfig | None = None) -> dict[str, str]:
    """Import every backend the channel set needs, or raise one :class:`AriaDependencyError`.

    Parameters
    ----------
    config : AudioConfig, optional
        Default: the shipped channel set.

    Returns
    -------
    dict
        Backend -> version, for provenance.

    Examples
    --------
    >>> from aria.features.extract.audio import check_audio_stack, load_audio_config
    >>> chroma_only = load_audio_config({"features": {"chroma": {
    ...     "kind": "vector", "dim": 12, "extractor": "chroma_cqt_mean"}}})
    >>> sorted(check_audio_stack(chroma_only))  # no beats, no chords: librosa alone
    ['librosa', 'soundfile']
    """
    from importlib.metadata import PackageNotFoundError, version

    config = config or load_audio_config()
    compat.librosa()
    try:
        import soundfile  # noqa: F401 - a librosa dependency, used directly for decoding
    except ImportError as exc:
        raise AriaDependencyError(f"soundfile is not installed ({exc}); install the audio stack with: "
                                  f"{compat.INSTALL_COMMAND}") from None

    extractors = {s.extractor for s in config.specs}
    names = ["librosa", "soundfile"]
    if "beat_interval_histogram" in extractors:
        compat.beatnet_class()
        names += ["BeatNet", "madmom", "torch"]
    if "chord_labels" in extractors:
        if config.chord_backend == "omnizart":
            names.append("omnizart")
        else:
            compat.chordino_plugin()
            names += ["chord-extractor", "vamp"]
    versions = {}
    for n in names:
        with contextlib.suppress(PackageNotFoundError):
            versions[n] = version(n)
    return versions


def warm_up(config: AudioConfig | None = None, beats: bool = True) -> None:
    """Run every extractor once on two seconds of synthetic audio.

    This compiles librosa's numba functions (and fills numba's on-disk cache; do it in the parent
    before starting workers: workers compiling them concurrently can corrupt that cache) and, with
    ``beats``, initializes torch and runs BeatNet once, so that forked workers start warm.

    Parameters
    ----------
    config : AudioConfig, optional
        Default: the shipped channel set.
    beats : bool
        Also run BeatNet (loads torch).
    """
    config = config or load_audio_config()
    sr = config.sample_rate
    t = np.arange(int(2.0 * sr)) / sr
    gate = (1 + np.sign(np.sin(2 * np.pi * 2 * t))) / 2  # 2 Hz on/off: onsets, beats, a chord
    y = (0.3 * np.sin(2 * np.pi * 220.0 * t) * gate).astype(np.float32)
    specs = tuple(s for s in config.specs if beats or s.extractor != "beat_interval_histogram")
    cfg = AudioConfig(config.channelset, specs, sr, config.hop_length, 0.0, -math.inf, config.chord_backend)
    with warnings.catch_warnings():  # librosa: "n_fft too large" for the short signal's low octaves
        warnings.simplefilter("ignore", UserWarning)
        compute_features(y, sr, cfg)


# --------------------------------------------------------------------------------------------
# Batch API
# --------------------------------------------------------------------------------------------

