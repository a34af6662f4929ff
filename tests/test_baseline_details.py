"""The non-learned baselines' details (mirbook.data.baselines), each against an expectation made
without the function under test: librosa's chroma, RMS and MFCCs, scikit-learn's logistic
regression, numpy's correlation coefficient, mir_eval's key score, or a small case worked by hand.
Stages a function only hands on (similarities, features, scorers) are replaced by stand-ins that
record what they were given, so that the wiring itself is checked."""

import os
from fractions import Fraction
from types import SimpleNamespace

import librosa
import mir_eval
import numpy as np
import pytest
import torch
from scipy.ndimage import uniform_filter1d
from threadpoolctl import threadpool_info, threadpool_limits

import mirbook.data.baselines as baselines
from mirbook.data.baselines import (LOGISTIC_C_GRID, audio_free_tag_scores, clip_features, energy_voicing,
                                    family_table, key_baseline, key_correlations, key_profiles,
                                    logistic_tag_scores, mfcc_statistics, mfcc_tag_baseline, tagger_baselines,
                                    template_chords, template_posteriors, template_similarities)
from mirbook.data import TAG_NAMES
from mirbook.data.datasets import TaggedClips
from mirbook.data.styles import STYLE_NAMES
from mirbook.frames import intervals_to_frames
from mirbook.representations import Frontend, LogCompression, MelSpectrogram
from mirbook.vocab import CHORD_LABELS, KEY_LABELS, NO_KEY, chord_templates

SR = 16000


def _triad(seconds=0.5, dtype=np.float64):
    t = np.arange(int(seconds * SR)) / SR
    return (sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)) / 3).astype(dtype)


# -- template chords ----------------------------------------------------------------------------

