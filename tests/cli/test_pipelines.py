"""The CLI is a thin shell: ``aria report`` / ``aria compare`` give what make_report / compare_files give from
Python, and those equal the results computed step by step with the lower-level API."""

import json
import re

import numpy as np
import pytest

import aria
from aria.cli import main
from aria.evaluate.compare import compare_methods
from aria.evaluate.lds import lds as compute_lds
from aria.evaluate.pipeline import compare_files, resolve_methods
from aria.groups.setup import HomogeneitySetup, homogeneity_summary
from aria.io.output import json_safe
from aria.report import make_report

R = 40


def _strip_time(text):
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)", "TIME", text)


@pytest.fixture(scope="module")
def query():
    return str(aria.load_scores(aria.examples.path("bach-knn")).coords["query"].values[1])


def test_make_report_gives_the_cli_report(tmp_path, capsys, query):
    cli_out, api_out = tmp_path / "cli", tmp_path / "api"
    argv = ["report", "--example", "bach-knn", "--example", "query-dependent", "--null-groups", str(R),
            "--seed", "5", "--k", "5,10", "--summary-k", "5", "--query", query, "--dpi", "30",
            "--out", str(cli_out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    report = make_report(examples=["bach-knn", "query-dependent"], null_groups=R, seed=5, k=[5, 10],
                         summary_k=5, queries=[query], dpi=30, out=api_out, command=["aria", *argv])
    cli_html = (cli_out / "report.html").read_text(encoding="utf-8")
    api_html = report.path.read_text(encoding="utf-8")
    assert report.html == api_html and report.path == api_out / "report.html"
    assert _strip_time(api_html) == _strip_time(cli_html)
    assert f"{query.lower().replace('.', '-')}" in api_html and "data:image/png;base64," in api_html
    cli_prov = json.loads((cli_out / "provenance.json").read_text())
    api_prov = json.loads(report.provenance_path.read_text())
    cli_prov.pop("created"), api_prov.pop("created")
    assert api_prov == cli_prov
    assert report.summary().replace(str(api_out), str(cli_out)) == captured.out.rstrip("\n")
    assert captured.err.splitlines() == report.notices  # the Bach features notice, the skipped homogeneity
    assert any("homogeneity skipped" in n for n in report.notices)

    # independent: the lower-level API, step by step
    setup = HomogeneitySetup.load(aria.examples.features_path(), "symbolic", k=[5, 10], null_groups=R, seed=5)
    scores = aria.load_scores(aria.examples.path("bach-knn"))
    diag = aria.diagnose(scores)
    result = setup.run(scores, diag, residual=True, labels=aria.examples.labels("bach-knn"))
    expected = homogeneity_summary(result, 5)
    assert report.summary_k == 5 and set(report.summaries) == {"bach-knn"}
    for channel, values in expected.items():
        got = report.summaries["bach-knn"][channel]
        np.testing.assert_allclose([got["z_bar"], got["pos"], got["sig"]],
                                   [values["z_bar"], values["pos"], values["sig"]], rtol=0, atol=0)
    assert report.diagnostics["bach-knn"].mean_abs_interquery_corr == diag.mean_abs_interquery_corr
    assert f"{diag.mean_abs_interquery_corr:.3f}" in api_html


def test_make_report_checks_arguments_before_any_work(tmp_path):
    with pytest.raises(aria.AriaInputError, match="dpi"):
        make_report(examples=["collapsed"], dpi=5, out=tmp_path / "a")
    with pytest.raises(aria.AriaInputError, match="need features"):
        make_report(examples=["collapsed"], queries=["q0"], out=tmp_path / "b")
    with pytest.raises(aria.AriaInputError, match="not both"):
        make_report(examples=["collapsed"], lds="l.json", lds_gt="g.npz", out=tmp_path / "c")
    assert not any(tmp_path.iterdir())


def test_compare_files_gives_the_cli_comparison(tmp_path, capsys):
    examples = ["bach-knn", "bach-random", "bach-collapsed"]
    gt = aria.examples.ground_truth()
    gt_path = tmp_path / "gt.npz"
    np.savez(gt_path, subsets=gt.subsets, targets=gt.targets, query_ids=gt.query_ids)
    argv = ["compare", *sum((["--example", e] for e in examples), []), "--features",
            str(aria.examples.features_path()), "--null-groups", str(R), "--lds-gt", str(gt_path), "--json"]
    assert main(argv) == 0
    cli = json.loads(capsys.readouterr().out)
    run = compare_files(examples=examples, features=aria.examples.features_path(), null_groups=R, lds_gt=gt)
    assert json_safe(run.comparison.to_dict()) == cli

    # independent: diagnostics, LDS and homogeneity by hand, then compare_methods
    setup = HomogeneitySetup.load(aria.examples.features_path(), "symbolic", k=[10], null_groups=R)
    sources, names = resolve_methods(examples=examples)
    diags, lds, homog, rel = {}, {}, {}, {}
    for name, source in zip(names, sources, strict=True):
        scores = aria.load_scores(source)
        diags[name] = aria.diagnose(scores)
        rel[name] = aria.reliability_score(scores, diags[name])
        lds[name] = compute_lds(scores, gt)
        homog[name] = setup.summary(scores, diags[name], k=10)
    by_hand = compare_methods(diags, lds=lds, homogeneity=homog, homogeneity_k=10,
                              sources=dict(zip(names, sources, strict=True)), reliability=rel)
    assert json_safe(by_hand.to_dict()) == cli
    assert cli["ranking"][0] == "bach-knn" and "bach-collapsed" in cli["excluded"]


def test_compare_files_writes_the_result_set(tmp_path):
    out = tmp_path / "out"
    run = compare_files(examples=["query-dependent", "collapsed"], out=out, command=["python"])
    assert sorted(p.name for p in run.written) == ["comparison.csv", "comparison.json", "provenance.json"]
    assert json.loads((out / "comparison.json").read_text())["excluded"].keys() == {"collapsed"}
    assert run.provenance["command"] == ["python"] and set(run.provenance["inputs"]) == {
        "scores[query-dependent]", "scores[collapsed]"}


def test_resolve_methods_names():
    sources, names = resolve_methods(["x/a.npy", "y/a.npy"], examples=["collapsed"])
    assert names == ["a", "a-2", "collapsed"] and sources[2] == str(aria.examples.path("collapsed"))
    with pytest.raises(aria.AriaInputError, match="2 names for 3"):
        resolve_methods(["x/a.npy", "y/a.npy"], examples=["collapsed"], names=["p", "q"])
    with pytest.raises(aria.AriaInputError, match="unique"):
        resolve_methods(["x/a.npy", "y/b.npy"], names=["p", "p"])
    with pytest.raises(aria.AriaInputError, match="at least one"):
        resolve_methods()


def test_compare_files_takes_an_in_memory_track_map_and_records_its_content(tmp_path):
    import hashlib

    tracks = np.asarray(aria.load_scores(aria.examples.path("bach-knn")).coords["track"].values)
    out = tmp_path / "o"
    result = compare_files(examples=["bach-knn", "bach-random"], tracks=tracks, out=out,
                           reliability_score=False)
    params = json.loads((out / "provenance.json").read_text())["parameters"]
    assert params["tracks_array_sha256"] == hashlib.sha256(tracks.tobytes()).hexdigest()
    assert "tracks" not in json.loads((out / "provenance.json").read_text())["inputs"]
    assert result.written
