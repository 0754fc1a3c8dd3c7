"""The per-method pipeline over files, shared by ``aria compare`` and ``aria report``.

:func:`resolve_methods` turns score files and shipped example names into sources and unique
method names; :func:`evaluate_methods` then takes each method through the same steps (load ->
diagnose -> LDS -> homogeneity), one matrix in memory at a time; :func:`compare_files` is the
whole ``aria compare`` run (the report's is :func:`aria.report.make_report`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from aria.errors import AriaInputError
from aria.params import Interval, check_params

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    import pandas as pd
    import xarray as xr

    from aria.diagnostics.reliability import Diagnostics
    from aria.diagnostics.reliability_score import ReliabilityScore
    from aria.evaluate.compare import Comparison
    from aria.evaluate.lds import GroundTruth, LDSResult
    from aria.groups.result import HomogeneityResult
    from aria.groups.setup import HomogeneitySetup
    from aria.io.scores import ReaderOptions

__all__ = ["ProgressFactory", "MethodEvaluation", "FileComparison", "resolve_methods", "check_lds_methods",
           "evaluate_methods", "compare_files"]

#: ``progress(label, total)`` -> context manager yielding an ``update(n)`` callback (or None).
ProgressFactory = Callable[[str, int], AbstractContextManager]
PathLike = str | os.PathLike[str]


def resolve_methods(scores: Sequence[PathLike] = (), examples: Sequence[str] = (),
                    names: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """Sources and unique method names of score files and shipped examples.

    Parameters
    ----------
    scores : sequence of path-like
        Score matrix files, one per method.
    examples : sequence of str
        Shipped examples (:data:`aria.examples.NAMES`), added after ``scores``.
    names : sequence of str, optional
        Method names, one per source (default: file stems and example names, made
        unique by appending ``-2``, ``-3``...).

    Returns
    -------
    (list of str, list of str)
        Source paths and method names.

    Examples
    --------
    >>> sources, names = resolve_methods(["a/trak.npy", "b/trak.npy"], examples=["collapsed"])
    >>> names
    ['trak', 'trak-2', 'collapsed']
    """
    from aria import examples as registry

    sources = [str(s) for s in scores] + [str(registry.path(e)) for e in examples]
    if not sources:
        raise AriaInputError("give at least one score matrix or example", parameter="scores")
    default = [Path(s).stem for s in scores] + list(examples)
    resolved = list(names) if names else default
    if len(resolved) != len(sources):
        raise AriaInputError(f"names has {len(resolved)} names for {len(sources)} score matrices",
                             parameter="names")
    if len(set(resolved)) != len(resolved):
        if names:
            raise AriaInputError("names must be unique", parameter="names")
        seen: dict[str, int] = {}
        unique = []
        for n in resolved:
            seen[n] = seen.get(n, 0) + 1
            unique.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
        resolved = unique
    return sources, resolved


def check_lds_methods(values: Mapping[str, float], names: Sequence[str], source: PathLike) -> None:
    """Refuse precomputed LDS values (from ``source``) for methods that are not being compared.

    Parameters
    ----------
    values : mapping
        Method name -> LDS.
    names : sequence of str
        The methods.
    source : path-like
        Where the values were read from (named in the error).

    Examples
    --------
    >>> check_lds_methods({"a": 0.3}, ["a", "b"], "lds.json")
    """
    unknown = set(values) - set(names)
    if unknown:
        raise AriaInputError(f"{source}: LDS for unknown method(s) {', '.join(sorted(unknown))}; "
                             f"methods are {', '.join(names)}")


@dataclass
class MethodEvaluation:
    """One method taken through :func:`evaluate_methods`.

    Attributes
    ----------
    name : str
        Method name.
    source : str
        Score file.
    scores : xarray.DataArray
        The loaded matrix.
    diagnostics : Diagnostics
        Its reliability diagnostics.
    n_tracks : int
        Distinct tracks of the matrix.
    lds : LDSResult or None
        LDS against the ground truth, when one was given.
    homogeneity : HomogeneityResult or None
        Homogeneity with the shared setup, when one was given and it could be computed.
    homogeneity_error : str or None
        Why homogeneity was skipped for this method (e.g. no track has features).
    reliability : ReliabilityScore or None
        The ground-truth-free reliability score, when asked for.

    Examples
    --------
    >>> import aria
    >>> from aria.evaluate.pipeline import evaluate_methods
    >>> ev = list(evaluate_methods([aria.examples.path("bach-knn")], ["knn"]))
    >>> ev[0].name, ev[0].diagnostics.verdict, ev[0].n_tracks
    ('knn', 'query-dependent', 406)
    """

    name: str
    source: str
    scores: xr.DataArray
    diagnostics: Diagnostics
    n_tracks: int
    lds: LDSResult | None = None
    homogeneity: HomogeneityResult | None = None
    homogeneity_error: str | None = None
    reliability: ReliabilityScore | None = None


def evaluate_methods(
    sources: Sequence[PathLike],
    names: Sequence[str],
    *,
    lds_gt: PathLike | GroundTruth | None = None,
    gt_target_kind: str | None = None,
    setup: HomogeneitySetup | None = None,
    residual: bool = False,
    alignment: bool = True,
    labels: Callable[[xr.DataArray], pd.Series | None] | None = None,
    progress: ProgressFactory | None = None,
    reliability: bool = False,
    query_groups: Callable[[xr.DataArray], object] | None = None,
    bootstrap: Mapping[str, object] | None = None,
    client: object = None,
    **reader: Unpack[ReaderOptions],
) -> Iterator[MethodEvaluation]:
    """Load, diagnose, score (LDS) and analyse (homogeneity) each method, one matrix at a time.

    Parameters
    ----------
    sources, names : sequence
        Score files and method names (:func:`resolve_methods`).
    lds_gt : path-like or GroundTruth, optional
        Retraining ground truth (``GT.npz``, read once for the first matrix's row count).
    gt_target_kind : {"score", "loss"}, optional
        Overrides the file's ``target_kind``.
    setup : HomogeneitySetup, optional
        Channel set, feature table and null parameters shared by every method.
    residual, alignment : bool
        Passed to :meth:`HomogeneitySetup.run`.
    labels : callable, optional
        ``labels(scores)`` -> query labels for the confound analysis (or None).
    progress : callable, optional
        :data:`ProgressFactory` for the diagnostics pass (and the reliability pass).
    reliability : bool
        Also compute :func:`~aria.diagnostics.reliability_score.reliability_score` (one more
        streaming pass per matrix).
    query_groups : callable, optional
        ``query_groups(scores)`` -> the group of each query, for the score's group contrast.
    bootstrap : mapping, optional
        ``bootstrap``, ``bootstrap_seed``, ``confidence`` passed to :func:`aria.diagnose`
        (intervals over queries of rho_bar, C_bar and E1).
    client : distributed.Client, optional
        Run the diagnostics, LDS and homogeneity of every method on this dask cluster
        (:mod:`aria.scale`; the results equal the single process's).
    **reader
        How to read every file (``tracks``, ``transpose``, ``variable``, ``experiment``,
        ``orientation``): :class:`aria.io.scores.ReaderOptions`.

    Yields
    ------
    MethodEvaluation
        In input order. A homogeneity failure due to the input (:class:`AriaInputError`) is
        recorded in ``homogeneity_error`` and the next method goes on.

    Examples
    --------
    >>> sources, names = resolve_methods(examples=["query-dependent", "collapsed"])
    >>> [(m.name, m.diagnostics.verdict) for m in evaluate_methods(sources, names)]
    [('query-dependent', 'query-dependent'), ('collapsed', 'collapsed')]
    """
    from aria.diagnostics.reliability import diagnose
    from aria.evaluate.lds import GroundTruth
    from aria.evaluate.lds import lds as compute_lds
    from aria.io.groundtruth import load_ground_truth
    from aria.io.scores import load_scores

    gt = lds_gt if isinstance(lds_gt, GroundTruth) else None
    for name, src in zip(names, sources, strict=True):
        scores = load_scores(src, **reader)
        n_rows = scores.sizes["segment"]
        # the query groups are read before the passes, so that bad metadata fails before any work
        groups = query_groups(scores) if reliability and query_groups is not None else None
        with progress(f"diagnose {name}", n_rows) if progress else nullcontext() as update:
            diag = diagnose(scores, progress=update, client=client, **(bootstrap or {}))
        ev = MethodEvaluation(name, str(src), scores, diag, len(set(scores.coords["track"].values.tolist())))
        if reliability:
            from aria.diagnostics.reliability_score import reliability_score

            with progress(f"reliability {name}", n_rows) if progress else nullcontext() as update:
                ev.reliability = reliability_score(scores, diag, query_groups=groups, progress=update,
                                                   client=client)
        if lds_gt is not None:
            if gt is None:
                gt = load_ground_truth(lds_gt, n_rows, target_kind=gt_target_kind)
            ev.lds = compute_lds(scores, gt, client=client)
        if setup is not None:
            query_labels = labels(scores) if labels is not None else None
            try:
                ev.homogeneity = setup.run(scores, diag, residual=residual, labels=query_labels,
                                           alignment=alignment, client=client)
            except AriaInputError as exc:  # e.g. no track of this matrix has features: report, go on
                ev.homogeneity_error = str(exc)
        yield ev


@dataclass
class FileComparison:
    """Result of :func:`compare_files`.

    Attributes
    ----------
    comparison : Comparison
        The comparison table, rankings and agreement with LDS.
    sources : dict
        Method name -> score file.
    provenance : dict or None
        The provenance record, when results were written.
    written : list of pathlib.Path
        Files written into ``out``.
    notices : list of str
        Warnings, one line each, as ``aria compare`` prints them on stderr.

    Examples
    --------
    >>> from aria.evaluate.pipeline import compare_files
    >>> fc = compare_files(examples=["bach-knn", "bach-collapsed"])
    >>> sorted(fc.sources)
    ['bach-collapsed', 'bach-knn']
    >>> [row.verdict for row in fc.comparison.methods]
    ['query-dependent', 'collapsed']
    """

    comparison: Comparison
    sources: dict[str, str]
    provenance: dict | None = None
    written: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def compare_files(
    scores: Sequence[PathLike] = (),
    *,
    examples: Sequence[str] = (),
    names: Sequence[str] | None = None,
    lds: PathLike | None = None,
    lds_gt: PathLike | GroundTruth | None = None,
    gt_target_kind: str | None = None,
    features: PathLike | None = None,
    channels: PathLike | None = None,
    k: int = 10,
    null_groups: int = 1000,
    seed: int = 0,
    normalize: str = "auto",
    cache_dir: PathLike | None = None,
    out: PathLike | None = None,
    command: Sequence[str] | None = None,
    labels: PathLike | None = None,
    query_group: str | None = None,
    reliability_score: bool = True,
    tau_bootstrap: int = 2000,
    tau_bootstrap_seed: int = 0,
    bootstrap: int = 0,
    bootstrap_seed: int = 0,
    confidence: float = 0.95,
    progress: ProgressFactory | None = None,
    log: Callable[[str], None] | None = None,
    query_subset: bool = False,
    scheduler: str | None = None,
    client: object = None,
    **reader: Unpack[ReaderOptions],
) -> FileComparison:
    """Compare attribution methods given as score files: what ``aria compare`` runs.

    Parameters
    ----------
    scores : sequence of path-like
        Score matrix files, one per method (before the ``examples``).
    examples : sequence of str
        Shipped example matrices added as methods.
    names : sequence of str, optional
        Method names (default: file stems, example names).
    lds : path-like, optional
        Precomputed LDS per method (``LDS.json``).
    lds_gt : path-like or GroundTruth, optional
        Retraining ground truth; Aria computes each method's LDS. Not with ``lds``.
    gt_target_kind : {"score", "loss"}, optional
        Overrides ``GT.npz``'s ``target_kind``.
    features : path-like, optional
        Feature table: adds per-channel homogeneity at ``k`` to the comparison.
    channels : str or path-like, optional
        Channel set (default: the one recorded in the feature table, else ``"symbolic"``).
    k : int
        Group size of the homogeneity summaries.
    null_groups, seed : int
        Random reference groups and their seed.
    normalize : {"auto", "zscore", "rank"}
        Per-query normalization.
    cache_dir : path-like, optional
        On-disk null cache (default: a temporary one for this call).
    out : path-like, optional
        Write ``comparison.csv``, ``comparison.json``, ``agreement.csv`` (with LDS) and
        ``provenance.json`` here.
    command : sequence of str, optional
        Command line recorded in the provenance.
    labels : path-like, optional
        Query metadata (``.csv``/``.parquet`` with a ``query`` column).
    query_group : str, optional
        Column of ``labels`` naming each query's source or group (may be omitted when it has
        one column besides ``query``): the reliability score's group contrast.
    reliability_score : bool
        Compute each method's ground-truth-free reliability score (docs/reliability.md), rank
        the methods by it and, with LDS, report its Kendall tau with LDS.
    tau_bootstrap, tau_bootstrap_seed : int
        Resamples over methods (and their seed) of that tau's bootstrap interval.
    bootstrap : int
        Bootstrap replicates over queries (0 = none): intervals of each method's rho_bar, C_bar,
        E1 and, when computed from ``lds_gt``, LDS (:mod:`aria.evaluate.bootstrap`).
    bootstrap_seed : int
        Seed of the bootstrap (the same for every method: a paired bootstrap).
    confidence : float
        Coverage of the intervals (also of the reliability score's tau interval).
    progress : callable, optional
        :data:`ProgressFactory` for the diagnostics passes.
    log : callable, optional
        Called with each warning line as it happens (they are also in ``notices``).
    query_subset : bool
        Accept methods scored on subsets of the queries (:func:`~aria.evaluate.compare.check_comparable`);
        different segment counts are always refused.
    scheduler : str, optional
        Run every method's diagnostics, LDS and homogeneity on a dask cluster: ``"local:N"``
        (started and stopped here) or ``"HOST:PORT"`` (see :mod:`aria.scale`); recorded in the
        provenance. The comparison equals the single process's.
    client : distributed.Client, optional
        An existing dask client instead of ``scheduler``.
    **reader
        How to read the files (``tracks``, ``transpose``, ``variable``, ``experiment``,
        ``orientation``): :class:`aria.io.scores.ReaderOptions`.

    Returns
    -------
    FileComparison

    Examples
    --------
    >>> run = compare_files(examples=["query-dependent", "offset-dominated", "collapsed"])
    >>> [m.name for m in run.comparison.ranked], list(run.comparison.to_dict()["excluded"])
    (['query-dependent', 'offset-dominated'], ['collapsed'])
    """
    import hashlib

    import numpy as np

    from aria.evaluate.compare import check_comparable, compare_methods
    from aria.features.table import resolve_channel_set
    from aria.groups.setup import HomogeneitySetup, homogeneity_summary
    from aria.io.groundtruth import load_lds_values
    from aria.io.output import check_out_dir, write_result_set
    from aria.io.provenance import provenance_record
    from aria.io.scores import reader_parameters
    from aria.scale.cluster import connect, scheduler_record

    if lds is not None and lds_gt is not None:
        raise AriaInputError("give precomputed LDS values or a ground truth, not both")
    engine = scheduler_record(scheduler, client)  # a malformed scheduler fails here, first
    check_params({"tau_bootstrap": Interval(int, 1, None), "tau_bootstrap_seed": "seed",
                  "reliability_score": "boolean", "confidence": Interval(float, 0, 1, closed="neither")},
                 {"tau_bootstrap": tau_bootstrap, "tau_bootstrap_seed": tau_bootstrap_seed,
                  "reliability_score": reliability_score, "confidence": confidence},
                 function="compare_files")
    groups = _query_groups(labels, query_group, reliability_score)
    sources, names = resolve_methods(scores, examples, names)
    inputs = {f"scores[{n}]": s for n, s in zip(names, sources, strict=True)}
    read = reader_parameters(reader)
    tracks_array = read["tracks"] if isinstance(read["tracks"], np.ndarray) else None
    inputs.update(tracks=None if tracks_array is not None else read["tracks"], lds=lds,
                  lds_gt=_path_or_none(lds_gt), features=features, labels=labels)
    out_dir = check_out_dir(out, [v for v in inputs.values() if v is not None])
    lds_values: dict = {}
    if lds is not None:
        lds_values = load_lds_values(lds)
        check_lds_methods(lds_values, names, lds)
    notices: list[str] = []
    diags, homog, rel = {}, {}, {}
    boot_kw = ({"bootstrap": bootstrap, "bootstrap_seed": bootstrap_seed, "confidence": confidence}
               if bootstrap else None)
    with tempfile.TemporaryDirectory(prefix="aria-nulls-") as tmp_cache, connect(scheduler, client) as dask:
        setup = None
        if features is not None:
            setup = HomogeneitySetup.load(features, resolve_channel_set(channels, features, "symbolic"),
                                          k=[k], null_groups=null_groups, seed=seed, normalize=normalize,
                                          cache_dir=cache_dir or tmp_cache)
        for ev in evaluate_methods(sources, names, lds_gt=lds_gt, gt_target_kind=gt_target_kind, setup=setup,
                                   alignment=False, progress=progress, bootstrap=boot_kw,
                                   reliability=reliability_score, query_groups=groups, client=dask,
                                   **reader):
            diags[ev.name] = ev.diagnostics
            check_comparable(diags, query_subset=query_subset)  # refuse at the first mismatch
            if ev.lds is not None:
                lds_values[ev.name] = ev.lds
            if ev.reliability is not None:
                rel[ev.name] = ev.reliability
            if ev.homogeneity is not None:
                homog[ev.name] = homogeneity_summary(ev.homogeneity)
            elif ev.homogeneity_error is not None:
                _notice(notices, log,
                        f"aria: warning: {ev.name}: homogeneity skipped: {ev.homogeneity_error}")
    named_sources = dict(zip(names, sources, strict=True))
    comparison = compare_methods(diags, lds=lds_values, homogeneity=homog or None,
                                 homogeneity_k=k if homog else None, sources=named_sources,
                                 reliability=rel or None, tau_bootstrap=tau_bootstrap,
                                 tau_bootstrap_seed=tau_bootstrap_seed, confidence=confidence)
    if bootstrap:
        from aria.evaluate.bootstrap import add_lds_intervals

        for line in add_lds_intervals(comparison, replicates=bootstrap, seed=bootstrap_seed,
                                      confidence=confidence):
            _notice(notices, log, f"aria: warning: {line}")
    result = FileComparison(comparison, named_sources, notices=notices)
    if out_dir is not None:
        params = {"names": names, **{key: read[key] for key in ("transpose", "variable", "experiment",
                                                                 "orientation")},
                  "gt_target_kind": gt_target_kind, "bootstrap": bootstrap, "confidence": confidence,
                  "query_group": query_group, "reliability_score": reliability_score,
                  "tau_bootstrap": tau_bootstrap, "scheduler": engine}
        if tracks_array is not None:  # an in-memory segment -> track map: recorded by its content
            digest = hashlib.sha256(np.ascontiguousarray(tracks_array).tobytes()).hexdigest()
            params["tracks_array_sha256"] = digest
        seeds = {"bootstrap": bootstrap_seed} if bootstrap else {}
        if any(a.diagnostic == "reliability_score" for a in comparison.agreement):
            seeds["tau_bootstrap"] = tau_bootstrap_seed
        if setup is not None:
            params.update(setup.parameters())
            seeds["null_groups"] = seed
        result.provenance = provenance_record(inputs, params, seeds=seeds, command=command)
        result.written = write_result_set(out_dir, {
            "comparison.csv": comparison.to_frame(),
            "comparison.json": comparison.to_dict(),
            "agreement.csv": comparison.agreement_frame() if comparison.agreement else None,
            "provenance.json": result.provenance,
        })
    return result


def _query_groups(labels: PathLike | None, column: str | None,
                  reliability: bool) -> Callable[[xr.DataArray], object] | None:
    """``scores -> group of each query`` from the query metadata (None without ``labels``)."""
    if labels is None:
        if column is not None:
            raise AriaInputError("query_group needs labels (the query metadata it is a column of)",
                                 parameter="query_group")
        return None
    if not reliability:
        raise AriaInputError("labels: only the reliability score uses them, and it is turned off",
                             parameter="labels")
    from aria.io.tables import load_query_labels

    return lambda scores: load_query_labels(labels, scores.coords["query"].values,
                                            column).to_numpy(dtype=object)


def _path_or_none(value: object) -> PathLike | None:
    """A path argument for the provenance record (in-memory objects have no file to hash)."""
    return value if isinstance(value, str | os.PathLike) else None


def _notice(notices: list[str], log: Callable[[str], None] | None, line: str) -> None:
    notices.append(line)
    if log is not None:
        log(line)
