"""Fixed-seed Johnson-Lindenstrauss signatures, cosine scores and shares (spec section 8).

From the gradient-signature notes (``003``): high-dimensional activations or gradients are
projected to ``k = 512`` dimensions with a Gaussian matrix whose entries are ``N(0, 1) / sqrt(k)``
(seed 422024 by default), L2-normalized, and compared by cosine (a dot product of unit
vectors). The per-query **share** of a training item is its positive score over the sum of the
query's positive scores. The notes keep two **rights channels**, each with its own signature
set: composition (publishing; "Channel P", attention layers / encoder) and recording (master;
"Channel M", feed-forward layers / decoder); shares are computed per channel.
:func:`cosine_scores` is also the embedding baseline of the Aria paper (App. A.1, Eq. 15).

Reproducibility: row ``i`` of the ``d x k`` projection comes from block ``i // 4096`` of
``numpy.random.default_rng([seed, block])`` (``standard_normal``, float64, row-major), so any
slice of rows is generated on its own and equals the same rows of the whole matrix: the same
seed gives the same matrix whatever the chunking, and a longer input extends a shorter one.
(The notes' code draws from ``torch.manual_seed``; this generator is NumPy's, so signatures are
reproducible with Aria, not bit-compatible with that code.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from aria.errors import AriaInputError
from aria.io.validate import validate_dtype
from aria.params import Interval, validate_params

__all__ = [
    "JL_SEED", "JL_DIM", "RIGHTS_CHANNELS", "jl_projection", "jl_signatures", "cosine_scores",
    "shares", "RightsAttribution", "rights_attribution",
]

#: Default seed of the projection (the notes' ``jl_seed``).
JL_SEED = 422024
#: Default signature dimension.
JL_DIM = 512
#: Input dimensions generated per independent random stream.
BLOCK_ROWS = 4096
#: Rows of ``X`` per projection product in :func:`jl_signatures`, aligned to absolute row indices
#: (fixed, so that the result does not depend on ``chunk_rows``).
SIG_ROW_BLOCK = 256
#: The two rights channels of the notes: composition (publishing) and recording (master).
RIGHTS_CHANNELS = ("composition", "recording")


@validate_params({"d": Interval(int, 1, None), "k": Interval(int, 1, None), "seed": "seed",
                  "start": Interval(int, 0, None), "stop": [None, Interval(int, 0, None)]})
def jl_projection(d: int, k: int = JL_DIM, seed: int = JL_SEED, *, start: int = 0,
                  stop: int | None = None) -> np.ndarray:
    """Rows ``start:stop`` of the ``d x k`` Gaussian projection, entries ``N(0, 1) / sqrt(k)``.

    Parameters
    ----------
    d : int
        Input dimension (rows of the whole matrix).
    k : int
        Signature dimension.
    seed : int
        Seed (non-negative).
    start, stop : int
        Row range (default: all ``d`` rows). Any range equals the same rows of the whole matrix.

    Returns
    -------
    numpy.ndarray
        (stop - start, k) float64.

    Examples
    --------
    >>> from aria.signatures import jl_projection
    >>> p = jl_projection(10, k=4, seed=1)
    >>> bool((jl_projection(10, k=4, seed=1, start=3, stop=7) == p[3:7]).all())
    True
    """
    d = int(d)
    k = int(k)
    seed = int(seed)
    stop = d if stop is None else int(stop)
    if not 0 <= start <= stop <= d:
        raise AriaInputError(f"rows {start}:{stop} are outside 0:{d}")
    out = np.empty((stop - start, k), dtype=np.float64)
    scale = 1.0 / math.sqrt(k)
    for block in range(start // BLOCK_ROWS, -(-stop // BLOCK_ROWS) if stop > start else start // BLOCK_ROWS):
        b0 = block * BLOCK_ROWS
        rows = min(BLOCK_ROWS, d - b0)
        g = np.random.default_rng([seed, block]).standard_normal((rows, k))
        lo, hi = max(start, b0), min(stop, b0 + rows)
        out[lo - start:hi - start] = g[lo - b0:hi - b0] * scale
    return out


def _as_matrix(x: object, name: str) -> np.ndarray:
    arr = np.asarray(getattr(x, "values", x))
    validate_dtype(arr.dtype, name)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise AriaInputError(f"{name}: must be a non-empty 2-D array (items x dimensions), "
                             f"got shape {arr.shape}")
    return arr


def _normalize_rows(x: np.ndarray, name: str) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1)
    bad = ~(norms > 0) | ~np.isfinite(norms)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        why = "has zero norm" if np.isfinite(norms[i]) else "holds NaN or infinite values"
        raise AriaInputError(f"{name}: row {i} {why}: its direction (cosine) is undefined")
    return x / norms[:, None]


@validate_params({"k": Interval(int, 1, None), "seed": "seed", "chunk_rows": [None, Interval(int, 1, None)],
                  "dim_block": Interval(int, 1, None)})
def jl_signatures(x: object, k: int = JL_DIM, seed: int = JL_SEED, *, chunk_rows: int | None = None,
                  dim_block: int = BLOCK_ROWS) -> np.ndarray:
    """L2-normalized JL signatures ``normalize(X P)`` of the rows of ``X``.

    The projection is generated ``dim_block`` input dimensions at a time (never whole), and the
    rows of ``X`` are read ``chunk_rows`` at a time (``X`` may be a memory map). Both are memory
    and I/O settings only: the products are always computed on the same blocks, rows
    ``[256 b, 256 (b + 1))`` (:data:`SIG_ROW_BLOCK`, aligned to absolute row indices) times input
    dimensions ``[4096 c, 4096 (c + 1))``, accumulated in increasing ``c``, so the signatures are
    bit-identical for any ``chunk_rows`` and ``dim_block``.

    Parameters
    ----------
    x : array-like
        (n, d) activations or gradients, one row per item.
    k : int
        Signature dimension.
    seed : int
        Projection seed.
    chunk_rows : int, optional
        Rows of ``X`` read per chunk (default: about 64 MiB of float64); rounded up to a multiple
        of 256.
    dim_block : int
        Input dimensions of the projection held in memory at a time; rounded up to a multiple of
        4096 (the size of the projection's independent random streams).

    Returns
    -------
    numpy.ndarray
        (n, k) float64 unit rows.

    See Also
    --------
    jl_projection : the projection, generated ``dim_block`` rows at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.signatures import jl_signatures
    >>> sig = jl_signatures(np.random.default_rng(0).normal(size=(3, 1000)), k=64)
    >>> sig.shape, np.allclose(np.linalg.norm(sig, axis=1), 1.0)
    ((3, 64), True)
    """
    arr = _as_matrix(x, "X")
    n, d = arr.shape
    k = int(k)
    dim_block = -(-int(dim_block) // BLOCK_ROWS) * BLOCK_ROWS
    if chunk_rows is None:
        chunk_rows = max(1, (64 * 2**20) // (8 * min(d, dim_block)))
    chunk_rows = -(-int(chunk_rows) // SIG_ROW_BLOCK) * SIG_ROW_BLOCK
    out = np.zeros((n, k), dtype=np.float64)
    for c0 in range(0, d, dim_block):
        c1 = min(d, c0 + dim_block)
        p = jl_projection(d, k, seed, start=c0, stop=c1)
        for r0 in range(0, n, chunk_rows):
            chunk = np.array(arr[r0:r0 + chunk_rows, c0:c1], dtype=np.float64, order="C")
            if not np.isfinite(chunk).all():
                i, j = np.argwhere(~np.isfinite(chunk))[0]
                raise AriaInputError(f"X: NaN or infinite value at row {r0 + i}, column {c0 + j}")
            for b in range(0, chunk.shape[0], SIG_ROW_BLOCK):
                rows = out[r0 + b:r0 + b + SIG_ROW_BLOCK]
                for j in range(0, c1 - c0, BLOCK_ROWS):
                    rows += chunk[b:b + SIG_ROW_BLOCK, j:j + BLOCK_ROWS] @ p[j:j + BLOCK_ROWS]
    return _normalize_rows(out, "X projected")


def cosine_scores(train: object, queries: object) -> np.ndarray:
    """Cosine similarity between every training item and every query: the train x query matrix.

    Rows are L2-normalized first (signatures already are), so this is also the embedding
    baseline of the Aria paper (Eq. 15) on raw embeddings.

    Parameters
    ----------
    train : array-like
        (N, k) training signatures or embeddings.
    queries : array-like
        (Q, k) query signatures or embeddings (same k).

    Returns
    -------
    numpy.ndarray
        (N, Q) float64 scores in [-1, 1], ready for :func:`aria.scores_from_array`.

    Examples
    --------
    >>> from aria.signatures import cosine_scores
    >>> cosine_scores([[1.0, 0.0], [1.0, 1.0]], [[2.0, 0.0]]).round(4).tolist()
    [[1.0], [0.7071]]
    """
    a = _normalize_rows(np.asarray(_as_matrix(train, "train"), dtype=np.float64), "train")
    b = _normalize_rows(np.asarray(_as_matrix(queries, "queries"), dtype=np.float64), "queries")
    if a.shape[1] != b.shape[1]:
        raise AriaInputError(f"train has {a.shape[1]} dimensions but queries have {b.shape[1]}")
    return np.clip(a @ b.T, -1.0, 1.0)


def shares(scores: object) -> np.ndarray:
    """Per-query shares: positive scores over the sum of the query's positive scores.

    ``share[i, q] = max(S[i, q], 0) / sum_i max(S[i, q], 0)``; each column sums to 1. A query
    without any positive score has no share to give: its column is NaN.

    Parameters
    ----------
    scores : array-like
        (N, Q) training items x queries.

    Returns
    -------
    numpy.ndarray
        (N, Q) float64 shares in [0, 1].

    Examples
    --------
    >>> from aria.signatures import shares
    >>> shares([[0.6, -1.0], [0.2, -2.0], [-0.4, -0.5]]).round(4).tolist()
    [[0.75, nan], [0.25, nan], [0.0, nan]]
    """
    s = np.asarray(_as_matrix(scores, "scores"), dtype=np.float64)
    if not np.isfinite(s).all():
        raise AriaInputError("scores: NaN or infinite values")
    pos = np.clip(s, 0.0, None)
    total = pos.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, pos / np.where(total > 0, total, 1.0), np.nan)


@dataclass
class RightsAttribution:
    """Signatures, cosine scores and shares per rights channel.

    Attributes
    ----------
    channels : tuple of str
        Channel names (``composition``, ``recording`` by default).
    train_signatures, query_signatures : dict of str -> numpy.ndarray
        Unit signatures per channel ((N, k) and (Q, k)).
    scores : dict of str -> numpy.ndarray
        (N, Q) cosine scores per channel.
    shares : dict of str -> numpy.ndarray
        (N, Q) shares per channel (each column sums to 1, or NaN).
    parameters : dict
        ``k``, ``seed`` and whether the inputs were projected.

    Examples
    --------
    >>> import numpy as np
    >>> from aria.signatures import rights_attribution
    >>> train = {"composition": np.eye(3), "recording": np.eye(3)[::-1]}
    >>> res = rights_attribution(train, {"composition": [[2.0, 1.0, 0.0]], "recording": [[0.0, 0.0, 1.0]]},
    ...                          project=False)
    >>> res.shares["composition"][:, 0].round(4).tolist(), res.shares["recording"][:, 0].tolist()
    ([0.6667, 0.3333, 0.0], [1.0, 0.0, 0.0])
    >>> res.top_shares(1)[0]["item"]
    0
    """

    channels: tuple[str, ...]
    train_signatures: dict[str, np.ndarray] = field(repr=False)
    query_signatures: dict[str, np.ndarray] = field(repr=False)
    scores: dict[str, np.ndarray] = field(repr=False)
    shares: dict[str, np.ndarray] = field(repr=False)
    parameters: dict = field(default_factory=dict)

    def top_shares(self, n: int = 5) -> list[dict]:
        """Long records ``channel, query, rank, item, share, score`` of each query's ``n`` largest shares."""
        rows = []
        for ch in self.channels:
            sh, sc = self.shares[ch], self.scores[ch]
            n_eff = min(n, sh.shape[0])
            for q in range(sh.shape[1]):
                col = np.nan_to_num(sh[:, q], nan=-1.0)
                order = np.argsort(-col, kind="stable")[:n_eff]
                for rank, i in enumerate(order, start=1):
                    rows.append({"channel": ch, "query": q, "rank": rank, "item": int(i),
                                 "share": float(sh[i, q]), "score": float(sc[i, q])})
        return rows


@validate_params({"k": Interval(int, 1, None), "seed": "seed", "project": "boolean",
                  "chunk_rows": [None, Interval(int, 1, None)]})
def rights_attribution(train: Mapping[str, object], queries: Mapping[str, object], *, k: int = JL_DIM,
                       seed: int = JL_SEED, project: bool = True,
                       chunk_rows: int | None = None) -> RightsAttribution:
    """Two rights channels as two signature sets, with cosine scores and shares per channel.

    Parameters
    ----------
    train, queries : mapping of str -> array-like
        Per channel (e.g. ``{"composition": ..., "recording": ...}``), the training items' and
        the queries' activations/gradients (``project=True``) or ready signatures. Both mappings
        name the same channels; a channel's inputs share their dimension.
    k : int
        Signature dimension.
    seed : int
        Projection seed, the same for every channel and for training items and queries (the
        notes: different projections would make signatures incomparable).
    project : bool
        Project with :func:`jl_signatures`; False = the inputs are signatures already (they are
        L2-normalized, not projected).
    chunk_rows : int, optional
        Rows per chunk when projecting.

    Returns
    -------
    RightsAttribution

    Examples
    --------
    >>> import numpy as np
    >>> from aria.signatures import rights_attribution
    >>> rng = np.random.default_rng(0)
    >>> tr = {"composition": rng.normal(size=(4, 50)), "recording": rng.normal(size=(4, 30))}
    >>> qu = {"composition": rng.normal(size=(2, 50)), "recording": rng.normal(size=(2, 30))}
    >>> res = rights_attribution(tr, qu, k=16)
    >>> res.channels, res.shares["recording"].shape
    (('composition', 'recording'), (4, 2))
    """
    if set(train) != set(queries):
        raise AriaInputError(f"train channels {sorted(train)} and query channels {sorted(queries)} differ")
    if not train:
        raise AriaInputError("give at least one channel")
    channels = tuple(c for c in RIGHTS_CHANNELS if c in train) + tuple(c for c in train
                                                                      if c not in RIGHTS_CHANNELS)
    tsig, qsig, sc, sh = {}, {}, {}, {}
    n_q = n_t = None
    for ch in channels:
        a = _as_matrix(train[ch], f"train[{ch}]")
        b = _as_matrix(queries[ch], f"queries[{ch}]")
        if a.shape[1] != b.shape[1]:
            raise AriaInputError(f"channel {ch}: training inputs have {a.shape[1]} dimensions, queries "
                                 f"{b.shape[1]}")
        if n_q is not None and b.shape[0] != n_q:
            raise AriaInputError(f"channel {ch}: {b.shape[0]} queries, another channel has {n_q}")
        if n_t is not None and a.shape[0] != n_t:
            raise AriaInputError(f"channel {ch}: {a.shape[0]} training items, another channel has {n_t}")
        n_q, n_t = b.shape[0], a.shape[0]
        if project:
            tsig[ch] = jl_signatures(a, k, seed, chunk_rows=chunk_rows)
            qsig[ch] = jl_signatures(b, k, seed, chunk_rows=chunk_rows)
        else:
            tsig[ch] = _normalize_rows(np.asarray(a, dtype=np.float64), f"train[{ch}]")
            qsig[ch] = _normalize_rows(np.asarray(b, dtype=np.float64), f"queries[{ch}]")
        sc[ch] = cosine_scores(tsig[ch], qsig[ch])
        sh[ch] = shares(sc[ch])
    return RightsAttribution(channels, tsig, qsig, sc, sh,
                             {"k": k if project else None, "seed": seed if project else None,
                              "projected": project})
