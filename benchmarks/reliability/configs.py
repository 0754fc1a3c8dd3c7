"""The benchmark's score matrices (attributor settings) and their design / held-out split.

Every matrix is one attributor setting on one domain. The list and the split are fixed here, before
any reliability signal was designed: ``python benchmarks/reliability/configs.py`` writes
``results/split.json`` (committed), and the evaluation refuses a split that differs from it.

Split rule (seed ``SPLIT_SEED``): per family, the settings of each domain are shuffled with a seeded
generator, the domains' lists are concatenated (music first) and the settings are assigned alternately
to ``design`` and ``heldout``, starting with a seeded coin flip per family. Each family and each domain
is thereby present in both sets (a family with one setting per domain has it in the design set for one
domain and in the held-out set for the other).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

DOMAINS = ("music", "digits")
#: Added after the held-out evaluation of the frozen score: every matrix of these domains is in the
#: set "fresh" (a second, untouched test; nothing was designed on it).
FRESH_DOMAINS = ("regression",)
SPLIT_SEED = 20240615
#: TRAK settings: ensemble sizes x projection dimensions ("near-N" = 0.9 x training rows).
TRAK_ENSEMBLES = (1, 2, 5, 10)
TRAK_PROJ = ("32", "128", "near-N")
#: TracIn: checkpoints out of 10 saved ones, at the centres of 1/3/10 equal parts of training
#: (1 = the middle checkpoint; the final one alone would duplicate GradDot).
TRACIN_CHECKPOINTS = (1, 3, 10)
RANDOM_SEEDS = (0, 1)


@dataclass(frozen=True)
class MatrixConfig:
    """One score matrix to compute: attributor family and setting on a domain."""

    domain: str
    family: str
    setting: str
    ensemble: int = 1
    proj: str = ""
    checkpoints: int = 1
    seed: int = 0

    @property
    def id(self) -> str:
        """Unique matrix id, e.g. ``music/trak-e5-p128``."""
        return f"{self.domain}/{self.setting}"


def domain_configs(domain: str) -> list[MatrixConfig]:
    """The 21 settings computed on one domain."""
    out = [MatrixConfig(domain, "TRAK", f"trak-e{e}-p{p}", ensemble=e, proj=p)
           for e in TRAK_ENSEMBLES for p in TRAK_PROJ]
    out += [MatrixConfig(domain, "TracIn", f"tracin-c{c}", checkpoints=c) for c in TRACIN_CHECKPOINTS]
    out += [MatrixConfig(domain, "GradDot", "graddot"), MatrixConfig(domain, "GradCos", "gradcos")]
    out += [MatrixConfig(domain, "IF", "if-explicit"), MatrixConfig(domain, "IF", "if-relatif")]
    out += [MatrixConfig(domain, "random", f"random-s{s}", seed=s) for s in RANDOM_SEEDS]
    return out


def all_configs() -> list[MatrixConfig]:
    """Every matrix of the benchmark, domain by domain."""
    return [c for d in DOMAINS for c in domain_configs(d)]


def fresh_configs() -> list[MatrixConfig]:
    """The matrices of the fresh domains (all in the set ``"fresh"``)."""
    return [c for d in FRESH_DOMAINS for c in domain_configs(d)]


def set_of(matrix_id: str) -> str:
    """``design``, ``heldout`` or ``fresh``."""
    if matrix_id.split("/")[0] in FRESH_DOMAINS:
        return "fresh"
    return make_split(all_configs())[matrix_id]


def make_split(configs: list[MatrixConfig], seed: int = SPLIT_SEED) -> dict[str, str]:
    """Matrix id -> ``"design"`` or ``"heldout"`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    families = sorted({c.family for c in configs})
    split: dict[str, str] = {}
    for fam in families:
        ordered: list[MatrixConfig] = []
        for dom in DOMAINS:
            members = sorted((c for c in configs if c.family == fam and c.domain == dom),
                             key=lambda c: c.id)
            ordered += [members[i] for i in rng.permutation(len(members))]
        start = int(rng.integers(2))
        for k, c in enumerate(ordered):
            split[c.id] = ("design", "heldout")[(k + start) % 2]
    return {c.id: split[c.id] for c in configs}


def split_record() -> dict:
    """The committed split: seed, rule, and every matrix with its set and setting."""
    configs = all_configs()
    split = make_split(configs)
    return {
        "seed": SPLIT_SEED,
        "rule": "per family: shuffle each domain's settings (seeded), concatenate music then digits, "
                "assign alternately to design/heldout from a seeded coin flip",
        "matrices": [{"id": c.id, "set": split[c.id], **asdict(c)} for c in configs],
        "counts": {s: sum(v == s for v in split.values()) for s in ("design", "heldout")},
    }


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results" / "split.json"
    rec = split_record()
    out.write_text(json.dumps(rec, indent=1) + "\n")
    print(f"{len(rec['matrices'])} matrices: {rec['counts']} -> {out}")
