"""Uncertainty of a test metric over shared test items: paired bootstrap and DeLong's test.

Two systems scored on the same test songs or clips make correlated errors: an item that is hard
for one is often hard for the other. A paired comparison resamples or analyses the items once for
both systems, so that shared difficulty cancels out of their difference (paper Section 5.7's
comparisons; book: the comparison page's tagger budgets).

- :func:`paired_bootstrap`: percentile confidence interval of the difference of any metric between
  two systems, the items drawn with replacement (Efron & Tibshirani 1993), one seeded
  ``numpy.random.Generator``.
- :func:`delong_test`: DeLong, DeLong & Clarke-Pearson's (1988) test for two correlated ROC-AUCs on
  the same items, computed from midranks as Sun & Xu (2014) do.
- :func:`macro_delong_test`: the same for the mean ROC-AUC over tags (and over seeds' models), the
  variance summed from each item's influence on every tag's AUC.
- :func:`seeded_paired_bootstrap`: a paired bootstrap over several runs (seeds) that each scored
  their own test items: seeds are drawn with replacement, then items within each drawn seed, so
  the interval holds both the spread between trained models and the spread between test songs.
- Metrics a resample can recompute: :func:`pooled_ratio` (a score pooled over songs from each
  song's numerator and denominator: WCSR, frame accuracy) and :func:`macro_roc_auc`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.stats import norm, rankdata

__all__ = [
    "AUCComparison",
    "BootstrapInterval",
    "delong_placements",
    "delong_test",
    "macro_delong_test",
    "macro_roc_auc",
    "paired_bootstrap",
    "pooled_ratio",
    "seeded_paired_bootstrap",
]


class BootstrapInterval(NamedTuple):
    """A paired bootstrap of ``metric(a) - metric(b)``: its value on all items, interval and spread."""

    difference: float  # on all items
    low: float  # percentile interval at ``confidence``
    high: float
    standard_error: float  # sd of the resampled differences
    p_value: float  # two-sided: twice the smaller share of resampled differences on either side of 0
    confidence: float
    n_resamples: int


class AUCComparison(NamedTuple):
    """Two correlated ROC-AUCs (or their means over tags) and DeLong's test of their difference."""

    auc_a: float
    auc_b: float
    difference: float  # auc_a - auc_b
    standard_error: float
    z: float
    p_value: float  # two-sided, normal approximation
    low: float  # difference -+ the normal quantile of ``confidence`` times the standard error
    high: float
    confidence: float


def _check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a number strictly between 0 and 1; got {confidence!r}")
    return float(confidence)


def paired_bootstrap(metric: Callable[..., float], a, b, *shared, n_resamples: int = 2000,
                     confidence: float = 0.95, seed: int = 0) -> BootstrapInterval:
    """Percentile bootstrap of ``metric(a, *shared) - metric(b, *shared)`` over shared test items.

    ``a`` and ``b``: the two systems' outputs or per-item scores, items along the first axis;
    ``shared``: arrays both systems are scored against (reference labels), items first too. Each
    of ``n_resamples`` resamples draws item indices with replacement from
    ``numpy.random.default_rng(seed)`` and applies the *same* indices to ``a``, ``b`` and
    ``shared``, so an item's difficulty enters both systems alike. ``metric`` must be defined on
    every resample (a mean always is; an AUC needs both classes). Example, key scores per clip:
    ``paired_bootstrap(np.mean, scores_a, scores_b)``. Book: the comparison page.
    """
    confidence = _check_confidence(confidence)
    n_resamples = _check_resamples(n_resamples)
    a, b, *shared = _paired_arrays(a, b, shared)
    n = len(a)

    def difference(index):
        rest = [x[index] for x in shared]
        return float(metric(a[index], *rest)) - float(metric(b[index], *rest))

    rng = np.random.default_rng(seed)
    resampled = np.array([difference(rng.integers(0, n, size=n)) for _ in range(n_resamples)])
    return _resampled_interval(resampled, difference(np.arange(n)), confidence)


