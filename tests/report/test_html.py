import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import html5lib
import pytest

import aria
from aria.io.provenance import sha256_path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args):
    out = subprocess.run([sys.executable, "-m", "aria", *args], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.srcs, self.stack, self.sections = set(), [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids.add(a["id"])
            if tag == "section":
                self.sections.append(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])


def check_html(text):
    html5lib.HTMLParser(strict=True).parse(text)  # raises on any parse error
    c = _Collector()
    c.feed(text)
    c.close()
    for h in c.hrefs:
        assert h.startswith("#"), f"non-local link {h[:60]}"
        assert h[1:] in c.ids, f"dangling anchor {h}"
    assert all(s.startswith("data:image/png;base64,") for s in c.srcs)
    bare = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"(https?:|ftp:|file:)|//[a-z0-9]", bare, re.I)
    assert "url(" not in text and "@import" not in text
    return c


@pytest.fixture(scope="module")
def three_method_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    stdout = run_cli("report", "--example", "query-dependent", "--example", "collapsed",
                     "--example", "offset-dominated", "--save-figures", "--out", str(out))
    return out, stdout


def test_report_structure_and_content(three_method_report):
    out, stdout = three_method_report
    path = out / "report.html"
    assert f"report written to {path}" in stdout
    text = path.read_text(encoding="utf-8")
    c = check_html(text)
    for section in ("verdict", "warnings", "comparison", "definitions", "provenance",
                    "method-query-dependent", "method-collapsed", "method-offset-dominated",
                    "query-dependent-diagnostics", "collapsed-diagnostics"):
        assert section in c.sections, section
    # verdict first, warnings next, provenance last
    assert c.sections[:2] == ["verdict", "warnings"] and c.sections[-1] == "provenance"
    assert text.index('id="verdict"') < text.index('id="comparison"') < text.index('id="definitions"')
    assert 'class="verdict verdict-collapsed">collapsed<' in text
    assert 'class="verdict verdict-query-dependent">query-dependent<' in text
    warnings = text[text.index('id="warnings"'):text.index('aria-label="contents"')]
    assert "collapsed" in warnings and "offset-dominated" in warnings
    for name in aria.examples.SYNTHETIC_NAMES:
        assert sha256_path(aria.examples.path(name)) in text
    diag = aria.diagnose(aria.load_scores(aria.examples.path("collapsed")))
    assert f"{diag.mean_abs_interquery_corr:.3f}" in text
    assert text.count("data:image/png;base64,") == 3 * 3 + 1
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["inputs"]["scores[collapsed]"]["sha256"] == sha256_path(aria.examples.path("collapsed"))
    assert "Ranking by reliability" in text and "query-dependent &gt; offset-dominated" in text
    import base64

    pngs = sorted((out / "figures").glob("*.png"))
    assert len(pngs) == 10 and len(list((out / "figures").glob("*.svg"))) == 10
    assert "10 figure files" not in stdout and "20 figure files written" in stdout
    embedded = {base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)}
    assert {p.read_bytes() for p in pngs} == embedded


def _strip_time(text):
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)", "TIME", text)


def test_report_is_reproducible(tmp_path):
    out = tmp_path / "r"
    args = ("report", "--example", "query-dependent", "--example", "bach-knn", "--null-groups", "100",
            "--seed", "7", "--out", str(out))
    run_cli(*args)
    first = (out / "report.html").read_bytes()
    run_cli(*args)
    second = (out / "report.html").read_bytes()
    assert b"bach-knn-homogeneity" in first
    assert b"homogeneity skipped" in first  # query-dependent's synthetic tracks have no features
    assert _strip_time(first.decode()) == _strip_time(second.decode())
    assert len(re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", first.decode())) == 2  # header + record


def test_single_method_has_no_comparison_and_no_warnings(tmp_path):
    out = tmp_path / "r"
    run_cli("report", "--example", "query-dependent", "--out", str(out), "--no-figures")
    text = (out / "report.html").read_text()
    c = check_html(text)
    assert "comparison" not in c.sections
    assert "No warnings" in text and "data:image" not in text


def test_report_bad_input(tmp_path):
    out = subprocess.run([sys.executable, "-m", "aria", "report", str(tmp_path / "nope.npy"),
                          "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "nope.npy" in out.stderr


def test_api_render_escapes_and_caps_per_query_table():
    import numpy as np

    from aria.report.html import build_report, diagnostics_block, render_html

    rng = np.random.default_rng(0)
    diag = aria.diagnose(aria.scores_from_array(rng.normal(size=(50, 600))))
    block = diagnostics_block("m", diag, figures=False)
    assert "first 500 of 600 queries" in block.details[0]["summary"]
    assert len(block.details[0]["text"].splitlines()) == 501  # header + 500 rows
    prov = {"created": "2026-01-01T00:00:00+00:00", "inputs": {}, "seeds": {}, "versions": {"aria": "x"}}
    html = render_html(build_report({"<script>alert(1)</script>": diag}, provenance=prov,
                                    title="A & B <b>", figures=False))
    check_html(html)
    assert "<script>" not in html and "&lt;script&gt;" in html and "A &amp; B &lt;b&gt;" in html


def test_warnings_partial_offset_excluded_columns_failed_tracks(tmp_path):
    import numpy as np
    import pandas as pd

    from aria.groups.setup import HomogeneitySetup
    from aria.report.html import build_report, homogeneity_warnings, render_html

    with np.load(aria.examples.path("bach-random")) as z:
        s, track, qids = z["scores"].astype(float), z["segment_track"], z["query_ids"]
    s = s + 0.8 * s.std()  # a moderate common offset: 0.3 <= C_bar < 0.5
    s[:, 3] = 1.0  # a constant column
    scores = aria.scores_from_array(s, query_ids=qids, segment_track=track)
    diag = aria.diagnose(scores)
    assert 0.3 <= diag.mean_concentration < 0.5 and diag.verdict == "query-dependent"
    frame = pd.read_parquet(aria.examples.features_path())
    failed = frame["track"].iloc[:4].tolist()
    feats = frame.columns[6:18]
    frame.loc[frame.index[:4], "status"] = "failed"
    frame.loc[frame.index[:4], "error"] = "could not parse"
    for col in feats:
        frame[col] = frame[col].astype(object)
        for i in range(4):
            frame.at[frame.index[i], col] = None
    fpath = tmp_path / "feats.parquet"
    frame.to_parquet(fpath)
    setup = HomogeneitySetup.load(fpath, "symbolic", null_groups=50, k=[5])
    result = setup.run(scores, diag)
    prov = {"created": "T", "inputs": {}, "seeds": {}, "versions": {}}
    data = build_report({"m": diag}, provenance=prov, figures=False,
                        extra_warnings=homogeneity_warnings("m", result))
    kinds = {w.kind for w in data.warnings}
    assert {"partial offset", "excluded columns", "failed tracks"} <= kinds
    html = render_html(data)
    check_html(html)
    warn = html[html.index('id="warnings"'):html.index('aria-label="contents"')]
    assert "partial offset" in warn and qids[3] in warn and "4 of 406 tracks" in warn
    assert all(t in warn for t in failed)
