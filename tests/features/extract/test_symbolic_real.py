"""Symbolic features on real music (Bach chorales from music21's corpus) and on spans."""

import warnings

import numpy as np
import pandas as pd
import pytest

from aria._resources import channelset_path
from aria.features.extract.symbolic import (
    extract_symbolic,
    load_midi,
    mean_rhythmic_value,
    melodic_interval_histogram,
    pitch_class_histogram,
)
from aria.features.table import load_channelset

music21 = pytest.importorskip("music21")

CHORALES = ["bwv66.6", "bwv26.6", "bwv1.6", "bwv269", "bwv153.1", "bwv10.7"]
HISTS = ("melodic_interval_hist", "pitch_class_hist", "vertical_interval_hist", "rhythmic_value_hist")


@pytest.fixture(scope="module")
def chorales(tmp_path_factory):
    d = tmp_path_factory.mktemp("chorales")
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in CHORALES:
            score = music21.corpus.parse(f"bach/{name}")
            score.write("midi", fp=d / f"{name}.mid")
            scores[name] = score
    return d, scores


def test_pitch_range_and_pitch_classes_agree_with_music21(chorales):
    d, scores = chorales
    df = extract_symbolic(d)
    assert list(df["track"]) == sorted(CHORALES) and (df["status"] == "ok").all()
    for name, score in scores.items():
        row = df.set_index("track").loc[name]
        # music21 writes repeats out in MIDI; analyse the same expanded, tie-merged score
        flat = score.expandRepeats().stripTies()
        midis = np.array([p.midi for n in flat.recurse().notes for p in n.pitches])
        notes, _ = load_midi(d / f"{name}.mid")
        assert np.array_equal(pitch_class_histogram(notes, normalize="none"),
                              np.bincount(midis % 12, minlength=12))
        assert np.allclose(row["pitch_class_hist"], np.bincount(midis % 12, minlength=12) / midis.size,
                           rtol=0, atol=1e-15)
        m21_range = music21.features.jSymbolic.RangeFeature(score).extract().vector[0]
        assert row["pitch_range"] == m21_range == midis.max() - midis.min()
        # melodic intervals: music21's jSymbolic-1 histogram (per part, ties merged, 128 bins) folded
        # at 24 equals M-1 on these monophonic-per-part scores
        m21 = np.array(music21.features.DataInstance(score.expandRepeats())["midiIntervalHistogram"])
        assert np.array_equal(melodic_interval_histogram(notes, normalize="none"),
                              np.concatenate([m21[:24], [m21[24:].sum()]]))
        for h in HISTS:
            assert np.asarray(row[h]).sum() == pytest.approx(1.0, abs=1e-12), (name, h)
        assert 3.5 < row["polyphony_mean"] <= 5.0  # four voices (bwv1.6 has a horn part too)
        assert row["velocity_range"] == 0.0  # music21 writes every note at the same velocity


def _boundary_intervals(notes, t):
    """Per instrument: the melodic interval from the last top note before t to the first at/after t."""
    counts = np.zeros(25)
    for v in np.unique(notes.voice):
        m = notes.voice == v
        s, p = notes.start[m], notes.pitch[m]
        before, after = s < t, s >= t
        if before.any() and after.any():
            last_t, first_t = s[before].max(), s[after].min()
            iv = abs(int(p[s == first_t].max()) - int(p[s == last_t].max()))
            counts[min(iv, 24)] += 1
    return counts


