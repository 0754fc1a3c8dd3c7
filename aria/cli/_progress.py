"""Progress bars of the sub-commands and the flags of the streaming passes they follow.

Bars are tqdm on stderr, only on a terminal unless asked; ``--block-rows``/``--chunk-rows`` are
the API's streaming keywords.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

__all__ = ["BLOCK_ROWS", "add_progress_flags", "add_streaming_flags", "progress_bar", "progress_factory",
           "streaming_options"]

#: Default of ``--block-rows``: ``aria.io.streaming.DEFAULT_BLOCK_ROWS`` (tests/cli/test_common.py).
BLOCK_ROWS = 2048


def add_streaming_flags(parser: argparse.ArgumentParser) -> None:
    """Add ``--block-rows`` and ``--chunk-rows`` (the API's ``**streaming`` keywords)."""
    parser.add_argument("--block-rows", type=int, default=BLOCK_ROWS, metavar="N",
                        help=f"rows per computation block (default {BLOCK_ROWS})")
    parser.add_argument("--chunk-rows", type=int, default=None, metavar="N",
                        help="rows read from disk at a time (default: about 128 MiB)")


def streaming_options(args: argparse.Namespace) -> dict:
    """The ``block_rows``/``chunk_rows`` keywords of :func:`add_streaming_flags`'s flags."""
    return {"block_rows": args.block_rows, "chunk_rows": args.chunk_rows}


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
