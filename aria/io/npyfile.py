"""NumPy ``.npy`` files (and TRAK's ``.mmap``, which are ``.npy`` inside): header, then memory map.

The header is read and checked against the file size before anything is mapped, so a truncated
file is refused with a one-line message instead of failing later in the middle of a pass.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aria.errors import AriaInputError
from aria.io.validate import validate_dtype

__all__ = ["NPY_MAGIC", "npy_header", "open_npy"]

#: First bytes of every ``.npy`` file.
NPY_MAGIC = b"\x93NUMPY"


def npy_header(path: str | Path) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    """Read and check a ``.npy`` header without reading the data.

    Parameters
    ----------
    path : path-like
        A ``.npy`` file (any suffix: TRAK writes ``.mmap``).

    Returns
    -------
    shape : tuple of int
    dtype : numpy.dtype
    fortran_order : bool
    offset : int
        Byte offset of the data.

    Raises
    ------
    AriaInputError
        Corrupt header, non-numeric dtype or a file shorter than the header says.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "s.npy")
    >>> np.save(p, np.zeros((3, 2), np.float16))
    >>> npy_header(p)[:2]
    ((3, 2), dtype('float16'))
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            offset = fh.tell()
    except ValueError as exc:
        raise AriaInputError(f"{p}: corrupt .npy header ({exc})") from None
    except OSError as exc:
        raise AriaInputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    validate_dtype(dtype, str(p))
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = p.stat().st_size
    if actual < expected:
        raise AriaInputError(
            f"{p}: truncated .npy file: header says shape {tuple(shape)} {dtype} "
            f"({expected} bytes) but the file has {actual} bytes"
        )
    return tuple(int(s) for s in shape), np.dtype(dtype), bool(fortran), int(offset)


def open_npy(path: str | Path) -> np.ndarray:
    """Memory-map a ``.npy`` file read-only after :func:`npy_header` has checked it.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    numpy.ndarray
        A read-only ``numpy.memmap`` (an in-memory empty array when the file holds no element).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "s.npy")
    >>> np.save(p, np.arange(6.0).reshape(3, 2))
    >>> type(open_npy(p)).__name__
    'memmap'
    """
    p = Path(path)
    shape, dtype, _, _ = npy_header(p)
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=dtype)
    try:
        return np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise AriaInputError(f"{p}: cannot read .npy file ({exc})") from None
