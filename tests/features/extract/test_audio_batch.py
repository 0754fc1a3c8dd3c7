"""Audio batch extraction: bad files, determinism across workers, kill-and-resume, CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.audio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import audio_synth as S  # noqa: E402

from aria.errors import AriaInputError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SR = 22050


@pytest.fixture(scope="module")
def good_dir(tmp_path_factory):
    """Eight valid 5-second clips: click tracks and rendered MIDI (chords over drums)."""
    d = tmp_path_factory.mktemp("good")
    for i, bpm in enumerate((70, 84, 100, 120, 140)):
        S.write_wav(d / f"c{i}_{bpm}.wav", S.click_track(bpm, 5.0))
    prog = [S.TRIADS[c] for c in S.PROGRESSION[:4]]
    for i, tr in enumerate((0, 2, 7)):
        mid = S.chord_midi(prog, 1.25, d / f"m{i}.mid", transpose=tr, drums_bpm=96 + 12 * i)
        S.render_midi(mid, d / f"m{i}.wav")
        (d / f"m{i}.mid").unlink()
    return d


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory, good_dir):
    """Two good files and every kind of bad one, plus a non-audio file that is skipped."""
    d = tmp_path_factory.mktemp("mixed")
    shutil.copy(good_dir / "c3_120.wav", d / "good_a.wav")
    shutil.copy(good_dir / "m0.wav", d / "good_b.wav")
    rng = np.random.default_rng(7)
    (d / "noise_bytes.wav").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    (d / "garbage.mp3").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    (d / "empty.wav").write_bytes(b"")
    S.write_wav(d / "tiny.wav", (0.1 * rng.standard_normal(int(0.1 * SR))).astype(np.float32))
    S.write_wav(d / "silence.wav", np.zeros(3 * SR, dtype=np.float32))
    (d / "notes.txt").write_text("not audio\n")
    sub = d / "sub"
    sub.mkdir()
    shutil.copy(good_dir / "c0_70.wav", sub / "good_c.flac.wav")
    return d


def _table(path):
    return pq.read_table(path)


def _run_cli(*args, check=True, timeout=600):
    proc = subprocess.run([sys.executable, "-m", "aria.cli", "features", "audio", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_bad_files_are_reported_and_the_rest_extracted(mixed_dir):
    from aria.features.extract.audio_batch import extract_audio

    df = extract_audio(mixed_dir)
    by = df.set_index("track")
    # directory files sorted by path: sub/ after the top-level files that sort before it
    files = [Path(f).relative_to(mixed_dir).as_posix() for f in df["file"]]
    assert files == sorted(files)
    assert "notes" not in set(df["track"])
    statuses = dict(zip(files, df["status"], strict=True))
    assert statuses == {
        "empty.wav": "failed", "good_a.wav": "ok", "good_b.wav": "ok", "garbage.mp3": "failed",
        "noise_bytes.wav": "failed", "silence.wav": "failed", "sub/good_c.flac.wav": "ok",
        "tiny.wav": "failed",
    }
    errors = dict(zip(files, df["error"], strict=True))
    assert errors["empty.wav"] == "empty file (0 bytes)"
    assert errors["noise_bytes.wav"].startswith("undecodable audio")
    assert errors["garbage.mp3"].startswith("undecodable audio")
    assert errors["tiny.wav"].startswith("too short (0.100 s")
    assert errors["silence.wav"].startswith("silent")
    assert pd.isna(errors["good_a.wav"])
    for col in ("beat_interval_hist", "chroma", "mfcc", "cqt", "chord_progression"):
        assert df.loc[df["status"] == "failed", col].isna().all(), col
        assert df.loc[df["status"] == "ok", col].notna().all(), col
    ok = df[df["status"] == "ok"]
    assert all(len(v) == 168 for v in ok["cqt"])
    assert by.loc["good_a", "duration"] == pytest.approx(5.0, abs=1e-3)
    assert np.isnan(by.loc["empty", "duration"])


def test_duplicate_track_ids_and_id_schemes(tmp_path, good_dir):
    from aria.features.extract.audio_batch import audio_items

    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(good_dir / "c0_70.wav", tmp_path / sub / "000123.wav")
    with pytest.raises(AriaInputError, match="both get track id '000123'"):
        audio_items([tmp_path])
    assert [it.id for it in audio_items([tmp_path], "path")] == ["a/000123", "b/000123"]
    assert [it.id for it in audio_items([tmp_path / "a"], "int")] == ["123"]
    with pytest.raises(AriaInputError, match="not an integer"):
        audio_items([good_dir / "m0.wav"], "int")
    with pytest.raises(AriaInputError, match="no such file"):
        audio_items([tmp_path / "missing.wav"])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(AriaInputError, match="no audio files"):
        audio_items([tmp_path / "empty_dir"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory, good_dir):
    """One uninterrupted single-worker CLI run over the good files."""
    out = tmp_path_factory.mktemp("ref") / "feats.parquet"
    proc = _run_cli(good_dir, "--out", out, "--workers", 1)
    assert "8 ok, 0 failed" in proc.stderr
    return out


def test_cli_output_and_provenance(reference, good_dir):
    table = _table(reference)
    assert table.num_rows == 8
    assert table.column_names[:8] == ["track", "file", "start", "end", "unit", "duration", "status", "error"]
    meta = table.schema.metadata
    assert meta[b"aria.channelset"] == b"audio"
    assert len(meta[b"aria.fingerprint"]) == 16
    assert table.schema.field("beat_interval_hist").type.equals(pa.list_(pa.float64()))
    assert table.schema.field("chord_progression").type.equals(pa.list_(pa.string()))
    prov = json.loads(reference.with_name("feats.provenance.json").read_text())
    assert prov["parameters"]["n_files"] == 8 and prov["parameters"]["sample_rate"] == 22050
    assert prov["parameters"]["chord_backend"] == "chordino"
    assert "librosa" in prov["versions"]
    assert not Path(str(reference) + ".shards").exists()
    # click tracks: the beat histogram peaks at the tempo
    rows = {r["track"]: r for r in table.to_pylist()}
    for tid, bpm in (("c3_120", 120),):
        period = 60 / bpm
        assert int(np.argmax(rows[tid]["beat_interval_hist"])) == int((period - 0.2) // (1.3 / 16))


def test_two_workers_identical_to_one(reference, good_dir, tmp_path):
    out = tmp_path / "w2.parquet"
    _run_cli(good_dir, "--out", out, "--workers", 2, "--shard-size", 3)
    assert _table(out).equals(_table(reference), check_metadata=True)
    assert out.read_bytes() == reference.read_bytes()


def test_api_matches_cli(reference, good_dir):
    from aria.features.extract.audio_batch import extract_audio

    df = extract_audio([good_dir])
    ref = _table(reference).to_pandas()
    assert list(df.columns) == list(ref.columns)
    assert list(df["track"]) == list(ref["track"])
    for col in ("beat_interval_hist", "onset_interval_hist", "chroma", "tonnetz", "mfcc", "cqt"):
        for a, b in zip(df[col], ref[col], strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert [list(x) for x in df["chord_progression"]] == [list(x) for x in ref["chord_progression"]]


def test_interrupt_in_process_then_resume(reference, good_dir, tmp_path):
    from aria.features.extract.audio import load_audio_config
    from aria.features.extract.audio_batch import audio_items, run_audio_table

    out = tmp_path / "feats.parquet"
    items = audio_items([good_dir])
    cfg = load_audio_config()
    done = []

    def stop_after_three(n):
        done.append(n)
        if sum(done) >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_audio_table(items, cfg, out=out, shard_size=1, progress=stop_after_three)
    assert not out.exists()
    shards = sorted(Path(str(out) + ".shards").glob("shard-*.parquet"))
    assert len(shards) == 2  # the third row's shard was never written: at most one shard lost
    result = run_audio_table(items, cfg, out=out, shard_size=1, resume=True)
    assert result.n_reused == 2 and result.n_ok == 8
    assert _table(out).equals(_table(reference), check_metadata=True)
    # resuming a finished table recomputes nothing
    again = run_audio_table(items, cfg, out=out, resume=True)
    assert again.n_reused == 8


def test_kill_and_resume_cli(reference, good_dir, tmp_path):
    out = tmp_path / "killed.parquet"
    shard_dir = Path(str(out) + ".shards")
    proc = subprocess.Popen([sys.executable, "-m", "aria.cli", "features", "audio", str(good_dir), "--out",
                             str(out), "--shard-size", "1"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(list(shard_dir.glob("shard-*.parquet"))) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no shard written"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert not out.exists(), "the run finished before it could be killed"
    n_shards = len(list(shard_dir.glob("shard-*.parquet")))
    assert 2 <= n_shards < 8
    res = _run_cli(good_dir, "--out", out, "--resume")
    assert f"{n_shards} reused" in res.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert not shard_dir.exists()


def test_resume_refuses_other_parameters(reference, good_dir, tmp_path):
    out = tmp_path / "r.parquet"
    shutil.copy(reference, out)
    proc = _run_cli(good_dir, "--out", out, "--resume", "--sr", 16000, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "different parameters" in proc.stderr


def test_cli_input_errors(tmp_path, good_dir):
    proc = _run_cli(tmp_path / "nope", "--out", tmp_path / "o.parquet", check=False)
    assert proc.returncode == 2 and "no such file or directory" in proc.stderr
    proc = _run_cli(good_dir, "--out", tmp_path / "o.csv", check=False)
    assert proc.returncode == 2 and ".parquet" in proc.stderr
    proc = _run_cli(good_dir, "--out", tmp_path / "o.parquet", "--workers", 0, check=False)
    assert proc.returncode == 2 and "workers" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_parts_cover_the_list_in_order(good_dir):
    from aria.features.extract.audio_batch import audio_items, select_part

    items = audio_items([good_dir])
    for n in (1, 3, 8, 11):
        parts = [select_part(items, f"{k}/{n}") for k in range(1, n + 1)]
        assert [it for p in parts for it in p] == items
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    for bad in ("0/3", "4/3", "x", "1/0", "1-3"):
        with pytest.raises(AriaInputError, match="part must be 'K/N'"):
            select_part(items, bad)


def test_cli_parts_concatenate_to_the_whole(reference, good_dir, tmp_path):
    from aria.features.table import write_feature_table

    outs = []
    for k in (1, 2):
        outs.append(tmp_path / f"part{k}.parquet")
        proc = _run_cli(good_dir, "--out", outs[-1], "--part", f"{k}/2", "--progress")
        assert "audio features:" in proc.stderr and "100%" in proc.stderr  # tqdm bar: count, rate, ETA
    whole = pa.concat_tables([_table(p) for p in outs])
    assert whole.equals(_table(reference), check_metadata=True)
    write_feature_table(whole, tmp_path / "whole.parquet")
    assert _table(tmp_path / "whole.parquet").equals(_table(reference), check_metadata=True)


def test_tables_load_in_the_homogeneity_engine(reference, mixed_dir):
    from aria.features.channels import load_channel_set
    from aria.features.extract.audio_batch import extract_audio
    from aria.features.table import feature_table_from_frame, load_feature_table

    cs = load_channel_set("audio")
    ft = load_feature_table(reference, cs)
    assert ft.counts() == {"rows": 8, "usable": 8, "failed": 0, "invalid": 0}
    mixed = feature_table_from_frame(extract_audio(mixed_dir), cs)
    assert mixed.counts() == {"rows": 8, "usable": 3, "failed": 5, "invalid": 0}
