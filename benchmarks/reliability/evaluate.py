"""Evaluate ground-truth-free reliability signals against LDS on the benchmark's matrices.

Usage::

    python benchmarks/reliability/evaluate.py [--data DIR] [--set design|heldout|fresh|test|all]

Reads the matrices and LDS written by ``run.py``, computes every candidate signal with
``aria.diagnostics.reliability_score`` (and the paper's four with ``aria.diagnose``), orients each
signal as declared in ``ORIENTATION`` (fixed before looking at the data: +1 = higher is claimed to be
more reliable), and reports Kendall's tau with LDS:

* ``tau_within``: Kendall tau-b inside each domain (the matrices of one domain share one ground
  truth), combined over domains weighted by their number of pairs; this is the headline number;
* ``tau_pooled``: tau-b over all matrices of the set at once (mixes the domains' LDS scales);
* a 95% percentile interval from a bootstrap over matrices, resampled within each domain
  (``BOOT`` resamples, seed ``BOOT_SEED``).

The reference ceiling: tau between the LDS against one half of the retraining runs and the other.
Writes ``results/signals.csv`` (every matrix, every signal) and ``results/taus_<set>.csv``/``.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

import configs  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BOOT = 2000
BOOT_SEED = 7
TOP_K = 10

#: +1: higher claimed more reliable; -1: lower claimed more reliable (the paper's reading for
#: rho_bar, E1, C_bar; RelatIF's for global influence). Declared before the design data was seen.
ORIENTATION = {
    "rho_bar": -1, "E1": -1, "E2_5": +1, "C_bar": -1, "U1": -1,
    "track_coherence": +1, "track_coherence_rank": +1,
    "group_contrast": +1, "label_contrast": +1,
    "spike_energy": +1, "spike_energy_2": +1,
    "topk_overlap": -1, "global_share": -1,
}
#: Variants tried on the design set after seeing the candidates above (post hoc; reported on both
#: sets so that the selection can be judged), and the chosen score.
EXPLORED = {
    "top_mate_hit": +1, "kurtosis": +1, "tc_over_rho": +1, "mean_tc_gc": +1,
    "reliability_score": +1,
}


def top_mate_hit(s: np.ndarray, tracks: np.ndarray, k: int = TOP_K, frac: float = 0.1) -> float:
    """Per query, for each top-k row: the share of its track-mates ranked in the top ``frac``;
    averaged over rows and queries, minus ``frac`` (chance)."""
    n, q = s.shape
    codes = pd.factorize(pd.Series(tracks))[0]
    ranks = stats.rankdata(-s, axis=0)
    top = np.argsort(-s, axis=0, kind="stable")[:k]
    per_query = []
    for j in range(q):
        vals = []
        for i in top[:, j]:
            mates = np.flatnonzero((codes == codes[i]) & (np.arange(n) != i))
            if mates.size:
                vals.append(np.mean(ranks[mates, j] <= frac * n))
        if vals:
            per_query.append(np.mean(vals))
    return float(np.mean(per_query) - frac) if per_query else math.nan


def column_ranks(s: np.ndarray) -> np.ndarray:
    return stats.rankdata(s, axis=0)


def signals_of(s: np.ndarray, tracks: np.ndarray, queries: pd.DataFrame) -> dict[str, float]:
    """Every candidate signal of one matrix."""
    import aria
    from aria.diagnostics import reliability_score as rs

    sc = aria.scores_from_array(s, query_ids=queries["query"].to_numpy(), segment_track=tracks)
    d = aria.diagnose(sc)
    out = {"rho_bar": d.mean_abs_interquery_corr, "E1": d.energy_ratio_1, "E2_5": d.energy_ratio_2_5,
           "C_bar": d.mean_concentration, "U1": d.v1_uniformity}
    out["track_coherence"] = rs.track_coherence(s, tracks)[0]
    out["track_coherence_rank"] = rs.track_coherence(column_ranks(s), tracks)[0]
    usable = ~np.isin(d.query_ids, d.excluded_correlation)
    out["group_contrast"] = rs.group_contrast(d.correlation, queries["group"].to_numpy()[usable])[0]
    out["label_contrast"] = rs.group_contrast(d.correlation, queries["label"].to_numpy()[usable])[0]
    out.update({k: v for k, v in rs.spike_energy(d.correlation, s.shape[0]).items()
                if k in ("spike_energy", "spike_energy_2")})
    top = rs.topk_signals(s, TOP_K)
    out["topk_overlap"], out["global_share"] = top["excess"], top["global_share"]
    out["top_mate_hit"] = top_mate_hit(s, tracks)
    out["kurtosis"] = float(np.median(stats.kurtosis(s, axis=0)))
    out["tc_over_rho"] = out["track_coherence"] / out["rho_bar"]
    out["mean_tc_gc"] = (out["track_coherence"] + out["group_contrast"]) / 2
    res = rs.reliability_score(sc, d, query_groups=queries["group"].to_numpy())
    out["reliability_score"] = res.score
    out["reliability_score_no_groups"] = rs.reliability_score(sc, d).score
    return out


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return math.nan
    return float(stats.kendalltau(x[ok], y[ok]).statistic)


def _within(parts: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Pair-weighted mean over domains of the within-domain tau-b, from (signal, LDS) arrays."""
    num = den = 0.0
    for x, y in parts:
        t = kendall(x, y)
        n = int((np.isfinite(x) & np.isfinite(y)).sum())
        if math.isfinite(t):
            w = n * (n - 1) / 2
            num += w * t
            den += w
    return num / den if den else math.nan


