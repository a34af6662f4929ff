"""The tagger chapters' baseline sentences and tables, and the voice baseline's edges, against
hand-made inputs whose right answer is written out by hand (mirbook.data.baselines)."""

import numpy as np
import pytest

from mirbook.data.baselines import (baseline_metrics, baseline_table, describe_c_choice, energy_voicing,
                                    family_metrics, family_table, hardest_tags_sentence, mfcc_tag_baseline)
from mirbook.data.styles import STYLE_NAMES

SR = 22050


def _baselines(with_world=True):
    result = {"mfcc": {"C": 0.1, "grid": [0.01, 0.1, 1.0], "valid_roc_auc": [0.70, 0.80, 0.75],
                       "at_edge": False, "ROC-AUC": 0.81, "PR-AUC": 0.61,
                       "per_tag_roc_auc": {"rock": 0.9, "jazz": 0.7, "piano": 0.6, "drums": 0.8}}}
    if with_world:
        result.update(audio_free={"ROC-AUC": 0.91, "PR-AUC": 0.71, "per_tag_roc_auc": {"rock": 1.0, "piano": 0.5}},
                      style_only={"ROC-AUC": 0.83, "PR-AUC": 0.63, "per_tag_roc_auc": {"rock": 0.95}},
                      key={"Weighted Score": 0.72})
    return result


def test_the_c_sentence_names_the_choice_its_score_and_the_grid():
    assert describe_c_choice(_baselines()) == (
        "The logistic regression's C = 0.1 was chosen on the validation clips (macro ROC-AUC 0.800, "
        "against 0.700 to 0.800 over C = 0.01 to 1); it lies inside the grid, not at an edge.")
    at_edge = _baselines()
    at_edge["mfcc"].update(C=1.0, at_edge=True)
    assert describe_c_choice(at_edge).endswith(
        "(macro ROC-AUC 0.750, against 0.700 to 0.800 over C = 0.01 to 1); it lies at an edge of the grid: "
        "a wider grid might do better.")


def test_the_hardest_and_easiest_tags_are_ranked_by_their_auc():
    result = {"per_tag_roc_auc": {"a": 0.9, "b": 0.5, "c": 0.7, "d": 0.6, "e": 0.95}}
    assert hardest_tags_sentence(result, n=2) == (
        "On these test clips the hardest tags are b (0.500), d (0.600); the easiest e (0.950), a (0.900).")
    assert hardest_tags_sentence(result).startswith("On these test clips the hardest tags are b (0.500), "
                                                    "d (0.600), c (0.700); the easiest e (0.950), a (0.900), "
                                                    "c (0.700)")


def test_the_metrics_carry_each_baseline_that_the_data_allowed():
    assert baseline_metrics(_baselines()) == {"baseline_roc_auc_macro": 0.81, "audio_free_roc_auc_macro": 0.91,
                                              "baseline_key_weighted": 0.72}
    assert baseline_metrics(_baselines(with_world=False)) == {"baseline_roc_auc_macro": 0.81}


def test_the_table_has_one_row_per_method_with_its_numbers():
    model = {"ROC-AUC": 0.9, "PR-AUC": 0.8, "Key Weighted Score": 0.85}
    assert baseline_table("Conv2d", model, _baselines()).splitlines() == [
        "| method | macro ROC-AUC | macro PR-AUC | key weighted score |",
        "|---|---:|---:|---:|",
        "| Conv2d | 0.900 | 0.800 | 0.850 |",
        "| MFCC statistics + logistic regression (C = 0.1) | 0.810 | 0.610 | — |",
        "| no audio: P(tag \\| style, vocal, mode) | 0.910 | 0.710 | — |",
        "| no audio: P(tag \\| style) | 0.830 | 0.630 | — |",
        "| Krumhansl-Kessler profiles on mean CQT chroma | — | — | 0.720 |"]
    no_key = baseline_table("Conv2d", {"ROC-AUC": 0.9, "PR-AUC": 0.8}, _baselines(with_world=False))
    assert no_key.splitlines()[2:] == ["| Conv2d | 0.900 | 0.800 | — |",
                                       "| MFCC statistics + logistic regression (C = 0.1) | 0.810 | 0.610 | — |"]


