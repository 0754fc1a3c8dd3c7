"""Generic batch machinery (aria.features.batch / aria.features.table) with a toy extractor."""

import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from aria.errors import AriaError, AriaInputError
from aria.features.extract.batch import ExtractionError, Item, extract_rows, extract_table, shard_dir_for
from aria.features.table import (
    channelset_fingerprint,
    feature_specs,
    load_channelset,
    read_feature_table,
    table_metadata,
    table_schema,
)

CHANNELSET = {
    "name": "toy",
    "version": 1,
    "channels": {"c": {}},
    "features": {
        "total": {"channel": "c", "kind": "vector", "dim": 1},
        "stats": {"channel": "c", "kind": "vector", "dim": 3},
        "labels": {"channel": "c", "kind": "sequence"},
    },
}


def toy_extractor(item, params):
    text = Path(item.path).read_text()
    if text.startswith("bad"):
        raise ExtractionError("bad content here")
    if text.startswith("boom"):
        raise ZeroDivisionError("division\nby zero")
    vals = np.array([float(x) for x in text.split()])
    if item.start is not None:
        vals = vals[int(item.start):int(item.end)]
    return {"total": vals.sum() * params["scale"], "stats": [vals.min(), vals.max(), vals.mean()],
            "labels": [f"v{int(v)}" for v in vals[:3]]}


def crash_extractor(item, params):
    if item.id == params["crash_on"]:
        os._exit(3)  # a worker dying hard (segfault, OOM kill)
    return toy_extractor(item, params)


def interrupt_extractor(item, params):
    if item.id == params["crash_on"]:
        raise KeyboardInterrupt  # the run is killed here (not captured per item)
    return toy_extractor(item, params)


def _setup(tmp_path, n=40):
    items = []
    rng = np.random.default_rng(0)
    for i in range(n):
        p = tmp_path / f"f{i:03d}.txt"
        if i % 13 == 5:
            p.write_text("bad")
        elif i % 17 == 7:
            p.write_text("boom")
        else:
            p.write_text(" ".join(str(int(v)) for v in rng.integers(0, 100, size=10)))
        items.append(Item(f"f{i:03d}", str(p)))
    cs = load_channelset(CHANNELSET)
    specs = feature_specs(cs)
    fp = channelset_fingerprint(cs, {"extractor": "toy"})
    schema = table_schema(specs, metadata=table_metadata(cs, fp))
    return items, specs, schema


def _expected(item):
    return toy_extractor(item, {"scale": 2.0})


def test_rows_values_errors_and_order(tmp_path):
    items, specs, schema = _setup(tmp_path)
    res = extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=schema)
    t = res.table.to_pylist()
    assert [r["track"] for r in t] == [it.id for it in items]
    for it, row in zip(items, t, strict=True):
        text = Path(it.path).read_text()
        if text == "bad":
            assert row["status"] == "failed" and row["error"] == "bad content here"
            assert row["total"] is None and row["stats"] is None and row["labels"] is None
        elif text == "boom":
            assert row["status"] == "failed" and row["error"] == "ZeroDivisionError: division by zero"
        else:
            vals = np.array([float(x) for x in text.split()])
            assert row["status"] == "ok" and row["error"] is None
            assert row["total"] == vals.sum() * 2
            assert row["stats"] == [vals.min(), vals.max(), vals.mean()]
            assert row["labels"] == [f"v{int(v)}" for v in vals[:3]]
    assert res.n_ok + res.n_failed == len(items) and res.n_failed == 3 + 2
    assert res.table.schema.field("total").type == "double"
    assert str(res.table.schema.field("stats").type) == "list<item: double>"
    assert str(res.table.schema.field("labels").type) == "list<item: string>"


