"""Atomic file writing: outputs appear whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from aria.errors import AriaInputError
from aria.params import Interval, validate_params

#: Prefix of every temporary file or folder Aria writes; the writer's pid follows, so that
#: :func:`clean_stale` can tell a killed run's leftovers from a running one's.
TEMP_PREFIX = ".aria-tmp-"


def temp_prefix(name: str = "") -> str:
    """The prefix of this process's temporary entries: ``.aria-tmp-<pid>-<name>.``.

    Parameters
    ----------
    name : str
        The final file's name (kept in the temporary name, for a human reading the folder).

    Returns
    -------
    str
        ``.aria-tmp-<pid>-<name>.``, starting with :data:`TEMP_PREFIX`.

    Examples
    --------
    >>> import os
    >>> temp_prefix("x.csv") == f".aria-tmp-{os.getpid()}-x.csv."
    True
    """
    return f"{TEMP_PREFIX}{os.getpid()}-{name}."


@validate_params({"pid": Interval(int, 1, None)})
def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running on this machine (a zombie, killed but not reaped, is not).

    Parameters
    ----------
    pid : int
        Process id (as :func:`os.getpid` gives it).

    Returns
    -------
    bool
        False when no such process exists or it is a zombie; True otherwise, also when it
        belongs to another user or the platform cannot tell.

    Examples
    --------
    >>> import os
    >>> from aria.io.atomic import pid_alive
    >>> pid_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: exists, owned by someone else
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):  # no /proc (not Linux): trust kill(0)
        return True


def clean_stale(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files and folders left in ``folder`` by killed Aria runs.

    Only entries named ``.aria-tmp-<pid>-...`` whose process no longer exists on this machine
    are removed (a SIGKILL skips every cleanup handler, so the next run does it). Entries of a
    live process, and anything else, are left alone. Errors are ignored: cleaning is a courtesy.

    Parameters
    ----------
    folder : path-like
        The folder to clean (not recursively).

    Returns
    -------
    list of pathlib.Path
        What was removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".aria-tmp-999999999-r.csv.x.part").write_text("left by a killed run")
    >>> [p.name for p in clean_stale(d)]
    ['.aria-tmp-999999999-r.csv.x.part']
    """
    import shutil

    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        pid_text = entry.name[len(TEMP_PREFIX):].split("-", 1)[0]
        # not a name Aria writes (no pid, or one no process can have): keep it
        if not pid_text.isdigit() or not 1 <= int(pid_text) < 2**31:
            continue
        if int(pid_text) == os.getpid() or pid_alive(int(pid_text)):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


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

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from aria.io.atomic import atomic_path
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_path(p) as tmp:
    ...     _ = tmp.write_text("complete")
    ...
    >>> p.read_text(), sorted(f.name for f in p.parent.iterdir())
    ('complete', ['table.csv'])
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(final.name), suffix=".part", dir=final.parent)
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

    Examples
    --------
    >>> import os, tempfile
    >>> from aria.io.atomic import atomic_open
    >>> p = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_open(p) as f:
    ...     _ = f.write("done")
    >>> open(p).read()
    'done'
    >>> try:
    ...     with atomic_open(p) as f:
    ...         _ = f.write("half")
    ...         raise RuntimeError("interrupted")
    ... except RuntimeError:
    ...     pass
    >>> open(p).read()
    'done'
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
