"""Doctest collection over ``aria/`` (``--doctest-modules``).

Modules that need an optional stack are collected only when that stack imports: without
librosa/BeatNet/torch the audio extractors' doctests are skipped, without matplotlib the figure
helpers', without torch the torch reader's. When the stack is present they run like every other
module, so an import error there is a failure, never a silent skip. The CLI modules are covered by
``tests/cli`` and ``aria/__main__.py`` runs the CLI on import, so neither is collected.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_HERE = Path(__file__).parent

#: Module (path relative to ``aria/``) -> distributions its doctests need.
OPTIONAL_STACKS: dict[str, tuple[str, ...]] = {
    "features/extract/audio.py": ("librosa",),
    "features/extract/audio_io.py": ("librosa",),
    "features/extract/audio_batch.py": ("librosa",),
    "features/extract/_audio_compat.py": ("librosa",),
    "features/extract/symbolic.py": ("pretty_midi",),
    "io/torchfile.py": ("torch",),
    "report/plot.py": ("matplotlib",),
    "report/html.py": ("matplotlib", "jinja2"),
    "report/pipeline.py": ("matplotlib", "jinja2"),
}


def _missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


collect_ignore = ["__main__.py", "cli"]
collect_ignore += [rel for rel, needs in OPTIONAL_STACKS.items() if _missing(needs)]


@pytest.fixture(autouse=True)
def _headless_matplotlib() -> None:
    """A non-interactive matplotlib backend for the figure examples.

    Nothing is injected into the examples' namespace: each one imports what it uses, so it
    runs as written when pasted into a session.
    """
    if importlib.util.find_spec("matplotlib") is not None:
        import matplotlib

        matplotlib.use("Agg")
