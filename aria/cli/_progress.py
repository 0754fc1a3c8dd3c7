"""Progress bars of the sub-commands (tqdm on stderr, only on a terminal unless asked)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

__all__ = ["add_progress_flags", "progress_bar", "progress_factory"]


def add_progress_flags(parser: argparse.ArgumentParser, help: str = "show a progress bar on stderr") -> None:
    """Add ``--progress`` / ``--no-progress`` (dest ``progress``; None = only when stderr is a terminal)."""
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help=f"{help} (default: only on a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")


@contextmanager
def progress_bar(total: int, desc: str, enabled: bool | None) -> Iterator[Callable[[int], None] | None]:
    """Yield an ``update(n)`` callback driving a tqdm bar on stderr, or None when disabled."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="row", unit_scale=True, file=sys.stderr,
              dynamic_ncols=True, leave=False) as bar:
        yield bar.update


def progress_factory(enabled: bool | None) -> Callable[[str, int], AbstractContextManager]:
    """``progress(label, total)`` for the API pipelines, showing :func:`progress_bar` bars."""
    return lambda desc, total: progress_bar(total, desc, enabled)
