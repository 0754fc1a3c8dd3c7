"""Declarative parameter constraints, checked first in every public function.

In the style of scikit-learn's ``validate_params`` and mir_eval's ``validate()``:
a public function declares what each of its parameters may be, and
:func:`validate_params` checks the arguments of every call before the body runs.
A bad value raises :class:`~aria.errors.AriaInputError` whose message starts with
the parameter's API name (``"k must be an integer >= 2, got 1"``) and whose
``parameter`` attribute holds it; the command line maps that name to its flag in
one place (:func:`aria.cli.main`), so API messages never name a flag.

A *constraint spec* is one of

- a :class:`Constraint`: :class:`Interval`, :class:`Options`, :class:`InstanceOf`,
  :class:`SequenceOf`, :class:`MappingOf`, :class:`Array`;
- a shortcut name: ``"path"`` (str or os.PathLike), ``"seed"`` (integer >= 0),
  ``"boolean"``, ``"callable"``, ``"real"`` (any real number, NaN allowed),
  ``"str"``, ``"scores"`` (a labelled score matrix, see :func:`aria.load_scores`);
- a class (the value must be an instance of it);
- ``None`` (the value None);
- a list (or tuple) of the above: the value must satisfy at least one.

Defaults are not re-checked on each call (they are valid by declaration, and the
test suite checks that they are). Only the standard library is imported here;
numpy and xarray are looked up inside the checks that need them.

Examples
--------
>>> from aria.params import Interval, Options, validate_params
>>> @validate_params({"k": Interval(int, 2, None), "method": Options(("auto", "rank"))})
... def top(k, method="auto"):
...     return k, method
>>> top(3, "rank")
(3, 'rank')
>>> top(1)
Traceback (most recent call last):
...
aria.errors.AriaInputError: k must be an integer >= 2, got 1
>>> top(3, method="zscore")
Traceback (most recent call last):
...
aria.errors.AriaInputError: method must be one of 'auto', 'rank', got 'zscore'
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import numbers
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from aria.errors import AriaInputError

__all__ = [
    "Constraint",
    "Interval",
    "Options",
    "InstanceOf",
    "SequenceOf",
    "MappingOf",
    "Array",
    "SHORTCUTS",
    "STREAMING",
    "validate_params",
    "check_params",
    "constraints_of",
    "describe",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute under which :func:`validate_params` stores a function's constraints.
_ATTR = "__aria_constraints__"


def _is_int(v: object) -> bool:
    t = type(v)
    if t is int:  # fast path: ABC checks cost about a microsecond each
        return True
    return t is not bool and t is not float and isinstance(v, numbers.Integral)


def _is_real(v: object) -> bool:
    t = type(v)
    if t is float or t is int:
        return True
    return t is not bool and isinstance(v, numbers.Real)


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


class Constraint(ABC):
    """One condition on a parameter value (subclasses implement both methods).

    Examples
    --------
    >>> from aria.params import Constraint, validate_params
    >>> class Even(Constraint):
    ...     def is_satisfied_by(self, value):
    ...         return isinstance(value, int) and value % 2 == 0
    ...     def describe(self, plural=False):
    ...         return "even integers" if plural else "an even integer"
    >>> @validate_params({"n": Even()})
    ... def half(n):
    ...     return n // 2
    >>> half(4), Even()
    (2, <Even: an even integer>)
    >>> half(3)
    Traceback (most recent call last):
    ...
    aria.errors.AriaInputError: n must be an even integer, got 3
    """

    @abstractmethod
    def is_satisfied_by(self, value: object) -> bool:
        """Whether ``value`` meets the constraint."""

    @abstractmethod
    def describe(self, plural: bool = False) -> str:
        """What the value must be, for messages (``"an integer >= 1"``; plural ``"integers >= 1"``)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


