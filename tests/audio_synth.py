"""Real audio with known content for the audio-feature tests and benchmark, made offline.

MIDI is rendered to audio with FluidSynth (Debian ``fluidsynth``) and the General MIDI soundfont
of Debian's ``fluid-soundfont-gm``; click tracks are synthesized with numpy.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

#: Triads with the root in the bass (MIDI pitches), for the progression tests.
TRIADS = {
    "C": (48, 60, 64, 67), "F": (41, 60, 65, 69), "G": (43, 59, 62, 67), "Am": (45, 60, 64, 69),
    "Dm": (38, 62, 65, 69),
}
PROGRESSION = ("C", "F", "G", "C", "Am", "Dm", "G", "C")


def fluidsynth_available() -> bool:
    return shutil.which("fluidsynth") is not None and SOUNDFONT.is_file()


def render_midi(midi_path: Path, wav_path: Path, sr: int = 22050) -> Path:
    """Render a MIDI file to a WAV with the FluidSynth command-line synthesizer."""
    if not fluidsynth_available():
        raise RuntimeError("FluidSynth or the GM soundfont is missing: run `bash .ci/install-audio`")
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", "1.0", "-r", str(sr), "-F", str(wav_path),
                    str(SOUNDFONT), str(midi_path)], check=True, capture_output=True, timeout=120)
    return wav_path


def _pretty_midi():
    import pretty_midi

    return pretty_midi


def chord_midi(chords: Sequence[Sequence[int]], seconds_each: float, path: Path, program: int = 0,
               transpose: int = 0, drums_bpm: float | None = None) -> Path:
    """Block chords (MIDI pitches), one every ``seconds_each`` seconds, optionally over a drum beat."""
    pm_mod = _pretty_midi()
    pm = pm_mod.PrettyMIDI(initial_tempo=120)
    inst = pm_mod.Instrument(program=program)
    t = 0.0
    for chord in chords:
        for p in chord:
            inst.notes.append(pm_mod.Note(velocity=90, pitch=p + transpose, start=t,
                                          end=t + seconds_each * 0.95))
        t += seconds_each
    pm.instruments.append(inst)
    if drums_bpm:
        pm.instruments.append(_drums(pm_mod, drums_bpm, t))
    pm.write(str(path))
    return path


def _drums(pm_mod, bpm: float, seconds: float):
    drum = pm_mod.Instrument(program=0, is_drum=True)
    period = 60.0 / bpm
    for i in range(int(seconds / period)):
        # kick on beats 1 and 3, snare on 2 and 4: one onset per beat
        drum.notes.append(pm_mod.Note(velocity=110, pitch=36 if i % 2 == 0 else 38,
                                      start=i * period, end=i * period + 0.1))
    return drum


def drum_midi(bpm: float, seconds: float, path: Path) -> Path:
    """A kick/snare pattern with one hit per beat at ``bpm``."""
    pm_mod = _pretty_midi()
    pm = pm_mod.PrettyMIDI(initial_tempo=bpm)
    pm.instruments.append(_drums(pm_mod, bpm, seconds))
    pm.write(str(path))
    return path


def click_track(bpm: float, seconds: float, sr: int = 22050, accent_every: int = 4) -> np.ndarray:
    """Clicks (20 ms decaying 1 kHz bursts) every beat, accented every ``accent_every`` beats."""
    y = np.zeros(int(seconds * sr), dtype=np.float32)
    n = int(0.02 * sr)
    t = np.arange(n) / sr
    burst = np.sin(2 * np.pi * 1000 * t) * np.exp(-t / 0.004)
    period = 60.0 / bpm
    for i in range(int(seconds / period)):
        start = int(round(i * period * sr))
        gain = 0.9 if i % accent_every == 0 else 0.5
        seg = y[start:start + n]
        seg += (gain * burst[: seg.size]).astype(np.float32)
    return y


def write_wav(path: Path, y: np.ndarray, sr: int = 22050) -> Path:
    sf.write(str(path), y, sr)
    return path
