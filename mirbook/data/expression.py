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
    """Fractional MIDI pitch per sample (float64) for a legato phrase of ``notes``.

    The target pitch steps from note to note and is smoothed by a one-pole glide of time
    constant ``glide`` seconds (portamento); vibrato of ``vibrato_depth`` semitones at about
    ``vibrato_rate`` Hz fades in ``vibrato_delay`` seconds into each note; a slow random
    ``jitter_cents`` wobble keeps it from sounding mechanical. Samples before the first note
    hold its pitch, samples after the last hold the last.
    """
    onsets = np.array([max(0, int(round(n.start * sample_rate)) - start_sample) for n in notes])
    onsets[0] = 0
    onsets = np.minimum(onsets, n_samples)
    bounds = np.append(onsets, n_samples)
    lengths = np.diff(bounds)
    target = np.repeat(np.array([n.pitch for n in notes], dtype=np.float64), lengths)
    # time since the current note began, for the delayed vibrato onset
    since = np.arange(n_samples, dtype=np.float64) - np.repeat(bounds[:-1], lengths)
    fade = np.clip((since - vibrato_delay * sample_rate) / (0.25 * sample_rate), 0.0, 1.0)
    pole = np.exp(-1.0 / max(glide * sample_rate, 1.0))
    smooth, _ = signal.lfilter([1 - pole], [1, -pole], target, zi=[pole * target[0]])
    t = np.arange(n_samples) / sample_rate
    rate = vibrato_rate * (1 + 0.04 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t + rng.uniform(0, 6.3)))
    phase = 2 * np.pi * np.cumsum(rate) / sample_rate + rng.uniform(0, 2 * np.pi)
    steps = max(2, n_samples // 512 + 2)
    wobble = np.interp(np.arange(n_samples), np.linspace(0, n_samples, steps), rng.standard_normal(steps))
    return smooth + vibrato_depth * fade * np.sin(phase) + (jitter_cents / 100.0) * wobble


def harmonic_source(f0: np.ndarray, sample_rate: int, amplitudes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A harmonic tone following the f0 curve ``f0`` (Hz per sample): sum_k a_k sin(k phi(t)).

    One period is written into a 2048-point wavetable and read at the running phase (linear
    interpolation), which costs a few operations per sample instead of one sine per harmonic.
    Harmonics at or above 0.47 * sample_rate at the phrase's highest f0 are left out of the
    table, so the tone is band-limited (no aliasing).
    """
    k_max = int(min(len(amplitudes), 0.47 * sample_rate // max(float(f0.max()), 1.0)))
    size = 2048
    grid = np.arange(size) * (2 * np.pi / size)
    k = np.arange(1, k_max + 1)
    table = (np.asarray(amplitudes[:k_max])[:, None] * np.sin(k[:, None] * grid[None, :])).sum(axis=0)
    table = np.append(table, table[0]).astype(np.float32)
    cycles = np.cumsum(f0) / sample_rate + rng.uniform(0, 1)
    # float32 rounding can turn a phase just below one cycle into exactly `size`: wrap it to 0
    position = ((cycles - np.floor(cycles)) * size).astype(np.float32) % np.float32(size)
    index = position.astype(np.int32)
    frac = position - index
    return table[index] * (1 - frac) + table[index + 1] * frac
