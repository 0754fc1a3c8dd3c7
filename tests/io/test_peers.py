"""Score files as the attribution libraries write them (tests/io/peer_files.py), read by Aria.

Each library's file is compared with a float64 reference taken from the library's own in-memory
result; the libraries are optional (skipped cleanly when absent; .ci/install installs them).
"""

import json
import shutil

import numpy as np
import pytest
from peer_files import make_bergson_scores, make_dattri, make_kronfluence, make_quanda_cache, make_trak

import aria
from aria.cli import main
from aria.errors import AriaInputError

pytestmark = [  # the libraries' own deprecation noise while they write their files
    pytest.mark.filterwarnings("ignore:.*GradScaler.*:FutureWarning"),
    pytest.mark.filterwarnings("ignore:.*script_method.*:DeprecationWarning"),
]


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_exit_2(code, err, *needles):
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("aria: error: "), err
    for n in needles:
        assert n in err, (n, err)


# ------------------------------------------------------------------------------------------- TRAK

@pytest.fixture(scope="module")
def trak(tmp_path_factory):
    pytest.importorskip("trak")
    return make_trak(tmp_path_factory.mktemp("trak") / "trak_results", ("quickstart", "second"))


def test_trak_save_dir_scores_folder_and_mmap(trak):
    save_dir, refs = trak
    for path, kw, name in [(save_dir, {"experiment": "second"}, "second"),
                           (save_dir / "scores", {"experiment": "quickstart"}, "quickstart"),
                           (save_dir / "scores" / "second.mmap", {}, "second")]:
        da = aria.load_scores(path, **kw)
        assert da.attrs["format"] == "trak"
        assert da.dtype == np.float16 and isinstance(da.data, np.memmap)  # streamed, float16 exactly
        np.testing.assert_array_equal(da.values.astype(np.float64), refs[name])
        assert da.shape == (40, refs[name].shape[1])


def test_trak_several_experiments_need_experiment(trak, capsys):
    save_dir, _ = trak
    with pytest.raises(AriaInputError, match=r"holds 2 experiments \(quickstart, second\).*experiment=NAME"):
        aria.load_scores(save_dir)
    code, _, err = _cli(capsys, "diagnose", save_dir)
    _one_line_exit_2(code, err, "quickstart, second", "--experiment NAME")
    code, _, err = _cli(capsys, "diagnose", save_dir, "--experiment", "third")
    _one_line_exit_2(code, err, "no TRAK experiment 'third'", "quickstart, second")
    code, _, err = _cli(capsys, "diagnose", save_dir, "--experiment", "second", "--transpose")
    _one_line_exit_2(code, err, "do not apply to trak")


def test_trak_diagnose_equals_float64_reference(trak, capsys):
    save_dir, refs = trak
    code, out, _ = _cli(capsys, "diagnose", save_dir, "--experiment", "quickstart", "--json")
    assert code == 0
    got = json.loads(out)
    want = aria.diagnose(aria.scores_from_array(refs["quickstart"])).to_dict()
    assert got["n_segments"] == 40 and got["n_queries"] == 6
    for key in ("mean_abs_interquery_corr", "energy_ratio_1", "mean_concentration"):
        assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-12)


def test_trak_scores_folder_copied_alone(trak, tmp_path):
    save_dir, refs = trak
    shutil.copytree(save_dir / "scores", tmp_path / "scores")  # without experiments.json
    da = aria.load_scores(tmp_path / "scores", experiment="second")
    np.testing.assert_array_equal(da.values.astype(np.float64), refs["second"])
    with pytest.raises(AriaInputError, match=r"2 experiments \(quickstart, second\)"):
        aria.load_scores(tmp_path / "scores")
    assert any("no experiments.json" in n
               for n in aria.inspect_scores(tmp_path / "scores", experiment="second")["notes"])


def test_trak_unfinalized_experiment_refused(trak, tmp_path):
    save_dir, _ = trak
    copy = tmp_path / "copy"
    shutil.copytree(save_dir, copy)
    exp = json.loads((copy / "experiments.json").read_text())
    exp["second"]["scores_finalized"] = 0
    (copy / "experiments.json").write_text(json.dumps(exp))
    with pytest.raises(AriaInputError, match="not finalized.*finalize_scores"):
        aria.load_scores(copy, experiment="second")
    (copy / "scores" / "quickstart.mmap").unlink()
    with pytest.raises(AriaInputError, match="has no scores file"):
        aria.load_scores(copy, experiment="quickstart")


def test_bare_mmap_is_npy_and_orientation_checked(trak):
    save_dir, _ = trak
    grads = save_dir / "0" / "grads.mmap"  # TRAK's projected gradients: 40 x 128, not scores
    with pytest.raises(AriaInputError, match="fewer training segments than queries"):
        aria.load_scores(grads)
    info = aria.inspect_scores(grads)
    assert info["format"] == "npy" and info["orientation"] is None
    assert any(".mmap is an .npy file" in n for n in info["notes"])


