"""The engine's steps one at a time, on the hand-worked 5-track example of test_engine.py.

Tracks t0..t4 with v = [-1, -1, 0, 1, 1] (scale s = 1) and chord motions; channel ``mix`` = {v, ch},
``harm`` = {ch2} (ch2 = ch). Query A ranks t0 > t1 > ... > t4, query B the reverse. Pair similarities
are in HAND_SIM_V / HAND_SIM_CH; every expected H below is worked out from them by hand.
"""

import builtins
import io
import itertools
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from test_engine import HAND_CH, HAND_CS, HAND_SIM_CH, HAND_SIM_V, PLANT_CS, hand_scores, hand_table, planted

import aria
from aria.features.table import load_feature_table
from aria.groups.engine import (
    COLLAPSED_WARNING,
    Prepared,
    check_parameters,
    collect,
    collect_warnings,
    group_homogeneity,
    homogeneity,
    prepare,
    resolve_inputs,
)
from aria.groups.null import NullCache, NullDistribution, compute_null, null_distributions, null_key
from aria.groups.result import MatrixHomogeneity, summarize, z_scores
from aria.groups.topk import random_groups

# H per (query, K): (H_v, H_ch); H_mix = (H_v + H_ch) / 2, H_harm = H_ch
HAND_H = {("A", 2): (1.0, 2 / 3), ("A", 3): (2 / 3, 2 / 9),
          ("B", 2): (1.0, 1 / 3), ("B", 3): (2 / 3, 1 / 9)}
HAND_GROUPS = {"A": ["t0", "t1", "t2"], "B": ["t4", "t3", "t2"]}


def hand_prepared(**kw) -> Prepared:
    cset, table = resolve_inputs(hand_table(), HAND_CS)
    return prepare(hand_scores(), cset, table, k=[2, 3], normalize="zscore", **kw)


def hand_null(k: int) -> NullDistribution:
    """A two-group null with round numbers: mu_f = (0.6, 0.3, 0.3), sd_f = sqrt(0.02) each."""
    fv = np.array([[0.5, 0.2, 0.2], [0.7, 0.4, 0.4]])
    cv = np.c_[(fv[:, 0] + fv[:, 1]) / 2, fv[:, 2]]  # mix, harm
    return NullDistribution(k, 2, 0, ("v", "ch", "ch2"), ("mix", "harm"), fv, cv)


# ---------------------------------------------------------------------------------------------
# step 1: parameters and inputs


@pytest.mark.parametrize(("kw", "msg"), [
    ({"normalize": "minmax"}, "normalize must be one of 'auto', 'zscore', 'rank', got 'minmax'"),
    ({"mapping": "cosine"}, "mapping must be one of 'inverse', 'exp', got 'cosine'"),
    ({"null_groups": 1}, "null_groups must be an integer >= 2, got 1"),
    ({"workers": 0}, "workers must be an integer >= 1, got 0"),
])
def test_check_parameters_names_the_bad_value(kw, msg):
    with pytest.raises(aria.AriaInputError, match=msg):
        check_parameters(**kw)
    check_parameters()  # the defaults are valid


def test_resolve_inputs_from_frame_table_and_files():
    cset, table = resolve_inputs(hand_table(), HAND_CS)
    assert cset is HAND_CS and table.track_ids.tolist() == [f"t{i}" for i in range(5)]
    frame = pd.DataFrame({"track": [f"t{i}" for i in range(5)], "v": [-1.0, -1, 0, 1, 1], "ch": HAND_CH,
                          "ch2": HAND_CH})
    _, from_frame = resolve_inputs(frame, HAND_CS)
    np.testing.assert_array_equal(from_frame.vectors["v"], table.vectors["v"])
    # a path and a channel-set name are read with the loaders
    path = aria.examples.features_path()
    cset, from_file = resolve_inputs(str(path), "symbolic")
    assert cset.name == "symbolic"
    expected = load_feature_table(path, cset)
    assert from_file.track_ids.tolist() == expected.track_ids.tolist()
    with pytest.raises(aria.AriaInputError, match="checked against another channel set"):
        resolve_inputs(from_file, HAND_CS)


