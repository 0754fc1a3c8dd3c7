"""The validation layer: constraint kinds, validate_params, every public function's declared checks."""

import importlib
import inspect
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import aria
from aria.errors import AriaInputError
from aria.params import (
    SHORTCUTS,
    STREAMING,
    Array,
    InstanceOf,
    Interval,
    MappingOf,
    Options,
    SequenceOf,
    check_params,
    constraints_of,
    describe,
    validate_params,
)


def _msg(func, *args, **kwargs) -> AriaInputError:
    with pytest.raises(AriaInputError) as e:
        func(*args, **kwargs)
    return e.value


# ---------------------------------------------------------------------------------------------
# constraint kinds, hand examples


def test_interval_integers():
    c = Interval(int, 1, None)
    assert [c.is_satisfied_by(v) for v in (1, 7, np.int64(3), np.uint8(1))] == [True] * 4
    assert [c.is_satisfied_by(v) for v in (0, -3, True, 1.0, "1", None, np.float64(2))] == [False] * 7
    assert c.describe() == "an integer >= 1" and c.describe(plural=True) == "integers >= 1"
    c = Interval(int, 0, 11)
    assert c.is_satisfied_by(0) and c.is_satisfied_by(11) and not c.is_satisfied_by(12)
    assert c.describe() == "an integer in [0, 11]"


def test_interval_reals_and_closedness():
    c = Interval(float, 0, 1)
    assert all(c.is_satisfied_by(v) for v in (0, 1, 0.5, np.float32(0.25), 1.0))
    assert not any(c.is_satisfied_by(v) for v in (-1e-9, 1.0000001, math.nan, False, "0.5"))
    assert c.describe() == "a number in [0, 1]"
    opened = Interval(float, 0, None, closed="neither")
    assert not opened.is_satisfied_by(0.0) and opened.is_satisfied_by(1e-300)
    assert opened.is_satisfied_by(math.inf)
    assert opened.describe() == "a number > 0"
    half = Interval(float, 0, 1, closed="left")
    assert half.is_satisfied_by(0) and not half.is_satisfied_by(1) and half.describe() == "a number in [0, 1)"
    anything = Interval(float, None, None)
    assert anything.is_satisfied_by(-1e308) and not anything.is_satisfied_by(math.nan)
    assert anything.describe() == "a number (not NaN)"
    assert Interval(float, None, 2.5, closed="neither").describe() == "a number < 2.5"
    with pytest.raises(TypeError):
        Interval(str, 0, 1)
    with pytest.raises(TypeError):
        Interval(int, 0, 1, closed="open")


def test_options():
    c = Options(("auto", "zscore", "rank"))
    assert c.is_satisfied_by("rank") and not c.is_satisfied_by("RANK") and not c.is_satisfied_by(None)
    assert not c.is_satisfied_by(["rank"]) and not c.is_satisfied_by(np.array(["rank"]))
    assert c.describe() == "one of 'auto', 'zscore', 'rank'"
    assert Options({"svg", "png"}).describe() == "one of 'png', 'svg'"  # a set is listed sorted
    assert Options(("png", "svg"), ignore_case=True).is_satisfied_by("PNG")
    numbers = Options((1, 2, 3))
    assert numbers.is_satisfied_by(2) and numbers.is_satisfied_by(np.int64(3))
    assert not numbers.is_satisfied_by(True)  # True == 1, but a boolean is not the option 1
    assert Options((True, None)).is_satisfied_by(True) and not Options((1,)).is_satisfied_by(True)


def test_instance_of_resolves_names_lazily():
    c = InstanceOf("aria.diagnostics.reliability.Diagnostics")
    assert c.describe() == "an instance of Diagnostics"
    from aria.diagnostics.reliability import Diagnostics

    assert c.is_satisfied_by(Diagnostics.__new__(Diagnostics)) and not c.is_satisfied_by({})
    assert InstanceOf(dict, list).describe() == "an instance of dict or list"
    assert InstanceOf(dict, what="a parsed TOML table").describe() == "a parsed TOML table"


