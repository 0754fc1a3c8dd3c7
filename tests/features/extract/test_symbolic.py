"""Symbolic features on hand-built MIDI files with hand-computed values."""

import math

import mido
import numpy as np
import pretty_midi
import pytest

from aria._resources import channelset_path
from aria.errors import AriaInputError
from aria.features.extract.batch import ExtractionError
from aria.features.extract.symbolic import (
    Notes,
    _pairwise_sum_runs,
    load_midi,
    melodic_interval_histogram,
    pitch_class_histogram,
    polyphony_counts,
    polyphony_mean,
    polyphony_runs,
    polyphony_std,
    symbolic_features,
    vertical_interval_histogram,
)
from aria.features.table import load_channelset

CS = load_channelset(channelset_path("symbolic"))


def write_midi(path, tempo, parts):
    """parts: list of (is_drum, [(pitch, start_s, end_s, velocity), ...])."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    for is_drum, notes in parts:
        inst = pretty_midi.Instrument(program=0, is_drum=is_drum)
        for p, s, e, v in notes:
            inst.notes.append(pretty_midi.Note(velocity=v, pitch=p, start=s, end=e))
        pm.instruments.append(inst)
    pm.write(str(path))
    return path


SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def scale_notes(spb):
    return [(p, k * spb, (k + 1) * spb, 64 + 8 * k) for k, p in enumerate(SCALE)]


def feats(path):
    notes, _ = load_midi(path)
    return symbolic_features(notes, CS)


def onehot(n, *bins):
    v = np.zeros(n)
    for b, w in bins:
        v[b] = w
    return v


@pytest.mark.parametrize("qpm", [120, 90])
def test_c_major_scale(tmp_path, qpm):
    spb = int(60e6 / qpm) * 1e-6  # the file stores whole microseconds per beat (90 qpm -> 666666 us)
    f = feats(write_midi(tmp_path / "scale.mid", qpm, [(False, scale_notes(spb))]))
    assert np.array_equal(f["melodic_interval_hist"], onehot(25, (1, 2 / 7), (2, 5 / 7)))
    assert np.array_equal(f["pitch_class_hist"],
                          np.array([2, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1]) / 8)
    assert np.array_equal(f["vertical_interval_hist"], np.zeros(12))  # legato, never two at once
    assert f["note_density"] == pytest.approx(8 / (8 * spb), rel=1e-12)
    assert f["mean_rhythmic_value"] == 1.0  # quarter notes whatever the tempo
    assert np.array_equal(f["rhythmic_value_hist"], onehot(11, (4, 1.0)))
    assert f["velocity_change_mean"] == 8.0
    assert f["velocity_std"] == pytest.approx(8 * math.sqrt(5.25), rel=1e-12)
    assert f["velocity_range"] == 56.0
    assert f["polyphony_mean"] == 1.0 and f["polyphony_std"] == 0.0
    assert f["pitch_range"] == 12.0
    notes, _ = load_midi(tmp_path / "scale.mid")
    assert polyphony_counts(notes, 50).size == math.ceil(8 * spb * 50 - 1e-9)


def test_chords_vertical_intervals_and_doubling(tmp_path):
    # 120 qpm; chord 1 (C E G) 0-1 s with E doubled in a second part, chord 2 (D4 D5) 1-2 s,
    # chord 3 (C C#) 2-3 s
    p1 = [(60, 0, 1, 80), (64, 0, 1, 80), (67, 0, 1, 80), (62, 1, 2, 80), (74, 1, 2, 80),
          (60, 2, 3, 80), (61, 2, 3, 80)]
    p2 = [(64, 0, 1, 80)]
    f = feats(write_midi(tmp_path / "chords.mid", 120, [(False, p1), (False, p2)]))
    # distinct pitches per frame: {3, 4, 7} x 50 frames, octave -> 0 x 50, semitone 1 x 50
    assert np.array_equal(f["vertical_interval_hist"], onehot(12, (0, .2), (1, .2), (3, .2), (4, .2),
                                                              (7, .2)))
    # notes (not distinct pitches) per frame: 4 x 50, 2 x 50, 2 x 50
    assert f["polyphony_mean"] == pytest.approx(8 / 3, rel=1e-12)
    assert f["polyphony_std"] == pytest.approx(math.sqrt(8) / 3, rel=1e-12)
    # part 1 top notes 67 -> 74 -> 61: intervals 7 and 13; part 2 has one note
    assert np.array_equal(f["melodic_interval_hist"], onehot(25, (7, .5), (13, .5)))
    assert np.array_equal(f["rhythmic_value_hist"], onehot(11, (6, 1.0)))  # 1 s = half note
    assert f["mean_rhythmic_value"] == 2.0
    assert f["note_density"] == 8 / 3
    assert f["velocity_change_mean"] == 0.0 and f["velocity_std"] == 0.0
    assert f["pitch_range"] == 14.0


def test_overlapping_notes_polyphony(tmp_path):
    notes = [(60, 0, 2, 90), (64, 1, 3, 90), (67, 1.5, 2.5, 90), (72, 4, 5, 90)]
    f = feats(write_midi(tmp_path / "poly.mid", 120, [(False, notes)]))
    # 250 frames: 1 x50, 2 x25, 3 x25, 2 x25, 1 x25, 0 x50 (rest), 1 x50
    assert f["polyphony_mean"] == pytest.approx(1.2, rel=1e-12)
    assert f["polyphony_std"] == pytest.approx(math.sqrt(0.76), rel=1e-12)
    assert np.allclose(f["vertical_interval_hist"], onehot(12, (3, 50 / 125), (4, 50 / 125),
                                                           (7, 25 / 125)), rtol=0, atol=1e-15)
    assert np.array_equal(f["melodic_interval_hist"], onehot(25, (3, 1 / 3), (4, 1 / 3), (5, 1 / 3)))
    assert f["note_density"] == 4 / 5
    # durations 4, 4, 2, 2 beats -> whole, whole, half, half
    assert np.array_equal(f["rhythmic_value_hist"], onehot(11, (6, .5), (8, .5)))
    assert f["mean_rhythmic_value"] == 3.0


def test_simultaneous_onsets_reduced_to_highest_and_clipping(tmp_path):
    notes = [(40, 0, .5, 90), (48, 0, .5, 90), (90, .5, 1, 90), (50, 1, 1.5, 90), (52, 1, 1.5, 90)]
    f = feats(write_midi(tmp_path / "m.mid", 120, [(False, notes)]))
    # top line 48 -> 90 -> 52: |42| clipped to 24, |38| clipped to 24
    assert np.array_equal(f["melodic_interval_hist"], onehot(25, (24, 1.0)))
    assert f["pitch_range"] == 50.0


def _write_tempo_change(path):
    """4 quarters at 120 qpm, then 60 qpm from beat 4: 2 quarters and a half; a second part holds
    a half note from beat 3 to beat 5 (across the tempo change)."""
    mid = mido.MidiFile(ticks_per_beat=480)
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0),
                           mido.MetaMessage("set_tempo", tempo=1000000, time=1920)])
    mid.tracks.append(meta)

    def track(notes, channel):
        events = []
        for p, s, e, v in notes:
            events += [(s, 1, mido.Message("note_on", note=p, velocity=v, channel=channel)),
                       (e, 0, mido.Message("note_off", note=p, velocity=0, channel=channel))]
        events.sort(key=lambda x: (x[0], x[1]))
        tr, now = mido.MidiTrack(), 0
        for t, _, msg in events:
            tr.append(msg.copy(time=t - now))
            now = t
        return tr

    q = 480
    line = [(60 + 2 * k, k * q, (k + 1) * q, 100) for k in range(6)] + [(72, 6 * q, 8 * q, 100)]
    mid.tracks.append(track(line, 0))
    mid.tracks.append(track([(48, 3 * q, 5 * q, 50)], 1))
    mid.save(str(path))
    return path


def test_tempo_change(tmp_path):
    path = _write_tempo_change(tmp_path / "tempo.mid")
    notes, tm = load_midi(path)
    assert np.allclose(tm.times, [0, 2]) and np.allclose(tm.qpm, [120, 60])
    f = symbolic_features(notes, CS)
    # durations in beats: 1 x6, 2 (line), 2 (the note across the change: 1.5 s .. 3 s)
    assert f["mean_rhythmic_value"] == 10 / 8
    assert np.array_equal(f["rhythmic_value_hist"], onehot(11, (4, 6 / 8), (6, 2 / 8)))
    # 8 onsets over 0 .. 6 s (2 s of 120 qpm + 4 beats of 60 qpm)
    assert f["note_density"] == pytest.approx(8 / 6, rel=1e-12)
    assert np.allclose(notes.start, [0, .5, 1, 1.5, 1.5, 2, 3, 4])


def test_velocity_ramp_and_onset_groups(tmp_path):
    ramp = [(60, k * .25, (k + 1) * .25, 10 * (k + 1)) for k in range(10)]
    f = feats(write_midi(tmp_path / "ramp.mid", 120, [(False, ramp)]))
    assert f["velocity_change_mean"] == 10.0
    assert f["velocity_std"] == pytest.approx(10 * math.sqrt(8.25), rel=1e-12)
    assert f["velocity_range"] == 90.0
    # chords: the onset's velocity is the mean of its notes: 50, 80, 60 -> changes 30, 20
    chords = [(60, 0, .5, 40), (64, 0, .5, 60), (62, .5, 1, 80), (65, 1, 1.5, 100), (69, 1, 1.5, 20)]
    g = feats(write_midi(tmp_path / "vchords.mid", 120, [(False, chords[:2] + chords[3:]),
                                                          (False, chords[2:3])]))
    assert g["velocity_change_mean"] == 25.0
    assert g["velocity_std"] == pytest.approx(math.sqrt(800), rel=1e-12)
    assert g["velocity_range"] == 80.0


def test_drum_track_ignored(tmp_path):
    plain = feats(write_midi(tmp_path / "a.mid", 120, [(False, scale_notes(.5))]))
    drums = [(36, k * .25, k * .25 + .1, 127) for k in range(16)]
    with_drums = feats(write_midi(tmp_path / "b.mid", 120, [(True, drums), (False, scale_notes(.5))]))
    for k, v in plain.items():
        assert np.array_equal(v, with_drums[k]), k
    with pytest.raises(ExtractionError, match="drum tracks only"):
        load_midi(write_midi(tmp_path / "d.mid", 120, [(True, drums)]))
    with pytest.raises(ExtractionError, match="no notes"):
        load_midi(write_midi(tmp_path / "e.mid", 120, [(False, [])]))


def _naive(notes, fr=50):
    """Frame-by-frame reference for polyphony and vertical intervals."""
    t0, t1 = notes.start.min(), notes.end.max()
    counts, hist = [], np.zeros(12)
    k = 0
    while t0 + k / fr < t1 - 1e-9:
        t = t0 + k / fr
        on = (notes.start <= t + 1e-9) & (notes.end > t + 1e-9)
        counts.append(int(on.sum()))
        ps = sorted(set(notes.pitch[on].tolist()))
        for i in range(len(ps)):
            for j in range(i + 1, len(ps)):
                hist[(ps[j] - ps[i]) % 12] += 1
        k += 1
    return np.array(counts), hist


def test_random_files_against_frame_by_frame_reference(tmp_path):
    rng = np.random.default_rng(7)
    for trial in range(5):
        parts = []
        for _ in range(3):
            starts = np.sort(rng.integers(0, 64, size=12)) * 0.125
            parts.append((False, [(int(rng.integers(40, 90)), float(s), float(s + rng.integers(1, 12) * .125),
                                   int(rng.integers(1, 128))) for s in starts]))
        notes, _ = load_midi(write_midi(tmp_path / f"r{trial}.mid", 120, parts))
        counts, hist = _naive(notes)
        assert np.array_equal(polyphony_counts(notes, 50), counts)
        assert np.array_equal(vertical_interval_histogram(notes, 50, normalize="none"), hist)
        pc = np.zeros(12)
        for p in notes.pitch:
            pc[p % 12] += 1
        assert np.array_equal(pitch_class_histogram(notes, normalize="none"), pc)
        f = symbolic_features(notes, CS)
        for name in ("melodic_interval_hist", "pitch_class_hist", "vertical_interval_hist",
                     "rhythmic_value_hist"):
            if f[name].sum() > 0:
                assert f[name].sum() == pytest.approx(1.0, abs=1e-12)
        assert melodic_interval_histogram(notes, normalize="none").sum() <= len(notes) - 1


def test_channelset_params_are_data(tmp_path):
    path = write_midi(tmp_path / "m.mid", 120, [(False, [(40, 0, .5, 90), (90, .5, 1, 90)])])
    notes, _ = load_midi(path)
    text = channelset_path("symbolic").read_text().replace("max_interval = 24", "max_interval = 60")
    text = text.replace('extractor = "melodic_interval_histogram"\njsymbolic_id = "M-1"',
                        'extractor = "melodic_interval_histogram"\njsymbolic_id = "M-1"')
    text = text.replace("dim = 25", "dim = 61")
    p = tmp_path / "sym.toml"
    p.write_text(text)
    f = symbolic_features(notes, load_channelset(p))
    assert f["melodic_interval_hist"].shape == (61,) and f["melodic_interval_hist"][50] == 1.0
    from aria.errors import AriaInputError

    p.write_text(text.replace("dim = 61", "dim = 25"))
    with pytest.raises(AriaInputError, match="length 61"):
        symbolic_features(notes, load_channelset(p))


def _long_file(path, tpq, n=1000):
    mid = mido.MidiFile(ticks_per_beat=tpq)
    tr = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=400000, time=0)])
    for k in range(n):
        p = 60 + (k * 5) % 24
        tr.append(mido.Message("note_on", note=p, velocity=30 + k % 90, time=0))
        tr.append(mido.Message("note_off", note=p, velocity=0, time=tpq if k % 3 else 2 * tpq))
    mid.tracks.append(tr)
    mid.save(str(path))
    return path


def test_long_fine_resolution_file_beyond_pretty_midi_tick_limit(tmp_path):
    # music21 writes 10080 ticks per quarter: 1000 notes exceed pretty_midi's 1e7-tick limit
    fine = _long_file(tmp_path / "fine.mid", 10080)
    with pytest.raises(ValueError, match="largest tick"):
        pretty_midi.PrettyMIDI(str(fine))
    coarse = _long_file(tmp_path / "coarse.mid", 480)
    f, g = feats(fine), feats(coarse)
    for k in f:
        assert np.allclose(f[k], g[k], rtol=1e-12, atol=1e-12), k
    assert f["mean_rhythmic_value"] == sum(1 if k % 3 else 2 for k in range(1000)) / 1000


def test_spans_in_beats_across_a_tempo_change(tmp_path):
    from aria.features.extract.batch import Item
    from aria.features.extract.symbolic import extract_item

    path = str(_write_tempo_change(tmp_path / "tempo.mid"))
    a = extract_item(Item("a", path, 0.0, 4.0, "beats"), CS)
    b = extract_item(Item("b", path, 4.0, 8.0, "beats"), CS)
    # [0, 4) beats = [0, 2) s: four quarters + the part-2 half note (beat 3) clipped at beat 4
    assert a["mean_rhythmic_value"] == 1.0 and a["note_density"] == 5 / 2.0
    # [4, 8) beats = [2, 6) s at 60 qpm: two quarters and a half note
    assert b["mean_rhythmic_value"] == 4 / 3 and b["note_density"] == pytest.approx(3 / 4.0, rel=1e-12)
    whole = extract_item(Item("w", path), CS)
    pcs = a["pitch_class_hist"] * 5 + b["pitch_class_hist"] * 3
    assert np.allclose(pcs, whole["pitch_class_hist"] * 8, rtol=0, atol=1e-12)
    secs = extract_item(Item("s", path, 2.0, 6.0, "seconds"), CS)
    for k in b:
        assert np.array_equal(b[k], secs[k]), k
    with pytest.raises(ExtractionError, match=r"no pitched note starts in the span \[8, 9\) beats"):
        extract_item(Item("c", path, 8.0, 9.0, "beats"), CS)


def _frame_polyphony(notes, fr=50):
    """The frame-by-frame T-2/T-7 of Aria <= 0.1 (numpy over every frame): the reference."""
    counts = polyphony_counts(notes, fr)
    return float(np.mean(counts)), float(np.std(counts))


def _random_notes(rng, k, span=200.0):
    s = np.sort(rng.uniform(0, span, k))
    e = s + rng.exponential(span / k * 4, k) * (rng.random(k) > 0.05)  # a few zero-length notes
    return Notes(s, e, s * 2, e * 2, rng.integers(20, 100, k), rng.integers(1, 128, k),
                 rng.integers(0, 4, k))


@pytest.mark.parametrize("fr", [50, 7.5, 1000])
def test_run_length_polyphony_equals_the_frame_grid(fr):
    """Event-based T-2/T-7 give the per-frame computation's values bit for bit (issue 12 item 4)."""
    rng = np.random.default_rng([12, 4, int(fr * 10)])
    for trial in range(80):
        span = float([0.05, 2, 60, 2000][trial % 4])
        notes = _random_notes(rng, int(rng.integers(1, 400)), span)
        if notes.end.max() <= notes.start.min():
            continue
        counts, lengths = polyphony_runs(notes, fr)
        assert np.all(lengths > 0) and lengths.size <= 2 * len(notes) + 1
        assert np.array_equal(np.repeat(counts, lengths), polyphony_counts(notes, fr))
        assert (polyphony_mean(notes, fr), polyphony_std(notes, fr)) == _frame_polyphony(notes, fr)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 128, 129, 4096, 4097, 10_000, 300_001])
