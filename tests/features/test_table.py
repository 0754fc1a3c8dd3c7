import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aria.errors import AriaInputError
from aria.features.channels import parse_channel_set
from aria.features.chords import labels_to_root_motions
from aria.features.table import Sequences, chord_root, feature_table_from_frame, load_feature_table

CS = parse_channel_set({
    "channels": {"a": {}, "h": {}},
    "features": {
        "v": {"channel": "a", "kind": "vector", "dim": 2, "similarity": "seuclidean"},
        "s": {"channel": "a", "kind": "vector", "dim": 1, "similarity": "seuclidean"},
        "chords": {"channel": "h", "kind": "sequence", "similarity": "lcs_root_motion"},
    },
})


def test_chord_roots_and_motions():
    assert chord_root("C") == 0
    assert chord_root("F#m") == 6
    assert chord_root("Bb7") == 10
    assert chord_root("A:min7/b3") == 9
    assert chord_root("Gb/Bb") == 6
    assert chord_root("Cb") == 11
    assert chord_root("N") is None and chord_root("X") is None
    with pytest.raises(ValueError):
        chord_root("H7")
    # N dropped, repeats merged (also across a dropped N), motions mod 12
    assert labels_to_root_motions(["C", "C", "N", "C:maj7", "F", "G7", "C"]).tolist() == [5, 2, 5]
    assert labels_to_root_motions(["G", "C"]).tolist() == [5]  # (0 - 7) mod 12
    assert labels_to_root_motions(["N", "Am"]).tolist() == []


def _frame():
    return pd.DataFrame({
        "track": [10, 11, 12, 13, 14],
        "v": [[1.0, 2.0], [3.0, 4.0], None, [5.0, np.nan], [0.0, 0.0]],
        "s": [1.0, 2.0, np.nan, 3.0, 4.0],
        "chords": [["C", "F", "F", "G"], ["N"], None, ["D"], ["Bb", "Eb:min", "N", "F7"]],
        "status": ["ok", "ok", "failed", "ok", "ok"],
        "error": [None, None, "decoder crashed\n", None, None],
        "file": ["a", "b", "c", "d", "e"],
    })


def test_parquet_roundtrip_exclusions(tmp_path):
    p = tmp_path / "f.parquet"
    _frame().to_parquet(p)
    ft = load_feature_table(p, CS)
    assert ft.track_ids.tolist() == ["10", "11", "14"]
    np.testing.assert_array_equal(ft.vectors["v"], [[1, 2], [3, 4], [0, 0]])
    np.testing.assert_array_equal(ft.vectors["s"], [[1], [2], [4]])
    seqs = ft.sequences["chords"]
    assert [seqs[i].tolist() for i in range(3)] == [[5, 2], [], [5, 2]]
    assert ft.counts() == {"rows": 5, "usable": 3, "failed": 1, "invalid": 1}
    reasons = dict(zip(ft.excluded["track"], ft.excluded["reason"], strict=True))
    assert reasons == {"12": "failed: decoder crashed", "13": "non-finite value in v"}


def test_root_motion_ints_and_fixed_size_lists(tmp_path):
    t = pa.table({
        "track": ["a", "b"],
        "v": pa.array([[1.0, 2.0], [3.0, 4.0]], type=pa.list_(pa.float64(), 2)),
        "s": pa.array([[1.5], [2.5]]),  # dim-1 given as length-1 lists
        "chords": pa.array([[1, 13, -1], []], type=pa.list_(pa.int64())),
    })
    pq.write_table(t, tmp_path / "f.parquet")
    ft = load_feature_table(tmp_path / "f.parquet", CS)
    assert ft.sequences["chords"][0].tolist() == [1, 1, 11]
    np.testing.assert_array_equal(ft.vectors["s"][:, 0], [1.5, 2.5])


@pytest.mark.parametrize("mutate,msg", [
    (lambda f: f.drop(columns="v"), "lacks column\\(s\\) v"),
    (lambda f: f.drop(columns="track"), "no 'track' column"),
    (lambda f: f.assign(v=[[1.0, 2.0, 3.0]] + list(f["v"][1:])), "track '10' has length 3.*dim = 2"),
    (lambda f: f.assign(track=[1, 1, 2, 3, 4]), "duplicate track id"),
    (lambda f: f.assign(chords=[["C", "Q"]] + list(f["chords"][1:])), "cannot parse a chord root from 'Q'"),
    (lambda f: f.assign(status=["ok", "done", "ok", "ok", "ok"]), "expected 'ok' or 'failed'"),
])
def test_bad_tables(tmp_path, mutate, msg):
    p = tmp_path / "bad.parquet"
    mutate(_frame()).to_parquet(p)
    with pytest.raises(AriaInputError, match=msg):
        load_feature_table(p, CS)


def test_unreadable_file(tmp_path):
    p = tmp_path / "x.parquet"
    p.write_bytes(b"not parquet")
    with pytest.raises(AriaInputError, match="not a readable Parquet file"):
        load_feature_table(p, CS)
    with pytest.raises(AriaInputError, match="no such feature table"):
        load_feature_table(tmp_path / "missing.parquet", CS)


def test_from_frame_without_status():
    f = _frame().drop(columns=["status", "error"])
    ft = feature_table_from_frame(f, CS)
    assert ft.track_ids.tolist() == ["10", "11", "14"]
    assert ft.excluded["reason"].tolist() == ["missing v", "non-finite value in v"]


def test_sequences_take():
    s = Sequences.from_list([[1, 2], [], [3, 4, 5]])
    t = s.take(np.array([2, 0, 1]))
    assert [t[i].tolist() for i in range(3)] == [[3, 4, 5], [1, 2], []]