class Interval(Constraint):
    """A number in an interval.

    Parameters
    ----------
    kind : {int, float}
        ``int``: an integer (Python or numpy, not bool); ``float``: any real
        number except NaN (integers included).
    left, right : number or None
        Bounds (None: unbounded on that side).
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the interval.

    Examples
    --------
    >>> Interval(int, 1, None).describe()
    'an integer >= 1'
    >>> Interval(float, 0, 1).is_satisfied_by(0.5), Interval(float, 0, 1, closed="left").describe()
    (True, 'a number in [0, 1)')
    """

    def __init__(self, kind: type, left: float | None, right: float | None, *,
                 closed: str = "both") -> None:
        if kind not in (int, float):
            raise TypeError(f"Interval kind must be int or float, got {kind!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise TypeError(f"Interval closed must be both, left, right or neither, got {closed!r}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def is_satisfied_by(self, value: object) -> bool:  # noqa: D102
        if self.kind is int:
            if not _is_int(value):
                return False
        elif not _is_real(value) or math.isnan(value):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed not in ("both", "left")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed not in ("both", "right")):
                return False
        return True

    def array_satisfied_by(self, a: Any) -> bool:
        """Whether every element of a numpy array lies in the interval (vectorized)."""
        if a.size == 0:  # as element by element: nothing to check
            return True
        if a.dtype.kind not in ("iu" if self.kind is int else "iuf"):
            return False
        if a.dtype.kind == "f" and bool((a != a).any()):  # NaN
            return False
        lo, hi = a.min(), a.max()
        return self.is_satisfied_by(lo.item()) and self.is_satisfied_by(hi.item())

    def describe(self, plural: bool = False) -> str:  # noqa: D102
        if self.kind is int:
            noun = "integers" if plural else "an integer"
        else:
            noun = "numbers" if plural else "a number"
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.left is not None and self.right is not None:
            return (f"{noun} in {'[' if lo_in else '('}{_num(self.left)}, {_num(self.right)}"
                    f"{']' if hi_in else ')'}")
        if self.left is not None:
            return f"{noun} {'>=' if lo_in else '>'} {_num(self.left)}"
        if self.right is not None:
            return f"{noun} {'<=' if hi_in else '<'} {_num(self.right)}"
        return noun if self.kind is int else f"{noun} (not NaN)"


class Options(Constraint):
    """One of a fixed set of values (strings, numbers, None).

    Parameters
    ----------
    options : iterable
        The allowed values; a set is listed sorted in messages, a sequence in its order.
    ignore_case : bool
        Compare strings case-insensitively.

    Examples
    --------
    >>> Options(("auto", "zscore", "rank")).describe()
    "one of 'auto', 'zscore', 'rank'"
    >>> Options({"png", "svg"}, ignore_case=True).is_satisfied_by("PNG")
    True
    """

    def __init__(self, options: Iterable, *, ignore_case: bool = False) -> None:
        opts = sorted(options, key=repr) if isinstance(options, set | frozenset) else list(options)
        self.options = tuple(opts)
        self.ignore_case = ignore_case

    def _key(self, value: object) -> object:
        return value.lower() if self.ignore_case and isinstance(value, str) else value

    def is_satisfied_by(self, value: object) -> bool:  # noqa: D102
        if not (value is None or isinstance(value, str | numbers.Number)):
            return False  # arrays and other objects never equal an option
        if isinstance(value, bool):  # True == 1: booleans match only booleans
            return any(o is value for o in self.options)
        key = self._key(value)
        return any(not isinstance(o, bool) and self._key(o) == key for o in self.options)

    def describe(self, plural: bool = False) -> str:  # noqa: D102
        shown = ", ".join(repr(o) for o in self.options)
        return f"values among {shown}" if plural else f"one of {shown}"


class InstanceOf(Constraint):
    """An instance of one of some classes.

    Parameters
    ----------
    *classes : type or str
        Classes, or ``"module.Class"`` names imported on first use (so that a
        module can name a class it imports only for type checking).
    what : str, optional
        Description for messages (default ``"an instance of Class"``).

    Examples
    --------
    >>> InstanceOf(dict).describe(), InstanceOf(dict).is_satisfied_by({})
    ('an instance of dict', True)
    """

    def __init__(self, *classes: type | str, what: str | None = None) -> None:
        if not classes:
            raise TypeError("InstanceOf needs at least one class")
        self._classes = classes
        self._resolved: tuple[type, ...] | None = None
        self.what = what

    @property
    def classes(self) -> tuple[type, ...]:
        """The classes, imported on first use."""
        if self._resolved is None:
            out = []
            for c in self._classes:
                if isinstance(c, str):
                    module, _, name = c.rpartition(".")
                    c = getattr(importlib.import_module(module), name)
                out.append(c)
            self._resolved = tuple(out)
        return self._resolved

    def _names(self) -> str:
        return " or ".join(c.rpartition(".")[2] if isinstance(c, str) else c.__name__ for c in self._classes)

    def is_satisfied_by(self, value: object) -> bool:  # noqa: D102
        return isinstance(value, self.classes)

    def describe(self, plural: bool = False) -> str:  # noqa: D102
        if self.what is not None:
            return self.what
        return f"{'instances' if plural else 'an instance'} of {self._names()}"


