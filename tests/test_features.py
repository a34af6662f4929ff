"""mirbook.features: MFCCs against librosa, clip statistics, and the edge checks."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from mirbook.features import MFCC, frame_statistics
from mirbook.representations import Frontend, LogCompression, MelSpectrogram

SR = 22050


def _tones(seconds: float = 1.0) -> np.ndarray:
    """Two different harmonic tones with a little noise, as a (2, samples) float32 batch."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    batch = []
    for f0 in (220.0, 330.0):
        tone = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6)) * np.exp(-2 * t)
        batch.append(0.3 * tone + 0.01 * rng.standard_normal(t.size))
    return np.stack(batch).astype(np.float32)


def test_mfcc_of_a_db_mel_spectrogram_matches_librosa():
    audio = _tones()
    log_mel = Frontend(MelSpectrogram(sample_rate=SR, n_mels=64), LogCompression(mode="db", eps=1e-10))(
        torch.from_numpy(audio))
    ours = MFCC(n_mels=64, n_mfcc=13)(log_mel)
    assert ours.shape == (2, 13, log_mel.shape[-1]) and ours.dtype == torch.float32
    for i, y in enumerate(audio):
        mel_db = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, n_mels=64), top_db=None)
        ref = librosa.feature.mfcc(S=mel_db, n_mfcc=13)
        np.testing.assert_allclose(ours[i].numpy(), ref, rtol=1e-3, atol=1e-2)


def test_mfcc_tells_different_timbres_apart():
    log_mel = Frontend(MelSpectrogram(sample_rate=SR, n_mels=40), LogCompression(mode="db"))(
        torch.from_numpy(_tones()))
    stats = frame_statistics(MFCC(n_mels=40, n_mfcc=20)(log_mel))
    assert not torch.allclose(stats[0], stats[1], atol=1.0)


def test_frame_statistics_are_means_then_population_stds():
    x = torch.tensor([[[1.0, 3.0], [2.0, 2.0]]])  # (1 clip, 2 coefficients, 2 frames)
    assert torch.equal(frame_statistics(x), torch.tensor([[2.0, 2.0, 1.0, 0.0]]))
    x = torch.randn(4, 7, 33)
    stats = frame_statistics(x)
    assert stats.shape == (4, 14)
    np.testing.assert_allclose(stats[:, 7:].numpy(), x.numpy().std(axis=2), rtol=1e-5)


@pytest.mark.parametrize(
    "options, message",
    [({"n_mfcc": 0}, "n_mfcc must be a positive int"), ({"n_mels": 10, "n_mfcc": 20}, "at most n_mels"),
     ({"n_mels": 2.5}, "n_mels must be a positive int")],
)
def test_bad_mfcc_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        MFCC(**options)


@pytest.mark.parametrize(
    "bad, message",
    [(torch.zeros(64, 10), r"shape \(batch, 64, frames\)"), (torch.zeros(1, 40, 10), r"got shape \(1, 40, 10\)"),
     (torch.zeros(1, 64, 10, dtype=torch.int64), "float torch.Tensor"), (np.zeros((1, 64, 10)), "ndarray"),
     (torch.full((1, 64, 10), float("nan")), "finite"), (torch.zeros(1, 64, 0), "one frame")],
)
def test_bad_mfcc_input_is_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        MFCC(n_mels=64)(bad)


def test_frame_statistics_refuses_a_single_matrix():
    with pytest.raises(ValueError, match="unsqueeze"):
        frame_statistics(torch.zeros(20, 10))
