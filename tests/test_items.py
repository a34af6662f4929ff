"""mirbook.items (per-song outputs in RESULTS) and mirbook.scoring.tagger_metrics, by hand."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mirbook.data.styles import STYLE_NAMES
from mirbook.evaluate import evaluate_tags
from mirbook.intervals import macro_roc_auc, paired_bootstrap, pooled_ratio
from mirbook.items import (
    describe_margins,
    item_arrays,
    item_metric,
    margin_intervals,
    mean_item,
    ratio_item,
    tagger_items,
    tags_item,
)
from mirbook.scoring import TAGGER_BARS, tagger_metrics

TAGS = [*STYLE_NAMES, "piano", "guitar", "vocal", "major", "slow", "medium", "fast"]


def _tagger_outputs(seed=0, clips=40):
    """A score_tagger result, tagger_baselines and key_transfer rows for a made-up test set."""
    rng = np.random.default_rng(seed)
    targets = (rng.random((clips, len(TAGS))) < 0.4).astype(float)
    targets[:2] = 1 - targets[0]  # every tag has both classes
    model = np.clip(0.5 * targets + rng.random(targets.shape), 0, 1)
    audio_free = np.clip(0.2 * targets + rng.random(targets.shape), 0, 1)
    mfcc = rng.random(targets.shape)
    key_model, key_profiles = rng.choice([1.0, 0.5, 0.3, 0.0], clips), rng.choice([1.0, 0.2, 0.0], clips)
    result = {**evaluate_tags(targets, model, tag_names=TAGS), "scores": model, "targets": targets,
              "Key Weighted Score": key_model.mean(), "Key Correct": np.mean(key_model == 1.0),
              "key_scores": key_model, "key_songs": np.arange(clips)}
    baselines = {"mfcc": evaluate_tags(targets, mfcc, tag_names=TAGS),
                 "audio_free": {"scores": audio_free, **evaluate_tags(targets, audio_free, tag_names=TAGS)},
                 "key": {"scores": key_profiles, "Weighted Score": key_profiles.mean()}}
    worlds = {"world": {}, "valid": {"model": 0.7, "baseline": 0.6, "margin": 0.1,
                                     "model_songs": np.array([1.0, 0.5, 0.6]),
                                     "baseline_songs": np.array([0.5, 0.5, 0.8])}}
    return result, baselines, worlds


def test_tagger_metrics_are_the_scores_and_their_margins_over_the_baselines():
    result, baselines, worlds = _tagger_outputs()
    m = tagger_metrics(result, baselines, worlds)
    targets, scores, free = result["targets"], result["scores"], baselines["audio_free"]["scores"]
    instruments = [TAGS.index("piano"), TAGS.index("guitar")]
    auc = [roc_auc_score(targets[:, j], scores[:, j]) for j in range(len(TAGS))]
    free_auc = [roc_auc_score(targets[:, j], free[:, j]) for j in range(len(TAGS))]
    assert m["roc_auc_macro"] == pytest.approx(np.mean(auc))
    assert m["roc_auc_above_audio_free"] == pytest.approx(np.mean(auc) - np.mean(free_auc))
    assert m["roc_auc_instruments"] == pytest.approx(np.mean([auc[j] for j in instruments]))
    assert m["instruments_above_audio_free"] == pytest.approx(
        np.mean([auc[j] - free_auc[j] for j in instruments]))
    assert m["key_above_baseline"] == pytest.approx(result["key_scores"].mean() - baselines["key"]["scores"].mean())
    assert (m["out_of_world_key_weighted"], m["out_of_world_key_above_baseline"]) == (0.7, 0.1)
    assert set(TAGGER_BARS) <= set(m)
    # real data: no no-audio scorer, no key: the scores alone, no margins
    plain = tagger_metrics({k: v for k, v in result.items() if not k.startswith(("Key", "key"))},
                           {"mfcc": baselines["mfcc"]})
    assert "key_weighted" not in plain and "roc_auc_above_audio_free" not in plain
    assert plain["baseline_roc_auc_macro"] == pytest.approx(baselines["mfcc"]["ROC-AUC"])


def test_tagger_items_give_back_the_metrics_they_stand_for():
    result, baselines, worlds = _tagger_outputs()
    items = tagger_items(result, baselines, worlds)
    assert set(items) == {"roc_auc_macro", "key_weighted", "out_of_world_key_weighted"}
    m = tagger_metrics(result, baselines, worlds)
    for name, baseline in (("roc_auc_macro", "audio_free_roc_auc_macro"), ("key_weighted", "baseline_key_weighted")):
        model_part, baseline_part, *shared = item_arrays(items[name])
        assert item_metric(items[name])(model_part, *shared) == pytest.approx(m[name], abs=1e-6)
        assert item_metric(items[name])(baseline_part, *shared) == pytest.approx(m[baseline], abs=1e-6)
    assert item_arrays(items["out_of_world_key_weighted"])[0].tolist() == [1.0, 0.5, 0.6]
    assert tagger_items({k: v for k, v in result.items() if k != "key_scores"}, {"mfcc": {}}) == {}


def test_items_refuse_what_they_cannot_store():
    with pytest.raises(ValueError, match=r"\(songs, 2\)"):
        ratio_item([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="same songs"):
        mean_item([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        mean_item([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="multi-hot"):
        tags_item(np.full((3, 2), 0.5), np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="kind must be one of"):
        item_arrays({"kind": "median", "model": [1.0], "baseline": [1.0]})


def test_margin_intervals_are_paired_bootstraps_of_each_item():
    frames = {"model": np.array([[9.0, 10.0], [5.0, 10.0], [8.0, 8.0]]),
              "baseline": np.array([[6.0, 10.0], [5.0, 10.0], [4.0, 8.0]])}
    items = {"frame_accuracy": ratio_item(frames["model"], frames["baseline"])}
    t = margin_intervals(items, n_resamples=500)["frame_accuracy"]
    assert t.difference == pytest.approx(22 / 28 - 15 / 28)
    assert t == paired_bootstrap(pooled_ratio, frames["model"], frames["baseline"], n_resamples=500)
    text = describe_margins(items, n_resamples=500)
    assert f"`frame_accuracy` {22 / 28 - 15 / 28:+.3f} (95 % CI {t.low:+.3f} to {t.high:+.3f}, 3 songs)" in text
    with pytest.raises(ValueError, match="items is empty"):
        describe_margins({})


def test_tags_items_round_trip_as_float32():
    result, baselines, _ = _tagger_outputs(seed=1)
    item = tagger_items(result, baselines)["roc_auc_macro"]
    model_part, baseline_part, targets = item_arrays(item)
    np.testing.assert_array_equal(targets, result["targets"])
    np.testing.assert_allclose(model_part, result["scores"], rtol=1e-7)
    assert macro_roc_auc(model_part, targets) == pytest.approx(result["ROC-AUC"], abs=1e-6)
