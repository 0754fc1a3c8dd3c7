"""Score files written by the real attribution libraries, on a tiny model in seconds of CPU.

Each ``make_*`` function trains nothing heavy: a 2-layer MLP on 40 random training points and 6
test points (seeded), runs the library's own attribution and saving code, and returns the path the
library wrote plus a float64 reference matrix (training rows x queries) taken from the library's
own in-memory result. The tests read the path with :func:`aria.load_scores` and compare.

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


def _kronfluence_analyze(out: Path, name: str, **score_kwargs):
    import logging

    import torch
    from kronfluence.analyzer import Analyzer, prepare_model
    from kronfluence.arguments import FactorArguments, ScoreArguments
    from kronfluence.task import Task

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
    analyzer.compute_pairwise_scores(
        scores_name=name, factors_name="ekfac", query_dataset=test, train_dataset=train,
        per_device_query_batch_size=3, per_device_train_batch_size=20,
        score_args=ScoreArguments(**score_kwargs), overwrite_output_dir=True)
    scores = analyzer.load_pairwise_scores(scores_name=name)
    refs = {k: v.detach().to(torch.float64).numpy() for k, v in scores.items()}
    folder = Path(out) / "aria" / f"scores_{name}"
    return folder, refs


def make_kronfluence(out: Path, name: str = "pairwise", **score_kwargs):
    """Kronfluence (1.0.1): ``.../scores_<name>/pairwise_scores.safetensors`` (query x train).

    ``score_kwargs`` go to ``ScoreArguments`` (e.g. ``compute_per_module_scores=True``,
    ``data_partitions=2, module_partitions=2``). Returns the scores folder and the tensors
    ``load_pairwise_scores`` returned (float64, query x train, keyed by module or
    ``all_modules``).
    """
    return _kronfluence_analyze(out, name, **score_kwargs)


def make_dattri(out: Path, n_subsets: int = 12) -> dict[str, Path | np.ndarray]:
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
        for _ in range(15):
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


if __name__ == "__main__":  # pragma: no cover - manual regeneration
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "peer_files")
    print("trak", make_trak(root / "trak", ("quickstart", "second"))[0])
    print("kronfluence", make_kronfluence(root / "kronfluence")[0])
    print("dattri", make_dattri(root / "dattri")["scores"])
    print("quanda", make_quanda_cache(root / "quanda")[0])
