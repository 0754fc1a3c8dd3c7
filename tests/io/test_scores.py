import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import make_matrix

import aria
from aria.io.scores import load_scores, load_track_map
from aria.io.tables import load_query_metadata


@pytest.fixture
def s():
    return make_matrix("query-dependent", n=120, q=7, dtype=np.float32)


def test_npy_is_memory_mapped_not_copied(tmp_path, s):
    p = tmp_path / "s.npy"
    np.save(p, s)
    da = load_scores(p)
    assert isinstance(da.data, np.memmap)
    assert da.dims == ("segment", "query")
    assert list(da.coords["query"].values) == [f"q{i}" for i in range(7)]
    np.testing.assert_array_equal(da.coords["track"].values, np.arange(120))
    np.testing.assert_array_equal(da.values, s)


def test_transpose(tmp_path, s):
    p = tmp_path / "t.npy"
    np.save(p, s.T)
    da = load_scores(p, transpose=True)
    assert da.shape == (120, 7)
    np.testing.assert_array_equal(da.values, s)
    a = aria.diagnose(da, block_rows=16)
    b = aria.diagnose(aria.scores_from_array(s), block_rows=16)
    assert a.to_json() == b.to_json()


def test_npz_with_ids_and_tracks(tmp_path, s):
    p = tmp_path / "s.npz"
    track = np.repeat([f"t{i}" for i in range(40)], 3)
    np.savez_compressed(p, scores=s, segment_track=track, query_ids=np.array(list("abcdefg")))
    da = load_scores(p)
    assert list(da.coords["query"].values) == list("abcdefg")
    np.testing.assert_array_equal(da.coords["track"].values, track)


def test_npz_single_unnamed_array(tmp_path, s):
    p = tmp_path / "s.npz"
    np.savez(p, s)
    np.testing.assert_array_equal(load_scores(p).values, s)


def test_netcdf_and_zarr(tmp_path, s):
    da = xr.DataArray(s.T, dims=("test", "train"),
                      coords={"test": [f"x{i}" for i in range(7)],
                              "track": ("train", np.repeat(np.arange(60), 2))}, name="scores")
    nc = tmp_path / "s.nc"
    da.to_netcdf(nc)
    got = load_scores(nc)
    assert got.dims == ("segment", "query")
    np.testing.assert_array_equal(got.values, s)
    assert list(got.coords["query"].values) == [f"x{i}" for i in range(7)]
    np.testing.assert_array_equal(got.coords["track"].values, np.repeat(np.arange(60), 2))
    pytest.importorskip("zarr")
    z = tmp_path / "s.zarr"
    da.to_dataset().to_zarr(z)
    got = load_scores(z)
    np.testing.assert_array_equal(got.values, s)
    assert aria.diagnose(got, block_rows=32).verdict == aria.diagnose(aria.scores_from_array(s)).verdict
    with pytest.raises(aria.AriaInputError, match="dims are named"):
        load_scores(nc, transpose=True)


def test_torch_tensor_and_dattri_orientation(tmp_path, s):
    torch = pytest.importorskip("torch")
    p = tmp_path / "s.pt"
    torch.save(torch.from_numpy(s.copy()), p)  # dattri: (train, test)
    np.testing.assert_array_equal(load_scores(p).values, s)
    q = tmp_path / "d.pt"
    torch.save({"scores": torch.from_numpy(s.T.copy()), "query_ids": ["a"] * 0 or list("abcdefg")}, q)
    got = load_scores(q, transpose=True)
    np.testing.assert_array_equal(got.values, s)


def test_track_map_csv_parquet_npy(tmp_path, s):
    track = np.repeat(np.arange(40), 3)
    order = np.random.default_rng(0).permutation(120)
    df = pd.DataFrame({"segment": order, "track": track[order]})
    df.to_csv(tmp_path / "m.csv", index=False)
    df.to_parquet(tmp_path / "m.parquet")
    np.save(tmp_path / "m.npy", track)
    for name in ("m.csv", "m.parquet", "m.npy"):
        got = load_track_map(tmp_path / name, 120)
        np.testing.assert_array_equal(got, track)
        assert got.dtype == np.int64
    pd.DataFrame({"segment": range(120), "track": [f"song-{i // 3}" for i in range(120)]}).to_csv(
        tmp_path / "str.csv", index=False)
    got = load_track_map(tmp_path / "str.csv", 120)
    assert got[5] == "song-1"
    p = tmp_path / "s.npy"
    np.save(p, s)
    assert load_scores(p, tracks=tmp_path / "str.csv").coords["track"].values[119] == "song-39"


@pytest.mark.parametrize("rows,match", [
    (lambda: {"segment": range(119), "track": [0] * 119}, "119 rows but the score matrix has 120"),
    (lambda: {"segment": [0] * 120, "track": [0] * 120}, "duplicate segment id"),
    (lambda: {"segment": range(1, 121), "track": [0] * 120}, r"must lie in 0\.\.119"),
    (lambda: {"seg": range(120), "track": [0] * 120}, "needs columns 'segment' and 'track'"),
    (lambda: {"segment": ["x"] * 120, "track": [0] * 120}, "row indices"),
])
def test_bad_track_maps(tmp_path, rows, match):
    pd.DataFrame(rows()).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(aria.AriaInputError, match=match):
        load_track_map(tmp_path / "m.csv", 120)


def test_query_metadata(tmp_path):
    pd.DataFrame({"query": ["b", "a", "c", "z"], "genre": ["rock", "jazz", "rock", "pop"]}).to_csv(
        tmp_path / "meta.csv", index=False)
    meta = load_query_metadata(tmp_path / "meta.csv", np.array(["a", "b", "c"]))
    assert list(meta.index) == ["a", "b", "c"]
    assert list(meta["genre"]) == ["jazz", "rock", "rock"]
    with pytest.raises(aria.AriaInputError, match="no metadata for 1 queries"):
        load_query_metadata(tmp_path / "meta.csv", np.array(["a", "y"]))
