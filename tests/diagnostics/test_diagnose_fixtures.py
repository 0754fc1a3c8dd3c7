"""Stored fixtures (mir_eval style): small matrices and their diagnostics computed independently.

The inputs and expected outputs in tests/fixtures/ are written by tests/fixtures/generate.py
with dense float64 numpy (``corrcoef``, ``svd``) from the formulas of docs/formulas.md section 1,
without Aria. Aria's streamed, Gram-matrix computation must agree to 1e-12 for any block size.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import aria

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = sorted(p.stem.removeprefix("diag_") for p in FIXTURES.glob("diag_*.npz"))
TOL = 1e-12


def load(case):
    with np.load(FIXTURES / f"diag_{case}.npz", allow_pickle=False) as z:
        scores = aria.scores_from_array(z["scores"], query_ids=z["query_ids"])
    expected = json.loads((FIXTURES / f"diag_{case}.json").read_text())
    return scores, expected


def close(actual, expected):
    if expected is None:
        return actual is None or not np.isfinite(actual)
    return abs(actual - expected) <= TOL


def test_the_fixture_set_covers_every_verdict():
    assert len(CASES) >= 6
    verdicts = {json.loads((FIXTURES / f"diag_{c}.json").read_text())["verdict"] for c in CASES}
    assert verdicts == {"collapsed", "offset-dominated", "query-dependent", "undetermined"}


@pytest.mark.parametrize("block_rows", [2048, 7])
@pytest.mark.parametrize("case", CASES)
def test_diagnostics_match_stored_fixture(case, block_rows):
    scores, exp = load(case)
    d = aria.diagnose(scores, block_rows=block_rows)
    got = d.to_dict()
    assert (got["n_segments"], got["n_queries"]) == (exp["n_segments"], exp["n_queries"])
    for key in ("mean_abs_interquery_corr", "energy_ratio_1", "energy_ratio_2_5", "v1_uniformity",
                "mean_concentration"):
        assert close(got[key], exp[key]), (key, got[key], exp[key])
    for key in ("sigma_1", "frobenius_norm_sq"):  # scale-dependent: relative
        assert got[key] == pytest.approx(exp[key], rel=TOL, abs=0), key
    np.testing.assert_allclose(got["energy_spectrum"], exp["energy_spectrum"], rtol=0, atol=TOL)
    conc = np.array([np.nan if x is None else x for x in exp["concentration"]])
    np.testing.assert_allclose(d.concentration, conc, rtol=0, atol=TOL, equal_nan=True)
    assert d.excluded_correlation == exp["excluded_correlation"]
    assert d.excluded_concentration == exp["excluded_concentration"]
    assert d.verdict == exp["verdict"]
    assert any(n.startswith("partial offset") for n in d.notes) == ("partial offset" in exp["notes"])


def test_a_wrong_value_is_caught():
    """The comparison can fail: a diagnostic off by 1e-9 is outside the tolerance."""
    scores, exp = load("query_dependent")
    got = aria.diagnose(scores).to_dict()
    assert close(got["energy_ratio_1"], exp["energy_ratio_1"])
    assert not close(got["energy_ratio_1"] + 1e-9, exp["energy_ratio_1"])


def test_stored_fixtures_are_what_the_generator_writes(tmp_path):
    """tests/fixtures/generate.py reproduces every stored input exactly and every output to 1e-12."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fixture_generator", FIXTURES / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    written = gen.write_all(tmp_path)
    assert {p.name for p in written} == {p.name for p in FIXTURES.iterdir()
                                         if p.is_file() and p.name != "generate.py"}
    assert sum(p.stat().st_size for p in written) < 50_000
    for p in written:
        stored = FIXTURES / p.name
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as a, np.load(stored, allow_pickle=False) as b:
                assert sorted(a.files) == sorted(b.files)
                for k in a.files:
                    np.testing.assert_array_equal(a[k], b[k])
        elif p.suffix == ".json":
            _assert_json_close(json.loads(p.read_text()), json.loads(stored.read_text()), p.name)
        elif p.suffix == ".parquet":
            import pandas as pd

            pd.testing.assert_frame_equal(pd.read_parquet(p), pd.read_parquet(stored))
        else:
            assert p.read_text() == stored.read_text(), p.name


def _assert_json_close(a, b, where):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_json_close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_json_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) <= TOL * max(1.0, abs(b)), where
    else:
        assert a == b, where