# ---------------------------------------------------------------------------------------------
# step 2: prepare


def test_prepare_hand_example():
    prep = hand_prepared()
    assert prep.ks == (2, 3) and prep.dropped_k == [] and prep.has_axis
    assert prep.pool.track_ids.tolist() == [f"t{i}" for i in range(5)] and prep.pool.counts.pool == 5
    # T = per-track mean of the z-scored columns (population sd), computed here independently
    s = hand_scores().values
    z = (s - s.mean(axis=0)) / s.std(axis=0)
    np.testing.assert_allclose(prep.track_scores.values, z.reshape(5, 2, 2).mean(axis=1), rtol=1e-12)
    assert prep.track_scores.residual is None
    for (a, b), sim in HAND_SIM_V.items():
        assert prep.similarity.pairs("v", [a], [b])[0] == pytest.approx(sim, abs=1e-15)
        assert prep.similarity.pairs("ch2", [a], [b])[0] == pytest.approx(HAND_SIM_CH[(a, b)], abs=1e-15)


def test_prepare_default_k_residual_and_progress():
    stages = []
    cset, table = resolve_inputs(hand_table(), HAND_CS)
    prep = prepare(hand_scores(), cset, table, residual=True, progress=lambda s, i, n: stages.append(s))
    # every default K is >= the 5 pool tracks: K = 2 is used instead
    assert prep.ks == (2,) and prep.dropped_k == [5, 10, 20, 50, 100]
    assert prep.track_scores.residual is not None
    assert stages == ["diagnose", "normalize and aggregate (auto)", "pool and similarities"]
    zero = aria.scores_from_array(np.zeros((10, 2)), segment_track=np.repeat([f"t{i}" for i in range(5)], 2))
    with pytest.raises(aria.AriaInputError, match="no rank-1 axis"):
        prepare(zero, cset, table, residual=True)


# ---------------------------------------------------------------------------------------------
# step 3: nulls


class DictStore:
    """A NullStore in memory that records what the engine asks of it."""

    def __init__(self):
        self.entries, self.loads, self.saves = {}, [], []

    def load(self, key, k, n_groups, seed, features, channels):
        self.loads.append(k)
        return self.entries.get(key)

    def save(self, null):
        self.saves.append(null.k)
        self.entries[null.key] = null


def test_null_distributions_hand_example_and_store():
    psim = hand_prepared().similarity
    store = DictStore()
    stages = []
    nulls = null_distributions(psim, [2, 3], 30, seed=4, store=store,
                               progress=lambda s, i, n: stages.append(s))
    assert list(nulls) == [2, 3] and stages == ["null K=2", "null K=3"]
    assert store.loads == [2, 3] and store.saves == [2, 3]
    for k, nl in nulls.items():
        # the groups default_rng([seed, K]) draws, and their H by hand from the similarity tables
        groups = random_groups(5, k, 30, np.random.default_rng([4, k]))
        hv = [np.mean([HAND_SIM_V[p] for p in itertools.combinations(sorted(g), 2)]) for g in groups]
        hch = [np.mean([HAND_SIM_CH[p] for p in itertools.combinations(sorted(g), 2)]) for g in groups]
        np.testing.assert_allclose(nl.feature_values, np.c_[hv, hch, hch], rtol=1e-12)
        np.testing.assert_allclose(nl.channel_values, np.c_[(np.array(hv) + hch) / 2, hch], rtol=1e-12)
        assert nl.channel_sd[0] == pytest.approx(np.std((np.array(hv) + hch) / 2, ddof=1))
        assert nl.key == null_key(psim, k, 30, 4)
    again = null_distributions(psim, [2, 3], 30, seed=4, store=store)
    assert store.saves == [2, 3] and again[3] is nulls[3]  # read back, not recomputed
    # a caller's generator: nulls drawn one K after the other, the store left alone
    drawn = null_distributions(psim, [2, 3], 30, rng=np.random.default_rng(8), store=store)
    gen = np.random.default_rng(8)
    for k in (2, 3):
        np.testing.assert_array_equal(drawn[k].feature_values,
                                      compute_null(psim, k, 30, rng=gen).feature_values)
        assert drawn[k].seed is None and drawn[k].key is None
    assert store.loads == [2, 3, 2, 3] and store.saves == [2, 3]


