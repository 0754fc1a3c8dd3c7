"""The tiny example (aria.examples.tiny) against numbers worked out by hand and with numpy."""

from itertools import combinations

import numpy as np
import pytest

import aria
from aria.errors import AriaInputError

X = np.arange(8.0)
S_X = np.sqrt(6.0)  # standard deviation (ddof = 1) of 0, 1, ..., 7: the seuclidean scale


def sim(a: float, b: float) -> float:
    """Standardized Euclidean distance of one dimension, mapped by 1 / (1 + d)."""
    return 1.0 / (1.0 + abs(a - b) / S_X)


def h(group) -> float:
    """Mean pairwise similarity of a group of track indices."""
    return float(np.mean([sim(X[a], X[b]) for a, b in combinations(group, 2)]))


def test_inputs_are_the_documented_ones_and_identical_on_every_call():
    a, b = aria.examples.tiny(), aria.examples.tiny()
    assert a is not b
    assert a.track_ids.tolist() == [f"t{i}" for i in range(8)]
    assert a.channel_set.channels == ("a",) and a.channel_set.feature_names == ("x",)
    assert a.frame["x"].tolist() == X.tolist()
    expected = np.column_stack([[-1, 0, -1, -2, -3, -4, -5, -6], [-6, -5, -4, -3, -2, -1, 0, -1]])
    assert a.scores.shape == (8, 2)
    assert a.scores.values.tolist() == expected.tolist()
    zeros = a.scores.values[a.scores.values == 0]
    assert zeros.size == 2 and not np.signbit(zeros).any()  # 0.0, not -0.0, in the printed examples
    assert a.scores["query"].values.tolist() == ["q1", "q2"]
    assert a.labels.to_dict() == {"q1": "low", "q2": "high"} and a.labels.name == "register"
    assert np.array_equal(a.scores.values, b.scores.values)
    assert a.features.vectors["x"][:, 0].tolist() == X.tolist()


def test_homogeneity_matches_a_hand_computation():
    res = aria.examples.tiny().homogeneity()
    data = res.scores.data
    assert data.groups.sel(query="q1").values.tolist() == ["t1", "t0", "t2"]
    assert data.groups.sel(query="q2").values.tolist() == ["t6", "t5", "t7"]
    assert float(data.h.sel(k=3, query="q1", channel="a")) == pytest.approx(h([1, 0, 2]), abs=1e-12)
    assert float(data.h.sel(k=3, query="q2", channel="a")) == pytest.approx(h([6, 5, 7]), abs=1e-12)
    # the null: 200 groups of 3 drawn with default_rng([seed, K]) = default_rng([0, 3])
    rng = np.random.default_rng([0, 3])
    null = np.array([h(rng.choice(8, size=3, replace=False)) for _ in range(200)])
    assert res.nulls[3].channel_values[:, 0] == pytest.approx(null, abs=1e-12)
    z = (h([1, 0, 2]) - null.mean()) / null.std(ddof=1)
    assert float(data.z.sel(k=3, query="q1", channel="a")) == pytest.approx(z, abs=1e-9)
    assert res.verdict == "collapsed"


def test_helpers_agree_with_the_engine_called_directly():
    t = aria.examples.tiny()
    direct = aria.homogeneity(t.scores, t.features, t.channel_set, k=[3], null_groups=200, seed=0,
                              alignment=False)
    assert np.array_equal(t.homogeneity().scores.z_channel, direct.scores.z_channel)
    assert np.array_equal(t.setup().run(t.scores, alignment=False).scores.z_channel, direct.scores.z_channel)
    prep = t.prepare()
    assert prep.ks == (3,) and prep.pool.track_ids.tolist() == t.track_ids.tolist()


def test_report_result_and_evidence():
    t = aria.examples.tiny()
    res = t.report_result()
    assert res.k_values == (2, 3)
    assert res.residual is not None and res.alignment is not None
    assert res.confound.label_name == "register"
    assert sorted(set(res.confound.table["label"])) == ["high", "low"]
    ev = t.evidence("q2")
    assert ev.tracks["track"].tolist() == ["t6", "t5", "t7"]
    assert float(ev.channels["H"].iloc[0]) == pytest.approx(h([6, 5, 7]), abs=1e-12)


def test_diagnoses_of_shipped_examples():
    d = aria.examples.diagnoses("query-dependent", "collapsed")
    assert list(d) == ["query-dependent", "collapsed"]
    assert [x.verdict for x in d.values()] == ["query-dependent", "collapsed"]
    with pytest.raises(AriaInputError):
        aria.examples.diagnoses("no-such-example")
