"""The benchmark's two domains: data, tiny model, losses and the training function.

``music``: next-note prediction on Bach chorale melodies from music21's offline corpus. A training
segment is 16 consecutive soprano notes (MIDI pitches clipped to 57..81, 25 tokens); a chorale is a
track (up to 4 non-overlapping segments each). The model is a neural 4-gram: embedding (8) of the 4
previous notes -> tanh layer (32) -> softmax over the 25 pitches; a segment's loss is the mean
cross-entropy of its 12 predicted notes. Queries are segments of held-out chorales; a query's group
is its chorale, its label the key signature.

``digits``: scikit-learn's 8x8 digits. A track is one training image; its 3 segments are
augmented copies (a one-pixel shift or none, plus Gaussian pixel noise of sd 0.05). The model is
an MLP 64 -> 24 (tanh) -> 10. Queries are held-out images; a query's group is its digit.

Training: plain SGD (batch 32, learning rate ``LR``, ``EPOCHS`` epochs), weights and shuffling
seeded, one CPU thread: about a tenth of a second per model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

SEG_LEN = 16
CONTEXT = 4
PITCH_LO, PITCH_HI = 57, 81
VOCAB = PITCH_HI - PITCH_LO + 1
BATCH = 32
EPOCHS = {"music": 30, "digits": 30, "regression": 30}
LR = {"music": 0.5, "digits": 0.5, "regression": 0.1}
REG_DIM = 10


@dataclass
class Domain:
    """Tensors and labels of one domain."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    segment_track: np.ndarray
    query_ids: np.ndarray
    query_group: np.ndarray
    query_label: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def n_train(self) -> int:
        return int(self.train_x.shape[0])

    def model(self) -> nn.Module:
        return make_model(self.name)


def make_model(name: str) -> nn.Module:
    """A fresh (untrained) model of a domain."""
    return {"music": NGramMLP, "digits": DigitsMLP, "regression": RegressionMLP}[name]()


class NGramMLP(nn.Module):
    """Neural 4-gram over a segment: predicts notes CONTEXT..SEG_LEN-1 from their 4 predecessors."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 8)
        self.fc1 = nn.Linear(CONTEXT * 8, 32)
        self.fc2 = nn.Linear(32, VOCAB)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        win = x.unfold(1, CONTEXT, 1)[:, : x.shape[1] - CONTEXT]  # (B, L-C, C)
        h = self.emb(win).flatten(2)
        return self.fc2(torch.tanh(self.fc1(h)))  # (B, L-C, V)


class DigitsMLP(nn.Module):
    """MLP 64 -> 24 -> 10."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 24)
        self.fc2 = nn.Linear(24, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))


def per_example(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example loss (B,): mean next-note cross-entropy (music), cross-entropy (digits) or
    squared error (regression: float targets)."""
    if y.is_floating_point():
        return (out.reshape(y.shape) - y) ** 2
    if out.dim() == 3:  # music: y holds the target notes (B, L-C)
        ce = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), reduction="none")
        return ce.reshape(y.shape).mean(dim=1)
    return nn.functional.cross_entropy(out, y, reduction="none")


class RegressionMLP(nn.Module):
    """MLP 10 -> 48 -> 1."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(REG_DIM, 48)
        self.fc2 = nn.Linear(48, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x))).squeeze(-1)


