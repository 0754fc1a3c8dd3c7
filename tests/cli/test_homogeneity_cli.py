import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aria.cli import main


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(0)
    m, q = 60, 8
    toml = tmp_path / "mine.toml"
    toml.write_text('name = "mine"\n[channels.a]\n[channels.h]\n'
                    '[features.fa]\nchannel = "a"\nkind = "vector"\ndim = 3\nsimilarity = "seuclidean"\n'
                    '[features.chords]\nchannel = "h"\nsimilarity = "lcs_root_motion"\n')
    feats = pd.DataFrame({
        "track": [f"t{i}" for i in range(m)],
        "fa": list(rng.normal(size=(m, 3))),
        "chords": [list(rng.choice(["C", "F", "G", "Am", "N"], size=rng.integers(0, 12))) for _ in range(m)],
        "status": ["ok"] * (m - 1) + ["failed"],
        "error": [None] * (m - 1) + ["no audio"],
    })
    feats.to_parquet(tmp_path / "feats.parquet")
    np.save(tmp_path / "scores.npy", rng.normal(size=(2 * m, q)).astype(np.float32))
    pd.DataFrame({"segment": np.arange(2 * m), "track": np.repeat([f"t{i}" for i in range(m)], 2)}).to_csv(
        tmp_path / "map.csv", index=False)
    pd.DataFrame({"query": [f"q{j}" for j in range(q)], "genre": ["rock", "jazz"] * (q // 2)}).to_csv(
        tmp_path / "meta.csv", index=False)
    return tmp_path


def _base(p):
    return ["homogeneity", str(p / "scores.npy"), "--features", str(p / "feats.parquet"), "--channels",
            str(p / "mine.toml"), "--tracks", str(p / "map.csv"), "--k", "5,10", "--null-groups", "50",
            "--cache-dir", str(p / "cache")]


def test_cli_json_and_out(inputs, capsys):
    out = inputs / "res"
    rc = main(_base(inputs) + ["--residual", "--labels", str(inputs / "meta.csv"), "--label-column",
                               "genre", "--json", "--out", str(out), "--table-format", "csv"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["verdict"] == "query-dependent"
    for block in (d["homogeneity"], d["residual"]["homogeneity"]):
        for ch in ("a", "h"):
            for k in ("5", "10"):
                assert set(block[ch][k]) >= {"z_mean", "pos", "sig"}
    assert d["tracks"]["failed"] == 1 and d["tracks"]["pool"] == 59
    # the auto rule, recomputed with scipy on the raw and the rank-1 residual columns
    s = np.load(inputs / "scores.npy").astype(np.float64)
    v1 = np.linalg.svd(s, full_matrices=False)[2][0]
    for got, mat in ((d["normalization"], s), (d["residual"]["normalization"], s - np.outer(s @ v1, v1))):
        stat = float(np.median(stats.kurtosis(mat, axis=0)))
        assert got["requested"] == "auto" and got["kurtosis_threshold"] == 6.0
        assert got["median_excess_kurtosis"] == pytest.approx(stat, rel=1e-9, abs=1e-12)
        assert got["method"] == ("rank" if stat > 6.0 else "zscore")
    for name in ("per_query.csv", "per_query_features.csv", "summary.csv", "null.csv", "groups.csv",
                 "alignment.csv", "confound.csv", "confound_spread.csv", "homogeneity.json",
                 "provenance.json", "excluded_tracks.csv"):
        assert (out / name).is_file(), name
    prov = json.loads((out / "provenance.json").read_text())
    assert set(prov["inputs"]) >= {"scores", "features", "tracks", "labels", "channels"}
    assert len(prov["inputs"]["features"]["sha256"]) == 64 and prov["seeds"] == {"null": 0}
    per_query = pd.read_csv(out / "per_query.csv")
    assert len(per_query) == 2 * 2 * 8 * 2
    assert json.loads((out / "homogeneity.json").read_text())["homogeneity"] == d["homogeneity"]


def test_cli_text_output_and_cache_reuse(inputs, capsys):
    assert main(_base(inputs)) == 0
    text = capsys.readouterr().out
    assert "diagnostics verdict: query-dependent" in text and "z_mean / Pos / Sig" in text
    assert main(_base(inputs) + ["--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["null"]["5"]["from_cache"] is True


@pytest.mark.parametrize("mutate,msg", [
    (lambda p: pd.read_parquet(p / "feats.parquet").drop(columns="fa").to_parquet(p / "feats.parquet"),
     "lacks column(s) fa"),
    (lambda p: (p / "mine.toml").write_text((p / "mine.toml").read_text().replace("seuclidean", "cosine")),
     "unknown similarity 'cosine'"),
    (lambda p: (p / "mine.toml").write_text((p / "mine.toml").read_text().replace("dim = 3", "dim = 4")),
     "has length 3, the channel set declares dim = 4"),
    (lambda p: (p / "feats.parquet").write_bytes(b"junk"), "not a readable Parquet file"),
])
def test_cli_bad_inputs_exit_2_one_line_nothing_written(inputs, capsys, mutate, msg):
    mutate(inputs)
    out = inputs / "res"
    rc = main(_base(inputs) + ["--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("aria: error:") and msg in err
    assert not out.exists()


def test_cli_bad_arguments(inputs, capsys):
    assert main(_base(inputs) + ["--k", "5,500"]) == 2
    assert "K = 500 is invalid" in capsys.readouterr().err
    assert main(_base(inputs) + ["--labels", str(inputs / "meta.csv"), "--label-column", "mood"]) == 2
    assert "no column 'mood'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(_base(inputs) + ["--k", "five"])
    assert e.value.code == 2


def test_cli_collapsed_warning_rank_and_no_cache(inputs, capsys):
    rng = np.random.default_rng(1)
    base = rng.normal(size=120)
    s = np.outer(base, np.ones(8)) + 1e-4 * rng.normal(size=(120, 8))
    np.save(inputs / "scores.npy", s.astype(np.float32))
    args = _base(inputs)
    args[args.index("--cache-dir"):args.index("--cache-dir") + 2] = ["--no-cache"]
    assert main(args + ["--normalize", "rank", "--residual"]) == 0
    text = capsys.readouterr().out
    assert "diagnostics verdict: collapsed" in text
    assert "WARNING: diagnostics verdict is 'collapsed'" in text and "[residual]" in text
    assert "normalization: rank" in text
    assert not (inputs / "cache").exists()
    assert main(args + ["--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["verdict"] == "collapsed" and "one fixed retrieved group" in d["warnings"][0]
