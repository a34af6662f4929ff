"""mirbook.intervals: paired bootstrap and DeLong's test, against hand computations and sklearn."""

import itertools

import numpy as np
import pytest
from scipy.stats import rankdata
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


def _brute_placements(labels, scores):
    """DeLong's structural components by comparing every positive with every negative."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    x, y = scores[labels == 1], scores[labels == 0]

    def psi(a, b):
        return 1.0 if a > b else 0.5 if a == b else 0.0
    v10 = np.array([np.mean([psi(xi, yj) for yj in y]) for xi in x])
    v01 = np.array([np.mean([psi(xi, yj) for xi in x]) for yj in y])
    return v10, v01


def _delong_covariance(labels, *systems):
    """DeLong et al.'s covariance matrix of several AUCs on the same labels: S10 / m + S01 / n."""
    placements = [_brute_placements(labels, s) for s in systems]
    v10 = np.array([p[0] for p in placements])
    v01 = np.array([p[1] for p in placements])
    return np.cov(v10) / v10.shape[1] + np.cov(v01) / v01.shape[1]


def _rank_auc(y, scores):
    """ROC-AUC by the Mann-Whitney rank sum (quick enough for many bootstrap resamples)."""
    y = np.asarray(y).astype(bool)
    m, n = y.sum(), (~y).sum()
    return (rankdata(scores)[y].sum() - m * (m + 1) / 2) / (m * n)


