"""Benchmark of audio feature extraction (run by hand, not by pytest).

    python benchmarks/bench_features_audio.py [--n 50] [--cache /tmp/aria-bench-audio] [--json OUT]

Tracks: ``n`` 30-second MP3s (44.1 kHz stereo, like FMA), rendered with FluidSynth and the GM
soundfont: half generated chord progressions over drums (seeded: tempo, key, instrument), half
pieces of music21's corpus (rendered, looped to 30 s). They are cached, so later runs reuse them.

Measures, on the same files:
1. the shared-intermediate pipeline (one decode, shared mel spectrogram, chroma -> tonnetz),
   seconds per track per feature, in channel-set order (a feature that first needs a shared
   intermediate pays for it);
2. each library function called separately on the file, as one would without Aria
   (``BeatNet.process(path)``, ``Chordino().extract(path)``, ``librosa.load`` + one librosa
   feature at a time; ``tonnetz(y)`` recomputing the chroma);
3. end-to-end batch extraction (``run_audio_table``) with 1 and 2 worker processes;
and projects the time for 100,000 tracks. Load averages are printed: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

SR_FILE = 44100
SECONDS = 30.0


def _generated_midi(i: int, path: Path) -> None:
    import pretty_midi

    rng = np.random.default_rng(1000 + i)
    bpm = float(rng.integers(70, 161))
    key = int(rng.integers(0, 12))
    program = int(rng.choice([0, 4, 19, 24, 48, 52, 80, 88]))
    degrees = [(0, "maj"), (5, "maj"), (7, "maj"), (9, "min"), (2, "min"), (4, "min")]
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    inst = pretty_midi.Instrument(program=program)
    bass = pretty_midi.Instrument(program=33)
    beat = 60.0 / bpm
    t = 0.0
    while t < SECONDS:
        deg, quality = degrees[int(rng.integers(0, len(degrees)))]
        root = 48 + (key + deg) % 12
        third = 3 if quality == "min" else 4
        dur = beat * float(rng.choice([2, 4]))
        for p in (root, root + third + 12, root + 19):
            inst.notes.append(pretty_midi.Note(velocity=85, pitch=p, start=t, end=t + dur * 0.95))
        bass.notes.append(pretty_midi.Note(velocity=95, pitch=root - 12, start=t, end=t + dur * 0.9))
        t += dur
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    for k in range(int(SECONDS / beat * 2)):
        s = k * beat / 2
        drums.notes.append(pretty_midi.Note(velocity=70, pitch=42, start=s, end=s + 0.05))
        if k % 2 == 0:
            drums.notes.append(pretty_midi.Note(velocity=110, pitch=36 if (k // 2) % 2 == 0 else 38,
                                                start=s, end=s + 0.1))
    pm.instruments += [inst, bass, drums]
    pm.write(str(path))


def build_tracks(n: int, cache: Path) -> list[Path]:
    """Render (once) ``n`` 30-second MP3 tracks into ``cache``."""
    import audio_synth
    import soundfile as sf

    cache.mkdir(parents=True, exist_ok=True)
    n_gen = n - n // 2
    midis: list[tuple[str, Path]] = []
    for i in range(n_gen):
        mid = cache / f"gen{i:03d}.mid"
        if not mid.exists():
            _generated_midi(i, mid)
        midis.append((f"gen{i:03d}", mid))
    if n // 2:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from corpus_midi import build

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            corpus = build(n // 2, cache / "corpus")
        midis += [(f"corpus{i:03d}_{p.stem}", p) for i, p in enumerate(corpus)]
    out = []
    for name, mid in midis:
        mp3 = cache / f"{name}.mp3"
        if not mp3.exists():
            wav = cache / f"{name}.wav"
            audio_synth.render_midi(mid, wav, sr=SR_FILE)
            y, sr = sf.read(str(wav), dtype="float32", always_2d=True)
            y = y / max(1e-6, float(np.max(np.abs(y)))) * 0.9
            need = int(SECONDS * sr)
            reps = int(np.ceil(need / max(1, len(y))))
            y = np.concatenate([y] * reps)[:need]
            sf.write(str(mp3), y, sr, format="MP3")
            wav.unlink()
        out.append(mp3)
    return out


def load_info() -> str:
    la = os.getloadavg()
    return f"load average {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f} on {os.cpu_count()} CPUs"


class _Clock:
    """Wall-clock and CPU (this process) seconds, accumulated per key."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def run(self, key: str, fn, *args):
        w, c = time.perf_counter(), time.process_time()
        out = fn(*args)
        self.wall[key] = self.wall.get(key, 0.0) + time.perf_counter() - w
        self.cpu[key] = self.cpu.get(key, 0.0) + time.process_time() - c
        return out


