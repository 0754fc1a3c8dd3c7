"""Axis-channel alignment (spec section 5, paper Eq. 8).

How much of the dominant train-side axis ``u1`` (averaged per track) a
channel's features explain:

- ``A_max(c) = max over features f of c and dimensions j of |corr(u1, X^f[:, j])|``
  (constant dimensions have no correlation and are skipped);
- ``A_grp(c) = max over features f of c of R^2`` of the least-squares
  regression of ``u1`` on ``X^f`` with an intercept; the adjusted R^2
  ``1 - (1 - R^2) (n - 1) / (n - p - 1)`` (``p`` = rank of the centred design)
  of that feature is reported beside it.

Sequence features are skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aria.errors import AriaInputError
from aria.features.table import FeatureTable
from aria.params import Array, validate_params

__all__ = ["AlignmentResult", "axis_alignment", "feature_alignment"]


@dataclass
class AlignmentResult:
    """Axis-channel alignment.

    Attributes
    ----------
    channels : pandas.DataFrame
        One row per channel: ``channel, a_max, a_max_feature, a_max_dim, a_grp,
        a_grp_adjusted, a_grp_feature`` (NaN when the channel has no vector feature).
    features : pandas.DataFrame
        One row per vector feature: ``feature, channel, max_abs_corr, best_dim,
        r2, r2_adjusted, n_params, n_tracks``.
    skipped : list of str
        Sequence features (not used).
    n_tracks : int
        Tracks used.

    Examples
    --------
    >>> import aria
    >>> al = aria.examples.tiny().homogeneity(alignment=True).alignment
    >>> al.n_tracks, al.skipped, al.channels["channel"].tolist(), al.features["feature"].tolist()
    (8, [], ['a'], ['x'])
    """

    channels: pd.DataFrame
    features: pd.DataFrame
    skipped: list[str]
    n_tracks: int

    def to_dict(self) -> dict:
        """JSON-ready dict keyed by channel."""
        out = {}
        for row in self.channels.to_dict("records"):
            out[row.pop("channel")] = row
        return {"channels": out, "features": self.features.to_dict("records"),
                "skipped": list(self.skipped), "n_tracks": self.n_tracks}


@validate_params({"u1": Array(ndim=1), "x": Array()})
def feature_alignment(u1: np.ndarray, x: np.ndarray) -> dict:
    """Correlations and regression R^2 of ``u1`` on one feature matrix.

    Parameters
    ----------
    u1 : numpy.ndarray
        (n,) axis values.
    x : numpy.ndarray
        (n, d) feature values.

    Returns
    -------
    dict
        ``max_abs_corr``, ``best_dim``, ``r2``, ``r2_adjusted``, ``n_params``, ``corr`` (per dim).

    Examples
    --------
    >>> import numpy as np
    >>> from aria.groups.alignment import feature_alignment
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 3))
    >>> u1 = 2.0 * x[:, 1] + 0.1 * rng.normal(size=200)
    >>> out = feature_alignment(u1, x)
    >>> sorted(out)
    ['best_dim', 'corr', 'max_abs_corr', 'n_params', 'r2', 'r2_adjusted']
    >>> bool(out["r2"] > 0.99)
    True
    """
    u = np.asarray(u1, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    n = u.size
    uc = u - u.mean()
    xc = x - x.mean(axis=0)
    sx = np.sqrt((xc * xc).sum(axis=0))
    su = math.sqrt(float(uc @ uc))
    corr = np.full(x.shape[1], np.nan)
    ok = sx > 1e-12 * np.maximum(1.0, np.abs(x).max(axis=0)) * math.sqrt(max(n, 1))
    if su > 0:
        corr[ok] = (xc[:, ok].T @ uc) / (sx[ok] * su)
    if np.isfinite(corr).any():
        best = int(np.nanargmax(np.abs(corr)))
        max_abs = float(abs(corr[best]))
    else:
        best, max_abs = -1, math.nan
    r2 = adj = math.nan
    p = 0
    if su > 0 and ok.any():
        z = xc[:, ok] / sx[ok]
        coef, _, rank, _ = np.linalg.lstsq(z, uc, rcond=None)
        resid = uc - z @ coef
        r2 = float(max(0.0, 1.0 - (resid @ resid) / (su * su)))
        p = int(rank)
        adj = float(1.0 - (1.0 - r2) * (n - 1) / (n - p - 1)) if n - p - 1 > 0 else math.nan
    return {"max_abs_corr": max_abs, "best_dim": best, "r2": r2, "r2_adjusted": adj, "n_params": p,
            "corr": corr}


@validate_params({"u1": pd.Series, "features": FeatureTable})
def axis_alignment(u1: pd.Series, features: FeatureTable) -> AlignmentResult:
    """Alignment of the rank-1 axis with every channel of a feature table.

    Parameters
    ----------
    u1 : pandas.Series
        ``u1`` per track (e.g. ``aria.rank1_axis(scores, diag).track_u1()``),
        indexed by track id; matched to ``features.track_ids`` by string form.
        Tracks present in only one of the two are left out.
    features : FeatureTable
        Per-track features and their channel set.

    Returns
    -------
    AlignmentResult
        Per-channel and per-feature tables.

    Examples
    --------
    >>> import aria
    >>> import numpy as np, pandas as pd
    >>> from aria.groups.alignment import axis_alignment
    >>> ft = aria.load_feature_table(aria.examples.features_path(), aria.load_channel_set("symbolic"))
    >>> rng = np.random.default_rng(0)
    >>> density = ft.vectors["note_density"][:, 0]
    >>> u1 = pd.Series(density + 0.01 * rng.normal(size=density.size), index=ft.track_ids)
    >>> a = axis_alignment(u1, ft)
    >>> row = a.channels.set_index("channel").loc["rhythm"]
    >>> bool(row["a_max"] > 0.9)
    True
    """
    idx = pd.Index([str(t) for t in u1.index])
    pos = idx.get_indexer(features.track_ids)
    have = np.flatnonzero(pos >= 0)
    if have.size < 3:
        raise AriaInputError(f"axis alignment needs at least 3 tracks with both u1 and features, "
                             f"found {have.size}")
    u = np.asarray(u1.to_numpy(), dtype=np.float64)[pos[have]]
    cset = features.channel_set
    frows = []
    skipped = []
    for f in cset.features:
        if f.kind != "vector":
            skipped.append(f.name)
            continue
        r = feature_alignment(u, features.vectors[f.name][have])
        frows.append({"feature": f.name, "channel": f.channel, "max_abs_corr": r["max_abs_corr"],
                      "best_dim": r["best_dim"], "r2": r["r2"], "r2_adjusted": r["r2_adjusted"],
                      "n_params": r["n_params"], "n_tracks": int(have.size)})
    ftab = pd.DataFrame(frows, columns=["feature", "channel", "max_abs_corr", "best_dim", "r2",
                                        "r2_adjusted", "n_params", "n_tracks"])
    crows = []
    for c in cset.channels:
        sub = ftab[ftab["channel"] == c]
        row = {"channel": c, "a_max": math.nan, "a_max_feature": None, "a_max_dim": None,
               "a_grp": math.nan, "a_grp_adjusted": math.nan, "a_grp_feature": None}
        if len(sub) and sub["max_abs_corr"].notna().any():
            b = sub.loc[sub["max_abs_corr"].idxmax()]
            row.update(a_max=float(b["max_abs_corr"]), a_max_feature=b["feature"],
                       a_max_dim=int(b["best_dim"]))
        if len(sub) and sub["r2"].notna().any():
            b = sub.loc[sub["r2"].idxmax()]
            row.update(a_grp=float(b["r2"]), a_grp_adjusted=float(b["r2_adjusted"]),
                       a_grp_feature=b["feature"])
        crows.append(row)
    return AlignmentResult(pd.DataFrame(crows), ftab, skipped, int(have.size))