def _resampled_interval(resampled: np.ndarray, difference: float, confidence: float) -> BootstrapInterval:
    tail = (1 - confidence) / 2
    low, high = np.quantile(resampled, [tail, 1 - tail])
    p = min(1.0, 2 * min(np.mean(resampled <= 0), np.mean(resampled >= 0)))
    return BootstrapInterval(float(difference), float(low), float(high),
                             float(resampled.std(ddof=1)) if len(resampled) > 1 else 0.0, float(p),
                             confidence, len(resampled))


def _check_resamples(n_resamples) -> int:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive int; got {n_resamples!r}")
    return n_resamples


def _paired_arrays(a, b, shared, where: str = "") -> list[np.ndarray]:
    arrays = [np.asarray(x) for x in (a, b, *shared)]
    n = len(arrays[0]) if arrays[0].ndim else 0
    for name, x in zip(("a", "b", *(f"shared[{i}]" for i in range(len(shared)))), arrays):
        if x.ndim == 0 or len(x) != n:
            raise ValueError(f"{where}a, b and every shared array need the same number of items along their "
                             f"first axis; a has {n}, {name} has {len(x) if x.ndim else 'no axis'}")
    if n < 2:
        raise ValueError(f"{where}a paired bootstrap needs at least 2 items; got {n}")
    return arrays


def seeded_paired_bootstrap(metric: Callable[..., float], runs, *, n_resamples: int = 2000,
                            confidence: float = 0.95, seed: int = 0) -> BootstrapInterval:
    """Bootstrap of the mean over runs of ``metric(a, *shared) - metric(b, *shared)``, runs then items.

    ``runs``: one ``(a, b, *shared)`` tuple per run (a training seed), laid out as for
    :func:`paired_bootstrap`; runs may hold different items (each seed draws its own test songs)
    and different numbers of them. Each resample draws as many runs as there are with replacement,
    then, within each drawn run, its items with replacement (the same indices for ``a``, ``b``
    and ``shared``), and averages the runs' differences: a two-stage bootstrap (Davison &
    Hinkley 1997, Section 3.8), so the interval counts the spread between trained models as well
    as between test songs. ``difference``: the mean of the runs' differences on all their items.
    Book: the comparison page.
    """
    confidence = _check_confidence(confidence)
    n_resamples = _check_resamples(n_resamples)
    runs = [_paired_arrays(r[0], r[1], r[2:], where=f"run {i}: ") for i, r in enumerate(runs)]
    if not runs:
        raise ValueError("runs is empty: give one (a, b, *shared) tuple per seed")

    def difference(run, index):
        a, b, *shared = run
        rest = [x[index] for x in shared]
        return float(metric(a[index], *rest)) - float(metric(b[index], *rest))

    rng = np.random.default_rng(seed)
    resampled = np.empty(n_resamples)
    for k in range(n_resamples):
        drawn = rng.integers(0, len(runs), size=len(runs))
        resampled[k] = np.mean([difference(runs[r], rng.integers(0, len(runs[r][0]), size=len(runs[r][0])))
                                for r in drawn])
    full = np.mean([difference(run, np.arange(len(run[0]))) for run in runs])
    return _resampled_interval(resampled, full, confidence)


def pooled_ratio(parts) -> float:
    """``sum(numerators) / sum(denominators)`` of ``(items, 2)`` rows, e.g. seconds matched and
    comparable per song (``mirbook.evaluate.chord_song_seconds``) or frames right and frames
    (``voicing_song_frames``): the pooled score of those items."""
    parts = np.asarray(parts, dtype=float)
    if parts.ndim != 2 or parts.shape[1] != 2:
        raise ValueError(f"parts must be (items, 2) rows of (numerator, denominator); got shape {parts.shape}")
    total = parts[:, 1].sum()
    if total <= 0:
        raise ValueError("the denominators sum to zero: no item has anything to score")
    return float(parts[:, 0].sum() / total)


