"""Torch ``.pt`` files, read safely: ``weights_only=True``, memory-mapped where torch allows it.

Only tensors and plain containers (dict, list, tuple) of tensors, numbers and strings load; any
other pickled object is refused with a one-line message, never unpickled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aria.errors import AriaDependencyError, AriaInputError

__all__ = ["torch_load", "torch_load_mapped", "tensor_to_numpy"]


def torch_load(path: str | Path, *, what: str = ".pt files") -> Any:
    """Load a torch file with ``weights_only=True`` (memory-mapped when the file allows it).

    Parameters
    ----------
    path : path-like
        A file written by ``torch.save`` (zip format).
    what : str
        Named in the message when torch is missing.

    Returns
    -------
    object
        The loaded tensor or container of tensors.

    Raises
    ------
    AriaDependencyError
        torch is not installed.
    AriaInputError
        Legacy, truncated or corrupt file, or one holding objects ``weights_only`` refuses.

    Examples
    --------
    >>> import torch, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.pt")
    >>> torch.save(torch.ones(2, 3), p)
    >>> tuple(torch_load(p).shape)
    (2, 3)
    """
    return torch_load_mapped(path, what=what)[0]


def torch_load_mapped(path: str | Path, *, what: str = ".pt files") -> tuple[Any, bool]:
    """:func:`torch_load`, also telling whether the tensors are memory-mapped.

    Parameters
    ----------
    path, what
        The file, and what to call it when torch is missing (see :func:`torch_load`).

    Returns
    -------
    obj : object
        The loaded tensor or container of tensors.
    mapped : bool
        True when torch memory-mapped the storages (``mmap=True``), False when it read them.

    Examples
    --------
    >>> import torch, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.pt")
    >>> torch.save(torch.ones(2, 3), p)
    >>> torch_load_mapped(p)[1]
    True
    """
    p = Path(path)
    try:
        import torch
    except ImportError:
        raise AriaDependencyError(
            f"{p}: reading {what} needs torch; install it with: pip install torch==2.13.0 "
            "(or convert the tensors to .npy)"
        ) from None
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise AriaInputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if head[:1] == b"\x80":
        raise AriaInputError(
            f"{p}: legacy (non-zip) torch file; re-save it with torch.save in the default "
            "zip format, which Aria can read with weights_only=True"
        )
    last: Exception | None = None
    for mmap in (True, False):  # mmap needs a zip file whose storages torch can map
        try:
            return torch.load(p, map_location="cpu", weights_only=True, mmap=mmap), mmap
        except Exception as exc:  # UnpicklingError for disallowed objects, RuntimeError for corrupt
            last = exc
            if "weights_only" in str(exc) or "Unsupported global" in str(exc):
                raise AriaInputError(
                    f"{p}: holds Python objects that cannot be loaded safely (weights_only=True); "
                    "save a plain tensor, a dict of tensors or a tuple of tensors"
                ) from None
    msg = str(last).splitlines()[0] if str(last) else type(last).__name__
    raise AriaInputError(f"{p}: truncated or corrupt torch file ({msg})") from None


def tensor_to_numpy(obj: Any, source: str) -> np.ndarray:
    """A real-valued tensor as a numpy array (a view when possible; bfloat16 becomes float32).

    Parameters
    ----------
    obj : torch.Tensor
        The tensor.
    source : str
        Named in messages.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import torch
    >>> tensor_to_numpy(torch.zeros(2, dtype=torch.bfloat16), "x").dtype
    dtype('float32')
    """
    import torch

    if not isinstance(obj, torch.Tensor):
        raise AriaInputError(f"{source}: expected a tensor, found {type(obj).__name__}")
    if obj.is_complex() or obj.dtype == torch.bool:
        raise AriaInputError(f"{source}: tensor must hold real numbers, got {obj.dtype}")
    if obj.dtype == torch.bfloat16:
        obj = obj.float()
    return obj.detach().cpu().numpy()
