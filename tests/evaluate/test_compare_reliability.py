"""compare_methods with the ground-truth-free reliability score."""

import math

import numpy as np
import pytest
from scipy import stats

import aria
from aria.diagnostics import reliability_score as rs
from aria.evaluate.compare import compare_methods


@pytest.fixture(scope="module")
def methods():
    rng = np.random.default_rng(3)
    tracks = np.repeat(np.arange(50), 4)
    signal = np.repeat(rng.normal(size=(50, 16)), 4, axis=0)
    mats = {f"noise-{k}": signal + k * rng.normal(size=signal.shape) for k in (0.5, 1.0, 2.0, 4.0)}
    profile = np.repeat(rng.normal(size=50), 4)
    mats["collapsed"] = np.outer(profile, rng.uniform(1, 2, 16)) + 0.01 * signal
    diags, rel = {}, {}
    for name, m in mats.items():
        sc = aria.scores_from_array(m, segment_track=tracks)
        diags[name] = aria.diagnose(sc)
        rel[name] = rs.reliability_score(sc, diags[name])
    return diags, rel


def test_rank_by_score_collapsed_excluded(methods):
    diags, rel = methods
    comp = compare_methods(diags, reliability=rel)
    assert diags["collapsed"].verdict == "collapsed"
    assert [m.name for m in comp.ranked_by_reliability_score] == [
        "noise-0.5", "noise-1.0", "noise-2.0", "noise-4.0"]
    row = {m.name: m for m in comp.methods}
    assert row["collapsed"].ranks["reliability_score"] is None
    assert row["noise-0.5"].reliability_score == pytest.approx(rel["noise-0.5"].score)
    frame = comp.to_frame()
    assert list(frame["rank_reliability_score"].iloc[:4]) == [1, 2, 3, 4]
    d = comp.to_dict()
    assert d["ranking_by_reliability_score"][0] == "noise-0.5"
    assert d["methods"][0]["reliability"]["used"] == ["track_coherence"]
    # without scores nothing changes
    plain = compare_methods(diags)
    assert "ranking_by_reliability_score" not in plain.to_dict()
    assert "reliability_score" not in plain.methods[0].ranks


def test_tau_with_lds_and_bootstrap_interval(methods):
    diags, rel = methods
    ldsv = {"noise-0.5": 0.5, "noise-1.0": 0.45, "noise-2.0": 0.2, "noise-4.0": 0.22, "collapsed": 0.9}
    comp = compare_methods(diags, reliability=rel, lds=ldsv, tau_bootstrap=400, tau_bootstrap_seed=1)
    ag = {a.diagnostic: a for a in comp.agreement}["reliability_score"]
    inc = ["noise-0.5", "noise-1.0", "noise-2.0", "noise-4.0"]  # collapsed left out
    x, y = [rel[n].score for n in inc], [ldsv[n] for n in inc]
    assert ag.n_methods == 4
    assert ag.tau == pytest.approx(stats.kendalltau(x, y).statistic)
    ref = rs.kendall_tau_bootstrap(x, y, n_boot=400, seed=1)
    assert (ag.ci_low, ag.ci_high) == pytest.approx((ref["ci_low"], ref["ci_high"]))
    others = [a for a in comp.agreement if a.diagnostic != "reliability_score"]
    assert all(math.isnan(a.ci_low) for a in others)
    assert list(comp.agreement_frame().columns)[-4:] == ["ci_low", "ci_high", "n_boot_defined", "level"]
    # independent count of the resamples with a defined tau (same seeded generator)
    gen, xa, ya, defined = np.random.default_rng(1), np.array(x), np.array(y), 0
    for _ in range(400):
        idx = gen.integers(0, 4, 4)
        defined += math.isfinite(stats.kendalltau(xa[idx], ya[idx]).statistic)
    assert ag.n_boot_defined == defined == ref["n_boot_defined"] and 0 < defined < 400
    assert {a["diagnostic"]: a for a in comp.to_dict()["agreement_with_lds"]}[
        "reliability_score"]["n_boot_defined"] == defined
    # confidence is the interval's level: an 80% interval against the same function at 0.8
    c80 = compare_methods(diags, reliability=rel, lds=ldsv, tau_bootstrap=400, tau_bootstrap_seed=1,
                          confidence=0.8)
    ag80 = {a.diagnostic: a for a in c80.agreement}["reliability_score"]
    ref80 = rs.kendall_tau_bootstrap(x, y, n_boot=400, seed=1, level=0.8)
    assert ag80.level == 0.8 and ag.level == 0.95
    assert (ag80.ci_low, ag80.ci_high) == pytest.approx((ref80["ci_low"], ref80["ci_high"]))
    assert ag.ci_low <= ag80.ci_low <= ag80.ci_high <= ag.ci_high


@pytest.mark.parametrize("n_ranked", [2, 3])
def test_tau_interval_undefined_with_fewer_than_4_ranked_methods(methods, n_ranked):
    diags, rel = methods
    names = ["noise-0.5", "noise-1.0", "noise-2.0"][:n_ranked]
    ldsv = {"noise-0.5": 0.5, "noise-1.0": 0.45, "noise-2.0": 0.2}
    comp = compare_methods({n: diags[n] for n in names}, reliability={n: rel[n] for n in names},
                           lds={n: ldsv[n] for n in names}, tau_bootstrap=200)
    ag = {a.diagnostic: a for a in comp.agreement}["reliability_score"]
    assert ag.n_methods == n_ranked and ag.tau == pytest.approx(1.0)  # was reported as 1.000 .. 1.000
    assert math.isnan(ag.ci_low) and math.isnan(ag.ci_high) and ag.n_boot_defined == 0
    row = {a["diagnostic"]: a for a in comp.to_dict()["agreement_with_lds"]}["reliability_score"]
    assert row["ci_low"] is None and row["ci_high"] is None and row["n_boot_defined"] == 0


def test_reliability_for_unknown_method_is_refused(methods):
    diags, rel = methods
    with pytest.raises(aria.AriaInputError, match="^reliability given for unknown method"):
        compare_methods(diags, reliability={"nope": rel["noise-0.5"]})
