"""The tagger chapters' baselines: Krumhansl-Kessler keys, tag scores without audio, MFCC + logistic regression."""

import librosa
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mirbook.data import STYLE_NAMES, TAG_NAMES
from mirbook.data.baselines import (
    KRUMHANSL_KESSLER_MAJOR, audio_free_tag_scores, baseline_metrics, baseline_table, clip_features,
    family_table, key_correlations, key_profiles, krumhansl_keys, logistic_tag_scores, tag_families,
    tagger_baselines)
from mirbook.data.datasets import TaggedClips
from mirbook.models import MODELS
from mirbook.representations import Chroma, Frontend, LogCompression, MelSpectrogram
from mirbook.vocab import KEY_LABELS

C_MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11]


def chroma_of(notes, weights=None):
    chroma = np.zeros(12)
    chroma[notes] = 1.0 if weights is None else weights
    return chroma


def test_profiles_follow_the_key_labels():
    profiles = key_profiles()
    assert profiles.shape == (24, 12)
    assert KEY_LABELS[0] == "C major" and KEY_LABELS[12] == "C minor"
    # every row peaks on its own tonic: C major at C (6.35), D major at D, A minor at A (6.33)
    assert profiles[:12].argmax(axis=1).tolist() == list(range(12))
    assert profiles[12:].argmax(axis=1).tolist() == list(range(12))
    assert profiles[2, 2] == 6.35 and profiles[KEY_LABELS.index("A minor"), 9] == 6.33
    assert profiles[KEY_LABELS.index("G major"), 7 + 7 - 12] == KRUMHANSL_KESSLER_MAJOR[7]  # G's fifth is D


def test_correlations_equal_numpy_corrcoef():
    chroma = np.random.default_rng(0).random((5, 12))
    expected = np.array([[np.corrcoef(c, p)[0, 1] for p in key_profiles()] for c in chroma])
    assert np.allclose(key_correlations(chroma), expected, atol=1e-12)
    assert np.allclose(key_correlations(np.ones(12)), 0.0)  # a flat chroma says nothing


def test_hand_built_chroma_give_their_keys():
    # the C major scale with its tonic triad stressed, the A natural minor scale with A, C, E stressed
    c_major = chroma_of(C_MAJOR_SCALE, [2, 1, 2, 1, 2, 1, 1])
    a_minor = chroma_of([9, 11, 0, 2, 4, 5, 7], [2, 1, 2, 1, 2, 1, 1])
    assert krumhansl_keys(c_major) == ["C major"]
    assert krumhansl_keys(a_minor) == ["A minor"]
    assert krumhansl_keys(np.stack([c_major, a_minor])) == ["C major", "A minor"]
    # transposing the chroma by k semitones moves the key by k semitones, in the same mode
    for k in range(12):
        assert krumhansl_keys(np.roll(c_major, k)) == [KEY_LABELS[k]]
        assert krumhansl_keys(np.roll(a_minor, k)) == [KEY_LABELS[12 + (9 + k) % 12]]


def test_chroma_of_a_rendered_cadence_gives_c_major():
    """I-IV-V-I in C as sine triads through mirbook's Chroma, checked against librosa's chroma_cqt."""
    sr, seconds = 22050, 0.75
    t = np.arange(int(sr * seconds)) / sr
    chords = [(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)]
    audio = np.concatenate([sum(np.sin(2 * np.pi * librosa.midi_to_hz(m) * t) for m in chord) / 6
                            for chord in chords]).astype(np.float32)
    mine = Chroma()(torch.from_numpy(audio)[None])[0].mean(dim=1).numpy()
    theirs = librosa.feature.chroma_cqt(y=audio, sr=sr, tuning=0.0).mean(axis=1)
    assert krumhansl_keys(mine) == krumhansl_keys(theirs) == ["C major"]


def test_audio_free_scores_by_hand():
    names = ["a", "b", "x", "y"]
    train = np.array([[1, 0, 1, 0],
                      [1, 0, 1, 1],
                      [1, 0, 0, 0],
                      [0, 1, 0, 1]])
    test = np.array([[1, 0, 0, 1], [0, 1, 1, 0]])
    scores = audio_free_tag_scores(train, test, names, given=["a", "b"], prior=1.0)
    rate = train.mean(axis=0)  # (0.75, 0.25, 0.5, 0.5)
    # test clip 0 is in cell (a=1, b=0): three training clips, x in 2 of them, y in 1
    assert np.allclose(scores[0], (np.array([3, 0, 2, 1]) + rate) / 4)
    # test clip 1 is in cell (a=0, b=1): one training clip with y
    assert np.allclose(scores[1], (np.array([0, 1, 0, 1]) + rate) / 2)
    # a cell no training clip is in scores the overall rate
    assert np.allclose(audio_free_tag_scores(train, np.array([[0, 0, 1, 1]]), names, given=["a", "b"])[0], rate)
    with pytest.raises(ValueError, match="given"):
        audio_free_tag_scores(train, test, names, given=["style"])