def test_workers_bit_identical_and_metadata(tmp_path):
    items, specs, schema = _setup(tmp_path)
    out1, out2 = tmp_path / "w1.parquet", tmp_path / "w2.parquet"
    calls = []
    extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=schema, out=out1, workers=1)
    extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=schema, out=out2, workers=2,
                  chunk_size=3, progress=calls.append)
    assert out1.read_bytes() == out2.read_bytes()
    assert sum(calls) == len(items)
    table, meta = read_feature_table(out1)
    assert meta["aria.channelset"] == "toy" and meta["aria.fingerprint"] == schema.metadata[
        b"aria.fingerprint"].decode()
    assert "aria.version" in meta
    assert not shard_dir_for(out1).exists()


def test_spans_same_file_and_chunks(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text(" ".join(str(i) for i in range(10)))
    items = [Item(f"s{k}", str(p), float(k), float(k + 2), "beats") for k in range(0, 8, 2)]
    _, specs, schema = _setup(tmp_path, n=1)
    rows = list(extract_rows(items, toy_extractor, {"scale": 1.0}, workers=2, chunk_size=1))
    assert [r["total"] for r in rows] == [1.0, 5.0, 9.0, 13.0]
    assert [r["start"] for r in rows] == [0.0, 2.0, 4.0, 6.0] and rows[0]["unit"] == "beats"


def test_resume_after_worker_death_matches_uninterrupted(tmp_path):
    items, specs, schema = _setup(tmp_path, n=60)
    ref = tmp_path / "ref.parquet"
    extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=schema, out=ref)
    out = tmp_path / "out.parquet"
    with pytest.raises(AriaError, match="worker process died"):
        extract_table(items, crash_extractor, {"scale": 2.0, "crash_on": "f045"}, specs=specs,
                      schema=schema, out=out, workers=2, shard_size=8, chunk_size=2)
    assert not out.exists()
    shards = sorted(shard_dir_for(out).glob("shard-*.parquet"))
    # rows completed before the crash were flushed; how many depends on scheduling under load
    assert len(shards) >= 1
    stored = [pq.read_table(p) for p in shards]
    # the rows finished before the worker died were flushed, the last ones to a partial shard
    assert all(t.num_rows == 8 for t in stored[:-1]) and 1 <= stored[-1].num_rows <= 8
    n_ok_stored = sum(t.column("status").to_pylist().count("ok") for t in stored)
    res = extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=schema, out=out,
                        resume=True, workers=2, shard_size=8)
    assert res.n_reused == n_ok_stored  # ok rows of the flushed shards were not recomputed
    assert out.read_bytes() == ref.read_bytes()
    assert not shard_dir_for(out).exists()


def test_resume_after_interrupt_one_worker(tmp_path):
    items, specs, schema = _setup(tmp_path, n=30)
    ref = tmp_path / "ref.parquet"
    extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=schema, out=ref)
    out = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        extract_table(items, interrupt_extractor, {"scale": 2.0, "crash_on": "f020"}, specs=specs,
                      schema=schema, out=out, shard_size=5)
    assert len(list(shard_dir_for(out).glob("shard-*.parquet"))) == 4  # rows 0..19
    seen = []
    res = extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=schema, out=out,
                        resume=True, progress=seen.append)
    ok_before = sum(1 for it in items[:20] if Path(it.path).read_text()[0].isdigit())
    assert res.n_reused == ok_before and sum(seen) == len(items) - ok_before
    assert out.read_bytes() == ref.read_bytes()
    # resuming a complete output recomputes only the failed rows
    res2 = extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=schema, out=out,
                         resume=True)
    assert res2.n_reused == res2.n_ok and out.read_bytes() == ref.read_bytes()


def test_resume_refuses_other_parameters(tmp_path):
    items, specs, schema = _setup(tmp_path, n=5)
    out = tmp_path / "out.parquet"
    extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=schema, out=out)
    other = schema.with_metadata({**{k.decode(): v.decode() for k, v in schema.metadata.items()},
                                  "aria.fingerprint": "different"})
    with pytest.raises(AriaInputError, match="different parameters"):
        extract_table(items, toy_extractor, {"scale": 2.0}, specs=specs, schema=other, out=out,
                      resume=True)


