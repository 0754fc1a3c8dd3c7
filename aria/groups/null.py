"""Random-reference nulls of H per K (spec section 3), and their on-disk cache.

The null of group size K: ``R`` groups of K distinct pool tracks drawn
uniformly with ``numpy.random.default_rng([seed, K])`` (so the null of one K
does not depend on which other K are swept); ``mu`` and ``sd`` (``ddof = 1``)
of ``H`` over those groups, per feature and per channel.

A null depends only on (pool, features, similarity mapping, K, R, seed); its
key (:func:`null_key`) hashes all of them, so a cached null is reused across
queries, normalizations and methods scored on the same training set. Cache
entries are ``null-<key>.npz`` files holding numeric arrays only (read with
``allow_pickle=False``), written atomically; an unreadable or mismatching
entry is ignored and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from aria.errors import AriaInputError
from aria.groups.pool import PoolSimilarity
from aria.groups.topk import group_similarity, random_groups
from aria.io.atomic import atomic_path
from aria.params import InstanceOf, Interval, SequenceOf, validate_params

__all__ = [
    "NULL_ALGORITHM_VERSION", "NullDistribution", "null_key", "compute_null", "NullStore",
    "null_distributions", "stored_null", "default_cache_dir", "NullCache",
]

#: Bumped whenever the null computation changes (part of the cache key).
NULL_ALGORITHM_VERSION = 1


def _null_stat(values: str, stat: str, what: str) -> property:
    """Read-only property: ``mu`` or ``sd`` of the attribute ``values`` over the R random groups.

    ``stat="mean"``: the mean over axis 0; ``stat="sd"``: the standard deviation (``ddof = 1``).
    """
    if stat == "mean":
        def get(self) -> np.ndarray:
            return getattr(self, values).mean(axis=0)
    else:
        def get(self) -> np.ndarray:
            return getattr(self, values).std(axis=0, ddof=1)
    suffix = "" if stat == "mean" else " (``ddof = 1``)"
    return property(get, doc=f"{what} over the R random groups{suffix}.")


@dataclass
class NullDistribution:
    """Random-reference null of one group size.

    Attributes
    ----------
    k : int
        Group size.
    n_groups : int
        ``R``.
    seed : int or None
        Seed of ``default_rng([seed, k])``; None when a caller's generator was used.
    features, channels : tuple of str
        Labels of the columns below.
    feature_values : numpy.ndarray
        (R, F) ``H_f`` of each random group.
    channel_values : numpy.ndarray
        (R, C) ``H_c`` of each random group.
    key : str or None
        Cache key (None when not cacheable).
    from_cache : bool
        Whether it was read from the cache.

    Examples
    --------
    >>> import aria
    >>> null = aria.examples.tiny().homogeneity(null_groups=50).nulls[3]
    >>> null.k, null.n_groups, null.seed, null.channels
    (3, 50, 0, ('a',))
    >>> null.channel_values.shape, null.channel_mean.round(2), null.channel_sd.round(2)
    ((50, 1), array([0.5]), array([0.08]))
    """

    k: int
    n_groups: int
    seed: int | None
    features: tuple[str, ...]
    channels: tuple[str, ...]
    feature_values: np.ndarray
    channel_values: np.ndarray
    key: str | None = None
    from_cache: bool = False

    feature_mean = _null_stat("feature_values", "mean", "``mu_f`` (F,): mean of ``H_f``")
    feature_sd = _null_stat("feature_values", "sd", "``sd_f`` (F,): sd of ``H_f``")
    channel_mean = _null_stat("channel_values", "mean", "``mu_c`` (C,): mean of ``H_c``")
    channel_sd = _null_stat("channel_values", "sd", "``sd_c`` (C,): sd of ``H_c``")

    def to_frame(self) -> pd.DataFrame:
        """Rows per channel and feature: ``k, level, name, mean, sd, n_groups``."""
        rows = [{"k": self.k, "level": "channel", "name": c, "mean": m, "sd": s, "n_groups": self.n_groups}
                for c, m, s in zip(self.channels, self.channel_mean, self.channel_sd, strict=True)]
        rows += [{"k": self.k, "level": "feature", "name": f, "mean": m, "sd": s, "n_groups": self.n_groups}
                 for f, m, s in zip(self.features, self.feature_mean, self.feature_sd, strict=True)]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """JSON-ready summary (means and sds, not the R values)."""
        return {
            "k": self.k, "n_groups": self.n_groups, "seed": self.seed, "key": self.key,
            "from_cache": self.from_cache,
            "channel_mean": dict(zip(self.channels, self.channel_mean.tolist(), strict=True)),
            "channel_sd": dict(zip(self.channels, self.channel_sd.tolist(), strict=True)),
            "feature_mean": dict(zip(self.features, self.feature_mean.tolist(), strict=True)),
            "feature_sd": dict(zip(self.features, self.feature_sd.tolist(), strict=True)),
        }


def null_key(psim: PoolSimilarity, k: int, n_groups: int, seed: int) -> str:
    """Cache key of a null: hash of (pool fingerprint, K, R, seed, algorithm version).

    Examples
    --------
    >>> import aria
    >>> from aria.groups.null import null_key
    >>> from aria.groups.pool import PoolSimilarity
    >>> psim = PoolSimilarity(aria.examples.tiny().features)
    >>> key = null_key(psim, 3, 200, 0)
    >>> key == null_key(psim, 3, 200, 0), key == null_key(psim, 3, 200, 1)
    (True, False)
    """
    payload = json.dumps({"pool": psim.fingerprint(), "k": int(k), "n_groups": int(n_groups),
                          "seed": int(seed), "version": NULL_ALGORITHM_VERSION}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


@validate_params({"psim": PoolSimilarity, "k": Interval(int, 2, None), "n_groups": Interval(int, 2, None),
                  "seed": [None, "seed"], "rng": [None, InstanceOf(np.random.Generator)],
                  "workers": Interval(int, 1, None)})
def compute_null(psim: PoolSimilarity, k: int, n_groups: int = 1000, *, seed: int | None = 0,
                 rng: np.random.Generator | None = None, workers: int = 1) -> NullDistribution:
    """Sample the random-reference null of group size ``k`` (spec section 3).

    ``R = n_groups`` groups of ``k`` distinct pool tracks, each drawn uniformly without
    replacement (:func:`~aria.groups.topk.random_groups`); ``H_f`` of each group
    (:func:`~aria.groups.topk.group_similarity`) and ``H_c`` (channel means). ``mu`` and ``sd``
    are the properties of the returned :class:`NullDistribution`.

    Parameters
    ----------
    psim : PoolSimilarity
        Pool similarities.
    k : int
        Group size (2 <= k <= pool size).
    n_groups : int
        ``R`` (>= 2).
    seed : int, optional
        Groups are drawn with ``numpy.random.default_rng([seed, k])``.
    rng : numpy.random.Generator, optional
        Use this generator instead of ``seed`` (the result is then not cacheable).
    workers : int
        Threads.

    Returns
    -------
    NullDistribution
        With the ``R`` values of ``H_f`` and ``H_c``.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.groups.null import compute_null
    >>> psim = aria.examples.tiny().prepare().similarity
    >>> a, b = compute_null(psim, 3, 200, seed=0), compute_null(psim, 3, 200, seed=0)
    >>> a.channel_values.shape, bool(np.array_equal(a.channel_values, b.channel_values))
    ((200, 1), True)
    >>> a.channel_mean.round(3), a.channel_sd.round(3)
    (array([0.495]), array([0.083]))
    """
    if k > psim.n:
        raise AriaInputError(f"k must lie in 2..{psim.n} (the pool size), got {k}", parameter="k")
    if rng is None:
        if seed is None:
            raise AriaInputError("seed must be given when rng is None", parameter="seed")
        gen = np.random.default_rng([int(seed), int(k)])
        key = null_key(psim, k, n_groups, int(seed))
    else:
        gen, key, seed = rng, None, None
    groups = random_groups(psim.n, k, n_groups, gen)
    hf = group_similarity(psim, groups, workers=workers)
    return NullDistribution(k, n_groups, seed, tuple(psim.features), tuple(psim.channels), hf,
                            psim.channel_means(hf), key=key)


class NullStore(Protocol):
    """Where computed nulls are kept between runs (the engine's only view of the null cache).

    :class:`NullCache` keeps them on disk; any object with these two methods will do.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.null import compute_null
    >>> from aria.groups.pool import PoolSimilarity
    >>> class MemoryStore:
    ...     def __init__(self):
    ...         self.nulls = {}
    ...     def load(self, key, k, n_groups, seed, features, channels):
    ...         return self.nulls.get(key)
    ...     def save(self, null):
    ...         self.nulls[null.key] = null
    ...
    >>> store = MemoryStore()
    >>> null = compute_null(PoolSimilarity(aria.examples.tiny().features), 3, 200, seed=0)
    >>> store.save(null)
    >>> store.load(null.key, 3, 200, 0, null.features, null.channels) is null
    True
    """

    def load(self, key: str, k: int, n_groups: int, seed: int, features: tuple[str, ...],
             channels: tuple[str, ...]) -> NullDistribution | None:
        """The stored null of ``key`` when it matches the expected parameters, else None."""
        ...

    def save(self, null: NullDistribution) -> object:
        """Store a null (nulls without a key are not stored)."""
        ...


@validate_params({"psim": PoolSimilarity, "k": Interval(int, 2, None), "n_groups": Interval(int, 2, None),
                  "seed": "seed"})
def stored_null(store: NullStore | None, psim: PoolSimilarity, k: int, n_groups: int,
                seed: int) -> NullDistribution | None:
    """The null of (``psim``, ``k``, ``n_groups``, ``seed``) held by ``store``, else None.

    Parameters
    ----------
    store : NullStore or None
        Where nulls are kept (None: nothing is stored).
    psim : PoolSimilarity
        Pool similarities.
    k, n_groups, seed : int
        Group size, ``R`` and seed of the null.

    Returns
    -------
    NullDistribution or None
        None when ``store`` is None or does not hold a matching null.

    Examples
    --------
    >>> import aria
    >>> import tempfile
    >>> from aria.groups.null import NullCache, stored_null
    >>> t = aria.examples.tiny()
    >>> cache, psim = NullCache(tempfile.mkdtemp()), t.prepare().similarity
    >>> stored_null(cache, psim, 3, 200, 0) is None  # nothing stored yet
    True
    >>> _ = t.homogeneity(cache_dir=cache.directory)  # computes the null of K = 3 and stores it
    >>> stored_null(cache, psim, 3, 200, 0).from_cache
    True
    """
    if store is None:
        return None
    return store.load(null_key(psim, k, n_groups, seed), k, n_groups, seed, tuple(psim.features),
                      tuple(psim.channels))


@validate_params({"psim": PoolSimilarity, "ks": SequenceOf(Interval(int, 2, None), min_len=0),
                  "n_groups": Interval(int, 2, None), "seed": "seed",
                  "rng": [None, InstanceOf(np.random.Generator)], "workers": Interval(int, 1, None),
                  "progress": [None, "callable"]})
def null_distributions(
    psim: PoolSimilarity,
    ks: Sequence[int],
    n_groups: int = 1000,
    *,
    seed: int = 0,
    rng: np.random.Generator | None = None,
    store: NullStore | None = None,
    workers: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[int, NullDistribution]:
    """The null of every K, read from ``store`` when it holds it, else computed (and stored).

    Parameters
    ----------
    psim : PoolSimilarity
        Pool similarities.
    ks : sequence of int
        Group sizes, in the order to draw them (matters only with ``rng``).
    n_groups : int
        ``R`` per K.
    seed : int
        Seed of ``default_rng([seed, K])``.
    rng : numpy.random.Generator, optional
        Draw every null from this generator instead, one K after the other; the store is then
        neither read nor written.
    store : NullStore, optional
        Cache of nulls (e.g. :class:`NullCache`); None = compute every null.
    workers : int
        Threads.
    progress : callable, optional
        ``progress("null K=<k>", i, len(ks))`` before each K.

    Returns
    -------
    dict of int -> NullDistribution
        In the order of ``ks``.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.null import null_distributions
    >>> from aria.groups.pool import PoolSimilarity
    >>> nulls = null_distributions(PoolSimilarity(aria.examples.tiny().features), [2, 3], n_groups=50)
    >>> sorted(nulls), nulls[3].channel_values.shape
    ([2, 3], (50, 1))
    """
    if rng is not None:
        store = None
    out: dict[int, NullDistribution] = {}
    for i, k in enumerate(ks):
        if progress is not None:
            progress(f"null K={k}", i, len(ks))
        null = stored_null(store, psim, k, n_groups, seed)
        if null is None:
            null = compute_null(psim, k, n_groups, seed=seed, rng=rng, workers=workers)
            if store is not None:
                store.save(null)
        out[k] = null
    return out


def default_cache_dir() -> Path:
    """``$ARIA_CACHE_DIR``, else ``$XDG_CACHE_HOME/aria/nulls``, else ``~/.cache/aria/nulls``.

    Returns
    -------
    pathlib.Path
        Not created here (:class:`NullCache` creates it on first write).

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from aria.groups.null import default_cache_dir
    >>> with mock.patch.dict(os.environ, {"ARIA_CACHE_DIR": "/tmp/aria-nulls"}):
    ...     print(default_cache_dir())
    ...
    /tmp/aria-nulls
    """
    env = os.environ.get("ARIA_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aria" / "nulls"


class NullCache:
    """Directory of cached nulls (a :class:`NullStore` on disk).

    Parameters
    ----------
    directory : path-like
        Cache directory (created on first write).

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> first = aria.examples.tiny().homogeneity(cache_dir=d)
    >>> again = aria.examples.tiny().homogeneity(cache_dir=d)
    >>> first.nulls[3].from_cache, again.nulls[3].from_cache
    (False, True)
    >>> bool(np.array_equal(first.nulls[3].channel_values, again.nulls[3].channel_values))
    True
    """

    @validate_params({"directory": "path"})
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        #: One line per entry that could not be written (see :meth:`save`).
        self.warnings: list[str] = []

    def path(self, key: str) -> Path:
        """File of one entry."""
        return self.directory / f"null-{key}.npz"

    def load(self, key: str, k: int, n_groups: int, seed: int, features: tuple[str, ...],
             channels: tuple[str, ...]) -> NullDistribution | None:
        """Return the cached :class:`NullDistribution`, or None.

        Parameters
        ----------
        key : str
            Cache key.
        k, n_groups, seed : int
            Expected parameters (checked against the entry).
        features, channels : tuple of str
            Expected labels (checked against the entry).
        """
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                fv = np.asarray(z["feature_values"], dtype=np.float64)
                cv = np.asarray(z["channel_values"], dtype=np.float64)
                feats = tuple(str(x) for x in z["features"])
                chans = tuple(str(x) for x in z["channels"])
                meta = np.asarray(z["meta"], dtype=np.int64)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            return None
        if (feats != tuple(features) or chans != tuple(channels)
                or fv.shape != (n_groups, len(features)) or cv.shape != (n_groups, len(channels))
                or meta.tolist() != [k, n_groups, seed]):
            return None
        return NullDistribution(k, n_groups, seed, feats, chans, fv, cv, key=key, from_cache=True)

    def save(self, null: NullDistribution) -> Path | None:
        """Store a null (skipped when it has no key, i.e. was drawn from a caller's generator).

        A cache that cannot be written (read-only, full, not a directory) never fails the
        analysis that computed the null: the entry is skipped, None is returned and one line
        saying why is appended to :attr:`warnings` (the homogeneity result carries it).
        Entries are written to a temporary file and renamed into place, so processes sharing a
        cache directory never see a partial entry; two processes computing the same null write
        the same arrays.
        """
        if null.key is None:
            return None
        p = self.path(null.key)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with atomic_path(p) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, feature_values=null.feature_values, channel_values=null.channel_values,
                             features=np.asarray(null.features, dtype=str),
                             channels=np.asarray(null.channels, dtype=str),
                             meta=np.asarray([null.k, null.n_groups, null.seed], dtype=np.int64))
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            where = exc.filename if exc.filename is not None else self.directory
            self.warnings.append(f"null cache not written ({where}: {reason}); the null of K = {null.k} "
                                 "will be computed again next time")
            return None
        return p
