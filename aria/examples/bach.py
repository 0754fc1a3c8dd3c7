"""The shipped real symbolic feature table: Bach chorales from music21's offline corpus.

``aria/examples/data/bach_chorales_symbolic.parquet`` holds one row per chorale (track id = the
corpus name, e.g. ``"bwv26.6"``) with the twelve symbolic features of ``features/symbolic.toml``
plus metadata columns ``key`` (music21's Krumhansl key estimate, e.g. ``"G major"``),
``mode`` and ``parts``. It lets the README and notebooks run homogeneity on real music without
extracting anything. Rebuild it with::

    python -m aria.examples.bach aria/examples/data/bach_chorales_symbolic.parquet

The build writes every chorale of the corpus (``bach/bwv*.mxl`` except ``bwv846``, a keyboard
prelude; the few whose repeats music21 cannot expand are skipped) to MIDI with
``score.write("midi")`` in a temporary directory, then runs
:func:`aria.features.extract_symbolic` on them. music21 writes every note with the same velocity,
so the dynamic channel is constant (zero) in this example.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

import pyarrow as pa

from aria.errors import AriaDependencyError

__all__ = ["EXAMPLE_NAME", "build_bach_example", "chorale_names", "example_path", "write_chorale_midis"]

EXAMPLE_NAME = "bach_chorales_symbolic.parquet"
_EXCLUDE = {"bwv846"}  # Well-Tempered Clavier prelude, not a chorale


def example_path() -> Path:
    """Path of the shipped Bach chorale feature table.

    Returns
    -------
    pathlib.Path
    """
    from aria.examples.files import shipped_file

    return shipped_file(EXAMPLE_NAME)


def _music21():
    """The music21 module, or an AriaDependencyError saying how to install it."""
    try:
        return importlib.import_module("music21")
    except ImportError:  # pragma: no cover - depends on the environment
        raise AriaDependencyError("the Bach example needs music21: "
                                  "pip install 'aria-tda[symbolic]'") from None


def chorale_names() -> list[str]:
    """Corpus names of the chorales used (``bach/bwv*.mxl`` minus non-chorales), sorted.

    Returns
    -------
    list of str
    """
    music21 = _music21()
    paths = music21.corpus.getComposer("bach")
    names = {p.stem for p in paths if p.suffix == ".mxl" and p.stem.startswith("bwv")}
    return sorted(names - _EXCLUDE)


def write_chorale_midis(directory: str | os.PathLike[str], limit: int | None = None) -> dict[str, dict]:
    """Write the first ``limit`` chorales of :func:`chorale_names` to ``directory/<name>.mid``.

    The MIDI inputs of the shipped feature table (and of the scale-out tests and benchmark):
    ``score.write("midi")`` of each corpus score; the few whose repeats music21 cannot expand
    are skipped.

    Parameters
    ----------
    directory : path-like
        An existing directory.
    limit : int, optional
        Use only the first ``limit`` chorales (sorted by name).

    Returns
    -------
    dict
        Chorale name -> ``{"key", "mode", "parts"}`` (music21's key estimate, e.g. ``"G major"``),
        for the chorales written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     meta = write_chorale_midis(d, limit=2)
    ...     sorted(p.name for p in Path(d).iterdir()) == [f"{n}.mid" for n in sorted(meta)]
    True
    """
    music21 = _music21()
    meta_rows = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in chorale_names()[:limit]:
            score = music21.corpus.parse(f"bach/{name}")
            path = Path(directory) / f"{name}.mid"
            try:
                score.write("midi", fp=path)
            except music21.Music21Exception:  # a few corpus files have malformed repeats: skipped
                path.unlink(missing_ok=True)
                continue
            key = score.analyze("key")
            meta_rows[name] = {"key": f"{key.tonic.name} {key.mode}", "mode": key.mode,
                               "parts": len(score.parts)}
    return meta_rows


def build_bach_example(out: str | os.PathLike[str], limit: int | None = None, workers: int = 1) -> Path:
    """Write Bach chorales to MIDI and extract their symbolic feature table.

    Parameters
    ----------
    out : path-like
        Destination Parquet file (written atomically).
    limit : int, optional
        Use only the first ``limit`` chorales (sorted by name).
    workers : int
        Worker processes for the extraction.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    music21 = _music21()
    from aria.features.extract.symbolic import extract_symbolic
    from aria.features.table import read_feature_table, write_feature_table

    with tempfile.TemporaryDirectory(prefix="aria-bach-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meta_rows = write_chorale_midis(tmp, limit=limit)
        tmp_out = Path(tmp) / "features.parquet"
        extract_symbolic(tmp, out=tmp_out, workers=workers)
        table, meta = read_feature_table(tmp_out)
    tracks = table.column("track").to_pylist()
    for col, typ in (("key", pa.string()), ("mode", pa.string()), ("parts", pa.int64())):
        table = table.append_column(pa.field(col, typ), pa.array([meta_rows[t][col] for t in tracks], typ))
    table = table.drop_columns(["file"])  # temporary paths are not reproducible
    table = table.replace_schema_metadata({**meta, "aria.source": f"music21 {music21.__version__} corpus, "
                                           f"{len(tracks)} Bach chorales (bach/bwv*.mxl)"})
    return write_feature_table(table, out)


if __name__ == "__main__":  # pragma: no cover
    target = sys.argv[1] if len(sys.argv) > 1 else str(example_path())
    n = int(sys.argv[2]) if len(sys.argv) > 2 else None
    print(build_bach_example(target, limit=n, workers=2))
