"""Running the homogeneity engine for reports and comparisons.

A thin layer over :func:`aria.groups.engine.homogeneity`: the channel set and
feature table are loaded once and shared by every method, and the random
reference nulls are shared through the engine's on-disk
:class:`~aria.groups.null.NullCache` in a directory the caller owns, so
methods scored over the same tracks are compared against the very same null
(spec section 3: the null depends only on the pool, K and the seed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from aria.diagnostics.reliability import Diagnostics
from aria.errors import AriaInputError
from aria.groups.normalize import METHODS
from aria.params import InstanceOf, Interval, Options, SequenceOf, check_params, validate_params

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    from aria.features.channels import ChannelSet
    from aria.features.table import FeatureTable
    from aria.groups.engine import HomogeneityResult

__all__ = ["HomogeneitySetup", "homogeneity_summary"]

_RESULT = InstanceOf("aria.groups.result.HomogeneityResult")
_K = [None, Interval(int, 2, None)]
#: Constraints of the shared parameters (checked by ``load`` before reading files, and on construction).
_SETUP = {"k": [None, SequenceOf(Interval(int, 2, None))], "null_groups": Interval(int, 2, None),
          "seed": "seed", "normalize": Options(METHODS), "cache_dir": [None, "path"]}


@validate_params({"result": _RESULT, "k": _K, "matrix": Options(("scores", "residual"))})
def homogeneity_summary(
    result: HomogeneityResult, k: int | None = None, matrix: str = "scores"
) -> dict[str, dict[str, float]]:
    """Per-channel ``z_bar``, ``pos``, ``sig`` and ``n_queries`` at one K.

    Parameters
    ----------
    result : aria.groups.result.HomogeneityResult
        Homogeneity of one method.
    k : int, optional
        Group size (default: 10 when computed, else the smallest K).
    matrix : str
        ``"scores"`` or ``"residual"``.

    Returns
    -------
    dict
        ``{channel: {"z_bar", "pos", "sig", "n_queries"}}``.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.setup import homogeneity_summary
    >>> summary = homogeneity_summary(aria.examples.tiny().homogeneity(k=[2, 3]))  # K = 2, the smallest
    >>> {c: {stat: round(v, 2) for stat, v in s.items()} for c, s in summary.items()}
    {'a': {'z_bar': 1.26, 'pos': 1.0, 'sig': 0.0, 'n_queries': 2}}
    """
    from aria.groups.result import summarize

    mh = result.scores if matrix == "scores" else result.residual
    if mh is None:
        raise AriaInputError("the result has no residual homogeneity (run homogeneity with residual=True)",
                             parameter="matrix", function="homogeneity_summary")
    k = pick_k(mh.k_values, k)
    out = {}
    for c in mh.channels:
        s = summarize(mh.z(c, k), mh.included)
        out[c] = {"z_bar": s["z_mean"], "pos": s["pos"], "sig": s["sig"], "n_queries": s["n_queries"]}
    return out


@validate_params({"k": _K})
def pick_k(k_values: tuple[int, ...], k: int | None) -> int:
    """The requested K, or 10 when available, else the smallest K computed."""
    if k is None:
        return 10 if 10 in k_values else k_values[0]
    if k not in k_values:
        raise AriaInputError(f"K = {k} was not computed (K values: {', '.join(map(str, k_values))})",
                             parameter="k", function="pick_k")
    return k


@dataclass
class HomogeneitySetup:
    """Channel set, feature table and parameters shared by every method of a report.

    Attributes
    ----------
    channel_set : aria.features.channels.ChannelSet
        Channels and features.
    features : aria.features.table.FeatureTable
        Usable per-track features.
    k : tuple of int or None
        Group sizes (None = the engine's default sweep).
    null_groups : int
        Random reference groups per K.
    seed : int
        Seed of the null.
    normalize : str
        Column normalization.
    cache_dir : path-like or None
        Null cache directory (None = no on-disk cache).
    features_path : str
        Source of the feature table.

    Examples
    --------
    >>> import aria
    >>> from aria.groups.setup import HomogeneitySetup
    >>> setup = HomogeneitySetup.load(aria.examples.features_path(), "symbolic", k=(10,),
    ...                               null_groups=50, seed=0)
    >>> setup.channel_set.name, setup.features.n_rows
    ('symbolic', 406)
    >>> res = setup.run(aria.load_scores(aria.examples.path("bach-knn")), alignment=False)
    >>> res.k_values
    (10,)
    """

    channel_set: ChannelSet
    features: FeatureTable
    k: tuple[int, ...] | None = None
    null_groups: int = 1000
    seed: int = 0
    normalize: str = "auto"
    cache_dir: str | os.PathLike[str] | None = None
    features_path: str = ""

    def __post_init__(self) -> None:
        check_params({"channel_set": InstanceOf("aria.features.channels.ChannelSet"),
                      "features": InstanceOf("aria.features.table.FeatureTable"), **_SETUP,
                      "features_path": "str"}, vars(self), function="HomogeneitySetup")

    @classmethod
    @validate_params({"features": [pd.DataFrame, "path"], "channels": "path", **_SETUP})
    def load(cls, features: str | os.PathLike[str] | pd.DataFrame,
             channels: str | os.PathLike[str] = "symbolic", **kwargs) -> HomogeneitySetup:
        """Load the channel set and the feature table.

        Parameters
        ----------
        features : path-like or pandas.DataFrame
            Feature table (Parquet) or a DataFrame in the same layout.
        channels : str or path-like
            ``"audio"``, ``"symbolic"`` or a TOML path.
        **kwargs
            Other attributes (``k``, ``null_groups``, ``seed``, ``normalize``, ``cache_dir``).

        Returns
        -------
        HomogeneitySetup
        """
        from aria.features.channels import load_channel_set
        from aria.features.table import feature_table_from_frame, load_feature_table

        cset = load_channel_set(channels)
        if isinstance(features, pd.DataFrame):
            table, src = feature_table_from_frame(features, cset), "<DataFrame>"
        else:
            table, src = load_feature_table(Path(features), cset), str(features)
        if kwargs.get("k") is not None:
            kwargs["k"] = tuple(int(x) for x in kwargs["k"])
        return cls(channel_set=cset, features=table, features_path=src, **kwargs)

    @validate_params({"scores": "scores", "diagnostics": [None, Diagnostics], "residual": "boolean",
                      "labels": [None, pd.Series, Mapping], "alignment": "boolean"})
    def run(self, scores: xr.DataArray, diagnostics: Diagnostics | None = None, *, residual: bool = False,
            labels: pd.Series | None = None, alignment: bool = True, client: object = None
            ) -> HomogeneityResult:
        """Homogeneity of one score matrix with the shared setup.

        Parameters
        ----------
        scores : xarray.DataArray
            Score matrix.
        diagnostics : Diagnostics, optional
            Its diagnostics (computed when omitted).
        residual : bool
            Also analyse the rank-1 residual (ignored for an all-zero matrix).
        labels : pandas.Series, optional
            Query id -> label, for the confound analysis.
        alignment : bool
            Compute the axis-channel alignment.
        client : distributed.Client, optional
            Run the nulls and group similarities on this dask cluster (same results).

        Returns
        -------
        aria.groups.result.HomogeneityResult
        """
        from aria.groups.engine import homogeneity

        has_axis = diagnostics is None or diagnostics.sigma_1 > 0
        return homogeneity(scores, self.features, self.channel_set, k=self.k, normalize=self.normalize,
                           null_groups=self.null_groups, seed=self.seed,
                           residual=residual and has_axis, labels=labels, diagnostics=diagnostics,
                           cache_dir=self.cache_dir, alignment=alignment, client=client)

    @validate_params({"scores": "scores", "diagnostics": [None, Diagnostics], "k": _K})
    def summary(self, scores: xr.DataArray, diagnostics: Diagnostics | None = None,
                k: int | None = None) -> dict[str, dict[str, float]]:
        """Per-channel summaries at one K (see :func:`homogeneity_summary`)."""
        result = self.run(scores, diagnostics, alignment=False)
        return homogeneity_summary(result, k)

    def parameters(self) -> dict:
        """Parameters for the provenance record."""
        return {"channels": self.channel_set.name, "channel_set_source": str(self.channel_set.source),
                "k": list(self.k) if self.k else None, "null_groups": self.null_groups,
                "seed": self.seed, "normalize": self.normalize, "features": self.features_path}

