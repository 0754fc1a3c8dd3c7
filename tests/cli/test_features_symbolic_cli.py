"""``aria features symbolic``: bad files, exit codes, worker-count invariance, resume after a kill."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pretty_midi
import pyarrow.parquet as pq
import pytest

from aria.cli import main
from aria.features.extract.batch import shard_dir_for

ROOT = Path(__file__).resolve().parents[2]


def write_midi(path, parts, tempo=120):
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    for is_drum, notes in parts:
        inst = pretty_midi.Instrument(program=0, is_drum=is_drum)
        inst.notes += [pretty_midi.Note(velocity=v, pitch=p, start=s, end=e) for p, s, e, v in notes]
        pm.instruments.append(inst)
    pm.write(str(path))
    return path


def song(k):
    return [(False, [(60 + (k + i) % 12, i * .25, i * .25 + .5, 40 + (7 * i) % 80) for i in range(16)])]


@pytest.fixture
def mixed_dir(tmp_path):
    d = tmp_path / "midi"
    (d / "sub").mkdir(parents=True)
    write_midi(d / "good.mid", song(0))
    write_midi(d / "sub" / "good2.MIDI", song(3))
    data = (d / "good.mid").read_bytes()
    (d / "truncated.mid").write_bytes(data[: len(data) - 20])
    (d / "random.mid").write_bytes(os.urandom(400))
    (d / "empty.mid").write_bytes(b"")
    write_midi(d / "nonotes.mid", [(False, [])])
    write_midi(d / "drums.mid", [(True, [(36, i * .5, i * .5 + .1, 100) for i in range(8)])])
    (d / "notes.txt").write_text("not a MIDI file, ignored")
    return d


def test_mixed_directory(mixed_dir, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    code = main(["features", "symbolic", str(mixed_dir), "--out", str(out)])
    cap = capsys.readouterr()
    assert code == 0
    assert "2 ok, 5 failed" in cap.out
    df = pd.read_parquet(out)
    assert df["track"].tolist() == ["drums", "empty", "good", "nonotes", "random", "sub/good2",
                                    "truncated"]
    reasons = dict(zip(df["track"], df["error"], strict=True))
    assert reasons["drums"] == "drum tracks only (no pitched notes)"
    assert reasons["empty"] == "empty file (0 bytes)"
    assert reasons["nonotes"] == "no notes"
    assert reasons["random"].startswith("unreadable MIDI")
    assert reasons["truncated"].startswith("unreadable MIDI: truncated")
    assert pd.isna(reasons["good"]) and pd.isna(reasons["sub/good2"])
    ok = df[df["status"] == "ok"]
    assert ok["pitch_class_hist"].map(lambda v: abs(v.sum() - 1) < 1e-12).all()
    failed = df[df["status"] == "failed"]
    assert failed["pitch_range"].isna().all() and failed["pitch_class_hist"].isna().all()
    assert "failed: random: unreadable MIDI" in cap.err
    meta = pq.read_schema(out).metadata
    assert meta[b"aria.channelset"] == b"symbolic" and b"aria.version" in meta
    assert (tmp_path / "f.parquet.provenance.json").exists()


def test_exit_codes(mixed_dir, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("empty.mid", "random.mid", "drums.mid"):
        shutil.copy(mixed_dir / name, bad / name)
    out = tmp_path / "bad.parquet"
    assert main(["features", "symbolic", str(bad), "--out", str(out)]) == 2
    assert "0 ok, 3 failed" in capsys.readouterr().out
    assert pd.read_parquet(out)["status"].tolist() == ["failed"] * 3  # the reasons are still written
    assert main(["features", "symbolic", str(tmp_path / "missing"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no such file or directory" in err and "Traceback" not in err and len(err.splitlines()) == 1
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert main(["features", "symbolic", str(empty), "--out", str(out)]) == 2
    assert "no MIDI files found" in capsys.readouterr().err
    assert main(["features", "symbolic", str(mixed_dir), "--out", str(tmp_path / "x.csv")]) == 2
    spans = tmp_path / "sp.csv"
    spans.write_text("id,file,start,end\na,good,2,1\n")
    assert main(["features", "symbolic", str(mixed_dir), "--spans", str(spans), "--out", str(out)]) == 2
    assert "need 0 <= start < end" in capsys.readouterr().err
    spans.write_text("id,file,begin,end\na,good,0,1\n")
    assert main(["features", "symbolic", str(mixed_dir), "--spans", str(spans), "--out", str(out)]) == 2
    assert "lacks column(s) start" in capsys.readouterr().err


def test_spans_cli_and_missing_file(mixed_dir, tmp_path, capsys):
    spans = tmp_path / "sp.csv"
    spans.write_text("id,file,start,end\ng#0,good,0,4\ng#1,good,4,8\nx,nowhere.mid,0,1\nd,drums,0,2\n")
    out = tmp_path / "sp.parquet"
    assert main(["features", "symbolic", str(mixed_dir), "--spans", str(spans), "--unit", "beats",
                 "--out", str(out)]) == 0
    assert "2 ok, 2 failed" in capsys.readouterr().out
    df = pd.read_parquet(out)
    assert df["track"].tolist() == ["g#0", "g#1", "x", "d"]
    assert df["error"].tolist()[2:] == ["file not found", "drum tracks only (no pitched notes)"]
    assert df["unit"].tolist() == ["beats"] * 4 and df["end"].tolist() == [4, 8, 1, 2]


def _corpus(tmp_path, n):
    d = tmp_path / "many"
    d.mkdir()
    for k in range(12):
        write_midi(d / f"s{k:02d}.mid", song(k))
    (d / "broken.mid").write_bytes(b"MThd garbage")
    files = sorted(d.glob("s*.mid"))
    for i in range(n - len(files) - 1):
        shutil.copy(files[i % len(files)], d / f"copy{i:04d}.mid")
    return d


def test_workers_give_bit_identical_tables(tmp_path, capsys):
    d = _corpus(tmp_path, 40)
    o1, o2 = tmp_path / "w1.parquet", tmp_path / "w2.parquet"
    assert main(["features", "symbolic", str(d), "--out", str(o1), "--workers", "1"]) == 0
    assert main(["features", "symbolic", str(d), "--out", str(o2), "--workers", "2",
                 "--shard-size", "7"]) == 0
    assert o1.read_bytes() == o2.read_bytes()
    assert "39 ok, 1 failed" in capsys.readouterr().out


def test_resume_after_kill_matches_uninterrupted_run(tmp_path):
    d = _corpus(tmp_path, 400)
    ref, out = tmp_path / "ref.parquet", tmp_path / "out.parquet"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "aria", "features", "symbolic", str(d), "--no-progress",
           "--shard-size", "5", "--out"]
    subprocess.run([*cmd, str(ref)], check=True, cwd=ROOT, env=env, capture_output=True)
    proc = subprocess.Popen([*cmd, str(out)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    shards = shard_dir_for(out)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(shards.glob("shard-*.parquet"))) < 3:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_shards = len(list(shards.glob("shard-*.parquet")))
    assert not out.exists() and 3 <= n_shards < 80, "the run was not killed midway"
    res = subprocess.run([*cmd, str(out), "--resume", "--workers", "2"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "399 ok, 1 failed" in res.stdout
    assert out.read_bytes() == ref.read_bytes()
    assert not shards.exists()
