"""Fault cases of the input gate (issue 12: items 1, 7, 9, 11), run as the user runs them.

Each case runs ``python -m aria`` in a subprocess and checks the exit code (2 = bad input) and
that stderr is exactly one ``aria: error:`` line, never a traceback, never a hang.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_aria(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("ARIA_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "aria", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def assert_one_line_error(res: subprocess.CompletedProcess, *needles: str) -> str:
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("aria: error: "), res.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


# --- item 1: a zarr store with a pickle codec must not run its payload --------------------------

PAYLOAD_BUILDER = r'''
import json, os, sys
import numpy as np, numcodecs, xarray as xr
store, marker = sys.argv[1], sys.argv[2]
ds = xr.Dataset({"scores": (("segment", "query"), np.random.default_rng(0).normal(size=(30, 5)))},
                coords={"query": [f"q{i}" for i in range(5)]})
ds.to_zarr(store, zarr_format=2, mode="w", consolidated=False)
meta_path = os.path.join(store, "query", ".zarray")
with open(meta_path) as f:
    meta = json.load(f)
meta.update(dtype="|O", filters=[numcodecs.Pickle().get_config()], compressor=None)
with open(meta_path, "w") as f:
    json.dump(meta, f)

class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {marker}",))

values = np.empty(5, dtype=object)
values[:] = [Payload()] + [f"q{i}" for i in range(1, 5)]
with open(os.path.join(store, "query", "0"), "wb") as f:
    f.write(numcodecs.Pickle().encode(values))
'''


def _build_pickle_store(tmp_path: Path, consolidate: bool = False) -> tuple[Path, Path]:
    pytest.importorskip("zarr")
    pytest.importorskip("numcodecs")
    store, marker = tmp_path / "s.zarr", tmp_path / "MARKER"
    subprocess.run([sys.executable, "-c", PAYLOAD_BUILDER, str(store), str(marker)], check=True,
                   timeout=120)
    if consolidate:  # a v2 consolidated .zmetadata that repeats the pickle filter
        entries = {}
        for meta in store.rglob(".z*"):
            if meta.name in (".zarray", ".zattrs", ".zgroup"):
                entries[str(meta.relative_to(store))] = json.loads(meta.read_text())
        (store / ".zmetadata").write_text(json.dumps({"zarr_consolidated_format": 1,
                                                      "metadata": entries}))
    # the builder's payload is real: unpickling the chunk would create the marker
    assert not marker.exists()
    return store, marker


def test_pickle_codec_payload_never_runs(tmp_path):
    store, marker = _build_pickle_store(tmp_path)
    res = run_aria("diagnose", str(store), cwd=tmp_path)
    assert_one_line_error(res, "pickle", ".zarray")
    assert not marker.exists()
    # control: the chunk does run code when unpickled (so the test above can fail)
    import pickle

    pickle.loads((store / "query" / "0").read_bytes())  # what numcodecs.Pickle.decode runs
    assert marker.exists()


def test_pickle_codec_in_consolidated_metadata_refused(tmp_path):
    store, marker = _build_pickle_store(tmp_path, consolidate=True)
    # remove the per-array file: only .zmetadata names the codec
    (store / "query" / ".zarray").unlink()
    res = run_aria("diagnose", str(store), cwd=tmp_path)
    assert_one_line_error(res, "pickle", ".zmetadata")
    assert not marker.exists()


def test_zarr_v3_object_codecs_refused(tmp_path):
    from aria.errors import AriaInputError
    from aria.io.validate import check_zarr_store

    node = tmp_path / "v3.zarr" / "query"
    node.mkdir(parents=True)
    meta = {"zarr_format": 3, "node_type": "array", "data_type": "float64",
            "codecs": [{"name": "sharding_indexed", "configuration": {
                "codecs": [{"name": "numcodecs.pickle", "configuration": {}}]}}]}
    (node / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(AriaInputError, match="pickle"):
        check_zarr_store(node.parent)
    meta = {"zarr_format": 3, "node_type": "array", "data_type": "object",
            "codecs": [{"name": "bytes"}]}
    (node / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(AriaInputError, match="objects"):
        check_zarr_store(node.parent)


def test_plain_zarr_stores_still_read(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("zarr")
    import aria

    s = np.random.default_rng(3).normal(size=(40, 6))
    ds = xr.Dataset({"scores": (("segment", "query"), s)},
                    coords={"query": [f"q{i}" for i in range(6)]})
    for fmt in (2, 3):
        p = tmp_path / f"ok{fmt}.zarr"
        ds.to_zarr(p, zarr_format=fmt, mode="w")
        da = aria.load_scores(p)
        np.testing.assert_array_equal(np.asarray(da.values), s)
        assert list(da.coords["query"].values) == [f"q{i}" for i in range(6)]
    # zarr 2's vlen-utf8 object strings are plain strings: accepted
    from aria.io.validate import check_zarr_store

    node = tmp_path / "vlen.zarr" / "query"
    node.mkdir(parents=True)
    (node / ".zarray").write_text(json.dumps({"zarr_format": 2, "dtype": "|O",
                                              "filters": [{"id": "vlen-utf8"}],
                                              "compressor": {"id": "blosc"}}))
    check_zarr_store(node.parent)


def test_zarr_warning_not_on_stderr(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("zarr")
    s = np.random.default_rng(4).normal(size=(40, 6))
    xr.Dataset({"scores": (("segment", "query"), s)}).to_zarr(
        tmp_path / "plain.zarr", zarr_format=2, consolidated=False)
    res = run_aria("diagnose", "plain.zarr", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "RuntimeWarning" not in res.stderr and "consolidated" not in res.stderr


# --- item 7: compare refuses matrices of different shapes --------------------------------------

def test_compare_refuses_transpose_and_query_mismatch(tmp_path):
    a = np.random.default_rng(5).normal(size=(300, 20))
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "at.npy", a.T.copy())
    np.save(tmp_path / "half.npy", a[:, :10].copy())
    res = run_aria("compare", "a.npy", "at.npy", "--orientation", "queries-x-segments",
                   cwd=tmp_path)
    assert_one_line_error(res, "different segment counts", "300", "20")
    res = run_aria("compare", "a.npy", "half.npy", cwd=tmp_path)
    assert_one_line_error(res, "different query ids", "--query-subset")
    res = run_aria("compare", "a.npy", "half.npy", "--query-subset", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert {m["method"] for m in out["methods"]} == {"a", "half"}


def test_check_comparable_api():
    import aria
    from aria.errors import AriaInputError
    from aria.evaluate.compare import check_comparable

    rng = np.random.default_rng(6)
    s = rng.normal(size=(80, 12))
    a = aria.diagnose(aria.scores_from_array(s))
    shuffled = aria.diagnose(aria.scores_from_array(s[:, ::-1].copy(),
                                                    query_ids=[f"q{j}" for j in range(11, -1, -1)]))
    check_comparable({"a": a, "b": shuffled})  # same ids in another order
    other = aria.diagnose(aria.scores_from_array(s, query_ids=[f"x{j}" for j in range(12)]))
    with pytest.raises(AriaInputError, match="different query ids"):
        check_comparable({"a": a, "o": other}, query_subset=True)  # not a subset either


# --- item 9: npy headers with impossible shapes ------------------------------------------------

def _npy_with_shape(path: Path, shape_text: str) -> None:
    np.save(path, np.zeros((3, 4)))
    raw = path.read_bytes()
    hlen = int.from_bytes(raw[8:10], "little")
    header = raw[10:10 + hlen].decode("latin1").replace("(3, 4)", shape_text).rstrip()
    header = header + " " * (hlen - len(header) - 1) + "\n"
    assert len(header) == hlen
    path.write_bytes(raw[:10] + header.encode("latin1") + raw[10 + hlen:])


@pytest.mark.parametrize("shape_text, needle", [
    ("(-3, 4)", "negative"),
    ("(9223372036854775807, 400)", "more than any file"),
    (f"({2**40}, {2**40})", "more than any file"),
])
def test_npy_impossible_shape_is_bad_input(tmp_path, shape_text, needle):
    _npy_with_shape(tmp_path / "bad.npy", shape_text)
    res = run_aria("diagnose", "bad.npy", cwd=tmp_path)
    assert_one_line_error(res, "bad.npy", needle)


# --- item 11: pipes, sockets and devices are refused before open -------------------------------

def test_named_pipe_as_scores_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    res = run_aria("diagnose", "fifo", cwd=tmp_path, timeout=60)
    assert_one_line_error(res, "named pipe", "regular files and folders")


def test_pipe_as_tracks_and_device_as_labels_refused(tmp_path):
    np.save(tmp_path / "s.npy", np.random.default_rng(7).normal(size=(60, 8)))
    os.mkfifo(tmp_path / "tracks.csv")
    res = run_aria("diagnose", "s.npy", "--tracks", "tracks.csv", cwd=tmp_path, timeout=60)
    assert_one_line_error(res, "tracks.csv", "named pipe")


def test_input_gate_on_every_reader(tmp_path):
    import socket

    from aria.errors import AriaInputError
    from aria.features.table import load_feature_table
    from aria.io.groundtruth import load_ground_truth, load_lds_values
    from aria.io.tables import load_query_metadata
    from aria.io.validate import check_input_path

    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        with pytest.raises(AriaInputError, match="socket"):
            check_input_path(sock_path, "score file", folder_ok=True)
    finally:
        sock.close()
    with pytest.raises(AriaInputError, match="device"):
        check_input_path("/dev/null", "score file")
    with pytest.raises(AriaInputError, match="is a folder"):
        check_input_path(tmp_path, "track map")
    for call in (lambda: load_ground_truth(fifo, 10), lambda: load_lds_values(fifo),
                 lambda: load_query_metadata(fifo, np.array(["q0"]))):
        with pytest.raises(AriaInputError, match="named pipe"):
            call()
    from aria.features.channels import load_channel_set

    with pytest.raises(AriaInputError, match="named pipe"):
        load_feature_table(fifo, load_channel_set("symbolic"))


# --- item 13: one line per library warning, plain wording --------------------------------------

def test_library_warning_is_one_line(tmp_path):
    code = ("import sys, warnings; from aria.cli import main\n"
            "import aria.cli.diagnose as d\n"
            "real = d.run\n"
            "def run(args):\n"
            "    warnings.warn('first line of advice\\n1. more\\n2. more', RuntimeWarning)\n"
            "    return real(args)\n"
            "d.run = run\n"
            "sys.exit(main(['diagnose', '--example', 'query-dependent', '--json']))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip().splitlines() == [
        "aria: warning: first line of advice (RuntimeWarning)"], res.stderr


@pytest.mark.parametrize("rows, needle", [
    ("".join(f"{i},{i // 4}\n" for i in range(39)) + "0,1\n", "duplicate segment ids in map.csv: 0"),
    ("".join(f"{i},{i // 4}\n" for i in range(39)) + "1e30,1\n", "found 0..1e+30"),
])
def test_track_map_wording(tmp_path, rows, needle):
    np.save(tmp_path / "s.npy", np.random.default_rng(8).normal(size=(40, 6)))
    (tmp_path / "map.csv").write_text("segment,track\n" + rows)
    res = run_aria("diagnose", "s.npy", "--tracks", "map.csv", cwd=tmp_path)
    line = assert_one_line_error(res, needle)
    assert "9223372036854775808" not in line and "csvs" not in line


def test_missing_query_metadata_names_plain_string(tmp_path):
    from aria.errors import AriaInputError
    from aria.io.tables import load_query_metadata

    (tmp_path / "meta.csv").write_text("query,genre\nq-1,rock\n")
    with pytest.raises(AriaInputError) as info:
        load_query_metadata(tmp_path / "meta.csv", np.array(["q-1", "q-2"]))
    assert "(e.g. 'q-2')" in str(info.value) and "np.str_" not in str(info.value)
