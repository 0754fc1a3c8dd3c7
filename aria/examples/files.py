"""Files shipped in ``aria/examples/data/`` and the atomic writer that builds them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped_file", "write_npz_examples"]


def shipped_file(filename: str) -> Path:
    """Path of a file shipped in ``aria/examples/data/`` (score matrices, feature tables).

    Parameters
    ----------
    filename : str
        File name inside the examples folder.

    Returns
    -------
    pathlib.Path
        Inside the installed package (not checked to exist).

    Examples
    --------
    >>> from aria.examples.files import shipped_file
    >>> shipped_file("collapsed.npz").name
    'collapsed.npz'
    """
    return Path(str(resources.files("aria.examples") / "data" / filename))


def write_npz_examples(directory: str | Path, names, generate_one, seed: int) -> list[Path]:
    """Write ``generate_one(name, seed)`` for each name to ``directory/<name>.npz``, atomically.

    Parameters
    ----------
    directory : path-like
        Output folder.
    names : iterable of str
        Example names.
    generate_one : callable
        ``generate_one(name, seed) -> dict of arrays``.
    seed : int
        Generator seed.

    Returns
    -------
    list of pathlib.Path
    """
    import numpy as np

    from aria.io.atomic import atomic_path

    out = []
    directory = Path(directory)
    for name in names:
        target = directory / f"{name}.npz"
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **generate_one(name, seed))
        out.append(target)
    return out


def build_examples_main(names, generate_one, seed: int) -> None:
    """Command-line build helper of an example module: write its examples, print their paths.

    The output folder is ``sys.argv[1]`` or the shipped ``aria/examples/data``.
    """
    import sys

    directory = sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "data"
    for p in write_npz_examples(directory, names, generate_one, seed):
        print(p)
