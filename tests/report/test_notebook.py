"""The walkthrough notebook runs end to end and prints what the CLI prints for the same input."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "aria-walkthrough.ipynb"


def _cli(*args, cwd):
    out = subprocess.run([sys.executable, "-m", "aria", *args], capture_output=True, text=True, cwd=cwd,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    work = tmp_path_factory.mktemp("nb")
    mp = pytest.MonkeyPatch()
    mp.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout of aria
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(work)}}).execute()
    finally:
        mp.undo()
    return nb, work


def _text(nb):
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream":
                parts.append(out.text)
            elif "text/plain" in out.get("data", {}):
                parts.append(out.data["text/plain"])
    return "\n".join(parts)


def test_notebook_runs_and_shows_figures(executed):
    nb, work = executed
    text = _text(nb)
    n_png = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert n_png == 11
    assert (work / "aria-walkthrough-report" / "report.html").stat().st_size > 10_000
    assert f"aria {__import__('aria').__version__}" in text


def test_notebook_numbers_match_cli(executed, tmp_path):
    nb, _ = executed
    text = _text(nb)
    diag = json.loads(_cli("diagnose", "--example", "query-dependent", "--json", cwd=tmp_path))
    for key in ("mean_abs_interquery_corr", "energy_ratio_1", "energy_ratio_2_5", "mean_concentration",
                "v1_uniformity"):
        found = re.search(rf'"{key}": ([-0-9.e]+)', text)
        assert found, key
        # the kernel and the CLI may differ in the last ulp (BLAS threading)
        assert float(found.group(1)) == pytest.approx(diag[key], rel=1e-12, abs=1e-14)
    assert f'"verdict": "{diag["verdict"]}"' in text
    table = _cli("diagnose", "--example", "query-dependent", cwd=tmp_path)
    for line in table.splitlines()[2:9]:
        assert line.split(":")[-1].strip() in text

    import aria.examples
    from aria.examples import bach_scores as bach

    gt = bach.ground_truth()
    gt_path = tmp_path / "gt.npz"
    np.savez(gt_path, subsets=gt.subsets, targets=gt.targets, query_ids=gt.query_ids)
    cmp_out = _cli("compare", "--example", "bach-knn", "--example", "bach-random", "--example",
                   "bach-collapsed", "--features", str(aria.examples.features_path()), "--k", "10",
                   "--lds-gt", str(gt_path), cwd=tmp_path)
    lines = [ln for ln in cmp_out.splitlines() if ln.strip()]
    assert any(ln.startswith("bach-knn") for ln in lines)
    for line in lines:
        assert line in text, line