def test_null_cache_is_a_store(tmp_path):
    psim = hand_prepared().similarity
    first = null_distributions(psim, [3], 20, seed=1, store=NullCache(tmp_path))
    again = null_distributions(psim, [3], 20, seed=1, store=NullCache(tmp_path))
    assert not first[3].from_cache and again[3].from_cache
    np.testing.assert_array_equal(first[3].channel_values, again[3].channel_values)


# ---------------------------------------------------------------------------------------------
# step 4: groups, H and z


def test_group_homogeneity_hand_example():
    prep = hand_prepared(residual=True)
    nulls = {2: hand_null(2), 3: hand_null(3)}
    stages = []
    main, res = group_homogeneity(prep, nulls, progress=lambda s, i, n: stages.append(s))
    assert stages == ["groups and z (scores)", "groups and z (residual)"]
    assert res.matrix == "residual" and res.data.sizes == main.data.sizes
    d = main.data
    mu, sd = np.array([0.6, 0.3, 0.3]), np.sqrt(0.02)
    mu_c = np.array([0.45, 0.3])
    sd_c = np.array([np.std([0.35, 0.55], ddof=1), sd])
    for q, group in HAND_GROUPS.items():
        assert d.groups.sel(query=q).values.tolist() == group
        for k in (2, 3):
            hv, hch = HAND_H[(q, k)]
            h_f = np.array([hv, hch, hch])
            h_c = np.array([(hv + hch) / 2, hch])
            np.testing.assert_allclose(d.h_feature.sel(query=q, k=k).values, h_f, rtol=1e-12)
            np.testing.assert_allclose(d.h.sel(query=q, k=k).values, h_c, rtol=1e-12)
            np.testing.assert_allclose(d.z_feature.sel(query=q, k=k).values, (h_f - mu) / sd, rtol=1e-12)
            np.testing.assert_allclose(d.z.sel(query=q, k=k).values, (h_c - mu_c) / sd_c, rtol=1e-12)
    assert d.included.values.tolist() == [True, True]


def test_z_scores_undefined_where_the_null_sd_is_zero():
    z = z_scores(np.array([[0.5, 0.4], [0.1, 0.4]]), np.array([0.3, 0.4]), np.array([0.1, 0.0]))
    np.testing.assert_allclose(z[:, 0], [2.0, -2.0])
    assert np.isnan(z[:, 1]).all()


# ---------------------------------------------------------------------------------------------
# step 5: collect


def test_homogeneity_warnings_in_order():
    ok = NullDistribution(5, 3, 0, ("f",), ("a", "b"), np.zeros((3, 1)), np.array([[0, 1], [0, 2], [0, 3.]]))
    prep = SimpleNamespace(
        diagnostics=SimpleNamespace(verdict="collapsed"), dropped_k=[50, 100],
        pool=SimpleNamespace(size=30, counts=SimpleNamespace(without_features=2, score_tracks=32)),
        track_scores=SimpleNamespace(report=SimpleNamespace(zero_std_columns=["q3"])))
    assert collect_warnings(prep, {5: ok}) == [
        COLLAPSED_WARNING,
        "K = 50, 100 dropped: not below the 30 tracks with features",
        "2 of 32 tracks have no usable features and are left out of groups and null",
        "1 query column(s) are constant: left out of the summaries",
        "K = 5: null sd is 0 for channel(s) a; their z is undefined",
    ]
    quiet = SimpleNamespace(diagnostics=SimpleNamespace(verdict="query-dependent"), dropped_k=[],
                            pool=SimpleNamespace(size=30, counts=SimpleNamespace(without_features=0)),
                            track_scores=SimpleNamespace(report=SimpleNamespace(zero_std_columns=[])))
    assert collect_warnings(quiet, {}) == []


