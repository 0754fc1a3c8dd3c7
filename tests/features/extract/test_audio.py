"""Audio feature extractors on real audio with known content (rendered with FluidSynth, or numpy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.audio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import audio_synth as S  # noqa: E402

from aria.errors import AriaDependencyError, AriaInputError  # noqa: E402

SR = 22050
HOP = 512


@pytest.fixture(scope="module")
def A():
    from aria.features.extract import audio

    return audio


@pytest.fixture(scope="module")
def librosa():
    import librosa

    return librosa


@pytest.fixture(scope="module")
def cfg(A):
    return A.load_audio_config()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Every test clip, rendered once: {name: wav path}."""
    d = tmp_path_factory.mktemp("audio_clips")
    out = {}
    for bpm in (120, 90):
        out[f"click{bpm}"] = S.write_wav(d / f"click{bpm}.wav", S.click_track(bpm, 12.0))
        out[f"drum{bpm}"] = S.render_midi(S.drum_midi(bpm, 12.0, d / f"drum{bpm}.mid"), d / f"drum{bpm}.wav")
    for tr in (0, 3):
        mid = S.chord_midi([S.TRIADS[c] for c in S.PROGRESSION], 1.5, d / f"prog{tr}.mid", transpose=tr)
        out[f"prog{tr}"] = S.render_midi(mid, d / f"prog{tr}.wav")
    # sustained A-major triad (A3 C#4 E4) on a church organ
    out["amaj"] = S.render_midi(S.chord_midi([(57, 61, 64)], 4.0, d / "amaj.mid", program=19), d / "amaj.wav")
    return out


@pytest.fixture(scope="module")
def decoded(clips, A):
    from aria.features.extract.audio_io import decode_audio

    return {k: decode_audio(p, SR) for k, p in clips.items()}


@pytest.fixture(scope="module")
def rows(decoded, A, cfg):
    """Full feature rows of the clips the tests inspect."""
    names = ("click120", "drum90", "prog0", "prog3", "amaj")
    return {k: A.compute_features(decoded[k], SR, cfg) for k in names}


# --- hand-worked helpers -------------------------------------------------------------------------
def test_interval_histogram_hand_worked(A):
    # intervals 0.5, 0.5, 1.0, 3.0 (clipped to 1.5) over 4 bins of [0.2, 1.5] (width 0.325):
    # 0.5 -> bin 0 ([0.2, 0.525)), 1.0 -> bin 2 ([0.85, 1.175)), 1.5 -> last bin.
    h = A.interval_histogram([0.0, 0.5, 1.0, 2.0, 5.0], 4, (0.2, 1.5))
    np.testing.assert_array_equal(h, [0.5, 0.0, 0.25, 0.25])
    counts = A.interval_histogram([0.0, 0.05, 0.1], 4, (0.2, 1.5), normalize=None)  # 0.05 -> first bin
    np.testing.assert_array_equal(counts, [2, 0, 0, 0])
    np.testing.assert_array_equal(A.interval_histogram([1.0], 4, (0.2, 1.5)), np.zeros(4))
    np.testing.assert_array_equal(A.interval_histogram([], 4, (0.2, 1.5)), np.zeros(4))
    np.testing.assert_array_equal(A.interval_histogram([0.0, 0.5], 4, (0.2, 1.5), min_events=3), np.zeros(4))
    with pytest.raises(AriaInputError):
        A.interval_histogram([0, 1, 2], 4, (1.5, 0.2))


def test_chord_roots_and_motions(A):
    assert [A.chord_root(x) for x in ("C", "F#m", "Bb7", "Ebmaj7/G", "A#:min", "Cb", "N", "X")] == [
        0, 6, 10, 3, 10, 11, None, None]
    with pytest.raises(ValueError):
        A.chord_root("")
    # no-chord dropped, repeats merged (C C/E -> one C), motions mod 12
    labels = ["N", "C", "C/E", "F", "N", "G", "C", "Am", "Dm", "G", "C", "N"]
    assert A.root_motions(labels) == [5, 2, 5, 9, 5, 5, 5]
    assert A.root_motions(["N", "C", "C7"]) == []
    assert A.root_motion_similarity([5, 2, 5], [5, 2, 5]) == 1.0
    assert A.root_motion_similarity([5, 2, 5, 9], [2, 5]) == 0.5  # LCS 2 / max length 4
    assert A.root_motion_similarity([1, 2, 3], [3, 2, 1]) == pytest.approx(1 / 3)
    assert A.root_motion_similarity([], [5]) == 0.0


