"""Symbolic (MIDI) features: the twelve jSymbolic-style features of the spec's symbolic table.

Definitions (spec section 4; ``docs/features-symbolic.md`` has worked examples and the differences
from jSymbolic 2.2 and music21):

=========================  =====  ===========================================================
column                     id     definition
=========================  =====  ===========================================================
melodic_interval_hist      M-1    per instrument, onsets in order, simultaneous onsets reduced
                                  to the highest pitch; absolute intervals clipped at 24; 25 bins
pitch_class_hist           P-2    note onsets per pitch class (C = bin 0)
vertical_interval_hist     C-2    50 Hz grid; each pair of distinct sounding pitches adds one
                                  count at its interval mod 12
note_density               R-3    onsets per second over the sounding span
mean_rhythmic_value        R-15   mean duration in quarter notes (tempo map)
rhythmic_value_hist        R-23   durations snapped (nearest in log2) to 11 note values
velocity_change_mean       D-1    mean |change| of the mean velocity between consecutive onsets
velocity_std               D-2    population standard deviation of note velocities
velocity_range             D-3    max - min velocity
polyphony_mean             T-2    mean number of sounding notes per 50 Hz frame
polyphony_std              T-7    population standard deviation of that count
pitch_range                P-6    max - min pitch (semitones)
=========================  =====  ===========================================================

Histograms are L1-normalized (all zeros when there is nothing to count, e.g. no melodic interval in
a one-note part); ``normalize="none"`` returns raw counts. Drum tracks are excluded everywhere. The
*sounding span* runs from the first onset to the last note end. A span ``[start, end)`` of a file
keeps the notes whose onset lies in it and clips their ends at ``end``.

The feature functions are pure functions of a :class:`Notes` array bundle;
:func:`notes_from_midi` builds one from a ``pretty_midi.PrettyMIDI`` object;
:func:`symbolic_features` computes every column of a channel set; :func:`extract_item` is the
batch extractor (see :mod:`aria.features.extract.batch`) and :func:`extract_symbolic` the Python API of
``aria features symbolic``.
"""

from __future__ import annotations

import bisect
import functools
import inspect
import io
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aria._lazy import import_optional
from aria.errors import AriaInputError
from aria.features.extract.batch import ExtractionError, Item, extract_table
from aria.features.table import (
    channelset_fingerprint,
    feature_specs,
    load_channelset,
    table_metadata,
    table_schema,
)
from aria.params import InstanceOf, Interval, Options, SequenceOf, validate_params

__all__ = [
    "EXTRACTORS",
    "MIDI_SUFFIXES",
    "Notes",
    "TempoMap",
    "extract_item",
    "extract_symbolic",
    "load_midi",
    "melodic_interval_histogram",
    "mean_rhythmic_value",
    "note_density",
    "notes_from_midi",
    "pitch_class_histogram",
    "pitch_range",
    "polyphony_counts",
    "polyphony_mean",
    "polyphony_runs",
    "polyphony_std",
    "rhythmic_value_histogram",
    "symbolic_features",
    "vertical_interval_histogram",
    "velocity_change_mean",
    "velocity_range",
    "velocity_std",
]

#: Suffixes searched for in directories.
MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")

#: Default snapping values of R-23 (quarter notes).
RHYTHMIC_VALUES = (0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)

_BLOCK = 8192  # segments per block in the vertical-interval co-occurrence product
_DIRECT = 4096  # polyphony: runs of frames up to this length are summed by numpy directly
_EPS = 1e-9  # tolerance on frame boundaries (note times are sums of float tick durations)


# --- tempo map and note arrays ------------------------------------------------------------------
@dataclass(frozen=True)
class TempoMap:
    """Piecewise-constant tempo: seconds <-> quarter notes.

    Attributes
    ----------
    times : numpy.ndarray
        Seconds at which each tempo starts (first is 0).
    qpm : numpy.ndarray
        Quarter notes per minute from each change on.
    resolution : int
        MIDI ticks per quarter note; beat positions are rounded to this grid (MIDI events sit on
        ticks, so this removes float noise and gives exact note values).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.features.extract.symbolic import TempoMap
    >>> tm = TempoMap(times=np.array([0.0, 2.0]), qpm=np.array([120.0, 60.0]))  # slows down at 2 s
    >>> tm.to_beats([1.0, 3.0]).tolist(), float(tm.to_seconds(5.0))
    ([2.0, 5.0], 3.0)
    """

    times: np.ndarray
    qpm: np.ndarray
    resolution: int = 480

    @property
    def _beats_at_changes(self) -> np.ndarray:
        seg = np.diff(self.times) * self.qpm[:-1] / 60.0
        return np.concatenate([[0.0], np.cumsum(seg)])

    def to_beats(self, t: np.ndarray | float) -> np.ndarray:
        """Quarter-note position of times ``t`` (seconds), rounded to the tick grid."""
        t = np.asarray(t, dtype=np.float64)
        k = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, None)
        b = self._beats_at_changes[k] + (t - self.times[k]) * self.qpm[k] / 60.0
        return np.round(b * self.resolution) / self.resolution

    def to_seconds(self, b: np.ndarray | float) -> np.ndarray:
        """Time in seconds of quarter-note positions ``b``."""
        b = np.asarray(b, dtype=np.float64)
        beats = self._beats_at_changes
        k = np.clip(np.searchsorted(beats, b, side="right") - 1, 0, None)
        return self.times[k] + (b - beats[k]) * 60.0 / self.qpm[k]


