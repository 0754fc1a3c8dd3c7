"""Build the reliability benchmark: score matrices from dattri's attributors and LDS ground truth.

Usage::

    nice -n 10 python benchmarks/reliability/run.py [--data DIR] [--subsets 100] [--runs 4]

For each domain of ``domains.py`` it

1. trains 10 models on the full training set (seeds 0..9; model 0 also keeps 10 evenly spaced
   checkpoints for TracIn);
2. computes the 21 score matrices of ``configs.py`` with dattri 0.3.0: ``TRAKAttributor`` on the first
   1/2/5/10 models with projection dimension 32, 128 or 0.9 N (regularization 0, dattri's default;
   classification: the margin log(p / (1 - p)) as output function, as dattri's examples; regression:
   the model output with Q = the residual, and -loss as the test function),
   ``TracInAttributor`` over 1/3/10 of the 10 checkpoints (the centres of 1/3/10 equal parts of
   training; weights = learning rate), GradDot and GradCos
   (``TracInAttributor`` on the final model, ``normalized_grad`` False/True), influence functions with
   an explicit damped Hessian and its RelatIF-normalized version, and seeded Gaussian random scores;
3. retrains models on random half subsets with ``dattri.model_util.retrain.retrain_lds``
   (``--subsets`` subsets x ``--runs`` runs each), reads the targets with
   ``dattri.metric.calculate_lds_ground_truth`` (mean over the runs, negated loss) and, per run, for
   the split-half reliability of the ground truth;
4. computes every matrix's LDS with ``aria.evaluate.lds`` (checked against ``dattri.metric.lds``),
   and the LDS against each half of the runs.

Everything large (models, matrices, ground truth) is written under ``--data`` (default
``/tmp/aria-reliability-bench``), as Aria inputs: ``<domain>/matrices/<setting>.npz``,
``<domain>/tracks.csv``, ``<domain>/queries.csv``, ``<domain>/GT.npz``. The small summary goes to
``results/benchmark.json`` and ``results/matrices.csv`` (committed). Stages already done are reused.

Deviations from plain dattri calls, each because dattri 0.3.0 would otherwise be wrong or too slow:
projector keyword arguments are passed in full every time (its attributors update a module-level
default dict in place, so settings leak between instances); TracIn/GradDot/GradCos use exact
gradients (``projector_kwargs = None`` after construction: the models have ~2k parameters);
influence functions compute the damped Hessian once (row by row, double backward) on dattri's
task loss (``IFAttributorExplicit`` recomputes it for every train x test batch pair, i.e. N x Q times).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("TQDM_DISABLE", "1")  # dattri's nested progress bars
sys.path.insert(0, str(Path(__file__).resolve().parent))

import configs  # noqa: E402
import domains  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
N_MODELS = 10
N_CKPTS = 10
LDS_SEED = {"music": 1000, "digits": 2000, "regression": 3000}
IF_DAMPING = 1e-3


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def save_npz(path: Path, **arrays) -> None:
    tmp = path.with_name(path.stem + ".part.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def loaders(dom: domains.Domain, batch_train: int, batch_test: int):
    from torch.utils.data import DataLoader, TensorDataset

    tr = TensorDataset(dom.train_x, dom.train_y, torch.arange(dom.n_train))
    te = TensorDataset(dom.test_x, dom.test_y, torch.arange(dom.test_x.shape[0]))
    return (DataLoader(tr, batch_size=batch_train, shuffle=False),
            DataLoader(te, batch_size=batch_test, shuffle=False))


def _xy(data):
    """(x, y) of a batch, a single example made a batch of one."""
    x, y = data[0], data[1]
    if x.dim() == 1:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    return x, y


def task_functions(model: torch.nn.Module):
    """dattri loss functions: cross-entropy (mean over a batch) and TRAK's margin with its probability."""

    def ce_loss(params, data):
        x, y = _xy(data)
        out = torch.func.functional_call(model, params, (x,))
        return domains.per_example(out, y).mean()

    def margin(params, data):
        logp = -ce_loss(params, data)
        return logp - torch.log(1 - torch.exp(logp))

    def correct_prob(params, data):
        return torch.exp(-ce_loss(params, data))

    return ce_loss, margin, correct_prob


