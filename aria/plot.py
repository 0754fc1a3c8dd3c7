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

import numpy as np

from aria.errors import AriaDependencyError

__all__ = [
    "OKABE_ITO",
    "channel_colors",
    "plot_energy_spectrum",
    "plot_interquery_correlations",
    "plot_concentration",
    "plot_compare",
    "save_figure",
    "figure_to_bytes",
    "figure_to_data_uri",
]

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
    """
    return {c: _CYCLE[i % len(_CYCLE)] for i, c in enumerate(channels)}


# ---------------------------------------------------------------------------
# Diagnostics
# ---------------------------------------------------------------------------


def plot_energy_spectrum(diag, *, title: str | None = None):
    """Leading singular-value energy spectrum ``E_k`` with ``E1`` and ``E2:5`` marked.

    One bar per reported ``E_k`` (``diag.energy_spectrum``): ``E1`` in
    vermillion, ``E2..E5`` in blue, the rest grey; the cumulative energy is
    drawn as a line on the same axis.

    Parameters
    ----------
    diag : aria.diagnostics.Diagnostics
        Result of :func:`aria.diagnose`.
    title : str, optional
        Figure title (default: the verdict).

    Returns
    -------
    matplotlib.figure.Figure
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
        Patch(color=OKABE_ITO["vermillion"], label=f"E1 = {_fmt(diag.energy_ratio_1)}"),
        Patch(color=OKABE_ITO["blue"], label=f"E2:5 = {_fmt(diag.energy_ratio_2_5)}"),
        ax.lines[0],
    ]
    ax.legend(handles=handles, loc="center right", frameon=False)
    ax.set_xlabel("singular component k")
    ax.set_ylabel("energy ratio E_k = σ_k² / ‖S‖_F² (fraction)")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(k if k.size <= 20 else k[:: max(1, k.size // 10)])
    ax.set_title(title if title is not None else f"Energy spectrum (verdict: {diag.verdict})")
    return fig


def plot_interquery_correlations(diag, *, bins: int = 40, title: str | None = None):
    """Histogram of the pairwise inter-query Pearson correlations ``R[q, q']``, ``q < q'``.

    The mean absolute correlation ``rho_bar`` and the ``collapsed`` threshold
    are drawn as vertical lines (at ``+rho_bar`` and ``+threshold``).

    Parameters
    ----------
    diag : aria.diagnostics.Diagnostics
        Result of :func:`aria.diagnose`.
    bins : int
        Number of equal-width bins over [-1, 1].
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    values = diag.interquery_correlations()
    fig, axes = _figure()
    ax = axes[0, 0]
    ax.hist(values, bins=np.linspace(-1.0, 1.0, bins + 1), color=OKABE_ITO["blue"],
            edgecolor="white", linewidth=0.5)
    rho = diag.mean_abs_interquery_corr
    if math.isfinite(rho):
        ax.axvline(rho, color=OKABE_ITO["vermillion"], lw=2, label=f"ρ̄ = mean |R| = {rho:.3f}")
    ax.axvline(diag.thresholds.collapsed_corr, color=OKABE_ITO["black"], ls="--", lw=1,
               label=f"collapsed threshold {diag.thresholds.collapsed_corr:g}")
    ax.set_xlim(-1.0, 1.0)
    ax.set_xlabel("Pearson correlation R[q, q'] between two queries' score columns")
    ax.set_ylabel("number of query pairs")
    ax.legend(loc="best", frameon=True, framealpha=0.9)
    ax.set_title(title if title is not None else
                 f"Inter-query correlations ({values.size} pairs)")
    return fig


def plot_concentration(diag, *, bins: int = 20, title: str | None = None):
    """Histogram of the per-query concentration ratio ``C_q`` with ``C_bar`` and thresholds.

    Parameters
    ----------
    diag : aria.diagnostics.Diagnostics
        Result of :func:`aria.diagnose`.
    bins : int
        Number of equal-width bins over [0, 1].
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    conc = np.asarray(diag.concentration, dtype=float)
    conc = conc[np.isfinite(conc)]
    fig, axes = _figure()
    ax = axes[0, 0]
    ax.hist(conc, bins=np.linspace(0.0, 1.0, bins + 1), color=OKABE_ITO["bluish_green"],
            edgecolor="white", linewidth=0.5)
    c = diag.mean_concentration
    if math.isfinite(c):
        ax.axvline(c, color=OKABE_ITO["vermillion"], lw=2, label=f"C̄ = {c:.3f}")
    t = diag.thresholds
    ax.axvline(t.offset_concentration, color=OKABE_ITO["black"], ls="--", lw=1,
               label=f"offset-dominated threshold {t.offset_concentration:g}")
    ax.axvline(t.partial_offset_concentration, color=OKABE_ITO["black"], ls=":", lw=1,
               label=f"partial-offset threshold {t.partial_offset_concentration:g}")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("concentration C_q = (Σ_i S[i,q])² / (N Σ_i S[i,q]²) (fraction of energy in the mean)")
    ax.set_ylabel("number of queries")
    ax.legend(loc="best", frameon=True, framealpha=0.9)
    ax.set_title(title if title is not None else f"Per-query concentration ({conc.size} queries)")
    return fig


# ---------------------------------------------------------------------------
# Method comparison
# ---------------------------------------------------------------------------


def plot_compare(comparison, *, title: str | None = None):
    """Diagnostics of several methods side by side (one group of bars per method).

    Bars: ``rho_bar``, ``E1``, ``C_bar`` (lower = more reliable) per method;
    collapsed methods are hatched and labelled. When LDS is known it is
    drawn as black diamonds on a second axis.

    Parameters
    ----------
    comparison : aria.compare.Comparison
        Result of :func:`aria.compare.compare_methods`.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from aria.compare import DIAGNOSTIC_KEYS

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


def _fmt(x: float) -> str:
    return "undefined" if x is None or not math.isfinite(float(x)) else f"{float(x):.3f}"


def figure_to_bytes(fig, fmt: str = "png", *, dpi: int = 100) -> bytes:
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
    """
    matplotlib, _, _ = _mpl()
    fmt = fmt.lower()
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}
    if fmt not in metadata:
        raise ValueError(f"unsupported figure format {fmt!r}; use png, svg or pdf")
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "aria", "svg.fonttype": "path"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata[fmt])
    return buf.getvalue()


def figure_to_data_uri(fig, fmt: str = "png", *, dpi: int = 100) -> str:
    """A ``data:`` URI embedding the figure (for self-contained HTML).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    fmt : str
        ``"png"`` or ``"svg"``.
    dpi : int
        Resolution of PNG output.

    Returns
    -------
    str
    """
    mime = {"png": "image/png", "svg": "image/svg+xml"}[fmt]
    data = base64.b64encode(figure_to_bytes(fig, fmt, dpi=dpi)).decode("ascii")
    return f"data:{mime};base64,{data}"


def save_figure(fig, path: str | os.PathLike[str], *, dpi: int = 100) -> Path:
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
    """
    from aria._atomic import atomic_open

    p = Path(path)
    data = figure_to_bytes(fig, p.suffix.lstrip(".") or "png", dpi=dpi)
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
