import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import aria
from aria.cli import main
from aria.errors import AriaInputError
from aria.evaluate.compare import compare_methods
from aria.evaluate.lds import GroundTruth, lds

ALPHAS = {"clean": 0.0, "mix-0.7": 0.7, "mix-1.2": 1.2, "collapsed": 6.0}


@pytest.fixture(scope="module")
def family():
    """A clean query-dependent matrix and the same with growing collapse mixed in."""
    with np.load(aria.examples.path("query-dependent")) as z:
        s0 = z["scores"].astype(np.float64)
        track = z["segment_track"]
    rng = np.random.default_rng(1)
    p = rng.normal(size=s0.shape[0])
    p -= p.mean()
    base = np.outer(p, rng.uniform(0.5, 2.0, size=s0.shape[1]))
    base *= np.linalg.norm(s0) / np.linalg.norm(base)
    mats = {name: s0 + a * base for name, a in ALPHAS.items()}
    # ground truth: retraining targets follow the clean attribution plus noise
    mask = rng.random((60, s0.shape[0])) < 0.5
    targets = mask.astype(float) @ s0 + 2.0 * rng.normal(size=(60, s0.shape[1]))
    return mats, track, GroundTruth(mask, targets)


def _diag(mats):
    return {n: aria.diagnose(aria.scores_from_array(m)) for n, m in mats.items()}


def test_known_ordering_and_collapsed_excluded(family):
    mats, _, _ = family
    diags = _diag(mats)
    assert diags["collapsed"].verdict == "collapsed"
    assert all(diags[n].verdict == "query-dependent" for n in ("clean", "mix-0.7", "mix-1.2"))
    comp = compare_methods(diags)
    assert [m.name for m in comp.ranked] == ["clean", "mix-0.7", "mix-1.2"]
    row = {m.name: m for m in comp.methods}
    assert row["collapsed"].excluded and "collapsed" in row["collapsed"].exclusion_reason
    assert all(v is None for v in row["collapsed"].ranks.values())
    assert [row[n].ranks["E1"] for n in ("clean", "mix-0.7", "mix-1.2")] == [1, 2, 3]
    frame = comp.to_frame()
    assert frame.loc[frame.method == "collapsed", "rank_reliability"].isna().all()
    assert frame.loc[frame.method == "collapsed", "excluded"].item()
    # rankings do not depend on the input order
    rev = compare_methods(dict(reversed(list(diags.items()))))
    assert [m.name for m in rev.ranked] == ["clean", "mix-0.7", "mix-1.2"]


def test_lds_and_kendall_agreement(family):
    mats, _, gt = family
    diags = _diag(mats)
    ldsr = {n: lds(aria.scores_from_array(m), gt) for n, m in mats.items()}
    means = [ldsr[n].mean for n in ALPHAS]
    assert means == sorted(means, reverse=True)  # more collapse, lower LDS
    comp = compare_methods(diags, lds=ldsr)
    ag = {a.diagnostic: a for a in comp.agreement}
    assert ag["rho_bar"].n_methods == 3  # collapsed excluded
    assert ag["E1"].tau == pytest.approx(1.0) and ag["E1"].status == "same order"
    assert ag["reliability_rank"].status == "same order"
    # independent Kendall tau on the included methods
    inc = ["clean", "mix-0.7", "mix-1.2"]
    tau = stats.kendalltau([-diags[n].mean_concentration for n in inc], [ldsr[n].mean for n in inc]).statistic
    assert ag["C_bar"].tau == pytest.approx(tau)
    assert [m.ranks["lds"] for m in comp.methods[:3]] == [1, 2, 3]


def test_disagreeing_diagnostic_gets_negative_tau(family):
    mats, _, _ = family
    diags = _diag({k: mats[k] for k in ("clean", "mix-0.7", "mix-1.2")})
    comp = compare_methods(diags, lds={"clean": 0.1, "mix-0.7": 0.2, "mix-1.2": 0.3})
    ag = {a.diagnostic: a for a in comp.agreement}
    assert ag["E1"].tau == pytest.approx(-1.0) and ag["E1"].status == "does not"


def test_lds_for_unknown_method_is_an_error(family):
    mats, _, _ = family
    with pytest.raises(AriaInputError, match="unknown method"):
        compare_methods(_diag({"clean": mats["clean"]}), lds={"other": 0.3})


def test_cli_compare_table_json_and_out(family, tmp_path, capsys):
    mats, track, gt = family
    paths = []
    for name, m in mats.items():
        p = tmp_path / f"{name}.npy"
        np.save(p, m)
        paths.append(str(p))
    gt_path = tmp_path / "gt.npz"
    np.savez(gt_path, subsets=gt.subsets, targets=gt.targets)
    out = tmp_path / "out"
    code = main(["compare", *paths, "--lds-gt", str(gt_path), "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "ranking (most reliable first" in text and "clean > mix-0.7 > mix-1.2" in text
    assert "excluded collapsed: collapsed" in text
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.method) == list(ALPHAS)
    expected_lds = [lds(aria.scores_from_array(m), gt).mean for m in mats.values()]
    np.testing.assert_allclose(table.lds, expected_lds, atol=1e-12)
    result = json.loads((out / "comparison.json").read_text())
    assert result["ranking"] == ["clean", "mix-0.7", "mix-1.2"]
    assert "collapsed" in result["excluded"]
    prov = json.loads((out / "provenance.json").read_text())
    assert set(prov["inputs"]) == {"scores[clean]", "scores[mix-0.7]", "scores[mix-1.2]",
                                   "scores[collapsed]", "lds_gt"}
    assert (out / "agreement.csv").exists()
    code = main(["compare", *paths[:2], "--names", "A", "B", "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert code == 0 and [m["method"] for m in obj["methods"]] == ["A", "B"]
    assert obj["methods"][0]["diagnostics"]["verdict"] == "query-dependent"


def test_cli_compare_lds_json_and_errors(tmp_path, capsys):
    lds_path = tmp_path / "lds.json"
    lds_path.write_text(json.dumps({"query-dependent": 0.4, "offset-dominated": 0.1}))
    code = main(["compare", "--example", "query-dependent", "--example", "offset-dominated",
                 "--example", "collapsed", "--lds", str(lds_path), "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert code == 0 and obj["ranking"][0] == "query-dependent"
    assert obj["methods"][2]["lds"] is None
    assert main(["compare", "--example", "collapsed", "--names", "a", "b"]) == 2
    assert "2 names for 1" in capsys.readouterr().err
    assert main(["compare"]) == 2
    assert main(["compare", str(tmp_path / "missing.npy")]) == 2
    err = capsys.readouterr().err
    assert "missing.npy" in err and "Traceback" not in err


def test_reliability_rank_orders_by_verdict_class_then_rho():
    with np.load(aria.examples.path("bach-random")) as z:
        s = z["scores"].astype(float)
    partial = aria.diagnose(aria.scores_from_array(s + 0.8 * s.std()))
    assert any(n.startswith("partial offset") for n in partial.notes)
    clean = aria.diagnose(aria.load_scores(aria.examples.path("query-dependent")))
    offset = aria.diagnose(aria.load_scores(aria.examples.path("offset-dominated")))
    assert offset.mean_abs_interquery_corr < clean.mean_abs_interquery_corr  # rho alone would misorder
    comp = compare_methods({"offset": offset, "partial": partial, "clean": clean})
    assert [m.name for m in comp.ranked] == ["clean", "partial", "offset"]
    assert {m.name: m.ranks["rho_bar"] for m in comp.methods}["offset"] == 1  # lowest rho, still last