def _is_collection(value: object) -> bool:
    if isinstance(value, str | bytes | Mapping | Iterator) or not isinstance(value, Collection):
        return False
    try:
        len(value)  # a 0-d numpy array is a Collection whose len() raises
    except TypeError:
        return False
    return True


class SequenceOf(Constraint):
    """A sized collection (list, tuple, 1-D array, ...) whose items each meet a constraint.

    Iterators and generators are refused: checking them would consume them.

    Parameters
    ----------
    item : constraint spec
        Constraint of every item.
    min_len : int
        Least number of items.

    Examples
    --------
    >>> s = SequenceOf(Interval(int, 2, None))
    >>> s.describe(), s.is_satisfied_by([5, 10]), s.is_satisfied_by([]), s.is_satisfied_by([1])
    ('a non-empty sequence of integers >= 2', True, False, False)
    """

    def __init__(self, item: Any, *, min_len: int = 1) -> None:
        self.item = _normalize(item)
        self.min_len = min_len

    def is_satisfied_by(self, value: object) -> bool:  # noqa: D102
        if not _is_collection(value) or len(value) < self.min_len:
            return False
        np = sys.modules.get("numpy")
        if (np is not None and isinstance(value, np.ndarray) and value.ndim == 1
                and len(self.item) == 1 and isinstance(self.item[0], Interval)):
            return self.item[0].array_satisfied_by(value)
        return all(_satisfies(x, self.item) for x in value)

    def describe(self, plural: bool = False) -> str:  # noqa: D102
        size = {0: "", 1: "non-empty "}.get(self.min_len, f"at-least-{self.min_len}-long ")
        noun = "sequences" if plural else _article(f"{size}sequence")
        return f"{noun} of {_describe(self.item, plural=True)}"


class MappingOf(Constraint):
    """A mapping (e.g. a dict) whose values each meet a constraint.

    Parameters
    ----------
    values : constraint spec, optional
        Constraint of every value (default: any value).
    min_len : int
        Least number of entries.

    Examples
    --------
    >>> m = MappingOf(Interval(float, 0, None), min_len=1)
    >>> m.describe(), m.is_satisfied_by({"a": 1.0}), m.is_satisfied_by({})
    ('a non-empty mapping of numbers >= 0', True, False)
    """

    def __init__(self, values: Any = None, *, min_len: int = 0) -> None:
        self.values = None if values is None else _normalize(values)
        self.min_len = min_len

    def is_satisfied_by(self, value: object) -> bool:  # noqa: D102
        if not isinstance(value, Mapping) or len(value) < self.min_len:
            return False
        return self.values is None or all(_satisfies(v, self.values) for v in value.values())

    def describe(self, plural: bool = False) -> str:  # noqa: D102
        size = "non-empty " if self.min_len >= 1 else ""
        noun = f"{size}mappings" if plural else _article(f"{size}mapping")
        return noun if self.values is None else f"{noun} of {_describe(self.values, plural=True)}"


class Array(Constraint):
    """An array-like of real numbers (anything :func:`numpy.asarray` turns into an int/float array).

    Parameters
    ----------
    ndim : int, optional
        Required number of dimensions.
    min_size : int
        Least number of elements.

    Examples
    --------
    >>> Array(ndim=2).describe(), Array(ndim=2).is_satisfied_by([[1.0, 2.0]])
    ('a 2-D array of real numbers', True)
    """

    def __init__(self, ndim: int | None = None, *, min_size: int = 0) -> None:
        self.ndim, self.min_size = ndim, min_size

    def is_satisfied_by(self, value: object) -> bool:  # noqa: D102
        import numpy as np

        try:
            a = value if isinstance(value, np.ndarray) else np.asarray(value)
        except (TypeError, ValueError):
            return False
        return (a.dtype.kind in "iuf" and (self.ndim is None or a.ndim == self.ndim)
                and a.size >= self.min_size)

    def describe(self, plural: bool = False) -> str:  # noqa: D102
        dims = f"{self.ndim}-D " if self.ndim is not None else ""
        size = "non-empty " if self.min_size >= 1 else ""
        noun = f"{size}{dims}array"
        return f"{noun}s of real numbers" if plural else _article(f"{noun} of real numbers")


