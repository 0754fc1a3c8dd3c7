"""Confound analysis by hand on the tiny example, its error text, and the null store lookup."""

import numpy as np
import pytest

import aria
from aria.errors import AriaInputError
from aria.groups.null import NullCache, stored_null


def test_confound_by_hand():
    res = aria.examples.tiny().homogeneity(k=[2, 3])
    z = res.scores.data.z.sel(channel="a")
    c = aria.confound_analysis([res.scores], {"q1": "low", "q2": "low"})
    row = c.table[c.table["k"] == 3].iloc[0]
    zq = z.sel(k=3).values
    assert row["label"] == "low" and row["n"] == 2
    assert row["z_mean"] == pytest.approx(zq.mean())
    assert row["pos"] == (zq > 0).mean() and row["sig"] == (zq > 1.645).mean()
    two = aria.confound_analysis([res.scores], {"q1": "low", "q2": "high"})
    spread = two.spread[two.spread["k"] == 2]["sd_label_means"].item()
    assert spread == pytest.approx(np.std(z.sel(k=2).values))  # ddof = 0 of the two one-query means


def test_missing_label_names_the_query_as_text():
    scores = aria.examples.tiny().homogeneity().scores
    assert type(scores.query_ids[1]) is not str  # numpy strings: their repr is np.str_('q2')
    with pytest.raises(AriaInputError) as err:
        aria.confound_analysis([scores], {"q1": "low"})
    assert "e.g. 'q2'" in str(err.value) and "np.str_" not in str(err.value)


def test_stored_null_reads_what_the_engine_wrote(tmp_path):
    t = aria.examples.tiny()
    psim = t.prepare().similarity
    cache = NullCache(tmp_path)
    assert stored_null(None, psim, 3, 200, 0) is None
    assert stored_null(cache, psim, 3, 200, 0) is None
    computed = t.homogeneity(cache_dir=tmp_path).nulls[3]
    again = stored_null(cache, psim, 3, 200, 0)
    assert again.from_cache and np.array_equal(again.channel_values, computed.channel_values)
    assert stored_null(cache, psim, 3, 200, 1) is None  # another seed is another null