def test_adjacent_spans_add_up_to_the_whole(chorales, tmp_path):
    d, _ = chorales
    cs = load_channelset(channelset_path("symbolic"))
    for name in ("bwv66.6", "bwv269"):
        notes, tm = load_midi(d / f"{name}.mid")
        cut_beat = 7.5
        cut = float(tm.to_seconds(cut_beat))
        end = float(notes.end.max()) + 1
        a, b = notes.select(0, cut, tm), notes.select(cut, end, tm)
        assert len(a) + len(b) == len(notes) and len(a) > 0 and len(b) > 0
        assert np.array_equal(pitch_class_histogram(a, "none") + pitch_class_histogram(b, "none"),
                              pitch_class_histogram(notes, "none"))
        assert np.array_equal(melodic_interval_histogram(a, normalize="none")
                              + melodic_interval_histogram(b, normalize="none")
                              + _boundary_intervals(notes, cut),
                              melodic_interval_histogram(notes, normalize="none"))
        crossing = (notes.start < cut) & (notes.end > cut)
        tails = (notes.end_beat - cut_beat)[crossing].sum()
        assert mean_rhythmic_value(a) * len(a) + mean_rhythmic_value(b) * len(b) + tails \
            == pytest.approx(mean_rhythmic_value(notes) * len(notes), rel=1e-12)
        # through the API: a spans table in beats gives the same rows as the same spans in seconds
        end_beat = float(tm.to_beats(end))
        pd.DataFrame({"id": [f"{name}#0", f"{name}#1"], "file": [name, name],
                      "start": [0, cut_beat], "end": [cut_beat, end_beat]}).to_csv(tmp_path / "b.csv",
                                                                                   index=False)
        pd.DataFrame({"id": [f"{name}#0", f"{name}#1"], "file": [str(d / f"{name}.mid")] * 2,
                      "start": [0, cut], "end": [cut, end]}).to_csv(tmp_path / "s.csv", index=False)
        rows_b = extract_symbolic(d, spans=tmp_path / "b.csv", unit="beats")
        rows_s = extract_symbolic([], spans=tmp_path / "s.csv", unit="seconds")
        assert list(rows_b["track"]) == [f"{name}#0", f"{name}#1"]
        assert list(rows_b["unit"]) == ["beats"] * 2 and rows_b["start"].tolist() == [0, cut_beat]
        whole = extract_symbolic(d / f"{name}.mid").iloc[0]
        pc = (np.stack(rows_b["pitch_class_hist"]) * np.array([[len(a)], [len(b)]])).sum(0) / len(notes)
        assert np.allclose(pc, whole["pitch_class_hist"], rtol=0, atol=1e-14)
        for col in cs["features"]:
            for rb, rs in zip(rows_b[col], rows_s[col], strict=True):
                assert np.allclose(rb, rs, rtol=1e-12, atol=1e-12), col
        assert rows_b["pitch_range"].max() <= whole["pitch_range"]


def test_empty_span_fails_with_reason(chorales, tmp_path):
    d, _ = chorales
    pd.DataFrame({"id": ["late", "ok"], "file": ["bwv66.6", "bwv66.6"], "start": [10_000, 0],
                  "end": [10_001, 4]}).to_csv(tmp_path / "sp.csv", index=False)
    df = extract_symbolic(d, spans=tmp_path / "sp.csv", unit="beats")
    assert df["status"].tolist() == ["failed", "ok"]
    assert df["error"].iloc[0] == "no pitched note starts in the span [10000, 10001) beats"
    assert df["pitch_class_hist"].iloc[0] is None


def test_shipped_bach_example_is_current(chorales):
    import pyarrow.parquet as pq

    from aria.examples.bach import example_path
    from aria.features.table import channelset_fingerprint

    path = example_path()
    assert path.stat().st_size < 1_000_000
    meta = pq.read_schema(path).metadata
    cs = load_channelset(channelset_path("symbolic"))
    fp = channelset_fingerprint(cs, {"extractor": "aria.features.symbolic.extract_item"})
    assert meta[b"aria.fingerprint"].decode() == fp, "features/symbolic.toml changed: rebuild the example"
    df = pd.read_parquet(path)
    assert len(df) >= 400 and (df["status"] == "ok").all() and df["track"].is_unique
    assert {"bwv26.6", "bwv66.6", "bwv1.6"} <= set(df["track"])
    assert set(df["mode"]) == {"major", "minor"} and "file" not in df.columns
    d, _ = chorales
    fresh = extract_symbolic(d).set_index("track")
    shipped = df.set_index("track")
    for name in CHORALES:
        for col in cs["features"]:
            assert np.array_equal(np.asarray(shipped.loc[name, col]), np.asarray(fresh.loc[name, col])), \
                (name, col)


def test_polyphony_equals_the_shipped_table_built_frame_by_frame(chorales):
    """T-2/T-7 are event-based since issue 12; the shipped table was built frame by frame."""
    from aria.examples.bach import example_path
    from aria.features.extract.symbolic import polyphony_counts, polyphony_mean, polyphony_std

    d, _ = chorales
    shipped = pd.read_parquet(example_path()).set_index("track")
    for name in CHORALES:
        notes, _ = load_midi(d / f"{name}.mid")
        counts = polyphony_counts(notes, 50)
        assert polyphony_mean(notes) == shipped.loc[name, "polyphony_mean"] == np.mean(counts)
        assert polyphony_std(notes) == shipped.loc[name, "polyphony_std"] == np.std(counts)
