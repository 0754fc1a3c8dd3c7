import logging

import pytest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def cluster():
    """One LocalCluster of 2 worker processes shared by the scale tests."""
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=":0", silence_logs=logging.ERROR)
    yield c
    c.close()


@pytest.fixture
def client(cluster):
    with distributed.Client(cluster) as c:
        yield c
