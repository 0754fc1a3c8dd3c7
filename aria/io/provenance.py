"""Provenance records: what went in (SHA-256), with which parameters, seeds and versions."""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import os
import platform
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from aria._version import __version__
from aria.params import MappingOf, validate_params

__all__ = ["sha256_path", "package_versions", "provenance_record"]

_CORE_PACKAGES = ("numpy", "scipy", "pandas", "xarray", "pyarrow")
_OPTIONAL_PACKAGES = ("librosa", "madmom", "BeatNet", "chord-extractor", "vamp", "pretty_midi",
                      "music21", "torch", "dask", "zarr", "h5netcdf", "matplotlib", "jinja2")


def sha256_path(path: str | os.PathLike[str], block_size: int = 8 * 2**20) -> str:
    """SHA-256 of a file, or of a directory (e.g. a ``.zarr`` store).

    A directory's digest hashes, in sorted order, each file's relative path (its
    file-system bytes) and its own SHA-256, so it does not depend on listing order.
    A file in it that cannot be read, or a sub-folder that cannot be listed, is
    hashed as its path and ``unreadable`` (the digest records that it was there).

    Parameters
    ----------
    path : path-like
        File or directory.
    block_size : int
        Bytes read at a time (memory use is bounded by it).

    Returns
    -------
    str
        Hex digest.
    """
    p = Path(path)
    if p.is_dir():
        entries: list[tuple[Path, bytes]] = []
        for dirpath, _, filenames in os.walk(p, onerror=lambda e: entries.append(
                (Path(e.filename or p), b"unreadable"))):
            for name in filenames:
                f = Path(dirpath, name)
                if f.is_file():
                    try:
                        entries.append((f, sha256_path(f).encode()))
                    except OSError:
                        entries.append((f, b"unreadable"))
        h = hashlib.sha256()
        for f, digest in sorted(entries):
            h.update(str(f.relative_to(p)).encode("utf-8", "surrogateescape") + b"\0" + digest + b"\n")
        return h.hexdigest()
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        while chunk := fh.read(block_size):
            h.update(chunk)
    return h.hexdigest()


def package_versions(extra: Iterable[str] = ()) -> dict[str, str]:
    """Versions of Python, Aria and the installed scientific packages it may use.

    Parameters
    ----------
    extra : iterable of str
        More distribution names to include when installed.

    Returns
    -------
    dict
        ``{name: version}``; packages that are not installed are omitted.
    """
    out = {"python": platform.python_version(), "aria": __version__}
    for name in (*_CORE_PACKAGES, *_OPTIONAL_PACKAGES, *extra):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


@validate_params({"inputs": MappingOf([None, "path"]), "parameters": MappingOf(),
                  "seeds": [None, MappingOf([None, "seed"])], "command": [None, list, tuple],
                  "timestamp": [None, "str"]})
def provenance_record(
    inputs: Mapping[str, str | os.PathLike[str] | None],
    parameters: Mapping[str, object],
    *,
    seeds: Mapping[str, int] | None = None,
    command: list[str] | None = None,
    timestamp: str | None = None,
) -> dict:
    """Build a provenance record for a result directory.

    Parameters
    ----------
    inputs : mapping
        Role -> path of every input file (``None`` entries are skipped).
    parameters : mapping
        Every parameter that influenced the result (JSON-serializable).
    seeds : mapping, optional
        Every random seed used.
    command : list of str, optional
        The command line, when run from the CLI.
    timestamp : str, optional
        ISO-8601 UTC time; default now.

    Returns
    -------
    dict
        ``{"aria_version", "created", "command", "inputs": {role: {"path", "sha256",
        "bytes"}}, "parameters", "seeds", "versions", "platform"}``.
    """
    files = {}
    for role, path in inputs.items():
        if path is None:
            continue
        p = Path(path)
        size = p.stat().st_size if p.is_file() else sum(
            f.stat().st_size for f in p.rglob("*") if f.is_file())
        try:
            files[role] = {"path": str(p.resolve()), "sha256": sha256_path(p), "bytes": size}
        except OSError as exc:  # an unreadable input is recorded as such, not a failed run
            files[role] = {"path": str(p.resolve()), "sha256": None, "bytes": size,
                           "error": f"unreadable ({exc.strerror or type(exc).__name__})"}
    return {
        "aria_version": __version__,
        "created": timestamp or _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": list(command) if command is not None else None,
        "inputs": files,
        "parameters": dict(parameters),
        "seeds": dict(seeds or {}),
        "versions": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "python_implementation": platform.python_implementation(),
                     "executable": sys.executable},
    }