def test_collect_hand_example():
    prep = hand_prepared()
    nulls = {2: hand_null(2), 3: hand_null(3)}
    main, _ = group_homogeneity(prep, nulls)
    labels = pd.Series({"A": "x", "B": "y"}, name="mode")
    stages = []
    res = collect(prep, main, None, nulls, labels=labels, parameters={"seed": 0},
                  progress=lambda s, i, n: stages.append(s))
    assert stages == ["alignment", "done"]
    assert res.scores is main and res.residual is None and res.nulls == nulls
    assert res.parameters == {"seed": 0} and res.channel_set is HAND_CS
    # two queries with opposite rankings: |corr| = 1, so the verdict is "collapsed"
    assert res.warnings == [COLLAPSED_WARNING] and res.verdict == "collapsed"
    assert res.alignment.n_tracks == 5 and res.confound.label_name == "mode"
    t = res.confound.table
    row = t[(t.k == 3) & (t.channel == "mix") & (t.label == "y")]
    assert row["z_mean"].item() == pytest.approx(float(main.data.z.sel(k=3, channel="mix", query="B")))
    assert collect(prep, main, None, nulls, alignment=False).alignment is None


def test_homogeneity_is_its_steps_and_reports_progress():
    stages = []
    kw = dict(k=[2, 3], normalize="zscore", null_groups=50, seed=3, residual=True)
    res = homogeneity(hand_scores(), hand_table(), HAND_CS, progress=lambda s, i, n: stages.append(s), **kw)
    assert stages == ["diagnose", "normalize and aggregate (zscore)", "pool and similarities", "null K=2",
                      "null K=3", "groups and z (scores)", "groups and z (residual)", "alignment", "done"]
    prep = hand_prepared(residual=True)
    nulls = null_distributions(prep.similarity, prep.ks, 50, seed=3)
    main, resid = group_homogeneity(prep, nulls)
    by_steps = collect(prep, main, resid, nulls, parameters=res.parameters)
    assert by_steps.to_json() == res.to_json()


def test_only_resolve_inputs_touches_files(monkeypatch, tmp_path):
    cset, table = resolve_inputs(hand_table(), HAND_CS)

    def no_files(*args, **kwargs):
        raise AssertionError(f"a computation step opened a file: {args[:1]}")

    monkeypatch.setattr(builtins, "open", no_files)
    monkeypatch.setattr(io, "open", no_files)
    prep = prepare(hand_scores(), cset, table, k=[2, 3], residual=True)
    nulls = null_distributions(prep.similarity, prep.ks, 20, seed=0)
    main, res = group_homogeneity(prep, nulls)
    collect(prep, main, res, nulls, labels={"A": "x", "B": "y"})
    with pytest.raises(AssertionError, match="opened a file"):
        null_distributions(prep.similarity, prep.ks, 20, seed=0, store=NullCache(tmp_path))


# ---------------------------------------------------------------------------------------------
# labelled results


def test_labelled_dims_coords_and_legacy_views():
    scores, df = planted(m=80, q=6)
    res = homogeneity(scores, df, PLANT_CS, k=[5, 10], null_groups=40, residual=True)
    mh = res.scores
    d = mh.data
    assert isinstance(d, xr.Dataset) and d.attrs["matrix"] == "scores"
    assert d.z.dims == ("k", "query", "channel") and d.h.dims == ("k", "query", "channel")
    assert d.z_feature.dims == ("k", "query", "feature") and d.h_feature.dims == ("k", "query", "feature")
    assert d.groups.dims == ("query", "rank") and d.included.dims == ("query",)
    assert d["k"].values.tolist() == [5, 10] and d["rank"].values.tolist() == list(range(1, 11))
    assert d["query"].values.tolist() == [f"q{i}" for i in range(6)]
    assert d["channel"].values.tolist() == ["A", "B"] and d["feature"].values.tolist() == ["fa", "fb"]
    # the numpy arrays of earlier versions are views of the labelled data, indexed [k, query, channel]
    for legacy, var in (("h_channel", "h"), ("z_channel", "z"), ("h_feature", "h_feature"),
                        ("z_feature", "z_feature"), ("groups", "groups"), ("included", "included")):
        assert np.shares_memory(getattr(mh, legacy), d[var].values), legacy
    assert mh.k_values == (5, 10) and mh.channels == ("A", "B") and mh.features == ("fa", "fb")
    for ki, k in enumerate(mh.k_values):
        for qi, q in enumerate(mh.query_ids):
            for ci, c in enumerate(mh.channels):
                assert d.z.sel(k=k, query=q, channel=c).item() == mh.z_channel[ki, qi, ci]
            assert d.h_feature.sel(k=k, query=q, feature="fb").item() == mh.h_feature[ki, qi, 1]
    np.testing.assert_array_equal(mh.z("B", 10), mh.z_channel[1, :, 1])
    with pytest.raises(ValueError, match="no z for channel 'B' at K = 7"):
        mh.z("B", 7)
    with pytest.raises(ValueError, match="no z for channel 'C'"):
        mh.z("C", 10)
    # labelled summaries equal summarize() of the same z values
    sd = mh.summary_dataset()
    assert sd.z_mean.dims == ("k", "channel") and sd.n_queries.dtype == np.int64
    for ki, k in enumerate(mh.k_values):
        for ci, c in enumerate(mh.channels):
            s = summarize(mh.z_channel[ki, :, ci], mh.included)
            assert [sd[x].sel(k=k, channel=c).item() for x in ("z_mean", "pos", "sig", "n_queries")] == [
                s["z_mean"], s["pos"], s["sig"], s["n_queries"]]
    assert mh.summary_dataset("feature").z_mean.dims == ("k", "feature")
    with pytest.raises(ValueError, match="level"):
        mh.summary_dataset("track")


