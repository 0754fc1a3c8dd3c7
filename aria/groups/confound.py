"""Confound analysis: homogeneity stratified by a query label (spec section 6).

Given a label per query (e.g. genre), for each analysed matrix, channel and
K: per label ``n``, mean ``z``, ``Pos`` and ``Sig``; and the standard deviation
(``ddof = 0``) of the per-label mean ``z`` across labels. A large spread means
homogeneity differs by label, so a method's average may reflect the label mix
of the queries rather than attribution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aria.errors import AriaInputError
from aria.params import InstanceOf, SequenceOf, validate_params

__all__ = ["ConfoundResult", "confound_analysis"]


@dataclass
class ConfoundResult:
    """Per-label homogeneity.

    Attributes
    ----------
    table : pandas.DataFrame
        ``matrix, k, channel, label, n, z_mean, pos, sig``.
    spread : pandas.DataFrame
        ``matrix, k, channel, n_labels, sd_label_means``.
    label_name : str
        Name of the label (column).

    Examples
    --------
    >>> import aria
    >>> t = aria.examples.tiny()
    >>> c = aria.confound_analysis([t.homogeneity().scores], t.labels)
    >>> c.label_name, c.table["label"].tolist()
    ('register', ['high', 'low'])
    >>> list(c.to_dict()["matrices"]["scores"]["a"]["3"])
    ['sd_label_means', 'n_labels', 'labels']
    """

    table: pd.DataFrame
    spread: pd.DataFrame
    label_name: str

    def to_dict(self) -> dict:
        """JSON-ready ``{matrix: {channel: {K: {sd_label_means, labels: {...}}}}}``."""
        out: dict = {}
        for row in self.spread.to_dict("records"):
            d = out.setdefault(row["matrix"], {}).setdefault(row["channel"], {})
            d[str(row["k"])] = {"sd_label_means": row["sd_label_means"], "n_labels": row["n_labels"],
                                "labels": {}}
        for row in self.table.to_dict("records"):
            out[row["matrix"]][row["channel"]][str(row["k"])]["labels"][str(row["label"])] = {
                "n": row["n"], "z_mean": row["z_mean"], "pos": row["pos"], "sig": row["sig"]}
        return {"label": self.label_name, "matrices": out}


@validate_params({"results": SequenceOf(InstanceOf("aria.groups.result.MatrixHomogeneity")),
                  "labels": [pd.Series, Mapping]})
def confound_analysis(results: Sequence, labels: pd.Series | Mapping) -> ConfoundResult:
    """Stratify per-query channel z-scores ``z_c(q)`` by a query label (spec section 6).

    For each matrix, channel and K: per label ``n``, ``z_bar``, ``Pos`` and ``Sig`` of the
    included queries with that label (:func:`aria.groups.result.summarize`), and the standard
    deviation (``ddof = 0``) of the per-label ``z_bar`` across labels with at least one query.

    Parameters
    ----------
    results : sequence of MatrixHomogeneity
        Analysed matrices (scores, residual).
    labels : pandas.Series or mapping
        Query id -> label. Every analysed query needs a label; missing values
        (NaN/None/empty) form no group and are left out.

    Returns
    -------
    ConfoundResult
        Per-label table and the spread of the label means.

    Examples
    --------
    >>> import aria
    >>> scores = aria.examples.tiny().homogeneity().scores
    >>> c = aria.confound_analysis([scores], {"q1": "low", "q2": "low"})
    >>> c.table[["label", "n"]].values.tolist(), c.spread["n_labels"].tolist()
    ([['low', 2]], [1])
    >>> try:
    ...     aria.confound_analysis([scores], {"q1": "low"})
    ... except aria.AriaError as e:
    ...     print(e)
    labels has no label for 1 quer(ies), e.g. 'q2'
    """
    from aria.groups.result import summarize

    ser = labels if isinstance(labels, pd.Series) else pd.Series(dict(labels))
    ser = ser.copy()
    ser.index = ser.index.astype(str)
    rows, spread = [], []
    for res in results:
        missing = [str(q) for q in res.query_ids if q not in ser.index]
        if missing:
            raise AriaInputError(f"labels has no label for {len(missing)} quer(ies), e.g. {missing[0]!r}",
                                 parameter="labels")
        lab = ser.reindex(res.query_ids)
        lab_str = lab.astype(object).where(lab.notna() & (lab.astype(str).str.strip() != ""))
        uniq = sorted({str(x) for x in lab_str.dropna()})
        lab_arr = np.asarray([None if x is None or (isinstance(x, float) and x != x) else str(x)
                              for x in lab_str], dtype=object)
        for k in res.k_values:
            for c in res.channels:
                z = res.z(c, k)
                means = []
                for u in uniq:
                    mask = (lab_arr == u) & res.included
                    s = summarize(z, mask)
                    rows.append({"matrix": res.matrix, "k": k, "channel": c, "label": u,
                                 "n": s["n_queries"], "z_mean": s["z_mean"], "pos": s["pos"],
                                 "sig": s["sig"]})
                    if s["n_queries"]:
                        means.append(s["z_mean"])
                spread.append({"matrix": res.matrix, "k": k, "channel": c, "n_labels": len(means),
                               "sd_label_means": float(np.std(means)) if means else math.nan})
    name = str(ser.name) if ser.name is not None else "label"
    return ConfoundResult(pd.DataFrame(rows), pd.DataFrame(spread), name)
