"""CLI verbs of the evaluation toolkit, aria signatures, and the --bootstrap flags."""

import json

import numpy as np
import pandas as pd
import pytest

import aria
from aria import examples
from aria.cli import main
from aria.evaluate import (
    counterfactual_auc,
    mucs_skew,
    rank_ensemble,
    self_influence_rank,
    topk_overlap_methods,
    topk_overlap_queries,
)


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _json(capsys, *argv):
    code, out, err = _run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    d = {
        "l1": rng.uniform(0.5, 1, size=(20, 8)),
        "l2": rng.uniform(0.5, 1.2, size=(20, 8)),
        "s": rng.normal(size=(50, 6)),
        "s2": rng.normal(size=(50, 6)),
        "own": np.arange(6),
        "r": rng.normal(0.9, 0.05, size=40),
        "m": rng.normal(0.8, 0.1, size=40),
        "tr": rng.normal(size=(30, 100)),
        "qu": rng.normal(size=(4, 100)),
    }
    paths = {}
    for k, v in d.items():
        paths[k] = tmp_path / f"{k}.npy"
        np.save(paths[k], v)
    pd.DataFrame({"random": d["r"], "method": d["m"]}).to_csv(tmp_path / "sims.csv", index=False)
    paths["csv"] = tmp_path / "sims.csv"
    return d, {k: str(v) for k, v in paths.items()}


def test_unlearning_reads_npz(files, capsys, tmp_path):
    d, _ = files
    for k in ("l1", "l2"):
        np.savez(tmp_path / f"{k}.npz", scores=d[k])
    out = _json(capsys, "evaluate", "unlearning", str(tmp_path / "l1.npz"), str(tmp_path / "l2.npz"))
    tau = d["l2"] - d["l1"]
    assert out["summary"]["max"] == pytest.approx(tau.max())
    assert out["summary"]["min"] == pytest.approx(tau.min())


def test_verbs_match_the_api(files, capsys, tmp_path):
    d, p = files
    out = _json(capsys, "evaluate", "skew", p["l1"], p["l2"])
    assert out["summary"]["mean"] == pytest.approx(mucs_skew(d["l1"], d["l2"]).mean())
    out = _json(capsys, "evaluate", "unlearning", p["l1"], p["l2"])
    assert out["summary"]["max"] == pytest.approx((d["l2"] - d["l1"]).max())
    out = _json(capsys, "evaluate", "self-rank", p["s"], "--self-index", p["own"])
    assert out["mean_rank"] == pytest.approx(self_influence_rank(d["s"], d["own"])["mean"])
    out = _json(
        capsys,
        "evaluate",
        "auc",
        p["csv"],
        p["csv"],
        "--column-random",
        "random",
        "--column-method",
        "method",
    )
    ref = counterfactual_auc(d["r"], d["m"])
    assert out["auc"] == pytest.approx(ref["auc"]) and out["p_value"] == pytest.approx(ref["p_value"])
    out = _json(capsys, "evaluate", "overlap", p["s"], "--k", "5")
    assert out["overlap"] == pytest.approx(topk_overlap_queries(d["s"], 5)["overlap"])
    out = _json(capsys, "evaluate", "overlap", p["s"], p["s2"], "--k", "5")
    assert out["overlap"] == pytest.approx(topk_overlap_methods(d["s"], d["s2"], 5)["overlap"])
    save = tmp_path / "ens.npy"
    code, text, err = _run(
        capsys, "evaluate", "ensemble", p["s"], p["s2"], "--weights", "2", "1", "--save", str(save)
    )
    assert code == 0, err
    np.testing.assert_allclose(np.load(save), rank_ensemble([d["s"], d["s2"]], [2, 1]))
    assert aria.diagnose(aria.load_scores(save)).n_queries == 6  # a score matrix Aria reads
    # weights: one entry per input, in input order (the same file twice keeps both entries)
    out = _json(capsys, "evaluate", "ensemble", p["s"], p["s"], "--weights", "2", "1", "--save", str(save))
    assert out["weights"] == [{"input": p["s"], "weight": 2.0}, {"input": p["s"], "weight": 1.0}]