def make_shared():
    """One file through the shared pipeline, timed per stage (a stage that first needs a shared
    intermediate pays for it)."""
    from aria.features.extract import audio as A
    from aria.features.extract.audio_io import decode_audio

    cfg = A.load_audio_config()
    A.warm_up(cfg)

    def run(f: Path, clock: _Clock) -> None:
        y = clock.run("decode", decode_audio, f, cfg.sample_rate)
        an = A.AudioAnalysis(y, cfg.sample_rate, cfg.hop_length, f)
        for s in cfg.specs:
            clock.run(s.name, A.EXTRACTORS[s.extractor], an, s.params, cfg)
    return run


def make_separate():
    """One file through each library function called on its own, from the file."""
    import librosa

    from aria.features.extract import _audio_compat as compat

    beatnet = compat.beatnet_class()
    compat.chordino_plugin()
    import torch
    from chord_extractor.extractors import Chordino

    torch.set_num_threads(1)
    sr = 22050

    def beats(p):
        return beatnet(1, mode="offline", inference_model="DBN", plot=[], thread=False).process(str(p))

    def onsets(p):
        y, _ = librosa.load(p, sr=sr)
        return librosa.onset.onset_detect(y=y, sr=sr, units="time")

    def chroma(p):
        y, _ = librosa.load(p, sr=sr)
        return librosa.feature.chroma_cqt(y=y, sr=sr).mean(axis=1)

    def tonnetz(p):
        y, _ = librosa.load(p, sr=sr)
        return librosa.feature.tonnetz(y=y, sr=sr).mean(axis=1)

    def chords(p):
        return Chordino(roll_on=1).extract(str(p))

    def mfcc(p):
        y, _ = librosa.load(p, sr=sr)
        m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13)
        return np.r_[m.mean(axis=1), m.std(axis=1)]

    def cqt(p):
        y, _ = librosa.load(p, sr=sr)
        c = librosa.amplitude_to_db(np.abs(librosa.cqt(y, sr=sr, n_bins=84, bins_per_octave=12)), ref=np.max)
        return np.r_[c.mean(axis=1), c.std(axis=1)]

    funcs = {"beat_interval_hist": beats, "onset_interval_hist": onsets, "chroma": chroma,
             "tonnetz": tonnetz, "chord_progression": chords, "mfcc": mfcc, "cqt": cqt}

    def run(f: Path, clock: _Clock) -> None:
        for name, fn in funcs.items():
            clock.run(name, fn, f)
    return run


def bench_pipelines(files: list[Path]) -> tuple[_Clock, _Clock]:
    """Shared pipeline and separate calls, alternating file by file (same machine state)."""
    from aria.features.extract.audio_batch import _single_threaded_blas

    shared, separate = make_shared(), make_separate()
    warm = _Clock()
    shared(files[0], warm)
    separate(files[0], warm)  # warm-up (numba, torch) outside the timing
    cs, cx = _Clock(), _Clock()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, f in enumerate(files):
            with _single_threaded_blas():
                if i % 2 == 0:
                    shared(f, cs)
                    separate(f, cx)
                else:
                    separate(f, cx)
                    shared(f, cs)
    return cs, cx