def regression_trak_functions(model: torch.nn.Module):
    """TRAK for squared error: train output function f(x), Q = residual y - f(x) (dattri computes
    Q = 1 - p, so p = 1 - residual), test function -loss (monotone in the LDS target)."""

    def output(params, data):
        x, _ = _xy(data)
        return torch.func.functional_call(model, params, (x,)).sum()

    def neg_loss(params, data):
        x, y = _xy(data)
        return -domains.per_example(torch.func.functional_call(model, params, (x,)), y).mean()

    def one_minus_residual(params, data):
        x, y = _xy(data)
        return 1 - (y - torch.func.functional_call(model, params, (x,))).sum()

    return output, neg_loss, one_minus_residual


def train_models(dom: domains.Domain, ddir: Path, timings: dict) -> tuple[list[dict], list[dict]]:
    path = ddir / "models.pt"
    if path.exists():
        blob = torch.load(path, weights_only=True)
        return blob["final"], blob["ckpts"]
    t0 = time.perf_counter()
    epochs = domains.EPOCHS[dom.name]
    ck_epochs = tuple(int(round(epochs * (k + 1) / N_CKPTS)) for k in range(N_CKPTS))
    finals, ckpts = [], []
    for seed in range(N_MODELS):
        model, ck = domains.train(dom.name, dom.train_x, dom.train_y, seed,
                                  checkpoint_epochs=ck_epochs if seed == 0 else ())
        finals.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        if seed == 0:
            ckpts = ck
    torch.save({"final": finals, "ckpts": ckpts}, path)
    timings["train_models_s"] = time.perf_counter() - t0
    return finals, ckpts


def per_sample_grads(task, ckpt_idx: int, loader) -> torch.Tensor:
    params, _ = task.get_param(ckpt_idx=ckpt_idx)
    f = task.get_grad_loss_func(in_dims=(None, 0), ckpt_idx=ckpt_idx)
    return torch.cat([f(params, tuple(b)) for b in loader]).detach()


def hessian_rows(f, params: torch.Tensor) -> torch.Tensor:
    """Hessian of a scalar function, one double-backward row at a time (memory: one graph).

    ``torch.func.hessian`` holds every column's intermediates at once: 9 GB for the music model.
    """
    p = params.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(p), p, create_graph=True)
    rows = [torch.autograd.grad(g[j], p, retain_graph=True)[0] for j in range(p.numel())]
    return torch.stack(rows).detach().double()


def influence_scores(dom: domains.Domain, final: dict, relatif: bool) -> tuple[np.ndarray, dict]:
    """g_train^T (H + lambda I)^-1 g_test on the final model 0 (RelatIF: rows / sqrt(g^T H^-1 g))."""
    from dattri.task import AttributionTask

    model = dom.model()
    ce_loss, _, _ = task_functions(model)
    task = AttributionTask(loss_func=ce_loss, model=model, checkpoints=[final])
    tr_loader, te_loader = loaders(dom, 64, 128)
    g_tr = per_sample_grads(task, 0, tr_loader).double()
    g_te = per_sample_grads(task, 0, te_loader).double()
    params, _ = task.get_param(ckpt_idx=0)
    full = (dom.train_x, dom.train_y, torch.arange(dom.n_train))
    hess = hessian_rows(lambda p: task.loss_func(p, full), params)
    hess = (hess + hess.T) / 2
    lam_min = float(torch.linalg.eigvalsh(hess)[0])
    damping = IF_DAMPING + max(0.0, -lam_min)
    hinv_te = torch.linalg.solve(hess + damping * torch.eye(hess.shape[0], dtype=hess.dtype), g_te.T)
    scores = g_tr @ hinv_te
    info = {"hessian_min_eig": lam_min, "damping": damping}
    if relatif:
        hinv_tr = torch.linalg.solve(hess + damping * torch.eye(hess.shape[0], dtype=hess.dtype), g_tr.T)
        self_inf = (g_tr * hinv_tr.T).sum(dim=1).clamp_min(1e-12).sqrt()
        scores = scores / self_inf[:, None]
    return scores.numpy(), info