def _tied_example(rng, n=30):
    labels = np.r_[np.ones(n // 2), np.zeros(n - n // 2)].astype(int)
    rng.shuffle(labels)
    a = np.round(labels * 0.8 + rng.normal(size=n), 1)  # rounded: ties within and across classes
    b = np.round(labels * 0.5 + 0.5 * a + rng.normal(size=n), 1)
    return labels, a, b


def test_delong_auc_and_placements_equal_sklearn_and_pairwise_counts():
    labels, a, _ = _tied_example(np.random.default_rng(0))
    auc, v10, v01 = delong_placements(labels, a)
    assert auc == pytest.approx(roc_auc_score(labels, a), abs=1e-12)
    brute10, brute01 = _brute_placements(labels, a)
    np.testing.assert_allclose(v10, brute10, atol=1e-12)
    np.testing.assert_allclose(v01, brute01, atol=1e-12)


def test_delong_variance_equals_the_structural_components_computed_by_hand():
    labels, a, b = _tied_example(np.random.default_rng(1), n=12)
    covariance = _delong_covariance(labels, a, b)
    expected = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    result = delong_test(labels, a, b)
    assert result.standard_error ** 2 == pytest.approx(expected, rel=1e-10)
    assert result.auc_a == pytest.approx(roc_auc_score(labels, a))
    assert result.auc_b == pytest.approx(roc_auc_score(labels, b))


def test_delong_z_on_a_worked_example():
    # 3 positives, 2 negatives. System a: positives 0.9, 0.6, 0.3; negatives 0.5, 0.1.
    #   V10 = (1, 1, 1/2), V01 = (2/3, 1): AUC 5/6.
    # System b: positives 0.8, 0.4, 0.2; negatives 0.6, 0.3.
    #   V10 = (1, 1/2, 0), V01 = (1/3, 2/3): AUC 1/2.
    # S10: deviations a (1/6, 1/6, -1/3), b (1/2, 0, -1/2), denominators m - 1 = 2:
    #   S10_aa = 1/12, S10_bb = 1/4, S10_ab = 1/8.
    # S01: deviations a (-1/6, 1/6), b (-1/6, 1/6), denominator 1: all three 1/18.
    # var = (1/12 + 1/4 - 2/8) / 3 + (1/18 + 1/18 - 2/18) / 2 = 1/36, so se = 1/6 and
    # z = (5/6 - 1/2) / (1/6) = 2.
    labels = [1, 1, 1, 0, 0]
    result = delong_test(labels, [0.9, 0.6, 0.3, 0.5, 0.1], [0.8, 0.4, 0.2, 0.6, 0.3])
    assert result.auc_a == pytest.approx(5 / 6) and result.auc_b == pytest.approx(1 / 2)
    assert result.difference == pytest.approx(1 / 3)
    assert result.standard_error == pytest.approx(1 / 6)
    assert result.z == pytest.approx(2.0)
    assert result.p_value == pytest.approx(0.0455002638963584, abs=1e-9)  # 2 (1 - Phi(2))
    assert (result.low, result.high) == pytest.approx((1 / 3 - 1.959963984540054 / 6,
                                                       1 / 3 + 1.959963984540054 / 6))


def test_identical_systems_have_no_difference_and_p_one():
    labels, a, _ = _tied_example(np.random.default_rng(2))
    result = delong_test(labels, a, a)
    assert result.difference == 0 and result.standard_error == 0 and result.z == 0 and result.p_value == 1


def test_macro_delong_with_one_tag_is_delong():
    labels, a, b = _tied_example(np.random.default_rng(3))
    single = delong_test(labels, a, b)
    macro = macro_delong_test(labels[:, None], a[:, None], b[:, None])
    assert macro == pytest.approx(single)


def test_macro_delong_on_tags_with_the_same_labels_is_delongs_covariance_matrix():
    rng = np.random.default_rng(4)
    labels, a1, b1 = _tied_example(rng, n=16)
    a2, b2 = np.round(a1 + rng.normal(size=16), 1), np.round(b1 + rng.normal(size=16), 1)
    covariance = _delong_covariance(labels, a1, a2, b1, b2)
    contrast = np.array([0.5, 0.5, -0.5, -0.5])  # mean over the two tags of a minus that of b
    targets = np.stack([labels, labels], axis=1)
    result = macro_delong_test(targets, np.stack([a1, a2], 1), np.stack([b1, b2], 1))
    assert result.standard_error ** 2 == pytest.approx(contrast @ covariance @ contrast, rel=1e-10)
    expected = np.mean([roc_auc_score(labels, s) for s in (a1, a2)]) - \
        np.mean([roc_auc_score(labels, s) for s in (b1, b2)])
    assert result.difference == pytest.approx(expected)


def test_macro_delong_averages_runs_and_skips_single_class_tags():
    rng = np.random.default_rng(5)
    labels, a, b = _tied_example(rng)
    a2 = np.round(a + rng.normal(size=len(a)), 1)
    targets = np.stack([labels, np.ones_like(labels)], axis=1)  # the second tag is on every item
    noise = rng.normal(size=len(a))
    scores_a = np.stack([np.stack([a, noise], 1), np.stack([a2, noise], 1)])  # two runs of system a
    scores_b = np.stack([b, noise], 1)
    result = macro_delong_test(targets, scores_a, scores_b)
    assert result.auc_a == pytest.approx((roc_auc_score(labels, a) + roc_auc_score(labels, a2)) / 2)
    assert result.auc_b == pytest.approx(roc_auc_score(labels, b))
    # two copies of the same run are that run
    same = macro_delong_test(targets, np.stack([scores_b, scores_b]), scores_a[0])
    assert same == pytest.approx(macro_delong_test(targets, scores_b, scores_a[0]))


def test_macro_delong_standard_error_is_close_to_a_paired_bootstrap_of_the_macro_auc():
    rng = np.random.default_rng(6)
    n, tags = 120, 3
    targets = (rng.random((n, tags)) < [0.3, 0.5, 0.2]).astype(int)
    shared = rng.normal(size=(n, 1))  # item difficulty common to both systems
    a = targets * 1.0 + shared + rng.normal(size=(n, tags))
    b = targets * 0.7 + shared + rng.normal(size=(n, tags))
    result = macro_delong_test(targets, a, b)

    def macro(scores, y):
        return np.mean([_rank_auc(y[:, t], scores[:, t]) for t in range(tags)])
    boot = paired_bootstrap(macro, a, b, targets, n_resamples=400, seed=0)
    assert result.difference == pytest.approx(boot.difference)
    assert result.standard_error == pytest.approx(boot.standard_error, rel=0.2)


def test_a_constant_difference_has_that_constant_as_its_interval():
    b = np.random.default_rng(7).normal(size=25)
    result = paired_bootstrap(np.mean, b + 0.3, b, n_resamples=200)
    assert result.difference == pytest.approx(0.3)
    assert result.low == pytest.approx(0.3) and result.high == pytest.approx(0.3)
    assert result.standard_error == pytest.approx(0.0, abs=1e-12) and result.p_value == 0.0


def test_bootstrap_is_seeded_and_shares_the_resamples_with_the_labels():
    rng = np.random.default_rng(8)
    labels, a, b = _tied_example(rng, n=40)

    def auc(scores, y):
        return _rank_auc(y, scores)
    first = paired_bootstrap(auc, a, b, labels, n_resamples=100, seed=3)
    assert first == paired_bootstrap(auc, a, b, labels, n_resamples=100, seed=3)
    assert first != paired_bootstrap(auc, a, b, labels, n_resamples=100, seed=4)
    assert first.difference == pytest.approx(roc_auc_score(labels, a) - roc_auc_score(labels, b))
    assert _rank_auc(labels, a) == pytest.approx(roc_auc_score(labels, a))


def test_bootstrap_intervals_cover_the_true_difference_about_as_often_as_stated():
    rng = np.random.default_rng(9)
    covered, trials = 0, 200
    for trial in range(trials):
        difficulty = rng.normal(size=40)
        a = difficulty + rng.normal(size=40)
        b = difficulty + 0.25 + rng.normal(size=40)  # true mean difference -0.25
        result = paired_bootstrap(np.mean, a, b, n_resamples=300, seed=trial)
        covered += result.low <= -0.25 <= result.high
    assert 0.88 <= covered / trials <= 0.99  # nominal 0.95; 200 trials give a binomial sd of 0.015


def test_paired_interval_is_narrower_than_an_unpaired_one_when_items_are_correlated():
    rng = np.random.default_rng(10)
    difficulty = rng.normal(scale=2.0, size=60)
    a, b = difficulty + rng.normal(size=60), difficulty + 0.2 + rng.normal(size=60)
    paired = paired_bootstrap(np.mean, a, b, n_resamples=1000, seed=0)
    # unpaired: a and b resampled independently, as if from different items
    draw = np.random.default_rng(0)
    unpaired = [a[draw.integers(0, 60, 60)].mean() - b[draw.integers(0, 60, 60)].mean() for _ in range(1000)]
    low, high = np.quantile(unpaired, [0.025, 0.975])
    # widths scale with the standard errors: sd(a - b) paired, sqrt(var a + var b) unpaired, whose
    # ratio here is about sqrt(2 / 10) (shared difficulty of variance 4, noise of variance 1 each)
    expected = np.std(a - b) / np.sqrt(np.var(a) + np.var(b))
    assert expected < 0.6
    assert (paired.high - paired.low) / (high - low) == pytest.approx(expected, rel=0.15)


def test_bootstrap_p_value_is_two_sided_share_across_zero():
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=30), rng.normal(size=30)
    result = paired_bootstrap(np.mean, a, b, n_resamples=300, seed=1)
    draw = np.random.default_rng(1)
    diffs = np.array([(a[i].mean() - b[i].mean()) for i in (draw.integers(0, 30, 30) for _ in range(300))])
    assert result.p_value == pytest.approx(min(1.0, 2 * min((diffs <= 0).mean(), (diffs >= 0).mean())))
    assert (result.low, result.high) == pytest.approx(tuple(np.quantile(diffs, [0.025, 0.975])))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: delong_test([1, 0, 1], [0.1, 0.2], [0.1, 0.2, 0.3]), "labels has 3 items but scores_a"),
    (lambda: delong_test([1, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), "both classes"),
    (lambda: delong_test([0, 0, 0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), "both classes"),
    (lambda: delong_test([1, 2, 0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), "0 \\(negative\\) or 1"),
    (lambda: delong_test([1, 0, 0, 1], [0.1, 0.2, 0.3, 0.4], [0.1, np.nan, 0.3, 0.4]), "NaN"),
    (lambda: delong_test([1, 0, 0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), "at least 2 positives"),
    (lambda: delong_test([1, 0, 1, 0], [1, 0, 1, 0], [1, 0, 1, 0], confidence=95), "between 0 and 1"),
    (lambda: macro_delong_test(np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 2))), "no tag has both"),
    (lambda: macro_delong_test(np.eye(4), np.ones((4, 3)), np.ones((4, 4))), "shape of targets"),
    (lambda: paired_bootstrap(np.mean, [1.0, 2.0, 3.0], [1.0, 2.0]), "a has 3, b has 2"),
    (lambda: paired_bootstrap(np.mean, [1.0], [1.0]), "at least 2 items"),
    (lambda: paired_bootstrap(np.mean, [1.0, 2.0], [1.0, 2.0], n_resamples=0), "positive int"),
    (lambda: seeded_paired_bootstrap(np.mean, []), "runs is empty"),
    (lambda: seeded_paired_bootstrap(np.mean, [([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0])]),
     "run 1: a, b and every shared array"),
    (lambda: pooled_ratio([1.0, 2.0]), "\\(items, 2\\)"),
    (lambda: pooled_ratio([[1.0, 0.0]]), "sum to zero"),
    (lambda: macro_roc_auc(np.ones((4, 2)), np.ones((4, 2))), "no tag has both"),
    (lambda: macro_roc_auc(np.ones((4, 2)), np.ones((4, 3))), "both be \\(items, tags\\)"),
])
def test_errors_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_every_ordering_of_a_tiny_example_with_ties_matches_sklearn():
    labels = np.array([1, 0, 1, 0, 1])
    for a in itertools.permutations([0.1, 0.2, 0.2, 0.4, 0.5]):
        assert delong_placements(labels, np.array(a))[0] == pytest.approx(roc_auc_score(labels, a))