def test_template_similarities_read_the_audio_as_float32_at_a_hop_of_2048():
    """float64 audio gives exactly librosa's CQT chroma of its float32 copy at the default hop of
    2048 samples, normalised per frame and multiplied with the triad templates."""
    audio = _triad()
    chroma = librosa.feature.chroma_cqt(y=audio.astype(np.float32), sr=SR, hop_length=2048)
    expected = chord_templates() @ (chroma / np.linalg.norm(chroma, axis=0, keepdims=True))
    similarities = template_similarities(audio, SR)
    assert similarities.shape == (25, audio.size // 2048 + 1)
    np.testing.assert_allclose(similarities, expected, rtol=0, atol=1e-12)


def test_template_similarities_name_the_audio_in_their_errors():
    with pytest.raises(ValueError, match=r"^audio must be one mono signal \(samples,\); got a batch of 2$"):
        template_similarities(np.stack([_triad(), _triad()]), SR)
    with pytest.raises(ValueError, match=r"^audio is too short: 2047 samples, at least 2048 expected"):
        template_similarities(np.zeros(2047, dtype=np.float32), SR)


def test_template_posteriors_of_integer_similarities_put_no_chord_at_its_fraction():
    """Integer similarities are read as floats: 'N' scores 0.6, not 0 (a truncated 0.6)."""
    posteriors = template_posteriors(np.array([[0, 0], [1, 0], [0, 1]]), no_chord=0.6, sharpness=10.0)
    scores = np.array([[0.6, 0.6], [1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(posteriors, np.exp(10 * scores) / np.exp(10 * scores).sum(axis=0), rtol=1e-12)


def _similarities_stand_in(monkeypatch, similarities):
    monkeypatch.setattr(baselines, "template_similarities", lambda audio, sample_rate, hop_length: similarities)


def test_template_chords_decode_each_frame_without_smoothing_by_default(monkeypatch):
    """C:maj, then a frame where G:maj (0.9) beats C:maj (0.8), then C:maj again: without
    smoothing the middle frame is G:maj; a two-frame average would have turned it into C:maj."""
    c, g = CHORD_LABELS.index("C:maj"), CHORD_LABELS.index("G:maj")
    similarities = np.zeros((25, 3))
    similarities[c] = [0.95, 0.8, 0.95]
    similarities[g, 1] = 0.9
    _similarities_stand_in(monkeypatch, similarities)
    assert template_chords(np.zeros(4096, dtype=np.float32), 22050)[1] == ["C:maj", "G:maj", "C:maj"]
    assert template_chords(np.zeros(4096, dtype=np.float32), 22050, smooth=2)[1] == ["C:maj"]


def test_template_chords_default_softmax_slope_is_20(monkeypatch):
    """Frame 0: C:maj at 1 and G:maj at 1 - 0.0535; frame 1: G:maj and A:min tied at 1, C:maj at 0.5.
    Averaged over two frames, C:maj beats G:maj only when tanh(sharpness * 0.0535 / 2) exceeds about
    1/2 (G:maj and A:min share frame 1): at slope 20, tanh(0.535) = 0.489, so frame 1 stays G:maj
    (at slope 21 it would be C:maj). The expectation is the softmax worked out with numpy."""
    c, g, a = (CHORD_LABELS.index(label) for label in ("C:maj", "G:maj", "A:min"))
    similarities = np.zeros((25, 2))
    similarities[c] = [1.0, 0.5]
    similarities[g] = [1.0 - 0.0535, 1.0]
    similarities[a, 1] = 1.0
    scores = similarities.copy()
    scores[0] = 0.6
    posteriors = np.exp(20.0 * scores) / np.exp(20.0 * scores).sum(axis=0)
    averaged = np.stack([posteriors[:, 0], posteriors.mean(axis=1)], axis=1)  # 'nearest' edge, window (i-1, i)
    assert [CHORD_LABELS[k] for k in averaged.argmax(axis=0)] == ["C:maj", "G:maj"]
    assert np.tanh(20 * 0.0535 / 2) < 0.5 < np.tanh(21 * 0.0535 / 2)
    _similarities_stand_in(monkeypatch, similarities)
    assert template_chords(np.zeros(4096, dtype=np.float32), 22050, smooth=2)[1] == ["C:maj", "G:maj"]
    np.testing.assert_allclose(uniform_filter1d(posteriors, 2, axis=1, mode="nearest"), averaged, rtol=1e-12)


# -- energy voicing -----------------------------------------------------------------------------

def _frames(intervals, n, hop):
    return intervals_to_frames(intervals, n, sample_rate=SR, hop_length=hop)


def test_energy_voicing_uses_the_hop_it_is_given():
    """Tone bursts and silences, hop 256 and frame 512: the voiced frames are librosa's RMS frames
    within 60 dB of the loudest."""
    t = np.arange(SR) / SR
    audio = (np.sin(2 * np.pi * 440 * t) * ((t * 4).astype(int) % 2 == 0)).astype(np.float32)
    rms = librosa.feature.rms(y=audio, frame_length=512, hop_length=256)[0]
    expected = 20 * np.log10(np.maximum(rms, 1e-12) / rms.max()) > -60
    assert 0.3 < expected.mean() < 0.7
    estimate = energy_voicing(audio, SR, hop_length=256, frame_length=512)
    np.testing.assert_array_equal(_frames(estimate, rms.size, 256), expected)


def test_energy_voicing_frames_are_512_samples_by_default():
    """A tone over the first 4096 samples and one click at sample 20 * 512 + 256: a centred frame of
    512 samples around frame 20 (samples 9984 to 10495) misses the click, so only frame 21 is voiced
    there; a frame one sample longer would reach it from frame 20 too."""
    audio = np.zeros(SR, dtype=np.float32)
    audio[:4096] = np.sin(2 * np.pi * 440 * np.arange(4096) / SR)
    audio[20 * 512 + 256] = 0.5
    rms = librosa.feature.rms(y=audio, frame_length=512, hop_length=512)[0]
    expected = 20 * np.log10(np.maximum(rms, 1e-12) / rms.max()) > -60
    assert expected[21] and not expected[20] and not expected[22]
    np.testing.assert_array_equal(_frames(energy_voicing(audio, SR), rms.size, 512), expected)


def test_a_frame_exactly_at_the_threshold_is_not_voiced():
    """DC at 1 then DC at 2**-5 (-30.1 dB): with the threshold set exactly at the quiet part's level,
    its frames are not louder than the threshold, so only the loud part (and the frame that
    straddles both) is voiced."""
    audio = np.concatenate([np.ones(4096), np.full(8192, 2.0 ** -5)]).astype(np.float32)
    rms = librosa.feature.rms(y=audio, frame_length=512, hop_length=512)[0]
    assert rms[3] == 1.0 and rms[12] == 2.0 ** -5
    level = 20 * np.log10(np.maximum(rms, 1e-12) / rms.max())
    threshold = float(level[12])
    assert threshold == pytest.approx(-30.103, abs=1e-3)
    voiced = _frames(energy_voicing(audio, SR, threshold_db=threshold), rms.size, 512)
    assert voiced[:9].all() and not voiced[9:].any()


# -- Krumhansl-Kessler keys ---------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 11), (2, 12, 12), (0, 12)])
def test_key_correlations_refuse_other_shapes_with_their_own_message(shape):
    with pytest.raises(ValueError, match=r"^chroma must have shape \(clips, 12\) or \(12,\); got "):
        key_correlations(np.ones(shape))


def test_key_correlations_name_nan_and_inf_in_their_message():
    with pytest.raises(ValueError, match=r"^chroma must be finite \(no NaN or inf\)$"):
        key_correlations(np.full(12, np.inf))


def test_key_correlations_of_float32_chroma_are_computed_in_double_precision():
    chroma = np.random.default_rng(3).random((4, 12)).astype(np.float32)
    expected = np.array([[np.corrcoef(c.astype(np.float64), p)[0, 1] for p in key_profiles()] for c in chroma])
    np.testing.assert_allclose(key_correlations(chroma), expected, rtol=0, atol=1e-13)


def test_key_correlations_of_faint_chroma_are_not_zeroed():
    """A chroma with variations of 1e-3 (norms far below 1) still correlates as numpy says."""
    chroma = 1e-3 * np.random.default_rng(4).random((3, 12))
    expected = np.array([[np.corrcoef(c, p)[0, 1] for p in key_profiles()] for c in chroma])
    assert np.abs(expected).max() > 0.3
    np.testing.assert_allclose(key_correlations(chroma), expected, rtol=0, atol=1e-9)


class _FakeClips(list):
    """A split of (features, tags, key) items with the attributes the baselines read."""

    def __init__(self, items, tag_names=(), sample_rate=SR, hop_length=256):
        super().__init__(items)
        self.tag_names, self.sample_rate, self.hop_length = list(tag_names), sample_rate, hop_length


def test_key_baseline_reads_mean_chroma_at_the_split_rate_and_scores_with_mir_eval(monkeypatch):
    """Three clips: C major (its scale), one without a key (left out), C major heard as its relative
    A minor: estimates 'C major' and 'A minor', weighted score the mean of mir_eval's 1 and 0.3."""
    c_major = np.zeros(12)
    c_major[[0, 2, 4, 5, 7, 9, 11]] = [2, 1, 2, 1, 2, 1, 1]
    a_minor = np.zeros(12)
    a_minor[[9, 11, 0, 2, 4, 5, 7]] = [2, 1, 2, 1, 2, 1, 1]
    chroma = torch.from_numpy(np.stack([c_major, np.ones(12), a_minor])[:, :, None].repeat(5, axis=2)).float()
    seen = {}

    def stand_in(clips, frontend, *, cache_dir=None, progress=False):
        seen.update(frontend=frontend, cache_dir=cache_dir)
        return chroma

    monkeypatch.setattr(baselines, "clip_features", stand_in)
    c = KEY_LABELS.index("C major")
    clips = _FakeClips([(None, None, torch.tensor(k)) for k in (c, NO_KEY, c)])
    result = key_baseline(clips, cache_dir="some/where")
    assert seen["cache_dir"] == "some/where"
    assert (int(seen["frontend"].sample_rate), int(seen["frontend"].hop_length)) == (SR, 256)
    assert result["estimates"] == ["C major", "A minor"]
    expected = np.mean([mir_eval.key.weighted_score("C major", "C major"),
                        mir_eval.key.weighted_score("C major", "A minor")])
    assert expected == pytest.approx(0.65)
    assert result["Weighted Score"] == pytest.approx(expected)


# -- clip features and MFCC statistics ------------------------------------------------------------

@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    frontend = Frontend(MelSpectrogram(sample_rate=SR, hop_length=512, n_mels=32), LogCompression(mode="db"))
    return TaggedClips("test", n_songs=2, source="synthetic", duration=4.0, clip_seconds=1.0, clips_per_song=1,
                       seed=0, frontend=frontend, cache_dir=tmp_path_factory.mktemp("clips"), progress=False)


def _mel16():
    return Frontend(MelSpectrogram(sample_rate=SR, hop_length=512, n_mels=16), LogCompression(mode="db"))


def test_clip_features_cache_where_they_are_told(clips, tmp_path, monkeypatch, capfd):
    """A folder: the features and (the synthetic source caches its songs) the songs' audio, two
    entries per track, land there; False: nothing is stored anywhere; None: the default folder
    ($MIRBOOK_CACHE_DIR). By default no progress bar is written."""
    default = tmp_path / "default"
    monkeypatch.setenv("MIRBOOK_CACHE_DIR", str(default))
    assert clips.source.cache_songs
    folder = tmp_path / "given"
    stored = clip_features(clips, _mel16(), cache_dir=folder)
    assert tuple(stored.shape) == (2, 16, clips.clip_frames)
    assert len(os.listdir(folder)) == 2 * len(clips.tracks)
    assert not default.exists()
    unstored = clip_features(clips, _mel16(), cache_dir=False)
    assert torch.equal(unstored, stored)
    assert len(os.listdir(folder)) == 4 and not default.exists()
    assert torch.equal(clip_features(clips, _mel16()), stored)
    assert len(os.listdir(default)) == 4
    assert capfd.readouterr().err == ""


def test_clip_features_progress_bar_names_the_split(clips, tmp_path, capfd):
    clip_features(clips, _mel16(), cache_dir=tmp_path, progress=True)
    assert "test: baseline features" in capfd.readouterr().err


@pytest.mark.parametrize("options, n_mels, n_mfcc", [({}, 128, 20), ({"n_mels": 40, "n_mfcc": 13}, 40, 13)])
def test_mfcc_statistics_are_librosa_mfcc_means_and_deviations(monkeypatch, options, n_mels, n_mfcc):
    """The log-mel features are asked for at the split's rate (16 kHz here), with n_mels bands in
    decibels (librosa's power_to_db of its mel spectrogram), from the cache folder given; the
    result is the mean and population deviation over time of librosa's MFCCs of them."""
    log_mel = torch.from_numpy(np.random.default_rng(5).normal(-40, 10, (3, n_mels, 30))).float()
    seen = {}

    def stand_in(clips, frontend, *, cache_dir=None, progress=False):
        seen.update(frontend=frontend, cache_dir=cache_dir)
        return log_mel

    monkeypatch.setattr(baselines, "clip_features", stand_in)
    split = SimpleNamespace(sample_rate=SR, hop_length=256)
    statistics = mfcc_statistics(split, cache_dir="the/cache", **options)
    mfcc = np.stack([librosa.feature.mfcc(S=m.double().numpy(), n_mfcc=n_mfcc) for m in log_mel])
    expected = np.concatenate([mfcc.mean(axis=2), mfcc.std(axis=2)], axis=1)
    assert statistics.shape == (3, 2 * n_mfcc)
    np.testing.assert_allclose(statistics, expected, rtol=1e-4, atol=1e-3)
    assert seen["cache_dir"] == "the/cache"
    frontend = seen["frontend"]
    assert (int(frontend.sample_rate), int(frontend.hop_length)) == (SR, 256)
    tone = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(SR // 2) / SR)).astype(np.float32)
    reference = librosa.power_to_db(librosa.feature.melspectrogram(y=tone, sr=SR, n_fft=2048, hop_length=256,
                                                                   n_mels=n_mels), ref=1.0, amin=1e-6, top_db=None)
    mine = frontend(torch.from_numpy(tone)[None])[0].numpy()
    assert mine.shape == reference.shape
    np.testing.assert_allclose(mine, reference, atol=0.05)


# -- logistic regression ----------------------------------------------------------------------------

def test_one_training_clip_gives_its_labels_as_scores():
    scores = logistic_tag_scores(np.ones((1, 3)), np.array([[1.0, 0.0]]), np.zeros((4, 3)), C=1.0)
    np.testing.assert_array_equal(scores, np.tile([1.0, 0.0], (4, 1)))


def test_a_slowly_converging_fit_runs_to_convergence():
    """Near-collinear features (rank 2 plus 1 % noise that carries the label) and C = 1e4: lbfgs
    needs several hundred iterations; the scores equal scikit-learn's fit run to convergence."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    u, v, noise = rng.standard_normal((100, 2)), rng.standard_normal((2, 30)), rng.standard_normal((100, 30))
    x = u @ v + 1e-2 * noise
    y = (noise @ rng.standard_normal(30) + 2 * rng.standard_normal(100) > 0).astype(float)
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=1e4, max_iter=100_000)).fit(x, y)
    assert reference[-1].n_iter_[0] > 200
    np.testing.assert_allclose(logistic_tag_scores(x, y[:, None], x, C=1e4)[:, 0],
                               reference.predict_proba(x)[:, 1], atol=1e-6)


def test_the_fits_run_on_one_blas_thread(monkeypatch):
    """Even when the caller allows two threads, each tag's fit sees one thread per pool."""
    seen = []
    monkeypatch.setattr(baselines, "_fit_one", lambda *args: seen.append(
        {info["num_threads"] for info in threadpool_info()}))
    with threadpool_limits(2):
        assert max(info["num_threads"] for info in threadpool_info()) == 2
        logistic_tag_scores(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((2, 2)), C=1.0)
    assert seen == [{1}, {1}]


# -- the MFCC tagger's choice of C ------------------------------------------------------------------

def _tagged(n, seed, tag_names):
    rng = np.random.default_rng(seed)
    targets = (rng.random((n, len(tag_names))) < 0.5).astype(np.float32)
    targets[0], targets[1] = 1.0, 0.0  # every tag has positive and negative clips
    return _FakeClips([(None, torch.from_numpy(row), torch.tensor(NO_KEY)) for row in targets], tag_names)


@pytest.mark.parametrize("best, at_edge", [(0, True), (1, False), (5, False), (6, True)])
def test_the_c_with_the_best_validation_auc_is_chosen_and_its_edge_reported(monkeypatch, best, at_edge):
    """A stand-in scorer ranks the validation clips perfectly for one C of the grid and backwards
    for the others: that C is chosen, with validation ROC-AUC 1 there and 0 elsewhere."""
    names = ["a", "b", "c"]
    train, valid, test = _tagged(8, 1, names), _tagged(6, 2, names), _tagged(5, 3, names)
    features = {id(split): np.full((len(split), 2), float(k)) for k, split in enumerate((train, valid, test))}
    valid_targets = torch.stack([item[1] for item in valid]).numpy()
    calls = []
    monkeypatch.setattr(baselines, "mfcc_statistics",
                        lambda split, *, cache_dir=None: calls.append(cache_dir) or features[id(split)])

    def scorer(train_x, train_y, test_x, *, C):
        if test_x is features[id(valid)]:
            return valid_targets if C == LOGISTIC_C_GRID[best] else 1 - valid_targets
        return np.full((len(test_x), 3), C)

    monkeypatch.setattr(baselines, "logistic_tag_scores", scorer)
    result = mfcc_tag_baseline(train, valid, test, cache_dir="c/d")
    assert calls == ["c/d"] * 3
    assert result["C"] == LOGISTIC_C_GRID[best] and result["at_edge"] is at_edge
    assert result["valid_roc_auc"] == [1.0 if k == best else 0.0 for k in range(len(LOGISTIC_C_GRID))]
    np.testing.assert_array_equal(result["scores"], np.full((5, 3), LOGISTIC_C_GRID[best]))


# -- tag scores without audio -------------------------------------------------------------------

def test_audio_free_scores_of_float32_labels_by_hand_with_a_prior_of_one():
    """Training labels as float32 (as the datasets give them), three clips in cell a=1: the scores
    are (positives + rate) / (3 + 1) with rates 3/4 and 1/3 ... worked out in exact fractions."""
    train = np.array([[1, 1, 0], [1, 0, 1], [1, 0, 0], [0, 1, 1], [0, 0, 0], [0, 0, 0]], dtype=np.float32)
    test = np.array([[1, 0, 0], [0, 1, 1]], dtype=np.float32)
    scores = audio_free_tag_scores(train, test, ["a", "x", "y"], given=["a"])
    rate = [Fraction(3, 6), Fraction(2, 6), Fraction(2, 6)]
    expected = [[float((p + r) / (n + 1)) for p, r in zip(positives, rate)]
                for positives, n in (((3, 1, 1), 3), ((0, 1, 1), 3))]
    np.testing.assert_allclose(scores, expected, rtol=1e-15, atol=0)


# -- every tagger baseline together -----------------------------------------------------------------

def _stand_ins(monkeypatch):
    seen = {"mfcc": [], "key": []}

    def statistics(split, *, cache_dir=None):
        seen["mfcc"].append(cache_dir)
        targets = torch.stack([item[1] for item in split]).numpy()
        return targets + np.random.default_rng(len(split)).normal(0, 0.3, targets.shape)

    def keys(clips, *, cache_dir=None):
        seen["key"].append(cache_dir)
        return {"estimates": ["C major"], "Weighted Score": 1.0}

    monkeypatch.setattr(baselines, "mfcc_statistics", statistics)
    monkeypatch.setattr(baselines, "key_baseline", keys)
    return seen


def test_tagger_baselines_pass_the_cache_on_and_name_the_tags(monkeypatch):
    names = [*STYLE_NAMES, "vocal", "major"]  # exactly the tags the audio-free scorers need
    train, valid, test = _tagged(30, 1, names), _tagged(12, 2, names), _tagged(12, 3, names)
    seen = _stand_ins(monkeypatch)
    result = tagger_baselines(train, valid, test, cache_dir="x/y")
    assert seen == {"mfcc": ["x/y"] * 3, "key": ["x/y"]}
    assert list(result["mfcc"]["per_tag_roc_auc"]) == names
    targets = torch.stack([item[1] for item in test]).numpy()
    train_targets = torch.stack([item[1] for item in train]).numpy()
    for name, given in (("audio_free", (*STYLE_NAMES, "vocal", "major")), ("style_only", STYLE_NAMES)):
        entry = result[name]
        assert tuple(entry["given"]) == tuple(given)
        np.testing.assert_array_equal(entry["scores"], audio_free_tag_scores(train_targets, targets, names,
                                                                             given=given))
        assert list(entry["per_tag_roc_auc"]) == names
    assert result["key"] == {"estimates": ["C major"], "Weighted Score": 1.0}


def test_tagger_baselines_without_the_world_tags_skip_the_audio_free_scorers(monkeypatch):
    names = ["rock", "vocal", "major", "piano"]  # not every style: no audio-free scorer
    train, valid, test = _tagged(20, 1, names), _tagged(10, 2, names), _tagged(10, 3, names)
    _stand_ins(monkeypatch)
    assert set(tagger_baselines(train, valid, test)) == {"mfcc", "key"}


# -- report tables --------------------------------------------------------------------------------

def test_a_family_row_lists_its_tags_separated_by_commas():
    per_tag = {t: 0.5 for t in TAG_NAMES}
    table = family_table("m", {"per_tag_roc_auc": per_tag}, {"mfcc": {"per_tag_roc_auc": {"slow": 0.9}}})
    assert "| tempo (slow, medium, fast) | 0.500 | 0.900 |" in table.splitlines()
    assert "| mode (major) | 0.500 | — |" in table.splitlines()
