"""Helpers of the fault-injection suite: run ``aria`` in a subprocess, bounded in time, and check
that no process it started outlives it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def aria_cmd(*args: object) -> list[str]:
    return [sys.executable, "-m", "aria", *map(str, args)]


def run(cmd: Sequence[str], *, timeout: float = 180, env: dict | None = None,
        **kw) -> subprocess.CompletedProcess:
    """Run a command to completion (killed after ``timeout`` seconds), capturing text output."""
    return subprocess.run(list(cmd), cwd=ROOT, env=env or ENV, capture_output=True, text=True,
                          timeout=timeout, **kw)


def without_file_capabilities() -> list[str]:
    """Command prefix under which file permissions apply (also to root), or skip the test.

    As root, ``chmod 000`` does not stop reads (CAP_DAC_OVERRIDE); ``setpriv`` drops that
    capability for the child only.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def assert_all_gone(procs: Iterable[psutil.Process], timeout: float = 20.0) -> None:
    """Every process in ``procs`` exits within ``timeout`` seconds (else they are killed and the
    test fails, naming them)."""
    procs = list(procs)
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    alive = [p for p in alive if _really_alive(p)]
    names = [f"{p.pid} {_cmdline(p)}" for p in alive]
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    assert not alive, f"processes outlived their parent: {names}"


def _really_alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _cmdline(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())[:200]
    except psutil.Error:
        return "?"


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    """Poll ``predicate`` until true; fail after ``timeout`` seconds or if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the process exited ({proc.returncode}) before {what}: {err[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def write_midi(path: Path, k: int = 0, n: int = 16) -> Path:
    """A small one-part MIDI file (``n`` overlapping notes), different for each ``k``."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=0)
    inst.notes += [pretty_midi.Note(velocity=40 + (7 * i) % 80, pitch=60 + (k + i) % 12, start=i * .25,
                                    end=i * .25 + .5) for i in range(n)]
    pm.instruments.append(inst)
    pm.write(str(path))
    return path