def test_macro_roc_auc_is_sklearns_mean_over_the_tags_with_both_classes():
    rng = np.random.default_rng(12)
    targets = (rng.random((30, 5)) < 0.4).astype(float)
    targets[:, 4] = 1.0  # one class only: left out
    scores = np.round(rng.random((30, 5)) + 0.4 * targets, 1)  # rounding makes ties
    expected = np.mean([roc_auc_score(targets[:, j], scores[:, j]) for j in range(4)])
    assert macro_roc_auc(scores, targets) == pytest.approx(expected)


def test_pooled_ratio_sums_numerators_and_denominators():
    assert pooled_ratio([[1.0, 4.0], [3.0, 4.0], [0.0, 2.0]]) == pytest.approx(0.4)


def test_seeded_bootstrap_of_constant_run_differences_draws_runs_with_replacement():
    """Two runs whose items all differ by 0.1 and by 0.3: a resample's difference is the mean over two
    drawn runs, 0.1 (both the first), 0.2 (one of each) or 0.3, with odds 1/4, 1/2, 1/4."""
    b = np.random.default_rng(13).normal(size=(2, 20))
    runs = [(b[0] + 0.1, b[0]), (b[1] + 0.3, b[1])]
    result = seeded_paired_bootstrap(np.mean, runs, n_resamples=4000, seed=0)
    assert result.difference == pytest.approx(0.2)
    assert (result.low, result.high) == pytest.approx((0.1, 0.3))
    # the spread of a mean of two draws from {0.1, 0.3}: sd 0.1 / sqrt(2)
    assert result.standard_error == pytest.approx(0.1 / np.sqrt(2), rel=0.05)
    assert result == seeded_paired_bootstrap(np.mean, runs, n_resamples=4000, seed=0)


