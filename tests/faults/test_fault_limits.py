"""Issue 12 item 4: a tiny MIDI file describing an enormous duration costs what its notes cost.

A 43-byte file holding one note of 300,000 ticks at the slowest tempo (0xFFFFFF microseconds per
quarter, 1 tick per quarter: 58 days) took 4 GB and 15 s; one of 2,000,000 ticks asked for
12.5 GiB. Both must now finish under a 2 GiB address-space limit and in 60 s, with exact values.
"""

import resource
import sys

import mido
import pandas as pd
import pytest
from faultkit import aria_cmd, run

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS semantics")

LIMIT = 2 * 2**30
SLOWEST = 0xFFFFFF  # microseconds per quarter note


def one_long_note(path, ticks):
    mid = mido.MidiFile(type=0, ticks_per_beat=1)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=SLOWEST, time=0))
    track.append(mido.Message("note_on", note=60, velocity=64, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=ticks))
    mid.save(path)
    return path


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


@pytest.mark.parametrize("ticks", [300_000, 2_000_000])
def test_one_long_note_under_2_gib_and_60_s(tmp_path, ticks):
    f = one_long_note(tmp_path / "long.mid", ticks)
    assert f.stat().st_size == 43
    out = tmp_path / "o.parquet"
    res = run(aria_cmd("features", "symbolic", f, "--out", out, "--no-progress"), timeout=60,
              preexec_fn=_limit_memory)
    assert res.returncode == 0, res.stderr
    row = pd.read_parquet(out).iloc[0]
    assert row["status"] == "ok", row["error"]
    seconds = ticks * SLOWEST / 1e6
    assert row["polyphony_mean"] == 1.0 and row["polyphony_std"] == 0.0
    assert row["mean_rhythmic_value"] == ticks  # quarter notes
    assert row["note_density"] == pytest.approx(1 / seconds, rel=1e-12)
    assert row["pitch_range"] == 0.0 and list(row["pitch_class_hist"]).index(1.0) == 0


def test_many_long_notes_far_apart(tmp_path):
    """Memory follows notes: 300 notes spread over 5e6 s (2.5e8 frames at 50 Hz)."""
    mid = mido.MidiFile(type=0, ticks_per_beat=1)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=SLOWEST, time=0))
    for i in range(300):
        track.append(mido.Message("note_on", note=40 + i % 40, velocity=64, time=0 if i == 0 else 500))
        track.append(mido.Message("note_off", note=40 + i % 40, velocity=0, time=500))
    f = tmp_path / "spread.mid"
    mid.save(f)
    out = tmp_path / "o.parquet"
    res = run(aria_cmd("features", "symbolic", f, "--out", out, "--no-progress"), timeout=60,
              preexec_fn=_limit_memory)
    assert res.returncode == 0, res.stderr
    row = pd.read_parquet(out).iloc[0]
    assert row["status"] == "ok"
    # one note at a time, sounding 300 * 500 of the 299 * 1000 + 500 quarters: a 0/1 count
    p = 150_000 / 299_500
    assert row["polyphony_mean"] == pytest.approx(p, rel=1e-5)  # frame rounding at 300 note ends
    assert row["polyphony_std"] == pytest.approx((p * (1 - p)) ** 0.5, rel=1e-5)