class _Path(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, os.PathLike) or (isinstance(value, str) and value != "")

    def describe(self, plural: bool = False) -> str:
        return "paths (str or os.PathLike)" if plural else "a path (str or os.PathLike)"


class _Boolean(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        if isinstance(value, bool):
            return True
        np = sys.modules.get("numpy")
        return np is not None and isinstance(value, np.bool_)

    def describe(self, plural: bool = False) -> str:
        return "booleans" if plural else "True or False"


class _Callable(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        return callable(value)

    def describe(self, plural: bool = False) -> str:
        return "callables" if plural else "a callable"


class _Real(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        return _is_real(value)

    def describe(self, plural: bool = False) -> str:
        return "real numbers" if plural else "a real number"


class _Str(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, str)

    def describe(self, plural: bool = False) -> str:
        return "strings" if plural else "a string"


class _Scores(Constraint):
    """A labelled score matrix: an xarray.DataArray with dims ("segment", "query")."""

    def is_satisfied_by(self, value: object) -> bool:
        xr = sys.modules.get("xarray")  # not imported yet: the value cannot be a DataArray
        return (xr is not None and isinstance(value, xr.DataArray)
                and tuple(value.dims) == ("segment", "query"))

    def describe(self, plural: bool = False) -> str:
        what = "xarray.DataArray with dims ('segment', 'query'), e.g. from aria.load_scores"
        return f"score matrices ({what})" if plural else f"a score matrix ({what})"


class _None(Constraint):
    def is_satisfied_by(self, value: object) -> bool:
        return value is None

    def describe(self, plural: bool = False) -> str:
        return "None"


#: Named constraints usable as specs (``{"seed": "seed", "out": [None, "path"]}``).
SHORTCUTS: Mapping[str, Constraint] = MappingProxyType({
    "path": _Path(),
    "seed": Interval(int, 0, None),
    "boolean": _Boolean(),
    "callable": _Callable(),
    "real": _Real(),
    "str": _Str(),
    "scores": _Scores(),
})

_NONE = _None()

#: Constraints of the streaming parameters of every function that reads a score matrix in row
#: blocks (``@validate_params({"scores": "scores", **STREAMING})``).
STREAMING: Mapping[str, Any] = MappingProxyType({
    "block_rows": Interval(int, 1, None),
    "chunk_rows": [None, Interval(int, 1, None)],
    "progress": [None, _Callable()],
})


def _normalize(spec: Any) -> tuple[Constraint, ...]:
    """Constraint spec -> tuple of constraints (any of which may be met)."""
    if isinstance(spec, list | tuple):  # a tuple: as returned by constraints_of
        out: list[Constraint] = []
        for s in spec:
            out.extend(_normalize(s))
        if not out:
            raise TypeError("an empty list of constraints can never be met")
        return tuple(out)
    if spec is None:
        return (_NONE,)
    if isinstance(spec, Constraint):
        return (spec,)
    if isinstance(spec, str):
        if spec not in SHORTCUTS:
            raise TypeError(f"unknown constraint shortcut {spec!r} (known: {', '.join(SHORTCUTS)})")
        return (SHORTCUTS[spec],)
    if isinstance(spec, type):
        return (InstanceOf(spec),)
    raise TypeError(f"not a constraint spec: {spec!r}")


def _satisfies(value: object, constraints: tuple[Constraint, ...]) -> bool:
    for c in constraints:
        if c.is_satisfied_by(value):
            return True
    return False


def _describe(constraints: tuple[Constraint, ...], plural: bool = False) -> str:
    # None last: "an integer >= 1 or None"
    parts = [c.describe(plural) for c in constraints if c is not _NONE]
    if any(c is _NONE for c in constraints):
        parts.append("None")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def describe(spec: Any) -> str:
    """Describe a constraint spec as messages do.

    Parameters
    ----------
    spec : constraint spec
        See the module docstring.

    Returns
    -------
    str

    Examples
    --------
    >>> describe([None, Interval(int, 1, None)])
    'an integer >= 1 or None'
    """
    return _describe(_normalize(spec))


def _show(value: object) -> str:
    """Short rendering of a bad value for a one-line message."""
    if value is None or isinstance(value, bool | str):
        text = repr(value)
    elif isinstance(value, numbers.Integral):
        text = repr(int(value))
    elif isinstance(value, numbers.Real):
        text = repr(float(value))
    elif isinstance(value, list | tuple) and len(value) <= 8 and all(
            x is None or isinstance(x, bool | str | numbers.Number) for x in value):
        text = repr(type(value)(_plain(x) for x in value))
    else:
        return _article(type(value).__name__)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(x: object) -> object:
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    return x


def _check(name: str, value: object, constraints: tuple[Constraint, ...], function: str | None) -> None:
    if not _satisfies(value, constraints):
        raise AriaInputError(f"{name} must be {_describe(constraints)}, got {_show(value)}",
                             parameter=name, function=function)


def check_params(constraints: Mapping[str, Any], values: Mapping[str, object], *,
                 function: str | None = None) -> None:
    """Check values against constraints (the call form of :func:`validate_params`).

    For places a decorator does not fit, e.g. a dataclass's ``__post_init__``.

    Parameters
    ----------
    constraints : mapping
        Parameter name -> constraint spec.
    values : mapping
        Parameter name -> value; names without a value are skipped.
    function : str, optional
        Name recorded in the error's ``function`` attribute.

    Raises
    ------
    AriaInputError
        The first value (in ``constraints`` order) that meets none of its specs.

    Examples
    --------
    >>> check_params({"dpi": Interval(int, 10, None)}, {"dpi": 5})
    Traceback (most recent call last):
    ...
    aria.errors.AriaInputError: dpi must be an integer >= 10, got 5
    """
    for name, spec in constraints.items():
        if name in values:
            _check(name, values[name], _normalize(spec), function)


def validate_params(constraints: Mapping[str, Any]) -> Callable[[F], F]:
    """Decorator: check a function's arguments against declared constraints before it runs.

    Parameters
    ----------
    constraints : mapping
        Parameter name -> constraint spec (see the module docstring). Names may
        also be keys accepted through the function's ``**kwargs``; when some are,
        they are the only keys it accepts (any other is a ``TypeError``, as Python
        raises for an unknown keyword).

    Returns
    -------
    callable
        Decorator returning a wrapper with the same signature and docstring;
        its constraints are in :func:`constraints_of`.

    Raises
    ------
    TypeError
        At decoration: a name that is not a parameter, or a bad spec.

    Examples
    --------
    >>> @validate_params({"workers": Interval(int, 1, None)})
    ... def run(*, workers=1):
    ...     return workers
    >>> run(workers=0)
    Traceback (most recent call last):
    ...
    aria.errors.AriaInputError: workers must be an integer >= 1, got 0
    """

    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        var_kw = next((p.name for p in sig.parameters.values() if p.kind is p.VAR_KEYWORD), None)
        for name in constraints:
            if name not in sig.parameters and var_kw is None:
                raise TypeError(f"{func.__qualname__} has no parameter {name!r}")
        table = MappingProxyType({name: _normalize(spec) for name, spec in constraints.items()})
        qualname = func.__qualname__
        # Constraints on names outside the signature declare what ``**kwargs`` accepts: only those.
        accepted_extra = frozenset(constraints) - frozenset(sig.parameters)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                arguments = sig.bind(*args, **kwargs).arguments
            except TypeError:  # wrong call: let Python raise its own message
                return func(*args, **kwargs)
            extra = (arguments.get(var_kw) or {}) if var_kw is not None else {}
            unknown = sorted(set(extra) - accepted_extra) if accepted_extra else []
            if unknown:
                raise TypeError(f"{qualname}() got an unexpected keyword argument {unknown[0]!r}")
            for name, cons in table.items():
                if name in arguments:
                    _check(name, arguments[name], cons, qualname)
                elif name in extra:
                    _check(name, extra[name], cons, qualname)
            return func(*args, **kwargs)

        setattr(wrapper, _ATTR, table)
        return wrapper  # type: ignore[return-value]

    return decorate


def constraints_of(func: Callable) -> Mapping[str, tuple[Constraint, ...]]:
    """The constraints :func:`validate_params` declared on ``func`` (empty when none).

    Parameters
    ----------
    func : callable
        A function, or a bound/class method.

    Returns
    -------
    mapping
        Parameter name -> tuple of constraints (any of which may be met).

    Examples
    --------
    >>> import aria.params as p
    >>> @p.validate_params({"k": p.Interval(int, 2, None)})
    ... def f(k):
    ...     return k
    >>> list(p.constraints_of(f))
    ['k']
    """
    return getattr(getattr(func, "__func__", func), _ATTR, MappingProxyType({}))
