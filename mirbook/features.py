"""Hand-crafted features of the conventional pipeline, paper Section 2.1 and Figure 2 (a).

A conventional MIR system fixes its features by design and learns only the classifier on top:
the classic example is MFCCs summarised over a clip by their mean and standard deviation, fed
to a logistic regression. This module computes those features from the same log-mel batches
the end-to-end networks read, so a book chapter can compare both approaches on identical
inputs. Book chapter: ``book/deep_learning.ipynb`` ("Deep learning", conventional machine
learning versus deep learning).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import torch
from torch import nn

from mirbook.checks import check_finite

__all__ = ["MFCC", "frame_statistics"]


def _check_batch(x, *, name: str, n_bins: int | None = None) -> torch.Tensor:
    expected = f"(batch, {n_bins if n_bins is not None else 'bins'}, frames)"
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        what = f"{type(x).__name__}" + (f" of dtype {x.dtype}" if isinstance(x, torch.Tensor) else "")
        raise ValueError(f"{name} must be a float torch.Tensor of shape {expected}; got {what}")
    if x.dim() != 3:
        raise ValueError(f"{name} must have shape {expected}; got shape {tuple(x.shape)}. "
                         "A single example needs x.unsqueeze(0).")
    if n_bins is not None and x.shape[1] != n_bins:
        raise ValueError(f"{name} must have shape {expected}; got shape {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[2] == 0:
        raise ValueError(f"{name} must hold at least one example and one frame; got shape {tuple(x.shape)}")
    check_finite(x, name=name)
    return x


class MFCC(nn.Module):
    """Mel-frequency cepstral coefficients of a log-mel spectrogram (Section 2.1, Figure 2 (a)).

    The orthonormal type-II discrete cosine transform along the mel axis, keeping the first
    ``n_mfcc`` coefficients: with a decibel mel spectrogram as input (``Frontend(MelSpectrogram(),
    LogCompression(mode="db"))``) it equals ``librosa.feature.mfcc(S=...)``. Maps
    ``(batch, n_mels, frames)`` to ``(batch, n_mfcc, frames)``; float32, CPU or CUDA (the DCT
    matrix is a buffer). Chapter: "Deep learning" (the MFCC + logistic regression baseline).

    Keyword-only options (defaults): ``n_mels=128`` (the input's bins), ``n_mfcc=20``.
    """

    def __init__(self, *, n_mels: int = 128, n_mfcc: int = 20) -> None:
        super().__init__()
        for value, name in ((n_mels, "n_mels"), (n_mfcc, "n_mfcc")):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{name} must be a positive int; got {value!r}")
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc must be at most n_mels = {n_mels}; got {n_mfcc}")
        self.n_mels, self.n_mfcc = int(n_mels), int(n_mfcc)
        basis = scipy.fft.dct(np.eye(self.n_mels), type=2, norm="ortho", axis=0)[: self.n_mfcc]
        self.register_buffer("basis", torch.from_numpy(basis).float(), persistent=False)  # (n_mfcc, n_mels)

    def forward(self, log_mel: torch.Tensor) -> torch.Tensor:
        log_mel = _check_batch(log_mel, name="log_mel", n_bins=self.n_mels)
        return torch.matmul(self.basis.to(log_mel.dtype), log_mel)

    def extra_repr(self) -> str:
        return f"n_mels={self.n_mels}, n_mfcc={self.n_mfcc}"


def frame_statistics(features: torch.Tensor) -> torch.Tensor:
    """Summarise frame-wise features over time by their mean and standard deviation (Section 2.1).

    ``(batch, coefficients, frames)`` -> ``(batch, 2 * coefficients)``: the means of every
    coefficient, then their (population) standard deviations. The fixed-size, bag-of-frames
    summary that lets a clip-level classifier such as logistic regression read a clip of any
    length. Chapter: "Deep learning" (the MFCC + logistic regression baseline).
    """
    features = _check_batch(features, name="features")
    return torch.cat([features.mean(dim=2), features.std(dim=2, unbiased=False)], dim=1)
