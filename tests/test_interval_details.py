"""mirbook.intervals in detail: every field of a bootstrap against a hand resampling, the edges of its
checks, DeLong's degenerate cases and the exact error messages."""

import re

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mirbook.intervals import (
    delong_placements,
    delong_test,
    macro_delong_test,
    macro_roc_auc,
    paired_bootstrap,
    pooled_ratio,
    seeded_paired_bootstrap,
)

A = np.array([0.9, 0.2, 0.7, 0.4, 1.0, 0.0, 0.55])
B = np.array([0.5, 0.3, 0.7, 0.1, 0.6, 0.2, 0.35])


def _hand_resamples(a, b, n_resamples, seed):
    """Mean differences on item indices drawn as numpy's default_rng(seed).integers(0, n, n) draws them."""
    rng = np.random.default_rng(seed)
    return np.array([a[i].mean() - b[i].mean()
                     for i in (rng.integers(0, len(a), size=len(a)) for _ in range(n_resamples))])


def test_every_field_of_a_paired_bootstrap_is_the_hand_resampling():
    t = paired_bootstrap(np.mean, A, B, n_resamples=300, confidence=0.8, seed=7)
    diffs = _hand_resamples(A, B, 300, 7)
    assert t.difference == pytest.approx(A.mean() - B.mean())
    assert (t.low, t.high) == pytest.approx(tuple(np.quantile(diffs, [0.1, 0.9])))
    assert t.standard_error == pytest.approx(np.std(diffs, ddof=1))
    assert t.p_value == pytest.approx(min(1.0, 2 * min(np.mean(diffs <= 0), np.mean(diffs >= 0))))
    assert (t.confidence, t.n_resamples) == (0.8, 300)


def test_bootstrap_defaults_are_2000_resamples_95_percent_and_seed_0():
    assert paired_bootstrap(np.mean, A, B) == paired_bootstrap(np.mean, A, B, n_resamples=2000,
                                                               confidence=0.95, seed=0)
    runs = [(A, B), (B[:5], A[:5])]
    assert seeded_paired_bootstrap(np.mean, runs) == seeded_paired_bootstrap(
        np.mean, runs, n_resamples=2000, confidence=0.95, seed=0)


def test_one_resample_has_no_spread_and_two_have_the_sample_sd():
    one = paired_bootstrap(np.mean, A, B, n_resamples=1, seed=3)
    assert one.standard_error == 0.0 and one.n_resamples == 1
    two = paired_bootstrap(np.mean, A, B, n_resamples=2, seed=3)
    assert two.standard_error == pytest.approx(np.std(_hand_resamples(A, B, 2, 3), ddof=1))
    assert two.standard_error > 0


