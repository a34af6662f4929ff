"""Resampling between any two sample rates: reader's audio in ``mirbook.predict``, real datasets.

Between rates with a small ratio (44.1 or 48 kHz to 22.05 kHz, 16 kHz ...) this is
``torchaudio.functional.resample``: a windowed-sinc kernel with one phase per output sample of
the reduced ratio ``new/gcd : orig/gcd``. For rates with no large common factor (44101 Hz,
7919 Hz) that kernel grows to ``orig * new / gcd**2`` taps (gigabytes), so there the audio goes
through soxr's polyphase resampler (librosa's default, ``res_type="soxr_hq"``), which costs about
the same whatever the ratio. Either way ``n`` samples become ``ceil(n * new / orig)``.
"""

from __future__ import annotations

import math

import numpy as np
import soxr
import torch
import torchaudio

from mirbook.checks import as_waveform_batch, check_sample_rate

__all__ = ["resample", "SINC_KERNEL_LIMIT"]

#: The largest torchaudio kernel (taps, over all phases) used; 48 kHz -> 22.05 kHz needs about 51 000.
SINC_KERNEL_LIMIT = 2**20

_LOWPASS_FILTER_WIDTH = 6  # torchaudio's default zero crossings, also in its kernel size below
_ROLLOFF = 0.99  # torchaudio's default


def _sinc_kernel_taps(orig: int, new: int) -> int:
    """Taps of torchaudio's resampling kernel from ``orig`` to ``new`` Hz (its default settings)."""
    gcd = math.gcd(orig, new)
    orig, new = orig // gcd, new // gcd
    width = math.ceil(_LOWPASS_FILTER_WIDTH * orig / (min(orig, new) * _ROLLOFF))
    return new * (orig + 2 * width)


def resample(waveform, orig_sample_rate: int, sample_rate: int) -> torch.Tensor:
    """``waveform`` ``(samples,)`` or ``(batch, samples)`` at ``orig_sample_rate`` Hz, resampled to ``sample_rate``.

    Returns a float tensor ``(batch, ceil(samples * sample_rate / orig_sample_rate))`` on the
    input's device (batch of one for 1-D input). Used by ``mirbook.predict`` and by the real
    datasets' ``load_audio`` (book: "The data in this book").
    """
    orig_sample_rate = check_sample_rate(orig_sample_rate, name="orig_sample_rate")
    sample_rate = check_sample_rate(sample_rate)
    x = as_waveform_batch(waveform)
    if x.dtype not in (torch.float32, torch.float64):
        x = x.float()
    if orig_sample_rate == sample_rate:
        return x
    n_out = math.ceil(x.shape[-1] * sample_rate / orig_sample_rate)
    if n_out < 1:
        raise ValueError(f"waveform is too short to resample: {x.shape[-1]} samples at {orig_sample_rate} Hz "
                         f"give none at {sample_rate} Hz")
    if _sinc_kernel_taps(orig_sample_rate, sample_rate) <= SINC_KERNEL_LIMIT:
        return torchaudio.functional.resample(x, orig_sample_rate, sample_rate)
    channels = x.detach().cpu().numpy().T  # soxr reads (samples, channels)
    y = soxr.resample(np.ascontiguousarray(channels), orig_sample_rate, sample_rate, quality="HQ")
    y = np.ascontiguousarray(y.reshape(len(y), x.shape[0]).T)[:, :n_out]
    y = np.pad(y, ((0, 0), (0, n_out - y.shape[1])))  # soxr may end a sample short; librosa pads the same
    return torch.from_numpy(y).to(x.device)