@dataclass(frozen=True)
class Notes:
    """The pitched (non-drum) notes of a file or span, sorted by onset then pitch.

    Attributes
    ----------
    start, end : numpy.ndarray
        Onset and end times (seconds); ends clipped at the span end.
    start_beat, end_beat : numpy.ndarray
        The same in quarter notes from the tempo map.
    pitch, velocity : numpy.ndarray
        MIDI pitch and velocity (int64).
    voice : numpy.ndarray
        Index of the instrument (pretty_midi track/program/channel) each note belongs to.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.features.extract.symbolic import Notes, TempoMap
    >>> n = Notes.from_seconds([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [60, 62, 64])
    >>> len(n), len(n.select(0.5, 2.5, TempoMap(np.zeros(1), np.array([120.0]))))  # onsets 1 s, 2 s
    (3, 2)
    """

    start: np.ndarray
    end: np.ndarray
    start_beat: np.ndarray
    end_beat: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    voice: np.ndarray

    def __len__(self) -> int:
        return int(self.start.size)

    @classmethod
    @validate_params({"qpm": Interval(float, 0, None, closed="neither")})
    def from_seconds(cls, start: Sequence[float], end: Sequence[float], pitch: Sequence[int],
                     velocity: int | Sequence[int] = 80, voice: int | Sequence[int] = 0,
                     qpm: float = 120.0) -> Notes:
        """Notes given in seconds at one constant tempo (small examples and tests).

        Parameters
        ----------
        start, end : sequence of float
            Onset and end of each note, in seconds.
        pitch : sequence of int
            MIDI pitch of each note.
        velocity, voice : int or sequence of int
            Velocity and instrument index: one for all notes or one per note.
        qpm : float
            Tempo in quarter notes per minute (gives the beat positions).

        Returns
        -------
        notes : Notes
            Sorted by onset then pitch, as :func:`notes_from_midi` sorts them.

        Examples
        --------
        >>> from aria.features.extract.symbolic import Notes
        >>> n = Notes.from_seconds([0.5, 0.0], [1.0, 0.5], [64, 60], velocity=[90, 70])
        >>> n.pitch.tolist(), n.end_beat.tolist(), len(n)
        ([60, 64], [1.0, 2.0], 2)
        """
        columns = {"start": start, "end": end, "pitch": pitch, "velocity": velocity, "voice": voice}
        arrays = {name: np.asarray(v, dtype=np.float64) for name, v in columns.items()}
        n = arrays["start"].size
        for name, a in arrays.items():
            one_each = a.ndim == 1 and a.size == n
            if not (one_each or (name in ("velocity", "voice") and a.ndim == 0)):
                raise AriaInputError(f"{name} must give one value per note ({n} start times), got shape "
                                     f"{a.shape}", parameter=name)
            if not np.isfinite(a).all() or (name not in ("start", "end") and (a != np.round(a)).any()):
                kind = "finite numbers" if name in ("start", "end") else "whole numbers"
                raise AriaInputError(f"{name} must be {kind}", parameter=name)
        tempo = TempoMap(np.zeros(1), np.array([float(qpm)]))
        return _sorted_notes(start, end, pitch, velocity, voice, tempo=tempo)

    @validate_params({"qpm": Interval(float, 0, None, closed="neither")})
    def to_pretty_midi(self, qpm: float = 120.0) -> Any:
        """A ``pretty_midi.PrettyMIDI`` object holding these notes (one piano part per voice).

        Parameters
        ----------
        qpm : float
            Its constant tempo in quarter notes per minute.

        Returns
        -------
        pretty_midi.PrettyMIDI
            Write it with its ``write(path)`` method.

        Examples
        --------
        >>> from aria.features.extract.symbolic import Notes, notes_from_midi
        >>> pm = Notes.from_seconds([0.0, 0.5], [0.5, 1.0], [60, 67], voice=[0, 1]).to_pretty_midi()
        >>> len(pm.instruments), notes_from_midi(pm)[0].pitch.tolist()
        (2, [60, 67])
        """
        pretty_midi = _require_pretty_midi()
        pm = pretty_midi.PrettyMIDI(initial_tempo=float(qpm))
        for v in np.unique(self.voice):
            part = pretty_midi.Instrument(program=0)
            for i in np.flatnonzero(self.voice == v):
                part.notes.append(pretty_midi.Note(velocity=int(self.velocity[i]), pitch=int(self.pitch[i]),
                                                   start=float(self.start[i]), end=float(self.end[i])))
            pm.instruments.append(part)
        return pm

    def select(self, start: float, end: float, tempo: TempoMap) -> Notes:
        """Notes with onset in ``[start, end)`` seconds, ends clipped at ``end``."""
        m = (self.start >= start - _EPS) & (self.start < end - _EPS)
        e = np.minimum(self.end[m], end)
        return Notes(self.start[m], e, self.start_beat[m], tempo.to_beats(e), self.pitch[m],
                     self.velocity[m], self.voice[m])


def _require_pretty_midi() -> Any:
    return import_optional("pretty_midi",
                           "symbolic features need pretty_midi: pip install 'aria-tda[symbolic]'")


def tempo_map(pm: Any) -> TempoMap:
    """Tempo map of a ``pretty_midi.PrettyMIDI`` object.

    Parameters
    ----------
    pm : pretty_midi.PrettyMIDI
        A parsed MIDI file.

    Returns
    -------
    TempoMap
    """
    times, qpm = pm.get_tempo_changes()
    times = np.asarray(times, dtype=np.float64)
    qpm = np.asarray(qpm, dtype=np.float64)
    if times.size == 0 or times[0] > 0:
        times = np.concatenate([[0.0], times])
        qpm = np.concatenate([[qpm[0] if qpm.size else 120.0], qpm])
    return TempoMap(times, qpm, int(pm.resolution))


