"""Mixing the stems of a song: levels, room reverb, EQ, loudness and background noise.

The studio stage of the embedded music world (book: "The data in this book"): the dry stems are
balanced, summed, sent through a synthetic room (an exponentially decaying noise impulse
response with a per-song RT60), filtered by a gentle random EQ, normalised to a random loudness
and given a noise floor, so no two songs share a room or a microphone.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

__all__ = ["active_rms", "room_impulse_response", "apply_room", "apply_eq", "add_noise"]


def active_rms(x: np.ndarray, *, threshold: float = 1e-4) -> float:
    """RMS over the samples where ``x`` sounds (|x| > ``threshold`` x peak); 0 for silence."""
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak == 0.0:
        return 0.0
    active = np.count_nonzero(np.abs(x) > threshold * peak)
    return float(np.sqrt(np.dot(x, x) / active))


def room_impulse_response(rng: np.random.Generator, sample_rate: int, rt60: float) -> np.ndarray:
    """A diffuse room: a few early reflections, then noise decaying by 60 dB in ``rt60`` seconds."""
    if rt60 <= 0:
        raise ValueError(f"rt60 must be positive seconds; got {rt60}")
    n = int(rt60 * sample_rate)
    t = np.arange(n) / sample_rate
    ir = rng.standard_normal(n) * np.exp(-6.91 * t / rt60)
    # high frequencies die faster: a one-pole low-pass over the tail
    ir = signal.lfilter([0.4], [1, -0.6], ir)
    for delay in rng.uniform(0.005, 0.04, 4):
        ir[int(delay * sample_rate)] += rng.uniform(0.3, 0.8) * np.sqrt(n / sample_rate)
    ir[0] = 0.0
    return (ir / np.sqrt(np.sum(ir**2))).astype(np.float32)


def apply_room(x: np.ndarray, ir: np.ndarray, wet: float) -> np.ndarray:
    """``x`` plus ``wet`` times its convolution with the room's impulse response (same length)."""
    reverb = signal.oaconvolve(x, ir)[: x.size]
    return (x + np.float32(wet) * reverb.astype(np.float32)).astype(np.float32)


def apply_eq(x: np.ndarray, sample_rate: int, *, low_cut: float, high_cut: float) -> np.ndarray:
    """First-order high-pass at ``low_cut`` Hz and low-pass at ``high_cut`` Hz (a microphone/room colour)."""
    sos = np.vstack([
        signal.butter(1, low_cut, "highpass", fs=sample_rate, output="sos"),
        signal.butter(1, min(high_cut, 0.45 * sample_rate), "lowpass", fs=sample_rate, output="sos"),
    ])
    return signal.sosfilt(sos, x).astype(np.float32)


def add_noise(x: np.ndarray, rng: np.random.Generator, *, snr_db: float, reference_rms: float) -> np.ndarray:
    """Add pinkish (1/f-tilted) background noise ``snr_db`` below ``reference_rms``."""
    white = rng.standard_normal(x.size, dtype=np.float32)
    pink = signal.lfilter(np.array([0.05, -0.04], dtype=np.float32), np.array([1, -0.95], dtype=np.float32), white)
    pink *= np.float32(reference_rms * 10 ** (-snr_db / 20) / (np.sqrt(np.dot(pink, pink) / pink.size) + 1e-12))
    return (x + pink).astype(np.float32)
