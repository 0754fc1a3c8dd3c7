"""Compatibility shims and lazy imports for the audio stack (librosa, madmom/BeatNet, Chordino).

madmom 0.16.1 (BeatNet's signal processing and DBN decoder) predates NumPy 1.24 and Python
3.10, and BeatNet 1.1.3 imports ``pyaudio`` for a streaming mode Aria never uses. The shims
below make them run offline on NumPy 2 / Python 3.11; they are applied once, only when BeatNet
or Chordino is first needed, never at ``import aria``. Nothing here computes features.
"""

from __future__ import annotations

import collections
import collections.abc
import importlib
import importlib.util
import os
import sys
import threading
import types
import warnings
from pathlib import Path

import numpy as np

from aria.errors import AriaDependencyError

__all__ = [
    "INSTALL_COMMAND",
    "beatnet_class",
    "chordino_plugin",
    "librosa",
    "omnizart_chord_checkpoint",
]

#: The command that installs the whole audio stack (named in every dependency error).
INSTALL_COMMAND = "bash .ci/install-audio (from the Aria source tree; see docs/features-audio.md)"

_LOCK = threading.Lock()
_SHIMMED = False


def _missing(what: str, exc: BaseException) -> AriaDependencyError:
    return AriaDependencyError(
        f"{what} is not installed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else exc!r});"
        f" install the audio stack with: {INSTALL_COMMAND}"
    )


def librosa() -> types.ModuleType:
    """Import librosa, or raise :class:`AriaDependencyError` naming the install command.

    Returns
    -------
    module
        The ``librosa`` module.

    Examples
    --------
    >>> from aria.features.extract import _audio_compat as compat
    >>> compat.librosa().__name__
    'librosa'
    """
    try:
        return importlib.import_module("librosa")
    except ImportError as exc:
        raise _missing("librosa", exc) from None


class _LenientNumpy:
    """Proxy of numpy whose ``asarray`` falls back to an object array for ragged input.

    ``DBNDownBeatTrackingProcessor.process`` does ``np.asarray(results)[:, 1]`` on a list of
    ``(path, log_probability)`` tuples; NumPy >= 1.24 refuses the ragged array.
    """

    def __getattr__(self, name: str):
        return getattr(np, name)

    @staticmethod
    def asarray(a, *args, **kwargs):
        try:
            return np.asarray(a, *args, **kwargs)
        except ValueError:
            return np.asarray(a, dtype=object)


def _install_shims() -> None:
    """Apply the madmom/BeatNet/chord-extractor shims (idempotent, thread-safe)."""
    global _SHIMMED
    with _LOCK:
        if _SHIMMED:
            return
        # madmom/processors.py: `from collections import MutableSequence` (removed in 3.10).
        if not hasattr(collections, "MutableSequence"):
            collections.MutableSequence = collections.abc.MutableSequence  # type: ignore[attr-defined]
        # Aliases removed in NumPy 1.24, used by madmom at import time and in the DBN decoder.
        for name, value in (("float", float), ("int", int), ("bool", bool), ("complex", complex),
                            ("object", object)):
            if name not in np.__dict__:
                setattr(np, name, value)
        # madmom and chord-extractor import pkg_resources (gone from setuptools >= 82).
        try:
            with warnings.catch_warnings():  # setuptools 81 warns that pkg_resources is deprecated
                warnings.simplefilter("ignore")
                importlib.import_module("pkg_resources")
        except ImportError:
            sys.modules["pkg_resources"] = _pkg_resources_stub()
        # BeatNet imports pyaudio at module level, for its microphone mode only.
        if importlib.util.find_spec("pyaudio") is None:
            sys.modules["pyaudio"] = types.ModuleType("pyaudio")
        _SHIMMED = True


def _pkg_resources_stub() -> types.ModuleType:
    from importlib.metadata import version

    mod = types.ModuleType("pkg_resources")

    def get_distribution(name: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(version=version(name))

    def resource_filename(package: str, resource: str) -> str:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ImportError(f"no package {package!r}")
        return os.path.join(os.path.dirname(spec.origin), resource)

    mod.get_distribution = get_distribution  # type: ignore[attr-defined]
    mod.resource_filename = resource_filename  # type: ignore[attr-defined]
    return mod


def beatnet_class() -> type:
    """Return the ``BeatNet.BeatNet.BeatNet`` class, shims applied.

    Returns
    -------
    type
        The BeatNet estimator class.

    Raises
    ------
    AriaDependencyError
        BeatNet, madmom or torch is missing.
    """
    _install_shims()
    try:
        with warnings.catch_warnings():  # madmom's imports use deprecated distutils/scipy names
            warnings.simplefilter("ignore", DeprecationWarning)
            downbeats = importlib.import_module("madmom.features.downbeats")
            if not isinstance(downbeats.np, _LenientNumpy):
                downbeats.np = _LenientNumpy()
            module = importlib.import_module("BeatNet.BeatNet")
    except ImportError as exc:
        raise _missing("BeatNet (with madmom and torch)", exc) from None
    return module.BeatNet


def chordino_plugin() -> tuple[types.ModuleType, str]:
    """Make the NNLS-Chroma vamp plugin (Chordino) loadable and return ``(vamp, plugin key)``.

    chord-extractor ships ``nnls-chroma.so``; importing its Chordino module points
    ``VAMP_PATH`` at it (unless the user set ``VAMP_PATH``).

    Returns
    -------
    tuple
        The ``vamp`` module and ``"nnls-chroma:chordino"``.

    Raises
    ------
    AriaDependencyError
        vamp, chord-extractor or the plugin is missing.
    """
    _install_shims()
    try:
        importlib.import_module("chord_extractor.extractors.chordino")
        vamp = importlib.import_module("vamp")
    except ImportError as exc:
        raise _missing("Chordino (chord-extractor and vamp)", exc) from None
    key = "nnls-chroma:chordino"
    if key not in vamp.list_plugins():
        raise AriaDependencyError(
            f"the vamp plugin {key} is not found on VAMP_PATH={os.environ.get('VAMP_PATH', '')!r};"
            f" install the audio stack with: {INSTALL_COMMAND}"
        )
    return vamp, key


def omnizart_chord_checkpoint() -> Path | None:
    """Locate omnizart's ``chord_v1`` checkpoint without importing omnizart (or TensorFlow).

    omnizart's source distribution ships only the checkpoint's graph and index; the weights file
    (``variables.data-00000-of-00001``) comes from ``omnizart download-checkpoints``. Aria never
    downloads it: the checkpoint counts as installed only when that file is present.

    Returns
    -------
    pathlib.Path or None
        The checkpoint directory, or None when omnizart or its chord weights are absent.

    Examples
    --------
    >>> from aria.features.extract import _audio_compat as compat
    >>> path = compat.omnizart_chord_checkpoint()
    >>> path is None or path.name == "chord_v1"
    True
    """
    try:
        spec = importlib.util.find_spec("omnizart")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        ckpt = Path(root) / "checkpoints" / "chord" / "chord_v1"
        if (ckpt / "variables" / "variables.data-00000-of-00001").is_file():
            return ckpt
    return None