def test_the_family_table_averages_each_family_per_method():
    names = [*STYLE_NAMES, "vocal", "major", "slow", "medium", "fast", "piano", "drums"]
    per_tag = {name: 0.5 for name in names}
    per_tag.update(piano=0.9, drums=0.7, vocal=0.75)
    del per_tag["fast"]  # present on every test clip: no AUC
    model = {"per_tag_roc_auc": per_tag, "skipped": ["fast"]}
    baselines = _baselines()
    baselines["mfcc"]["per_tag_roc_auc"] = {"piano": 0.6, "drums": 0.8, "slow": 0.2, "medium": 0.4}
    lines = family_table("CRNN", model, baselines).splitlines()
    assert lines[0] == "| tag family | CRNN | MFCC + logistic regression | no audio: style, vocal, mode | no audio: style |"
    assert lines[1] == "|---|---:|---:|---:|---:|"
    rows = {line.split(" (")[0].lstrip("| "): line.rsplit(") | ", 1)[1] for line in lines[2:]}
    assert rows["instruments"] == "0.800 | 0.700 | 0.500 | — |"  # CRNN (0.9 + 0.7) / 2; the others' tags
    assert rows["vocal"] == "0.750 | — | — | — |"
    assert rows["tempo"] == "0.500 | 0.300 | — | — |"
    assert family_table("CRNN", {"per_tag_roc_auc": {"piano": 0.9}}, baselines) == ""


def test_a_grid_of_c_must_be_positive_before_anything_is_computed():
    for grid in ((), (0.0, 1.0), (-1.0,)):
        with pytest.raises(ValueError, match="grid must hold positive values of C"):
            mfcc_tag_baseline(None, None, None, grid=grid)


