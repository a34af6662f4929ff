"""Tests of mirbook.scoring: each runner equals the step-by-step evaluation with mirbook.evaluate."""

import types

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from mirbook.data.baselines import template_chords
from mirbook.data.datasets import VoiceExcerpts
from mirbook.evaluate import (
    choose_voicing_settings,
    decode_chords,
    evaluate_chords,
    evaluate_keys,
    evaluate_tags,
    evaluate_voicing,
)
from mirbook.models import MODELS
from mirbook.scoring import (
    choose_template_settings,
    grid_edge,
    score_chord_model,
    score_tagger,
    score_voice_model,
    voice_probabilities,
)
from mirbook.vocab import KEY_LABELS


class _Songs:
    """The per-song interface of mirbook.data datasets: song_items() with features and a Song."""

    def __init__(self, model, seconds=(3.0, 4.5), seed=0):
        g = torch.Generator().manual_seed(seed)
        self.items = []
        for k, duration in enumerate(seconds):
            frames = int(duration * model.sample_rate / model.hop_length)
            song = types.SimpleNamespace(
                chords=(np.array([[0.0, duration / 2], [duration / 2, duration]]), ["C:maj", "A:min"]),
                voicing=np.array([[0.5 + 0.2 * k, duration - 0.5]]),
            )
            self.items.append(types.SimpleNamespace(features=torch.randn(model.n_bins, frames, generator=g), song=song))

    def song_items(self):
        return self.items


def test_score_chord_model_agrees_with_the_step_by_step_evaluation():
    torch.manual_seed(0)
    model = MODELS["deep_chroma"].from_preset("cpu")
    songs = _Songs(model)
    estimates = []
    for item in songs.song_items():
        posteriors = model.predict_frames(item.features[None])[1][0]
        estimates.append(decode_chords(posteriors, sample_rate=model.sample_rate, hop_length=model.hop_length, smooth=3))
    expected = evaluate_chords([i.song.chords for i in songs.items], estimates)
    assert score_chord_model(model, songs, smooth=3) == pytest.approx(expected)


def test_voice_probabilities_are_the_songs_frame_outputs():
    torch.manual_seed(0)
    model = MODELS["brnn_voice"].from_preset("cpu").train()
    data = VoiceExcerpts("valid", n_songs=2, frontend=model.frontend(), duration=5.0, excerpt_frames=21,
                         cache_dir=False, progress=False)
    references, probabilities = voice_probabilities(model, data)
    assert model.training
    for item, reference, p in zip(data.song_items(), references, probabilities):
        expected = model.predict_frames(item.features[None])[0].cpu().numpy()
        assert p.dtype == expected.dtype and np.array_equal(p, expected)
        assert reference.dtype == item.song.voicing.dtype and np.array_equal(reference, item.song.voicing)


@pytest.mark.filterwarnings("ignore:Estimated melody has no voiced frames")
@pytest.mark.parametrize("name", ["conv2d_voice", "brnn_voice"])
def test_score_voice_model_picks_the_settings_on_validation(name):
    torch.manual_seed(0)
    model = MODELS[name].from_preset("cpu")
    valid, test = _Songs(model, seed=1), _Songs(model, seconds=(5.0,), seed=2)
    refs, probs = voice_probabilities(model, valid)
    assert [len(p) for p in probs] == [i.features.shape[1] for i in valid.items]
    rate = {"sample_rate": model.sample_rate, "hop_length": model.hop_length}
    threshold, median, _ = choose_voicing_settings(refs, probs, median_filters=(1, 3), **rate)
    expected = evaluate_voicing(*voice_probabilities(model, test), threshold=threshold, median_filter=median, **rate)
    assert score_voice_model(model, valid, test, median_filters=(1, 3)) == {
        **expected, "Threshold": threshold, "Median Filter": median}


