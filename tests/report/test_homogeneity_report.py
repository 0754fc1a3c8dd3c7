"""Plots, evidence, compare and report on the homogeneity side, on the real Bach feature table."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import aria
from aria.cli import main
from aria.errors import AriaInputError
from aria.evaluate.evidence import query_evidence
from aria.examples import bach_scores as B
from aria.groups.result import summarize
from aria.groups.setup import HomogeneitySetup, homogeneity_summary
from aria.report import plot

ROOT = Path(__file__).resolve().parents[2]
R = 200


@pytest.fixture(scope="module")
def setup():
    return HomogeneitySetup.load(aria.examples.features_path(), "symbolic", null_groups=R, seed=3)


@pytest.fixture(scope="module")
def knn(setup):
    scores = aria.load_scores(aria.examples.path("bach-knn"))
    diag = aria.diagnose(scores)
    result = setup.run(scores, diag, residual=True, labels=B.labels())
    return scores, diag, result


def _render(fig, tmp_path, stem):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot.save_figure(fig, tmp_path / f"{stem}.png")
        plot.save_figure(fig, tmp_path / f"{stem}.svg")
    assert (tmp_path / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in (tmp_path / f"{stem}.svg").read_bytes()[:500]


def test_shipped_bach_examples_match_generator():
    for name in B.NAMES:
        fresh = B.generate(name)
        with np.load(aria.examples.path(name), allow_pickle=False) as z:
            for key, value in fresh.items():
                np.testing.assert_array_equal(z[key], value)
    tracks = set(pd.read_parquet(aria.examples.features_path())["track"].astype(str))
    assert set(fresh["segment_track"]) == tracks


def test_bach_examples_diagnose_as_documented(knn):
    verdicts = {n: aria.diagnose(aria.load_scores(aria.examples.path(n))).verdict for n in B.NAMES}
    assert verdicts == {"bach-knn": "query-dependent", "bach-random": "query-dependent",
                        "bach-collapsed": "collapsed"}
    summ = homogeneity_summary(knn[2], 10)
    assert summ["harmony"]["z_bar"] > 3 and summ["melody"]["z_bar"] > 1
    assert np.isnan(summ["dynamic"]["z_bar"])  # music21 MIDI has constant velocity


def test_z_distribution_plot(knn, tmp_path):
    result = knn[2]
    mh = result.scores
    fig = plot.plot_z_distribution(result)
    axes = fig.axes
    assert len(axes) == len(mh.k_values)
    for ki, ax in enumerate(axes):
        assert ax.get_title() == f"K = {mh.k_values[ki]}"
        assert [t.get_text() for t in ax.get_xticklabels()] == list(mh.channels)
        medians = [ln for ln in ax.lines if len(ln.get_xdata()) == 2 and ln.get_color() == "#000000"
                   and ln.get_linestyle() == "-"]
        assert len(medians) == len(mh.channels)
        z = mh.z_channel[ki, :, 1]  # harmony
        assert medians[1].get_ydata()[0] == pytest.approx(np.median(z))
    band = [p for p in axes[0].patches if p.get_label().startswith("null band")]
    assert band and band[0].get_y() == pytest.approx(-1.645)
    assert "z_c(q)" in axes[0].get_ylabel()
    _render(fig, tmp_path, "z")


def test_k_sweep_plot(knn, tmp_path):
    result = knn[2]
    mh = result.scores
    fig = plot.plot_k_sweep(result)
    assert len(fig.axes) == 3
    for ax, key in zip(fig.axes, ("z_mean", "pos", "sig"), strict=True):
        lines = [ln for ln in ax.lines if ln.get_gid() and ln.get_gid().startswith(key)]
        assert len(lines) == len(mh.channels)
        for ci, ln in enumerate(lines):
            assert list(ln.get_xdata()) == list(mh.k_values)
            expect = [summarize(mh.z_channel[ki, :, ci], mh.included)[key] for ki in range(len(mh.k_values))]
            np.testing.assert_allclose(ln.get_ydata(), expect, equal_nan=True)
        assert "K" in ax.get_xlabel()
    _render(fig, tmp_path, "ks")


def test_residual_alignment_confound_plots(knn, tmp_path):
    result = knn[2]
    fig = plot.plot_residual_comparison(result, k=10)
    ax = fig.axes[0]
    raw, res = ax.containers
    assert len(raw) == len(res) == len(result.scores.channels)
    expect = [v["z_bar"] for v in homogeneity_summary(result, 10, "residual").values()]
    np.testing.assert_allclose([b.get_height() for b in res], np.nan_to_num(expect))
    _render(fig, tmp_path, "res")

    fig = plot.plot_alignment(result.alignment)
    a_max, a_grp = fig.axes[0].containers
    np.testing.assert_allclose([b.get_height() for b in a_max],
                               np.nan_to_num(result.alignment.channels["a_max"].to_numpy(float)))
    np.testing.assert_allclose([b.get_height() for b in a_grp],
                               np.nan_to_num(result.alignment.channels["a_grp"].to_numpy(float)))
    assert "u1" in fig.axes[0].get_ylabel()
    _render(fig, tmp_path, "align")

    fig = plot.plot_confound(result.confound, k=10)
    ax = fig.axes[0]
    img = ax.images[0].get_array()
    tab = result.confound.table.query("matrix == 'scores' and k == 10")
    assert img.shape == (2, len(result.scores.channels))  # major, minor
    minor_harmony = tab.query("label == 'minor' and channel == 'harmony'")["z_mean"].item()
    assert img[1, 1] == pytest.approx(minor_harmony)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["major", "minor"]
    assert len(ax.texts) == img.size
    _render(fig, tmp_path, "confound")


def _independent_channel_sims(group, channel):
    """Mean similarity of each track to the rest of the group, from the Parquet file with numpy."""
    from aria.features.channels import load_channel_set

    frame = pd.read_parquet(aria.examples.features_path()).set_index("track")
    cset = load_channel_set("symbolic")
    mats = []
    for f in cset.features_of(channel):
        x = np.vstack([np.atleast_1d(np.asarray(v, float)) for v in frame[f.name]])
        s = x.std(axis=0, ddof=1)
        keep = s > 0
        g = np.vstack([np.atleast_1d(np.asarray(frame.loc[t, f.name], float)) for t in group])[:, keep]
        d = np.sqrt((((g[:, None, :] - g[None, :, :]) / s[keep]) ** 2).sum(axis=2))
        mats.append(1.0 / (1.0 + d))
    m = np.mean(mats, axis=0)
    k = len(group)
    return (m.sum(axis=1) - np.diag(m)) / (k - 1)


def test_query_evidence_against_independent_computation(knn, setup, tmp_path):
    scores, diag, result = knn
    q = str(scores.coords["query"].values[5])
    ev = query_evidence(scores, setup, q, k=10, diagnostics=diag, result=result)
    assert list(ev.tracks["rank"]) == list(range(1, 11))
    # track scores: rank normalization (auto chose rank), averaged per track
    assert ev.normalization == "rank"
    s = np.asarray(scores.values, float)
    qi = list(scores.coords["query"].values).index(q)
    ranks = stats.rankdata(s[:, qi]) / s.shape[0]
    t = pd.Series(ranks).groupby(np.asarray(scores.coords["track"].values)).mean()
    np.testing.assert_allclose(ev.tracks["track_score"], t.loc[ev.tracks["track"]].to_numpy(), atol=1e-12)
    assert list(ev.tracks["track"]) == list(t.sort_values(ascending=False, kind="stable").index[:10])
    assert list(ev.tracks["overall_rank"]) == list(range(1, 11))
    for c in ("melody", "harmony", "rhythm", "texture"):
        expect = _independent_channel_sims(list(ev.tracks["track"]), c)
        np.testing.assert_allclose(ev.tracks[f"sim_to_rest_{c}"], expect, rtol=1e-9)
    ch = ev.channels.set_index("channel")
    np.testing.assert_allclose(ch["H"], [ev.tracks[f"sim_to_rest_{c}"].mean() for c in ch.index], rtol=1e-9)
    np.testing.assert_allclose(ch["z"], (ch["H"] - ch["null_mean"]) / ch["null_sd"], rtol=1e-9)
    assert ch.loc["harmony", "significant"] == (ch.loc["harmony", "z"] > 1.645)
    assert ev.null_channel_values.shape == (R, 5) and ev.seed == 3
    fig = plot.plot_evidence(ev)
    assert len(fig.axes) == 5
    ax = fig.axes[1]
    assert sum(p.get_height() for p in ax.patches if p.get_width() < 1 and p.get_height() >= 0
               and p.get_facecolor()[:3] == (0.6, 0.6, 0.6)) == R
    assert ax.lines[0].get_xdata()[0] == pytest.approx(ch.loc["harmony", "H"])
    _render(fig, tmp_path, "evidence")
    with pytest.raises(AriaInputError, match="unknown query"):
        query_evidence(scores, setup, "nope", result=result)


def test_evidence_cli_json_matches_api(setup, capsys):
    scores = aria.load_scores(aria.examples.path("bach-knn"))
    q = str(scores.coords["query"].values[2])
    code = main(["evidence", "--example", "bach-knn", "--features", str(aria.examples.features_path()),
                 "--query", q, "--null-groups", str(R), "--seed", "3", "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert code == 0
    ev = query_evidence(scores, setup, q, k=10)
    assert [r["track"] for r in obj["tracks"]] == list(ev.tracks["track"])
    np.testing.assert_allclose([r["z"] for r in obj["channels"] if r["z"] is not None],
                               ev.channels["z"].dropna().to_numpy())


def test_compare_with_homogeneity_columns(setup, tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", "--example", "bach-knn", "--example", "bach-random", "--example",
                 "bach-collapsed", "--features", str(aria.examples.features_path()), "--null-groups", str(R),
                 "--seed", "3", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "harmony z" in text and "excluded bach-collapsed" in text
    table = pd.read_csv(out / "comparison.csv")
    summ = setup.summary(aria.load_scores(aria.examples.path("bach-random")), k=10)
    row = table.set_index("method").loc["bach-random"]
    assert row["harmony_z_bar"] == pytest.approx(summ["harmony"]["z_bar"])
    assert row["melody_sig"] == pytest.approx(summ["melody"]["sig"])
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seeds"] == {"null_groups": 3} and "features" in prov["inputs"]


def test_bach_report_end_to_end(tmp_path):
    from test_html import check_html

    out = tmp_path / "rep"
    scores = aria.load_scores(aria.examples.path("bach-knn"))
    q = str(scores.coords["query"].values[0])
    run = subprocess.run([sys.executable, "-m", "aria", "report", "--example", "bach-knn", "--example",
                          "bach-collapsed", "--null-groups", str(R), "--query", q, "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "bach-knn: query-dependent; homogeneity at K = 10: melody z=" in run.stdout
    text = (out / "report.html").read_text()
    c = check_html(text)
    evidence_id = f"bach-knn-evidence-{q.lower().replace('.', '-')}"
    for sec in ("bach-knn-homogeneity", "bach-knn-residual", "bach-knn-alignment", "bach-knn-confound",
                evidence_id, "bach-collapsed-homogeneity", "comparison"):
        assert sec in c.sections, sec
    warnings_html = text[text.index('id="warnings"'):text.index('aria-label="contents"')]
    assert warnings_html.count("null sd is 0 for channel(s) dynamic") == 2  # one line per method, all K
    assert "K = 5, 10, 20, 50, 100: null sd is 0" in warnings_html
    assert "Homogeneity per method and channel at K = 10" in text
    assert "Caveat: this matrix is collapsed" in text
    assert "Confound analysis by mode" in text
    from aria.io.provenance import sha256_path

    assert sha256_path(aria.examples.features_path()) in text
