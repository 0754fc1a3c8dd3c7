"""Stored before/after fixture of :func:`aria.homogeneity` (issue 10, item 4).

``data/homogeneity_inputs.npz`` holds small synthetic inputs (numbers and strings only);
``data/homogeneity_expected.json`` holds, per configuration of :data:`CONFIGS`, the result's
``to_json()`` and its tables (``to_frame`` per channel and per feature, ``summary_frame``,
``null_frame``, the ranked groups), as produced by the engine *before* it was split into steps
(commit 804e5c8). ``tests/groups/test_fixture.py`` recomputes them and asserts equality, float for
float.

Regenerate (only when a change of the numbers is intended) with::

    PYTHONPATH=. python3 tests/groups/homogeneity_fixture.py
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import aria
from aria.features.channels import parse_channel_set
from aria.io.output import json_safe

DATA = Path(__file__).parent / "data"
INPUTS = DATA / "homogeneity_inputs.npz"
EXPECTED = DATA / "homogeneity_expected.json"

#: Two channels: A (one vector feature), B (a vector feature and a chord-motion sequence).
CHANNELS = parse_channel_set({
    "channels": {"A": {}, "B": {}},
    "features": {
        "fa": {"channel": "A", "kind": "vector", "dim": 4, "similarity": "seuclidean"},
        "fb": {"channel": "B", "kind": "vector", "dim": 3, "similarity": "seuclidean"},
        "ch": {"channel": "B", "kind": "sequence", "similarity": "lcs_root_motion"},
    },
})


def make_inputs(seed: int = 20240) -> dict[str, np.ndarray]:
    """Synthetic inputs: 60 tracks (2 segments each) in 4 clusters, 10 queries, one constant."""
    rng = np.random.default_rng(seed)
    m, q = 60, 10
    cluster = rng.integers(0, 4, m)
    fa = rng.normal(size=(m, 4)) + 3.0 * cluster[:, None]
    fb = rng.normal(size=(m, 3))
    lengths = rng.integers(0, 9, m)
    values = rng.integers(0, 12, int(lengths.sum()))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    seg_track = np.repeat(np.arange(m), 2)
    qc = rng.integers(0, 4, q)
    scores = rng.normal(size=(2 * m, q)) + 2.5 * (cluster[seg_track][:, None] == qc[None, :])
    scores[:, 7] = 0.25  # a constant query column
    base = rng.normal(size=2 * m)
    collapsed = np.outer(base, np.ones(q)) + 1e-3 * rng.normal(size=(2 * m, q))
    return {"scores": scores, "collapsed": collapsed, "segment_track": seg_track,
            "query_ids": np.array([f"q{i}" for i in range(q)]), "labels": np.array(list("xyzxyzxyzx")),
            "fa": fa, "fb": fb, "ch_offsets": offsets, "ch_values": values}


def load_inputs() -> dict[str, np.ndarray]:
    """The stored inputs (numeric and string arrays only, read without pickle)."""
    with np.load(INPUTS, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def feature_frame(inp: dict[str, np.ndarray]) -> pd.DataFrame:
    """Feature table (``track, fa, fb, ch``) of the stored inputs."""
    off, val = inp["ch_offsets"], inp["ch_values"]
    m = inp["fa"].shape[0]
    return pd.DataFrame({"track": np.arange(m), "fa": list(inp["fa"]), "fb": list(inp["fb"]),
                         "ch": [val[off[i]:off[i + 1]].tolist() for i in range(m)]})


def score_matrix(inp: dict[str, np.ndarray], name: str = "scores"):
    """Score matrix (segment x query) of the stored inputs."""
    return aria.scores_from_array(inp[name], query_ids=inp["query_ids"].tolist(),
                                  segment_track=inp["segment_track"])


def labels(inp: dict[str, np.ndarray]) -> pd.Series:
    """Query id -> label."""
    return pd.Series(inp["labels"], index=inp["query_ids"], name="genre")


def _zscore_residual_labels(inp, tmp):
    return aria.homogeneity(score_matrix(inp), feature_frame(inp), CHANNELS, k=[3, 5, 8], normalize="zscore",
                            null_groups=40, seed=2, residual=True, labels=labels(inp))


def _auto_defaults_missing_features(inp, tmp):
    df = feature_frame(inp).assign(status="ok", error=None)
    df.loc[3, "status"] = "failed"
    df.loc[4, "fb"] = None
    df = df.drop(index=[5, 6]).reset_index(drop=True)
    return aria.homogeneity(score_matrix(inp), df, CHANNELS, null_groups=30, mapping="exp", workers=2)


def _rank_cached(inp, tmp):
    kw = dict(k=[2, 6], normalize="rank", null_groups=25, seed=5, alignment=False, cache_dir=tmp)
    aria.homogeneity(score_matrix(inp), feature_frame(inp), CHANNELS, **kw)
    return aria.homogeneity(score_matrix(inp), feature_frame(inp), CHANNELS, **kw)


def _caller_rng(inp, tmp):
    return aria.homogeneity(score_matrix(inp), feature_frame(inp), CHANNELS, k=[4, 9], null_groups=25,
                            rng=np.random.default_rng(11), residual=True, cache_dir=tmp)


def _collapsed(inp, tmp):
    return aria.homogeneity(score_matrix(inp, "collapsed"), feature_frame(inp), CHANNELS, k=[5],
                            null_groups=30, labels=labels(inp))


def _bach_knn_symbolic(inp, tmp):
    scores = aria.load_scores(aria.examples.path("bach-knn"))
    return aria.homogeneity(scores, str(aria.examples.features_path()), "symbolic", k=[5, 10],
                            null_groups=100, residual=True, labels=aria.examples.labels("bach-knn"))


#: name -> run(inputs, tmp_dir) -> HomogeneityResult
CONFIGS: dict[str, Callable] = {
    "zscore_residual_labels": _zscore_residual_labels,
    "auto_defaults_missing_features": _auto_defaults_missing_features,
    "rank_cached": _rank_cached,
    "caller_rng": _caller_rng,
    "collapsed": _collapsed,
    "bach_knn_symbolic": _bach_knn_symbolic,
}


def _frame(df: pd.DataFrame) -> dict:
    return {"columns": [str(c) for c in df.columns], "dtypes": [str(t) for t in df.dtypes],
            "data": json_safe({str(c): df[c].tolist() for c in df.columns})}


def _relative_paths(obj):
    """Channel-set sources as file names: the checkout's location is not part of the result."""
    if isinstance(obj, dict):
        return {k: (Path(v).name if k in ("source", "channel_set_source") and isinstance(v, str) and "/" in v
                    else _relative_paths(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_relative_paths(v) for v in obj]
    return obj


def snapshot(result) -> dict:
    """JSON-ready record of everything a caller reads from a result."""
    groups = {"scores": result.scores.groups.tolist()}
    if result.residual is not None:
        groups["residual"] = result.residual.groups.tolist()
    return {
        "json": _relative_paths(json.loads(result.to_json())),
        "frames": {"channel": _frame(result.to_frame("channel")),
                   "feature": _frame(result.to_frame("feature")),
                   "summary": _frame(result.summary_frame()), "null": _frame(result.null_frame()),
                   "excluded": _frame(result.excluded_tracks)},
        "groups": groups,
    }


def main() -> None:
    """Write the inputs and the expected snapshots."""
    import tempfile

    DATA.mkdir(exist_ok=True)
    np.savez_compressed(INPUTS, **make_inputs())
    inp = load_inputs()
    out = {}
    for name, run in CONFIGS.items():
        with tempfile.TemporaryDirectory() as tmp:
            out[name] = snapshot(run(inp, Path(tmp)))
    lines = [f"{json.dumps(name)}: {json.dumps(snap, separators=(',', ':'), allow_nan=False)}"
             for name, snap in out.items()]
    EXPECTED.write_text("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
