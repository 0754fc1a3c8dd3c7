"""The tiny example: the one small fixture the docstring examples share.

Eight tracks ``t0`` .. ``t7`` with one vector feature ``x = 0, 1, ..., 7`` (channel ``a``,
standardized Euclidean similarity), one segment per track, and two queries: ``q1`` scores a
track ``-|x - 1|`` and ``q2`` scores it ``-|x - 6|``, so each query's best tracks are the ones
whose ``x`` is closest to its own (``q1``: ``t1``, then ``t0`` and ``t2``; ``q2``: ``t6``, then
``t5`` and ``t7``). The two columns are strongly (negatively) correlated, so the diagnostics
call the matrix ``collapsed``. Query labels: ``q1`` ``"low"``, ``q2`` ``"high"``.

Everything is built in memory, without randomness, in milliseconds; the homogeneity helpers
default to ``K = 3`` and 200 random reference groups drawn with seed 0, so every result is the
same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    import numpy as np
    import pandas as pd
    import xarray as xr

    from aria.evaluate.evidence import QueryEvidence
    from aria.features.channels import ChannelSet
    from aria.features.table import FeatureTable
    from aria.groups.engine import Prepared
    from aria.groups.null import NullDistribution
    from aria.groups.result import HomogeneityResult
    from aria.groups.setup import HomogeneitySetup

__all__ = ["TinyExample", "tiny"]

#: The channel set of the tiny example (the mapping :func:`aria.features.channels.parse_channel_set` reads).
CHANNEL_SET = {"name": "tiny", "channels": {"a": {}}, "features": {
    "x": {"channel": "a", "kind": "vector", "dim": 1, "similarity": "seuclidean"}}}
#: Feature value of each track; track ``t<i>`` has ``x = X[i]``.
X = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)
#: Query id -> the ``x`` its tracks score best at (score ``-|x - centre|``).
QUERIES = {"q1": 1.0, "q2": 6.0}
#: Query id -> label (for the confound analysis).
LABELS = {"q1": "low", "q2": "high"}
#: Defaults of the homogeneity helpers: group size, random reference groups, seed.
K, NULL_GROUPS, SEED = (3,), 200, 0


@dataclass(frozen=True, eq=False)
class TinyExample:
    """The tiny example's inputs, and the homogeneity results the examples build from them.

    Attributes
    ----------
    channel_set : ChannelSet
        One channel ``a`` with one vector feature ``x`` (dimension 1).
    frame : pandas.DataFrame
        The feature table as a DataFrame: columns ``track`` and ``x``.
    features : FeatureTable
        ``frame`` checked against ``channel_set``.
    scores : xarray.DataArray
        8 segments (one per track) x 2 queries.
    labels : pandas.Series
        Query id -> label, named ``"register"``.

    Examples
    --------
    >>> import aria
    >>> t = aria.examples.tiny()
    >>> t.scores.shape, t.track_ids.tolist()[:3], t.channel_set.channels
    ((8, 2), ['t0', 't1', 't2'], ('a',))
    >>> t.scores.sel(query="q1").values.tolist()
    [-1.0, 0.0, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0]
    """

    channel_set: ChannelSet
    frame: pd.DataFrame
    features: FeatureTable
    scores: xr.DataArray
    labels: pd.Series

    @property
    def track_ids(self) -> np.ndarray:
        """Track ids ``t0`` .. ``t7`` (str), in track order."""
        return self.features.track_ids

    def prepare(self, k: Sequence[int] = K) -> Prepared:
        """:func:`aria.groups.engine.prepare` of the tiny example (step 2 of the engine).

        Parameters
        ----------
        k : sequence of int
            Group sizes (each below 8).

        Returns
        -------
        aria.groups.engine.Prepared
            Diagnostics, track scores, the pool of all eight tracks and their similarities.

        Examples
        --------
        >>> import aria
        >>> prep = aria.examples.tiny().prepare()
        >>> prep.ks, prep.pool.size
        ((3,), 8)
        """
        from aria.groups.engine import prepare

        return prepare(self.scores, self.channel_set, self.features, k=list(k))

    def nulls(self, k: Sequence[int] = K) -> dict[int, NullDistribution]:
        """The random-reference null of each K (200 groups, seed 0), as the engine computes them.

        Parameters
        ----------
        k : sequence of int
            Group sizes, each below the eight tracks of the pool.

        Returns
        -------
        dict of int -> aria.groups.null.NullDistribution
            What :func:`aria.groups.engine.group_homogeneity` and :func:`aria.groups.engine.collect` take.

        Examples
        --------
        >>> import aria
        >>> nulls = aria.examples.tiny().nulls([2, 3])
        >>> sorted(nulls), nulls[3].n_groups, nulls[3].seed
        ([2, 3], 200, 0)
        """
        from aria.groups.null import null_distributions

        return null_distributions(self.prepare(k).similarity, list(k), NULL_GROUPS, seed=SEED)

    def homogeneity(self, **kwargs) -> HomogeneityResult:
        """:func:`aria.homogeneity` of the tiny example.

        Parameters
        ----------
        **kwargs
            Parameters of :func:`aria.groups.engine.homogeneity`; the defaults here are
            ``k=(3,)``, ``null_groups=200``, ``seed=0`` and ``alignment=False``.

        Returns
        -------
        aria.groups.result.HomogeneityResult
            With K = 3 unless ``k`` is given.

        Examples
        --------
        >>> import aria
        >>> res = aria.examples.tiny().homogeneity()
        >>> res.k_values, res.scores.data.groups.sel(query="q1").values.tolist()
        ((3,), ['t1', 't0', 't2'])
        """
        from aria.groups.engine import homogeneity

        params = {"k": K, "null_groups": NULL_GROUPS, "seed": SEED, "alignment": False, **kwargs}
        return homogeneity(self.scores, self.features, self.channel_set, **params)

    def report_result(self) -> HomogeneityResult:
        """Everything a report shows: K = 2 and 3, the rank-1 residual, the alignment and the labels.

        Returns
        -------
        aria.groups.result.HomogeneityResult
            With ``residual``, ``alignment`` and ``confound`` (by :attr:`labels`) filled in.

        Examples
        --------
        >>> import aria
        >>> res = aria.examples.tiny().report_result()
        >>> res.k_values, res.residual is not None, res.confound.label_name
        ((2, 3), True, 'register')
        """
        return self.homogeneity(k=(2, 3), residual=True, labels=self.labels, alignment=True)

    def setup(self) -> HomogeneitySetup:
        """A :class:`~aria.groups.setup.HomogeneitySetup` over the tiny example (K = 3, 200 groups, seed 0).

        Returns
        -------
        aria.groups.setup.HomogeneitySetup
            Over the eight tracks.

        Examples
        --------
        >>> import aria
        >>> setup = aria.examples.tiny().setup()
        >>> setup.k, setup.null_groups, setup.features.n_tracks
        ((3,), 200, 8)
        """
        from aria.groups.setup import HomogeneitySetup

        return HomogeneitySetup(channel_set=self.channel_set, features=self.features, k=K,
                                null_groups=NULL_GROUPS, seed=SEED, features_path="<tiny>")

    def evidence(self, query: str = "q1", k: int = 3) -> QueryEvidence:
        """:func:`aria.query_evidence` of one query of the tiny example.

        Parameters
        ----------
        query : str
            ``"q1"`` or ``"q2"``.
        k : int
            Group size.

        Returns
        -------
        aria.evaluate.evidence.QueryEvidence
            The top-``k`` tracks of ``query`` and their similarity against the null.

        Examples
        --------
        >>> import aria
        >>> ev = aria.examples.tiny().evidence("q2")
        >>> ev.tracks["track"].tolist()
        ['t6', 't5', 't7']
        """
        from aria.evaluate.evidence import query_evidence

        return query_evidence(self.scores, self.setup(), query, k=k)


def tiny() -> TinyExample:
    """The tiny example (8 tracks, one feature, 2 queries), built in memory.

    Returns
    -------
    TinyExample
        A fresh, identical object on every call.

    Examples
    --------
    >>> import aria
    >>> t = aria.examples.tiny()
    >>> t.frame["x"].tolist() == list(range(8)), t.labels.to_dict()
    (True, {'q1': 'low', 'q2': 'high'})
    """
    import numpy as np
    import pandas as pd

    from aria.features.channels import parse_channel_set
    from aria.features.table import feature_table_from_frame
    from aria.io.scores import scores_from_array

    cs = parse_channel_set(CHANNEL_SET, source="<tiny>")
    x = np.asarray(X)
    frame = pd.DataFrame({"track": [f"t{i}" for i in range(x.size)], "x": x})
    table = feature_table_from_frame(frame, cs)
    centres = np.asarray(list(QUERIES.values()))
    scores = scores_from_array(0.0 - np.abs(x[:, None] - centres[None, :]), query_ids=list(QUERIES),
                               segment_track=table.track_ids, source="<tiny>")
    labels = pd.Series(LABELS, name="register")
    return TinyExample(cs, frame, table, scores, labels)
