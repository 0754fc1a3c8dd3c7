"""Pairwise similarities between tracks (spec section 3, App. A.3).

- Vector features: standardized Euclidean distance
  ``d(x, y) = sqrt(sum_j ((x_j - y_j) / s_j)^2)`` with ``s_j`` the standard
  deviation (``ddof = 1``, as :func:`scipy.spatial.distance.pdist` uses for
  ``"seuclidean"``) of dimension ``j`` over the pool of tracks, fixed before
  any query; dimensions with ``s_j = 0`` are dropped. Mapped to a similarity
  ``1 / (1 + d)`` (default, ``mapping="inverse"``) or ``exp(-d)``
  (``mapping="exp"``).
- Chord progressions: root-motion sequences compared by
  ``LCS(a, b) / max(len(a), len(b))`` (0 when either is empty), with the LCS
  length computed by the bit-parallel algorithm of Allison & Dix (1986) in
  Hyyrö's formulation, vectorized over batches of pairs with numpy ``uint64``
  words (one word per 64 symbols of the shorter sequence).

Both similarity objects evaluate arbitrary index pairs ``(ia, ib)`` in batches;
the numbers do not depend on the batch size or on the number of worker
threads.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from aria.errors import AriaInputError
from aria.features.table import Sequences
from aria.params import Interval, SequenceOf, validate_params

__all__ = [
    "MAPPINGS",
    "VectorSimilarity",
    "LCSSimilarity",
    "lcs_length",
    "lcs_similarity",
    "lcs_lengths",
    "distance_to_similarity",
]

#: Distance -> similarity mappings.
MAPPINGS = ("inverse", "exp")

_ALPHABET = 12
_VEC_BATCH_ELEMS = 1 << 21
_LCS_BATCH = 1 << 15


def distance_to_similarity(d: np.ndarray, mapping: str = "inverse") -> np.ndarray:
    """Map distances to similarities: ``1/(1+d)`` (``"inverse"``) or ``exp(-d)`` (``"exp"``).

    Parameters
    ----------
    d : numpy.ndarray
        Non-negative distances.
    mapping : str
        ``"inverse"`` or ``"exp"``.

    Returns
    -------
    numpy.ndarray
        Similarities in (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.similarity import distance_to_similarity
    >>> distance_to_similarity(np.array([0.0, 1.0, 3.0])).tolist()
    [1.0, 0.5, 0.25]
    >>> distance_to_similarity(np.array([0.0, 1.0]), "exp").round(4).tolist()
    [1.0, 0.3679]
    """
    if mapping == "inverse":
        return 1.0 / (1.0 + d)
    if mapping == "exp":
        return np.exp(-d)
    raise AriaInputError(f"mapping must be one of {', '.join(map(repr, MAPPINGS))}, got {mapping!r}",
                         parameter="mapping")


def _run_batches(n: int, batch: int, fn: Callable[[int, int], None], workers: int) -> None:
    """Call ``fn(start, stop)`` over ``range(0, n, batch)``, in threads when ``workers > 1``."""
    bounds = [(s, min(n, s + batch)) for s in range(0, n, batch)]
    if workers <= 1 or len(bounds) <= 1:
        for s, e in bounds:
            fn(s, e)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for fut in [pool.submit(fn, s, e) for s, e in bounds]:
            fut.result()


class VectorSimilarity:
    """Standardized-Euclidean similarity of one vector feature over a fixed pool.

    Parameters
    ----------
    values : numpy.ndarray
        Pool values, shape (n_tracks, dim), finite.
    mapping : str
        ``"inverse"`` (``1/(1+d)``) or ``"exp"`` (``exp(-d)``).

    Attributes
    ----------
    scale : numpy.ndarray
        ``s_j`` per dimension (``ddof = 1``), shape (dim,).
    kept : numpy.ndarray
        Indices of the dimensions with ``s_j > 0`` (the others are dropped).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.similarity import VectorSimilarity
    >>> v = VectorSimilarity(np.array([[0.0], [1.0], [2.0]]))
    >>> d = v.distances(np.array([0, 0]), np.array([1, 2]))
    >>> d.round(3).tolist()
    [1.0, 2.0]
    >>> bool(np.allclose(v.pairs(np.array([0, 0]), np.array([1, 2])), 1 / (1 + d)))
    True
    """

    def __init__(self, values: np.ndarray, mapping: str = "inverse") -> None:
        x = np.asarray(values, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if mapping not in MAPPINGS:
            raise AriaInputError(f"mapping must be one of {', '.join(map(repr, MAPPINGS))}, got {mapping!r}",
                                 parameter="mapping")
        self.mapping = mapping
        self.scale = x.std(axis=0, ddof=1) if x.shape[0] > 1 else np.zeros(x.shape[1])
        self.kept = np.flatnonzero(self.scale > 0)
        self._z = np.ascontiguousarray(x[:, self.kept] / self.scale[self.kept])

    @property
    def n_dropped(self) -> int:
        """Number of dimensions dropped because ``s_j = 0``."""
        return int(self.scale.size - self.kept.size)

    def distances(self, ia: np.ndarray, ib: np.ndarray, *, workers: int = 1) -> np.ndarray:
        """Standardized Euclidean distances of the pairs ``(ia[k], ib[k])``."""
        ia = np.asarray(ia, dtype=np.int64)
        ib = np.asarray(ib, dtype=np.int64)
        out = np.zeros(ia.size, dtype=np.float64)
        dim = self._z.shape[1]
        if dim == 0 or ia.size == 0:
            return out
        z = self._z
        batch = max(1, _VEC_BATCH_ELEMS // dim)

        def work(s: int, e: int) -> None:
            diff = z[ia[s:e]]
            diff -= z[ib[s:e]]
            out[s:e] = np.sqrt(np.einsum("ij,ij->i", diff, diff))

        _run_batches(ia.size, batch, work, workers)
        return out

    def pairs(self, ia: np.ndarray, ib: np.ndarray, *, workers: int = 1) -> np.ndarray:
        """Similarities of the pairs ``(ia[k], ib[k])``."""
        return distance_to_similarity(self.distances(ia, ib, workers=workers), self.mapping)


# ---------------------------------------------------------------------------------------------
# LCS


def lcs_length(a: np.ndarray | list, b: np.ndarray | list) -> int:
    """Length of the longest common subsequence (bit-parallel, Python integers).

    Parameters
    ----------
    a, b : sequence of int
        Symbol sequences.

    Returns
    -------
    int
        Length of the longest common subsequence.

    Examples
    --------
    >>> from aria.groups.similarity import lcs_length
    >>> lcs_length([5, 7, 5, 2], [5, 5, 2]), lcs_length("ABCBDAB", "BDCABA")
    (3, 4)
    """
    a = list(a)
    b = list(b)
    if len(a) > len(b):
        a, b = b, a
    m = len(a)
    if m == 0:
        return 0
    masks: dict = {}
    for i, c in enumerate(a):
        masks[c] = masks.get(c, 0) | (1 << i)
    full = (1 << m) - 1
    v = full
    for c in b:
        u = v & masks.get(c, 0)
        v = ((v + u) | (v - u)) & full
    return m - bin(v).count("1")


@validate_params({"a": SequenceOf(Interval(int, 0, 11), min_len=0),
                  "b": SequenceOf(Interval(int, 0, 11), min_len=0)})
def lcs_similarity(a: np.ndarray | list, b: np.ndarray | list) -> float:
    """``LCS(a, b) / max(len(a), len(b))``, 0 when either sequence is empty.

    Parameters
    ----------
    a, b : sequence of int
        Root-motion sequences (symbols 0..11).

    Returns
    -------
    float
        Between 0 and 1; 1 only for two equal non-empty sequences.

    Examples
    --------
    >>> from aria.groups.similarity import lcs_similarity
    >>> lcs_similarity([5, 7, 5, 2], [5, 5, 2])
    0.75
    >>> lcs_similarity([], [1, 2])
    0.0
    """
    la, lb = len(a), len(b)
    if la == 0 or lb == 0:
        return 0.0
    return lcs_length(a, b) / max(la, lb)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    b = x.view(np.uint8).reshape(*x.shape, 8)  # pragma: no cover - numpy < 2
    return np.unpackbits(b, axis=-1).sum(axis=-1).astype(np.int64)  # pragma: no cover


class LCSSimilarity:
    """Normalized-LCS similarity of root-motion sequences over a fixed pool.

    Precomputes, per track, the match masks ``PM[track, symbol]`` (bit ``p`` set
    when the sequence has ``symbol`` at position ``p``) and a padded symbol
    matrix; :meth:`lengths` then runs the bit-parallel recurrence
    ``U = V & PM[b_t]; V = (V + U) | (V - U)`` for a whole batch of pairs at
    once, with the shorter sequence of each pair as the bit vector.

    Parameters
    ----------
    sequences : Sequences
        Root motions (symbols 0..11) per pool track.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.features.chords import Sequences
    >>> from aria.groups.similarity import LCSSimilarity
    >>> seqs = Sequences(values=np.array([5, 7, 5, 2, 5, 5, 2, 1]), offsets=np.array([0, 4, 7, 8]))
    >>> LCSSimilarity(seqs).pairs(np.array([0, 0]), np.array([1, 2])).tolist()
    [0.75, 0.0]
    """

    def __init__(self, sequences: Sequences) -> None:
        self.lens = sequences.lengths.astype(np.int64)
        n = self.lens.size
        lmax = int(self.lens.max()) if n else 0
        self.n_words = max(1, -(-lmax // 64))
        self._lmax = max(1, lmax)
        sym = np.zeros((n, self._lmax), dtype=np.uint8)
        pm = np.zeros((n, _ALPHABET, self.n_words), dtype=np.uint64)
        vals = np.asarray(sequences.values, dtype=np.int64)
        if vals.size and (vals.min() < 0 or vals.max() >= _ALPHABET):
            raise AriaInputError("sequences must hold root motions in 0..11", parameter="sequences")
        starts = sequences.offsets[:-1]
        for p in range(lmax):
            rows = np.flatnonzero(self.lens > p)
            s = vals[starts[rows] + p]
            sym[rows, p] = s
            pm[rows, s, p // 64] |= np.uint64(1 << (p % 64))
        self._sym = sym.ravel()
        self._pm = pm.reshape(n * _ALPHABET, self.n_words)

    def lengths(self, ia: np.ndarray, ib: np.ndarray, *, batch: int = _LCS_BATCH,
                workers: int = 1) -> np.ndarray:
        """LCS lengths of the pairs ``(ia[k], ib[k])`` (int64)."""
        ia = np.asarray(ia, dtype=np.int64)
        ib = np.asarray(ib, dtype=np.int64)
        la, lb = self.lens[ia], self.lens[ib]
        swap = la > lb
        a = np.where(swap, ib, ia)
        b = np.where(swap, ia, ib)
        la, lb = np.minimum(la, lb), np.maximum(la, lb)
        out = np.zeros(ia.size, dtype=np.int64)
        words = -(-la // 64)
        for w in np.unique(words[words > 0]):
            sel = np.flatnonzero(words == w)
            # longest b first, so that the pairs still running at step t are a prefix
            sel = sel[np.argsort(-lb[sel], kind="stable")]

            def work(s: int, e: int, sel: np.ndarray = sel, w: int = int(w)) -> None:
                idx = sel[s:e]
                out[idx] = self._batch(a[idx], b[idx], la[idx], lb[idx], w)

            _run_batches(sel.size, batch, work, workers)
        return out

    def _batch(self, a: np.ndarray, b: np.ndarray, la: np.ndarray, lb: np.ndarray, w: int) -> np.ndarray:
        n = a.size
        pm = self._pm
        a12 = a * _ALPHABET
        bpos = b * self._lmax
        neg_lb = -lb  # ascending
        if w == 1:
            pmf = pm[:, 0]
            v = np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)
            for t in range(int(lb[0])):
                k = int(np.searchsorted(neg_lb, -t, side="left"))  # pairs with lb > t
                vk = v[:k]
                u = pmf[a12[:k] + self._sym[bpos[:k] + t]]
                u &= vk
                s = vk + u
                vk -= u
                vk |= s
            full = np.where(la >= 64, np.iinfo(np.uint64).max,
                            (np.uint64(1) << np.minimum(la, 63).astype(np.uint64)) - np.uint64(1))
            return la - _popcount(v & full)
        v = np.full((n, w), np.iinfo(np.uint64).max, dtype=np.uint64)
        for t in range(int(lb[0])):
            k = int(np.searchsorted(neg_lb, -t, side="left"))
            vk = v[:k]
            u = pm[a12[:k] + self._sym[bpos[:k] + t], :w]
            u &= vk
            s = np.empty_like(u)
            carry = np.zeros(k, dtype=bool)
            for j in range(w):
                tj = vk[:, j] + u[:, j]
                c1 = tj < vk[:, j]
                t2 = tj + carry.astype(np.uint64)
                carry = c1 | (t2 < tj)
                s[:, j] = t2
            vk -= u
            vk |= s
        word_idx = np.arange(w)
        bits = np.clip(la[:, None] - 64 * word_idx[None, :], 0, 64)
        full = np.where(bits >= 64, np.iinfo(np.uint64).max,
                        (np.uint64(1) << np.minimum(bits, 63).astype(np.uint64)) - np.uint64(1))
        return la - _popcount(v & full).sum(axis=1)

    def pairs(self, ia: np.ndarray, ib: np.ndarray, *, workers: int = 1) -> np.ndarray:
        """Similarities ``LCS / max(len)`` of the pairs ``(ia[k], ib[k])`` (0 if one is empty)."""
        ia = np.asarray(ia, dtype=np.int64)
        ib = np.asarray(ib, dtype=np.int64)
        num = self.lengths(ia, ib, workers=workers).astype(np.float64)
        den = np.maximum(self.lens[ia], self.lens[ib]).astype(np.float64)
        out = np.zeros(ia.size, dtype=np.float64)
        np.divide(num, den, out=out, where=den > 0)
        return out


def lcs_lengths(sequences: Sequences, ia: np.ndarray, ib: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """LCS lengths of pairs of sequences (convenience wrapper of :class:`LCSSimilarity`).

    Parameters
    ----------
    sequences : Sequences
        Symbol sequences (0..11).
    ia, ib : numpy.ndarray
        Pair indices.
    workers : int
        Threads.

    Returns
    -------
    numpy.ndarray
        int64 LCS lengths.

    Examples
    --------
    >>> from aria.groups.similarity import lcs_length, lcs_lengths
    >>> import numpy as np
    >>> from aria.features.chords import Sequences
    >>> seqs = Sequences(values=np.array([5, 7, 5, 2, 5, 5, 2, 1]), offsets=np.array([0, 4, 7, 8]))
    >>> lcs_lengths(seqs, np.array([0, 0, 1]), np.array([1, 2, 2])).tolist()
    [3, 0, 0]
    >>> lcs_length(seqs[0], seqs[1])  # the same length by the textbook recurrence
    3
    """
    return LCSSimilarity(sequences).lengths(ia, ib, workers=workers)