def test_simdiff_seeded_and_recorded(files, capsys, tmp_path):
    _, p = files
    a = _json(capsys, "evaluate", "simdiff", p["m"], p["r"], "--bootstrap", "300", "--seed", "4")
    b = _json(capsys, "evaluate", "simdiff", p["m"], p["r"], "--bootstrap", "300", "--seed", "4")
    assert a == b and a["ci_low"] < a["mean"] < a["ci_high"] and a["seed"] == 4
    out = tmp_path / "sd"
    code, text, err = _run(
        capsys, "evaluate", "simdiff", p["m"], p["r"], "--bootstrap", "100", "--seed", "9", "--out", str(out)
    )
    assert code == 0 and "CI [" in text
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seeds"] == {"bootstrap": 9} and set(prov["inputs"]) == {"sim_method", "sim_random"}
    assert json.loads((out / "simdiff.json").read_text())["replicates"] == 100
    np.save(tmp_path / "m0.npy", np.array([0.5, 0.6, 0.7]))
    np.save(tmp_path / "r0.npy", np.array([0.0, 0.0, 1.0, 1.0, 1.0]))
    c = _json(capsys, "evaluate", "simdiff", str(tmp_path / "m0.npy"), str(tmp_path / "r0.npy"))
    assert c["undefined_replicates"] > 0 and c["ci_low"] is None and c["ci_high"] is None
    code, text, _ = _run(capsys, "evaluate", "simdiff", str(tmp_path / "m0.npy"), str(tmp_path / "r0.npy"))
    assert code == 0 and f"CI undefined ({c['undefined_replicates']} of 2000" in text