def test_seeded_bootstrap_of_one_run_spreads_like_the_paired_bootstrap():
    rng = np.random.default_rng(14)
    difficulty = rng.normal(size=50)
    a, b = difficulty + rng.normal(size=50), difficulty + 0.3 + rng.normal(size=50)
    one = seeded_paired_bootstrap(np.mean, [(a, b)], n_resamples=2000, seed=1)
    plain = paired_bootstrap(np.mean, a, b, n_resamples=2000, seed=1)
    assert one.difference == pytest.approx(plain.difference)
    assert one.standard_error == pytest.approx(plain.standard_error, rel=0.1)
    assert one.standard_error == pytest.approx(np.std(a - b) / np.sqrt(50), rel=0.1)


def test_seeded_bootstrap_resamples_items_with_their_shared_labels_within_each_run():
    """Runs with their own items and labels (each seed draws its own test songs): the full-data value
    is the mean of each run's own AUC difference, and a resample keeps each item with its label."""
    rng = np.random.default_rng(15)
    runs = []
    for n in (30, 40):
        labels = (rng.random(n) < 0.5).astype(int)
        labels[:2] = (0, 1)
        runs.append((rng.random(n) + labels, rng.random(n) + 0.5 * labels, labels))

    def auc(scores, y):
        return _rank_auc(y, scores) if 0 < y.sum() < len(y) else 0.5

    result = seeded_paired_bootstrap(auc, runs, n_resamples=300, seed=2)
    expected = np.mean([roc_auc_score(y, a) - roc_auc_score(y, b) for a, b, y in runs])
    assert result.difference == pytest.approx(expected)
    assert result.low < expected < result.high