def notes_from_midi(pm: Any, exclude_drums: bool = True) -> tuple[Notes, TempoMap]:
    """Pitched notes and tempo map of a ``pretty_midi.PrettyMIDI`` object.

    Parameters
    ----------
    pm : pretty_midi.PrettyMIDI
        A parsed MIDI file.
    exclude_drums : bool
        Leave out drum instruments (``is_drum``), as the spec requires.

    Returns
    -------
    (Notes, TempoMap)

    Examples
    --------
    >>> import pretty_midi
    >>> from aria.features.extract.symbolic import notes_from_midi
    >>> pm = pretty_midi.PrettyMIDI(initial_tempo=60.0)
    >>> pm.instruments.append(pretty_midi.Instrument(program=0))
    >>> pm.instruments[0].notes.append(pretty_midi.Note(velocity=80, pitch=62, start=0.0, end=2.0))
    >>> notes, tempo = notes_from_midi(pm)
    >>> notes.pitch.tolist(), notes.end_beat.tolist(), tempo.qpm.tolist()
    ([62], [2.0], [60.0])
    """
    tm = tempo_map(pm)
    cols: list[list] = [[], [], [], [], []]
    for v, inst in enumerate(pm.instruments):
        if exclude_drums and inst.is_drum:
            continue
        for n in inst.notes:
            cols[0].append(n.start)
            cols[1].append(n.end)
            cols[2].append(n.pitch)
            cols[3].append(n.velocity)
            cols[4].append(v)
    return _sorted_notes(*cols, tempo=tm), tm


def _sorted_notes(start: Any, end: Any, pitch: Any, velocity: Any, voice: Any,
                  tempo: TempoMap) -> Notes:
    """Notes from parallel arrays: sorted by onset, pitch and voice, ends at least the onsets."""
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    pitch = np.asarray(pitch, dtype=np.int64)
    vel = np.broadcast_to(np.asarray(velocity, dtype=np.int64), start.shape)
    voice = np.broadcast_to(np.asarray(voice, dtype=np.int64), start.shape)
    order = np.lexsort((voice, pitch, start))
    start, end, pitch, vel, voice = start[order], end[order], pitch[order], vel[order], voice[order]
    end = np.maximum(end, start)
    return Notes(start, end, tempo.to_beats(start), tempo.to_beats(end), pitch, vel, voice)


# --- the twelve features ------------------------------------------------------------------------
#: Extractor name (the TOML's ``extractor`` key) -> function, in the spec's order (filled by
#: :func:`_feature`).
EXTRACTORS: dict[str, Callable[..., Any]] = {}


