"""The remaining commands on a dask cluster: feature extraction, homogeneity CLI, compare (LDS), report.

Each result is checked against the single-process run of the same inputs (itself tested against
independent computations in tests/features, tests/groups, tests/evaluate): feature tables bit for bit,
homogeneity bit for bit, diagnostics and LDS to 1e-12 (the partials are merged in a different order).
"""

import json
import logging
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import aria
from aria.cli import main
from aria.evaluate.pipeline import compare_files
from aria.features.extract import symbolic
from aria.features.extract.batch import shard_dir_for
from aria.io.output import json_safe
from aria.report import make_report

distributed = pytest.importorskip("distributed")

R = 40
FEATURES = str(aria.examples.features_path())


@pytest.fixture(scope="module")
def chorales(tmp_path_factory):
    """Ten Bach chorales written to MIDI (the inputs of the shipped feature table) and one broken file."""
    pytest.importorskip("music21")
    from aria.examples.bach import write_chorale_midis

    d = tmp_path_factory.mktemp("chorales")
    assert len(write_chorale_midis(d, limit=10)) >= 8
    (d / "zz-broken.mid").write_bytes(b"MThd not really a MIDI file")
    return d


@pytest.fixture(scope="module")
def reference(chorales, tmp_path_factory):
    """``aria features symbolic --workers 1``: the table every cluster run must reproduce."""
    out = tmp_path_factory.mktemp("ref") / "ref.parquet"
    assert main(["features", "symbolic", str(chorales), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    return out


def _slow_item(item, params):
    """The symbolic extractor, slowed down so that a run is still going when a worker is killed.

    Runs on the workers only, where ``symbolic.extract_item`` is the real one (the test patches
    it in the client process, which only sends this function by value).
    """
    from aria.features.extract import symbolic as on_worker

    time.sleep(0.3)
    return on_worker.extract_item(item, params)


def _same_table(a: Path, b: Path) -> None:
    ta, tb = pq.read_table(a), pq.read_table(b)
    assert ta.equals(tb) and ta.schema.metadata == tb.schema.metadata
    assert a.read_bytes() == b.read_bytes()


def test_symbolic_cli_on_the_cluster_writes_the_one_worker_table(chorales, reference, tmp_path, cluster):
    out = tmp_path / "f.parquet"
    argv = ["features", "symbolic", str(chorales), "--out", str(out), "--shard-size", "3", "--quiet",
            "--scheduler", cluster.scheduler_address]
    assert main(argv) == 0
    _same_table(reference, out)
    status = pq.read_table(out).column("status").to_pylist()
    assert status.count("failed") == 1 and status[-1] == "failed" and len(status) >= 9
    prov = json.loads(out.with_name(out.name + ".provenance.json").read_text())
    assert prov["parameters"]["scheduler"] == {"kind": "address", "workers": None,
                                               "address": cluster.scheduler_address}


def test_interrupted_cluster_run_resumes_from_its_shards(chorales, reference, tmp_path, client):
    out = tmp_path / "f.parquet"
    seen: list[int] = []

    def stop_after_five(n):
        seen.append(n)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        symbolic.extract_symbolic(chorales, out=out, shard_size=2, client=client, progress=stop_after_five)
    shards = sorted(shard_dir_for(out).glob("shard-*.parquet"))
    kept = [t for s in shards for t in pq.read_table(s).column("track").to_pylist()]
    assert not out.exists() and kept == pq.read_table(reference).column("track").to_pylist()[:4]
    computed: list[int] = []
    symbolic.extract_symbolic(chorales, out=out, shard_size=2, client=client, resume=True,
                              progress=computed.append)
    assert sum(computed) == pq.read_metadata(reference).num_rows - 4  # the 4 kept rows are not redone
    _same_table(reference, out)


def test_killed_worker_files_are_rerun(chorales, reference, tmp_path, monkeypatch):
    import cloudpickle

    monkeypatch.setattr(symbolic, "extract_item", _slow_item)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # _slow_item travels to the workers
    out = tmp_path / "f.parquet"
    killed: list[int] = []
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", silence_logs=logging.CRITICAL) as cl, \
                distributed.Client(cl) as c:
            victim = sorted(c.run(os.getpid).values())[0]

            def kill_at_first_rows(n):
                if not killed:  # one file done, the others queued or running on both workers
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)

            symbolic.extract_symbolic(chorales, out=out, client=c, progress=kill_at_first_rows)
            assert victim not in c.run(os.getpid).values()
            lost = [e[0] for e in cl.scheduler.transition_log  # tasks running on the victim when it died
                    if e[0].startswith("_run_chunk_with") and e[1:3] == ("processing", "released")]
            assert lost  # ... were rerun elsewhere: the table below has their rows
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert killed == [victim]
    _same_table(reference, out)


@pytest.mark.audio
def test_audio_on_the_cluster_equals_one_worker(tmp_path, client):
    from aria.features.extract.audio import check_audio_stack, load_audio_config
    from aria.features.extract.audio_batch import run_audio_batch

    try:
        check_audio_stack(load_audio_config())
    except aria.AriaError as exc:
        pytest.skip(str(exc))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import audio_synth

    for bpm in (84, 120, 140):
        audio_synth.write_wav(tmp_path / f"c{bpm}.wav", audio_synth.click_track(bpm, 4.0))
    ref = run_audio_batch([tmp_path], workers=1)
    got = run_audio_batch([tmp_path], client=client)
    assert (ref["status"] == "ok").all() and len(ref) == 3
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def _approx_equal(a, b, path="", rel=1e-12):
    """Recursive equality of two JSON values, numbers to ``rel``."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _approx_equal(a[k], b[k], f"{path}.{k}", rel)
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _approx_equal(x, y, f"{path}[{i}]", rel)
    elif isinstance(a, float) and isinstance(b, float):
        assert b == pytest.approx(a, rel=rel, abs=1e-14, nan_ok=True), path
    else:
        assert a == b, path


def test_homogeneity_cli_on_the_cluster_is_bit_identical(tmp_path, capsys, cluster):
    argv = ["homogeneity", "--example", "bach-knn", "--features", FEATURES, "--channels", "symbolic",
            "--k", "5,10", "--null-groups", str(R), "--residual", "--no-cache", "--json"]
    assert main(argv) == 0
    ref = json.loads(capsys.readouterr().out)
    assert main([*argv, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "o")]) == 0
    got = json.loads(capsys.readouterr().out)
    ref.pop("elapsed_seconds"), got.pop("elapsed_seconds")
    assert got == ref and ref["verdict"] == "query-dependent"
    prov = json.loads((tmp_path / "o" / "provenance.json").read_text())
    assert prov["parameters"]["scheduler"]["address"] == cluster.scheduler_address


def test_compare_with_lds_on_the_cluster_equals_single_process(tmp_path, capsys, client, cluster):
    gt = aria.examples.ground_truth()
    gt_path = tmp_path / "gt.npz"
    np.savez(gt_path, subsets=gt.subsets, targets=gt.targets, query_ids=gt.query_ids)
    examples = ["bach-knn", "bach-random", "bach-collapsed"]
    ref = compare_files(examples=examples, features=FEATURES, null_groups=R, lds_gt=gt_path)
    argv = ["compare", *sum((["--example", e] for e in examples), []), "--features", FEATURES,
            "--null-groups", str(R), "--lds-gt", str(gt_path), "--json",
            "--scheduler", cluster.scheduler_address]
    assert main(argv) == 0
    expected = json_safe(ref.comparison.to_dict())
    _approx_equal(expected, json.loads(capsys.readouterr().out))
    assert [m["lds"] for m in expected["methods"]] != [None] * 3  # the LDS was computed
    got = compare_files(examples=examples, features=FEATURES, null_groups=R, lds_gt=gt_path, client=client,
                        out=tmp_path / "o")
    _approx_equal(expected, json_safe(got.comparison.to_dict()))
    assert got.provenance["parameters"]["scheduler"]["kind"] == "client"


def test_report_on_the_cluster_equals_single_process(tmp_path, client, cluster):
    kw = dict(examples=["bach-knn", "bach-collapsed"], null_groups=R, k=[5, 10], figures=False)
    ref = make_report(out=tmp_path / "ref", **kw)
    got = make_report(out=tmp_path / "got", client=client, **kw)
    for name in ref.diagnostics:
        _approx_equal(ref.diagnostics[name].to_dict(), got.diagnostics[name].to_dict())
    _approx_equal(ref.summaries, got.summaries, rel=1e-9)
    assert ref.summaries and ref.provenance["parameters"]["scheduler"] is None
    assert main(["report", "--example", "bach-collapsed", "--out", str(tmp_path / "cli"), "--no-figures",
                 "--null-groups", str(R), "--scheduler", cluster.scheduler_address]) == 0
    prov = json.loads((tmp_path / "cli" / "provenance.json").read_text())
    assert prov["parameters"]["scheduler"]["address"] == cluster.scheduler_address


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(b"\0\0" * 22050)
    return path


def test_every_scheduler_flag_refuses_a_bad_address_in_one_line(tmp_path, capsys):
    wav = _wav(tmp_path / "a.wav")
    (tmp_path / "a.mid").write_bytes(b"MThd")
    out = str(tmp_path / "f.parquet")
    commands = {
        "homogeneity": ["homogeneity", "--example", "bach-knn", "--features", FEATURES, "--no-cache"],
        "compare": ["compare", "--example", "bach-knn"],
        "report": ["report", "--example", "collapsed", "--out", str(tmp_path / "r")],
        "features symbolic": ["features", "symbolic", str(tmp_path / "a.mid"), "--out", out],
        "features audio": ["features", "audio", str(wav), "--out", out],
    }
    for name, argv in commands.items():  # a malformed value: refused before any work
        assert main([*argv, "--scheduler", "nowhere:"]) == 2, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "expected local, local:N or HOST:PORT" in err, (name, err)
    runs = {name: subprocess.Popen([sys.executable, "-m", "aria", *argv, "--scheduler", "127.0.0.1:9"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, argv in commands.items()}
    for name, proc in runs.items():
        _, err = proc.communicate(timeout=300)
        if name == "features audio" and "audio stack" in err:
            continue  # the audio stack is not installed: refused before any cluster
        assert proc.returncode == 2, (name, err)
        assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in err, (name, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (name, err)
    assert not (tmp_path / "r").exists() and not Path(out).exists()


def test_workers_and_a_scheduler_together_are_refused_before_any_cluster(tmp_path, capsys):
    wav = _wav(tmp_path / "a.wav")
    (tmp_path / "a.mid").write_bytes(b"MThd")
    out = tmp_path / "f.parquet"
    for argv in (["features", "symbolic", str(tmp_path / "a.mid")], ["features", "audio", str(wav)]):
        # 127.0.0.1:9 is unreachable: the refusal must come first, naming the flag
        code = main([*argv, "--out", str(out), "--workers", "2", "--scheduler", "127.0.0.1:9"])
        err = capsys.readouterr().err
        if argv[1] == "audio" and "audio stack" in err:
            continue  # the audio stack is not installed: refused before anything else
        assert code == 2, err
        assert err == ("aria: error: --workers: give either a cluster or more than one worker process, "
                       "not both\n")
    assert not out.exists()