def compute_matrix(cfg: configs.MatrixConfig, dom: domains.Domain, finals: list[dict],
                   ckpts: list[dict]) -> tuple[np.ndarray, dict]:
    """Score matrix (N x Q, float64) of one setting, and what was used."""
    from dattri.algorithm.tracin import TracInAttributor
    from dattri.algorithm.trak import TRAKAttributor
    from dattri.task import AttributionTask

    n, q = dom.n_train, dom.test_x.shape[0]
    if cfg.family == "random":
        rng = np.random.default_rng([LDS_SEED[dom.name], cfg.seed])
        return rng.standard_normal((n, q)), {"rng_seed": [LDS_SEED[dom.name], cfg.seed]}
    if cfg.family == "IF":
        return influence_scores(dom, finals[0], relatif=cfg.setting == "if-relatif")
    model = dom.model()
    ce_loss, margin, correct_prob = task_functions(model)
    if cfg.family == "TRAK":
        proj = int(round(0.9 * n)) if cfg.proj == "near-N" else int(cfg.proj)
        if dom.name == "regression":
            output, neg_loss, correct_prob = regression_trak_functions(model)
            task = AttributionTask(loss_func=output, model=model, checkpoints=finals[:cfg.ensemble],
                                   target_func=neg_loss)
        else:
            task = AttributionTask(loss_func=margin, model=model, checkpoints=finals[:cfg.ensemble])
        kwargs = {"proj_dim": proj, "proj_max_batch_size": 32, "proj_seed": 0, "device": "cpu",
                  "proj_type": "normal"}
        attr = TRAKAttributor(task=task, correct_probability_func=correct_prob,
                              projector_kwargs=dict(kwargs), device="cpu")
        attr.projector_kwargs = dict(kwargs)
        tr_loader, te_loader = loaders(dom, 64, 128)
        attr.cache(tr_loader)
        with torch.no_grad():
            s = attr.attribute(te_loader)
        return s.double().numpy(), {"proj_dim": proj, "models": cfg.ensemble}
    if cfg.family == "TracIn":
        # the centres of cfg.checkpoints equal parts of training (1 -> the middle checkpoint:
        # the final one alone would be GradDot again)
        idx = np.floor((np.arange(cfg.checkpoints) + 0.5) * N_CKPTS / cfg.checkpoints).astype(int)
        chosen = [ckpts[i] for i in idx]
        weights = torch.full((len(chosen),), domains.LR[dom.name])
        normalized = False
        info = {"checkpoint_epochs_index": idx.tolist()}
    else:  # GradDot / GradCos: the final model 0
        chosen, weights = [finals[0]], torch.ones(1)
        normalized = cfg.family == "GradCos"
        info = {}
    task = AttributionTask(loss_func=ce_loss, model=model, checkpoints=chosen)
    attr = TracInAttributor(task=task, weight_list=weights, normalized_grad=normalized, device="cpu")
    attr.projector_kwargs = None  # exact gradients
    tr_loader, te_loader = loaders(dom, 64, 128)
    s = attr.attribute(tr_loader, te_loader)
    return s.double().numpy(), info