def _feature(nonempty: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a feature function in :data:`EXTRACTORS` under its name.

    With ``nonempty``, a call on zero notes raises ``ExtractionError("no notes")`` before the
    body runs (the features that are undefined without notes; the histograms count nothing).
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def checked(notes: Notes, *args: Any, **kwargs: Any) -> Any:
            if len(notes) == 0:
                raise ExtractionError("no notes")
            return fn(notes, *args, **kwargs)

        EXTRACTORS[fn.__name__] = checked if nonempty else fn
        return EXTRACTORS[fn.__name__]

    return register


def _normalize(counts: np.ndarray, normalize: str | None) -> np.ndarray:
    counts = counts.astype(np.float64)
    if normalize in (None, "none"):
        return counts
    if normalize != "l1":
        raise AriaInputError(f"normalize must be 'l1' or 'none', got {normalize!r}")
    total = counts.sum()
    return counts / total if total > 0 else counts


@_feature()
def melodic_interval_histogram(notes: Notes, max_interval: int = 24,
                               normalize: str | None = "l1") -> np.ndarray:
    """M-1: histogram of absolute melodic intervals, per instrument.

    In each instrument, notes are taken in onset order, notes sharing an onset reduced to the
    highest one; the absolute pitch difference of consecutive onsets, clipped at
    ``max_interval``, is counted in bin ``0 .. max_interval``.

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span (pitches and onsets, per instrument).
    max_interval : int
        Last bin (larger intervals are clipped into it).
    normalize : {"l1", "none"}
        L1-normalize the counts, or return them raw.

    Returns
    -------
    numpy.ndarray, shape (max_interval + 1,)

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, melodic_interval_histogram
    >>> line = Notes.from_seconds([0, 1, 2], [1, 2, 3], [60, 67, 64])  # up 7, down 3
    >>> melodic_interval_histogram(line, max_interval=7, normalize="none").tolist()
    [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    """
    counts = np.zeros(max_interval + 1, dtype=np.int64)
    for v in np.unique(notes.voice):
        m = notes.voice == v
        s, p = notes.start[m], notes.pitch[m]  # sorted by onset, then pitch ascending
        last = np.ones(s.size, dtype=bool)
        last[:-1] = s[1:] != s[:-1]  # the last note of each onset group is the highest
        top = p[last]
        if top.size > 1:
            iv = np.minimum(np.abs(np.diff(top)), max_interval)
            counts += np.bincount(iv, minlength=max_interval + 1)
    return _normalize(counts, normalize)


@_feature()
def pitch_class_histogram(notes: Notes, normalize: str | None = "l1") -> np.ndarray:
    """P-2: note onsets per pitch class (bin 0 = C, not rotated).

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span (only the pitches count).
    normalize : {"l1", "none"}
        L1-normalize the counts, or return them raw.

    Returns
    -------
    numpy.ndarray, shape (12,)
        Weights of the pitch classes C, C#, ..., B.

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, pitch_class_histogram
    >>> chord = Notes.from_seconds([0, 0, 0, 1], [1, 1, 1, 2], [60, 64, 67, 72])
    >>> pitch_class_histogram(chord)[[0, 4, 7]].tolist()  # C twice, E, G
    [0.5, 0.25, 0.25]
    """
    return _normalize(np.bincount(notes.pitch % 12, minlength=12), normalize)


def _frame_grid(notes: Notes, frame_rate: float) -> tuple[np.ndarray, np.ndarray, int]:
    """First and one-past-last frame of each note on the grid ``t0 + k / frame_rate``."""
    if len(notes) == 0:
        raise ExtractionError("no notes")
    t0 = notes.start.min()
    t1 = notes.end.max()
    n = int(np.ceil((t1 - t0) * frame_rate - _EPS))
    if n <= 0:
        raise ExtractionError("the notes have zero total duration")
    a = np.ceil((notes.start - t0) * frame_rate - _EPS).astype(np.int64)
    b = np.ceil((notes.end - t0) * frame_rate - _EPS).astype(np.int64)
    return np.clip(a, 0, n), np.clip(b, 0, n), n


def polyphony_counts(notes: Notes, frame_rate: float = 50) -> np.ndarray:
    """Number of sounding notes in each frame of the sounding span.

    Frame ``k`` samples time ``t0 + k / frame_rate`` (``t0`` = first onset) for every such time
    before the last note end; a note ``[s, e)`` sounds in the frames whose time is in ``[s, e)``.

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span (at least one).
    frame_rate : float
        Frames per second.

    Returns
    -------
    numpy.ndarray of int64
        One value per frame: its length grows with the duration, not with the number of notes
        (:func:`polyphony_runs` gives the same counts run-length encoded).

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, polyphony_counts
    >>> two = Notes.from_seconds([0.0, 0.5], [1.0, 1.5], [60, 64])
    >>> polyphony_counts(two, frame_rate=4)  # frames at 0, 0.25, ..., 1.25 s
    array([1, 1, 2, 2, 1, 1])
    """
    a, b, n = _frame_grid(notes, frame_rate)
    diff = np.bincount(a, minlength=n + 1) - np.bincount(b, minlength=n + 1)
    return np.cumsum(diff)[:n]


def polyphony_runs(notes: Notes, frame_rate: float = 50) -> tuple[np.ndarray, np.ndarray]:
    """The per-frame note counts of :func:`polyphony_counts`, run-length encoded.

    The count only changes at a note's first or one-past-last frame, so the frames split into at
    most ``2 * len(notes) + 1`` runs of equal count: memory and time follow the number of notes,
    not the duration (a single note held for days is one run).

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span (at least one, of non-zero total duration).
    frame_rate : float
        Frames per second.

    Returns
    -------
    counts : numpy.ndarray of int64
        Sounding notes in each run.
    lengths : numpy.ndarray of int64
        Frames in each run (all positive; they sum to the number of frames).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.features.extract.symbolic import Notes, polyphony_runs
    >>> t = np.array([0.0, 0.5]), np.array([1.0, 1.5])  # two notes overlapping by 0.5 s
    >>> beats = t[0] * 2, t[1] * 2
    >>> n = Notes(t[0], t[1], *beats, np.array([60, 64]), np.array([80, 80]), np.array([0, 0]))
    >>> polyphony_runs(n, frame_rate=10)
    (array([1, 2, 1]), array([5, 5, 5]))
    """
    a, b, n = _frame_grid(notes, frame_rate)
    bounds = np.unique(np.concatenate([a, b, [0, n]]))
    delta = (np.bincount(np.searchsorted(bounds, a), minlength=bounds.size)
             - np.bincount(np.searchsorted(bounds, b), minlength=bounds.size))
    return np.cumsum(delta)[:-1].astype(np.int64), np.diff(bounds).astype(np.int64)


def _pairwise_sum_runs(values: np.ndarray, lengths: np.ndarray) -> float:
    """``np.add.reduce(np.repeat(values, lengths))`` to the last bit, without the repeat.

    numpy sums a float64 array pairwise: a stretch of more than 128 values is split at half its
    length rounded down to a multiple of 8 and the two halves' sums are added; shorter stretches
    are summed by an unrolled loop. Stretches of at most ``_DIRECT`` values are expanded here and
    summed by numpy itself; longer ones are split exactly as numpy splits them; a stretch inside
    one run is a function of its length and value only, so it is computed once. Time and memory
    follow the number of runs, not their total length. ``values`` must be non-negative (numpy
    starts from +0.0, which would turn a -0.0 sum into +0.0).
    """
    vals = np.asarray(values, dtype=np.float64)
    lens = np.asarray(lengths, dtype=np.int64)
    ends_arr = np.cumsum(lens)
    ends = ends_arr.tolist()
    total = ends[-1] if ends else 0
    uniform: dict[tuple[int, float], float] = {}

    def run_sum(n: int, v: float) -> float:
        key = (n, v)
        if key not in uniform:
            if n <= _DIRECT:
                uniform[key] = float(np.add.reduce(np.full(n, v)))
            else:
                n2 = n // 2 - (n // 2) % 8
                uniform[key] = run_sum(n2, v) + run_sum(n - n2, v)
        return uniform[key]

    def stretch(lo: int, n: int) -> float:
        k0 = bisect.bisect_right(ends, lo)
        if lo + n <= ends[k0]:
            return run_sum(n, float(vals[k0]))
        if n <= _DIRECT:
            k1 = bisect.bisect_right(ends, lo + n - 1)
            counts = lens[k0:k1 + 1].copy()
            counts[0] = ends[k0] - lo
            counts[-1] -= int(ends_arr[k1]) - (lo + n)
            return float(np.add.reduce(np.repeat(vals[k0:k1 + 1], counts)))
        n2 = n // 2 - (n // 2) % 8
        return stretch(lo, n2) + stretch(lo + n2, n - n2)

    return 0.0 + stretch(0, total) if total else 0.0


@_feature()
def vertical_interval_histogram(notes: Notes, frame_rate: float = 50,
                                normalize: str | None = "l1") -> np.ndarray:
    """C-2: intervals (mod 12) between every pair of distinct pitches sounding in a frame.

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span (pitches, onsets and ends).
    frame_rate : float
        Frames per second of the grid (see :func:`polyphony_counts`).
    normalize : {"l1", "none"}
        L1-normalize the counts, or return them raw.

    Returns
    -------
    numpy.ndarray, shape (12,)

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, vertical_interval_histogram
    >>> triad = Notes.from_seconds([0, 0, 0], [1, 1, 1], [60, 64, 67])
    >>> h = vertical_interval_histogram(triad, normalize="none")  # 50 frames of 3 pairs
    >>> {i: int(c) for i, c in enumerate(h) if c}
    {3: 50, 4: 50, 7: 50}
    """
    a, b, n = _frame_grid(notes, frame_rate)
    # The set of sounding pitches only changes at note boundaries: work on the segments between
    # consecutive boundaries (at most 2 per note), each weighted by its length in frames.
    bounds = np.unique(np.concatenate([a, b, [0, n]]))
    seg_len = np.diff(bounds)
    pitches, col = np.unique(notes.pitch, return_inverse=True)
    diff = np.zeros((bounds.size, pitches.size), dtype=np.int32)
    np.add.at(diff, (np.searchsorted(bounds, a), col), 1)
    np.add.at(diff, (np.searchsorted(bounds, b), col), -1)
    roll = np.cumsum(diff[:-1], axis=0, dtype=np.int32) > 0
    del diff
    # co[i, j] = frames where pitches i and j both sound; float64 sums of integers below 2**53 are
    # exact. Blocks of segments bound the memory on very long files.
    co = np.zeros((pitches.size, pitches.size))
    for lo in range(0, roll.shape[0], _BLOCK):
        r = roll[lo:lo + _BLOCK].astype(np.float64)
        co += r.T @ (r * seg_len[lo:lo + _BLOCK, None])
    i, j = np.triu_indices(pitches.size, k=1)
    counts = np.bincount((pitches[j] - pitches[i]) % 12, weights=co[i, j], minlength=12)
    return _normalize(np.rint(counts), normalize)


@_feature(nonempty=True)
def note_density(notes: Notes) -> float:
    """R-3: note onsets per second over the sounding span (first onset to last end).

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span (onset and end times, in seconds).

    Returns
    -------
    density : float
        Onsets per second.

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, note_density
    >>> note_density(Notes.from_seconds([0, 0.5, 1, 1.5], [0.5, 1, 1.5, 2], [60, 62, 64, 65]))
    2.0
    """
    span = float(notes.end.max() - notes.start.min())
    if span <= 0:
        raise ExtractionError("the notes have zero total duration")
    return len(notes) / span


def _durations_beats(notes: Notes) -> np.ndarray:
    return notes.end_beat - notes.start_beat


@_feature(nonempty=True)
def mean_rhythmic_value(notes: Notes) -> float:
    """R-15: mean note duration in quarter notes (from the tempo map).

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span (durations in beats).

    Returns
    -------
    quarters : float
        Mean duration in quarter notes.

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, mean_rhythmic_value
    >>> a_quarter_and_a_whole = Notes.from_seconds([0.0, 0.5], [0.5, 2.5], [60, 62], qpm=120)
    >>> mean_rhythmic_value(a_quarter_and_a_whole)
    2.5
    """
    return float(np.mean(_durations_beats(notes)))


@_feature()
def rhythmic_value_histogram(notes: Notes, values: Sequence[float] = RHYTHMIC_VALUES,
                             normalize: str | None = "l1") -> np.ndarray:
    """R-23: note durations (quarter notes) snapped to the nearest of ``values`` in log2.

    Durations below the first or above the last value go to the end bins; a tie goes to the
    shorter value; zero durations go to the first bin.

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span: their durations in quarter notes.
    values : sequence of float
        Increasing note values in quarter notes.
    normalize : {"l1", "none"}
        L1-normalize the counts, or return them raw.

    Returns
    -------
    numpy.ndarray, shape (len(values),)

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, rhythmic_value_histogram
    >>> eighths = Notes.from_seconds([0.0, 0.25, 0.5], [0.25, 0.5, 1.0], [60, 62, 64])
    >>> rhythmic_value_histogram(eighths, values=(0.5, 1.0), normalize="none").tolist()
    [2.0, 1.0]
    """
    vals = np.asarray(values, dtype=np.float64)
    d = _durations_beats(notes)
    with np.errstate(divide="ignore"):
        ld = np.log2(np.where(d > 0, d, np.finfo(float).tiny))
    lv = np.log2(vals)
    mids = (lv[1:] + lv[:-1]) / 2.0
    idx = np.searchsorted(mids, ld, side="right")
    # ties (exactly on a midpoint) go to the shorter value
    tie = (idx > 0) & np.isclose(ld, mids[np.clip(idx - 1, 0, mids.size - 1)], rtol=0, atol=1e-12)
    idx = np.where(tie, idx - 1, idx)
    return _normalize(np.bincount(idx, minlength=vals.size), normalize)


@_feature(nonempty=True)
def velocity_change_mean(notes: Notes) -> float:
    """D-1: mean absolute change of velocity between consecutive onsets.

    Notes sharing an onset time (all instruments together) form one onset whose velocity is their
    mean; the result is the mean absolute difference between consecutive onsets (0 when there is
    a single onset).

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span; velocities are averaged per onset.

    Returns
    -------
    change : float
        In MIDI velocity units (0 to 127).

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, velocity_change_mean
    >>> n = Notes.from_seconds([0, 0, 1, 2], [1, 1, 2, 3], [60, 64, 62, 60], velocity=[60, 80, 90, 70])
    >>> velocity_change_mean(n)  # onsets of mean velocity 70, 90, 70
    20.0
    """
    onsets, inv = np.unique(notes.start, return_inverse=True)
    if onsets.size < 2:
        return 0.0
    mean_vel = np.bincount(inv, weights=notes.velocity) / np.bincount(inv)
    return float(np.mean(np.abs(np.diff(mean_vel))))


@_feature(nonempty=True)
def velocity_std(notes: Notes) -> float:
    """D-2: population standard deviation of note velocities.

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span (their velocities).

    Returns
    -------
    std : float
        Population standard deviation (``ddof=0``).

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, velocity_std
    >>> velocity_std(Notes.from_seconds([0, 1], [1, 2], [60, 60], velocity=[100, 60]))
    20.0
    """
    return float(np.std(notes.velocity.astype(np.float64)))


@_feature(nonempty=True)
def velocity_range(notes: Notes) -> float:
    """D-3: maximum minus minimum note velocity.

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span, at least one.

    Returns
    -------
    spread : float
        Loudest minus softest velocity.

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, velocity_range
    >>> dynamics = Notes.from_seconds([0, 1, 2], [1, 2, 3], [60, 62, 64], velocity=[40, 90, 64])
    >>> velocity_range(dynamics)
    50.0
    """
    return float(notes.velocity.max() - notes.velocity.min())


@_feature()
def polyphony_mean(notes: Notes, frame_rate: float = 50) -> float:
    """T-2: mean number of sounding notes per frame over the sounding span.

    Computed from the run-length counts of :func:`polyphony_runs` (memory and time follow the
    number of notes, not the duration) with an exact integer sum and one division: the value
    ``numpy.mean`` gives on the per-frame counts, to the last bit.

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span, sounding for a non-zero time.
    frame_rate : float
        Frames per second of the grid.

    Returns
    -------
    mean : float
        Sounding notes per frame, on average (at least 1).

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, polyphony_mean
    >>> overlap = Notes.from_seconds([0.0, 0.5], [1.0, 1.5], [60, 64])  # 1, then 2, then 1 note
    >>> round(polyphony_mean(overlap, frame_rate=10), 4)
    1.3333
    """
    counts, lengths = polyphony_runs(notes, frame_rate)
    return _exact_sum(counts, lengths) / int(lengths.sum())  # int / int: correctly rounded


@_feature()
def polyphony_std(notes: Notes, frame_rate: float = 50) -> float:
    """T-7: population standard deviation of the per-frame sounding-note count.

    Computed from the run-length counts of :func:`polyphony_runs` (memory and time follow the
    number of notes, not the duration), with the float64 operations ``numpy.std`` applies to the
    per-frame counts, in the same order: the same value to the last bit.

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span; the counts are those of :func:`polyphony_runs`.
    frame_rate : float
        Frames per second of the grid.

    Returns
    -------
    std : float
        Population standard deviation (``ddof=0``) of the counts.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.features.extract.symbolic import Notes, polyphony_counts, polyphony_std
    >>> n = Notes.from_seconds([0.0, 0.0, 1.0], [2.0, 1.0, 1.5], [60, 64, 67])
    >>> bool(polyphony_std(n, frame_rate=8) == np.std(polyphony_counts(n, frame_rate=8)))
    True
    """
    counts, lengths = polyphony_runs(notes, frame_rate)
    n = int(lengths.sum())
    mean = _exact_sum(counts, lengths) / n
    dev = counts.astype(np.float64) - mean
    return math.sqrt(_pairwise_sum_runs(dev * dev, lengths) / n)


def _exact_sum(counts: np.ndarray, lengths: np.ndarray) -> int:
    """``sum(counts * lengths)`` as an exact integer."""
    if int(counts.max(initial=0)) * int(lengths.sum()) < 2**62:  # no int64 overflow
        return int(counts @ lengths)
    return sum(int(c) * int(n) for c, n in zip(counts, lengths, strict=True))


@_feature(nonempty=True)
def pitch_range(notes: Notes) -> float:
    """P-6: highest minus lowest pitch, in semitones.

    Parameters
    ----------
    notes : Notes
        Pitched notes; only their pitches matter.

    Returns
    -------
    semitones : float
        From the lowest to the highest pitch (0 for a single pitch).

    Examples
    --------
    >>> from aria.features.extract.symbolic import Notes, pitch_range
    >>> pitch_range(Notes.from_seconds([0, 0], [2, 2], [55, 79]))  # G3 to G5
    24.0
    """
    return float(notes.pitch.max() - notes.pitch.min())




def _expected_dim(extractor: str, params: Mapping[str, Any]) -> int:
    if extractor == "melodic_interval_histogram":
        return int(params.get("max_interval", 24)) + 1
    if extractor == "rhythmic_value_histogram":
        return len(params.get("values", RHYTHMIC_VALUES))
    if extractor in ("pitch_class_histogram", "vertical_interval_histogram"):
        return 12
    return 1


def _feature_calls(channelset: Mapping[str, Any]) -> list[tuple[str, Callable[..., Any], dict]]:
    """Check a symbolic channel set and resolve each feature to (column, function, kwargs)."""
    shared = dict(channelset.get("extraction", {}))
    calls = []
    for spec in feature_specs(channelset):
        fn = EXTRACTORS.get(spec.extractor)
        if fn is None:
            raise AriaInputError(f"features.{spec.name}: unknown symbolic extractor {spec.extractor!r} "
                                 f"(known: {', '.join(EXTRACTORS)})")
        accepted = set(inspect.signature(fn).parameters) - {"notes"}
        kwargs = {k: v for k, v in shared.items() if k in accepted}
        unknown = set(spec.params) - accepted
        if unknown:
            raise AriaInputError(f"features.{spec.name}.params: unknown parameter(s) "
                                 f"{', '.join(sorted(unknown))} for {spec.extractor}")
        kwargs.update(spec.params)
        if spec.kind != "vector" or spec.dim != _expected_dim(spec.extractor, kwargs):
            raise AriaInputError(f"features.{spec.name}: {spec.extractor} gives a vector of length "
                                 f"{_expected_dim(spec.extractor, kwargs)}, the channel set says "
                                 f"kind={spec.kind!r}, dim={spec.dim}")
        if spec.extractor == "rhythmic_value_histogram":
            vals = np.asarray(kwargs.get("values", RHYTHMIC_VALUES), dtype=float)
            if vals.size < 1 or np.any(vals <= 0) or np.any(np.diff(vals) <= 0):
                raise AriaInputError(f"features.{spec.name}.params.values must be positive and increasing")
        if kwargs.get("frame_rate", 1) <= 0 or kwargs.get("max_interval", 1) < 1:
            raise AriaInputError(f"features.{spec.name}: frame_rate and max_interval must be positive")
        calls.append((spec.name, fn, kwargs))
    return calls


def symbolic_features(notes: Notes, channelset: Mapping[str, Any]) -> dict[str, Any]:
    """Compute every feature column of a symbolic channel set.

    Parameters
    ----------
    notes : Notes
        Pitched notes of a file or span (at least one).
    channelset : mapping
        Parsed channel set (e.g. ``load_channelset(channelset_path("symbolic"))``).

    Returns
    -------
    dict
        Column name -> float or numpy array.

    Examples
    --------
    >>> from aria._resources import channelset_path
    >>> from aria.features.extract.symbolic import Notes, symbolic_features
    >>> from aria.features.table import load_channelset
    >>> fifth = Notes.from_seconds([0, 1], [1, 2], [60, 67])
    >>> cols = symbolic_features(fifth, load_channelset(channelset_path("symbolic")))
    >>> len(cols), cols["pitch_range"], float(cols["melodic_interval_hist"][7])
    (12, 7.0, 1.0)
    """
    if len(notes) == 0:
        raise ExtractionError("no notes")
    return {name: fn(notes, **kwargs) for name, fn, kwargs in _feature_calls(channelset)}


# --- loading and the batch extractor ------------------------------------------------------------
def load_midi(path: str | os.PathLike[str], exclude_drums: bool = True) -> tuple[Notes, TempoMap]:
    """Read a MIDI file into its pitched notes and tempo map.

    Parameters
    ----------
    path : path-like
        A MIDI file.
    exclude_drums : bool
        Leave out drum instruments.

    Returns
    -------
    (Notes, TempoMap)

    Raises
    ------
    ExtractionError
        Missing, empty, unreadable or truncated file; no notes; drum tracks only.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from aria.features.extract.symbolic import Notes, load_midi
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "fifth.mid"
    >>> Notes.from_seconds([0.0, 1.0], [1.0, 2.0], [60, 67]).to_pretty_midi(qpm=60).write(str(path))
    >>> notes, tempo = load_midi(path)
    >>> notes.pitch.tolist(), notes.end_beat.tolist(), tempo.qpm.tolist()
    ([60, 67], [1.0, 2.0], [60.0])
    """
    pretty_midi = _require_pretty_midi()
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ExtractionError("file not found") from None
    except OSError as exc:
        raise ExtractionError(f"cannot read file ({exc.strerror or exc})") from None
    if size == 0:
        raise ExtractionError("empty file (0 bytes)")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"cannot read file ({exc.strerror or type(exc).__name__})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
            except ValueError as exc:
                if "largest tick" not in str(exc):
                    raise
                pm = pretty_midi.PrettyMIDI(_coarser_ticks(data))
    except EOFError:
        raise ExtractionError("unreadable MIDI: truncated file (unexpected end of data)") from None
    except Exception as exc:  # mido/pretty_midi raise OSError, ValueError, KeyError, IndexError...
        msg = str(exc).strip()
        detail = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
        raise ExtractionError(f"unreadable MIDI: {detail}") from None
    notes, tm = notes_from_midi(pm, exclude_drums=exclude_drums)
    if len(notes) == 0:
        has_drums = any(inst.is_drum and inst.notes for inst in pm.instruments)
        raise ExtractionError("drum tracks only (no pitched notes)" if has_drums else "no notes")
    return notes, tm


def _coarser_ticks(data: bytes) -> io.BytesIO:
    """Rewrite a MIDI file on a coarser tick grid, exactly, for pretty_midi's 1e7-tick limit.

    Long pieces written at a fine resolution (music21 writes 10080 ticks per quarter note) exceed
    pretty_midi's limit although every event sits on a much coarser grid. Dividing every delta time
    and the resolution by their greatest common divisor changes no time, duration or tempo.
    """
    import mido

    mid = mido.MidiFile(file=io.BytesIO(data))
    g = mid.ticks_per_beat
    for track in mid.tracks:
        for msg in track:
            if msg.time:
                g = math.gcd(g, int(msg.time))
    if g <= 1:
        raise ExtractionError("MIDI file too long for pretty_midi (more than 1e7 ticks)")
    mid.ticks_per_beat //= g
    for track in mid.tracks:
        for msg in track:
            msg.time = int(msg.time) // g
    buf = io.BytesIO()
    mid.save(file=buf)
    buf.seek(0)
    return buf


_LAST: dict[str, Any] = {}


def _load_cached(path: str, exclude_drums: bool) -> tuple[Notes, TempoMap]:
    """Load a file, reusing the last file loaded (spans of one file come one after another)."""
    try:
        st = os.stat(path)
        key = (path, st.st_mtime_ns, st.st_size, exclude_drums)
    except OSError:
        key = None
    if key is not None and _LAST.get("key") == key:
        result = _LAST["value"]
    else:
        try:
            result = load_midi(path, exclude_drums)
        except ExtractionError as exc:
            result = exc
        _LAST.clear()
        _LAST.update(key=key, value=result)
    if isinstance(result, ExtractionError):
        raise ExtractionError(str(result))
    return result


def extract_item(item: Item, params: Mapping[str, Any]) -> dict[str, Any]:
    """Batch extractor: the features of one file or span (see :mod:`aria.features.extract.batch`).

    Parameters
    ----------
    item : Item
        File, optional span and its unit (``"seconds"`` or ``"beats"``).
    params : mapping
        Parsed symbolic channel set.

    Returns
    -------
    dict
        Feature columns.

    Raises
    ------
    ExtractionError
        The file or span cannot give features (reason in the message).

    Examples
    --------
    >>> import tempfile, os
    >>> from aria._resources import channelset_path
    >>> from aria.features.extract.batch import Item
    >>> from aria.features.extract.symbolic import Notes, extract_item
    >>> from aria.features.table import load_channelset
    >>> midi = os.path.join(tempfile.mkdtemp(), "scale.mid")
    >>> Notes.from_seconds([0, 1, 2, 3], [1, 2, 3, 4], [60, 62, 64, 65]).to_pretty_midi().write(midi)
    >>> symbolic = load_channelset(channelset_path("symbolic"))
    >>> row = extract_item(Item("scale", midi, 1.0, 3.0, "seconds"), symbolic)
    >>> row["pitch_range"], row["note_density"]  # the span keeps D and E
    (2.0, 1.0)
    """
    exclude = bool(params.get("extraction", {}).get("exclude_drums", True))
    notes, tm = _load_cached(item.path, exclude)
    if item.start is not None or item.end is not None:
        lo = 0.0 if item.start is None else float(item.start)
        hi = np.inf if item.end is None else float(item.end)
        if item.unit == "beats":
            lo_s = float(tm.to_seconds(lo))
            hi_s = float(tm.to_seconds(hi)) if np.isfinite(hi) else np.inf
        else:
            lo_s, hi_s = lo, hi
        notes = notes.select(lo_s, hi_s, tm)
        if len(notes) == 0:
            raise ExtractionError(
                f"no pitched note starts in the span [{lo:g}, {hi:g}) {item.unit or 'seconds'}")
    return symbolic_features(notes, params)


@validate_params({
    "paths": ["path", SequenceOf("path", min_len=0)],
    "spans": [None, "path", SequenceOf(InstanceOf(Item), min_len=0)],
    "unit": Options(("seconds", "beats")), "channelset": [None, "path", Mapping], "out": [None, "path"],
    "workers": Interval(int, 1, None), "resume": "boolean", "progress": [None, "callable"],
    "shard_size": Interval(int, 1, None), "scheduler": [None, "str"],
})
def extract_symbolic(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] = (),
    *,
    spans: str | os.PathLike[str] | Sequence[Item] | None = None,
    unit: str = "seconds",
    channelset: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
    workers: int = 1,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    shard_size: int = 256,
    scheduler: str | None = None,
    client: object = None,
):
    """Extract the symbolic feature table of MIDI files or spans (one row per track/span).

    Parameters
    ----------
    paths : path-like or sequence of path-like
        MIDI files and directories (searched recursively for ``.mid``/``.midi``/``.smf``/``.kar``).
        Track id: a file's name without suffix, or for files under a directory their path
        relative to it without suffix (``jazz/b``).
    spans : path-like or sequence of Item, optional
        Spans table ``id,file,start,end`` (CSV/Parquet; see :mod:`aria.features.extract.inputs`) or
        ready-made items; then there is one row per span, with the span id as track id.
    unit : {"seconds", "beats"}
        Unit of the spans table.
    channelset : path-like or mapping, optional
        Symbolic channel set (default: the shipped ``features/symbolic.toml``).
    out : path-like, optional
        Also write the table to this Parquet file (atomically, with shards and resume).
    workers : int
        Worker processes.
    resume : bool
        Reuse rows already in ``out`` or its shards.
    progress : callable, optional
        Called with the number of rows just finished.
    shard_size : int
        Rows per shard when writing ``out``.
    scheduler : str, optional
        Extract on a dask cluster (``"local:N"`` or ``"HOST:PORT"``, see :mod:`aria.scale`)
        instead of ``workers`` processes; the table is identical to ``workers=1``.
    client : distributed.Client, optional
        An existing dask client instead of ``scheduler``.

    Returns
    -------
    pandas.DataFrame
        Columns ``track, file, start, end, unit, status, error`` and the features; failed rows
        have null features and a reason in ``error``.

    Raises
    ------
    AriaInputError
        No input files, bad paths, bad spans table or channel set.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from aria.features.extract.symbolic import Notes, extract_symbolic
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name, top in (("low", 64), ("high", 76)):
    ...     Notes.from_seconds([0, 0], [2, 2], [60, top]).to_pretty_midi().write(str(folder / f"{name}.mid"))
    >>> table = extract_symbolic(folder)
    >>> table[["track", "status", "pitch_range"]].values.tolist()
    [['high', 'ok', 16.0], ['low', 'ok', 4.0]]
    """
    from aria._resources import channelset_path
    from aria.features.extract.inputs import discover_files, file_items, read_spans

    _require_pretty_midi()
    cs = load_channelset(channelset if channelset is not None else channelset_path("symbolic"))
    _feature_calls(cs)  # check the channel set before starting workers
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files = discover_files(list(paths), MIDI_SUFFIXES)
    if spans is None:
        items = file_items(files)
    elif isinstance(spans, str | os.PathLike):
        items = read_spans(spans, files, unit)
    else:
        items = list(spans)
    if not items:
        raise AriaInputError("no MIDI files found (looked for " + ", ".join(MIDI_SUFFIXES) + ")")
    specs = feature_specs(cs)
    fp = channelset_fingerprint(cs, {"extractor": "aria.features.symbolic.extract_item"})
    schema = table_schema(specs, metadata=table_metadata(cs, fp))
    result = extract_table(items, extract_item, cs, specs=specs, schema=schema, out=out,
                           resume=resume, workers=workers, progress=progress, shard_size=shard_size,
                           scheduler=scheduler, client=client)
    return result.table.to_pandas()
