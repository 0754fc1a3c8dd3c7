"""Figures of Aria's results (matplotlib, Agg canvas, no pyplot global state).

Every ``plot_*`` function takes a result object and returns a
:class:`matplotlib.figure.Figure` drawn on an Agg canvas; nothing is shown or
written. Save a figure with :func:`save_figure` (PNG/SVG/PDF, atomically and
reproducibly: no timestamps, a fixed SVG id salt) or embed it with
:func:`figure_to_data_uri`.

Colours follow the Okabe-Ito colour-blind-safe palette (:data:`OKABE_ITO`).
"""

from __future__ import annotations

import base64
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aria.errors import AriaDependencyError, AriaInputError
from aria.params import InstanceOf, Interval, Options, validate_params
from aria.report.text import fmt_number

if TYPE_CHECKING:  # annotations only; imported lazily at run time
    from matplotlib.figure import Figure

    from aria.diagnostics.reliability import Diagnostics
    from aria.evaluate.compare import Comparison
    from aria.evaluate.evidence import QueryEvidence
    from aria.groups.alignment import AlignmentResult
    from aria.groups.confound import ConfoundResult
    from aria.groups.engine import HomogeneityResult
    from aria.groups.result import MatrixHomogeneity

__all__ = [
    "OKABE_ITO",
    "channel_colors",
    "plot_energy_spectrum",
    "plot_interquery_correlations",
    "plot_concentration",
    "plot_compare",
    "plot_z_distribution",
    "plot_k_sweep",
    "plot_residual_comparison",
    "plot_alignment",
    "plot_confound",
    "plot_evidence",
    "save_figure",
    "figure_to_bytes",
    "figure_to_data_uri",
]

_DIAG = InstanceOf("aria.diagnostics.reliability.Diagnostics")
_RESULT = InstanceOf("aria.groups.result.HomogeneityResult")
_TITLE = [None, "str"]
_BINS = Interval(int, 1, None)
_MATRIX = Options(("scores", "residual"))
_K = [None, Interval(int, 2, None)]
_DPI = Interval(float, 0, None, closed="neither")
#: Figure formats :func:`figure_to_bytes` writes.
FORMATS = ("png", "svg", "pdf")

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
_CYCLE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
_GREY = "#999999"
_NULL_BAND = "#DDDDDD"


def _mpl():
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise AriaDependencyError(
            "plots need matplotlib; install it with: pip install 'aria-tda[notebook]' "
            "(or pip install matplotlib)"
        ) from None
    return matplotlib, Figure, FigureCanvasAgg


def _figure(width: float = 6.4, height: float = 4.0, ncols: int = 1, nrows: int = 1,
            sharey: bool = False):
    _, Figure, FigureCanvasAgg = _mpl()
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False)
    return fig, axes


def _histogram(values: np.ndarray, limits: tuple[float, float], bins: int, color: str, xlabel: str,
               ylabel: str):
    """One axis with a histogram of ``values`` in ``bins`` equal-width bins over ``limits``."""
    fig, axes = _figure()
    ax = axes[0, 0]
    ax.hist(values, bins=np.linspace(limits[0], limits[1], bins + 1), color=color, edgecolor="white",
            linewidth=0.5)
    ax.set_xlim(*limits)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def _paired_bars(chans: Sequence[str], left: tuple, right: tuple):
    """One axis with two bars per channel, ``left`` then ``right``, each ``(values, colour, label, gid)``.

    Returns the figure, the axis and the bar positions; the x axis is labelled with the channels.
    """
    fig, axes = _figure(width=max(6.4, 1.1 * len(chans) + 2), height=4.0)
    ax = axes[0, 0]
    x = np.arange(len(chans))
    for dx, (values, color, label, gid) in ((-0.2, left), (0.2, right)):
        ax.bar(x + dx, np.nan_to_num(np.asarray(values, dtype=float)), 0.4, color=color, label=label, gid=gid)
    ax.set_xticks(x, chans)
    ax.set_xlabel("channel")
    return fig, ax, x


