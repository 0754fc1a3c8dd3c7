"""Input validation, done once at the boundary (mir_eval style).

Every function here either returns normally or raises
:class:`~aria.errors.AriaInputError` with a one-line message that names the
offending file, position or id. Computation modules trust their input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from aria.errors import AriaInputError

#: Dimension names of a score matrix.
SEGMENT, QUERY, TRACK = "segment", "query", "track"


def validate_dtype(dtype: np.dtype, what: str = "score matrix") -> None:
    """Reject arrays that are not real numbers (object, string, bool, complex...).

    Parameters
    ----------
    dtype : numpy.dtype
        The array's dtype.
    what : str
        Name used in the message.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.io.validate import validate_dtype
    >>> validate_dtype(np.dtype("float32"))
    >>> try:
    ...     validate_dtype(np.dtype("complex128"))
    ... except aria.AriaInputError as e:
    ...     print(e)
    score matrix: must hold real numbers (integer or float), got dtype complex128
    """
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise AriaInputError(
            f"{what}: holds Python objects (dtype={dtype}); Aria never unpickles data: "
            "save a numeric array instead"
        )
    if dtype.kind not in "iuf":
        raise AriaInputError(
            f"{what}: must hold real numbers (integer or float), got dtype {dtype}"
        )


def validate_scores(scores: xr.DataArray) -> None:
    """Check the structure of a labelled score matrix.

    Values (NaN/Inf) are checked while they stream through the diagnostics,
    so that a multi-gigabyte file is read once, not twice; see
    :func:`check_finite`.

    Parameters
    ----------
    scores : xarray.DataArray
        Matrix with dims ``("segment", "query")`` and a ``track`` coordinate
        on ``segment``.

    Raises
    ------
    AriaInputError
        Wrong dims, empty, non-numeric, duplicate query ids, or a track
        coordinate of the wrong length.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.io.validate import validate_scores
    >>> validate_scores(aria.scores_from_array(np.ones((3, 2))))
    >>> try:
    ...     validate_scores(aria.scores_from_array(np.ones((3, 1))).expand_dims("extra"))
    ... except aria.AriaInputError as e:
    ...     print(type(e).__name__)
    AriaInputError
    """
    if not isinstance(scores, xr.DataArray):
        raise AriaInputError(
            f"expected an xarray.DataArray (use aria.load_scores), got {type(scores).__name__}"
        )
    if scores.ndim != 2:
        raise AriaInputError(
            f"score matrix must be 2-D (segments x queries), got {scores.ndim}-D "
            f"with shape {tuple(scores.shape)}"
        )
    if tuple(scores.dims) != (SEGMENT, QUERY):
        raise AriaInputError(
            f"score matrix dims must be ('segment', 'query'), got {tuple(scores.dims)}"
        )
    n, q = scores.shape
    if n == 0 or q == 0:
        raise AriaInputError(f"score matrix is empty (shape {n} x {q})")
    validate_dtype(scores.dtype)
    if QUERY in scores.coords:
        ids = scores.coords[QUERY].values
        _check_unique(ids, "query id")
    if TRACK in scores.coords:
        track = scores.coords[TRACK]
        if track.dims != (SEGMENT,):
            raise AriaInputError("the 'track' coordinate must lie along the 'segment' dim")


def _check_unique(ids: Sequence | np.ndarray, what: str) -> None:
    ids = np.asarray(ids)
    uniq, counts = np.unique(ids, return_counts=True)
    if uniq.size != ids.size:
        dup = uniq[counts > 1][:3]
        shown = ", ".join(repr(x.item() if hasattr(x, "item") else x) for x in dup)
        raise AriaInputError(f"duplicate {what}s: {shown} ({int((counts > 1).sum())} duplicated)")


def check_unique(ids: Sequence | np.ndarray, what: str) -> None:
    """Raise if ``ids`` holds duplicates; the message shows up to three of them.

    Parameters
    ----------
    ids : array-like
        Identifiers.
    what : str
        Singular noun used in the message (e.g. ``"query id"``).

    Examples
    --------
    >>> import aria
    >>> from aria.io.validate import check_unique
    >>> check_unique(["q1", "q2"], "query id")
    >>> try:
    ...     check_unique(["q1", "q2", "q1"], "query id")
    ... except aria.AriaInputError as e:
    ...     print(e)
    duplicate query ids: 'q1' (1 duplicated)
    """
    _check_unique(ids, what)


def check_finite(
    block: np.ndarray, row_offset: int, query_ids: np.ndarray | None = None, source: str = ""
) -> None:
    """Raise on the first NaN or infinite value of a row block.

    Parameters
    ----------
    block : numpy.ndarray
        Rows ``row_offset .. row_offset + len(block)`` of the score matrix.
    row_offset : int
        Index of the block's first row in the whole matrix.
    query_ids : numpy.ndarray, optional
        Query labels, used to name the offending column.
    source : str
        File name used as the message's prefix.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.io.validate import check_finite
    >>> check_finite(np.ones((2, 2)), 0)
    >>> try:
    ...     check_finite(np.array([[1.0, np.nan]]), 41, np.array(["q1", "q2"]))
    ... except aria.AriaInputError as e:
    ...     print(e)
    score matrix has a NaN at segment 41, query 'q2' (1 non-finite value(s) in rows 41..41);
    fix or drop those entries first
    """
    finite = np.isfinite(block)
    if finite.all():
        return
    r, c = np.argwhere(~finite)[0]
    value = block[r, c]
    n_bad = int((~finite).sum())
    col = f"query {str(query_ids[c])!r}" if query_ids is not None else f"column {c}"
    kind = "a NaN" if np.isnan(value) else "an infinite value"
    prefix = f"{source}: " if source else ""
    raise AriaInputError(
        f"{prefix}score matrix has {kind} at segment {row_offset + r}, {col} "
        f"({n_bad} non-finite value(s) in rows {row_offset}..{row_offset + len(block) - 1}); "
        "fix or drop those entries first"
    )


def validate_track_map(track: np.ndarray, n_segments: int, source: str = "track map") -> None:
    """Check that a segment -> track map covers every segment exactly once.

    Parameters
    ----------
    track : numpy.ndarray
        One track id per segment, in row order.
    n_segments : int
        Number of rows of the score matrix.
    source : str
        Name used in messages.

    Examples
    --------
    >>> import aria
    >>> import numpy as np
    >>> from aria.io.validate import validate_track_map
    >>> validate_track_map(np.array(["a", "a", "b"]), 3)
    >>> try:
    ...     validate_track_map(np.array(["a", "b"]), 3)
    ... except aria.AriaInputError as e:
    ...     print(e)
    track map has 2 entries but the score matrix has 3 segments
    """
    track = np.asarray(track)
    if track.ndim != 1:
        raise AriaInputError(f"{source} must be 1-D (one track id per segment), got {track.ndim}-D")
    if track.shape[0] != n_segments:
        raise AriaInputError(
            f"{source} has {track.shape[0]} entries but the score matrix has {n_segments} segments"
        )
    if track.dtype.hasobject:
        missing = [i for i, t in enumerate(track) if t is None or (isinstance(t, float) and t != t)]
        if missing:
            raise AriaInputError(f"{source} has no track for segment {missing[0]}")
    elif track.dtype.kind == "f" and not np.isfinite(track).all():
        raise AriaInputError(
            f"{source} has no track for segment {int(np.flatnonzero(~np.isfinite(track))[0])}"
        )