def test_result_dataset_joins_matrices_and_nulls():
    scores, df = planted(m=80, q=6, seed=1)
    res = homogeneity(scores, df, PLANT_CS, k=[5, 10], null_groups=40, residual=True)
    ds = res.to_dataset()
    assert ds["matrix"].values.tolist() == ["scores", "residual"]
    assert ds.z.dims == ("matrix", "k", "query", "channel") and ds.null_sd.dims == ("k", "channel")
    xr.testing.assert_equal(ds.z.sel(matrix="residual", drop=True), res.residual.data.z)
    # z is (H - mu) / sd by label
    xr.testing.assert_allclose(ds.z, (ds.h - ds.null_mean) / ds.null_sd)
    xr.testing.assert_allclose(ds.z_feature, (ds.h_feature - ds.null_feature_mean) / ds.null_feature_sd)
    assert ds.null_mean.sel(k=10, channel="A").item() == res.nulls[10].channel_mean[0]
    assert ds.attrs["verdict"] == res.verdict
    one = homogeneity(scores, df, PLANT_CS, k=[5], null_groups=40).to_dataset()
    assert one["matrix"].values.tolist() == ["scores"]


def test_groups_frame_lists_every_ranked_track():
    prep = hand_prepared(residual=True)
    nulls = {2: hand_null(2), 3: hand_null(3)}
    main, resid = group_homogeneity(prep, nulls)
    res = collect(prep, main, resid, nulls)
    f = res.groups_frame()
    assert list(f.columns) == ["matrix", "query", "rank", "track"] and len(f) == 2 * 2 * 3
    a = f[(f.matrix == "scores") & (f["query"] == "A")]
    assert a["track"].tolist() == HAND_GROUPS["A"] and a["rank"].tolist() == [1, 2, 3]


def test_from_arrays_labels_without_copying():
    from aria.groups.normalize import NormalizationReport

    h = np.arange(12.0).reshape(2, 3, 2)
    mh = MatrixHomogeneity.from_arrays(
        "scores", NormalizationReport("rank", "rank", None), query_ids=["a", "b", "c"], k_values=[2, 4],
        channels=["x", "y"], features=["f1", "f2"], h_channel=h, z_channel=-h, h_feature=h, z_feature=-h,
        groups=np.array([["t1", "t2", "t3", "t4"]] * 3), included=np.array([True, False, True]))
    assert mh.h_channel is h or np.shares_memory(mh.h_channel, h)
    assert mh.data.h.sel(k=4, query="b", channel="y").item() == h[1, 1, 1]
    assert mh.summary()["x"]["2"]["n_queries"] == 2
    f = mh.to_frame()
    assert f.shape == (12, 7) and f["z"].tolist() == (-h).ravel().tolist()
