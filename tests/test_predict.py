"""Tests of mirbook.predict: one call from a waveform to mir_eval-style annotations, and .lab files."""

import mir_eval
import numpy as np
import pytest
import torch

from mirbook.models import MODELS
from mirbook.io import write_lab
from mirbook.predict import features_for, predict, predict_chords, predict_tags, predict_voicing
from mirbook.vocab import CHORD_LABELS, KEY_LABELS


def _chord_audio(sample_rate, seconds=6.0):
    """A C major then an A minor triad (three sines each), 3 s each."""
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    c_major = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0))
    a_minor = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63))
    return (0.1 * np.where(t < seconds / 2, c_major, a_minor)).astype(np.float32)


def test_features_are_resampled_to_the_model_rate():
    model = MODELS["deep_chroma"].from_preset("cpu")
    native = features_for(model, _chord_audio(22050), 22050)
    resampled = features_for(model, _chord_audio(44100), 44100)
    assert native.shape == resampled.shape == (1, model.n_bins, native.shape[-1])
    assert np.corrcoef(native.flatten(), resampled.flatten())[0, 1] > 0.99


def test_predict_chords_returns_a_valid_annotation():
    model = MODELS["deep_chroma"].from_preset("cpu")
    intervals, labels = predict_chords(model, _chord_audio(16000), 16000, smooth=3)
    mir_eval.util.validate_intervals(intervals)
    mir_eval.chord.validate(labels, labels)
    assert set(labels) <= set(CHORD_LABELS)
    assert intervals[0, 0] == 0.0 and intervals[-1, 1] == 6.0
    # a length that is no whole number of hops: the annotation still ends where the recording ends
    audio = _chord_audio(22050, seconds=2.0)[:44077]
    intervals, _ = predict_chords(model, audio, 22050)
    assert intervals[-1, 1] == 44077 / 22050 and np.all(intervals[1:, 0] == intervals[:-1, 1])
    assert predict(model, _chord_audio(16000), 16000)[1][0] in CHORD_LABELS


@pytest.mark.parametrize("name", ["conv2d_voice", "brnn_voice"])
def test_predict_voicing_returns_intervals_inside_the_recording(name):
    model = MODELS[name].from_preset("cpu")
    audio = _chord_audio(22050, seconds=4.0)
    for threshold in (0.01, 0.99):
        intervals = predict_voicing(model, audio, 22050, threshold=threshold, median_filter=5)
        assert intervals.ndim == 2 and intervals.shape[1] == 2
        if len(intervals):
            mir_eval.util.validate_intervals(intervals)
            assert intervals.min() >= 0 and intervals.max() <= 4.05
    # with a threshold below every probability the whole recording is one voiced interval
    assert len(predict_voicing(model, audio, 22050, threshold=1e-9)) == 1


@pytest.mark.parametrize("name", ["conv1d_tagger", "conv2d_tagger", "crnn_tagger"])
def test_predict_tags_names_scores_and_a_key(name):
    model = MODELS[name].from_preset("cpu", tag_names=["rock", "vocal", "piano"])
    scores, key = predict_tags(model, _chord_audio(22050, seconds=8.0), 22050)
    assert list(scores) == ["rock", "vocal", "piano"]
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    assert key in KEY_LABELS
    mir_eval.key.validate_key(key)


def test_write_lab_round_trips_through_mir_eval(tmp_path):
    intervals, labels = np.array([[0.0, 1.5], [1.5, 3.25]]), ["C:maj", "A:min"]
    path = write_lab(tmp_path / "out" / "song.lab", intervals, labels)
    read_intervals, read_labels = mir_eval.io.load_labeled_intervals(str(path))
    np.testing.assert_allclose(read_intervals, intervals)
    assert read_labels == labels
    write_lab(path, np.array([[0.2, 0.9]]), "voice")
    assert mir_eval.io.load_labeled_intervals(str(path))[1] == ["voice"]


def test_bad_inputs_raise_clear_errors(tmp_path):
    chords = MODELS["deep_chroma"].from_preset("cpu")
    audio = _chord_audio(22050)
    with pytest.raises(ValueError, match="one mono recording"):
        predict_chords(chords, np.stack([audio, audio]), 22050)
    with pytest.raises(ValueError, match="mono"):
        predict_chords(chords, audio[None, None], 22050)
    with pytest.raises(ValueError, match="sample_rate"):
        predict_chords(chords, audio, 0)
    with pytest.raises(ValueError, match="too short"):
        predict_chords(chords, audio[:8000], 22050)
    with pytest.raises(ValueError, match="'voice' model"):
        predict_voicing(chords, audio, 22050)
    with pytest.raises(ValueError, match="finite"):
        predict_chords(chords, np.full(44100, np.nan, dtype=np.float32), 22050)
    with pytest.raises(ValueError, match="tag_names"):
        predict_tags(MODELS["crnn_tagger"].from_preset("cpu"), audio, 22050)
    with pytest.raises(ValueError, match="MODELS"):
        predict(torch.nn.Linear(2, 2), audio, 22050)
    with pytest.raises(ValueError, match="frontend gives"):
        predict_chords(chords, audio, 22050, frontend=MODELS["brnn_voice"].from_preset("cpu").frontend())
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        write_lab(tmp_path / "x.lab", np.array([0.0, 1.0]), ["C:maj"])
    with pytest.raises(ValueError, match="2 intervals but 1 labels"):
        write_lab(tmp_path / "x.lab", np.array([[0.0, 1.0], [1.0, 2.0]]), ["C:maj"])


def test_predict_tags_scores_each_tag_on_its_own_with_a_sigmoid(monkeypatch):
    """Tags are independent (multi-label): logits 0, 2, -2 give 1/(1+e^-z) = 0.5, 0.881, 0.119, not a softmax."""
    from mirbook.models import TagOutput

    model = MODELS["conv1d_tagger"].from_preset("cpu", tag_names=["rock", "vocal", "piano"])
    key_logits = torch.zeros(1, 24)
    key_logits[0, 14] = 3.0  # class 14: D minor
    monkeypatch.setattr(model, "forward", lambda x: TagOutput(torch.tensor([[0.0, 2.0, -2.0]]), key_logits))
    scores, key = predict_tags(model, _chord_audio(22050, seconds=4.0), 22050)
    assert scores == pytest.approx({"rock": 0.5, "vocal": 1 / (1 + np.exp(-2.0)), "piano": 1 / (1 + np.exp(2.0))})
    assert key == "D minor"