def test_duplicate_ids_and_bad_vector_length(tmp_path):
    items, specs, schema = _setup(tmp_path, n=3)
    with pytest.raises(AriaInputError, match="duplicate track id 'f001'"):
        extract_table([items[0], items[1], Item("f001", items[2].path)], toy_extractor,
                      {"scale": 1.0}, specs=specs, schema=schema)
    bad = load_channelset({**CHANNELSET, "features": {"stats": {"channel": "c", "kind": "vector",
                                                                  "dim": 4}}})
    with pytest.raises(ValueError, match="length 3, expected 4"):
        extract_table(items[:1], toy_extractor, {"scale": 1.0}, specs=feature_specs(bad),
                      schema=table_schema(feature_specs(bad)))


def test_load_channelset_errors(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text("[features.a]\nkind = 'matrix'\n")
    with pytest.raises(AriaInputError, match="kind must be one of"):
        load_channelset(p)
    p.write_text("[features.a]\nkind = 'vector'\ndim = 0\n")
    with pytest.raises(AriaInputError, match="dim must be a positive integer"):
        load_channelset(p)
    p.write_text("not = [toml")
    with pytest.raises(AriaInputError, match="not a valid TOML"):
        load_channelset(p)
    with pytest.raises(AriaInputError, match="not found"):
        load_channelset(tmp_path / "missing.toml")


def test_shipped_channelsets_schema():
    from aria._resources import channelset_path

    cs = load_channelset(channelset_path("symbolic"))
    specs = feature_specs(cs)
    assert len(specs) == 12
    schema = table_schema(specs)
    assert schema.names[:7] == ["track", "file", "start", "end", "unit", "status", "error"]
    assert str(schema.field("pitch_class_hist").type) == "list<item: double>"
    assert schema.field("pitch_range").type == "double"


def test_read_feature_table_errors(tmp_path):
    p = tmp_path / "x.parquet"
    p.write_bytes(b"garbage")
    with pytest.raises(AriaInputError, match="not a readable Parquet"):
        read_feature_table(p)
    import pyarrow as pa

    pq.write_table(pa.table({"a": [1]}), p)
    with pytest.raises(AriaInputError, match="no 'track' column"):
        read_feature_table(p)


def sleepy_extractor(item, params):
    if item.id == params["crash_on"]:
        import time

        time.sleep(30)  # a hung task (e.g. a pathological file)
    return toy_extractor(item, params)


def test_hung_task_fails_loudly(tmp_path):
    import time

    items, specs, schema = _setup(tmp_path, n=6)
    t = time.perf_counter()
    with pytest.raises(AriaError, match="no result after 2 s"):
        extract_table(items, sleepy_extractor, {"scale": 1.0, "crash_on": "f002"}, specs=specs,
                      schema=schema, out=tmp_path / "o.parquet", workers=2, chunk_size=1, task_timeout=2)
    assert time.perf_counter() - t < 20  # the pool was stopped, not waited for


def test_pool_broken_between_results_is_the_worker_died_error():
    """A worker dying after one result and before the next submit: the same one-line error, not
    concurrent.futures' BrokenProcessPool (a race seen under load)."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from aria.features.extract.batch import _pooled_rows

    class PoolThatBreaks:
        def __init__(self, accepted):
            self.accepted = accepted

        def submit(self, fn, chunk):
            if self.accepted == 0:
                raise BrokenProcessPool("a child process terminated abruptly")
            self.accepted -= 1
            fut = Future()
            fut.set_result([{"track": it.id} for it in chunk])
            return fut

    chunks = [[Item(f"t{i}", f"f{i}.mid")] for i in range(6)]
    rows = []
    with pytest.raises(AriaError, match=r"worker process died while extracting 'f2\.mid'"):
        for row in _pooled_rows(PoolThatBreaks(2), chunks, 1, None, None):
            rows.append(row["track"])
    assert rows == ["t0", "t1"]  # the finished rows came out first, in order
    rows.clear()
    with pytest.raises(AriaError, match=r"died while extracting 'f4\.mid'"):
        for row in _pooled_rows(PoolThatBreaks(4), chunks, 1, None, None):
            rows.append(row["track"])
    assert rows == ["t0", "t1", "t2", "t3"]