class _Clips(Dataset):
    tag_names = ["rock", "vocal", "piano"]

    def __init__(self, model, n=12):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, model.n_bins, model.min_frames + 20, generator=g)
        self.tags = torch.tensor([[1, 0, 1], [0, 1, 0], [1, 1, 0]] * (n // 3), dtype=torch.float32)
        self.keys = torch.randint(0, 24, (n,), generator=g)
        self.keys[0] = -100  # a clip without a key annotation

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.tags[i], self.keys[i]


def test_score_tagger_agrees_with_evaluate_tags_and_keys():
    torch.manual_seed(0)
    model = MODELS["conv1d_tagger"].from_preset("cpu", tag_names=_Clips.tag_names).eval()
    clips = _Clips(model)
    with torch.no_grad():
        out = model(clips.x)
    clips.keys[1:4] = out.key.argmax(1)[1:4]  # three clips with the key exactly right, the rest by chance
    expected = evaluate_tags(clips.tags, torch.sigmoid(out.tags), tag_names=clips.tag_names)
    keys = evaluate_keys([KEY_LABELS[k] for k in clips.keys[1:].tolist()],
                         [KEY_LABELS[k] for k in out.key.argmax(1)[1:].tolist()])
    model.train()
    result = score_tagger(model, clips, batch_size=5)
    assert model.training
    assert result["ROC-AUC"] == pytest.approx(expected["ROC-AUC"])
    assert result["PR-AUC"] == pytest.approx(expected["PR-AUC"])
    assert result["Key Weighted Score"] == pytest.approx(keys["Weighted Score"])
    exactly_right = (out.key.argmax(1)[1:] == clips.keys[1:]).float().mean().item()
    assert result["Key Correct"] == pytest.approx(exactly_right) and exactly_right >= 3 / 11


def test_scoring_helpers_reject_wrong_datasets():
    model = MODELS["deep_chroma"].from_preset("cpu")
    with pytest.raises(ValueError, match="song_items"):
        score_chord_model(model, [1, 2])
    empty = types.SimpleNamespace(song_items=lambda: [])
    with pytest.raises(ValueError, match="no songs"):
        score_chord_model(model, empty)


_NOTES = {"C:maj": (261.63, 329.63, 392.00), "A:min": (220.00, 261.63, 329.63)}


def _chord_song(labels, seconds, sample_rate=22050):
    """A song of sine-tone triads ('N': white noise), ``seconds`` per label, annotated with exactly those labels."""
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, n)
    audio = np.concatenate([noise if label == "N" else sum(np.sin(2 * np.pi * f * t) for f in _NOTES[label]) / 3
                            for label in labels])
    intervals = np.array([[k * seconds, (k + 1) * seconds] for k in range(len(labels))])
    return types.SimpleNamespace(audio=audio.astype(np.float32), sample_rate=sample_rate,
                                 chords=(intervals, list(labels)))


def test_choose_template_settings_scores_every_setting_as_template_chords_does():
    songs = [_chord_song(["C:maj", "N", "A:min", "C:maj"], 1.0),
             _chord_song(["A:min", "C:maj", "N", "C:maj", "A:min", "N"], 0.5)]
    no_chords, smooths = (0.3, 0.6), (1, 9)
    no_chord, smooth, wcsr = choose_template_settings(songs, hop_length=1024, no_chords=no_chords, smooths=smooths)
    references = [song.chords for song in songs]
    expected = np.array([[evaluate_chords(references, [template_chords(song.audio, song.sample_rate, hop_length=1024,
                                                                       no_chord=c, smooth=s) for song in songs])["majmin"]
                          for s in smooths] for c in no_chords])
    assert wcsr == pytest.approx(expected, abs=1e-12)
    i, j = np.unravel_index(np.argmax(expected), expected.shape)
    assert (no_chord, smooth) == (no_chords[i], smooths[j])


def test_choose_template_settings_finds_the_settings_known_by_construction():
    # White noise has a flat chroma, about 0.5 cosine similarity with every triad: a 'no chord'
    # score of 0.3 labels it a triad (the noise, a third of the song, is all wrong), 0.6 labels
    # it 'N' and still loses to a clean triad (about 1). Chords that change every 0.5 s are
    # smeared by a 31-frame (1.4 s) average.
    songs = [_chord_song(["C:maj", "A:min"] * 4 + ["N"] * 4, 0.5)]
    no_chord, smooth, wcsr = choose_template_settings(songs, hop_length=1024, no_chords=(0.3, 0.6),
                                                      smooths=(31, 1))
    assert (no_chord, smooth) == (0.6, 1)
    assert wcsr[1, 1] > 0.9 and wcsr[0, 1] <= 4 / 6 + 1e-9 and wcsr[1, 0] < 0.7


def test_choose_template_settings_refuses_empty_inputs():
    with pytest.raises(ValueError, match="at least one validation song"):
        choose_template_settings([])
    with pytest.raises(ValueError, match="non-empty grids"):
        choose_template_settings([_chord_song(["C:maj"], 1.0)], smooths=())


def test_grid_edge_names_the_edge_a_choice_sits_on():
    assert grid_edge(1, (1, 3, 5)) == "lowest"
    assert grid_edge(5, (3, 1, 5)) == "highest"
    assert grid_edge(3, (1, 3, 5)) is None
    assert grid_edge(0.6, (0.6,)) is None
    with pytest.raises(ValueError, match="not one of the grid"):
        grid_edge(7, (1, 3, 5))
