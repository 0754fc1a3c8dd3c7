"""Exception types raised by Aria.

Every problem with user input raises :class:`AriaInputError` (or a subclass)
with a one-line, human-readable message. The command-line interface turns it
into ``aria: error: <message>`` and exit status 2, never a traceback.
"""


class AriaError(Exception):
    """Base class of every error Aria raises on purpose."""


class AriaInputError(AriaError, ValueError):
    """Bad input: a missing, unreadable, malformed or inconsistent file or array."""


class AriaDependencyError(AriaError, ImportError):
    """An optional dependency is not installed; the message names the command that installs it."""
