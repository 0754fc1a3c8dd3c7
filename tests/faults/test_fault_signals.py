"""Issue 12 item 3: SIGTERM stops ``aria features`` like Ctrl-C (shards kept for --resume), and no
worker or resource tracker outlives ``aria``, even after SIGKILL. Subprocess-level, bounded in
time, every process checked with psutil."""

import contextlib
import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest
from faultkit import ENV, ROOT, aria_cmd, assert_all_gone, descendants, run, wait_for, write_midi

from aria.features.extract.batch import shard_dir_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SLOW = '''
import sys
import time

from aria.features.extract import symbolic

_extract = symbolic.extract_item


def slow_extract_item(item, params):
    time.sleep(0.25)
    return _extract(item, params)


def toy(item, params):
    time.sleep(0.25)
    with open(item.path) as fh:
        return {"total": [float(sum(map(float, fh.read().split())))]}


if __name__ == "__main__":
    if sys.argv[1] == "cli":  # aria's own command line, with a slow symbolic extractor
        symbolic.extract_item = slow_extract_item
        from aria.cli import main

        sys.exit(main(sys.argv[2:]))
    # the generic batch with a toy extractor: python slow.py batch DIR OUT START_METHOD
    from pathlib import Path

    from aria.features.extract.batch import Item, extract_table
    from aria.features.table import channelset_fingerprint, feature_specs, load_channelset
    from aria.features.table import table_metadata, table_schema

    cs = load_channelset({"name": "toy", "version": 1, "channels": {"c": {}},
                          "features": {"total": {"channel": "c", "kind": "vector", "dim": 1}}})
    specs = feature_specs(cs)
    schema = table_schema(specs, metadata=table_metadata(cs, channelset_fingerprint(cs, {})))
    items = [Item(p.stem, str(p)) for p in sorted(Path(sys.argv[2]).glob("*.txt"))]
    import slow

    extract_table(items, slow.toy, {}, specs=specs, schema=schema, out=sys.argv[3], workers=2,
                  shard_size=2, chunk_size=1, mp_context=sys.argv[4])
'''


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("signals")
    (d / "midi").mkdir()
    for k in range(48):
        write_midi(d / "midi" / f"s{k:02d}.mid", k)
    (d / "txt").mkdir()
    for k in range(48):
        (d / "txt" / f"t{k:02d}.txt").write_text(" ".join(str(k + i) for i in range(5)))
    (d / "slow.py").write_text(textwrap.dedent(SLOW))
    ref = d / "ref.parquet"
    res = run(aria_cmd("features", "symbolic", d / "midi", "--out", ref, "--no-progress"))
    assert res.returncode == 0, res.stderr
    return d


