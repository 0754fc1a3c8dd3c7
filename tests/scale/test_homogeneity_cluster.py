import numpy as np

import aria
from aria.groups.engine import homogeneity
from aria.scale import homogeneity as sh


def test_homogeneity_on_the_cluster_equals_single_process(tmp_path, client, monkeypatch):
    scores = aria.load_scores(aria.examples.path("bach-knn"))
    kw = dict(k=[5, 10], null_groups=60, seed=4, residual=True, labels=aria.examples.labels("bach-knn"))
    ref = homogeneity(scores, aria.examples.features_path(), "symbolic", **kw)
    monkeypatch.setattr(sh, "QUERY_BLOCK", 7)  # several query blocks per matrix
    got = homogeneity(scores, aria.examples.features_path(), "symbolic", client=client,
                      cache_dir=tmp_path / "cache", **kw)
    assert got.to_json() == ref.to_json()
    np.testing.assert_array_equal(got.scores.data.z.values, ref.scores.data.z.values)
    assert len(list((tmp_path / "cache").glob("null-*.npz"))) == 2
    again = homogeneity(scores, aria.examples.features_path(), "symbolic", client=client,
                        cache_dir=tmp_path / "cache", **kw)  # nulls now from the cache
    text = again.to_json()
    assert '"from_cache": true' in text and '"from_cache": true' not in ref.to_json()
    assert text.replace('"from_cache": true', '"from_cache": false') == ref.to_json()
