"""Helpers shared by the sub-commands: progress bars and output directories."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aria.errors import AriaInputError


def add_progress_flags(parser, help: str = "show a progress bar on stderr") -> None:
    """Add the mutually exclusive ``--progress`` / ``--no-progress`` flags (dest ``progress``).

    ``progress`` is None unless one is given: bars then show only when stderr is a terminal.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser.
    help : str
        Help of ``--progress``; " (default: only on a terminal)" is appended.
    """
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help=f"{help} (default: only on a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")


@contextmanager
def progress_bar(total: int, desc: str, enabled: bool | None) -> Iterator[Callable[[int], None] | None]:
    """Yield an ``update(n)`` callback driving a tqdm bar on stderr, or None when disabled.

    Parameters
    ----------
    total : int
        Total units of work.
    desc : str
        Label.
    enabled : bool or None
        None: show only when stderr is a terminal.
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="row", unit_scale=True, file=sys.stderr,
              dynamic_ncols=True, leave=False) as bar:
        yield bar.update


def prepare_out_dir(path: str | None, inputs: list[str]) -> Path | None:
    """Check the output directory up front; it is created only when results are written.

    Refuses a path that is an existing file or one of the inputs, so that a bad
    ``--out`` fails before any work and a failed run leaves nothing behind.

    Parameters
    ----------
    path : str or None
        ``--out`` argument.
    inputs : list of str
        Input paths that must not be overwritten.

    Returns
    -------
    pathlib.Path or None
    """
    if path is None:
        return None
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise AriaInputError(f"--out {out}: exists and is not a directory")
    resolved = {Path(p).resolve() for p in inputs if p}
    if out.resolve() in resolved:
        raise AriaInputError(f"--out {out}: is one of the inputs")
    return out


def add_scheduler_flag(parser) -> None:
    """Add ``--scheduler local[:N]|HOST:PORT`` (run on a dask cluster; the ``scale`` extra)."""
    parser.add_argument("--scheduler", metavar="SPEC",
                        help="run on a dask cluster: local (one worker per core), local:N, or the "
                             "HOST:PORT of a running scheduler (needs the scale extra)")