def _start(corpus, out, *args):
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(ROOT), str(corpus)])}
    return subprocess.Popen([sys.executable, str(corpus / "slow.py"), *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _start_cli(corpus, out):
    return _start(corpus, out, "cli", "features", "symbolic", corpus / "midi", "--out", out,
                  "--workers", "2", "--shard-size", "2", "--no-progress")


def _running_pool(proc, out, n_children=3):
    """Wait until ``proc`` has its children (2 workers, the resource tracker) and a first shard."""
    wait_for(lambda: len(descendants(proc.pid)) >= n_children
             and any(shard_dir_for(out).glob("shard-*.parquet")), 120, "workers and a first shard", proc)
    return descendants(proc.pid)


def _cleanup(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    for child in descendants(proc.pid):
        child.kill()
    proc.communicate(timeout=30)


def _resume_matches_reference(corpus, out):
    res = run(aria_cmd("features", "symbolic", corpus / "midi", "--out", out, "--resume", "--workers", "2",
                       "--no-progress"))
    assert res.returncode == 0, res.stderr
    assert "48 ok, 0 failed" in res.stdout
    assert out.read_bytes() == (corpus / "ref.parquet").read_bytes()
    assert not shard_dir_for(out).exists()


def test_sigterm_stops_like_ctrl_c_and_keeps_shards(corpus, tmp_path):
    out = tmp_path / "term.parquet"
    proc = _start_cli(corpus, out)
    try:
        children = _running_pool(proc, out)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)  # returns only once every holder of the pipes is gone
        assert proc.returncode == 130, stderr
        assert stderr.strip() == "aria: interrupted" and stdout == ""
        assert_all_gone(children)
    finally:
        _cleanup(proc)
    assert not out.exists()
    shards = list(shard_dir_for(out).glob("shard-*.parquet"))
    assert 1 <= len(shards) < 24, "the run was not stopped midway"
    assert not list(tmp_path.glob(".*.part")), "a temporary file was left behind"
    _resume_matches_reference(corpus, out)


def test_repeated_signals_do_not_cut_the_cleanup_short(corpus, tmp_path):
    """An impatient user: SIGTERM, then Ctrl-C twice on the group while the pool is stopping."""
    out = tmp_path / "again.parquet"
    proc = _start_cli(corpus, out)
    try:
        children = _running_pool(proc, out)
        proc.send_signal(signal.SIGTERM)
        for _ in range(2):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130
        assert stderr.strip() == "aria: interrupted", stderr
        assert_all_gone(children)
    finally:
        _cleanup(proc)
    _resume_matches_reference(corpus, out)


def test_sigkill_leaves_no_worker_and_no_resource_tracker(corpus, tmp_path):
    out = tmp_path / "kill.parquet"
    proc = _start_cli(corpus, out)
    try:
        children = _running_pool(proc, out)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "resource_tracker" in names  # the spawn pool started one: it must go too
        proc.kill()
        proc.communicate(timeout=60)  # the caller's pipes are released
        assert proc.returncode == -signal.SIGKILL
        assert_all_gone(children)
    finally:
        _cleanup(proc)
    _resume_matches_reference(corpus, out)


def test_ctrl_c_on_the_process_group(corpus, tmp_path):
    """A terminal's Ctrl-C reaches every process of the group: workers ignore it, aria stops them."""
    out = tmp_path / "int.parquet"
    proc = _start_cli(corpus, out)
    try:
        children = _running_pool(proc, out)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130
        assert stderr.strip() == "aria: interrupted", stderr  # no traceback from any worker
        assert_all_gone(children)
    finally:
        _cleanup(proc)
    _resume_matches_reference(corpus, out)


@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_generic_pool_dies_with_its_parent(corpus, tmp_path, method):
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    out = tmp_path / "toy.parquet"
    proc = _start(corpus, out, "batch", corpus / "txt", out, method)
    try:
        children = _running_pool(proc, out, 2 if method == "fork" else 3)  # fork: no tracker
        workers = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
        assert len(workers) >= 2
        proc.kill()
        proc.communicate(timeout=60)
        assert_all_gone(children)
    finally:
        _cleanup(proc)
    assert shard_dir_for(out).is_dir() and not out.exists()


def test_worker_whose_pool_owner_is_gone_exits_at_once():
    """The race no signal covers: the owner died before the worker's initializer ran."""
    from aria.io.atomic import pid_alive

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    wait_for(lambda: psutil.Process(gone.pid).status() == psutil.STATUS_ZOMBIE, 60, "the child to exit")
    assert not pid_alive(gone.pid)  # killed but not reaped (a zombie) counts as gone
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "from aria.features.extract.batch import _init_worker;"
            "_init_worker(None, {}, int(sys.argv[2])); print('survived')")
    res = subprocess.run([sys.executable, "-c", code, str(ROOT), str(gone.pid)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 1 and "survived" not in res.stdout
    gone.wait()
    assert not pid_alive(gone.pid)
    # while the owner is alive the worker carries on
    alive = subprocess.run([sys.executable, "-c", code, str(ROOT), str(os.getpid())], capture_output=True,
                           text=True, timeout=60)
    assert alive.returncode == 0 and "survived" in alive.stdout


def test_psutil_sees_this_process():  # the suite's own premise
    assert psutil.Process(os.getpid()).is_running()