def channel_colors(channels: Sequence[str]) -> dict[str, str]:
    """A stable Okabe-Ito colour per channel name (in the given order).

    Parameters
    ----------
    channels : sequence of str
        Channel names.

    Returns
    -------
    dict
        ``{channel: hex colour}``.

    Examples
    --------
    >>> from aria.report.plot import channel_colors
    >>> colors = channel_colors(["melody", "harmony"])
    >>> colors
    {'melody': '#0072B2', 'harmony': '#E69F00'}
    >>> channel_colors(["melody", "harmony"]) == colors
    True
    """
    return {c: _CYCLE[i % len(_CYCLE)] for i, c in enumerate(channels)}


# ---------------------------------------------------------------------------
# Diagnostics
# ---------------------------------------------------------------------------


@validate_params({"diag": _DIAG, "title": _TITLE})
def plot_energy_spectrum(diag: Diagnostics, *, title: str | None = None) -> Figure:
    """Leading singular-value energy spectrum ``E_k`` with ``E1`` and ``E2:5`` marked.

    One bar per reported ``E_k`` (``diag.energy_spectrum``): ``E1`` in
    vermillion, ``E2..E5`` in blue, the rest grey; the cumulative energy is
    drawn as a line on the same axis.

    Parameters
    ----------
    diag : aria.diagnostics.reliability.Diagnostics
        Result of :func:`aria.diagnose`.
    title : str, optional
        Figure title (default: the verdict).

    Returns
    -------
    matplotlib.figure.Figure
        One axis: bars per ``E_k`` and the cumulative line.

    Examples
    --------
    >>> import aria
    >>> from aria.report.plot import plot_energy_spectrum
    >>> fig = plot_energy_spectrum(aria.diagnose(aria.load_scores(aria.examples.path("collapsed"))))
    >>> len(fig.axes[0].patches) > 0 or len(fig.axes[0].lines) > 0
    True
    """
    spectrum = np.asarray(diag.energy_spectrum, dtype=float)
    fig, axes = _figure()
    ax = axes[0, 0]
    k = np.arange(1, spectrum.size + 1)
    colors = [OKABE_ITO["vermillion"] if i == 1 else OKABE_ITO["blue"] if 2 <= i <= 5 else _GREY
              for i in k]
    ax.bar(k, np.nan_to_num(spectrum), color=colors, edgecolor="none", gid="energy-bars")
    ax.plot(k, np.nancumsum(spectrum), color=OKABE_ITO["black"], marker=".", lw=1,
            label="cumulative energy", gid="cumulative")
    from matplotlib.patches import Patch

    handles = [
        Patch(color=OKABE_ITO["vermillion"], label=f"E1 = {fmt_number(diag.energy_ratio_1, 3, 'undefined')}"),
        Patch(color=OKABE_ITO["blue"], label=f"E2:5 = {fmt_number(diag.energy_ratio_2_5, 3, 'undefined')}"),
        ax.lines[0],
    ]
    ax.legend(handles=handles, loc="center right", frameon=False)
    ax.set_xlabel("singular component k")
    ax.set_ylabel("energy ratio E_k = σ_k² / ‖S‖_F² (fraction)")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(k if k.size <= 20 else k[:: max(1, k.size // 10)])
    ax.set_title(title if title is not None else f"Energy spectrum (verdict: {diag.verdict})")
    return fig


@validate_params({"diag": _DIAG, "bins": _BINS, "title": _TITLE})
def plot_interquery_correlations(diag: Diagnostics, *, bins: int = 40, title: str | None = None) -> Figure:
    """Histogram of the pairwise inter-query Pearson correlations ``R[q, q']``, ``q < q'``.

    The mean absolute correlation ``rho_bar`` and the ``collapsed`` threshold
    are drawn as vertical lines (at ``+rho_bar`` and ``+threshold``).

    Parameters
    ----------
    diag : aria.diagnostics.reliability.Diagnostics
        Result of :func:`aria.diagnose`.
    bins : int
        Number of equal-width bins over [-1, 1].
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axis: the histogram and its reference lines.

    Examples
    --------
    >>> import aria
    >>> from aria.report.plot import plot_interquery_correlations
    >>> d = aria.diagnose(aria.load_scores(aria.examples.path("query-dependent")))
    >>> fig = plot_interquery_correlations(d, bins=20)
    >>> fig.axes[0].get_xlabel()
    "Pearson correlation R[q, q'] between two queries' score columns"
    """
    values = diag.interquery_correlations()
    fig, ax = _histogram(values, (-1.0, 1.0), bins, OKABE_ITO["blue"],
                         "Pearson correlation R[q, q'] between two queries' score columns",
                         "number of query pairs")
    rho = diag.mean_abs_interquery_corr
    if math.isfinite(rho):
        ax.axvline(rho, color=OKABE_ITO["vermillion"], lw=2, label=f"ρ̄ = mean |R| = {rho:.3f}")
    ax.axvline(diag.thresholds.collapsed_corr, color=OKABE_ITO["black"], ls="--", lw=1,
               label=f"collapsed threshold {diag.thresholds.collapsed_corr:g}")
    ax.legend(loc="best", frameon=True, framealpha=0.9)
    ax.set_title(title if title is not None else
                 f"Inter-query correlations ({values.size} pairs)")
    return fig


@validate_params({"diag": _DIAG, "bins": _BINS, "title": _TITLE})
def plot_concentration(diag: Diagnostics, *, bins: int = 20, title: str | None = None) -> Figure:
    """Histogram of the per-query concentration ratio ``C_q`` with ``C_bar`` and thresholds.

    Parameters
    ----------
    diag : aria.diagnostics.reliability.Diagnostics
        Result of :func:`aria.diagnose`.
    bins : int
        Equal-width bins over [0, 1].
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axis: the histogram, C_bar and both offset thresholds.

    Examples
    --------
    >>> import aria
    >>> from aria.report.plot import plot_concentration
    >>> fig = plot_concentration(aria.diagnose(aria.load_scores(aria.examples.path("offset-dominated"))))
    >>> [float(x) for x in fig.axes[0].get_xlim()], fig.axes[0].get_ylabel()
    ([0.0, 1.0], 'number of queries')
    """
    conc = np.asarray(diag.concentration, dtype=float)
    conc = conc[np.isfinite(conc)]
    fig, ax = _histogram(
        conc, (0.0, 1.0), bins, OKABE_ITO["bluish_green"],
        "concentration C_q = (Σ_i S[i,q])² / (N Σ_i S[i,q]²) (fraction of energy in the mean)",
        "number of queries")
    c = diag.mean_concentration
    if math.isfinite(c):
        ax.axvline(c, color=OKABE_ITO["vermillion"], lw=2, label=f"C̄ = {c:.3f}")
    t = diag.thresholds
    ax.axvline(t.offset_concentration, color=OKABE_ITO["black"], ls="--", lw=1,
               label=f"offset-dominated threshold {t.offset_concentration:g}")
    ax.axvline(t.partial_offset_concentration, color=OKABE_ITO["black"], ls=":", lw=1,
               label=f"partial-offset threshold {t.partial_offset_concentration:g}")
    ax.legend(loc="best", frameon=True, framealpha=0.9)
    ax.set_title(title if title is not None else f"Per-query concentration ({conc.size} queries)")
    return fig


# ---------------------------------------------------------------------------
# Homogeneity
# ---------------------------------------------------------------------------

#: Half-width of the null band: the central 90% of a standard normal (one-sided 5% each side).
NULL_BAND = 1.645


def _matrix(result: HomogeneityResult, matrix: str) -> MatrixHomogeneity:
    mh = result.scores if matrix == "scores" else result.residual
    if mh is None:
        raise AriaInputError(f"the homogeneity result has no {matrix!r} analysis (run it with residual=True)",
                             parameter="matrix")
    return mh


@validate_params({"result": _RESULT, "matrix": _MATRIX, "title": _TITLE})
def plot_z_distribution(result: HomogeneityResult, *, matrix: str = "scores",
                        title: str | None = None) -> Figure:
    """Per-channel distribution of the query z-scores ``z_c(q)``, one panel per K, with the null band.

    Box plots (median, quartiles, 1.5 IQR whiskers, outliers) over the
    included queries; the shaded band is ``|z| <= 1.645`` (where 90% of
    random groups fall if z is standard normal under the null) and the dashed
    line ``z = 1.645`` is the significance threshold of ``Sig``.

    Parameters
    ----------
    result : aria.groups.result.HomogeneityResult
        Homogeneity of one method.
    matrix : str
        ``"scores"`` or ``"residual"``.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per K, all on the same z scale.

    Examples
    --------
    >>> import aria
    >>> from aria.report.plot import plot_z_distribution
    >>> fig = plot_z_distribution(aria.examples.tiny().report_result(), matrix="residual")
    >>> [ax.get_title() for ax in fig.axes]
    ['K = 2', 'K = 3']
    """
    mh = _matrix(result, matrix)
    ks, chans = mh.k_values, list(mh.channels)
    colors = channel_colors(chans)
    fig, axes = _figure(width=max(6.4, 2.6 * len(ks)), height=4.0, ncols=len(ks), sharey=True)
    for ki, k in enumerate(ks):
        ax = axes[0, ki]
        data = []
        for ci in range(len(chans)):
            z = mh.z_channel[ki, mh.included, ci]
            data.append(z[np.isfinite(z)])
        ax.axhspan(-NULL_BAND, NULL_BAND, color=_NULL_BAND, zorder=0, label="null band |z| ≤ 1.645")
        ax.axhline(0.0, color=_GREY, lw=0.8, zorder=1)
        ax.axhline(NULL_BAND, color=OKABE_ITO["black"], ls="--", lw=0.8, zorder=1, label="z = 1.645")
        bp = ax.boxplot(data, tick_labels=chans, patch_artist=True, widths=0.6,
                        medianprops={"color": OKABE_ITO["black"]},
                        flierprops={"marker": ".", "markersize": 3})
        for patch, c in zip(bp["boxes"], chans, strict=True):
            patch.set_facecolor(colors[c])
            patch.set_alpha(0.85)
        ax.set_title(f"K = {k}")
        ax.set_xlabel("channel")
        ax.tick_params(axis="x", labelrotation=45)
        if ki == 0:
            ax.set_ylabel("z_c(q) = (H_c(q) − μ_c) / sd_c (null standard deviations)")
    axes[0, 0].legend(loc="upper right", frameon=True, framealpha=0.9, fontsize="small")
    fig.suptitle(title if title is not None else
                 f"Homogeneity z per channel ({matrix}, {int(mh.included.sum())} queries)")
    return fig


@validate_params({"result": _RESULT, "matrix": _MATRIX, "title": _TITLE})
def plot_k_sweep(result: HomogeneityResult, *, matrix: str = "scores", title: str | None = None) -> Figure:
    """K-sweep of ``z_bar``, ``Pos`` and ``Sig`` per channel (three panels, one line per channel).

    Parameters
    ----------
    result : aria.groups.result.HomogeneityResult
        Homogeneity of one method, over several K.
    matrix : str
        The analysed matrix to plot, ``"scores"`` or ``"residual"``.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes: ``z_bar``, ``Pos``, ``Sig``.

    Examples
    --------
    >>> import aria
    >>> from aria.report.plot import plot_k_sweep
    >>> fig = plot_k_sweep(aria.examples.tiny().homogeneity(k=[2, 3, 5]))
    >>> len(fig.axes), fig.axes[0].get_xlabel()
    (3, 'group size K (tracks)')
    """
    from aria.groups.result import summarize

    mh = _matrix(result, matrix)
    ks, chans = list(mh.k_values), list(mh.channels)
    colors = channel_colors(chans)
    fig, axes = _figure(width=11.0, height=3.8, ncols=3)
    stats_ = {c: [summarize(mh.z_channel[ki, :, ci], mh.included) for ki in range(len(ks))]
              for ci, c in enumerate(chans)}
    panels = (("z_mean", "z̄_c: mean z over queries (null sd)", 0.0),
              ("pos", "Pos_c: fraction of queries with z > 0", 0.5),
              ("sig", "Sig_c: fraction of queries with z > 1.645", 0.05))
    markers = "osD^vP*X"
    for ax, (key, label, ref) in zip(axes[0], panels, strict=True):
        for i, c in enumerate(chans):
            ax.plot(ks, [s[key] for s in stats_[c]], marker=markers[i % len(markers)], color=colors[c],
                    label=c, gid=f"{key}-{c}")
        ax.axhline(ref, color=_GREY, ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("group size K (tracks)")
        ax.set_ylabel(label)
        if key != "z_mean":
            ax.set_ylim(-0.02, 1.02)
    axes[0, 0].legend(loc="best", frameon=True, framealpha=0.9, fontsize="small")
    fig.suptitle(title if title is not None else f"K sweep ({matrix}); dotted: expectation under the null")
    return fig


@validate_params({"result": _RESULT, "k": _K, "title": _TITLE})
def plot_residual_comparison(result: HomogeneityResult, *, k: int | None = None,
                             title: str | None = None) -> Figure:
    """Raw versus rank-1-residual homogeneity (``z_bar`` per channel, side by side).

    Parameters
    ----------
    result : aria.groups.result.HomogeneityResult
        Homogeneity computed with ``residual=True``.
    k : int, optional
        Group size (default 10 when computed, else the smallest).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axis: raw and residual ``z_bar`` side by side per channel.

    Examples
    --------
    >>> import aria
    >>> res = aria.examples.tiny().report_result()
    >>> from aria.report.plot import plot_residual_comparison
    >>> fig = plot_residual_comparison(res, k=3)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()], fig.axes[0].get_title()
    (['a'], 'Raw vs residual homogeneity (K = 3)')
    """
    from aria.groups.setup import homogeneity_summary, pick_k

    if result.residual is None:
        raise AriaInputError("result has no residual analysis (run homogeneity with residual=True)",
                             parameter="result")
    k = pick_k(result.k_values, k)
    raw = homogeneity_summary(result, k, "scores")
    res = homogeneity_summary(result, k, "residual")
    chans = list(result.scores.channels)
    raw_z = np.array([raw[c]["z_bar"] for c in chans], dtype=float)
    res_z = np.array([res[c]["z_bar"] for c in chans], dtype=float)
    fig, ax, x = _paired_bars(chans, (raw_z, OKABE_ITO["blue"], "raw scores S", "raw"),
                              (res_z, OKABE_ITO["orange"], "rank-1 residual S_res", "residual"))
    for i in np.flatnonzero(~np.isfinite(raw_z) | ~np.isfinite(res_z)):
        ax.text(x[i], 0.0, "undefined\n(null sd 0)", ha="center", va="bottom", fontsize="small")
    ax.axhline(0.0, color=_GREY, lw=0.8)
    ax.axhline(NULL_BAND, color=OKABE_ITO["black"], ls="--", lw=0.8, label="z = 1.645")
    ax.set_ylabel("z̄_c: mean z over queries (null sd)")
    ax.legend(loc="best", frameon=True, framealpha=0.9)
    ax.set_title(title if title is not None else f"Raw vs residual homogeneity (K = {k})")
    return fig


@validate_params({"alignment": InstanceOf("aria.groups.alignment.AlignmentResult"), "title": _TITLE})
def plot_alignment(alignment: AlignmentResult, *, title: str | None = None) -> Figure:
    """Axis-channel alignment bars: ``A_max`` and ``A_grp`` (R²) per channel.

    Parameters
    ----------
    alignment : aria.groups.alignment.AlignmentResult
        Result of the alignment analysis (``HomogeneityResult.alignment``).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axis: ``A_max`` and ``A_grp`` bars per channel.

    Examples
    --------
    >>> import aria
    >>> from aria.report.plot import plot_alignment
    >>> fig = plot_alignment(aria.examples.tiny().homogeneity(alignment=True).alignment)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['a']
    """
    tab = alignment.channels
    chans = [str(c) for c in tab["channel"]]
    fig, ax, _ = _paired_bars(
        chans, (tab["a_max"], OKABE_ITO["vermillion"], "A_max: max |corr(u1, feature dim)|", "a_max"),
        (tab["a_grp"], OKABE_ITO["sky_blue"], "A_grp: max R² of u1 on a feature", "a_grp"))
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("alignment with the rank-1 axis u1 (0 to 1)")
    ax.legend(loc="best", frameon=True, framealpha=0.9)
    ax.set_title(title if title is not None else f"Axis-channel alignment ({alignment.n_tracks} tracks)")
    return fig


@validate_params({"confound": InstanceOf("aria.groups.confound.ConfoundResult"), "k": _K,
                  "matrix": _MATRIX, "title": _TITLE})
def plot_confound(confound: ConfoundResult, *, k: int | None = None, matrix: str = "scores",
                  title: str | None = None) -> Figure:
    """Per-label confound table as a heatmap: mean z per label (rows) and channel (columns).

    Each cell is annotated with the mean z and the number of queries ``n``;
    the colour scale is diverging and symmetric around 0.

    Parameters
    ----------
    confound : aria.groups.confound.ConfoundResult
        Result of the confound analysis (``HomogeneityResult.confound``).
    k : int, optional
        Group size (default 10 when present, else the smallest).
    matrix : str
        Rows of ``"scores"`` or of ``"residual"``.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axis (and its colour bar).

    Examples
    --------
    >>> import aria
    >>> res = aria.examples.tiny().report_result()
    >>> from aria.report.plot import plot_confound
    >>> fig = plot_confound(res.confound, k=3)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['high', 'low']
    """
    from aria.groups.setup import pick_k

    tab = confound.table[confound.table["matrix"] == matrix]
    if tab.empty:
        raise AriaInputError(f"the confound result has no {matrix!r} rows", parameter="matrix")
    k = pick_k(tuple(sorted(int(x) for x in tab["k"].unique())), k)
    tab = tab[tab["k"] == k]
    chans = list(dict.fromkeys(tab["channel"]))
    labels = sorted(dict.fromkeys(str(x) for x in tab["label"]))
    z = np.full((len(labels), len(chans)), np.nan)
    n = np.zeros((len(labels), len(chans)), dtype=int)
    for row in tab.itertuples():
        i, j = labels.index(str(row.label)), chans.index(row.channel)
        z[i, j], n[i, j] = row.z_mean, row.n
    fig, axes = _figure(width=max(5.0, 1.2 * len(chans) + 2.5), height=max(3.0, 0.5 * len(labels) + 1.8))
    ax = axes[0, 0]
    lim = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    lim = max(lim, 1e-9)
    im = ax.imshow(np.ma.masked_invalid(z), cmap="PuOr_r", vmin=-lim, vmax=lim, aspect="auto")
    for i in range(len(labels)):
        for j in range(len(chans)):
            txt = "–" if not np.isfinite(z[i, j]) else f"{z[i, j]:.2f}"
            ax.text(j, i, f"{txt}\nn={n[i, j]}", ha="center", va="center", fontsize="small",
                    color=OKABE_ITO["black"])
    ax.set_xticks(np.arange(len(chans)), chans)
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_xlabel("channel")
    ax.set_ylabel(f"query label ({confound.label_name})")
    fig.colorbar(im, ax=ax, label="mean z_c(q) over the label's queries")
    ax.set_title(title if title is not None else f"Homogeneity by {confound.label_name} (K = {k}, {matrix})")
    return fig


@validate_params({"evidence": InstanceOf("aria.evaluate.evidence.QueryEvidence"), "title": _TITLE})
def plot_evidence(evidence: QueryEvidence, *, title: str | None = None) -> Figure:
    """Single-query evidence: the group's ``H_c`` against its random-reference null, per channel.

    One panel per channel: histogram of ``H_c`` over the R random groups,
    the null mean ± 1.645 sd shaded, and the query's ``H_c`` as a vertical
    line labelled with its z-score.

    Parameters
    ----------
    evidence : aria.evaluate.evidence.QueryEvidence
        Result of :func:`aria.evaluate.evidence.query_evidence`.
    title : str, optional
        Figure title (default: the query, K and the analysed matrix).

    Returns
    -------
    matplotlib.figure.Figure
        One axis per channel.

    Examples
    --------
    >>> import aria
    >>> from aria.report.plot import plot_evidence
    >>> fig = plot_evidence(aria.examples.tiny().evidence("q1"))
    >>> len(fig.axes), fig.axes[0].get_title()
    (1, 'a')
    """
    chans = list(evidence.channels["channel"])
    colors = channel_colors(chans)
    fig, axes = _figure(width=max(6.4, 2.6 * len(chans)), height=3.6, ncols=len(chans))
    for ci, row in enumerate(evidence.channels.itertuples()):
        ax = axes[0, ci]
        vals = evidence.null_channel_values[:, ci]
        ax.hist(vals, bins=30, color=_GREY, edgecolor="white", linewidth=0.4)
        ax.axvspan(row.null_mean - NULL_BAND * row.null_sd, row.null_mean + NULL_BAND * row.null_sd,
                   color=_NULL_BAND, zorder=0)
        zlabel = f"z = {row.z:.2f}" if np.isfinite(row.z) else "z undefined (null sd 0)"
        ax.axvline(row.H, color=colors[row.channel], lw=2.5, label=f"query: {zlabel}")
        ax.set_title(row.channel)
        ax.set_xlabel("H_c (similarity, 0 to 1)")
        if ci == 0:
            ax.set_ylabel(f"random groups (of {evidence.null_groups})")
        ax.legend(loc="best", frameon=True, framealpha=0.9, fontsize="small")
    fig.suptitle(title if title is not None else
                 f"Query {evidence.query}: top-{evidence.k} group vs random groups ({evidence.matrix})")
    return fig


# ---------------------------------------------------------------------------
# Method comparison
# ---------------------------------------------------------------------------


@validate_params({"comparison": InstanceOf("aria.evaluate.compare.Comparison"), "title": _TITLE})
def plot_compare(comparison: Comparison, *, title: str | None = None) -> Figure:
    """Diagnostics of several methods side by side (one group of bars per method).

    Bars: ``rho_bar``, ``E1``, ``C_bar`` (lower = more reliable) per method;
    collapsed methods are hatched and labelled. When LDS is known it is
    drawn as black diamonds on a second axis.

    Parameters
    ----------
    comparison : aria.evaluate.compare.Comparison
        Result of :func:`aria.evaluate.compare.compare_methods`.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axis (a second one for LDS when known).

    Examples
    --------
    >>> import aria
    >>> from aria.report.plot import plot_compare
    >>> d = aria.examples.diagnoses()
    >>> fig = plot_compare(aria.compare_methods(d))
    >>> len(fig.axes) >= 1
    True
    """
    from aria.evaluate.compare import DIAGNOSTIC_KEYS

    rows = comparison.methods
    names = [m.name for m in rows]
    fig, axes = _figure(width=max(6.4, 1.2 * len(rows) + 3), height=4.2)
    ax = axes[0, 0]
    x = np.arange(len(rows))
    width = 0.8 / len(DIAGNOSTIC_KEYS)
    palette = (OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["bluish_green"])
    for j, (key, label) in enumerate(DIAGNOSTIC_KEYS.items()):
        vals = np.array([m.diagnostics_value(key) for m in rows], dtype=float)
        bars = ax.bar(x + (j - 1) * width, np.nan_to_num(vals), width, color=palette[j], label=label,
                      gid=f"bars-{key}")
        for bar, m in zip(bars, rows, strict=True):
            if m.excluded:
                bar.set_hatch("//")
                bar.set_edgecolor("white")
    ax.set_xticks(x, [f"{n}\n({m.verdict})" for n, m in zip(names, rows, strict=True)])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("diagnostic value (fraction; lower = more reliable)")
    ax.set_xlabel("attribution method (verdict)")
    lds = np.array([m.lds if m.lds is not None else np.nan for m in rows], dtype=float)
    handles, labels = ax.get_legend_handles_labels()
    if np.isfinite(lds).any():
        ax2 = ax.twinx()
        ax2.plot(x[np.isfinite(lds)], lds[np.isfinite(lds)], "D", color=OKABE_ITO["black"],
                 label="LDS (right axis)", gid="lds")
        ax2.set_ylabel("LDS (mean Spearman correlation)")
        lo = min(-0.05, float(np.nanmin(lds)) - 0.05)
        ax2.set_ylim(lo, 1.05)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="upper left", frameon=False, fontsize="small")
    ax.set_title(title if title is not None else "Reliability diagnostics per method "
                 "(hatched = excluded from rankings)")
    return fig


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


@validate_params({"fmt": Options(FORMATS, ignore_case=True), "dpi": _DPI})
def figure_to_bytes(fig: Figure, fmt: str = "png", *, dpi: int = 100) -> bytes:
    """Render a figure to PNG/SVG/PDF bytes, reproducibly (no dates, fixed SVG id salt).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    fmt : str
        ``"png"``, ``"svg"`` or ``"pdf"``.
    dpi : int
        Resolution of raster output.

    Returns
    -------
    bytes
        The encoded file.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from aria.report.plot import figure_to_bytes
    >>> fig, ax = plt.subplots(figsize=(2, 1.5))
    >>> _ = ax.plot([0, 1], [1, 0])
    >>> png = figure_to_bytes(fig, dpi=40)
    >>> png[1:4], figure_to_bytes(fig, "svg") == figure_to_bytes(fig, "svg")
    (b'PNG', True)
    >>> plt.close(fig)
    """
    matplotlib, _, _ = _mpl()
    fmt = fmt.lower()
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "aria", "svg.fonttype": "path"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata[fmt])
    return buf.getvalue()


@validate_params({"fmt": Options(("png", "svg")), "dpi": _DPI})
def figure_to_data_uri(fig: Figure, fmt: str = "png", *, dpi: int = 100) -> str:
    """A ``data:`` URI embedding the figure (for self-contained HTML).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to embed.
    fmt : str
        ``"png"`` or ``"svg"``.
    dpi : int
        Resolution of PNG output.

    Returns
    -------
    str
        ``data:image/png;base64,...`` or ``data:image/svg+xml;base64,...``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from aria.report.plot import figure_to_data_uri
    >>> fig, ax = plt.subplots(figsize=(2, 1.5))
    >>> figure_to_data_uri(fig, "svg", dpi=40)[:26]
    'data:image/svg+xml;base64,'
    >>> plt.close(fig)
    """
    mime = {"png": "image/png", "svg": "image/svg+xml"}[fmt]
    data = base64.b64encode(figure_to_bytes(fig, fmt, dpi=dpi)).decode("ascii")
    return f"data:{mime};base64,{data}"


@validate_params({"path": "path", "dpi": _DPI})
def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 100) -> Path:
    """Write a figure atomically; the format follows the suffix (.png, .svg, .pdf).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : path-like
        Destination.
    dpi : int
        Resolution of raster output.

    Returns
    -------
    pathlib.Path
        ``path``, written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import matplotlib.pyplot as plt
    >>> from aria.report.plot import save_figure
    >>> fig, ax = plt.subplots(figsize=(2, 1.5))
    >>> p = save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "line.svg")
    >>> p.name, p.read_text().lstrip().startswith("<?xml")
    ('line.svg', True)
    >>> plt.close(fig)
    """
    from aria.io.atomic import atomic_open

    p = Path(path)
    fmt = p.suffix.lstrip(".") or "png"
    if fmt.lower() not in FORMATS:
        raise AriaInputError(f"path must end in .png, .svg or .pdf (or have no suffix), got {p.name}",
                             parameter="path", function="save_figure")
    data = figure_to_bytes(fig, fmt, dpi=dpi)
    with atomic_open(p, "wb") as fh:
        fh.write(data)
    return p


def close(figs: object) -> None:
    """Release figures' memory (they hold no pyplot state; this just clears them).

    Parameters
    ----------
    figs : Figure, mapping or sequence of figures
        Figures to clear.
    """
    if isinstance(figs, Mapping):
        figs = list(figs.values())
    elif not isinstance(figs, Sequence):
        figs = [figs]
    for f in figs:
        f.clear()
