"""mirbook.predict: dispatch by task, options reaching the decoders, and refusals that name the problem.

The model's frame outputs are replaced by hand-made ones, so each expected annotation is worked out
by hand from the frame convention (frame i centred at i * hop / rate, covering half a hop either
side, from 0). Each case kills mutants that mutmut found surviving (benchmarks/results/mutation.md).
"""

import numpy as np
import pytest
import torch

from mirbook.models import MODELS
from mirbook.predict import features_for, predict, predict_chords, predict_tags, predict_voicing

RATE = 22050


def _audio(seconds=4.0, rate=RATE):
    t = np.arange(int(rate * seconds)) / rate
    return (0.1 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def _frames(model, audio):
    return features_for(model, audio, RATE).shape[-1]


def _edge(model, frame):
    """Start time of frame ``frame`` (> 0): its centre minus half a hop."""
    return (frame - 0.5) * model.hop_length / model.sample_rate


@pytest.fixture
def voice_model():
    """A voice model whose frame probabilities are 0.3, except one lone frame (10) and the second half at 0.7."""
    model = MODELS["conv2d_voice"].from_preset("cpu")
    model.eval()
    n = _frames(model, _audio())
    p = torch.full((1, n), 0.3)
    p[0, 10] = 0.7
    p[0, n // 2:] = 0.7
    model.predict_frames = lambda features: p[:, : features.shape[-1]]
    return model, n


def test_voicing_uses_the_default_threshold_of_one_half(voice_model):
    model, n = voice_model
    intervals = predict_voicing(model, _audio(), RATE)
    assert len(intervals) == 2  # the lone frame and the second half
    assert intervals[0] == pytest.approx([_edge(model, 10), _edge(model, 11)])
    assert intervals[1, 0] == pytest.approx(_edge(model, n // 2))


def test_voicing_passes_the_median_filter_on(voice_model):
    """A 3-frame median removes the lone voiced frame; the second half stays."""
    model, n = voice_model
    intervals = predict_voicing(model, _audio(), RATE, median_filter=3)
    assert len(intervals) == 1 and intervals[0, 0] == pytest.approx(_edge(model, n // 2))


def test_predict_dispatches_a_voice_model_and_forwards_its_options(voice_model):
    """A threshold below every probability makes the whole recording one voiced interval."""
    model, _ = voice_model
    intervals = predict(model, _audio(), RATE, threshold=0.2)
    assert intervals.shape == (1, 2) and intervals[0, 0] == 0.0 and intervals[0, 1] == pytest.approx(4.0)


@pytest.fixture
def chord_model():
    """A chord model whose posteriors say C:maj in every frame but frame 10, which says A:min."""
    model = MODELS["deep_chroma"].from_preset("cpu")
    model.eval()
    n = _frames(model, _audio())
    posteriors = torch.full((1, 25, n), 0.0)
    posteriors[0, 1] = 0.9    # C:maj
    posteriors[0, 22] = 0.1   # A:min
    posteriors[0, 1, 10], posteriors[0, 22, 10] = 0.1, 0.9
    model.predict_frames = lambda features: (None, posteriors[..., : features.shape[-1]])
    return model


def test_chords_are_not_smoothed_by_default(chord_model):
    intervals, labels = predict_chords(chord_model, _audio(), RATE)
    assert labels == ["C:maj", "A:min", "C:maj"]
    assert intervals[1] == pytest.approx([_edge(chord_model, 10), _edge(chord_model, 11)])


def test_chord_smoothing_reaches_the_decoder(chord_model):
    """Averaged over 3 frames the lone frame scores C:maj (0.9 + 0.1 + 0.9) / 3 against A:min 0.37."""
    intervals, labels = predict_chords(chord_model, _audio(), RATE, smooth=3)
    assert labels == ["C:maj"] and intervals.shape == (1, 2)


def test_predict_dispatches_a_tagger():
    model = MODELS["conv1d_tagger"].from_preset("cpu", tag_names=["rock", "piano"])
    model.eval()
    scores, key = predict(model, _audio(8.0), RATE)
    assert (scores, key) == predict_tags(model, _audio(8.0), RATE)


def test_each_function_refuses_a_model_of_another_task(voice_model):
    model, _ = voice_model
    name = type(model).__name__
    with pytest.raises(ValueError, match=f"needs a 'chords' model; {name} is a 'voice' model"):
        predict_chords(model, _audio(), RATE)
    with pytest.raises(ValueError, match=f"needs a 'tags' model; {name} is a 'voice' model"):
        predict_tags(model, _audio(), RATE)
    with pytest.raises(ValueError, match="model must be one of mirbook.models.MODELS; got object"):
        predict(object(), _audio(), RATE)


def test_a_tagger_without_tag_names_is_refused():
    model = MODELS["conv1d_tagger"].from_preset("cpu")
    with pytest.raises(ValueError, match="the tagger has no tag_names; build it with tag_names="):
        predict_tags(model, _audio(8.0), RATE)


def test_a_batch_is_refused_naming_its_shape():
    model = MODELS["deep_chroma"].from_preset("cpu")
    with pytest.raises(ValueError, match=r"one mono recording.*; got a batch of shape \(2, 22050\)"):
        predict_chords(model, np.zeros((2, RATE), dtype=np.float32), RATE)


def test_a_frontend_passed_in_must_match_the_model():
    """The model's own frontend is accepted; one with another hop is refused, naming the model."""
    model = MODELS["deep_chroma"].from_preset("cpu")
    assert predict_chords(model, _audio(), RATE, frontend=model.frontend())[1]
    other = MODELS["conv2d_voice"].from_preset("cpu").frontend()
    assert other.hop_length != model.hop_length
    for call in (predict_chords, features_for):
        with pytest.raises(ValueError, match=f"frontend gives .*; {type(model).__name__} expects"):
            call(model, _audio(), RATE, frontend=other)


def test_audio_shorter_than_the_models_frames_is_refused_and_the_minimum_accepted():
    """Deep chroma (cpu preset): hop 2048 at 22050 Hz, at least 15 frames; centred frames number 1 + n // hop."""
    model = MODELS["deep_chroma"].from_preset("cpu")
    assert (model.sample_rate, model.hop_length, model.min_frames) == (22050, 2048, 15)
    short = np.zeros(2048 * 10, dtype=np.float32) + 0.01
    # 15 * 2048 / 22050 = 1.39 s
    with pytest.raises(ValueError, match=rf"too short for {type(model).__name__}: 11 frames, at least 15 "
                                         r"\(about 1\.4 s\) expected"):
        predict_chords(model, short, RATE)
    enough = np.zeros(2048 * 14, dtype=np.float32) + 0.01
    assert features_for(model, enough, RATE).shape[-1] == 15
    intervals, _ = predict_chords(model, enough, RATE)
    assert intervals[-1, 1] == pytest.approx(2048 * 14 / RATE)


class _Spy(torch.nn.Module):
    """The model's own frontend, counting its calls (same settings, so check_frontend accepts it)."""

    def __init__(self, frontend):
        super().__init__()
        self.inner, self.calls = frontend, 0
        self.sample_rate, self.hop_length, self.n_bins = frontend.sample_rate, frontend.hop_length, frontend.n_bins

    def forward(self, x):
        self.calls += 1
        return self.inner(x)


@pytest.mark.parametrize("name, call", [("deep_chroma", predict_chords), ("conv2d_voice", predict_voicing),
                                        ("conv1d_tagger", predict_tags)])
def test_a_frontend_passed_in_is_the_one_used(name, call):
    """Readers pass a frontend to reuse it over many files (or a custom one with the same settings)."""
    options = {"tag_names": ["rock", "piano"]} if call is predict_tags else {}
    model = MODELS[name].from_preset("cpu", **options)
    spy = _Spy(model.frontend())
    call(model, _audio(8.0), RATE, frontend=spy)
    assert spy.calls == 1
