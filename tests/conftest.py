import numpy as np
import pytest


def dense_reference(s: np.ndarray) -> dict:
    """Independent float64 computation of the diagnostics with numpy's corrcoef and svd."""
    s = np.asarray(s, dtype=np.float64)
    n, q = s.shape
    std = s.std(axis=0)
    usable = std > 0
    r = np.corrcoef(s[:, usable], rowvar=False)
    k = int(usable.sum())
    iu = np.triu_indices(k, 1)
    rho = float(np.abs(r[iu]).mean()) if k >= 2 else float("nan")
    _, sv, vt = np.linalg.svd(s, full_matrices=False)
    energy = sv**2 / (sv**2).sum()
    v1 = vt[0] * (1 if vt[0].sum() >= 0 else -1)
    sums = s.sum(axis=0)
    sumsq = (s**2).sum(axis=0)
    nz = sumsq > 0
    conc = sums[nz] ** 2 / (n * sumsq[nz])
    return {
        "rho": rho,
        "energy": energy,
        "e1": float(energy[0]),
        "e25": float(energy[1:5].sum()),
        "v1": v1,
        "u1_uniformity": float(v1.sum() ** 2 / q),
        "conc": conc,
        "c_bar": float(conc.mean()),
        "sigma1": float(sv[0]),
        "svd": (np.linalg.svd(s, full_matrices=False)),
    }


def make_matrix(kind: str, n: int = 3000, q: int = 30, seed: int = 0, dtype=np.float64) -> np.ndarray:
    """Synthetic score matrices of the four regimes the spec names."""
    rng = np.random.default_rng(seed)
    if kind == "query-dependent":
        s = rng.normal(size=(n, 6)) @ rng.normal(size=(6, q)) + 0.5 * rng.normal(size=(n, q))
    elif kind == "collapsed":
        s = np.outer(rng.normal(size=n), rng.uniform(0.5, 2, size=q)) + 0.01 * rng.normal(size=(n, q))
    elif kind == "offset-dominated":
        s = rng.normal(size=(n, q)) + rng.uniform(50, 100, size=q)
    elif kind == "heavy-tailed":
        s = rng.standard_t(df=1.5, size=(n, q)) * rng.lognormal(size=q)
    elif kind == "huge-offset":
        s = 1e6 + rng.normal(size=(n, 4)) @ rng.normal(size=(4, q))
    else:
        raise ValueError(kind)
    return s.astype(dtype)


@pytest.fixture
def ref():
    return dense_reference


@pytest.fixture(scope="session")
def cluster():
    """One dask LocalCluster of 2 worker processes shared by the scale tests (tests/scale)."""
    import logging

    distributed = pytest.importorskip("distributed")
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=":0", silence_logs=logging.ERROR)
    yield c
    c.close()


@pytest.fixture
def client(cluster):
    """A client of the shared LocalCluster."""
    import distributed

    with distributed.Client(cluster) as c:
        yield c