def within_tau(frame: pd.DataFrame, col: str, target: str = "lds") -> float:
    """Pair-weighted mean over domains of the within-domain tau-b."""
    return _within([(g[col].to_numpy(float), g[target].to_numpy(float))
                    for _, g in frame.groupby("domain")])


def boot_ci(frame: pd.DataFrame, col: str, rng: np.random.Generator, target: str = "lds") -> list[float]:
    """95% percentile interval of :func:`within_tau` over matrices resampled within domains."""
    groups = [(g[col].to_numpy(float), g[target].to_numpy(float)) for _, g in frame.groupby("domain")]
    vals = []
    for _ in range(BOOT):
        parts = []
        for x, y in groups:
            i = rng.integers(0, len(x), len(x))
            parts.append((x[i], y[i]))
        vals.append(_within(parts))
    v = np.asarray(vals)
    v = v[np.isfinite(v)]
    return [float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))] if v.size else [math.nan] * 2


def _git_state() -> dict:
    import subprocess

    def git(*a):
        return subprocess.run(["git", *a], cwd=HERE, capture_output=True, text=True).stdout.strip()

    module = "aria/diagnostics/reliability_score.py"
    return {"commit": git("rev-parse", "HEAD"),
            "module_modified": bool(git("status", "--porcelain", "--", str(HERE.parents[1] / module)))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/aria-reliability-bench"))
    ap.add_argument("--set", choices=("design", "heldout", "fresh", "test", "all"), default="design",
                    help="test = heldout + fresh (every matrix nothing was designed on)")
    args = ap.parse_args(argv)
    committed = json.loads((RESULTS / "split.json").read_text())
    if committed != configs.split_record():
        raise SystemExit("results/split.json differs from configs.split_record(): the split moved")
    mats = pd.read_csv(RESULTS / "matrices.csv")
    rows = []
    for dom in [*configs.DOMAINS, *configs.FRESH_DOMAINS]:
        ddir = args.data / dom
        if not (mats["domain"] == dom).any():
            continue
        tracks = pd.read_csv(ddir / "tracks.csv", dtype=str)["track"].to_numpy()
        queries = pd.read_csv(ddir / "queries.csv", dtype=str, keep_default_na=False)
        for _, m in mats[mats["domain"] == dom].iterrows():
            wanted = {"test": ("heldout", "fresh"), "all": ("design", "heldout", "fresh")}.get(
                args.set, (args.set,))
            if m["set"] not in wanted:
                continue
            with np.load(ddir / "matrices" / f"{m['setting']}.npz", allow_pickle=False) as z:
                s = z["scores"]
            rows.append({**m.to_dict(), **signals_of(s, tracks, queries)})
    frame = pd.DataFrame(rows)
    orientation = {**ORIENTATION, **EXPLORED, "reliability_score_no_groups": +1}
    sig_cols = [c for c in frame.columns if c in orientation]
    rng = np.random.default_rng(BOOT_SEED)
    taus = []
    for col in sig_cols:
        sign = orientation[col]
        frame[f"_o_{col}"] = sign * frame[col]
        ci = boot_ci(frame, f"_o_{col}", rng)
        taus.append({"signal": col, "orientation": sign,
                     "kind": ("a priori" if col in ORIENTATION else
                              "score" if col.startswith("reliability_score") else "design variant"),
                     "tau_within": within_tau(frame, f"_o_{col}"),
                     "ci_low": ci[0], "ci_high": ci[1],
                     "tau_pooled": kendall(frame[f"_o_{col}"].to_numpy(float), frame["lds"].to_numpy(float)),
                     **{f"tau_{d}": kendall(g[f"_o_{col}"].to_numpy(float), g["lds"].to_numpy(float))
                        for d, g in frame.groupby("domain")}})
    ceiling = within_tau(frame, "lds_half_a", "lds_half_b")
    taus.append({"signal": "LDS half A vs half B (ceiling)", "orientation": 1, "tau_within": ceiling,
                 "tau_pooled": kendall(frame["lds_half_a"].to_numpy(float),
                                       frame["lds_half_b"].to_numpy(float))})
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("_o_")])
    tau_frame = pd.DataFrame(taus)
    RESULTS.mkdir(exist_ok=True)
    frame.round(6).to_csv(RESULTS / f"signals_{args.set}.csv", index=False)
    tau_frame.round(4).to_csv(RESULTS / f"taus_{args.set}.csv", index=False)
    meta = {"set": args.set, "n_matrices": int(len(frame)),
            "per_domain": {d: int((frame["domain"] == d).sum())
                           for d in [*configs.DOMAINS, *configs.FRESH_DOMAINS]},
            "bootstrap": {"resamples": BOOT, "seed": BOOT_SEED, "level": 0.95,
                          "scheme": "matrices resampled with replacement within each domain"},
            "score_definition_commit": _git_state(),
            "taus": json.loads(tau_frame.to_json(orient="records"))}
    (RESULTS / f"taus_{args.set}.json").write_text(json.dumps(meta, indent=1) + "\n")
    pd.set_option("display.width", 200)
    print(frame[["id", "family", "lds", *sig_cols]].round(3).to_string(index=False))
    print()
    print(tau_frame.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