def test_sequence_of():
    c = SequenceOf(Interval(int, 2, None))
    assert c.describe() == "a non-empty sequence of integers >= 2"
    assert all(c.is_satisfied_by(v) for v in ([5, 10], (2,), np.array([3, 4]), {5, 6}, range(2, 5)))
    assert not any(c.is_satisfied_by(v) for v in ([], [1], [2, "3"], 5, "23", {"a": 2}, np.array(3)))
    gen = (k for k in (5, 10))
    assert not c.is_satisfied_by(gen)
    assert list(gen) == [5, 10]  # refused without being consumed
    motions = SequenceOf(Interval(int, 0, 11), min_len=0)  # numpy arrays are checked vectorized
    assert motions.is_satisfied_by(np.array([0, 11], dtype=np.uint8))
    assert motions.is_satisfied_by(np.array([]))  # empty (float64): nothing to check
    assert not motions.is_satisfied_by(np.array([1, 12])) and not motions.is_satisfied_by(np.array([-1, 3]))
    assert not motions.is_satisfied_by(np.array([1.0, 2.0]))  # as element by element: floats are no integers
    unit = SequenceOf(Interval(float, 0, 1))
    assert unit.is_satisfied_by(np.array([0.0, 1.0])) and not unit.is_satisfied_by(np.array([0.5, np.nan]))
    assert SequenceOf("path", min_len=0).is_satisfied_by([])
    assert SequenceOf("path", min_len=0).describe() == "a sequence of paths (str or os.PathLike)"


def test_mapping_of():
    c = MappingOf(Interval(float, 0, None), min_len=1)
    assert c.is_satisfied_by({"a": 0.5}) and not c.is_satisfied_by({}) and not c.is_satisfied_by({"a": -1})
    assert not c.is_satisfied_by([("a", 1.0)])
    assert MappingOf().describe() == "a mapping" and MappingOf().is_satisfied_by({})


def test_array():
    c = Array(ndim=2)
    assert c.is_satisfied_by(np.zeros((2, 3))) and c.is_satisfied_by([[1, 2], [3, 4]])
    assert not c.is_satisfied_by(np.zeros(3)) and not c.is_satisfied_by([["a", "b"]])
    assert not c.is_satisfied_by(np.array([[True]])) and not c.is_satisfied_by(np.array([[1 + 2j]]))
    assert not c.is_satisfied_by([[1, 2], [3]])  # ragged
    assert c.describe() == "a 2-D array of real numbers"
    assert not Array(min_size=1).is_satisfied_by([]) and Array(min_size=1).describe() == \
        "a non-empty array of real numbers"


def test_shortcuts():
    path, seed, boolean = SHORTCUTS["path"], SHORTCUTS["seed"], SHORTCUTS["boolean"]
    assert path.is_satisfied_by("x.npy") and path.is_satisfied_by(Path("x")) and not path.is_satisfied_by("")
    assert not path.is_satisfied_by(3) and not path.is_satisfied_by(None)
    assert seed.is_satisfied_by(0) and seed.is_satisfied_by(2**40) and not seed.is_satisfied_by(-1)
    assert not seed.is_satisfied_by(1.0)
    assert boolean.is_satisfied_by(np.bool_(True)) and not boolean.is_satisfied_by(1)
    assert SHORTCUTS["callable"].is_satisfied_by(print) and not SHORTCUTS["callable"].is_satisfied_by(1)
    real = SHORTCUTS["real"]
    assert real.is_satisfied_by(math.nan) and real.is_satisfied_by(np.float32(1))
    assert not real.is_satisfied_by(True)
    assert SHORTCUTS["str"].is_satisfied_by("") and not SHORTCUTS["str"].is_satisfied_by(b"x")
    scores = aria.scores_from_array(np.eye(3))
    assert SHORTCUTS["scores"].is_satisfied_by(scores)
    assert not SHORTCUTS["scores"].is_satisfied_by(scores.T)
    assert not SHORTCUTS["scores"].is_satisfied_by(np.eye(3))
    assert describe([None, Interval(int, 1, None)]) == "an integer >= 1 or None"
    assert describe([None, "path", dict]) == "a path (str or os.PathLike), an instance of dict or None"


# ---------------------------------------------------------------------------------------------
# validate_params and check_params


@validate_params({"k": Interval(int, 2, None), "method": Options(("auto", "rank")), "out": [None, "path"],
                  "seed": "seed"})
def _toy(scores, k, *, method="auto", out=None, **kwargs):
    """Toy docstring."""
    return k, method, out, kwargs