# ------------------------------------------------------------------------------------ Kronfluence

@pytest.fixture(scope="module")
def kron(tmp_path_factory):
    pytest.importorskip("kronfluence")
    pytest.importorskip("safetensors")
    return make_kronfluence(tmp_path_factory.mktemp("kron"), {
        "pairwise": {}, "permodule": {"compute_per_module_scores": True},
        "parts": {"data_partitions": 2, "module_partitions": 2}})


def test_kronfluence_file_folder_and_analysis_folder(kron):
    folder, refs = kron["pairwise"]
    want = refs["all_modules"].T  # Kronfluence: query x train
    for path, kw in [(folder / "pairwise_scores.safetensors", {}), (folder, {}),
                     (folder.parent, {"experiment": "pairwise"})]:
        da = aria.load_scores(path, **kw)
        assert da.attrs["format"] == "kronfluence" and da.shape == (40, 6)
        np.testing.assert_array_equal(da.values.astype(np.float64), want)
    with pytest.raises(AriaInputError, match=r"3 score runs \(pairwise, parts, permodule\).*experiment=NAME"):
        aria.load_scores(folder.parent)
    with pytest.raises(AriaInputError, match="do not apply to kronfluence"):
        aria.load_scores(folder, transpose=True)


def test_kronfluence_per_module_summed_or_one(kron, capsys):
    folder, refs = kron["permodule"]
    assert sorted(refs) == ["0", "2"]
    np.testing.assert_allclose(aria.load_scores(folder).values, (refs["0"] + refs["2"]).T, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(aria.load_scores(folder, variable="2").values, refs["2"].T)
    # the per-module sum is what all_modules holds (the same model, factors and data)
    all_modules = kron["pairwise"][1]["all_modules"].T
    np.testing.assert_allclose(aria.load_scores(folder).values, all_modules, rtol=1e-4, atol=1e-6)
    code, _, err = _cli(capsys, "diagnose", folder, "--variable", "fc9")
    _one_line_exit_2(code, err, "no tensor 'fc9'", "keys: 0, 2")


def test_kronfluence_partitions_assembled(kron, tmp_path):
    from safetensors.numpy import load_file

    folder, refs = kron["parts"]
    copy = tmp_path / "scores_parts"
    shutil.copytree(folder, copy)
    (copy / "pairwise_scores.safetensors").unlink()  # only the partitions are left
    da = aria.load_scores(copy)
    part = {(i, j): load_file(copy / f"pairwise_scores_data_partition{i}_module_partition{j}.safetensors")
            ["all_modules"].astype(np.float64) for i in range(2) for j in range(2)}
    want = np.concatenate([part[(0, 0)] + part[(0, 1)], part[(1, 0)] + part[(1, 1)]], axis=1).T
    np.testing.assert_array_equal(da.values, want)
    # Kronfluence's own aggregate (summed in float32) agrees to float32 rounding
    np.testing.assert_allclose(da.values, refs["all_modules"].T, rtol=1e-5, atol=1e-5)
    (copy / "pairwise_scores_data_partition1_module_partition0.safetensors").unlink()
    with pytest.raises(AriaInputError, match="partitions incomplete: 1 of 4 missing"):
        aria.load_scores(copy)


def test_kronfluence_all_modules_saved_with_torch_is_refused_without_transpose(kron, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    _, refs = kron["pairwise"]
    p = tmp_path / "all_modules.pt"
    torch.save(torch.from_numpy(refs["all_modules"]), p)  # 6 queries x 40 train, a bare tensor
    code, _, err = _cli(capsys, "diagnose", p)
    _one_line_exit_2(code, err, "--transpose", "--orientation segments-x-queries")
    np.testing.assert_array_equal(aria.load_scores(p, transpose=True).values, refs["all_modules"].T)


def test_safetensors_bf16_self_scores_and_generic(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    rng = np.random.default_rng(0)
    t = torch.from_numpy(rng.normal(size=(4, 30)).astype(np.float32)).to(torch.bfloat16)
    p = tmp_path / "pairwise_scores.safetensors"
    st.save_file({"all_modules": t}, str(p))
    np.testing.assert_array_equal(aria.load_scores(p).values, t.float().numpy().T)
    st.save_file({"all_modules": torch.zeros(30)}, str(tmp_path / "self_scores.safetensors"))
    with pytest.raises(AriaInputError, match="self-influence"):
        aria.load_scores(tmp_path / "self_scores.safetensors")
    g = tmp_path / "mine.safetensors"  # not Kronfluence: a bare tensor, orientation checked
    st.save_file({"scores": torch.zeros(5, 9)}, str(g))
    with pytest.raises(AriaInputError, match="orientation='segments-x-queries'"):
        aria.load_scores(g)
    assert aria.load_scores(g, orientation="segments-x-queries").shape == (5, 9)
    (tmp_path / "bad.safetensors").write_bytes(b"\x09\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(AriaInputError, match="not a readable safetensors file"):
        aria.load_scores(tmp_path / "bad.safetensors")


# ------------------------------------------------------------------------------------------ quanda

def test_quanda_cache_concatenated_in_numeric_order(tmp_path, capsys):
    pytest.importorskip("torch")
    cache, want = make_quanda_cache(tmp_path / "cache", batch_size=4)
    da = aria.load_scores(cache)
    assert da.attrs["format"] == "quanda" and da.shape == (40, 11)
    np.testing.assert_array_equal(da.values.astype(np.float64), want)
    # ten batches: numeric, not lexicographic, order (10.pt after 9.pt)
    many, want_many = make_quanda_cache(tmp_path / "many", batch_size=1)
    np.testing.assert_array_equal(aria.load_scores(many).values.astype(np.float64), want_many)
    info = aria.inspect_scores(many)
    assert info["streams"] is False and info["shape"] == [40, 11] and len(info["arrays"]) == 11
    (many / "4.pt").unlink()
    code, _, err = _cli(capsys, "diagnose", many)
    _one_line_exit_2(code, err, "batch 4 is missing")
    (cache / "notes.pt").write_bytes((cache / "0.pt").read_bytes())
    with pytest.raises(AriaInputError, match="not a numbered batch"):
        aria.load_scores(cache)


# ----------------------------------------------------------------------------------------- bergson

def test_bergson_score_folder(tmp_path, capsys):
    from numpy.lib.recfunctions import structured_to_unstructured

    rng = np.random.default_rng(3)
    scores = rng.normal(size=(50, 7)).astype(np.float32)
    d = make_bergson_scores(tmp_path / "scores", scores)
    da = aria.load_scores(d)
    assert da.attrs["format"] == "bergson" and da.shape == (50, 7)
    # reference: bergson.data.load_scores' own reading (memmap with info.json's dtype)
    info = json.loads((d / "info.json").read_text())
    mm = np.memmap(d / "scores.bin", dtype=np.dtype(info["dtype"]), mode="r", shape=(info["num_rows"],))
    want = structured_to_unstructured(mm[[f"score_{i}" for i in range(7)]]).astype(np.float64)
    np.testing.assert_array_equal(da.values.astype(np.float64), want)
    np.testing.assert_array_equal(aria.load_scores(d / "scores.bin").values, scores)
    assert aria.inspect_scores(d)["streams"] is True
    bf = make_bergson_scores(tmp_path / "bf16", scores, bfloat16=True)
    trunc = (scores.view(np.uint32) & 0xFFFF0000).view(np.float32)
    np.testing.assert_array_equal(aria.load_scores(bf).values, trunc)
    half = make_bergson_scores(tmp_path / "unwritten", scores, unwritten=(17, 3))
    code, _, err = _cli(capsys, "diagnose", half)
    _one_line_exit_2(code, err, "row 17, query 3 was never written")
    tok = make_bergson_scores(tmp_path / "tokens", scores, attribute_tokens=True)
    with pytest.raises(AriaInputError, match="per-token"):
        aria.load_scores(tok)


# ------------------------------------------------------------------------------------------ dattri

@pytest.fixture(scope="module")
def dattri(tmp_path_factory):
    pytest.importorskip("dattri")
    return make_dattri(tmp_path_factory.mktemp("dattri"))


def test_dattri_scores_and_transposed_save(dattri, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    da = aria.load_scores(dattri["scores"])
    np.testing.assert_array_equal(da.values.astype(np.float64), dattri["score"].astype(np.float64))
    t = tmp_path / "test_x_train.pt"
    torch.save(torch.from_numpy(dattri["score"].T.copy()), t)
    code, _, err = _cli(capsys, "diagnose", t)
    _one_line_exit_2(code, err, "6 rows x 40 columns", "--transpose", "--orientation segments-x-queries")
    np.testing.assert_array_equal(aria.load_scores(t, transpose=True).values, dattri["score"])


def test_dattri_ground_truth_tuple_equals_dattri_lds(dattri, capsys):
    torch = pytest.importorskip("torch")
    from dattri.metric import lds as dattri_lds

    from aria.evaluate.lds import lds
    from aria.io.groundtruth import load_ground_truth

    scores = aria.load_scores(dattri["scores"])
    gt = load_ground_truth(dattri["gt"], 40)
    res = lds(scores, gt)
    corr, pval = dattri_lds(torch.from_numpy(dattri["score"]).double(),
                            (torch.from_numpy(dattri["gt_values"]), torch.from_numpy(dattri["indices"])))
    np.testing.assert_allclose(res.per_query, corr.numpy(), atol=1e-6)
    np.testing.assert_allclose(res.pvalues, pval.numpy(), atol=1e-6)
    corr32, _ = dattri_lds(torch.from_numpy(dattri["score"]),
                           (torch.from_numpy(dattri["gt_values"]), torch.from_numpy(dattri["indices"])))
    np.testing.assert_allclose(res.per_query, corr32.numpy(), atol=1e-6)
    code, out, err = _cli(capsys, "compare", dattri["scores"], "--lds-gt", dattri["gt"], "--json")
    assert code == 0, err
    method = json.loads(out)["methods"][0]
    assert method["lds"] == pytest.approx(float(np.nanmean(corr.numpy())), abs=1e-6)
    np.testing.assert_allclose(list(method["lds_detail"]["per_query"].values()), corr.numpy(), atol=1e-6)


def test_dattri_lds_duplicates_and_bad_indices(dattri, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from dattri.metric import lds as dattri_lds

    from aria.evaluate.lds import lds
    from aria.io.groundtruth import load_ground_truth

    idx = dattri["indices"].copy()
    idx[:, 1] = idx[:, 0]  # every subset lists one training row twice
    gt_values = torch.from_numpy(dattri["gt_values"])
    p = tmp_path / "dup.pt"
    torch.save((gt_values, torch.from_numpy(idx)), p)
    res = lds(aria.load_scores(dattri["scores"]), load_ground_truth(p, 40))
    corr, _ = dattri_lds(torch.from_numpy(dattri["score"]).double(), (gt_values, torch.from_numpy(idx)))
    np.testing.assert_allclose(res.per_query, corr.numpy(), atol=1e-6)
    for bad in (-1, 40):
        idx2 = dattri["indices"].copy()
        idx2[3, 5] = bad
        q = tmp_path / f"bad{bad}.pt"
        torch.save((gt_values, torch.from_numpy(idx2)), q)
        code, _, err = _cli(capsys, "compare", dattri["scores"], "--lds-gt", q)
        _one_line_exit_2(code, err, f"subset index {bad} (subset 3, position 5) is outside 0..39")
    r = tmp_path / "three.pt"
    torch.save((gt_values, torch.from_numpy(idx), gt_values), r)
    code, _, err = _cli(capsys, "compare", dattri["scores"], "--lds-gt", r)
    _one_line_exit_2(code, err, "expected dattri's ground truth tuple (gt_values, indices)")


def test_lds_float16_scores_computed_in_float64(dattri):
    torch = pytest.importorskip("torch")
    from scipy import stats

    from aria.evaluate.lds import lds
    from aria.io.groundtruth import load_ground_truth

    s16 = dattri["score"].astype(np.float16)
    res = lds(aria.scores_from_array(s16), load_ground_truth(dattri["gt"], 40))
    s64 = s16.astype(np.float64)
    want = [stats.spearmanr([s64[row, j].sum() for row in dattri["indices"]],
                            dattri["gt_values"][:, j]).statistic for j in range(6)]
    np.testing.assert_allclose(res.per_query, want, atol=1e-12)
    from dattri.metric import lds as dattri_lds

    corr16, _ = dattri_lds(torch.from_numpy(s16), (torch.from_numpy(dattri["gt_values"]),
                                                   torch.from_numpy(dattri["indices"])))
    assert corr16.dtype == torch.float16  # dattri's arithmetic and result in float16
    np.testing.assert_allclose(res.per_query, corr16.double().numpy(), atol=0.1)


# ---------------------------------------------------------------------------------------- inspect

def test_inspect_cli_exit_codes(tmp_path, capsys):
    wide = tmp_path / "wide.npy"
    np.save(wide, np.zeros((20, 200), np.float32))
    code, out, err = _cli(capsys, "inspect", wide, tmp_path / "missing.npy")
    assert code == 0 and "orientation  unknown" in out and "--transpose" in out
    assert err.count("\n") == 1 and "missing.npy: no such file" in err
    code, out, err = _cli(capsys, "inspect", tmp_path / "missing.npy", tmp_path / "gone.pt")
    assert code == 2 and out == "" and err.count("\n") == 2
    code, out, _ = _cli(capsys, "inspect", wide, aria.examples.path("collapsed"), "--json")
    got = json.loads(out)
    assert code == 0 and [g["format"] for g in got] == ["npy", "npz"]
    assert got[0]["stored_shape"] == [20, 200] and got[0]["shape"] is None and got[0]["streams"] is True
    assert got[1]["shape"] == [1000, 40] and got[1]["orientation"] == "segments-x-queries"
