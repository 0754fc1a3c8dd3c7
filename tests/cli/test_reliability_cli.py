"""The reliability score on the command line: ``aria diagnose`` and ``aria compare``."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import aria
from aria.cli import main
from aria.diagnostics import reliability_score as rs
from aria.evaluate.lds import GroundTruth, lds

N_TRACKS, PER, Q, GROUPS = 40, 3, 12, 4


def _planted(seed: int, noise: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(N_TRACKS, GROUPS))
    signal = np.repeat(base[:, np.arange(Q) // (Q // GROUPS)], PER, axis=0)
    return signal + noise * rng.normal(size=(N_TRACKS * PER, Q))


@pytest.fixture()
def files(tmp_path):
    tracks = np.repeat([f"t{i}" for i in range(N_TRACKS)], PER)
    pd.DataFrame({"segment": np.arange(tracks.size), "track": tracks}).to_csv(tmp_path / "map.csv",
                                                                              index=False)
    groups = np.repeat([f"g{i}" for i in range(GROUPS)], Q // GROUPS)
    pd.DataFrame({"query": [f"q{j}" for j in range(Q)], "source": groups,
                  "genre": ["x"] * Q}).to_csv(tmp_path / "queries.csv", index=False)
    paths = {}
    for name, noise in (("clean", 0.3), ("noisy", 2.0), ("noise", 100.0)):
        paths[name] = tmp_path / f"{name}.npy"
        np.save(paths[name], _planted(0, noise))
    return tmp_path, tracks, groups, paths


JSON_KEYS = {"reliability_score", "reliability_components", "reliability"}


def test_diagnose_json_keys_and_values(files, capsys):
    tmp, tracks, groups, paths = files
    code = main(["diagnose", str(paths["clean"]), "--tracks", str(tmp / "map.csv"),
                 "--labels", str(tmp / "queries.csv"), "--query-group", "source", "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert code == 0 and JSON_KEYS <= set(obj)
    # the spec's section 9 keys are still there
    assert {"n_segments", "mean_abs_interquery_corr", "energy_ratio_1", "verdict"} <= set(obj)
    comp = obj["reliability_components"]
    assert set(comp) == {"track_coherence", "group_contrast", "query_specificity"}
    s = np.load(paths["clean"])
    qids = np.array([f"q{j}" for j in range(Q)])
    ref = rs.reliability_score(aria.scores_from_array(s, segment_track=tracks, query_ids=qids),
                               query_groups=groups)
    assert obj["reliability_score"] == pytest.approx(ref.score, abs=1e-12)
    assert comp["track_coherence"] == pytest.approx(rs.track_coherence(s, tracks)[0], abs=1e-10)
    assert obj["reliability"]["used"] == ["track_coherence", "group_contrast"]
    assert obj["reliability"]["formula"] == rs.FORMULA
    assert obj["reliability"]["parameters"]["components"] == ["track_coherence", "group_contrast"]


def test_diagnose_text_out_and_flags(files, capsys):
    tmp, _, _, paths = files
    out = tmp / "res"
    assert main(["diagnose", str(paths["noisy"]), "--tracks", str(tmp / "map.csv"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "reliability score:" in text and "group contrast undefined" in text
    written = json.loads((out / "diagnostics.json").read_text())
    assert written["reliability_components"]["group_contrast"] is None
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["parameters"]["reliability_score"] is True
    assert main(["diagnose", str(paths["noisy"]), "--no-reliability-score", "--json"]) == 0
    assert not JSON_KEYS & set(json.loads(capsys.readouterr().out))
    # no map and no groups: every row its own track -> the score is null, with a reason
    assert main(["diagnose", str(paths["noisy"]), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["reliability_score"] is None and "score" in obj["reliability"]["undefined"]


@pytest.mark.parametrize("extra, message", [
    (["--query-group", "source"], "--query-group needs --labels"),
    (["--labels", "Q", "--query-group", "nope"], "no column 'nope'"),
    (["--labels", "Q"], "choose the label column"),
    (["--labels", "Q", "--no-reliability-score"],
     "--labels: only the reliability score uses it, and --no-reliability-score turns the score off"),
])
def test_diagnose_bad_reliability_flags_exit_2(files, capsys, extra, message):
    tmp, _, _, paths = files
    extra = [str(tmp / "queries.csv") if a == "Q" else a for a in extra]
    assert main(["diagnose", str(paths["clean"]), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("aria: error:") and "Traceback" not in err


def test_compare_ranks_by_score_and_reports_tau_with_ci(files, capsys):
    tmp, tracks, groups, paths = files
    rng = np.random.default_rng(5)
    clean = np.load(paths["clean"])
    mask = rng.random((40, clean.shape[0])) < 0.5
    gt = GroundTruth(mask, mask.astype(float) @ clean + 3.0 * rng.normal(size=(40, Q)))
    np.savez(tmp / "gt.npz", subsets=gt.subsets, targets=gt.targets)
    argv = ["compare", *map(str, paths.values()), "--tracks", str(tmp / "map.csv"),
            "--labels", str(tmp / "queries.csv"), "--query-group", "source",
            "--lds-gt", str(tmp / "gt.npz"), "--tau-bootstrap", "300", "--tau-bootstrap-seed", "4"]
    assert main([*argv, "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["ranking_by_reliability_score"] == ["clean", "noisy", "noise"]
    scores = {m["method"]: m["reliability_score"] for m in obj["methods"]}
    ldsv = {m["method"]: m["lds"] for m in obj["methods"]}
    ag = {a["diagnostic"]: a for a in obj["agreement_with_lds"]}["reliability_score"]
    names = list(paths)
    ref = rs.kendall_tau_bootstrap([scores[n] for n in names], [ldsv[n] for n in names],
                                   n_boot=300, seed=4)
    assert ag["tau"] == pytest.approx(stats.kendalltau([scores[n] for n in names],
                                                       [ldsv[n] for n in names]).statistic)
    # 3 ranked methods: fewer than 4, so the interval is undefined (null), with no resampling
    assert ag["ci_low"] is None and ag["ci_high"] is None and ag["n_boot_defined"] == 0
    assert math.isnan(ref["ci_low"]) and ref["n_methods"] == 3
    assert ldsv["clean"] == pytest.approx(lds(aria.scores_from_array(clean), gt).mean)
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "ranking by reliability score: clean > noisy > noise" in text
    assert "95% bootstrap interval over methods" in text and ag["level"] == 0.95
    # --confidence reaches the tau interval (text and JSON), as it does the --bootstrap intervals
    assert main([*argv, "--confidence", "0.8"]) == 0
    assert "80% bootstrap interval over methods" in capsys.readouterr().out
    assert main([*argv, "--confidence", "0.8", "--json"]) == 0
    ag80 = {a["diagnostic"]: a for a in json.loads(capsys.readouterr().out)["agreement_with_lds"]}
    assert ag80["reliability_score"]["level"] == 0.8
    assert main(["compare", *map(str, paths.values()), "--tau-bootstrap", "0"]) == 2
    assert capsys.readouterr().err.startswith("aria: error: --tau-bootstrap: must be an integer >= 1")
    prov_out = tmp / "res"
    assert main([*argv, "--out", str(prov_out)]) == 0
    prov = json.loads((prov_out / "provenance.json").read_text())
    assert prov["seeds"]["tau_bootstrap"] == 4 and prov["parameters"]["query_group"] == "source"


def test_compare_api_and_cli_agree(files, capsys):
    tmp, _, _, paths = files
    from aria.evaluate.pipeline import compare_files

    run = compare_files(list(paths.values()), tracks=tmp / "map.csv", labels=tmp / "queries.csv",
                        query_group="source")
    assert main(["compare", *map(str, paths.values()), "--tracks", str(tmp / "map.csv"),
                 "--labels", str(tmp / "queries.csv"), "--query-group", "source", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["ranking_by_reliability_score"] == [m.name for m in run.comparison.ranked_by_reliability_score]
    assert [m["reliability_score"] for m in obj["methods"]] == pytest.approx(
        [m.reliability_score for m in run.comparison.methods])


@pytest.mark.parametrize("extra, message", [
    (["--query-group", "source"], "--query-group: needs labels"),
    (["--labels", "Q", "--no-reliability-score"],
     "--labels: only the reliability score uses them, and it is turned off\n"),
    (["--labels", "Q"], "--query-group: "),
])
def test_compare_bad_reliability_flags_exit_2(files, capsys, extra, message):
    tmp, _, _, paths = files
    extra = [str(tmp / "queries.csv") if a == "Q" else a for a in extra]
    assert main(["compare", *map(str, paths.values()), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"aria: error: {message}") and "Traceback" not in err


@pytest.mark.parametrize("dtype", ["Int64", "string"])
def test_diagnose_nullable_parquet_group_with_missing_value(files, capsys, dtype):
    """A pd.NA group (nullable parquet column) is a missing label, not a crash."""
    tmp, tracks, groups, paths = files
    codes = pd.Series([int(g[1:]) for g in groups], dtype="Int64")
    col = codes if dtype == "Int64" else codes.astype("string")
    col[0] = pd.NA
    pd.DataFrame({"query": [f"q{j}" for j in range(Q)], "grp": col}).to_parquet(tmp / "q.parquet")
    code = main(["diagnose", str(paths["clean"]), "--tracks", str(tmp / "map.csv"),
                 "--labels", str(tmp / "q.parquet"), "--query-group", "grp", "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert code == 0
    s = np.load(paths["clean"])
    # reference: query q0 has no group, so only the other 11 columns' pairs count
    r = np.corrcoef(s[:, 1:], rowvar=False)
    g = groups[1:]
    iu = np.triu_indices(Q - 1, 1)
    same = g[iu[0]] == g[iu[1]]
    want = r[iu][same].mean() - r[iu][~same].mean()
    assert obj["reliability_components"]["group_contrast"] == pytest.approx(want, abs=1e-10)
    assert obj["reliability"]["details"]["group_pairs_same"] == int(same.sum())