# --- rhythm ----------------------------------------------------------------------------------------
def _bin_of(value, lo, hi, bins):
    return int((value - lo) // ((hi - lo) / bins))


@pytest.mark.parametrize("kind", ["click", "drum"])
@pytest.mark.parametrize("bpm", [120, 90])
def test_beat_and_onset_histograms_peak_at_the_tempo(A, decoded, cfg, kind, bpm):
    y = decoded[f"{kind}{bpm}"]
    period = 60.0 / bpm
    row = A.compute_features(y, SR, cfg)
    beat = row["beat_interval_hist"]
    assert beat.shape == (16,) and beat.sum() == pytest.approx(1.0)
    assert int(np.argmax(beat)) == _bin_of(period, 0.2, 1.5, 16)
    assert beat[_bin_of(period, 0.2, 1.5, 16)] >= 0.8
    onset = row["onset_interval_hist"]
    assert onset.sum() == pytest.approx(1.0)
    assert int(np.argmax(onset)) == _bin_of(period, 0.0, 1.0, 16)
    # onset times are quantized to hops (23 ms): all mass within one hop of the period's bin
    near = {_bin_of(period + d, 0, 1, 16) for d in (-HOP / SR, 0.0, HOP / SR)}
    assert sum(onset[i] for i in near) >= 0.9


def test_onsets_agree_with_librosa_onset_detect(A, decoded, librosa, cfg):
    y = decoded["drum120"]
    times = librosa.onset.onset_detect(y=y, sr=SR, hop_length=HOP, units="time")
    np.testing.assert_array_equal(A.AudioAnalysis(y, SR, HOP).onset_times(), times)
    expected = A.interval_histogram(times, 16, (0.0, 1.0))
    np.testing.assert_array_equal(A.compute_features(y, SR, cfg)["onset_interval_hist"], expected)


def test_beatnet_fresh_estimator_per_file(A, decoded):
    """Beats of a file do not depend on the file analysed before it (BeatNet keeps LSTM state)."""
    alone = A.beatnet_beats(decoded["drum120"], SR)
    A.beatnet_beats(decoded["prog0"], SR)
    after = A.beatnet_beats(decoded["drum120"], SR)
    np.testing.assert_array_equal(alone, after)
    np.testing.assert_allclose(np.median(np.diff(alone)), 0.5, atol=0.021)


def test_beatnet_at_another_sample_rate(A, librosa, clips):
    y, _ = librosa.load(clips["click90"], sr=16000)
    beats = A.beatnet_beats(y, 16000)
    assert np.median(np.diff(beats)) == pytest.approx(60 / 90, abs=0.021)


# --- harmony --------------------------------------------------------------------------------------
def test_chordino_progression_root_motions(rows, A):
    labels = rows["prog0"]["chord_progression"]
    assert all(isinstance(x, str) for x in labels)
    assert [x for x in labels if x != "N"] == list(S.PROGRESSION)
    assert A.root_motions(labels) == [5, 2, 5, 9, 5, 5, 5]


def test_transposed_progression_same_motions(rows, A):
    labels = rows["prog3"]["chord_progression"]
    assert A.chord_root(next(x for x in labels if x != "N")) == 3  # starts on Eb
    m0, m3 = A.root_motions(rows["prog0"]["chord_progression"]), A.root_motions(labels)
    assert m3 == m0 == [5, 2, 5, 9, 5, 5, 5]
    assert A.root_motion_similarity(m0, m3) == 1.0


def test_chroma_of_a_major_triad(rows, decoded, librosa):
    chroma = rows["amaj"]["chroma"]
    assert chroma.shape == (12,)
    assert set(np.argsort(chroma)[::-1][:3]) == {9, 1, 4}  # A, C#, E
    # exactly librosa's chroma_cqt (default 36 bins/octave), averaged over frames
    ref = librosa.feature.chroma_cqt(y=decoded["amaj"], sr=SR, hop_length=HOP)
    np.testing.assert_allclose(chroma, ref.mean(axis=1), rtol=1e-6, atol=1e-9)


def test_tonnetz_dimension_range_and_source(rows, decoded, librosa):
    ton = rows["amaj"]["tonnetz"]
    assert ton.shape == (6,)
    assert np.all(np.abs(ton) <= 1.0)
    chroma = librosa.feature.chroma_cqt(y=decoded["amaj"], sr=SR, hop_length=HOP)
    frames = librosa.feature.tonnetz(chroma=chroma, sr=SR)
    assert frames.shape[0] == 6 and np.all(np.abs(frames) <= 1.0 + 1e-9)
    np.testing.assert_allclose(ton, frames.mean(axis=1), rtol=1e-6, atol=1e-9)
    # A major: the major-third circle (dims 4-5, radius 0.5) is the most strongly activated
    assert np.hypot(ton[4], ton[5]) > 0.1


def test_shared_cqt_chroma_option(A, decoded, librosa):
    """chroma with cqt_from = "cqt" is chroma_cqt on the timbre CQT (12 bins/octave, no tuning)."""
    from aria._resources import channelset_path
    from aria.features.table import load_channelset

    data = load_channelset(channelset_path("audio"))
    data["features"]["chroma"]["params"]["cqt_from"] = "cqt"
    cfg = A.load_audio_config(data)
    y = decoded["amaj"]
    got = A.compute_features(y, SR, cfg)["chroma"]
    ref = librosa.feature.chroma_cqt(y=y, sr=SR, hop_length=HOP, bins_per_octave=12, n_octaves=7, tuning=0.0)
    np.testing.assert_allclose(got, ref.mean(axis=1), rtol=1e-5, atol=1e-7)


# --- timbre ---------------------------------------------------------------------------------------
def test_mfcc_and_cqt_stats_agree_with_librosa(rows, decoded, librosa):
    y = decoded["prog0"]
    m = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, hop_length=HOP)
    mfcc = rows["prog0"]["mfcc"]
    assert mfcc.shape == (26,)
    np.testing.assert_allclose(mfcc, np.r_[m.mean(axis=1), m.std(axis=1)], rtol=1e-5, atol=1e-4)
    c = librosa.amplitude_to_db(np.abs(librosa.cqt(y, sr=SR, hop_length=HOP, n_bins=84, bins_per_octave=12)),
                                ref=np.max)
    cqt = rows["prog0"]["cqt"]
    assert cqt.shape == (168,)
    np.testing.assert_allclose(cqt, np.r_[c.mean(axis=1), c.std(axis=1)], rtol=1e-5, atol=1e-4)
    # a different file gives different numbers (the comparison is not vacuous)
    assert not np.allclose(rows["amaj"]["mfcc"], mfcc)


