"""Expressive pitch for the melodic parts: portamento, vibrato and jitter on a note sequence.

The singing voice and the non-vocal leads (violin, flute, synth lead) share this: both glide
between notes and both have vibrato, so a voice detector cannot rely on vibrato alone (the hard
negatives of paper Section 5.7.2-5.7.3; book: "The data in this book").
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from mirbook.data.score import Note

__all__ = ["pitch_contour", "harmonic_source"]


def pitch_contour(notes: list[Note], start_sample: int, n_samples: int, sample_rate: int,
                  rng: np.random.Generator, *, vibrato_rate: float, vibrato_depth: float,
                  vibrato_delay: float, glide: float, jitter_cents: float) -> np.ndarray:
    """Fractional MIDI pitch per sample for a legato phrase of ``notes``.

    The target pitch steps from note to note and is smoothed by a one-pole glide of time
    constant ``glide`` seconds (portamento); vibrato of ``vibrato_depth`` semitones at about
    ``vibrato_rate`` Hz fades in ``vibrato_delay`` seconds into each note; a slow random
    ``jitter_cents`` wobble keeps it from sounding mechanical. Samples before the first note
    hold its pitch, samples after the last hold the last.
    """
    target = np.empty(n_samples, dtype=np.float64)
    fade = np.zeros(n_samples, dtype=np.float64)
    target[:] = notes[0].pitch
    ramp = max(1, int(0.25 * sample_rate))
    for note in notes:
        a = max(0, int(round(note.start * sample_rate)) - start_sample)
        target[a:] = note.pitch
        d = a + int(vibrato_delay * sample_rate)
        if d < n_samples:
            length = n_samples - d
            fade[d:] = np.minimum(np.arange(length) / ramp, 1.0)
        fade[a:d] = 0.0
    pole = np.exp(-1.0 / max(glide * sample_rate, 1.0))
    smooth, _ = signal.lfilter([1 - pole], [1, -pole], target, zi=[pole * target[0]])
    t = np.arange(n_samples) / sample_rate
    rate = vibrato_rate * (1 + 0.04 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t + rng.uniform(0, 6.3)))
    phase = 2 * np.pi * np.cumsum(rate) / sample_rate + rng.uniform(0, 2 * np.pi)
    vibrato = vibrato_depth * fade * np.sin(phase)
    steps = max(2, n_samples // 512 + 2)
    wobble = np.interp(np.arange(n_samples), np.linspace(0, n_samples, steps), rng.standard_normal(steps))
    return (smooth + vibrato + jitter_cents / 100.0 * wobble).astype(np.float64)


def harmonic_source(f0: np.ndarray, sample_rate: int, amplitudes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A harmonic tone following the f0 curve ``f0`` (Hz per sample): sum_k a_k sin(k phi(t)).

    Harmonics at or above 0.47 * sample_rate at the phrase's highest f0 are left out, so the
    tone is band-limited (no aliasing).
    """
    phase = (2 * np.pi / sample_rate) * np.cumsum(f0) + rng.uniform(0, 2 * np.pi)
    k_max = int(min(len(amplitudes), 0.47 * sample_rate // max(float(f0.max()), 1.0)))
    out = np.zeros(f0.size, dtype=np.float32)
    phase32 = np.mod(phase, 2 * np.pi).astype(np.float32)  # small angles keep float32 exact
    for k in range(1, k_max + 1):
        out += np.float32(amplitudes[k - 1]) * np.sin(np.float32(k) * phase32)
    return out
