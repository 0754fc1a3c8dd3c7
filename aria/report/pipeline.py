"""The one report pipeline: :func:`make_report`, called by ``aria report`` and the notebook.

Each method goes through :func:`aria.evaluate.pipeline.evaluate_methods` (load -> diagnose ->
LDS -> homogeneity with one shared :class:`~aria.groups.setup.HomogeneitySetup`), then its
report blocks, warnings and single-query evidence are built while its matrix is in memory;
the comparison, the provenance record and the HTML follow, and ``report.html``,
``provenance.json`` (and the figures, on request) are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aria.errors import AriaInputError

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    import pandas as pd
    import xarray as xr

    from aria.diagnostics.reliability import Diagnostics
    from aria.evaluate.compare import Comparison
    from aria.evaluate.lds import GroundTruth
    from aria.evaluate.pipeline import ProgressFactory
    from aria.report.html import ReportData

__all__ = ["Report", "make_report"]

PathLike = str | os.PathLike[str]


@dataclass
class Report:
    """Result of :func:`make_report`.

    Attributes
    ----------
    data : ReportData
        What the HTML shows (sections, blocks, warnings, provenance).
    html : str
        The rendered document.
    path : pathlib.Path
        ``report.html``.
    provenance_path : pathlib.Path
        ``provenance.json``.
    figure_paths : list of pathlib.Path
        PNG and SVG files written with ``save_figures=True``.
    diagnostics : dict
        Method name -> Diagnostics.
    summaries : dict
        Method name -> ``{channel: {"z_bar", "pos", "sig", "n_queries"}}`` at ``summary_k``
        (methods with homogeneity only).
    summary_k : int or None
        K of the summaries, comparison, residual and confound tables.
    comparison : Comparison or None
        Shown when there are several methods or LDS values.
    provenance : dict
        The provenance record.
    notices : list of str
        Messages, one line each, as ``aria report`` prints them on stderr.

    Examples
    --------
    >>> import tempfile
    >>> from aria.report.pipeline import make_report
    >>> with tempfile.TemporaryDirectory() as out:
    ...     report = make_report(examples=["query-dependent", "collapsed"], out=out, figures=False)
    ...     print(report.path.name, report.provenance_path.name, sorted(report.diagnostics))
    ...
    report.html provenance.json ['collapsed', 'query-dependent']
    """

    data: ReportData
    html: str
    path: Path
    provenance_path: Path
    figure_paths: list[Path]
    diagnostics: dict[str, Diagnostics]
    summaries: dict[str, dict[str, dict[str, float]]]
    summary_k: int | None
    comparison: Comparison | None
    provenance: dict
    notices: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """What ``aria report`` prints: each method's verdict (and homogeneity z), then the written files.

        Returns
        -------
        str
            One line per method, then the written files.

        Examples
        --------
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as out:
        ...     text = make_report(examples=["collapsed"], out=out, figures=False).summary()
        >>> text.splitlines()[0]
        'collapsed: collapsed'
        """
        from aria.report.text import fmt_number

        lines = []
        for name, d in self.diagnostics.items():
            line = f"{name}: {d.verdict}"
            summary = self.summaries.get(name)
            if summary is not None:
                line += f"; homogeneity at K = {self.summary_k}: " + ", ".join(
                    f"{c} z={fmt_number(v['z_bar'], 2, 'undefined')}" for c, v in summary.items())
            lines.append(line)
        lines.append(f"report written to {self.path}")
        if self.figure_paths:
            lines.append(f"{len(self.figure_paths)} figure files written to {self.path.parent / 'figures'}")
        return "\n".join(lines)


def make_report(
    *,
    scores: Sequence[PathLike] = (),
    examples: Sequence[str] = (),
    names: Sequence[str] | None = None,
    out: PathLike,
    title: str = "Aria report",
    tracks: PathLike | None = None,
    transpose: bool = False,
    variable: str | None = None,
    experiment: str | None = None,
    orientation: str | None = None,
    lds: PathLike | None = None,
    lds_gt: PathLike | GroundTruth | None = None,
    gt_target_kind: str | None = None,
    features: PathLike | None = None,
    channels: PathLike | None = None,
    k: Sequence[int] | None = None,
    summary_k: int | None = None,
    null_groups: int = 1000,
    seed: int = 0,
    normalize: str = "auto",
    residual: bool = True,
    labels: PathLike | None = None,
    label_column: str | None = None,
    queries: Sequence[str] = (),
    cache_dir: PathLike | None = None,
    figures: bool = True,
    save_figures: bool = False,
    dpi: int = 80,
    command: Sequence[str] | None = None,
    progress: ProgressFactory | None = None,
    log: Callable[[str], None] | None = None,
    scheduler: str | None = None,
    client: object = None,
    bootstrap: int = 0,
    bootstrap_seed: int = 0,
    confidence: float = 0.95,
) -> Report:
    """Write one self-contained HTML report for one or several score matrices.

    Parameters
    ----------
    scores : sequence of path-like
        Score matrices, one per method.
    examples : sequence of str
        Shipped examples added as methods. With a Bach example and no ``features``, the
        shipped Bach chorale features (symbolic channel set) and query modes are used.
    names : sequence of str, optional
        Method names (default: file stems, example names).
    out : path-like
        Output directory (``report.html``, ``provenance.json``, ``figures/``).
    title : str
        Report title.
    tracks, transpose, variable, experiment, orientation
        How to read the files (:func:`aria.load_scores`).
    lds : path-like, optional
        Precomputed LDS per method (``LDS.json``).
    lds_gt : path-like or GroundTruth, optional
        Retraining ground truth; Aria computes each LDS. Not with ``lds``.
    gt_target_kind : {"score", "loss"}, optional
        Overrides ``GT.npz``'s ``target_kind``.
    features : path-like, optional
        Feature table; without it the report has the diagnostics only.
    channels : str or path-like, optional
        Channel set (default: the one recorded in the feature table, else ``"symbolic"``).
    k : sequence of int, optional
        Group sizes (default 5, 10, 20, 50, 100 below the pool size).
    summary_k : int, optional
        K of the comparison, residual and confound tables (default 10 when computed).
    null_groups, seed : int
        Random reference groups per K and their seed.
    normalize : {"auto", "zscore", "rank"}
        Per-query normalization.
    residual : bool
        Also analyse the rank-1 residual.
    labels : path-like, optional
        Query metadata (``query`` column plus labels) for the confound analysis.
    label_column : str, optional
        Label column of ``labels`` (needed when it has several).
    queries : sequence of str
        Add single-query evidence for these query ids.
    cache_dir : path-like, optional
        On-disk null cache (default: a temporary one for this call).
    figures : bool
        Embed the figures.
    save_figures : bool
        Also write every figure as PNG and SVG into ``out/figures/``.
    dpi : int
        Figure resolution (>= 10).
    command : sequence of str, optional
        Command line recorded in the provenance.
    progress : callable, optional
        :data:`~aria.evaluate.pipeline.ProgressFactory` for the diagnostics passes.
    log : callable, optional
        Called with each message line as it happens (they are also in ``notices``).
    scheduler, client : optional
        A dask cluster for every method's diagnostics, LDS and homogeneity, as in
        :func:`~aria.evaluate.pipeline.compare_files` (recorded in the provenance).
    bootstrap : int
        Bootstrap replicates over queries (0 = none): intervals of rho_bar, C_bar, E1, of the
        homogeneity summaries and, from ``lds_gt``, of LDS, shown in the report's tables.
    bootstrap_seed : int
        Seed of the bootstrap (recorded in the provenance).
    confidence : float
        Coverage of the intervals.

    Returns
    -------
    Report
        Paths of the written files and the results behind them.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     report = make_report(examples=["query-dependent", "collapsed"], out=out, figures=False)
    ...     report.path.name, [m.name for m in report.comparison.ranked]
    ('report.html', ['query-dependent'])
    """
    import tempfile

    from aria import examples as registry
    from aria.evaluate.compare import compare_methods
    from aria.evaluate.evidence import query_evidence
    from aria.evaluate.pipeline import check_lds_methods, evaluate_methods, resolve_methods
    from aria.features.table import resolve_channel_set
    from aria.groups.setup import HomogeneitySetup, homogeneity_summary, pick_k
    from aria.io.groundtruth import load_lds_values
    from aria.io.output import check_out_dir, staged_result_set, write_json
    from aria.io.provenance import provenance_record
    from aria.io.tables import load_query_labels
    from aria.report.html import (
        ReportWarning,
        build_report,
        evidence_block,
        homogeneity_blocks,
        homogeneity_warnings,
        render_html,
        slugify,
        write_figures,
        write_report,
    )
    from aria.scale.cluster import connect, scheduler_record

    if dpi < 10:
        raise AriaInputError(f"dpi must be an integer >= 10, got {dpi}", parameter="dpi")
    if label_column and not labels:
        raise AriaInputError("label_column needs labels (query metadata)", parameter="label_column")
    if lds is not None and lds_gt is not None:
        raise AriaInputError("give precomputed LDS values or a ground truth, not both")
    engine = scheduler_record(scheduler, client)  # a malformed scheduler fails here, first
    sources, names = resolve_methods(scores, examples, names)
    notices: list[str] = []

    def note(line: str) -> None:
        notices.append(line)
        if log is not None:
            log(line)

    bach = [e for e in examples if registry.is_bach(e)]
    auto_labels = None
    if bach and not features:
        features, channels = str(registry.features_path()), "symbolic"
        if not labels:
            auto_labels = registry.labels(bach[0])
        note(f"using the shipped Bach chorale features ({features}) with the symbolic channel set")
    if (labels or queries) and not features:
        raise AriaInputError("labels and queries need features (they are homogeneity analyses)",
                             parameter="features")
    inputs = {f"scores[{n}]": s for n, s in zip(names, sources, strict=True)}
    inputs.update(tracks=tracks, lds=lds, lds_gt=lds_gt if isinstance(lds_gt, str | os.PathLike) else None,
                  features=features, labels=labels)
    out_dir = check_out_dir(out, [v for v in inputs.values() if v])
    lds_values: dict = load_lds_values(lds) if lds else {}
    check_lds_methods(lds_values, names, lds or "")

    def method_labels(matrix: xr.DataArray) -> pd.Series | None:
        if labels:
            return load_query_labels(labels, matrix.coords["query"].values, label_column)
        return _example_labels(auto_labels, matrix)

    diags, n_tracks, blocks, warnings, summaries = {}, {}, {}, [], {}
    chosen_k = None  # the K of the last method with homogeneity (each picks from its own K values)
    boot_kw = ({"bootstrap": bootstrap, "bootstrap_seed": bootstrap_seed, "confidence": confidence}
               if bootstrap else None)
    with tempfile.TemporaryDirectory(prefix="aria-nulls-") as tmp_cache, connect(scheduler, client) as dask:
        setup = None
        if features:
            setup = HomogeneitySetup.load(features, resolve_channel_set(channels, features, "symbolic"), k=k,
                                          null_groups=null_groups, seed=seed, normalize=normalize,
                                          cache_dir=cache_dir or tmp_cache)
        for ev in evaluate_methods(sources, names, tracks=tracks, transpose=transpose, variable=variable,
                                   experiment=experiment, orientation=orientation,
                                   lds_gt=lds_gt, gt_target_kind=gt_target_kind, setup=setup,
                                   residual=residual, labels=method_labels, progress=progress,
                                   bootstrap=boot_kw, client=dask):
            name, slug, result = ev.name, slugify(ev.name), ev.homogeneity
            diags[name], n_tracks[name] = ev.diagnostics, ev.n_tracks
            if ev.lds is not None:
                lds_values[name] = ev.lds
            if ev.homogeneity_error is not None:
                warnings.append(ReportWarning(name, "homogeneity skipped", ev.homogeneity_error, "failed"))
                note(f"aria: warning: {name}: homogeneity skipped: {ev.homogeneity_error}")
            if result is None:
                continue
            chosen_k = pick_k(result.k_values, summary_k)  # names k: the CLI maps it to --summary-k
            summaries[name] = homogeneity_summary(result, chosen_k)
            hboot = None
            if bootstrap:
                from aria.evaluate.bootstrap import homogeneity_bootstrap

                hboot = homogeneity_bootstrap(result, replicates=bootstrap, seed=bootstrap_seed,
                                              confidence=confidence)
            blocks[name] = homogeneity_blocks(slug, result, k=chosen_k, figures=figures, dpi=dpi,
                                              bootstrap=hboot)
            warnings += homogeneity_warnings(name, result)
            for q in queries:
                try:
                    evidence = query_evidence(ev.scores, setup, q, k=chosen_k, diagnostics=ev.diagnostics,
                                              result=result)
                except AriaInputError as exc:  # e.g. this method has no such query: report, go on
                    warnings.append(ReportWarning(name, "evidence skipped", str(exc), None))
                    note(f"aria: warning: {name}: evidence for {str(q)!r} skipped: {exc}")
                    continue
                blocks[name].append(evidence_block(slug, evidence, figures=figures, dpi=dpi))
    comparison = None
    if len(diags) > 1 or lds_values:
        comparison = compare_methods(diags, lds=lds_values, homogeneity=summaries or None,
                                     homogeneity_k=chosen_k,
                                     sources=dict(zip(names, sources, strict=True)))
        if bootstrap:
            from aria.evaluate.bootstrap import add_lds_intervals

            for line in add_lds_intervals(comparison, replicates=bootstrap, seed=bootstrap_seed,
                                          confidence=confidence):
                note(f"aria: warning: {line}")
    params = {"names": names, "transpose": transpose, "variable": variable, "experiment": experiment,
              "orientation": orientation, "gt_target_kind": gt_target_kind,
              "figures": figures, "dpi": dpi, "scheduler": engine,
              "thresholds": next(iter(diags.values())).to_dict()["thresholds"]}
    seeds = {"bootstrap": bootstrap_seed} if bootstrap else {}
    params.update(bootstrap=bootstrap, confidence=confidence)
    if setup is not None:
        params.update(homogeneity=setup.parameters(), residual=residual,
                      label_column=label_column if auto_labels is None else "mode (Bach example)",
                      queries=list(queries), summary_k=chosen_k)
        seeds["null_groups"] = seed
    prov = provenance_record(inputs, params, seeds=seeds, command=command)
    data = build_report(diags, provenance=prov, sources=dict(zip(names, sources, strict=True)),
                        comparison=comparison, n_tracks=n_tracks, title=title, extra_blocks=blocks,
                        extra_warnings=warnings, figures=figures, dpi=dpi)
    html = render_html(data)
    with staged_result_set(out_dir) as stage:  # all or nothing (docs/security.md)
        path = out_dir / write_report(html, stage).relative_to(stage)
        figure_paths = [out_dir / f.relative_to(stage)
                        for f in (write_figures(data, stage) if save_figures else [])]
        prov_path = out_dir / write_json(stage / "provenance.json", prov).relative_to(stage)
    return Report(data=data, html=html, path=path, provenance_path=prov_path, figure_paths=figure_paths,
                  diagnostics=diags, summaries=summaries, summary_k=chosen_k,
                  comparison=comparison, provenance=prov, notices=notices)


def _example_labels(labels: pd.Series | None, scores: xr.DataArray) -> pd.Series | None:
    """The Bach examples' query modes, when this matrix has exactly those queries."""
    if labels is None:
        return None
    qids = [str(q) for q in scores.coords["query"].values]
    return labels if set(qids) <= set(labels.index) else None