def test_validate_params_checks_given_arguments_first():
    assert _toy(None, 3, method="rank", out="o.csv", seed=4) == (3, "rank", "o.csv", {"seed": 4})
    e = _msg(_toy, None, 1)
    assert str(e) == "k must be an integer >= 2, got 1" and e.parameter == "k" and e.function == "_toy"
    assert str(_msg(_toy, None, k=2, method="zscore")) == "method must be one of 'auto', 'rank', got 'zscore'"
    assert str(_msg(_toy, None, 2, out=3)) == "out must be a path (str or os.PathLike) or None, got 3"
    e = _msg(_toy, None, 2, seed=-1)  # a name accepted through **kwargs
    assert e.parameter == "seed" and str(e) == "seed must be an integer >= 0, got -1"
    assert str(_msg(_toy, None, (x for x in [3]))) == "k must be an integer >= 2, got a generator"
    assert str(_msg(_toy, None, "x" * 200)).endswith("...") and len(str(_msg(_toy, None, "x" * 200))) < 130
    # a wrong call raises Python's own TypeError, as without the decorator
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'k'"):
        _toy(None)


def test_validate_params_keeps_the_function_visible():
    assert _toy.__name__ == "_toy" and _toy.__doc__ == "Toy docstring."
    assert list(inspect.signature(_toy).parameters) == ["scores", "k", "method", "out", "kwargs"]
    assert list(constraints_of(_toy)) == ["k", "method", "out", "seed"]
    assert constraints_of(len) == {}


def test_validate_params_refuses_bad_declarations():
    with pytest.raises(TypeError, match="has no parameter 'j'"):
        validate_params({"j": int})(lambda k: k)
    with pytest.raises(TypeError, match="unknown constraint shortcut"):
        validate_params({"k": "positive"})(lambda k: k)
    with pytest.raises(TypeError, match="not a constraint spec"):
        validate_params({"k": 3})(lambda k: k)
    with pytest.raises(TypeError, match="never be met"):
        validate_params({"k": []})(lambda k: k)


def test_check_params_and_methods():
    check_params({"dpi": Interval(int, 10, None)}, {})  # absent names are skipped
    e = _msg(check_params, {"dpi": Interval(int, 10, None)}, {"dpi": 5}, function="build_report")
    assert (e.parameter, e.function, str(e)) == ("dpi", "build_report", "dpi must be an integer >= 10, got 5")

    class Thing:
        @validate_params({"n": Interval(int, 1, None)})
        def __init__(self, n):
            self.n = n

        @classmethod
        @validate_params({"n": Interval(int, 1, None)})
        def make(cls, n):
            return cls(n)

    assert Thing.make(2).n == 2
    assert _msg(Thing, 0).parameter == "n" and _msg(Thing.make, 0).parameter == "n"
    assert list(constraints_of(Thing.make)) == ["n"]


