"""Write MIDI files from music21's offline corpus into a cache directory (used by the benchmark).

Usage: python benchmarks/corpus_midi.py [N] [CACHE_DIR]

Files are named after their corpus path (``bach/bwv26.6.mid``, ``palestrina/Agnus_01.mid``), taken
in sorted order from Bach (mxl), then Palestrina (krn), then the rest, until N are written. Files
already in the cache are kept, so the cache is built once.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

DEFAULT_CACHE = Path("/tmp/aria-bench-midi")


def corpus_sources() -> list[Path]:
    from music21 import corpus

    paths = sorted(corpus.getCorePaths(), key=str)
    paths = [p for p in paths if p.suffix in (".mxl", ".krn", ".xml", ".musicxml")]
    order = {"bach": 0, "palestrina": 1}
    return sorted(paths, key=lambda p: (order.get(p.parent.name, 2), str(p)))


def build(n: int = 1000, cache: Path = DEFAULT_CACHE) -> list[Path]:
    from music21 import converter

    warnings.filterwarnings("ignore")
    cache.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for src in corpus_sources():
        if len(written) >= n:
            break
        dest = cache / src.parent.name / (src.stem + ".mid")
        if dest in written:  # the same piece in two formats (bwv277.mxl / bwv277.krn)
            continue
        if not dest.exists():
            try:
                score = converter.parse(src)
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_suffix(".part")
                score.write("midi", fp=tmp)
                tmp.replace(dest)
            except Exception as exc:  # some corpus files do not convert; skip them
                print(f"skip {src.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
        written.append(dest)
    return written


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    cache = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_CACHE
    files = build(n, cache)
    print(f"{len(files)} MIDI files under {cache}")
