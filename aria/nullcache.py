"""On-disk cache of random-reference nulls.

A null depends only on (pool, features, similarity mapping, K, R, seed); its
key (:func:`aria.homogeneity.null_key`) hashes all of them, so a cached null
is reused across queries, normalizations and methods scored on the same
training set. Entries are ``null-<key>.npz`` files holding numeric arrays
only (read with ``allow_pickle=False``), written atomically; an unreadable or
mismatching entry is ignored and recomputed.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from aria._atomic import atomic_path

__all__ = ["NullCache", "default_cache_dir"]


def default_cache_dir() -> Path:
    """``$ARIA_CACHE_DIR``, else ``$XDG_CACHE_HOME/aria/nulls``, else ``~/.cache/aria/nulls``.

    Returns
    -------
    pathlib.Path
    """
    env = os.environ.get("ARIA_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aria" / "nulls"


class NullCache:
    """Directory of cached nulls.

    Parameters
    ----------
    directory : path-like
        Cache directory (created on first write).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        """File of one entry."""
        return self.directory / f"null-{key}.npz"

    def load(self, key: str, k: int, n_groups: int, seed: int, features: tuple[str, ...],
             channels: tuple[str, ...]):
        """Return the cached :class:`~aria.homogeneity.NullDistribution`, or None.

        Parameters
        ----------
        key : str
            Cache key.
        k, n_groups, seed : int
            Expected parameters (checked against the entry).
        features, channels : tuple of str
            Expected labels (checked against the entry).
        """
        from aria.homogeneity import NullDistribution

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

    def save(self, null) -> Path | None:
        """Store a null (skipped when it has no key, i.e. was drawn from a caller's generator)."""
        if null.key is None:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        p = self.path(null.key)
        with atomic_path(p) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, feature_values=null.feature_values, channel_values=null.channel_values,
                         features=np.asarray(null.features, dtype=str),
                         channels=np.asarray(null.channels, dtype=str),
                         meta=np.asarray([null.k, null.n_groups, null.seed], dtype=np.int64))
        return p
