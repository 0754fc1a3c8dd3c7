"""Exception types raised by Aria: one hierarchy, rooted at :class:`AriaError`.

::

    AriaError                      every error Aria raises on purpose
    ├── AriaInputError             bad input (also a ValueError); ``parameter`` names the API parameter
    ├── AriaDependencyError        an optional dependency is missing (also an ImportError)
    └── ExtractionError            one item of a feature-extraction batch cannot be extracted
        ├── AudioDecodeError       ... because the file cannot be decoded to audio
        └── AudioFeatureError      ... because its features cannot be computed (too short, silent)

Every problem with user input raises :class:`AriaInputError` with a one-line,
human-readable message; when the problem is one parameter's value, the error's
``parameter`` attribute holds that parameter's name in the Python API (see
:mod:`aria.params`). The command-line interface turns an :class:`AriaError` into
``aria: error: <message>`` and exit status 2, never a traceback, and prefixes the
message with the command-line flag of ``parameter`` (``aria: error: --k: ...``).

Extraction errors are per item: the batch records the message in the row's
``error`` column and goes on (:mod:`aria.features.extract.batch`); they are also
importable from the modules that raise them.

Examples
--------
>>> from aria.errors import AriaError, AriaInputError
>>> err = AriaInputError("k must be an integer >= 2, got 1", parameter="k")
>>> err.parameter, str(err), isinstance(err, AriaError) and isinstance(err, ValueError)
('k', 'k must be an integer >= 2, got 1', True)
"""

from __future__ import annotations

__all__ = [
    "AriaError",
    "AriaInputError",
    "AriaDependencyError",
    "ExtractionError",
    "AudioDecodeError",
    "AudioFeatureError",
]


class AriaError(Exception):
    """Base class of every error Aria raises on purpose.

    Examples
    --------
    >>> import aria
    >>> from aria.errors import AriaError
    >>> try:
    ...     aria.examples.path("no-such-example")
    ... except AriaError as e:
    ...     print(type(e).__name__)
    AriaInputError
    """


class AriaInputError(AriaError, ValueError):
    """Bad input: a missing, unreadable, malformed or inconsistent file, array or parameter value.

    Parameters
    ----------
    message : str
        One-line message. When it is about one parameter it starts with that
        parameter's API name (``"k must be an integer >= 2, got 1"``).
    parameter : str, optional
        API name of the offending parameter (None when the problem is the
        content of a file or array rather than one parameter's value).
    function : str, optional
        Qualified name of the public function whose parameter it is.

    Attributes
    ----------
    parameter : str or None
        As given.
    function : str or None
        As given.

    Examples
    --------
    >>> import pickle
    >>> from aria.errors import AriaInputError
    >>> err = pickle.loads(pickle.dumps(AriaInputError("seed must be >= 0", parameter="seed")))
    >>> err.parameter, str(err)
    ('seed', 'seed must be >= 0')
    """

    def __init__(self, message: str = "", *, parameter: str | None = None,
                 function: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.function = function

    def __reduce__(self):  # keep ``parameter`` across pickling (worker processes)
        return (_rebuild_input_error, (type(self), str(self), self.parameter, self.function))


def _rebuild_input_error(cls: type[AriaInputError], message: str, parameter: str | None,
                         function: str | None) -> AriaInputError:
    return cls(message, parameter=parameter, function=function)


class AriaDependencyError(AriaError, ImportError):
    """An optional dependency is not installed; the message names the command that installs it.

    Examples
    --------
    >>> from aria.errors import AriaDependencyError
    >>> try:
    ...     raise AriaDependencyError("plots need matplotlib: pip install 'aria-tda[notebook]'")
    ... except ImportError as e:  # also an ImportError, for code that checks optional imports
    ...     print(e)
    plots need matplotlib: pip install 'aria-tda[notebook]'
    """


class ExtractionError(AriaError):
    """Expected failure of one item of an extraction batch (empty file, drum-only, ...).

    Its message is the one-line reason stored in the row's ``error`` column.

    Examples
    --------
    >>> from aria.errors import AriaError, ExtractionError
    >>> err = ExtractionError("drum tracks only (no pitched notes)")
    >>> isinstance(err, AriaError), str(err)
    (True, 'drum tracks only (no pitched notes)')
    """


class AudioDecodeError(ExtractionError):
    """A file that cannot be turned into audio (empty, corrupt, unknown format).

    Recorded as the file's ``error`` in the feature table; the batch goes on.

    Examples
    --------
    >>> from aria.errors import AudioDecodeError, ExtractionError
    >>> issubclass(AudioDecodeError, ExtractionError)  # a failed row, not a failed batch
    True
    """


class AudioFeatureError(ExtractionError):
    """A file whose features cannot be computed (too short, silent, extractor failure).

    Examples
    --------
    >>> from aria.errors import AudioFeatureError
    >>> str(AudioFeatureError("too short for beat tracking (0.4 s)"))
    'too short for beat tracking (0.4 s)'
    """