def test_logistic_scores_equal_sklearn_one_vs_rest():
    rng = np.random.default_rng(1)
    x_train, x_test = rng.standard_normal((60, 6)), rng.standard_normal((9, 6))
    y_train = (x_train[:, :3] + 0.5 * rng.standard_normal((60, 3)) > 0).astype(float)
    expected = OneVsRestClassifier(make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=5000)))
    expected = expected.fit(x_train, y_train).predict_proba(x_test)
    assert np.allclose(logistic_tag_scores(x_train, y_train, x_test, C=0.3), expected, atol=1e-6)
    y_train[:, 1] = 1.0  # a tag present on every training clip scores 1
    assert np.all(logistic_tag_scores(x_train, y_train, x_test, C=0.3)[:, 1] == 1.0)


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    frontend = MODELS["conv1d_tagger"].from_preset("cpu", n_tags=1).frontend()
    cache = tmp_path_factory.mktemp("cache")
    data = dict(source="synthetic", duration=15.0, clip_seconds=10.0, clips_per_song=1, seed=0,
                frontend=frontend, cache_dir=cache, progress=False)
    return {name: TaggedClips(name, n_songs=n, **data) for name, n in (("train", 24), ("valid", 8), ("test", 12))}, cache


def test_clip_features_cut_the_same_clips(splits):
    splits, cache = splits
    test = splits["test"]
    same = clip_features(test, test.frontend, cache_dir=cache)
    assert torch.equal(same, torch.stack([test[i][0] for i in range(len(test))]))
    mel = Frontend(MelSpectrogram(sample_rate=test.sample_rate, hop_length=test.hop_length, n_mels=40),
                   LogCompression(mode="db"))
    assert tuple(clip_features(test, mel, cache_dir=cache).shape) == (len(test), 40, test.clip_frames)
    with pytest.raises(ValueError, match="hop_length"):
        clip_features(test, Chroma(hop_length=512), cache_dir=cache)


def test_tagger_baselines_on_a_small_world(splits):
    splits, cache = splits
    result = tagger_baselines(splits["train"], splits["valid"], splits["test"], cache_dir=cache)
    mfcc = result["mfcc"]
    assert mfcc["C"] in mfcc["grid"] and len(mfcc["valid_roc_auc"]) == len(mfcc["grid"])
    assert mfcc["at_edge"] == (mfcc["C"] in (min(mfcc["grid"]), max(mfcc["grid"])))
    assert mfcc["valid_roc_auc"][mfcc["grid"].index(mfcc["C"])] == max(mfcc["valid_roc_auc"])
    assert mfcc["scores"].shape == (len(splits["test"]), len(TAG_NAMES))
    # above chance: timbre tells some styles and instruments apart even after 24 training songs (no
    # instrument is fixed by the style, so the world's tags are harder than a style lookup)
    assert 0.55 < mfcc["ROC-AUC"] <= 1.0
    # the no-audio scorer reads the test clips' true vocal and mode: given them, those tags rank better
    given, style = result["audio_free"]["per_tag_roc_auc"], result["style_only"]["per_tag_roc_auc"]
    assert all(given[t] > style[t] for t in ("vocal", "major") if t in given)
    # given the true style alone, every style the training clips hold ranks perfectly
    per_tag = result["style_only"]["per_tag_roc_auc"]
    assert [per_tag[t] for t in STYLE_NAMES if t in per_tag] == pytest.approx([1.0] * sum(t in per_tag for t in STYLE_NAMES))
    assert len(result["key"]["estimates"]) == len(splits["test"])
    assert 0.0 <= result["key"]["Weighted Score"] <= 1.0
    metrics = baseline_metrics(result)
    assert set(metrics) == {"baseline_roc_auc_macro", "audio_free_roc_auc_macro", "baseline_key_weighted"}
    table = baseline_table("model", {"ROC-AUC": 0.9, "PR-AUC": 0.8, "Key Weighted Score": 0.7}, result)
    assert table.count("\n") == 6 and f"{result['key']['Weighted Score']:.3f}" in table


def test_bad_input():
    with pytest.raises(ValueError, match="12"):
        key_correlations(np.ones((3, 11)))
    with pytest.raises(ValueError, match="finite"):
        key_correlations(np.full(12, np.nan))


def test_tag_families_cover_the_vocabulary_once():
    families = tag_families(TAG_NAMES)
    assert list(families) == ["style", "instruments", "vocal", "mode", "tempo"]
    assert sorted(t for tags in families.values() for t in tags) == sorted(TAG_NAMES)
    assert "drums" in families["instruments"] and "ballad" not in families["instruments"]
    assert tag_families(["rock", "pop"]) == {}


def test_family_table_averages_by_hand():
    per_tag = {t: 0.5 for t in TAG_NAMES}
    per_tag.update(slow=1.0, medium=0.7)  # tempo: (1.0 + 0.7 + 0.5) / 3
    table = family_table("m", {"per_tag_roc_auc": per_tag},
                         {"mfcc": {"per_tag_roc_auc": {"slow": 0.9}}})
    tempo = next(line for line in table.splitlines() if line.startswith("| tempo"))
    assert tempo.endswith("| 0.733 | 0.900 |")
    style = next(line for line in table.splitlines() if line.startswith("| style"))
    assert style.endswith("| 0.500 | — |")