def batch_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example loss of the model on a batch (see :func:`per_example`)."""
    return per_example(model(x), y)


def train(domain_name: str, x: torch.Tensor, y: torch.Tensor, seed: int,
          checkpoint_epochs: tuple[int, ...] = ()) -> tuple[nn.Module, list[dict]]:
    """Train a fresh model on (x, y) with seeded SGD; also return state dicts at the given epochs."""
    torch.manual_seed(seed)
    model = make_model(domain_name)
    opt = torch.optim.SGD(model.parameters(), lr=LR[domain_name])
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    ckpts = []
    for epoch in range(1, EPOCHS[domain_name] + 1):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, BATCH):
            idx = perm[start:start + BATCH]
            opt.zero_grad()
            batch_loss(model, x[idx], y[idx]).mean().backward()
            opt.step()
        if epoch in checkpoint_epochs:
            ckpts.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    return model, ckpts


def make_train_func(domain_name: str):
    """A dattri ``train_func(dataloader, seed)`` over (x, y, row index) datasets, using :func:`train`."""

    def train_func(dataloader, seed=None, **kwargs):
        xs, ys, ids = zip(*list(dataloader), strict=True)
        # the loader shuffles; put the rows back in dataset order so the model depends only on
        # the subset and the seed
        order = torch.argsort(torch.cat(ids))
        model, _ = train(domain_name, torch.cat(xs)[order], torch.cat(ys)[order],
                         0 if seed is None else int(seed))
        return model

    train_func.__name__ = f"train_{domain_name}"
    return train_func


def _chorale_melodies(cache: Path, seed: int, n_train: int, n_test: int) -> dict:
    """Soprano pitch sequences of n_train + n_test seeded-random chorales (cached as .npz)."""
    path = cache / f"chorales-{seed}-{n_train}-{n_test}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    from music21 import corpus

    warnings.filterwarnings("ignore")
    names = sorted(p for p in corpus.getComposer("bach") if p.suffix == ".mxl" and p.stem != "bwv846")
    order = np.random.default_rng(seed).permutation(len(names))
    seqs, kept, keys = [], [], []
    for i in order:
        if len(kept) >= n_train + n_test:
            break
        try:
            score = corpus.parse(names[i])
        except Exception:  # a few corpus files do not parse: skip them
            continue
        notes = [n.pitch.midi for n in score.parts[0].flatten().notes if n.isNote]
        if len(notes) < 2 * SEG_LEN:
            continue
        ks = score.flatten().getElementsByClass("KeySignature")
        seqs.append(np.clip(np.asarray(notes), PITCH_LO, PITCH_HI) - PITCH_LO)
        kept.append(names[i].stem)
        keys.append(int(ks[0].sharps) if len(ks) else 0)
    lengths = np.array([len(s) for s in seqs])
    out = {"tokens": np.concatenate(seqs), "lengths": lengths, "names": np.array(kept),
           "sharps": np.array(keys)}
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.npz")
    np.savez(tmp, **out)
    tmp.replace(path)
    return out


def _segments(tokens: np.ndarray, max_per_track: int) -> list[np.ndarray]:
    return [tokens[s:s + SEG_LEN] for s in range(0, len(tokens) - SEG_LEN + 1, SEG_LEN)][:max_per_track]


def music_domain(cache: Path, seed: int = 0, n_train: int = 150, n_test: int = 30) -> Domain:
    """The Bach-chorale next-note domain (see the module docstring)."""
    mel = _chorale_melodies(cache, seed, n_train, n_test)
    bounds = np.concatenate([[0], np.cumsum(mel["lengths"])])
    rows, tracks, qrows, qids, qgroup, qlabel = [], [], [], [], [], []
    for k, name in enumerate(mel["names"]):
        segs = _segments(mel["tokens"][bounds[k]:bounds[k + 1]], 4 if k < n_train else 3)
        if k < n_train:
            rows += segs
            tracks += [str(name)] * len(segs)
        else:
            qrows += segs
            qids += [f"{name}:{j}" for j in range(len(segs))]
            qgroup += [str(name)] * len(segs)
            qlabel += [f"sharps{int(mel['sharps'][k])}"] * len(segs)
    tr = torch.as_tensor(np.stack(rows), dtype=torch.long)
    te = torch.as_tensor(np.stack(qrows), dtype=torch.long)
    return Domain("music", tr, tr[:, CONTEXT:].contiguous(), te, te[:, CONTEXT:].contiguous(),
                  np.array(tracks), np.array(qids), np.array(qgroup), np.array(qlabel),
                  info={"chorales_train": int(n_train), "chorales_test": int(n_test),
                        "segment_notes": SEG_LEN, "context": CONTEXT, "vocab": VOCAB})


def digits_domain(seed: int = 0, n_train: int = 160, n_test: int = 80, copies: int = 3) -> Domain:
    """The augmented sklearn-digits domain (see the module docstring)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = data.data.astype(np.float32) / 16.0
    y = data.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    tr_idx, te_idx = order[:n_train], order[n_train:n_train + n_test]
    shifts = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]
    rows, labels, tracks = [], [], []
    for i in tr_idx:
        img = x[i].reshape(8, 8)
        for c in range(copies):
            dy, dx = shifts[0] if c == 0 else shifts[rng.integers(1, len(shifts))]
            aug = np.roll(np.roll(img, dy, axis=0), dx, axis=1)
            aug = aug + rng.normal(0, 0.05, size=aug.shape).astype(np.float32)
            rows.append(aug.reshape(-1))
            labels.append(y[i])
            tracks.append(f"img{int(i)}")
    return Domain(
        "digits",
        torch.as_tensor(np.stack(rows), dtype=torch.float32), torch.as_tensor(np.array(labels)),
        torch.as_tensor(x[te_idx]), torch.as_tensor(y[te_idx]),
        np.array(tracks), np.array([f"test{int(i)}" for i in te_idx]),
        np.array([f"digit{int(y[i])}" for i in te_idx]), np.array([f"digit{int(y[i])}" for i in te_idx]),
        info={"train_images": int(n_train), "copies": int(copies), "test_images": int(n_test)},
    )