def _tone(level_db, seconds):
    t = np.arange(int(seconds * SR)) / SR
    return (10 ** (level_db / 20) * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_the_energy_detector_measures_each_frame_against_the_loudest():
    """A full-scale tone, then the same tone 56 dB down, then 70 dB down: at -60 dB the first two
    are voiced and the third is not (a level measured against anything but the loudest frame, such
    as the RMS times the peak, 6 dB lower, moves the second below the threshold)."""
    audio = np.concatenate([_tone(0, 1.0), _tone(-56, 1.0), _tone(-70, 1.0)])
    voiced = energy_voicing(audio, SR, threshold_db=-60.0)
    hop = 512 / SR
    assert voiced.shape == (1, 2)
    assert voiced[0, 0] == 0.0 and abs(voiced[0, 1] - 2.0) <= 2 * hop
    assert np.allclose(np.round(2 * voiced / hop), 2 * voiced / hop)  # on the half-hop grid of 512 samples
    assert energy_voicing(audio, SR, threshold_db=-50.0)[0, 1] <= 1.0 + 2 * hop


@pytest.mark.parametrize("threshold_db", [0.0, 0.5])
def test_the_energy_threshold_must_lie_below_the_loudest_frame(threshold_db):
    with pytest.raises(ValueError, match="threshold_db must be negative"):
        energy_voicing(_tone(0, 0.5), SR, threshold_db=threshold_db)


def test_the_energy_detector_takes_one_mono_signal_of_at_least_2048_samples():
    with pytest.raises(ValueError, match="vocal_stem must be one mono signal .* got a batch of 2"):
        energy_voicing(np.stack([_tone(0, 0.5), _tone(0, 0.5)]), SR)
    with pytest.raises(ValueError, match="vocal_stem"):
        energy_voicing(np.zeros(2047, dtype=np.float32), SR)
    assert energy_voicing(_tone(0, 2048 / SR), SR).shape == (1, 2)


def test_template_posteriors_are_a_softmax_of_the_scores_with_n_at_its_constant():
    """Two frames, three classes written out: 'N' replaced by no_chord, exp(sharpness * score)
    normalised per frame (the frame-wise maximum subtracted first changes nothing)."""
    from mirbook.data.baselines import template_posteriors

    similarities = np.array([[0.0, 0.0], [0.9, 0.2], [0.5, 0.4]])
    posteriors = template_posteriors(similarities, no_chord=0.6, sharpness=10.0)
    scores = np.array([[0.6, 0.6], [0.9, 0.2], [0.5, 0.4]])
    expected = np.exp(10.0 * scores) / np.exp(10.0 * scores).sum(axis=0)
    np.testing.assert_allclose(posteriors, expected, rtol=1e-12)
    assert similarities[0, 0] == 0.0  # the caller's similarities are left as they were
    big = template_posteriors(np.array([[0.0], [80.0], [79.0]]), no_chord=0.6, sharpness=20.0)
    np.testing.assert_allclose(big[:, 0], [0.0, 1 / (1 + np.exp(-20.0)), np.exp(-20.0) / (1 + np.exp(-20.0))],
                               atol=1e-300)  # no overflow: exp(1600) would be inf
    two = template_posteriors(np.array([[0.0, 0.0], [80.0, 0.3], [79.0, 0.2]]), no_chord=0.6, sharpness=20.0)
    np.testing.assert_allclose(two[:, 1], np.exp(20.0 * np.array([0.6, 0.3, 0.2])) / np.exp(20.0 * np.array(
        [0.6, 0.3, 0.2])).sum(), rtol=1e-12)  # each frame against its own maximum: no underflow to 0 / 0


@pytest.mark.parametrize("no_chord", [0.0, 1.0])
def test_the_no_chord_score_lies_strictly_between_zero_and_one(no_chord):
    from mirbook.data.baselines import template_chords

    with pytest.raises(ValueError, match=r"no_chord must be a cosine similarity in \(0, 1\)"):
        template_chords(_tone(0, 1.0), SR, no_chord=no_chord)


@pytest.mark.parametrize("hop_length", [0, -32, 48, 2048.0, True])
def test_template_similarities_need_a_positive_multiple_of_32_as_hop(hop_length):
    from mirbook.data.baselines import template_similarities

    with pytest.raises(ValueError, match="hop_length must be a positive multiple of 32"):
        template_similarities(_tone(0, 1.0), SR, hop_length=hop_length)


def test_template_similarities_are_cosines_with_the_triads():
    """A C major triad of sine tones: its best row is 'C:maj' with a cosine of its unit chroma with
    the unit C major template (at most 1), and 'N' is 0 (template_posteriors puts the constant there);
    the frame count follows the hop (centred frames: samples // hop + 1)."""
    from mirbook.data.baselines import template_similarities
    from mirbook.vocab import CHORD_LABELS

    sr = 16000  # not librosa's default rate: the chroma must be computed at the audio's own rate
    t = np.arange(2 * sr) / sr
    audio = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)).astype(np.float32) / 3
    similarities = template_similarities(audio, sr, hop_length=1024)
    assert similarities.shape == (25, audio.size // 1024 + 1)
    middle = similarities[:, similarities.shape[1] // 2]
    assert CHORD_LABELS[int(np.argmax(middle))] == "C:maj" and middle[0] == 0.0
    assert 0.8 < middle.max() <= 1.0 + 1e-6  # a cosine: the chroma is normalised per frame


def test_family_metrics_average_each_family_for_the_model_and_the_no_audio_scorer():
    names = [*STYLE_NAMES, "vocal", "major", "slow", "medium", "fast", "piano", "drums"]
    per_tag = {name: 0.5 for name in names}
    per_tag.update(piano=0.9, drums=0.7, slow=0.8)
    del per_tag["fast"]  # present on every test clip: no AUC
    baselines = _baselines()
    baselines["audio_free"]["per_tag_roc_auc"] = {"rock": 1.0, "piano": 0.6, "vocal": 1.0}
    metrics = family_metrics({"per_tag_roc_auc": per_tag, "skipped": ["fast"]}, baselines)
    assert metrics == pytest.approx({
        "roc_auc_style": 0.5, "roc_auc_instruments": 0.8, "roc_auc_vocal": 0.5, "roc_auc_mode": 0.5,
        "roc_auc_tempo": 0.65,  # (0.8 + 0.5) / 2: 'fast' has no AUC
        "audio_free_roc_auc_style": 1.0, "audio_free_roc_auc_instruments": 0.6, "audio_free_roc_auc_vocal": 1.0})
    assert family_metrics({"per_tag_roc_auc": {"piano": 0.9}}, baselines) == {}  # no families: a real dataset
    del baselines["audio_free"]
    assert set(family_metrics({"per_tag_roc_auc": per_tag, "skipped": ["fast"]}, baselines)) == {
        f"roc_auc_{family}" for family in ("style", "instruments", "vocal", "mode", "tempo")}