def test_pairwise_run_sum_is_numpys_sum(n):
    rng = np.random.default_rng([12, n])
    for runs in (1, 2, 5, max(1, n // 3)):
        cuts = np.sort(rng.choice(np.arange(1, n), size=min(runs, n) - 1, replace=False)) if n > 1 else []
        lengths = np.diff(np.concatenate([[0], cuts, [n]])).astype(np.int64)
        values = rng.exponential(size=lengths.size) * 10.0 ** rng.integers(-8, 8, size=lengths.size)
        assert _pairwise_sum_runs(values, lengths) == np.add.reduce(np.repeat(values, lengths))


def test_one_very_long_note_costs_no_frames():
    # one note of 5e6 s (300,000 ticks at the slowest tempo, 1 tick per quarter) is one run
    notes = Notes(np.array([0.0]), np.array([5_033_164.5]), np.zeros(1), np.array([300_000.0]),
                  np.array([60]), np.array([64]), np.array([0]))
    counts, lengths = polyphony_runs(notes, 50)
    assert counts.tolist() == [1] and lengths.tolist() == [251_658_225]
    assert polyphony_mean(notes) == 1.0 and polyphony_std(notes) == 0.0
    assert np.array_equal(vertical_interval_histogram(notes, normalize="none"), np.zeros(12))


def test_extractor_table_is_the_channel_sets_and_empty_notes_rules():
    """EXTRACTORS (filled by the registering decorator) holds the twelve extractors of the shipped
    channel set in its order; the scalar features refuse zero notes, the histograms count nothing."""
    from aria.features.extract.symbolic import EXTRACTORS
    from aria.features.table import feature_specs

    assert list(EXTRACTORS) == [s.extractor for s in feature_specs(CS)]
    empty = Notes.from_seconds([], [], [])
    for name in ("note_density", "mean_rhythmic_value", "velocity_change_mean", "velocity_std",
                 "velocity_range", "pitch_range"):
        with pytest.raises(ExtractionError, match="^no notes$"):
            EXTRACTORS[name](empty)
    assert EXTRACTORS["pitch_class_histogram"](empty).tolist() == [0.0] * 12
    assert EXTRACTORS["melodic_interval_histogram"](empty, max_interval=3).tolist() == [0.0] * 4


def test_notes_round_trip_through_a_midi_file(tmp_path):
    """Notes.from_seconds -> to_pretty_midi -> file -> load_midi gives the same notes back
    (onsets, ends, pitches, velocities; beats at the written tempo)."""
    notes = Notes.from_seconds([0.0, 0.5, 0.5, 1.25], [0.5, 1.5, 1.0, 2.0], [60, 67, 64, 72],
                               velocity=[10, 20, 30, 40], voice=[0, 1, 0, 0])
    path = tmp_path / "rt.mid"
    notes.to_pretty_midi(qpm=120).write(str(path))  # every time on pretty_midi's tick grid
    back, tempo = load_midi(path)
    assert back.pitch.tolist() == [60, 64, 67, 72]  # sorted by onset, then pitch
    assert back.velocity.tolist() == [10, 30, 20, 40]
    np.testing.assert_allclose(back.start, [0.0, 0.5, 0.5, 1.25], atol=1e-3)
    np.testing.assert_allclose(back.end, [0.5, 1.0, 1.5, 2.0], atol=1e-3)
    np.testing.assert_allclose(back.end_beat, np.array([0.5, 1.0, 1.5, 2.0]) * 120 / 60, atol=1e-3)
    assert tempo.qpm.tolist() == pytest.approx([120.0])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"start": [0.0, 1.0], "end": [1.0], "pitch": [60, 62]}, r"end must give one value per note \(2 start"),
    ({"start": [0.0], "end": [1.0], "pitch": [60.7]}, "pitch must be whole numbers"),
    ({"start": [0.0, 1.0], "end": [1.0, 2.0], "pitch": [60, 62], "velocity": [1, 2, 3]},
     "velocity must give one value per note"),
    ({"start": [0.0], "end": [float("nan")], "pitch": [60]}, "end must be finite numbers"),
])
def test_notes_from_seconds_refuses_ragged_or_fractional_input(kwargs, message):
    with pytest.raises(AriaInputError, match=message):
        Notes.from_seconds(**kwargs)