def regression_domain(seed: int = 0, n_tracks: int = 120, n_query_groups: int = 20,
                      per_group: int = 4) -> Domain:
    """The synthetic regression domain (added after the held-out evaluation, as a fresh test).

    A track is a centre ``c ~ N(0, I_10)``; its 2 to 5 segments are ``c + 0.3 e``. Queries come in
    ``n_query_groups`` groups of ``per_group`` points around fresh centres (the group is the query's
    source). Target ``y = tanh(a.x) + 0.5 sin(b.x) + 0.2 (c.x)^2 / 10 + 0.1 e`` with fixed random
    ``a, b, c``; the model is an MLP 10 -> 48 -> 1 trained on the squared error.
    """
    rng = np.random.default_rng([seed, 77])
    a, b, c = (rng.normal(size=REG_DIM) / np.sqrt(REG_DIM) for _ in range(3))

    def target(x: np.ndarray) -> np.ndarray:
        return (np.tanh(x @ a * 2) + 0.5 * np.sin(x @ b * 3) + 0.2 * (x @ c) ** 2
                + 0.1 * rng.normal(size=x.shape[0]))

    centres = rng.normal(size=(n_tracks, REG_DIM))
    per = rng.integers(2, 6, size=n_tracks)
    x = np.concatenate([cen + 0.3 * rng.normal(size=(k, REG_DIM))
                        for cen, k in zip(centres, per, strict=True)])
    tracks = np.repeat([f"c{i}" for i in range(n_tracks)], per)
    qcent = rng.normal(size=(n_query_groups, REG_DIM))
    xq = np.concatenate([cen + 0.3 * rng.normal(size=(per_group, REG_DIM)) for cen in qcent])
    groups = np.repeat([f"g{i}" for i in range(n_query_groups)], per_group)
    return Domain(
        "regression",
        torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(target(x), dtype=torch.float32),
        torch.as_tensor(xq, dtype=torch.float32), torch.as_tensor(target(xq), dtype=torch.float32),
        tracks, np.array([f"r{i}" for i in range(xq.shape[0])]), groups, groups,
        info={"tracks": int(n_tracks), "query_groups": int(n_query_groups), "dim": REG_DIM},
    )