def test_bad_inputs_one_line_exit_2(files, capsys, tmp_path):
    _, p = files
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"\x80\x04")
    cases = [
        (["evaluate", "skew", p["l1"], p["s"]], "same items"),
        (["evaluate", "overlap", p["s"], "--k", "0"], "--k: must be an integer >= 1"),
        (["evaluate", "auc", p["csv"], p["m"]], "--column-random: choose the column"),
        (["evaluate", "self-rank", p["s"], "--self-index", p["r"]], "one training row per query"),
        (["evaluate", "ensemble", p["s"], p["s"], "--save", p["s"]], "overwrite"),
        (["evaluate", "overlap", str(bad), "--k", "2"], "pickle"),
        (["signatures", p["tr"], p["s"], "--out", str(tmp_path / "x")], "dimensions"),
        (["signatures", "--out", str(tmp_path / "x")], "TRAIN QUERIES"),
        (["evaluate", "simdiff", p["m"], p["r"], "--confidence", "2"],
         "--confidence: must be a number in (0, 1)"),
        (["evaluate", "simdiff", p["m"], p["r"], "--bootstrap", "0"], "--bootstrap: must be an integer >= 1"),
        (["diagnose", p["s"], "--bootstrap", "-1"], "--bootstrap: must be an integer >= 0"),
        (["diagnose", p["s"], "--bootstrap", "5", "--seed", "-2"], "--seed: must be an integer >= 0"),
        (["homogeneity", p["s"], "--features", p["csv"], "--bootstrap", "5", "--confidence", "1"],
         "--confidence: must be a number in (0, 1)"),
    ]
    for argv, msg in cases:
        code, out, err = _run(capsys, *argv)
        assert code == 2, (argv, err)
        assert err.startswith("aria: error:") and msg in err and "Traceback" not in err, (argv, err)
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_signatures_cli(files, capsys, tmp_path):
    d, p = files
    out = tmp_path / "sig"
    code, text, err = _run(
        capsys,
        "signatures",
        "--composition",
        p["tr"],
        p["qu"],
        "--recording",
        p["tr"],
        p["qu"],
        "--k",
        "16",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert code == 0, err
    res = aria.signatures.rights_attribution(
        {"composition": d["tr"], "recording": d["tr"]},
        {"composition": d["qu"], "recording": d["qu"]},
        k=16,
        seed=3,
    )
    np.testing.assert_allclose(np.load(out / "scores_composition.npy"), res.scores["composition"])
    np.testing.assert_allclose(np.load(out / "shares_recording.npy"), res.shares["recording"])
    assert json.loads((out / "provenance.json").read_text())["seeds"] == {"jl_projection": 3}
    top = pd.read_csv(out / "top_shares.csv")
    assert set(top["channel"]) == {"composition", "recording"}
    # embedding baseline: one set, not projected
    code, text, err = _run(
        capsys, "signatures", p["tr"], p["qu"], "--no-project", "--out", str(tmp_path / "emb")
    )
    assert code == 0, err
    np.testing.assert_allclose(
        np.load(tmp_path / "emb" / "scores.npy"), aria.signatures.cosine_scores(d["tr"], d["qu"])
    )


def test_diagnose_bootstrap_cli(tmp_path, capsys):
    a = _json(capsys, "diagnose", "--example", "query-dependent", "--bootstrap", "200", "--seed", "5")
    b = _json(
        capsys, "diagnose", "--example", "query-dependent", "--bootstrap", "200", "--bootstrap-seed", "5"
    )
    assert a == b
    for key in ("rho_bar", "C_bar", "E1"):
        lo, hi = a[f"{key}_ci"]
        assert lo <= hi
    assert a["bootstrap"]["seed"] == 5 and a["bootstrap"]["replicates"] == 200
    c = _json(capsys, "diagnose", "--example", "query-dependent", "--bootstrap", "200", "--seed", "6")
    assert c["C_bar_ci"] != a["C_bar_ci"]
    plain = _json(capsys, "diagnose", "--example", "query-dependent")
    assert "bootstrap" not in plain
    code, text, _ = _run(
        capsys, "diagnose", "--example", "query-dependent", "--bootstrap", "100", "--out", str(tmp_path / "d")
    )
    assert code == 0 and "percentile bootstrap intervals over queries" in text
    prov = json.loads((tmp_path / "d" / "provenance.json").read_text())
    assert prov["seeds"] == {"bootstrap": 0} and prov["parameters"]["bootstrap"] == 100
    assert "E1_ci" in json.loads((tmp_path / "d" / "diagnostics.json").read_text())


def test_homogeneity_compare_report_bootstrap(tmp_path, capsys):
    scores, feats = str(examples.path("bach-knn")), str(examples.features_path())
    common = ["--features", feats, "--channels", "symbolic", "--null-groups", "100", "--no-cache"]
    h = _json(
        capsys, "homogeneity", scores, *common, "--k", "5", "--bootstrap", "200", "--bootstrap-seed", "2"
    )
    cell = h["homogeneity"]["harmony"]["5"]
    assert cell["z_mean_ci"][0] <= cell["z_mean"] <= cell["z_mean_ci"][1]
    assert h["bootstrap"]["seed"] == 2
    code, text, err = _run(
        capsys, "homogeneity", scores, *common, "--k", "5", "--bootstrap", "50", "--out", str(tmp_path / "h")
    )
    assert code == 0 and "percentile bootstrap intervals" in text, err
    assert {"low", "high"} <= set(pd.read_csv(tmp_path / "h" / "summary_ci.csv").columns)
    # compare: LDS intervals from per-query Spearman values
    s = np.asarray(aria.load_scores(aria.examples.path("query-dependent")).values)
    rng = np.random.default_rng(0)
    m = rng.random((20, s.shape[0])) < 0.5
    np.savez(
        tmp_path / "gt.npz", subsets=m, targets=m.astype(float) @ s + 3 * rng.normal(size=(20, s.shape[1]))
    )
    c = _json(
        capsys,
        "compare",
        "--example",
        "query-dependent",
        "--example",
        "offset-dominated",
        "--lds-gt",
        str(tmp_path / "gt.npz"),
        "--bootstrap",
        "200",
    )
    for meth in c["methods"]:
        lo, hi = meth["lds_ci"]
        assert lo <= meth["lds"] <= hi
        assert "rho_bar_ci" in meth["diagnostics"]
    code, text, err = _run(
        capsys,
        "report",
        "--example",
        "bach-knn",
        "--null-groups",
        "100",
        "--k",
        "5",
        "--no-figures",
        "--bootstrap",
        "100",
        "--out",
        str(tmp_path / "r"),
    )
    assert code == 0, err
    html = (tmp_path / "r" / "report.html").read_text()
    assert html.count("percentile bootstrap intervals over queries") == 2  # diagnostics and homogeneity
