import pytest

from aria.errors import AriaInputError
from aria.features.channels import load_channel_set, parse_channel_set


def test_shipped_sets():
    audio = load_channel_set("audio")
    assert audio.channels == ("rhythm", "harmony", "timbre")
    assert [f.name for f in audio.features_of("harmony")] == ["chroma", "tonnetz", "chord_progression"]
    assert audio.feature("chord_progression").kind == "sequence"
    assert audio.feature("cqt").dim == 168
    sym = load_channel_set("symbolic")
    assert sym.channels == ("melody", "harmony", "rhythm", "dynamic", "texture")
    assert sum(f.dim for f in sym.features) == 25 + 12 + 12 + 1 + 1 + 11 + 1 + 1 + 1 + 1 + 1 + 1


def _write(tmp_path, text):
    p = tmp_path / "mine.toml"
    p.write_text(text)
    return p


GOOD = """
name = "mine"
[channels.a]
[channels.b]
[features.x]
channel = "a"
kind = "vector"
dim = 3
similarity = "seuclidean"
[features.y]
channel = "b"
similarity = "lcs_root_motion"
"""


def test_user_toml(tmp_path):
    cs = load_channel_set(_write(tmp_path, GOOD))
    assert cs.name == "mine" and cs.feature_names == ("x", "y")
    # value_type (written by the extractors' schema) is accepted on sequences
    assert load_channel_set(_write(tmp_path, GOOD + 'value_type = "int"\n')).feature("y").kind == "sequence"
    assert cs.feature("y").kind == "sequence"  # kind implied by the similarity


@pytest.mark.parametrize("old,new,msg", [
    ('similarity = "seuclidean"', 'similarity = "cosine"', "unknown similarity 'cosine'"),
    ("dim = 3\n", "", "missing 'dim'"),
    ('channel = "b"', 'channel = "c"', "channel 'c' is not declared"),
    ("dim = 3", "dim = 0", "'dim' must be a positive integer"),
    ('kind = "vector"', 'kind = "sequence"', "applies to vector features"),
    ("[channels.b]", "[channels.b]\n[channels.empty]", "channel(s) without features: empty"),
    ('similarity = "seuclidean"', 'similarity = "seuclidean"\nweight = 2', "unknown key(s) weight"),
    ('similarity = "lcs_root_motion"', 'similarity = "lcs_root_motion"\nvalue_type = "float"',
     "'value_type' applies to sequence features"),
])
def test_schema_errors(tmp_path, old, new, msg):
    assert old in GOOD
    with pytest.raises(AriaInputError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        load_channel_set(_write(tmp_path, GOOD.replace(old, new, 1)))


def test_file_errors(tmp_path):
    with pytest.raises(AriaInputError, match="invalid TOML"):
        load_channel_set(_write(tmp_path, "[channels\n"))
    with pytest.raises(AriaInputError, match="no such channel-set file"):
        load_channel_set(tmp_path / "nope.toml")
    with pytest.raises(AriaInputError, match="no shipped channel set 'jazz'"):
        load_channel_set("jazz")
    with pytest.raises(AriaInputError, match="no \\[features"):
        parse_channel_set({"channels": {"a": {}}})
