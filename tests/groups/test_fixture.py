"""Before/after fixture: the step-wise engine reproduces the stored results float for float.

The expected snapshots were written by the engine as it was before the split into steps (see
``homogeneity_fixture.py``); equality is exact (JSON floats round-trip), NaN stored as null.
"""

import json

import numpy as np
import pytest
from homogeneity_fixture import CONFIGS, EXPECTED, load_inputs, make_inputs, snapshot

EXPECTED_SNAPSHOTS = json.loads(EXPECTED.read_text())


def test_stored_inputs_are_the_generated_ones():
    stored, fresh = load_inputs(), make_inputs()
    assert stored.keys() == fresh.keys()
    for k in stored:
        np.testing.assert_array_equal(stored[k], fresh[k])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_results_equal_the_stored_snapshot(name, tmp_path):
    got = snapshot(CONFIGS[name](load_inputs(), tmp_path))
    want = EXPECTED_SNAPSHOTS[name]
    assert got["json"] == want["json"]
    for frame, expected in want["frames"].items():
        assert got["frames"][frame] == expected, frame
    assert got["groups"] == want["groups"]


def test_snapshot_comparison_can_fail(tmp_path):
    # the same configuration with another seed gives other numbers: the comparison above is not vacuous
    from homogeneity_fixture import CHANNELS, feature_frame, score_matrix

    import aria

    inp = load_inputs()
    other = aria.homogeneity(score_matrix(inp), feature_frame(inp), CHANNELS, k=[3, 5, 8], normalize="zscore",
                             null_groups=40, seed=3, residual=True)
    want = EXPECTED_SNAPSHOTS["zscore_residual_labels"]
    got = snapshot(other)
    assert got["groups"] == want["groups"]
    assert got["frames"]["channel"]["data"]["h"] == want["frames"]["channel"]["data"]["h"]
    assert got["frames"]["channel"]["data"]["z"] != want["frames"]["channel"]["data"]["z"]
