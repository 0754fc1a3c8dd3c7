"""PEP 562 lazy attributes: one helper for every package that imports its public names on first use."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from types import ModuleType


def attach(module_name: str, names: Mapping[str, str], modules: Mapping[str, str] | None = None,
           ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Build a module's ``__getattr__`` and ``__dir__`` that import public names lazily.

    Parameters
    ----------
    module_name : str
        The package's ``__name__``; a resolved name is cached in its namespace.
    names : mapping of str to str
        Public name -> submodule that defines it (``getattr(submodule, name)``).
    modules : mapping of str to str, optional
        Public name -> module imported and returned as the attribute itself.

    Returns
    -------
    (__getattr__, __dir__)
        Functions to bind at module level.
    """
    modules = modules or {}

    def __getattr__(name: str) -> object:
        if name in names:
            value = getattr(importlib.import_module(names[name]), name)
        elif name in modules:
            value = importlib.import_module(modules[name])
        else:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        vars(sys.modules[module_name])[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[module_name])) | set(names) | set(modules))

    return __getattr__, __dir__


def import_optional(module: str, message: str) -> ModuleType:
    """Import an optional dependency, or raise :class:`~aria.errors.AriaDependencyError`.

    Parameters
    ----------
    module : str
        Module to import.
    message : str
        The one-line error when it is missing; name what needs it and how to install it.

    Returns
    -------
    module

    Examples
    --------
    >>> from aria._lazy import import_optional
    >>> import_optional("json", "never shown").__name__
    'json'
    >>> try:
    ...     import_optional("no_such_module_xyz", "plots need xyz: pip install xyz")
    ... except ImportError as e:
    ...     print(type(e).__name__, e)
    AriaDependencyError plots need xyz: pip install xyz
    """
    from aria.errors import AriaDependencyError

    try:
        return importlib.import_module(module)
    except ImportError:  # pragma: no cover - depends on the environment
        raise AriaDependencyError(message) from None