def test_features_have_declared_dimensions(rows, cfg):
    for spec in cfg.specs:
        value = rows["click120"][spec.name]
        if spec.kind == "vector":
            assert np.asarray(value).shape == (spec.dim,), spec.name
            assert np.all(np.isfinite(value))
        else:
            assert isinstance(value, list)


# --- configuration and dependencies ----------------------------------------------------------
def test_config_errors(A):
    from aria._resources import channelset_path
    from aria.features.table import load_channelset

    base = load_channelset(channelset_path("audio"))
    bad = dict(base, features=dict(base["features"], mfcc=dict(base["features"]["mfcc"], extractor="nope")))
    with pytest.raises(AriaInputError, match="unknown audio extractor 'nope'"):
        A.load_audio_config(bad)
    feats = dict(base["features"])
    feats["tonnetz"] = dict(feats["tonnetz"], params={"from_chroma": "missing"})
    with pytest.raises(AriaInputError, match="from_chroma"):
        A.load_audio_config(dict(base, features=feats))
    with pytest.raises(AriaInputError, match=r"sr must be an integer in \[4000, 192000\] or None, got 100"):
        A.load_audio_config(sr=100)
    feats = dict(base["features"])
    feats["chord_progression"] = dict(feats["chord_progression"], params={"backend": "magic"})
    with pytest.raises(AriaInputError, match="chord backend"):
        A.load_audio_config(dict(base, features=feats))
    # a dim that does not match the extractor's output is a configuration error, not a bad file
    feats = dict(base["features"])
    feats["mfcc"] = dict(feats["mfcc"], dim=20)
    cfg = A.load_audio_config(dict(base, features=feats))
    with pytest.raises(AriaInputError, match="dim = 20"):
        A.compute_features(S.click_track(120, 3.0), SR, cfg)


def test_omnizart_backend_detection(A, monkeypatch, tmp_path):
    from aria.features.extract import _audio_compat as compat

    # no omnizart here: auto falls back to Chordino, an explicit request is a dependency error
    assert compat.omnizart_chord_checkpoint() is None
    assert A.load_audio_config().chord_backend == "chordino"
    with pytest.raises(AriaDependencyError, match="chord_v1"):
        A._resolve_chord_backend("omnizart")
    # a package with the checkpoint's weights file present is detected (without importing it)
    pkg = tmp_path / "omnizart"
    ckpt = pkg / "checkpoints" / "chord" / "chord_v1" / "variables"
    ckpt.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert compat.omnizart_chord_checkpoint() is None  # graph only, no weights: not installed
    (ckpt / "variables.data-00000-of-00001").write_bytes(b"\0")
    assert compat.omnizart_chord_checkpoint() == pkg / "checkpoints" / "chord" / "chord_v1"
    assert A._resolve_chord_backend("auto") == "omnizart"


