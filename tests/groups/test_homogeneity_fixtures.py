"""Stored fixtures (mir_eval style): a tiny feature table, a score matrix and their homogeneity.

tests/fixtures/generate.py computes the expected groups, H, nulls, z, summaries, confounds and
alignment from docs/formulas.md sections 2-6 with numpy/scipy (``rankdata``, ``kurtosis``,
``pdist``, ``lstsq``) and a dynamic-programming LCS, without Aria; it draws the null groups as
the formulas page documents (``default_rng([seed, K]).choice(pool, K, replace=False)``), so the
expected z-scores are exact for the seed. The fixture has a failed track, a track absent from
the feature table, a feature row of no score track, a constant feature dimension, a plain float
feature, chord labels with no-chords, slash chords and repeats, and two tracks whose scores tie in
every column.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import aria

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONFIGS = sorted(p.stem.removeprefix("homog_") for p in FIXTURES.glob("homog_*.json"))
TOL = 1e-12


def load_scores():
    with np.load(FIXTURES / "homog_scores.npz", allow_pickle=False) as z:
        return aria.scores_from_array(z["scores"], query_ids=z["query_ids"], segment_track=z["segment_track"])


def run(config: str):
    exp = json.loads((FIXTURES / f"homog_{config}.json").read_text())
    c = exp["config"]
    scores = load_scores()
    labels = None
    if c["labels"]:
        meta = pd.read_csv(FIXTURES / "homog_labels.csv")
        labels = pd.Series(meta["genre"].to_numpy(), index=meta["query"].astype(str), name="genre")
    res = aria.homogeneity(scores, FIXTURES / "homog_features.parquet", FIXTURES / "homog_channels.toml",
                           k=c["k"], normalize=c["normalize"], null_groups=c["null_groups"], seed=c["seed"],
                           residual=c["residual"], mapping=c["mapping"], labels=labels)
    return res, exp


@pytest.fixture(scope="module", params=CONFIGS)
def case(request):
    return run(request.param)


def test_fixture_configs_exist():
    assert set(CONFIGS) == {"zscore", "rank_exp", "auto_default_k"}


def test_pool_and_k(case):
    res, exp = case
    counts = res.pool.to_dict()
    assert {k: counts[k] for k in exp["tracks"]} == exp["tracks"]
    assert list(res.k_values) == exp["k"]


def test_null_mean_and_sd(case):
    res, exp = case
    for k, nl in res.nulls.items():
        e = exp["null"][str(k)]
        for c, m, s in zip(nl.channels, nl.channel_mean, nl.channel_sd, strict=True):
            assert abs(m - e["mean"][f"c:{c}"]) <= TOL and abs(s - e["sd"][f"c:{c}"]) <= TOL, (k, c)
        for f, m, s in zip(nl.features, nl.feature_mean, nl.feature_sd, strict=True):
            assert abs(m - e["mean"][f"f:{f}"]) <= TOL and abs(s - e["sd"][f"f:{f}"]) <= TOL, (k, f)


def _check_matrix(mh, exp, label):
    assert mh.normalization.method == exp["method"], label
    if mh.normalization.requested == "auto":
        stat = mh.normalization.median_excess_kurtosis
        assert stat == pytest.approx(exp["median_excess_kurtosis"], rel=TOL)
    kmax = max(mh.k_values)
    assert mh.groups[:, :kmax].tolist() == exp["groups"], label
    for ki, k in enumerate(mh.k_values):
        for ci, c in enumerate(mh.channels):
            np.testing.assert_allclose(mh.h_channel[ki, :, ci], exp["h"][str(k)][f"c:{c}"], rtol=0, atol=TOL)
            np.testing.assert_allclose(mh.z_channel[ki, :, ci], exp["z"][str(k)][f"c:{c}"], rtol=0, atol=TOL)
            s = mh.summary()[c][str(k)]
            e = exp["summary"][str(k)][f"c:{c}"]
            assert s["n_queries"] == e["n_queries"] and s["pos"] == e["pos"] and s["sig"] == e["sig"], (k, c)
            assert abs(s["z_mean"] - e["z_mean"]) <= TOL, (label, k, c)
        for fi, f in enumerate(mh.features):
            np.testing.assert_allclose(mh.z_feature[ki, :, fi], exp["z"][str(k)][f"f:{f}"], rtol=0, atol=TOL)


def test_groups_h_and_z_of_the_scores(case):
    res, exp = case
    _check_matrix(res.scores, exp["scores"], "scores")


def test_groups_h_and_z_of_the_residual(case):
    res, exp = case
    if "residual" not in exp:
        assert res.residual is None
        return
    _check_matrix(res.residual, exp["residual"], "residual")


def test_alignment(case):
    res, exp = case
    e = exp["alignment"]
    assert res.alignment.n_tracks == e["n_tracks"]
    rows = res.alignment.channels.set_index("channel")
    for c, ec in e["channels"].items():
        for key in ("a_max", "a_grp", "a_grp_adjusted"):
            assert abs(rows.loc[c, key] - ec[key]) <= TOL, (c, key)
        assert rows.loc[c, "a_grp_feature"] == ec["a_grp_feature"]
    feats = res.alignment.features.set_index("feature")
    for f, ef in e["features"].items():
        assert feats.loc[f, "n_params"] == ef["n_params"], f


def test_confound(case):
    res, exp = case
    if not exp["config"]["labels"]:
        assert res.confound is None
        return
    for matrix in ("scores", "residual"):
        tab = res.confound.table
        spread = res.confound.spread
        for k, per_channel in exp[matrix]["confound"].items():
            for c, ec in per_channel.items():
                sp = spread[(spread.matrix == matrix) & (spread.k == int(k)) & (spread.channel == c)]
                assert abs(sp["sd_label_means"].item() - ec["sd_label_means"]) <= TOL
                for lab, el in ec["labels"].items():
                    sel = (tab.matrix == matrix) & (tab.k == int(k)) & (tab.channel == c)
                    row = tab[sel & (tab.label == lab)]
                    assert row["n"].item() == el["n"] and row["pos"].item() == el["pos"]
                    assert row["sig"].item() == el["sig"] and abs(row["z_mean"].item() - el["z_mean"]) <= TOL


def test_ties_are_exercised():
    """t03 and t05 tie in every column; at some K exactly one of them is in the group."""
    exp = json.loads((FIXTURES / "homog_zscore.json").read_text())
    boundary = [g for g in exp["scores"]["groups"] for k in exp["k"]
                if ("t03" in g[:k]) != ("t05" in g[:k])]
    assert boundary
    assert all(g.index("t03") < g.index("t05") for g in exp["scores"]["groups"] if {"t03", "t05"} <= set(g))


def test_another_seed_is_caught():
    """The comparison can fail: the same analysis with another null seed misses the stored z."""
    exp = json.loads((FIXTURES / "homog_rank_exp.json").read_text())
    c = exp["config"]
    res = aria.homogeneity(load_scores(), FIXTURES / "homog_features.parquet",
                           FIXTURES / "homog_channels.toml", k=c["k"], normalize=c["normalize"],
                           null_groups=c["null_groups"], seed=c["seed"] + 1, mapping=c["mapping"])
    z_other = res.scores.z_channel[0, :, 0]
    assert np.abs(z_other - exp["scores"]["z"][str(c["k"][0])][f"c:{res.scores.channels[0]}"]).max() > 1e-6