def bench_batch(files: list[Path], workers: int, out: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process plus its finished workers) of a whole batch run,
    pool start-up and warm-up included."""
    import resource

    from aria.features.extract.audio import load_audio_config
    from aria.features.extract.audio_batch import run_audio_table
    from aria.features.extract.batch import Item

    def cpu() -> float:
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    items = [Item(id=f.stem, path=str(f)) for f in files]
    t, c = time.perf_counter(), cpu()
    res = run_audio_table(items, load_audio_config(), out=out, workers=workers)
    elapsed, used = time.perf_counter() - t, cpu() - c
    assert res.n_ok == len(files), res.table.column("error").to_pylist()
    return elapsed, used


def _spin(n: int) -> int:
    x = 0
    for i in range(n):
        x += i
    return x


def available_parallelism(n: int = 30_000_000) -> float:
    """Speed-up of two CPU-bound processes over one on this machine right now (2.0 when idle).

    A control for the worker measurement: when other jobs hold the cores, no number of workers
    can go faster than this.
    """
    import multiprocessing as mp

    walls = []
    for w in (1, 2):
        t = time.perf_counter()
        with mp.get_context("fork").Pool(w) as pool:
            pool.map(_spin, [n, n])
        walls.append(time.perf_counter() - t)
    return walls[0] / walls[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/aria-bench-audio"))
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--skip-separate", action="store_true")
    args = ap.parse_args()

    t = time.perf_counter()
    files = build_tracks(args.n, args.cache)
    print(f"{len(files)} tracks ready in {time.perf_counter() - t:.1f} s ({args.cache})", flush=True)
    report: dict = {"n_tracks": len(files), "seconds_per_track_audio": SECONDS, "load": {}}

    report["load"]["before"] = load_info()
    n = len(files)
    if not args.skip_separate:
        print("shared pipeline and separate calls, alternating ...", load_info(), flush=True)
        cs, cx = bench_pipelines(files)
        report["shared_s_per_track"] = {k: v / n for k, v in cs.wall.items()}
        report["shared_cpu_s_per_track"] = {k: v / n for k, v in cs.cpu.items()}
        report["separate_s_per_track"] = {k: v / n for k, v in cx.wall.items()}
        report["separate_cpu_s_per_track"] = {k: v / n for k, v in cx.cpu.items()}
        for kind in ("", "cpu_"):
            sh = sum(report[f"shared_{kind}s_per_track"].values())
            se = sum(report[f"separate_{kind}s_per_track"].values())
            report[f"shared_{kind}total"], report[f"separate_{kind}total"] = sh, se
            report[f"speedup_shared_vs_separate_{kind or 'wall'}".rstrip("_")] = se / sh
        report["load"]["after_pipelines"] = load_info()
    runs: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    loads: dict[int, list[str]] = {1: [], 2: []}
    controls = []
    for w in (1, 2, 2, 1):  # ABBA: load drift affects both equally
        controls.append(available_parallelism())
        loads[w].append(load_info())
        print(f"batch, {w} worker(s) ...", loads[w][-1], flush=True)
        wall, cpu = bench_batch(files, w, args.cache / f"bench_w{w}.parquet")
        runs[w].append(wall)
        cpus[w].append(cpu)
    for w in (1, 2):
        report[f"batch_w{w}_s"] = runs[w]
        report[f"batch_w{w}_cpu_s"] = cpus[w]
        report[f"batch_w{w}_load_before"] = loads[w]
        report[f"batch_w{w}_s_per_track"] = min(runs[w]) / n
        # cores this run actually obtained: CPU seconds / wall seconds (2 would be an idle machine)
        report[f"batch_w{w}_cores_obtained"] = [c / r for c, r in zip(cpus[w], runs[w], strict=True)]
    report["speedup_2_vs_1_workers"] = min(runs[1]) / min(runs[2])
    report["control_2_process_spin_speedup"] = controls
    report["projected_100k_hours_w1"] = report["batch_w1_s_per_track"] * 100_000 / 3600
    report["projected_100k_hours_w2"] = report["batch_w2_s_per_track"] * 100_000 / 3600
    report["load"]["after"] = load_info()

    print(json.dumps(report, indent=2))
    if "shared_s_per_track" in report:
        print("\n| feature | shared wall | shared CPU | separate wall | separate CPU |")
        print("|---|---|---|---|---|")
        for k in report["shared_s_per_track"]:
            sx = report["separate_s_per_track"].get(k)
            sc = report["separate_cpu_s_per_track"].get(k)
            sw, scpu = report["shared_s_per_track"][k], report["shared_cpu_s_per_track"][k]
            print(f"| {k} | {sw:.3f} | {scpu:.3f} "
                  f"| {'' if sx is None else f'{sx:.3f}'} | {'' if sc is None else f'{sc:.3f}'} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
