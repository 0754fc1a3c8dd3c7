"""Fault cases of the result writer (issue 12 item 12): a result set appears whole or not at all.

Subprocess-level where it is about signals and exit codes.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aria.errors import AriaInputError
from aria.io.atomic import clean_stale
from aria.io.output import check_out_dir, check_out_file, write_result_set

ROOT = Path(__file__).resolve().parents[2]


def run_aria(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("ARIA_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "aria", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


class Unwritable:
    """A table whose writing fails half-way (like a full disk on the last file)."""

    def to_csv(self, *a, **k):
        raise OSError(28, "No space left on device")


def test_failed_later_write_leaves_nothing(tmp_path, monkeypatch):
    import aria.io.output as output

    real = output.write_table
    calls = []

    def failing(path, frame):
        calls.append(Path(path).name)
        if Path(path).name == "second.csv":
            raise OSError(28, "No space left on device")
        return real(path, frame)

    monkeypatch.setattr(output, "write_table", failing)
    out = tmp_path / "res"
    with pytest.raises(OSError):
        write_result_set(out, {"first.csv": pd.DataFrame({"a": [1]}),
                               "second.csv": pd.DataFrame({"b": [2]}), "r.json": {"x": 1}})
    assert calls == ["first.csv", "second.csv"]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder left either


def test_existing_result_set_untouched_on_failure_and_replaced_on_success(tmp_path, monkeypatch):
    import aria.io.output as output

    out = tmp_path / "res"
    write_result_set(out, {"t.csv": pd.DataFrame({"a": [1, 2]}), "r.json": {"run": 1}})
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = output.write_json

    def failing(path, obj):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(output, "write_json", failing)
    with pytest.raises(OSError):
        write_result_set(out, {"t.csv": pd.DataFrame({"a": [3]}), "r.json": {"run": 2}})
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    monkeypatch.setattr(output, "write_json", real)
    (out / "keep.txt").write_text("user file")
    write_result_set(out, {"t.csv": pd.DataFrame({"a": [3]}), "r.json": {"run": 2}})
    assert pd.read_csv(out / "t.csv")["a"].tolist() == [3]
    assert (out / "keep.txt").read_text() == "user file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_output_paths_checked_before_work(tmp_path):
    scores = tmp_path / "s.npy"
    np.save(scores, np.random.default_rng(0).normal(size=(50, 6)))
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(AriaInputError, match="not a directory"):
        check_out_dir(tmp_path / "pipe", [scores])
    with pytest.raises(AriaInputError, match="not a regular file"):
        check_out_file(tmp_path / "pipe", [scores], "residual")
    with pytest.raises(AriaInputError, match="is a directory"):
        check_out_file(tmp_path, [scores], "residual")
    with pytest.raises(AriaInputError, match="one of the inputs"):
        check_out_file(scores, [scores], "residual")
    with pytest.raises(AriaInputError, match="one of the inputs"):
        check_out_dir(tmp_path, [tmp_path])
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(AriaInputError, match="cannot write"):
                check_out_file(ro / "sub" / "r.npy", [scores], "residual")
        finally:
            ro.chmod(0o700)


def test_bad_residual_path_fails_before_the_pass(tmp_path):
    np.save(tmp_path / "s.npy", np.random.default_rng(1).normal(size=(200, 12)))
    (tmp_path / "adir").mkdir()
    res = run_aria("diagnose", "s.npy", "--residual", "adir", "--out", "out", cwd=tmp_path)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert lines[0].startswith("aria: error: --residual:") and ".part" not in lines[0]
    assert "aria-tmp" not in lines[0]
    assert not (tmp_path / "out").exists()


def test_stale_cleanup_only_removes_dead_owners(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = os.getppid()
    (tmp_path / f".aria-tmp-{dead.pid}-r.npy.abc.part").write_bytes(b"x" * 100)
    (tmp_path / f".aria-tmp-{dead.pid}-out.xyz").mkdir()
    (tmp_path / f".aria-tmp-{live}-r.npy.abc.part").write_bytes(b"x")
    (tmp_path / ".other.part").write_bytes(b"x")
    # names no Aria process wrote (pid 0, a pid beyond any system's): kept, never an error
    odd = [".aria-tmp-0-x.", ".aria-tmp-99999999999999999999-x."]
    for name in odd:
        (tmp_path / name).write_bytes(b"x")
    removed = sorted(p.name for p in clean_stale(tmp_path))
    assert removed == sorted([f".aria-tmp-{dead.pid}-r.npy.abc.part", f".aria-tmp-{dead.pid}-out.xyz"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".aria-tmp-{live}-r.npy.abc.part", ".other.part", *odd])


def test_sigkill_during_residual_leaves_no_result_and_is_cleaned(tmp_path):
    # big enough that the residual pass takes a moment; killed as soon as its temp file appears
    rng = np.random.default_rng(2)
    np.save(tmp_path / "s.npy", rng.normal(size=(60_000, 200)).astype(np.float32))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "aria", "diagnose", "s.npy", "--residual", "r.npy",
                             "--out", "out", "--block-rows", "512"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    part = []
    while time.monotonic() < deadline and proc.poll() is None:
        part = list(tmp_path.glob(".aria-tmp-*residual*")) + list(tmp_path.glob(".aria-tmp-*r.npy*"))
        if part:
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip("the run finished before it could be killed (machine too fast)")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert part, "no recognisable temporary residual file"
    assert not (tmp_path / "r.npy").exists() and not (tmp_path / "out").exists()
    # the next run (here one that fails fast on bad input) removes the dead run's leftovers
    res = run_aria("diagnose", "missing.npy", "--residual", "r.npy", cwd=tmp_path)
    assert res.returncode == 2
    assert not list(tmp_path.glob(".aria-tmp-*")), list(tmp_path.iterdir())


def test_staged_result_set_with_subfolders_into_existing_out(tmp_path):
    from aria.io.output import staged_result_set

    out = tmp_path / "rep"
    out.mkdir()
    (out / "old.txt").write_text("kept")
    with staged_result_set(out) as stage:
        (stage / "figures").mkdir()
        (stage / "figures" / "f.svg").write_text("<svg/>")
        (stage / "report.html").write_text("<html/>")
    assert (out / "figures" / "f.svg").read_text() == "<svg/>"
    assert (out / "report.html").read_text() == "<html/>"
    assert (out / "old.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]
    with pytest.raises(KeyboardInterrupt), staged_result_set(out) as stage:
        (stage / "report.html").write_text("half")
        raise KeyboardInterrupt
    assert (out / "report.html").read_text() == "<html/>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]
