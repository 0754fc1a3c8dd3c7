"""Orientation is never guessed: wide bare arrays are refused, stated layouts and stored ids decide."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import aria
from aria.cli import main
from aria.errors import AriaInputError


@pytest.fixture
def wide(tmp_path):
    """20 training segments' scores for 200 queries, stored test x train (200 x 20) and as is (20 x 200)."""
    s = np.random.default_rng(7).normal(size=(20, 200))
    np.save(tmp_path / "train_x_test.npy", s)
    np.save(tmp_path / "test_x_train.npy", s.T.copy())
    return s, tmp_path


def test_wide_bare_array_refused_with_both_flags_named(wide, capsys):
    s, d = wide
    with pytest.raises(AriaInputError, match=r"20 rows x 200 columns.*transpose=True.*"
                                             r"orientation='segments-x-queries'"):
        aria.load_scores(d / "train_x_test.npy")
    code = main(["diagnose", str(d / "train_x_test.npy")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--transpose" in err and "--orientation segments-x-queries" in err
    # tall stored test x train is read as is (more rows than columns): the user must say --transpose
    assert aria.load_scores(d / "test_x_train.npy").shape == (200, 20)


def test_stated_orientation(wide, capsys):
    s, d = wide
    np.testing.assert_array_equal(aria.load_scores(d / "train_x_test.npy",
                                                   orientation="segments-x-queries").values, s)
    np.testing.assert_array_equal(aria.load_scores(d / "train_x_test.npy",
                                                   orientation="queries-x-segments").values, s.T)
    np.testing.assert_array_equal(aria.load_scores(d / "test_x_train.npy", transpose=True).values, s)
    with pytest.raises(AriaInputError, match="contradicts"):
        aria.load_scores(d / "train_x_test.npy", transpose=True, orientation="segments-x-queries")
    with pytest.raises(AriaInputError, match="orientation must be one of"):
        aria.load_scores(d / "train_x_test.npy", orientation="rows")
    code = main(["diagnose", str(d / "train_x_test.npy"), "--orientation", "segments-x-queries", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["n_segments"] == 20 and out["n_queries"] == 200
    want = aria.diagnose(aria.scores_from_array(s)).to_dict()
    assert out["energy_ratio_1"] == pytest.approx(want["energy_ratio_1"], rel=1e-12)


def test_square_is_read_as_documented(tmp_path):
    np.save(tmp_path / "sq.npy", np.eye(5))
    da = aria.load_scores(tmp_path / "sq.npy")
    assert da.shape == (5, 5) and "square" in da.attrs["orientation"]


def test_ids_stored_with_the_array_decide(tmp_path):
    s = np.random.default_rng(1).normal(size=(10, 30))
    np.savez(tmp_path / "cols.npz", scores=s, query_ids=np.array([f"x{i}" for i in range(30)]))
    da = aria.load_scores(tmp_path / "cols.npz")  # 30 query ids = the columns: segments x queries
    assert da.shape == (10, 30) and "query ids" in da.attrs["orientation"]
    np.savez(tmp_path / "rows.npz", scores=s.T, query_ids=np.array([f"x{i}" for i in range(30)]))
    with pytest.raises(AriaInputError, match="30 query ids stored with it match the rows.*transpose=True"):
        aria.load_scores(tmp_path / "rows.npz")
    np.testing.assert_array_equal(aria.load_scores(tmp_path / "rows.npz", transpose=True).values, s)
    torch = pytest.importorskip("torch")
    torch.save({"scores": torch.from_numpy(s), "segment_track": torch.arange(10)}, tmp_path / "d.pt")
    assert aria.load_scores(tmp_path / "d.pt").shape == (10, 30)


def test_track_map_of_the_wrong_axis_is_named(wide, tmp_path):
    s, d = wide
    by_query = pd.DataFrame({"segment": range(200), "track": [i // 4 for i in range(200)]})
    by_query.to_csv(tmp_path / "map200.csv", index=False)
    by_row = pd.DataFrame({"segment": range(20), "track": [i // 2 for i in range(20)]})
    by_row.to_csv(tmp_path / "map20.csv", index=False)
    # wide file + a map with one entry per column: the file looks queries x segments
    with pytest.raises(AriaInputError, match=r"map200\.csv: the segment->track map has 200 entries, the "
                                             r"number of columns.*pass transpose=True"):
        aria.load_scores(d / "train_x_test.npy", tracks=tmp_path / "map200.csv")
    # wide file + a map with one entry per row: the map states the rows are segments
    da = aria.load_scores(d / "train_x_test.npy", tracks=tmp_path / "map20.csv")
    assert da.shape == (20, 200) and "one entry per row" in da.attrs["orientation"]
    assert list(da.coords["track"].values[:4]) == [0, 0, 1, 1]
    # tall file (test x train saved as is) + a map that fits its columns: named, not silently accepted
    with pytest.raises(AriaInputError, match=r"has 20 entries, the number of columns \(queries\).*not of "
                                             r"its 200 rows.*transpose=True"):
        aria.load_scores(d / "test_x_train.npy", tracks=tmp_path / "map20.csv")
    np.save(tmp_path / "track20.npy", np.arange(20))
    with pytest.raises(AriaInputError, match="the number of columns"):
        aria.load_scores(d / "test_x_train.npy", tracks=tmp_path / "track20.npy")
    assert aria.load_scores(d / "test_x_train.npy", tracks=tmp_path / "map20.csv", transpose=True).shape \
        == (20, 200)
    # a map that fits neither axis keeps the plain message
    with pytest.raises(AriaInputError, match="track map has 19 rows but the score matrix has 200"):
        pd.DataFrame({"segment": range(19), "track": 0}).to_csv(tmp_path / "m19.csv", index=False)
        aria.load_scores(d / "test_x_train.npy", tracks=tmp_path / "m19.csv")


def test_named_dims_ignore_confirmation_and_refuse_transpose(tmp_path):
    s = np.random.default_rng(2).normal(size=(8, 3))
    xr.DataArray(s.T, dims=("test", "train"), name="scores").to_netcdf(tmp_path / "s.nc")
    got = aria.load_scores(tmp_path / "s.nc", orientation="segments-x-queries")
    np.testing.assert_array_equal(got.values, s)
    with pytest.raises(AriaInputError, match="dims are named"):
        aria.load_scores(tmp_path / "s.nc", orientation="queries-x-segments")
    assert aria.load_scores(tmp_path / "s.nc", experiment="x").shape == (8, 3)  # no experiments: ignored


def test_unknown_directory_lists_what_is_read(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(AriaInputError, match="not a score folder Aria knows.*TRAK save_dir"):
        aria.load_scores(tmp_path / "d")


def test_inspect_api_on_plain_formats(tmp_path):
    torch = pytest.importorskip("torch")
    s = np.arange(12.0).reshape(6, 2)
    torch.save({"scores": torch.from_numpy(s.T.copy()), "query_ids": ["a", "b"]}, tmp_path / "d.pt")
    info = aria.inspect_scores(tmp_path / "d.pt")
    assert info["format"] == "torch" and info["stored_shape"] == [2, 6] and info["orientation"] is None
    assert "match the rows" in info["orientation_reason"] and info["streams"] is True
    assert [a["name"] for a in info["arrays"]] == ["scores", "query_ids"]
    xr.DataArray(s, dims=("segment", "query"), name="scores").to_netcdf(tmp_path / "s.nc")
    info = aria.inspect_scores(tmp_path / "s.nc")
    assert info["format"] == "netcdf" and info["shape"] == [6, 2] and info["streams"] is True
    with pytest.raises(AriaInputError, match="no such file"):
        aria.inspect_scores(tmp_path / "nope.npy")
