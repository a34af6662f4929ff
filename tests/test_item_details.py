"""mirbook.items in detail: what items store, the exact sentence describe_margins writes, the
arguments that reach the bootstrap, and the exact error messages."""

import re

import numpy as np
import pytest

from mirbook.intervals import paired_bootstrap, pooled_ratio
from mirbook.items import describe_margins, item_arrays, margin_intervals, mean_item, ratio_item, tagger_items, tags_item

FRAMES = {"model": [[9, 10], [5, 10], [8, 8], [3, 6]], "baseline": [[6, 10], [5, 10], [4, 8], [1, 6]]}
KEYS = {"model": [1, 0.5, 0.3, 1, 0], "baseline": [0.5, 0.5, 0, 1, 0.3]}


def _items():
    return {"frame_accuracy": ratio_item(FRAMES["model"], FRAMES["baseline"]),
            "key_weighted": mean_item(KEYS["model"], KEYS["baseline"])}


def test_items_store_plain_floats_and_give_back_float_arrays():
    items = _items()
    stored = items["frame_accuracy"]["model"] + items["frame_accuracy"]["baseline"]
    assert all(type(v) is float for row in stored for v in row)
    assert all(type(v) is float for v in items["key_weighted"]["model"] + items["key_weighted"]["baseline"])
    # records written by other code may hold ints: they still come back as float arrays
    model, baseline = item_arrays({"kind": "mean", "model": [1, 0], "baseline": [0, 1]})
    assert model.dtype == np.float64 and baseline.dtype == np.float64


def test_margin_intervals_pass_every_setting_to_the_bootstrap():
    items = _items()
    got = margin_intervals(items, n_resamples=120, confidence=0.8, seed=5)
    assert got["frame_accuracy"] == paired_bootstrap(pooled_ratio, np.array(FRAMES["model"], float),
                                                     np.array(FRAMES["baseline"], float),
                                                     n_resamples=120, confidence=0.8, seed=5)
    assert got["key_weighted"] == paired_bootstrap(np.mean, np.array(KEYS["model"], float),
                                                   np.array(KEYS["baseline"], float),
                                                   n_resamples=120, confidence=0.8, seed=5)
    assert margin_intervals(items) == margin_intervals(items, n_resamples=2000, confidence=0.95, seed=0)


def test_describe_margins_writes_this_sentence():
    items = _items()
    t = margin_intervals(items, n_resamples=150, confidence=0.9, seed=2)
    f, k = t["frame_accuracy"], t["key_weighted"]
    assert describe_margins(items, n_resamples=150, confidence=0.9, seed=2) == (
        "Model minus baseline on the same held-out songs, with a paired bootstrap interval over the songs "
        "(150 resamples; this run's trained model held fixed): "
        f"`frame_accuracy` {f.difference:+.3f} (90 % CI {f.low:+.3f} to {f.high:+.3f}, 4 songs); "
        f"`key_weighted` {k.difference:+.3f} (90 % CI {k.low:+.3f} to {k.high:+.3f}, 5 songs).")
    t = margin_intervals(items)
    assert describe_margins(items).startswith(
        "Model minus baseline on the same held-out songs, with a paired bootstrap interval over the songs "
        f"(2000 resamples; this run's trained model held fixed): `frame_accuracy` "
        f"{t['frame_accuracy'].difference:+.3f} (95 % CI {t['frame_accuracy'].low:+.3f} to "
        f"{t['frame_accuracy'].high:+.3f}, 4 songs)")


def test_tagger_items_hold_a_key_item_only_with_both_key_scores_and_the_key_baseline():
    targets = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    result = {"targets": targets, "scores": np.full((4, 2), 0.5), "key_scores": np.array([1.0, 0.5, 0.0, 1.0])}
    baselines = {"audio_free": {"scores": np.full((4, 2), 0.4)}, "key": {"scores": np.array([0.5, 0.5, 0.5, 0.5])}}
    assert set(tagger_items(result, baselines)) == {"roc_auc_macro", "key_weighted"}
    assert set(tagger_items(result, {"audio_free": baselines["audio_free"]})) == {"roc_auc_macro"}
    no_key = {k: v for k, v in result.items() if k != "key_scores"}
    assert set(tagger_items(no_key, baselines)) == {"roc_auc_macro"}


@pytest.mark.parametrize(("call", "message"), [
    (lambda: mean_item([[1.0, 2.0]], [1.0]), "model must be an array of shape (songs,); got (1, 2)"),
    (lambda: mean_item([1.0, 2.0], [[1.0, 2.0]]), "baseline must be an array of shape (songs,); got (1, 2)"),
    (lambda: ratio_item([1.0, 2.0], [[1.0, 2.0]]), "model must be an array of shape (songs, 2); got (2,)"),
    (lambda: ratio_item([[1.0, 2.0]], [[1.0, 2.0, 3.0]]), "baseline must be an array of shape (songs, 2); got (1, 3)"),
    (lambda: ratio_item([[1.0, 2.0]], [[np.inf, 2.0]]), "baseline holds NaN or infinite values"),
    (lambda: mean_item([1.0, 2.0], [1.0]), "model and baseline must score the same songs; got 2 and 1"),
    (lambda: tags_item(np.ones((3, 2)), np.ones((3, 3)), np.ones((3, 2))),
     "targets, model and baseline must all be (clips, tags); got (3, 2), (3, 3) and (3, 2)"),
    (lambda: tags_item(np.ones((3, 2)), np.ones((3, 2)), np.ones((2, 2))),
     "targets, model and baseline must all be (clips, tags); got (3, 2), (3, 2) and (2, 2)"),
    (lambda: tags_item(np.ones(3), np.ones(3), np.ones(3)),
     "targets, model and baseline must all be (clips, tags); got (3,), (3,) and (3,)"),
    (lambda: tags_item(np.full((3, 2), 0.5), np.ones((3, 2)), np.ones((3, 2))), "targets must be multi-hot (0 or 1)"),
    (lambda: describe_margins({}), "items is empty: the chapter scored no per-song outputs"),
])
def test_item_errors_in_full(call, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        call()
