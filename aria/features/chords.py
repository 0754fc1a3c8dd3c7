"""Chord labels -> roots -> root motions, and ragged integer sequences (the chord-progression channel).

Root motion ``(r[t+1] - r[t]) mod 12`` of consecutive distinct chord roots makes a progression
transposition-invariant; no-chord labels (``N``, ``X``, ``N.C.``, ``NC``) are dropped and repeats merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from aria.errors import AriaInputError

_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


_ROOT_RE = re.compile(r"^([A-G])([#b\u266f\u266d]*)")


#: Labels meaning "no chord" (dropped before root motions are taken).
NO_CHORD = frozenset({"N", "X", "N.C.", "NC"})


@dataclass
class Sequences:
    """Ragged integer sequences (root motions), one per track.

    Attributes
    ----------
    values : numpy.ndarray
        All symbols concatenated, uint8 in 0..11.
    offsets : numpy.ndarray
        int64, length ``n + 1``; sequence ``i`` is ``values[offsets[i]:offsets[i+1]]``.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.features.chords import Sequences
    >>> seqs = Sequences(values=np.array([5, 7, 5, 2, 9]), offsets=np.array([0, 3, 5]))
    >>> len(seqs.offsets) - 1
    2
    """

    values: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.offsets.size - 1)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i]:self.offsets[i + 1]]

    @property
    def lengths(self) -> np.ndarray:
        """Length of each sequence."""
        return np.diff(self.offsets)

    def take(self, index: np.ndarray) -> Sequences:
        """Sequences ``index`` (in that order) as a new :class:`Sequences`."""
        index = np.asarray(index, dtype=np.int64)
        lens = self.lengths[index]
        offsets = np.zeros(index.size + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        starts = self.offsets[:-1][index]
        flat = np.repeat(starts - offsets[:-1], lens) + np.arange(offsets[-1], dtype=np.int64)
        return Sequences(self.values[flat], offsets)

    @classmethod
    def from_list(cls, seqs: list) -> Sequences:
        """Build from a list of integer sequences (values taken modulo 12)."""
        lens = np.array([len(s) for s in seqs], dtype=np.int64)
        offsets = np.zeros(lens.size + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        vals = (np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs]) if lens.sum()
                else np.zeros(0, dtype=np.int64))
        return cls(np.mod(vals, 12).astype(np.uint8), offsets)


def chord_root(label: str) -> int | None:
    """Pitch class of a chord label's root, or None for no-chord.

    Accepts Chordino/Harte style labels: ``"C"``, ``"F#m"``, ``"Bb7"``,
    ``"C:maj"``, ``"A:min7/b3"``, ``"Gb/Bb"`` (root before the slash).
    ``"N"``/``"X"`` mean no chord.

    Parameters
    ----------
    label : str
        Chord label.

    Returns
    -------
    int or None
        Root pitch class 0..11, None for no chord.

    Raises
    ------
    AriaInputError
        The label does not start with a note name A-G (a ``ValueError``).

    Examples
    --------
    >>> from aria.features.chords import chord_root
    >>> chord_root("C"), chord_root("F#:min"), chord_root("Bb7"), chord_root("N")
    (0, 6, 10, None)
    """
    s = label.strip()
    if s in NO_CHORD:
        return None
    m = _ROOT_RE.match(s)
    if m is None:
        raise AriaInputError(f"cannot parse a chord root from {label!r}", parameter="label")
    acc = m.group(2)
    shift = acc.count("#") + acc.count("\u266f") - acc.count("b") - acc.count("\u266d")
    return (_PITCH[m.group(1)] + shift) % 12


def roots_to_motions(roots: np.ndarray) -> np.ndarray:
    """Root motions ``(r[t+1] - r[t]) mod 12`` after merging consecutive repeats.

    Parameters
    ----------
    roots : numpy.ndarray
        Root pitch classes (no-chords already dropped).

    Returns
    -------
    numpy.ndarray
        uint8 motions, one fewer than the merged roots (empty for < 2 roots).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.features.chords import roots_to_motions
    >>> roots_to_motions(np.array([0, 0, 7, 9, 5])).tolist()
    [7, 2, 8]
    """
    r = np.asarray(roots, dtype=np.int64)
    if r.size:
        r = r[np.concatenate(([True], r[1:] != r[:-1]))]
    return np.mod(np.diff(r), 12).astype(np.uint8)


def labels_to_root_motions(labels: list[str]) -> np.ndarray:
    """Chord labels -> roots (no-chord dropped, repeats merged) -> root motions mod 12.

    Parameters
    ----------
    labels : list of str
        Chord labels in time order.

    Returns
    -------
    numpy.ndarray
        uint8 root motions.

    Examples
    --------
    >>> from aria.features.chords import labels_to_root_motions
    >>> labels_to_root_motions(["C", "C", "G", "N", "A:min", "F"]).tolist()
    [7, 2, 8]
    """
    roots = [r for r in (chord_root(x) for x in labels) if r is not None]
    return roots_to_motions(np.asarray(roots, dtype=np.int64))


def ragged_motions(roots: np.ndarray, offsets: np.ndarray) -> Sequences:
    """Vectorized :func:`roots_to_motions` over many sequences (roots < 0 = no chord).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.features.chords import ragged_motions
    >>> m = ragged_motions(np.array([0, 7, 7, 9, 2, -1, 4]), np.array([0, 4, 7]))
    >>> m.values.tolist(), m.offsets.tolist()
    ([7, 2, 2], [0, 2, 3])
    """
    n = offsets.size - 1
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    keep = roots >= 0
    r, o = roots[keep], owner[keep]
    if r.size:
        first = np.concatenate(([True], (r[1:] != r[:-1]) | (o[1:] != o[:-1])))
        r, o = r[first], o[first]
    same = o[1:] == o[:-1] if r.size else np.zeros(0, dtype=bool)
    motions = np.mod(r[1:] - r[:-1], 12)[same].astype(np.uint8)
    mo = o[1:][same]
    counts = np.bincount(mo, minlength=n)
    new_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=new_off[1:])
    return Sequences(motions, new_off)