def test_a_difference_that_is_always_zero_has_p_value_one():
    t = paired_bootstrap(np.mean, A, A.copy(), n_resamples=50)
    assert (t.difference, t.low, t.high, t.standard_error, t.p_value) == (0.0, 0.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize("confidence", [0, 0.0, 1, 1.0, 1.5, -0.5, True, "0.9", None])
def test_confidence_must_lie_strictly_between_0_and_1(confidence):
    with pytest.raises(ValueError, match=re.escape(f"confidence must be a number strictly between 0 and 1; "
                                                   f"got {confidence!r}")):
        paired_bootstrap(np.mean, A, B, n_resamples=5, confidence=confidence)


@pytest.mark.parametrize("n_resamples", [0, -1, True, 2.0, "10"])
def test_n_resamples_must_be_a_positive_int(n_resamples):
    with pytest.raises(ValueError, match=re.escape(f"n_resamples must be a positive int; got {n_resamples!r}")):
        paired_bootstrap(np.mean, A, B, n_resamples=n_resamples)


def test_seeded_bootstrap_is_the_hand_two_stage_resampling():
    runs = [(A, B), (B[:5], A[:5] * 0.5), (A[2:], B[2:] ** 2)]
    t = seeded_paired_bootstrap(np.mean, runs, n_resamples=200, confidence=0.9, seed=4)
    rng = np.random.default_rng(4)
    diffs = []
    for _ in range(200):
        drawn = rng.integers(0, 3, size=3)
        per_run = []
        for r in drawn:
            a, b = runs[r]
            index = rng.integers(0, len(a), size=len(a))
            per_run.append(a[index].mean() - b[index].mean())
        diffs.append(np.mean(per_run))
    diffs = np.array(diffs)
    assert t.difference == pytest.approx(np.mean([a.mean() - b.mean() for a, b in runs]))
    assert (t.low, t.high) == pytest.approx(tuple(np.quantile(diffs, [0.05, 0.95])))
    assert t.standard_error == pytest.approx(np.std(diffs, ddof=1))
    assert (t.confidence, t.n_resamples) == (0.9, 200)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: paired_bootstrap(np.mean, [1.0, 2.0, 3.0], [1.0, 2.0]),
     "a, b and every shared array need the same number of items along their first axis; a has 3, b has 2"),
    (lambda: paired_bootstrap(np.mean, 1.0, [1.0, 2.0]),
     "a, b and every shared array need the same number of items along their first axis; a has 0, a has no axis"),
    (lambda: paired_bootstrap(np.mean, [1.0, 2.0], 2.0),
     "a, b and every shared array need the same number of items along their first axis; a has 2, b has no axis"),
    (lambda: paired_bootstrap(np.mean, [1.0, 2.0], [1.0, 2.0], [1.0]),
     "a, b and every shared array need the same number of items along their first axis; a has 2, shared[0] has 1"),
    (lambda: paired_bootstrap(np.mean, [1.0], [1.0]), "a paired bootstrap needs at least 2 items; got 1"),
    (lambda: seeded_paired_bootstrap(np.mean, []), "runs is empty: give one (a, b, *shared) tuple per seed"),
    (lambda: seeded_paired_bootstrap(np.mean, [([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0])]),
     "run 1: a, b and every shared array need the same number of items along their first axis; a has 2, b has 1"),
    (lambda: pooled_ratio([[1.0, 0.0], [0.0, 0.0]]), "the denominators sum to zero: no item has anything to score"),
    (lambda: pooled_ratio([1.0, 2.0]),
     "parts must be (items, 2) rows of (numerator, denominator); got shape (2,)"),
    (lambda: macro_roc_auc(np.ones((4, 2)), np.ones((4, 2))),
     "no tag has both positive and negative items; the macro ROC-AUC is undefined"),
    (lambda: macro_delong_test(np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 2))),
     "no tag has both positive and negative items; the macro ROC-AUC is undefined"),
    (lambda: macro_delong_test(np.ones(4), np.ones(4), np.ones(4)),
     "targets must be multi-hot (items, tags); got shape (4,)"),
    (lambda: macro_delong_test(np.eye(4), np.ones((4, 3)), np.ones((4, 4))),
     # a single run is read as one run of several: the message shows it with its run axis
     "scores_a must have the shape of targets (4, 4), or (runs, *that); got (1, 4, 3)"),
    (lambda: macro_delong_test(np.eye(4), np.ones((4, 4)), np.ones(4)),
     "scores_b must have the shape of targets (4, 4), or (runs, *that); got (4,)"),
    (lambda: macro_delong_test(np.eye(4), np.ones((1, 1, 4, 4)), np.ones((4, 4))),
     "scores_a must have the shape of targets (4, 4), or (runs, *that); got (1, 1, 4, 4)"),
    (lambda: delong_test([[1, 0]], [0.1, 0.2], [0.1, 0.2]),
     "labels must be one 0/1 label per item, shape (items,); got shape (1, 2)"),
    (lambda: delong_test([1, 2, 0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), "labels must be 0 (negative) or 1 (positive)"),
    (lambda: delong_test([1, 0, 1], [0.1, 0.2, 0.3], [0.1, 0.2]),
     "labels has 3 items but scores_b has shape (2,); expected one score per item"),
    (lambda: delong_placements([1, 0, 1], [0.1, 0.2]),
     "labels has 3 items but scores has shape (2,); expected one score per item"),
    (lambda: delong_placements([1, 0, 1], [0.1, np.inf, 0.3]), "scores holds NaN or infinite scores"),
])
def test_error_messages_in_full(call, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        call()


def test_a_pooled_ratio_needs_only_a_positive_denominator():
    assert pooled_ratio([[0.1, 0.25], [0.2, 0.25]]) == pytest.approx(0.6)


def test_macro_roc_auc_keeps_tags_with_one_positive_or_one_negative_and_drops_single_class_tags():
    rng = np.random.default_rng(8)
    scores = rng.random((6, 4))
    targets = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 1, 0, 1], [0, 1, 0, 0], [0, 1, 0, 1], [0, 1, 0, 1]])
    # tag 0: one positive; tag 1: one negative; tag 2: no positive (left out); tag 3: both classes
    expected = np.mean([roc_auc_score(targets[:, j], scores[:, j]) for j in (0, 1, 3)])
    assert macro_roc_auc(scores, targets) == pytest.approx(expected)
    assert macro_roc_auc(scores, targets.astype(float)) == pytest.approx(expected)