def test_params_imports_only_the_standard_library():
    import subprocess
    import sys

    code = ("import sys, aria.params; "
            "print(sorted(m for m in ('numpy', 'xarray', 'pandas', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# every public function declares its checks; defaults satisfy them; bad values are refused first

PUBLIC = {
    "aria.io.scores": ["load_scores", "scores_from_array"],
    "aria.io.inspect": ["inspect_scores"],
    "aria.io.tables": ["load_track_map", "load_query_metadata"],
    "aria.io.groundtruth": ["load_ground_truth", "load_lds_values"],
    "aria.io.output": ["write_json", "write_table"],
    "aria.io.provenance": ["provenance_record"],
    "aria.io.streaming": ["iter_blocks"],
    "aria.io.atomic": ["atomic_path", "atomic_open"],
    "aria.diagnostics.reliability": ["diagnose", "diagnose_stats"],
    "aria.diagnostics.stats": ["gram_stats"],
    "aria.diagnostics.verdict": ["classify"],
    "aria.diagnostics.residual": ["rank1_axis", "residual_scores", "write_residual"],
    "aria.diagnostics.reliability_score": ["reliability_score", "reliability_components", "track_moments",
                                           "combine", "kendall_tau_bootstrap", "track_coherence",
                                           "track_coherence_from_moments", "group_contrast", "spike_energy",
                                           "topk_signals"],
    "aria.groups.normalize": ["normalize_columns", "choose_method"],
    "aria.groups.aggregate": ["track_scores"],
    "aria.groups.similarity": ["lcs_similarity"],
    "aria.groups.engine": ["homogeneity", "resolve_inputs", "prepare"],
    "aria.groups.result": ["MatrixHomogeneity.to_frame", "MatrixHomogeneity.summary_dataset",
                           "HomogeneityResult.to_frame"],
    "aria.groups.alignment": ["axis_alignment", "feature_alignment"],
    "aria.groups.confound": ["confound_analysis"],
    "aria.groups.null": ["compute_null", "null_distributions", "NullCache.__init__"],
    "aria.groups.setup": ["homogeneity_summary", "pick_k", "HomogeneitySetup.load", "HomogeneitySetup.run",
                          "HomogeneitySetup.summary"],
    "aria.features.channels": ["load_channel_set", "parse_channel_set"],
    "aria.features.table": ["load_feature_table", "feature_table_from_frame", "load_channelset",
                            "read_feature_table", "write_feature_table"],
    "aria.features.extract.symbolic": ["extract_symbolic"],
    "aria.features.extract.audio": ["load_audio_config"],
    "aria.features.extract.audio_batch": ["extract_audio", "run_audio_batch", "run_audio_table",
                                          "audio_items", "select_part"],
    "aria.features.extract.audio_io": ["track_ids"],
    "aria.features.extract.batch": ["extract_rows", "extract_table"],
    "aria.features.extract.inputs": ["read_spans"],
    "aria.evaluate.lds": ["lds", "subset_scores", "GroundTruth.from_indices"],
    "aria.evaluate.compare": ["compare_methods"],
    "aria.evaluate.evidence": ["query_evidence"],
    "aria.evaluate.unlearning": ["mucs_skew"],
    "aria.evaluate.counterfactual": ["counterfactual_auc", "similarity_difference", "mann_whitney_u"],
    "aria.evaluate.overlap": ["top_k_sets", "topk_overlap_queries", "topk_overlap_methods",
                              "topk_cardinality"],
    "aria.evaluate.bootstrap": ["homogeneity_bootstrap", "lds_bootstrap", "mean_bootstrap",
                                "add_lds_intervals"],
    "aria.diagnostics.bootstrap": ["bootstrap_diagnostics", "percentile_interval", "bootstrap_counts",
                                   "top_eigenvalues"],
    "aria.signatures": ["jl_projection", "jl_signatures", "rights_attribution"],
    "aria.io.vectors": ["load_vector"],
    "aria.report.plot": ["plot_energy_spectrum", "plot_interquery_correlations", "plot_concentration",
                         "plot_z_distribution", "plot_k_sweep", "plot_residual_comparison", "plot_alignment",
                         "plot_confound", "plot_evidence", "plot_compare", "figure_to_bytes",
                         "figure_to_data_uri", "save_figure"],
    "aria.report.html": ["diagnostics_block", "comparison_block", "homogeneity_blocks", "evidence_block",
                         "homogeneity_warnings", "method_warnings", "build_report", "render_html",
                         "write_figures", "write_report"],
    "aria.examples": ["path", "generate", "labels", "ground_truth"],
    "aria.examples.synthetic": ["generate"],
    "aria.examples.bach_scores": ["generate", "labels", "ground_truth"],
}


def _resolve(module: str, qualname: str):
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _public():
    out = []
    for module, names in PUBLIC.items():
        for name in names:
            out.append(pytest.param(module, name, id=f"{module}.{name}"))
    return out


def test_every_lazy_public_function_of_aria_is_covered():
    lazy = {name: mod for name, mod in aria._LAZY.items()
            if inspect.isfunction(getattr(importlib.import_module(mod), name))}
    assert len(lazy) >= 20
    listed = {(m, n) for m, names in PUBLIC.items() for n in names}
    assert [f"{m}.{n}" for n, m in lazy.items() if (m, n) not in listed] == []


_FAKE_CACHE: dict = {}


def _instance(cls):
    """An instance of ``cls`` that passes isinstance (its __init__ is not run: bodies never run here)."""
    import pyarrow as pa

    special = {np.ndarray: lambda: np.zeros(2), pd.Series: lambda: pd.Series([1.0]),
               pd.DataFrame: lambda: pd.DataFrame({"a": [1]}), pa.Table: lambda: pa.table({"a": [1]}),
               np.random.Generator: lambda: np.random.default_rng(0), list: list, tuple: tuple, dict: dict}
    from collections.abc import Mapping

    if cls in special:
        return special[cls]()
    if cls is Mapping:
        return {}
    return cls.__new__(cls)


def _good(cons):
    """A value meeting one of the constraints."""
    for c in cons:
        v = _good_one(c)
        if c.is_satisfied_by(v):
            return v
    raise AssertionError(f"no good value for {cons}")


def _good_one(c):
    if c is SHORTCUTS["scores"]:
        return aria.scores_from_array(np.arange(6.0).reshape(3, 2))
    simple = {"path": "x.npy", "seed": 0, "boolean": True, "callable": print, "real": 0.5, "str": "x"}
    for name, value in simple.items():
        if c is SHORTCUTS[name]:
            return value
    if isinstance(c, Interval):
        lo = c.left if c.left is not None else (c.right - 1 if c.right is not None else 1)
        v = lo if c.closed in ("both", "left") or c.left is None else lo + 1
        return c.kind(v) if c.kind is int else float(v)
    if isinstance(c, Options):
        return c.options[0]
    if isinstance(c, InstanceOf):
        return _instance(c.classes[0])
    if isinstance(c, SequenceOf):
        return [_good(c.item)] * max(1, c.min_len)
    if isinstance(c, MappingOf):
        return {"a": _good(c.values) if c.values is not None else 1}
    if isinstance(c, Array):
        return np.zeros((2,) * (c.ndim or 1))
    return None  # the None constraint


def _bad(cons) -> list:
    """Values meeting none of the constraints: the edges of intervals, unknown options, wrong types."""
    candidates = [object(), "no-such-option", -1, [object()], {"a": object()}]
    for c in cons:
        if isinstance(c, Interval):
            if c.left is not None:
                candidates.append(c.kind(c.left - 1) if c.kind is int else c.left - 0.5)
            if c.right is not None:
                candidates.append(c.kind(c.right + 1))
            if c.kind is float:
                candidates.append(math.nan)
        if isinstance(c, SequenceOf):
            candidates += [[], [b for b in _bad(c.item)[:1]]]
    return [v for v in candidates if not any(c.is_satisfied_by(v) for c in cons)]


def _cases():
    out = []
    for module, names in PUBLIC.items():
        for name in names:
            out.append((module, name))
    return out


@pytest.mark.parametrize("module,name", _cases(), ids=[f"{m}.{n}" for m, n in _cases()])
def test_public_function_declares_checks_and_its_defaults_meet_them(module, name):
    if module in ("aria.report.plot", "aria.report.html"):
        pytest.importorskip("matplotlib")
    func = _resolve(module, name)
    table = constraints_of(func)
    assert table, f"{module}.{name} declares no constraints"
    sig = inspect.signature(func)
    for param, cons in table.items():
        if param in sig.parameters and sig.parameters[param].default is not inspect.Parameter.empty:
            default = sig.parameters[param].default
            assert any(c.is_satisfied_by(default) for c in cons), (param, default)


@pytest.mark.parametrize("module,name", _cases(), ids=[f"{m}.{n}" for m, n in _cases()])
def test_public_function_rejects_a_bad_value_of_each_constrained_parameter_first(module, name):
    """Required arguments get values meeting their constraints (or a placeholder); then each
    constrained parameter in turn gets values meeting none: the call must raise AriaInputError
    naming that parameter, before the body runs (the placeholders would crash the body)."""
    if module in ("aria.report.plot", "aria.report.html"):
        pytest.importorskip("matplotlib")
    func = _resolve(module, name)
    table = constraints_of(func)
    sig = inspect.signature(func)
    base = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.default is not inspect.Parameter.empty:
            continue
        base[p.name] = _good(table[p.name]) if p.name in table else object()
    checked = 0
    for param, cons in table.items():
        bad_values = _bad(cons)
        assert bad_values, param
        for bad in bad_values:
            with pytest.raises(AriaInputError) as e:
                func(**{**base, param: bad})
            assert e.value.parameter == param, (param, bad, str(e.value))
            assert str(e.value).startswith(f"{param} must be "), str(e.value)
            assert type(e.value) is AriaInputError
            checked += 1
    assert checked >= len(table)


# ---------------------------------------------------------------------------------------------
# hand-written cases with real objects: the right constraint on the right parameter


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    scores = aria.scores_from_array(rng.normal(size=(30, 4)))
    return scores, aria.diagnose(scores)


@pytest.mark.parametrize("call,parameter,message", [
    (lambda s, d: aria.diagnose(s, spectrum_length=0), "spectrum_length",
     "spectrum_length must be an integer >= 1, got 0"),
    (lambda s, d: aria.diagnose(s, chunk_rows=0), "chunk_rows", "chunk_rows must be an integer >= 1 or None"),
    (lambda s, d: aria.diagnose(s.values), "scores", "scores must be a score matrix"),
    (lambda s, d: aria.load_scores(3), "path", "path must be a path (str or os.PathLike), got 3"),
    (lambda s, d: aria.load_scores("x.npy", transpose="yes"), "transpose",
     "transpose must be True or False, got 'yes'"),
    (lambda s, d: aria.VerdictThresholds(collapsed_corr=1.5), "collapsed_corr",
     "collapsed_corr must be a number in [0, 1], got 1.5"),
    (lambda s, d: aria.classify(0.5, "high", 0.1), "energy_ratio_1", "energy_ratio_1 must be a real number"),
    (lambda s, d: aria.rank1_axis(s, d, block_rows=0), "block_rows", "block_rows must be an integer >= 1"),
    (lambda s, d: aria.normalize_columns(np.zeros((3, 2)), "minmax"), "method",
     "method must be one of 'auto', 'zscore', 'rank', got 'minmax'"),
    (lambda s, d: aria.track_scores(s, workers=0), "workers", "workers must be an integer >= 1, got 0"),
    # homogeneity checks its parameters before reading any file
    (lambda s, d: aria.homogeneity(s, "missing.parquet", null_groups=1), "null_groups",
     "null_groups must be an integer >= 2, got 1"),
    (lambda s, d: aria.homogeneity(s, "missing.parquet", seed=-1), "seed",
     "seed must be an integer >= 0, got -1"),
    (lambda s, d: aria.homogeneity(s, "missing.parquet", k=[5, 1]), "k",
     "k must be a non-empty sequence of integers >= 2 or None, got [5, 1]"),
    (lambda s, d: aria.homogeneity(s, "missing.parquet", k=10), "k", "got 10"),
    (lambda s, d: aria.homogeneity(s, "missing.parquet", mapping="cosine"), "mapping",
     "mapping must be one of 'inverse', 'exp', got 'cosine'"),
    (lambda s, d: aria.lcs_similarity([1, 12], [1]), "a", "a must be a sequence of integers in [0, 11]"),
    (lambda s, d: aria.compare_methods({}), "diagnostics",
     "diagnostics must be a non-empty mapping of instances of Diagnostics, got a dict"),
    (lambda s, d: aria.compare_methods({"m": d}, homogeneity_k=1), "homogeneity_k",
     "homogeneity_k must be an integer >= 2 or None, got 1"),
    (lambda s, d: aria.examples.path("nope"), "name", "name must be one of 'query-dependent', "),
    (lambda s, d: aria.examples.generate("collapsed", seed=-5), "seed",
     "seed must be an integer >= 0 or None"),
    (lambda s, d: aria.lds.lds(s, {"subsets": []}), "ground_truth", "ground_truth must be an instance of"),
    (lambda s, d: aria.features.extract_symbolic("x.mid", workers=0), "workers",
     "workers must be an integer >= 1, got 0"),
    (lambda s, d: aria.features.extract_audio("x.wav", sr=100), "sr",
     "sr must be an integer in [4000, 192000] or None, got 100"),
    (lambda s, d: aria.features.extract_audio("x.wav", track_ids="hash"), "track_ids",
     "track_ids must be one of 'stem', 'int', 'path', got 'hash'"),
    (lambda s, d: aria.load_channel_set(None), "spec", "spec must be a path"),
    (lambda s, d: aria.examples.ground_truth(n_subsets=2), "n_subsets", "n_subsets must be an integer >= 3"),
])
def test_hand_examples(small, call, parameter, message):
    scores, diag = small
    with pytest.raises(AriaInputError) as e:
        call(scores, diag)
    assert e.value.parameter == parameter
    assert message in str(e.value), str(e.value)


def test_data_dependent_checks_name_their_parameter(small, tmp_path):
    from aria.diagnostics.residual import write_residual
    from aria.evaluate.lds import GroundTruth
    from aria.features.extract.audio_batch import select_part
    from aria.groups.setup import pick_k

    e = _msg(pick_k, (5, 10), 7)
    assert (e.parameter, e.function) == ("k", "pick_k") and "K = 7 was not computed" in str(e)
    assert pick_k((5, 10), None) == 10 and pick_k((5, 20), None) == 5
    e = _msg(select_part, [], "4/3")
    assert e.parameter == "part" and "1 <= K <= N" in str(e)
    assert _msg(select_part, [], "x").parameter == "part"
    e = _msg(GroundTruth, np.ones((3, 4), bool), np.zeros((3, 2)), target_kind="log")
    assert e.parameter == "target_kind"
    # write_residual refuses to replace its own input
    p = tmp_path / "s.npy"
    np.save(p, np.random.default_rng(1).normal(size=(20, 3)))
    s = aria.load_scores(p)
    e = _msg(write_residual, s, aria.diagnose(s), p)
    assert e.parameter == "path" and "would overwrite the score matrix" in str(e)
    assert np.load(p).shape == (20, 3)
    with pytest.raises(AriaInputError, match="transpose does not apply to netcdf files"):
        s.to_dataset(name="scores").to_netcdf(tmp_path / "s.nc")
        aria.load_scores(tmp_path / "s.nc", transpose=True)


def test_homogeneity_setup_checks_before_reading_files():
    from aria.groups.setup import HomogeneitySetup

    e = _msg(HomogeneitySetup.load, "missing.parquet", null_groups=1)
    assert e.parameter == "null_groups" and e.function == "HomogeneitySetup.load"
    assert _msg(HomogeneitySetup.load, "missing.parquet", k=[1]).parameter == "k"
    assert _msg(HomogeneitySetup.load, "missing.parquet", normalize="minmax").parameter == "normalize"
    with pytest.raises(AriaInputError, match="missing.parquet"):  # valid parameters: then the file
        HomogeneitySetup.load("missing.parquet", null_groups=2)
    e = _msg(HomogeneitySetup, channel_set=None, features=None)
    assert e.parameter == "channel_set" and e.function == "HomogeneitySetup"


def test_streaming_constraints_are_shared():
    for func in (aria.diagnose, aria.rank1_axis, aria.track_scores, aria.homogeneity, aria.lds.lds):
        table = constraints_of(func)
        for name in STREAMING:
            assert table[name] == constraints_of(aria.diagnose)[name], (func.__name__, name)


def test_a_misspelt_streaming_keyword_is_refused_by_the_function_called():
    from aria.diagnostics.stats import gram_stats

    scores = xr.DataArray(np.arange(12.0).reshape(6, 2) ** 2, dims=("segment", "query"))
    diag = aria.diagnose(scores)
    for func, args in ((aria.diagnose, ()), (aria.rank1_axis, (diag,)), (gram_stats, ())):
        message = rf"^{func.__name__}\(\) got an unexpected keyword argument 'block_row'$"
        with pytest.raises(TypeError, match=message):
            func(scores, *args, block_row=2)
    assert gram_stats(scores, block_rows=2).n == 6  # the declared keys still pass


def test_kwargs_without_declared_keys_pass_through():
    @validate_params({"a": Interval(int, 0, None)})
    def f(a=0, **kwargs):
        return kwargs

    assert f(a=1, anything=2) == {"anything": 2}


# ---------------------------------------------------------------------------------------------
# the command line maps API parameters to flags in one place


def _command_parser(command: str):
    from aria.cli import _flags as cli
    from aria.cli import build_parser

    parser = build_parser(command.split()[0])
    argv = {"diagnose": ["diagnose", "s.npy"], "homogeneity": ["homogeneity", "s.npy", "--features", "f"],
            "evidence": ["evidence", "s.npy", "--features", "f", "--query", "q"],
            "compare": ["compare", "s.npy"], "report": ["report", "s.npy", "--out", "o"],
            "features symbolic": ["features", "symbolic", "a.mid", "--out", "o.parquet"],
            "features audio": ["features", "audio", "a.wav", "--out", "o.parquet"],
            "evaluate auc": ["evaluate", "auc", "r.npy", "m.npy"],
            "evaluate simdiff": ["evaluate", "simdiff", "m.npy", "r.npy"]}[command]
    args = parser.parse_args(argv)
    name, sub = cli.executed_command(parser, args)
    assert name == command
    return parser, args, sub


def test_parameter_flags_table_names_existing_flags():
    from aria.cli import _flags as cli

    assert set(cli.PARAMETER_FLAGS) == {"diagnose", "homogeneity", "evidence", "compare", "report",
                                        "features symbolic", "features audio", "evaluate auc",
                                        "evaluate simdiff"}
    for command, table in cli.PARAMETER_FLAGS.items():
        _, _, sub = _command_parser(command)
        options = {s for a in sub._actions for s in a.option_strings}
        assert set(table.values()) <= options, (command, set(table.values()) - options)


@pytest.mark.parametrize("command,parameter,function,flag", [
    ("homogeneity", "null_groups", "homogeneity", "--null-groups"),
    ("homogeneity", "mapping", "homogeneity", "--similarity-map"),
    ("homogeneity", "spec", "load_channel_set", "--channels"),
    ("homogeneity", "path", "load_feature_table", "--features"),
    ("homogeneity", "path", "load_scores", None),  # the positional SCORES: the message names the file
    ("homogeneity", "rank_block_bytes", "homogeneity", None),  # no flag sets it
    ("report", "k", "pick_k", "--summary-k"),
    ("report", "k", "homogeneity", "--k"),
    ("report", "dpi", "build_report", "--dpi"),
    ("diagnose", "path", "write_residual", "--residual"),
    ("diagnose", "collapsed_corr", "VerdictThresholds", "--collapsed-corr"),
    ("diagnose", "spectrum_length", "diagnose", "--spectrum-length"),
    ("evidence", "matrix", "query_evidence", "--residual"),
    ("compare", "target_kind", "load_ground_truth", "--gt-target-kind"),
    ("features audio", "id_scheme", "audio_items", "--track-ids"),
    ("features audio", "sr", "load_audio_config", "--sr"),
    ("features symbolic", "shard_size", "extract_symbolic", "--shard-size"),
    ("diagnose", "bootstrap_seed", "diagnose", "--seed"),
    ("homogeneity", "seed", "homogeneity_bootstrap", "--bootstrap-seed"),
    ("homogeneity", "seed", "homogeneity", "--seed"),
    ("compare", "replicates", "lds_bootstrap", "--bootstrap"),
    ("evaluate auc", "method", "counterfactual_auc", "--p-method"),
    ("evaluate simdiff", "replicates", "similarity_difference", "--bootstrap"),
    ("evaluate simdiff", "seed", "similarity_difference", "--seed"),
])
def test_parameter_flag(command, parameter, function, flag):
    from aria.cli import _flags as cli

    _, _, sub = _command_parser(command)
    assert cli.parameter_flag(command, sub, parameter, function) == flag


def test_error_message_prefixes_the_flag():
    from aria.cli import _flags as cli

    parser, args, _ = _command_parser("homogeneity")
    e = AriaInputError("null_groups must be an integer >= 2, got 1", parameter="null_groups")
    assert cli.error_message(e, parser, args) == "--null-groups: must be an integer >= 2, got 1"
    e = AriaInputError("resume: x.parquet was built differently", parameter="workers")
    assert cli.error_message(e, parser, args) == "--workers: resume: x.parquet was built differently"
    e = AriaInputError("K = 50 is invalid: every K must satisfy 2 <= K < 9", parameter="k")
    assert cli.error_message(e, parser, args) == "--k: K = 50 is invalid: every K must satisfy 2 <= K < 9"
    assert cli.error_message(AriaInputError("x.npy: file is\n empty"), parser, args) == "x.npy: file is empty"
    e = AriaInputError("path must be a path", parameter="path", function="load_scores")
    assert cli.error_message(e, parser, args) == "path must be a path"


@pytest.fixture(scope="module")
def bach():
    return str(aria.examples.path("bach-knn")), str(aria.examples.features_path())


@pytest.mark.parametrize("argv,line", [
    (lambda s, f, t: ["homogeneity", s, "--features", f, "--channels", "symbolic", "--seed", "-1"],
     "aria: error: --seed: must be an integer >= 0, got -1"),
    (lambda s, f, t: ["evidence", s, "--features", f, "--query", "q", "--null-groups", "1"],
     "aria: error: --null-groups: must be an integer >= 2, got 1"),
    (lambda s, f, t: ["compare", s, "--features", f, "--k", "1"],
     "aria: error: --k: must be a non-empty sequence of integers >= 2 or None, got [1]"),
    (lambda s, f, t: ["report", s, "--features", f, "--out", str(t / "r"), "--normalize", "rank", "--seed",
                      "-3"],
     "aria: error: --seed: must be an integer >= 0, got -3"),
    (lambda s, f, t: ["features", "audio", str(t / "a.wav"), "--out", str(t / "o.parquet"), "--sr", "100"],
     "aria: error: --sr: must be an integer in [4000, 192000] or None, got 100"),
    (lambda s, f, t: ["features", "symbolic", str(t / "a.mid"), "--out", str(t / "o.parquet"),
                      "--shard-size", "0"],
     "aria: error: --shard-size: must be an integer >= 1, got 0"),
])
def test_cli_error_names_the_flag_exit_2_one_line(bach, tmp_path, capsys, argv, line):
    from aria.cli import main

    (tmp_path / "a.mid").write_bytes(b"")
    (tmp_path / "a.wav").write_bytes(b"")
    rc = main(argv(*bach, tmp_path))
    out, err = capsys.readouterr()
    assert rc == 2
    assert err == line + "\n"
    assert not (tmp_path / "o.parquet").exists() and not (tmp_path / "r").exists()