def macro_roc_auc(scores, targets) -> float:
    """Mean ROC-AUC over the tags (columns) that have both classes among the items (rows).

    The AUC of each tag is the Mann-Whitney statistic from midranks, equal to scikit-learn's
    ``roc_auc_score`` (ties count one half); tags with one class only are left out, as
    ``mirbook.evaluate.evaluate_tags`` leaves them out, so any resample of clips has a value.
    """
    scores, targets = np.asarray(scores, dtype=float), np.asarray(targets)
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise ValueError(f"scores and targets must both be (items, tags); got {scores.shape} and {targets.shape}")
    positive = targets.astype(bool)
    m = positive.sum(axis=0)
    n = len(positive) - m
    kept = (m > 0) & (n > 0)
    if not kept.any():
        raise ValueError("no tag has both positive and negative items; the macro ROC-AUC is undefined")
    ranks = rankdata(scores[:, kept], axis=0)
    m, n = m[kept], n[kept]
    auc = ((ranks * positive[:, kept]).sum(axis=0) - m * (m + 1) / 2) / (m * n)
    return float(auc.mean())


def _check_labels_and_scores(labels, scores: dict) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one 0/1 label per item, shape (items,); got shape {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 (negative) or 1 (positive)")
    for name, s in scores.items():
        if np.shape(s) != labels.shape:
            raise ValueError(f"labels has {len(labels)} items but {name} has shape {np.shape(s)}; "
                             "expected one score per item")
        if not np.isfinite(np.asarray(s, dtype=float)).all():
            raise ValueError(f"{name} holds NaN or infinite scores")
    positives = int(labels.sum())
    if positives in (0, len(labels)):
        raise ValueError(f"labels must hold both classes for an ROC-AUC; got {positives} positives among "
                         f"{len(labels)} items")
    return labels.astype(bool)


def delong_placements(labels, scores) -> tuple[float, np.ndarray, np.ndarray]:
    """``(auc, v10, v01)``: the ROC-AUC and DeLong's structural components, from midranks.

    ``v10[i]``: the share of negatives that positive ``i`` outscores (ties count one half);
    ``v01[j]``: the share of positives that outscore negative ``j``. Their means are the AUC
    (DeLong et al. 1988). Sun & Xu (2014): with ``T`` the midranks among all items and
    ``T_X``, ``T_Y`` among the positives and the negatives alone, ``v10 = (T - T_X) / n`` and
    ``v01 = 1 - (T - T_Y) / m`` for ``m`` positives and ``n`` negatives: O(N log N) instead of
    comparing every pair.
    """
    positive = _check_labels_and_scores(labels, {"scores": scores})
    scores = np.asarray(scores, dtype=float)
    m, n = int(positive.sum()), int((~positive).sum())
    ranks = rankdata(scores)  # midranks of all items
    v10 = (ranks[positive] - rankdata(scores[positive])) / n
    v01 = 1.0 - (ranks[~positive] - rankdata(scores[~positive])) / m
    return float(v10.mean()), v10, v01


def _influence(labels: np.ndarray, scores: np.ndarray) -> tuple[float, np.ndarray]:
    """``(auc, psi)``: each item's centred placement, scaled so that ``sum(psi ** 2)`` is DeLong's variance.

    Positives: ``(v10 - auc) / sqrt(m (m - 1))``; negatives: ``(v01 - auc) / sqrt(n (n - 1))``. Sums of
    products of two such vectors give DeLong's covariances of two AUCs on the same labels.
    """
    auc, v10, v01 = delong_placements(labels, scores)
    positive = labels.astype(bool)
    m, n = len(v10), len(v01)
    if m < 2 or n < 2:
        raise ValueError(f"DeLong's variance needs at least 2 positives and 2 negatives; got {m} and {n}")
    psi = np.empty(len(labels))
    psi[positive] = (v10 - auc) / np.sqrt(m * (m - 1))
    psi[~positive] = (v01 - auc) / np.sqrt(n * (n - 1))
    return auc, psi


def _comparison(auc_a: float, auc_b: float, variance: float, confidence: float) -> AUCComparison:
    difference = auc_a - auc_b
    se = float(np.sqrt(max(variance, 0.0)))
    if se > 0:
        z = difference / se
    else:  # identical placements: no spread to test against
        z = 0.0 if difference == 0 else float(np.copysign(np.inf, difference))
    half = norm.ppf(0.5 + confidence / 2) * se
    return AUCComparison(float(auc_a), float(auc_b), float(difference), se, float(z),
                         float(2 * norm.sf(abs(z))), float(difference - half), float(difference + half),
                         confidence)


def delong_test(labels, scores_a, scores_b, *, confidence: float = 0.95) -> AUCComparison:
    """DeLong's test of ``AUC(scores_a) - AUC(scores_b)`` on the same items and labels.

    ``labels``: 0/1 per item; ``scores_a``, ``scores_b``: one score per item from each system
    (higher means more likely positive). The variance of the difference is
    ``(S10_aa + S10_bb - 2 S10_ab) / m + (S01_aa + S01_bb - 2 S01_ab) / n`` with ``S10``, ``S01``
    the sample covariances (denominators ``m - 1``, ``n - 1``) of the structural components of
    :func:`delong_placements` (DeLong et al. 1988); ``z`` is the difference over its standard
    error, ``p_value`` two-sided. Book: the comparison page.
    """
    confidence = _check_confidence(confidence)
    _check_labels_and_scores(labels, {"scores_a": scores_a, "scores_b": scores_b})
    labels = np.asarray(labels)
    auc_a, psi_a = _influence(labels, np.asarray(scores_a, dtype=float))
    auc_b, psi_b = _influence(labels, np.asarray(scores_b, dtype=float))
    return _comparison(auc_a, auc_b, float(np.sum((psi_a - psi_b) ** 2)), confidence)


def macro_delong_test(targets, scores_a, scores_b, *, confidence: float = 0.95) -> AUCComparison:
    """DeLong's test for the difference of two macro ROC-AUCs (mean over tags) on the same items.

    ``targets``: multi-hot ``(items, tags)``; ``scores_a``, ``scores_b``: ``(items, tags)``, or
    ``(runs, items, tags)`` for several trained copies of a system (seeds), whose macro AUCs are
    averaged. Tags with only one class among the items are left out, as
    ``mirbook.evaluate.evaluate_tags`` leaves them out. The statistic is linear in the per-tag
    AUCs, so its variance is the sum over items of the squared mean influence of the item on all
    of them (:func:`_influence`); with one tag and one run this is :func:`delong_test`, and for
    tags with the same labels it is DeLong et al.'s covariance matrix. Covariances between tags
    with different labels come from the same sums of products. The spread between seeds is not
    part of it: it measures how the verdict could change with other test items. Book: the
    comparison page's tagger budgets.
    """
    confidence = _check_confidence(confidence)
    targets = np.asarray(targets)
    if targets.ndim != 2:
        raise ValueError(f"targets must be multi-hot (items, tags); got shape {targets.shape}")
    runs = {}
    for name, s in (("scores_a", scores_a), ("scores_b", scores_b)):
        s = np.asarray(s, dtype=float)
        s = s[None] if s.ndim == 2 else s
        if s.ndim != 3 or s.shape[1:] != targets.shape:
            raise ValueError(f"{name} must have the shape of targets {targets.shape}, or (runs, *that); "
                             f"got {np.shape(s) if s.ndim != 3 else s.shape}")
        runs[name] = s
    positives = targets.sum(axis=0)
    kept = np.flatnonzero((positives > 0) & (positives < len(targets)))
    if kept.size == 0:
        raise ValueError("no tag has both positive and negative items; the macro ROC-AUC is undefined")
    means, influence = {}, {}
    for name, s in runs.items():
        pairs = [_influence(targets[:, t], run[:, t]) for run in s for t in kept]
        means[name] = float(np.mean([auc for auc, _ in pairs]))
        influence[name] = np.mean([psi for _, psi in pairs], axis=0)
    variance = float(np.sum((influence["scores_a"] - influence["scores_b"]) ** 2))
    return _comparison(means["scores_a"], means["scores_b"], variance, confidence)
