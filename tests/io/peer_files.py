"""Score files written by the real attribution libraries, on a tiny model in seconds of CPU.

Each ``make_*`` function trains nothing heavy: a 2-layer MLP on 40 random training points and 6
test points (seeded), runs the library's own attribution and saving code, and returns the path the
library wrote plus a float64 reference matrix (training rows x queries) taken from the library's
own in-memory result. The tests read the path with :func:`aria.load_scores` and compare.

bergson (2.5.1) needs transformers, torchvision and CUDA-sized dependencies, so
:func:`make_bergson_scores` writes its score folder as ``MemmapSequenceScoreWriter`` does: the
structured ``(score_i, written_i)`` dtype of ``bergson.score.score_writer._score_struct_dtype``
(each pair aligned to the next power of two, the record rounded up to 8 bytes) in ``scores.bin``
and ``info.json`` with ``num_items``, ``num_rows``, ``num_scores`` and that dtype.

quanda 0.5.0 cannot be installed beside torch 2.13 (it imports torchvision, pins captum to a
numpy < 2 release and imports omegaconf undeclared), so :func:`make_quanda_cache` writes its
explanation cache exactly as ``quanda.utils.cache.ExplanationsCache.save`` does:
``torch.save(exp_tensors.detach().cpu(), os.path.join(path, f"{num_id}.pt"))``, one
(batch x train) tensor per test batch.

Run as a script to (re)generate everything under a folder, e.g.
``python tests/io/peer_files.py /tmp/peers``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

N_TRAIN, N_TEST, N_FEAT, N_CLASS = 40, 6, 5, 3
SEED = 20251201


def _data():
    import torch

    g = torch.Generator().manual_seed(SEED)
    x_train = torch.randn(N_TRAIN, N_FEAT, generator=g)
    y_train = torch.randint(0, N_CLASS, (N_TRAIN,), generator=g)
    x_test = torch.randn(N_TEST, N_FEAT, generator=g)
    y_test = torch.randint(0, N_CLASS, (N_TEST,), generator=g)
    return x_train, y_train, x_test, y_test


def _model():
    import torch

    torch.manual_seed(SEED)
    return torch.nn.Sequential(torch.nn.Linear(N_FEAT, 8), torch.nn.Tanh(), torch.nn.Linear(8, N_CLASS))


def _trained_model():
    import torch

    x_train, y_train, _, _ = _data()
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(30):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x_train), y_train).backward()
        opt.step()
    return model


def make_trak(save_dir: Path, exp_names: tuple[str, ...] = ("quickstart",),
              half: bool = True) -> tuple[Path, dict[str, np.ndarray]]:
    """TRAK (traker 0.3.2): a ``save_dir`` with ``scores/<exp>.mmap`` (train x targets).

    Returns the save_dir and, per experiment, the scores ``finalize_scores`` returned (float64).
    proj_dim is 128: traker on CPU crashes in ``score()`` when proj_dim <= 100.
    """
    import logging

    import torch
    from trak import TRAKer

    x_train, y_train, x_test, y_test = _data()
    model = _trained_model()
    traker = TRAKer(model=model, task="image_classification", train_set_size=N_TRAIN,
                    save_dir=str(save_dir), device="cpu", proj_dim=128,
                    use_half_precision=half, logging_level=logging.ERROR)
    ckpt = model.state_dict()
    traker.load_checkpoint(ckpt, model_id=0)
    for start in range(0, N_TRAIN, 16):
        batch = [x_train[start:start + 16], y_train[start:start + 16]]
        traker.featurize(batch=batch, num_samples=batch[0].shape[0])
    traker.finalize_features()
    refs = {}
    for k, name in enumerate(exp_names):
        xt, yt = x_test[: N_TEST - k], y_test[: N_TEST - k]  # experiments differ in size
        traker.start_scoring_checkpoint(exp_name=name, checkpoint=ckpt, model_id=0,
                                        num_targets=xt.shape[0])
        traker.score(batch=[xt, yt], num_samples=xt.shape[0])
        scores = traker.finalize_scores(exp_name=name)
        refs[name] = np.asarray(torch.as_tensor(scores).cpu().numpy(), dtype=np.float64)
    return Path(save_dir), refs


def make_kronfluence(out: Path, runs: dict[str, dict] | None = None) -> dict[str, tuple[Path, dict]]:
    """Kronfluence (1.0.1): ``<out>/aria/scores_<name>/pairwise_scores*.safetensors`` (query x train).

    ``runs`` maps a scores name to ``ScoreArguments`` keywords (e.g.
    ``{"compute_per_module_scores": True}`` or ``{"data_partitions": 2, "module_partitions": 2}``);
    EK-FAC factors are fitted once. Returns, per run, the scores folder and the tensors
    ``Analyzer.load_pairwise_scores`` returned (float64, query x train, keyed by module or
    ``all_modules``).
    """
    import logging

    import torch
    from kronfluence.analyzer import Analyzer, prepare_model
    from kronfluence.arguments import FactorArguments, ScoreArguments
    from kronfluence.task import Task

    runs = runs or {"pairwise": {}}
    x_train, y_train, x_test, y_test = _data()

    class ClassificationTask(Task):
        def compute_train_loss(self, batch, model, sample=False):
            inputs, labels = batch
            logits = model(inputs)
            if not sample:
                return torch.nn.functional.cross_entropy(logits, labels, reduction="sum")
            with torch.no_grad():
                probs = torch.softmax(logits.detach(), dim=-1)
                sampled = torch.multinomial(probs, num_samples=1).flatten()
            return torch.nn.functional.cross_entropy(logits, sampled, reduction="sum")

        def compute_measurement(self, batch, model):
            inputs, labels = batch
            return torch.nn.functional.cross_entropy(model(inputs), labels, reduction="sum")

    train = torch.utils.data.TensorDataset(x_train, y_train)
    test = torch.utils.data.TensorDataset(x_test, y_test)
    task = ClassificationTask()
    model = prepare_model(_trained_model(), task)
    analyzer = Analyzer(analysis_name="aria", model=model, task=task, cpu=True,
                        disable_tqdm=True, disable_model_save=True, output_dir=str(out))
    logging.getLogger("kronfluence").setLevel(logging.ERROR)
    torch.manual_seed(SEED)
    analyzer.fit_all_factors(factors_name="ekfac", dataset=train, per_device_batch_size=20,
                             factor_args=FactorArguments(strategy="ekfac"), overwrite_output_dir=True)
    result = {}
    for name, kwargs in runs.items():
        analyzer.compute_pairwise_scores(
            scores_name=name, factors_name="ekfac", query_dataset=test, train_dataset=train,
            per_device_query_batch_size=3, per_device_train_batch_size=20,
            score_args=ScoreArguments(**kwargs), overwrite_output_dir=True)
        scores = analyzer.load_pairwise_scores(scores_name=name)
        refs = {k: v.detach().to(torch.float64).numpy() for k, v in scores.items()}
        result[name] = (Path(out) / "aria" / f"scores_{name}", refs)
    return result


def make_dattri(out: Path, n_subsets: int = 10) -> dict[str, Path | np.ndarray]:
    """dattri (0.3.0): a TracIn score tensor saved with ``torch.save`` (train x test) and the
    LDS ground truth ``calculate_lds_ground_truth`` returns, saved as dattri's users do:
    ``torch.save((gt_values, indices), path)``.

    Returns paths ``scores`` and ``gt`` and the in-memory ``score`` / ``gt_values`` /
    ``indices`` tensors (as numpy) for the reference computation.
    """
    import torch
    from dattri.algorithm.tracin import TracInAttributor
    from dattri.metric import calculate_lds_ground_truth
    from dattri.model_util.retrain import retrain_lds
    from dattri.task import AttributionTask

    x_train, y_train, x_test, y_test = _data()
    train = torch.utils.data.TensorDataset(x_train, y_train)
    test = torch.utils.data.TensorDataset(x_test, y_test)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    def loss_func(params, data_target_pair):
        x, y = data_target_pair
        yhat = torch.func.functional_call(model, params, (x.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(yhat, y.unsqueeze(0))

    model = _trained_model()
    ckpt = out / "model.pt"
    torch.save(model.state_dict(), ckpt)

    def checkpoint_loader(m, path):
        m.load_state_dict(torch.load(path, weights_only=True))
        return m

    task = AttributionTask(loss_func=loss_func, model=model, checkpoints=[str(ckpt)],
                           checkpoints_load_func=checkpoint_loader)
    attributor = TracInAttributor(task=task, weight_list=torch.ones(1), normalized_grad=False,
                                  device="cpu")
    train_loader = torch.utils.data.DataLoader(train, batch_size=8, shuffle=False)
    test_loader = torch.utils.data.DataLoader(test, batch_size=3, shuffle=False)
    score = attributor.attribute(train_loader, test_loader)  # (train, test)
    scores_path = out / "tracin_scores.pt"
    torch.save(score, scores_path)

    def train_func(dataloader, seed=None):
        torch.manual_seed(SEED if seed is None else seed)
        m = _model()
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        for _ in range(5):
            for xb, yb in dataloader:
                opt.zero_grad()
                torch.nn.functional.cross_entropy(m(xb), yb).backward()
                opt.step()
        return m

    def target_func(ckpt_path, dataloader):
        m = _model()
        m.load_state_dict(torch.load(ckpt_path, weights_only=True))
        m.eval()
        with torch.no_grad():
            return torch.cat([torch.nn.functional.cross_entropy(m(xb), yb, reduction="none")
                              for xb, yb in dataloader])

    retrain_dir = out / "lds_retrain"
    full_loader = torch.utils.data.DataLoader(train, batch_size=20, shuffle=False)
    retrain_lds(train_func, full_loader, str(retrain_dir), num_subsets=n_subsets,
                subset_ratio=0.5, num_runs_per_subset=1, seed=SEED)
    gt_values, indices = calculate_lds_ground_truth(target_func, str(retrain_dir), test_loader)
    gt_path = out / "lds_ground_truth.pt"
    torch.save((gt_values, indices), gt_path)
    return {"scores": scores_path, "gt": gt_path, "score": score.numpy(),
            "gt_values": gt_values.numpy(), "indices": indices.numpy()}


def make_quanda_cache(path: Path, batch_size: int = 4, seed: int = SEED) -> tuple[Path, np.ndarray]:
    """A quanda explanations cache: ``<num_id>.pt`` per test batch, each (batch x train), written
    as ``ExplanationsCache.save`` does. Returns the folder and the float64 (train x test) matrix.
    """
    import os

    import torch

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    n_test = 11  # three batches of 4, 4, 3: a short last batch
    full = torch.from_numpy(np.random.default_rng(seed).normal(size=(n_test, N_TRAIN)).astype(np.float32))
    for num_id, start in enumerate(range(0, n_test, batch_size)):
        exp_tensors = full[start:start + batch_size]
        torch.save(exp_tensors.detach().cpu(), os.path.join(str(path), f"{num_id}.pt"))
    return path, full.numpy().astype(np.float64).T


def _bergson_struct_dtype(num_scores: int, np_dtype: np.dtype) -> tuple[dict, dict]:
    """``bergson.score.score_writer._score_struct_dtype`` (2.5.1), transcribed."""
    score_size = np_dtype.itemsize
    pair_size = score_size + 1
    aligned_pair_size = 1 << (pair_size - 1).bit_length()
    names, formats, offsets = [], [], []
    for i in range(num_scores):
        names += [f"score_{i}", f"written_{i}"]
        formats += [np_dtype, "bool"]
        offsets += [i * aligned_pair_size, i * aligned_pair_size + score_size]
    itemsize = ((num_scores * aligned_pair_size + 7) // 8) * 8
    struct = {"names": names, "formats": formats, "offsets": offsets, "itemsize": itemsize}
    as_json = dict(struct, formats=[str(f) if isinstance(f, np.dtype) else f for f in formats])
    return struct, as_json


def make_bergson_scores(path: Path, scores: np.ndarray, *, bfloat16: bool = False,
                        unwritten: tuple[int, int] | None = None, attribute_tokens: bool = False) -> Path:
    """A bergson score folder (``info.json`` + ``scores.bin``) holding ``scores`` (items x queries).

    ``bfloat16`` stores the scores as bfloat16 (the upper 16 bits of float32, what ml_dtypes'
    bfloat16 holds; ``info.json`` names the dtype ``"bfloat16"``); ``unwritten`` leaves one
    (row, query) cell's written flag False, as an interrupted run does.
    """
    import json

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    n_items, n_scores = scores.shape
    np_dtype = np.dtype("<u2") if bfloat16 else scores.dtype
    struct, as_json = _bergson_struct_dtype(n_scores, np_dtype)
    if bfloat16:
        as_json["formats"] = ["bfloat16" if f == "uint16" else f for f in as_json["formats"]]
    mm = np.memmap(path / "scores.bin", dtype=np.dtype(struct), mode="w+", shape=(n_items,))
    for i in range(n_scores):
        col = scores[:, i]
        if bfloat16:
            col = (col.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        mm[f"score_{i}"] = col
        mm[f"written_{i}"] = True
    if unwritten is not None:
        mm[f"written_{unwritten[1]}"][unwritten[0]] = False
    mm.flush()
    del mm
    (path / "info.json").write_text(json.dumps({
        "attribute_tokens": attribute_tokens, "num_items": n_items, "num_rows": n_items,
        "num_scores": n_scores, "dtype": as_json}, indent=2))
    return path


if __name__ == "__main__":  # pragma: no cover - manual regeneration
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "peer_files")
    print("trak", make_trak(root / "trak", ("quickstart", "second"))[0])
    print("kronfluence", make_kronfluence(root / "kronfluence")["pairwise"][0])
    print("dattri", make_dattri(root / "dattri")["scores"])
    print("quanda", make_quanda_cache(root / "quanda")[0])
