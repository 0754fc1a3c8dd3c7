import warnings

import numpy as np
import pytest

import aria
from aria.evaluate.compare import compare_methods
from aria.report import plot


@pytest.fixture(scope="module")
def diags():
    return {n: aria.diagnose(aria.load_scores(aria.examples.path(n))) for n in aria.examples.SYNTHETIC_NAMES}


def _render_both(fig, tmp_path, stem):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = plot.save_figure(fig, tmp_path / f"{stem}.png")
        svg = plot.save_figure(fig, tmp_path / f"{stem}.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:500]



@pytest.mark.parametrize("name", ["query-dependent", "collapsed", "offset-dominated"])
def test_energy_spectrum(diags, name, tmp_path):
    d = diags[name]
    fig = plot.plot_energy_spectrum(d)
    ax = fig.axes[0]
    assert "energy ratio" in ax.get_ylabel() and "component" in ax.get_xlabel()
    heights = [p.get_height() for p in ax.containers[0]]
    assert len(heights) == d.energy_spectrum.size
    np.testing.assert_allclose(heights, d.energy_spectrum)
    colors = [p.get_facecolor()[:3] for p in ax.containers[0]]
    assert colors[0] != colors[1] and colors[1] == colors[4] != colors[5]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.cumsum(d.energy_spectrum))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"E1 = {d.energy_ratio_1:.3f}" in legend and f"E2:5 = {d.energy_ratio_2_5:.3f}" in legend
    _render_both(fig, tmp_path, "spectrum")


def test_interquery_histogram(diags, tmp_path):
    d = diags["query-dependent"]
    fig = plot.plot_interquery_correlations(d)
    ax = fig.axes[0]
    counts = [p.get_height() for p in ax.patches]
    assert sum(counts) == d.n_correlation_pairs == 40 * 39 // 2
    ref, _ = np.histogram(d.interquery_correlations(), bins=np.linspace(-1, 1, 41))
    np.testing.assert_array_equal(counts, ref)
    assert ax.lines[0].get_xdata()[0] == pytest.approx(d.mean_abs_interquery_corr)
    assert "query pairs" in ax.get_ylabel() and "correlation" in ax.get_xlabel()
    _render_both(fig, tmp_path, "corr")


def test_concentration_histogram(diags, tmp_path):
    d = diags["offset-dominated"]
    fig = plot.plot_concentration(d)
    ax = fig.axes[0]
    counts = [p.get_height() for p in ax.patches]
    assert sum(counts) == d.n_queries
    ref, _ = np.histogram(d.concentration, bins=np.linspace(0, 1, 21))
    np.testing.assert_array_equal(counts, ref)
    assert ax.lines[0].get_xdata()[0] == pytest.approx(d.mean_concentration)
    assert "queries" in ax.get_ylabel() and "concentration" in ax.get_xlabel()
    _render_both(fig, tmp_path, "conc")


def test_compare_plot(diags, tmp_path):
    comp = compare_methods(diags, lds={"query-dependent": 0.3, "collapsed": 0.0})
    fig = plot.plot_compare(comp)
    ax = fig.axes[0]
    assert len(ax.containers) == 3 and all(len(c) == 3 for c in ax.containers)
    heights = [b.get_height() for b in ax.containers[1]]
    np.testing.assert_allclose(heights, [diags[n].energy_ratio_1 for n in diags])
    hatched = [b.get_hatch() for b in ax.containers[0]]
    assert hatched == [None, "//", None]  # collapsed is the second method
    ax2 = fig.axes[1]
    assert "LDS" in ax2.get_ylabel()
    assert ax2.lines[0].get_ydata().tolist() == [0.3, 0.0]
    _render_both(fig, tmp_path, "compare")


def test_reproducible_bytes(diags):
    a = plot.figure_to_bytes(plot.plot_energy_spectrum(diags["collapsed"]), "svg")
    b = plot.figure_to_bytes(plot.plot_energy_spectrum(diags["collapsed"]), "svg")
    assert a == b
    a = plot.figure_to_bytes(plot.plot_energy_spectrum(diags["collapsed"]), "png")
    b = plot.figure_to_bytes(plot.plot_energy_spectrum(diags["collapsed"]), "png")
    assert a == b
    with pytest.raises(ValueError, match="fmt must be one of 'png', 'svg', 'pdf', got 'bmp'"):
        plot.figure_to_bytes(plot.plot_energy_spectrum(diags["collapsed"]), "bmp")


def test_palette_is_okabe_ito():
    cols = plot.channel_colors(["melody", "harmony", "rhythm"])
    assert set(cols.values()) <= set(plot.OKABE_ITO.values())
    assert len(set(cols.values())) == 3