def retrain_ground_truth(dom: domains.Domain, ddir: Path, n_subsets: int, n_runs: int,
                         timings: dict) -> dict:
    """dattri retrain_lds + calculate_lds_ground_truth; per-run targets for the split-half check."""
    import yaml
    from dattri.metric import calculate_lds_ground_truth
    from dattri.model_util.retrain import retrain_lds
    from torch.utils.data import DataLoader, TensorDataset

    gt_path = ddir / "GT.npz"
    if gt_path.exists():
        with np.load(gt_path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    rdir = ddir / "retrain"
    meta = rdir / "metadata.yml"
    if not meta.exists():
        if rdir.exists():
            shutil.rmtree(rdir)
        ds = TensorDataset(dom.train_x, dom.train_y, torch.arange(dom.n_train))
        t0 = time.perf_counter()
        retrain_lds(domains.make_train_func(dom.name), DataLoader(ds, batch_size=64), str(rdir),
                    num_subsets=n_subsets, subset_ratio=0.5, num_runs_per_subset=n_runs,
                    seed=LDS_SEED[dom.name])
        timings["retrain_s"] = time.perf_counter() - t0
        timings["retrain_models"] = n_subsets * n_runs
    model = dom.model()
    _, te_loader = loaders(dom, 256, 256)

    def target_func(ckpt_path, dataloader):
        model.load_state_dict(torch.load(ckpt_path, weights_only=True))
        model.eval()
        with torch.no_grad():
            return torch.cat([domains.per_example(model(b[0]), b[1]) for b in dataloader])

    t0 = time.perf_counter()
    targets, indices = calculate_lds_ground_truth(target_func, str(rdir), te_loader)
    md = yaml.safe_load(meta.read_text())
    runs = np.zeros((md["num_runs_per_subset"], md["num_subsets"], dom.test_x.shape[0]))
    for i in range(md["num_subsets"]):
        for j in range(md["num_runs_per_subset"]):
            runs[j, i] = -target_func(Path(md["subset_dir_map"][i]) / f"model_weights_{j}.pt",
                                      te_loader).numpy()
    timings["targets_s"] = time.perf_counter() - t0
    assert np.allclose(runs.mean(axis=0), targets.numpy(), atol=1e-5), "per-run targets disagree"
    gt = {"subsets": indices.numpy().astype(np.int64), "targets": targets.double().numpy(),
          "query_ids": dom.query_ids.astype(str), "run_targets": runs}
    save_npz(gt_path, **gt)
    return gt


def spearman_brown(r: float) -> float:
    return 2 * r / (1 + r) if math.isfinite(r) and r > -1 else math.nan


def run_domain(name: str, data: Path, n_subsets: int, n_runs: int) -> tuple[dict, list[dict]]:
    import pandas as pd
    from scipy import stats

    from aria.evaluate.lds import GroundTruth, lds
    from aria.io.scores import scores_from_array

    ddir = data / name
    (ddir / "matrices").mkdir(parents=True, exist_ok=True)
    timings: dict = {}
    t0 = time.perf_counter()
    dom = {"music": lambda: domains.music_domain(data), "digits": domains.digits_domain,
           "regression": domains.regression_domain}[name]()
    timings["data_s"] = time.perf_counter() - t0
    pd.DataFrame({"segment": np.arange(dom.n_train), "track": dom.segment_track}).to_csv(
        ddir / "tracks.csv", index=False)
    pd.DataFrame({"query": dom.query_ids, "group": dom.query_group, "label": dom.query_label}).to_csv(
        ddir / "queries.csv", index=False)
    log(f"{name}: N={dom.n_train} segments, {len(set(dom.segment_track))} tracks, "
        f"Q={len(dom.query_ids)} queries")
    finals, ckpts = train_models(dom, ddir, timings)
    rows = []
    for cfg in configs.domain_configs(name):
        path = ddir / "matrices" / f"{cfg.setting}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as z:
                info = json.loads(str(z["info"]))
        else:
            t1 = time.perf_counter()
            s, info = compute_matrix(cfg, dom, finals, ckpts)
            info["seconds"] = time.perf_counter() - t1
            if not np.isfinite(s).all():
                info["non_finite"] = int((~np.isfinite(s)).sum())
            save_npz(path, scores=s, segment_track=dom.segment_track.astype(str),
                     query_ids=dom.query_ids.astype(str), info=np.array(json.dumps(info)))
            log(f"{cfg.id}: {info['seconds']:.1f} s")
        rows.append({"id": cfg.id, "domain": name, "family": cfg.family, "setting": cfg.setting,
                     "matrix": str(path.relative_to(data)), "attribution_s": info.get("seconds"),
                     "info": info})
    gt = retrain_ground_truth(dom, ddir, n_subsets, n_runs, timings)
    full = GroundTruth.from_indices(gt["subsets"], gt["targets"], dom.n_train, query_ids=gt["query_ids"])
    runs = gt["run_targets"]
    half = runs.shape[0] // 2
    halves = [GroundTruth(full.subsets, runs[:half].mean(axis=0), query_ids=gt["query_ids"]),
              GroundTruth(full.subsets, runs[half:2 * half].mean(axis=0), query_ids=gt["query_ids"])]
    # split-half reliability of the targets: per query, Spearman across subsets between the halves
    from aria.evaluate.lds import spearman_columns

    r_q, _ = spearman_columns(halves[0].targets, halves[1].targets)
    check = None
    for row in rows:
        with np.load(data / row["matrix"], allow_pickle=False) as z:
            s = z["scores"]
        sc = scores_from_array(s, query_ids=dom.query_ids, segment_track=dom.segment_track)
        row["lds"] = lds(sc, full).mean
        row["lds_half_a"] = lds(sc, halves[0]).mean
        row["lds_half_b"] = lds(sc, halves[1]).mean
        if check is None:
            from dattri.metric import lds as dattri_lds

            d_lds = dattri_lds(torch.as_tensor(s), (torch.as_tensor(gt["targets"]),
                                                      torch.as_tensor(gt["subsets"])))[0]
            check = float(abs(np.nanmean(d_lds.numpy()) - row["lds"]))
    la = np.array([r["lds_half_a"] for r in rows])
    lb = np.array([r["lds_half_b"] for r in rows])
    rel = {
        "n_subsets": int(full.n_subsets), "runs_per_subset": int(runs.shape[0]),
        "subset_ratio": 0.5,
        "target_split_half_spearman_mean": float(np.nanmean(r_q)),
        "target_split_half_spearman_brown": spearman_brown(float(np.nanmean(r_q))),
        "lds_halves_kendall_tau": float(stats.kendalltau(la, lb).statistic),
        "lds_halves_pearson": float(stats.pearsonr(la, lb).statistic),
        "lds_halves_spearman_brown": spearman_brown(float(stats.pearsonr(la, lb).statistic)),
        "aria_vs_dattri_lds_abs_diff": check,
    }
    info = {"domain": name, **dom.info, "n_segments": dom.n_train,
            "n_tracks": len(set(dom.segment_track)), "n_queries": len(dom.query_ids),
            "n_query_groups": len(set(dom.query_group)), "n_labels": len(set(dom.query_label)),
            "parameters": sum(p.numel() for p in dom.model().parameters()),
            "epochs": domains.EPOCHS[name], "lr": domains.LR[name], "batch": domains.BATCH,
            "ground_truth": rel, "timings_s": timings}
    log(f"{name}: ground truth {json.dumps(rel)}")
    return info, rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/aria-reliability-bench"))
    ap.add_argument("--subsets", type=int, default=100)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--domains", nargs="+", default=list(configs.DOMAINS),
                    choices=[*configs.DOMAINS, *configs.FRESH_DOMAINS])
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    args.data.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    load0 = os.getloadavg()
    infos, rows = [], []
    for name in args.domains:
        info, r = run_domain(name, args.data, args.subsets, args.runs)
        infos.append(info)
        rows += r
    for r in rows:
        r["set"] = configs.set_of(r["id"])
    import dattri

    summary = {
        "command": "python benchmarks/reliability/run.py " + " ".join(argv or sys.argv[1:]),
        "data_dir": str(args.data),
        "domains": infos,
        "wall_s": time.perf_counter() - t0,
        "loadavg_start": list(load0), "loadavg_end": list(os.getloadavg()),
        "cpu_count": os.cpu_count(), "torch_threads": 1,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__, "dattri": getattr(dattri, "__version__", "0.3.0")},
        "split_seed": configs.SPLIT_SEED,
    }
    RESULTS.mkdir(exist_ok=True)
    # domains run earlier (e.g. the fresh one added later) keep their rows and summary
    bench = RESULTS / "benchmark.json"
    runs = json.loads(bench.read_text()).get("runs", []) if bench.exists() else []
    runs = [r for r in runs if not set(r["domains_run"]) & set(args.domains)]
    summary["domains_run"] = list(args.domains)
    bench.write_text(json.dumps({"runs": [*runs, summary]}, indent=1) + "\n")
    cols = ["id", "domain", "family", "setting", "set", "lds", "lds_half_a", "lds_half_b",
            "attribution_s"]
    old_rows = []
    if (RESULTS / "matrices.csv").exists():
        with (RESULTS / "matrices.csv").open() as fh:
            old_rows = [r for r in csv.DictReader(fh) if r["domain"] not in args.domains]
    order = [*configs.DOMAINS, *configs.FRESH_DOMAINS]
    with (RESULTS / "matrices.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in sorted([*old_rows, *rows], key=lambda r: order.index(r["domain"])):
            w.writerow({k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()})
    log(f"done in {summary['wall_s']:.0f} s -> {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
