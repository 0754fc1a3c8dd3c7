"""One --channels default for every command: the channel set recorded in the feature table, else the
command's former default (homogeneity: audio; compare, report, evidence: symbolic)."""

import json

import pyarrow.parquet as pq

import aria
from aria.cli import main
from aria.features.table import recorded_channel_set, resolve_channel_set

BACH = aria.examples.features_path()
HOMOG = ["--k", "5", "--null-groups", "30", "--no-cache", "--no-alignment", "--json"]


def _with_metadata(tmp_path, name, channelset):
    """The Bach feature table with its ``aria.channelset`` metadata replaced (None: removed)."""
    table = pq.read_table(BACH)
    meta = {k: v for k, v in (table.schema.metadata or {}).items() if k != b"aria.channelset"}
    if channelset is not None:
        meta[b"aria.channelset"] = channelset.encode()
    path = tmp_path / name
    pq.write_table(table.replace_schema_metadata(meta), path)
    return str(path)


def _json(capsys, argv):
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    out.pop("elapsed_seconds", None)
    out.get("source", {}).pop("features", None)
    return out


def test_rule(tmp_path):
    assert recorded_channel_set(BACH) == "symbolic"
    assert resolve_channel_set(None, BACH, "audio") == "symbolic"
    assert resolve_channel_set("mine.toml", BACH, "audio") == "mine.toml"
    unshipped = _with_metadata(tmp_path, "mine.parquet", "mine")
    assert recorded_channel_set(unshipped) is None
    assert resolve_channel_set(None, unshipped, "audio") == "audio"
    none = _with_metadata(tmp_path, "none.parquet", None)
    assert resolve_channel_set(None, none, "symbolic") == "symbolic"
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    assert resolve_channel_set(None, junk, "audio") == "audio"  # the reader then says why
    assert resolve_channel_set(None, tmp_path / "missing.parquet", "audio") == "audio"


def test_homogeneity_uses_the_recorded_set(capsys):
    base = ["homogeneity", "--example", "bach-knn", "--features", str(BACH), *HOMOG]
    implicit = _json(capsys, base)
    explicit = _json(capsys, [*base, "--channels", "symbolic"])
    assert implicit == explicit
    assert implicit["channel_set"]["name"] == "symbolic"
    assert {"melody", "harmony", "rhythm", "dynamic", "texture"} <= set(implicit["homogeneity"])


def test_homogeneity_without_metadata_keeps_audio(tmp_path, capsys):
    bare = _with_metadata(tmp_path, "bare.parquet", None)
    assert main(["homogeneity", "--example", "bach-knn", "--features", bare, *HOMOG]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "required by channel set 'audio'" in err


def test_recorded_set_overrides_the_command_default(tmp_path, capsys):
    said_audio = _with_metadata(tmp_path, "audio.parquet", "audio")
    q = str(aria.load_scores(aria.examples.path("bach-knn")).coords["query"].values[0])
    argv = ["evidence", "--example", "bach-knn", "--query", q, "--null-groups", "30", "--json"]
    assert main([*argv, "--features", said_audio]) == 2  # evidence's own default is symbolic
    assert "required by channel set 'audio'" in capsys.readouterr().err
    assert main([*argv, "--features", said_audio, "--channels", "symbolic"]) == 0
    explicit = json.loads(capsys.readouterr().out)
    bare = _with_metadata(tmp_path, "bare.parquet", None)
    assert main([*argv, "--features", bare]) == 0  # no metadata: evidence's symbolic
    assert json.loads(capsys.readouterr().out) == explicit


def test_compare_and_report_record_the_resolved_set(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "--example", "bach-knn", "--features", str(BACH), "--null-groups", "30",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["parameters"]["channels"] == "symbolic"
    said_audio = _with_metadata(tmp_path, "audio.parquet", "audio")
    rep = tmp_path / "rep"
    argv = ["report", "--example", "bach-knn", "--features", said_audio, "--null-groups", "30", "--k", "5",
            "--no-figures", "--out", str(rep)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "required by channel set 'audio'" in err and not rep.exists()
    assert main([*argv, "--channels", "symbolic"]) == 0
    prov = json.loads((rep / "provenance.json").read_text())
    assert prov["parameters"]["homogeneity"]["channels"] == "symbolic"
