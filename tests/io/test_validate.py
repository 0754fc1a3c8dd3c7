"""aria.io.validate messages."""

import pytest

from aria.errors import AriaInputError
from aria.io.validate import check_unique


@pytest.mark.parametrize("what,expected", [
    ("query id", "duplicate query ids: 'q1' (1 duplicated)"),
    ("query ids", "duplicate query ids: 'q1' (1 duplicated)"),  # was "query idss"
    ("segment id in map.csv", "duplicate segment ids in map.csv: 'q1' (1 duplicated)"),
    ("segment ids in map.csv", "duplicate segment ids in map.csv: 'q1' (1 duplicated)"),
])
def test_check_unique_names_the_duplicates_in_the_plural_once(what, expected):
    with pytest.raises(AriaInputError) as e:
        check_unique(["q1", "q2", "q1"], what)
    assert str(e.value) == expected


def test_check_unique_accepts_distinct_ids():
    check_unique(["a", "b", "c"], "track id")