def test_missing_audio_stack_is_one_line_error(tmp_path):
    """With BeatNet unimportable, the CLI prints one line naming the install command, exit 2."""
    blocker = tmp_path / "BeatNet"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('No module named torch (simulated)')\n")
    wav = S.write_wav(tmp_path / "x.wav", S.click_track(120, 2.0))
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); from aria.cli import main; "
            f"sys.exit(main(['features', 'audio', {str(wav)!r}, '--out', {str(tmp_path / 'o.parquet')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[3])
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("aria: error: BeatNet") and "bash .ci/install-audio" in lines[0]
    assert not (tmp_path / "o.parquet").exists()


def test_import_aria_and_diagnose_do_not_need_the_audio_stack():
    code = ("import io, sys, contextlib, aria, aria.features, aria.cli, aria.diagnostics\n"
            "aria.cli.build_parser()\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    rc = aria.cli.main(['diagnose', '--example', 'collapsed', '--json'])\n"
            "bad = [m for m in ('librosa', 'BeatNet', 'madmom', 'torch', 'vamp', 'chord_extractor') "
            "if m in sys.modules]\n"
            "print(rc, bad); sys.exit(1 if bad or rc else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[3])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_omnizart_backend_when_its_checkpoint_is_installed(A, decoded, monkeypatch, tmp_path):
    """With omnizart and its chord_v1 weights present, "auto" runs omnizart and converts its labels."""
    pkg = tmp_path / "omnizart"
    variables = pkg / "checkpoints" / "chord" / "chord_v1" / "variables"
    variables.mkdir(parents=True)
    (variables / "variables.data-00000-of-00001").write_bytes(b"")
    (pkg / "__init__.py").write_text("")
    (pkg / "chord").mkdir()
    (pkg / "chord" / "__init__.py").write_text("")
    # stands in for omnizart.chord.app: writes <name>.csv (chord,start,end) like omnizart's write_csv
    (pkg / "chord" / "app.py").write_text(
        "import os\n"
        "def transcribe(input_audio, model_path=None, output='./'):\n"
        "    assert os.path.isfile(input_audio)\n"
        "    name = os.path.splitext(os.path.basename(input_audio))[0]\n"
        "    with open(os.path.join(output, name + '.csv'), 'w') as fh:\n"
        "        fh.write('chord,start,end\\nG:maj,2.0,4.0\\nC:maj,0.0,2.0\\nA#:min,4.0,6.0\\n')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        cfg = A.load_audio_config()
        assert cfg.chord_backend == "omnizart"
        labels = A.compute_features(decoded["prog0"], SR, cfg)["chord_progression"]
    finally:  # the fake package must not outlive this test
        for name in [m for m in sys.modules if m == "omnizart" or m.startswith("omnizart.")]:
            del sys.modules[name]
    assert labels == ["C", "G", "A#m"]
    assert A.root_motions(labels) == [7, 3]
    monkeypatch.undo()
    assert A.load_audio_config().chord_backend == "chordino"


@pytest.mark.parametrize("fmt", ["FLAC", "OGG", "MP3"])
def test_decode_resamples_and_downmixes_like_librosa_load(librosa, tmp_path, fmt):
    import soundfile as sf

    from aria.features.extract.audio_io import decode_audio

    t = np.arange(int(2.0 * 44100)) / 44100
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], axis=1)
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(str(path), stereo.astype(np.float32), 44100, format=fmt)
    y = decode_audio(path, SR)
    ref, _ = librosa.load(path, sr=SR, mono=True)
    assert y.dtype == np.float32 and y.ndim == 1
    np.testing.assert_array_equal(y, ref)
    assert abs(y.size / SR - 2.0) < 0.1


def test_extract_file_reports_problems_as_rows(A, cfg, clips, tmp_path):
    ok = A.extract_file(clips["click90"], cfg)
    assert ok["status"] == "ok" and ok["error"] is None and ok["duration"] == pytest.approx(12.0, abs=0.01)
    assert ok["mfcc"].shape == (26,)
    (tmp_path / "bad.flac").write_bytes(b"fLaC" + bytes(200))
    bad = A.extract_file(tmp_path / "bad.flac", cfg)
    assert bad["status"] == "failed" and bad["error"].startswith("undecodable audio")
    assert "mfcc" not in bad and bad["duration"] is None
    import soundfile as sf

    sf.write(str(tmp_path / "quiet.wav"), np.full(2 * SR, 1e-4, dtype=np.float32), SR, subtype="FLOAT")
    quiet = A.extract_file(tmp_path / "quiet.wav", cfg)
    assert quiet["status"] == "failed" and quiet["error"] == "silent (RMS -80.0 dBFS < -60 dBFS)"
    assert quiet["duration"] == pytest.approx(2.0)
