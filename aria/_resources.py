"""Locating data shipped with Aria (channel-set TOML files, examples)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from aria.errors import AriaInputError


def features_dir() -> Path:
    """Directory holding the shipped channel sets (``audio.toml``, ``symbolic.toml``).

    In a wheel they are installed as the ``aria.channelsets`` package; in a
    source checkout or editable install they are the project's ``features/``.

    Returns
    -------
    pathlib.Path
    """
    try:
        spec = importlib.util.find_spec("aria.channelsets")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        # a data-only namespace package: take its directory directly
        return Path(list(spec.submodule_search_locations)[0])
    candidate = Path(__file__).resolve().parent.parent / "features"
    if candidate.is_dir():
        return candidate
    raise AriaInputError(  # pragma: no cover - broken installation
        "cannot find Aria's channel sets (features/*.toml); reinstall aria-tda"
    )


def channelset_path(name: str) -> Path:
    """Path of a shipped channel set, e.g. ``"audio"`` -> ``features/audio.toml``.

    Parameters
    ----------
    name : str
        Channel-set name without suffix.

    Returns
    -------
    pathlib.Path
    """
    p = features_dir() / f"{name}.toml"
    if not p.is_file():
        available = ", ".join(sorted(x.stem for x in features_dir().glob("*.toml")))
        raise AriaInputError(f"no shipped channel set {name!r} (available: {available})")
    return p