def test_delong_needs_two_of_each_class_and_two_are_enough():
    labels, a, b = [1, 1, 0, 0, 1, 0], [0.9, 0.4, 0.3, 0.5, 0.8, 0.1], [0.6, 0.7, 0.2, 0.8, 0.3, 0.4]
    result = delong_test(labels[:4], a[:4], b[:4])
    assert result.auc_a == pytest.approx(roc_auc_score(labels[:4], a[:4]))
    assert np.isfinite(result.standard_error)
    with pytest.raises(ValueError, match="at least 2 positives and 2 negatives; got 1 and 2"):
        delong_test([1, 0, 0], a[:3], b[:3])
    # a tag with one positive is kept by the macro test, and so refused by DeLong's variance
    targets = np.stack([np.array(labels), np.array([1, 0, 0, 0, 0, 0])], axis=1)
    with pytest.raises(ValueError, match="at least 2 positives"):
        macro_delong_test(targets, np.stack([a, a], 1), np.stack([b, b], 1))
    # a tag with no positive is left out
    targets[:, 1] = 0
    left_out = macro_delong_test(targets, np.stack([a, a], 1), np.stack([b, b], 1))
    assert left_out == pytest.approx(delong_test(labels, a, b))


@pytest.mark.parametrize("sign", [1, -1])
def test_a_sure_difference_with_no_spread_has_infinite_z(sign):
    labels = [1, 1, 0, 0]
    perfect, reversed_ = [0.9, 0.8, 0.1, 0.2], [0.1, 0.2, 0.9, 0.8]
    a, b = (perfect, reversed_) if sign > 0 else (reversed_, perfect)
    result = delong_test(labels, a, b, confidence=0.8)
    assert (result.auc_a, result.auc_b, result.difference) == (float(sign > 0), float(sign < 0), float(sign))
    assert result.standard_error == 0.0 and result.z == sign * np.inf and result.p_value == 0.0
    assert (result.low, result.high, result.confidence) == (float(sign), float(sign), 0.8)


def test_delong_interval_uses_the_stated_confidence():
    rng = np.random.default_rng(9)
    labels = np.r_[np.ones(12), np.zeros(12)].astype(int)
    a, b = labels + rng.normal(size=24), labels * 0.5 + rng.normal(size=24)
    wide, narrow = delong_test(labels, a, b), delong_test(labels, a, b, confidence=0.5)
    assert narrow.confidence == 0.5 and wide.confidence == 0.95
    assert narrow.high - narrow.low == pytest.approx(2 * 0.6744897501960817 * wide.standard_error)
    assert wide.high - wide.low == pytest.approx(2 * 1.959963984540054 * wide.standard_error)
    macro = macro_delong_test(labels[:, None], a[:, None], b[:, None], confidence=0.5)
    assert (macro.low, macro.high, macro.confidence) == pytest.approx((narrow.low, narrow.high, 0.5))
