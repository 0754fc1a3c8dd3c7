"""Reliability diagnostics of a raw score matrix (spec section 1).

Modules
-------
stats
    :func:`gram_stats`: the one streaming pass (row count, column means, centred co-moment).
reliability
    :func:`diagnose` and :class:`Diagnostics`: rho_bar, E_k, E1, E2:5, U1, C_bar per query.
verdict
    :class:`VerdictThresholds` and :func:`classify`: collapsed / offset-dominated / query-dependent.
residual
    The rank-1 axis (u1, sigma1, v1) and the rank-1 residual.
reliability_score
    :func:`reliability_score`: the ground-truth-free reliability score (track coherence,
    query-group contrast, gated by 1 - rho_bar) and the candidate signals of docs/reliability.md.
"""
