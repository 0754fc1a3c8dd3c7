"""Atomic file writing: outputs appear whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from aria.errors import AriaInputError
from aria.params import validate_params


@contextlib.contextmanager
@validate_params({"path": "path"})
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path : path-like
        Final destination. Its parent directory is created if needed.

    Yields
    ------
    pathlib.Path
        A temporary file in the same directory (so the final rename is atomic).
        On an exception the temporary file is removed and ``path`` is untouched.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; give outputs normal permissions
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
@validate_params({"path": "path", "mode": "str"})
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file for writing and move it onto ``path`` when closed cleanly.

    Parameters
    ----------
    path : path-like
        Final destination.
    mode : str
        ``"w"`` (text) or ``"wb"`` (binary).
    **kwargs
        Passed to :func:`open` (e.g. ``encoding``).
    """
    if "w" not in mode:
        raise AriaInputError(f"mode must be a writing mode ('w' or 'wb'), got {mode!r}", parameter="mode",
                             function="atomic_open")
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())
