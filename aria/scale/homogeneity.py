"""Homogeneity on a dask cluster: the null of each K, and the group similarities of query blocks, as tasks.

The pool similarities (:class:`~aria.groups.pool.PoolSimilarity`, the pool's feature table) are put
on the cluster once, as the result of a task, so a lost worker's copy is rebuilt by the scheduler.
Every null is drawn with ``numpy.random.default_rng([seed, K])`` exactly as in one process, and the
group similarity of a query depends only on that query's ranked tracks, so z, Pos and Sig equal the
single-process values bit for bit whatever the cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from aria.groups.null import NullDistribution, NullStore, compute_null, stored_null
from aria.groups.pool import PoolSimilarity
from aria.groups.topk import nested_group_similarity
from aria.scale.cluster import on_cluster

__all__ = ["QUERY_BLOCK", "null_distributions_cluster", "group_similarity_on"]

#: Queries per group-similarity task.
QUERY_BLOCK = 256


def null_distributions_cluster(psim: PoolSimilarity, ks: Sequence[int], n_groups: int, client: Any, *,
                               seed: int = 0, store: NullStore | None = None,
                               progress: Callable[[str, int, int], None] | None = None
                               ) -> dict[int, NullDistribution]:
    """:func:`aria.groups.null.null_distributions` with one task per K missing from ``store``.

    Parameters
    ----------
    psim, ks, n_groups, seed
        As in :func:`~aria.groups.null.null_distributions`: the null of each K in ``ks`` is drawn
        with ``default_rng([seed, K])``.
    client : distributed.Client
        The cluster.
    store : NullStore, optional
        Null cache, read and written on the client.
    progress : callable, optional
        ``progress("null K=<k>", i, len(ks))`` as each K is ready.

    Returns
    -------
    dict of int -> NullDistribution
    """
    out: dict[int, NullDistribution | Any] = {}
    psim_f = None
    for k in ks:
        null = stored_null(store, psim, k, n_groups, seed)
        if null is None:
            if psim_f is None:
                psim_f = on_cluster(client, psim)
            null = client.submit(compute_null, psim_f, k, n_groups, seed=seed, pure=False, retries=2)
        out[k] = null
    done = {}
    for i, k in enumerate(ks):
        null = out[k]
        if not isinstance(null, NullDistribution):
            null = null.result()
            if store is not None:
                store.save(null)
        done[k] = null
        if progress is not None:
            progress(f"null K={k}", i, len(ks))
    return done


def group_similarity_on(client: Any, psim: PoolSimilarity, block: int = QUERY_BLOCK
                        ) -> Callable[..., np.ndarray]:
    """A ``group_similarity`` for :func:`aria.groups.result.matrix_homogeneity` that runs on ``client``.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    psim : PoolSimilarity
        Pool similarities (sent to the cluster once).
    block : int
        Queries per task.

    Returns
    -------
    callable
        ``f(psim, ranked, ks, workers=1) -> H_f`` of shape (len(ks), Q, F).
    """
    psim_f = on_cluster(client, psim)

    def run(_psim: PoolSimilarity, ranked: np.ndarray, ks: Sequence[int], *, workers: int = 1) -> np.ndarray:
        futures = [client.submit(nested_group_similarity, psim_f, ranked[a:a + block], list(ks),
                                 pure=False, retries=2)
                   for a in range(0, ranked.shape[0], block)]
        return np.concatenate(client.gather(futures), axis=1)

    return run
