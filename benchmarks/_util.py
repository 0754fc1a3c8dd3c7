"""Shared helpers for Aria's benchmarks: peak-RSS windows, timing, synthetic .npy files."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def rss_mb() -> float:
    """Current resident set size (MiB)."""
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def peak_mb() -> float:
    """Peak resident set size (MiB) since the last :func:`reset_peak`."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def measure(result: dict):
    """Record wall time (s) and peak RSS (MiB) of the block into ``result``."""
    reset_peak()
    base = rss_mb()
    t0 = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - t0
    result["peak_rss_mb"] = peak_mb()
    result["baseline_rss_mb"] = base


def write_npy(path: Path, n: int, q: int, seed: int = 0, rank: int = 8, chunk: int = 50_000) -> Path:
    """Write an n x q float32 score matrix (low-rank + noise + offsets) without holding it in memory."""
    if path.exists() and path.stat().st_size > n * q * 4:
        return path
    rng = np.random.default_rng(seed)
    b = rng.normal(size=(rank, q)).astype(np.float32)
    offset = rng.normal(size=q).astype(np.float32) * 3
    tmp = path.with_suffix(".part")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, q))
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        r = np.random.default_rng([seed, start])
        block = r.normal(size=(stop - start, rank)).astype(np.float32) @ b
        block += r.standard_normal(size=(stop - start, q), dtype=np.float32)
        block += offset
        out[start:stop] = block
    out.flush()
    del out
    os.replace(tmp, path)
    return path
