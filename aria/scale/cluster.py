"""Connecting to a dask.distributed cluster: ``--scheduler local[:N] | HOST:PORT`` (issue 13).

``local`` starts a :class:`distributed.LocalCluster` of one process per core (``local:N``: N worker
processes, one thread each) and stops it afterwards; an address (``HOST:PORT``, ``tcp://HOST:PORT``)
joins a running cluster, which is left running. dask is the optional ``scale`` extra; importing this
module does not import it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

from aria.errors import AriaDependencyError, AriaInputError

__all__ = ["SchedulerSpec", "parse_scheduler", "connect", "on_cluster", "scheduler_record"]

_LOCAL = re.compile(r"^local(?::(\d+))?$")
_ADDRESS = re.compile(r"^(?:(tcp|tls|inproc|ucx)://)?([^\s:/]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$")
#: Seconds to wait for a remote scheduler before giving up.
CONNECT_TIMEOUT = 10


class SchedulerSpec:
    """A parsed ``scheduler`` value.

    Attributes
    ----------
    kind : str
        ``"local"`` or ``"address"``.
    workers : int or None
        Worker processes of a local cluster (None = one per core).
    address : str or None
        Scheduler address of a running cluster.
    """

    def __init__(self, kind: str, workers: int | None = None, address: str | None = None) -> None:
        self.kind, self.workers, self.address = kind, workers, address

    def __repr__(self) -> str:
        return f"local:{self.workers}" if self.kind == "local" else str(self.address)

    def to_dict(self) -> dict[str, Any]:
        """The spec as recorded in provenance records."""
        return {"kind": self.kind, "workers": self.workers, "address": self.address}


def parse_scheduler(value: str) -> SchedulerSpec:
    """Parse ``local``, ``local:N``, ``HOST:PORT`` or ``tcp://HOST:PORT``.

    Parameters
    ----------
    value : str
        The scheduler text.

    Returns
    -------
    SchedulerSpec

    Examples
    --------
    >>> parse_scheduler("local:2")
    local:2
    >>> parse_scheduler("10.0.0.5:8786").address
    'tcp://10.0.0.5:8786'
    """
    text = str(value).strip()
    m = _LOCAL.match(text)
    if m:
        n = int(m.group(1)) if m.group(1) else None
        if n is not None and not 1 <= n <= 1024:
            raise AriaInputError(f"scheduler: local:N needs 1 <= N <= 1024, got {n}")
        return SchedulerSpec("local", workers=n)
    m = _ADDRESS.match(text)
    if m and 0 < int(m.group(3)) < 65536:
        return SchedulerSpec("address", address=f"{m.group(1) or 'tcp'}://{m.group(2)}:{m.group(3)}")
    raise AriaInputError(f"scheduler: expected local, local:N or HOST:PORT, got {value!r}")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise AriaDependencyError(
            "a dask cluster needs the scale extra: pip install 'aria-tda[scale]'") from None
    return distributed


@contextlib.contextmanager
def connect(scheduler: str | SchedulerSpec | None = None, client: Any = None) -> Iterator[Any]:
    """Yield a :class:`distributed.Client` for ``scheduler`` (or ``client`` itself), or None.

    Parameters
    ----------
    scheduler : str or SchedulerSpec, optional
        ``local``, ``local:N`` or a scheduler address; None with no ``client`` = no cluster
        (the single-process path).
    client : distributed.Client, optional
        An existing client, used as is and left open.

    Yields
    ------
    distributed.Client or None

    Raises
    ------
    AriaInputError
        The scheduler cannot be reached (one line).
    """
    if client is not None:
        if scheduler is not None:
            raise AriaInputError("give either scheduler or client, not both")
        yield client
        return
    if scheduler is None:
        yield None
        return
    spec = scheduler if isinstance(scheduler, SchedulerSpec) else parse_scheduler(scheduler)
    dist = _distributed()
    if spec.kind == "local":
        n = spec.workers or (os.cpu_count() or 1)
        cluster = dist.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                    dashboard_address=":0", silence_logs=logging.ERROR)
        try:
            with dist.Client(cluster) as c:
                yield c
        finally:
            cluster.close()
        return
    try:
        c = dist.Client(spec.address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise AriaInputError(f"cannot reach the dask scheduler at {spec.address} "
                             f"({type(exc).__name__}: {' '.join(str(exc).split()) or 'no answer'})") from None
    try:
        yield c
    finally:
        c.close()


def _identity(x: Any) -> Any:
    return x


def on_cluster(client: Any, obj: Any) -> Any:
    """A future holding ``obj`` that the scheduler can recompute if the worker holding it is lost.

    ``obj`` travels once, inside the task graph (nothing is scattered: data held only by a
    worker would be lost with it); tasks given the future share one copy per worker.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    obj : object
        Any picklable object.

    Returns
    -------
    distributed.Future

    Examples
    --------
    >>> from distributed import Client
    >>> with Client(processes=False, n_workers=1, dashboard_address=":0") as c:
    ...     on_cluster(c, {"a": 1}).result()
    {'a': 1}
    """
    return client.submit(_identity, obj, pure=False)


def scheduler_record(scheduler: str | SchedulerSpec | None = None,
                     client: Any = None) -> dict[str, Any] | None:
    """What a provenance record says about the engine: the parsed ``scheduler``, or ``client``'s address.

    Parameters
    ----------
    scheduler : str or SchedulerSpec, optional
        ``local``, ``local:N`` or a scheduler address.
    client : distributed.Client, optional
        An existing client (recorded by its scheduler's address).

    Returns
    -------
    dict or None
        None for the single-process path.

    Examples
    --------
    >>> scheduler_record("local:2")
    {'kind': 'local', 'workers': 2, 'address': None}
    >>> scheduler_record() is None
    True
    """
    if scheduler is not None:
        spec = scheduler if isinstance(scheduler, SchedulerSpec) else parse_scheduler(scheduler)
        return spec.to_dict()
    if client is not None:
        return {"kind": "client", "workers": None, "address": getattr(client.scheduler, "address", None)}
    return None
