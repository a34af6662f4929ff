"""The singing voice of the embedded music world: a source-filter model of sung syllables.

A glottal source (harmonics with a spectral tilt, plus pulsed aspiration noise: breathiness)
follows an expressive f0 curve (portamento, delayed vibrato, jitter) and passes through a
cascade of formant resonators that change with every syllable's vowel; consonants are noise
bursts (s, sh, f, h, t, k, p) or voiced murmurs (m, n, l, r, w, y, d) in front of the vowel.
Formants that move from syllable to syllable and consonants are what separates a voice from the
hard-negative leads, which also glide and have vibrato (paper Section 5.7.2-5.7.3, singing-voice
detection; book: "The data in this book").
"""

from __future__ import annotations

import numpy as np
from scipy import signal
from scipy.ndimage import uniform_filter1d

from mirbook.data.expression import harmonic_source, pitch_contour
from mirbook.data.instruments import midi_to_hz
from mirbook.data.score import Part

__all__ = ["SingingVoice", "VOWELS", "split_syllable"]

#: Formant frequencies F1-F4 (Hz) of the sung vowels, for an average adult voice.
VOWELS = {
    "a": (750.0, 1150.0, 2600.0, 3300.0),
    "e": (500.0, 1800.0, 2550.0, 3400.0),
    "i": (300.0, 2250.0, 2950.0, 3500.0),
    "o": (520.0, 850.0, 2500.0, 3300.0),
    "u": (320.0, 800.0, 2350.0, 3300.0),
}
_BANDWIDTHS = (80.0, 100.0, 140.0, 180.0)

# voiced consonants: formants and level relative to a vowel
_VOICED = {
    "m": ((260.0, 1000.0, 2300.0, 3300.0), 0.25),
    "n": ((260.0, 1500.0, 2500.0, 3300.0), 0.25),
    "l": ((360.0, 1200.0, 2600.0, 3300.0), 0.5),
    "r": ((420.0, 1300.0, 1700.0, 3300.0), 0.45),
    "w": ((320.0, 750.0, 2300.0, 3300.0), 0.5),
    "y": ((300.0, 2100.0, 2900.0, 3500.0), 0.5),
    "d": ((300.0, 1700.0, 2600.0, 3300.0), 0.3),
}
# unvoiced consonants: noise band (Hz), duration (s), level
_UNVOICED = {
    "s": ((4500.0, 9500.0), 0.09, 0.35),
    "sh": ((1800.0, 4500.0), 0.09, 0.35),
    "f": ((1000.0, 8000.0), 0.07, 0.15),
    "h": ((500.0, 4000.0), 0.06, 0.12),
    "t": ((3000.0, 9000.0), 0.025, 0.5),
    "k": ((1500.0, 3500.0), 0.03, 0.45),
    "p": ((200.0, 1500.0), 0.02, 0.45),
}


def split_syllable(syllable: str) -> tuple[str, str]:
    """('sh', 'i') for 'shi'; ('', 'a') for 'a'; ('', '-') for a melisma continuation."""
    if syllable == "-":
        return "", "-"
    vowel = syllable[-1]
    if vowel not in VOWELS:
        raise ValueError(f"a syllable must end in one of the vowels {sorted(VOWELS)}; got {syllable!r}")
    return syllable[:-1], vowel


def _formant_sos(formants, sample_rate: int, scale: float) -> np.ndarray:
    """Cascade of two-pole resonators, each normalised to unit gain at DC."""
    rows = []
    for f, b in zip(formants, _BANDWIDTHS):
        f = min(f * scale, 0.45 * sample_rate)
        r = np.exp(-np.pi * b / sample_rate)
        c = -2 * r * np.cos(2 * np.pi * f / sample_rate)
        rows.append([1 + c + r * r, 0.0, 0.0, 1.0, c, r * r])
    return np.array(rows)


class SingingVoice:
    """One singer of one song: voice type, vibrato, breathiness; renders the 'vocals' part.

    ``render`` returns the dry vocal track, the f0 per sample (0 where unvoiced) and the vocal
    activity intervals (seconds): exactly the samples where the track is non-zero.
    """

    def __init__(self, rng: np.random.Generator, sample_rate: int, tuning_cents: float, *, register: float):
        self.rng = rng
        self.sample_rate = sample_rate
        self.tuning_cents = tuning_cents
        # higher voices have shorter vocal tracts: formants scale with the register
        self.formant_scale = float(np.clip(0.9 + (register - 48) / 9 * 0.1 + rng.uniform(-0.04, 0.04), 0.85, 1.2))
        self.vibrato_rate = rng.uniform(4.8, 6.5)
        self.vibrato_depth = rng.uniform(0.2, 0.55)
        self.vibrato_delay = rng.uniform(0.12, 0.3)
        self.glide = rng.uniform(0.03, 0.07)
        self.breath = rng.uniform(0.04, 0.15)
        self.tilt = rng.uniform(1.0, 1.5)
        self.vowel_sos = {v: _formant_sos(f, sample_rate, self.formant_scale) for v, f in VOWELS.items()}
        self.voiced_sos = {c: (_formant_sos(f, sample_rate, self.formant_scale), g) for c, (f, g) in _VOICED.items()}
        self.noise = {}
        for c, ((lo, hi), _, _) in _UNVOICED.items():
            sos = signal.butter(2, [lo, min(hi, 0.45 * sample_rate)], "bandpass", fs=sample_rate, output="sos")
            burst = signal.sosfilt(sos, rng.standard_normal(int(0.3 * sample_rate)))
            self.noise[c] = (burst / np.abs(burst).max()).astype(np.float32)

    def render(self, part: Part, n_samples: int) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
        """Sing every phrase of ``part``: (track, f0 per sample in Hz, activity intervals)."""
        sr = self.sample_rate
        track = np.zeros(n_samples, dtype=np.float32)
        f0_track = np.zeros(n_samples, dtype=np.float32)
        intervals = []
        for p_start, p_end in part.phrases:
            notes = [n for n in part.notes if p_start - 1e-6 <= n.start < p_end - 1e-6]
            if not notes:
                continue
            a, b = self._render_phrase(notes, p_end, track, f0_track)
            intervals.append((a / sr, b / sr))
        return track, f0_track, intervals

    def _render_phrase(self, notes, p_end, track, f0_track) -> tuple[int, int]:
        sr = self.sample_rate
        rng = self.rng
        release = int(rng.uniform(0.06, 0.12) * sr)
        # consonant lengths decide where the phrase begins (a consonant precedes its note)
        consonants = [split_syllable(n.syllable)[0] for n in notes]
        c_len = [int(_UNVOICED[c][1] * sr) if c in _UNVOICED else int(0.05 * sr) if c in _VOICED else 0
                 for c in consonants]
        start = int(round(notes[0].start * sr)) - c_len[0]
        stop = min(int(round(p_end * sr)) + release, track.size)
        n = stop - start
        contour = pitch_contour(notes, start, n, sr, rng, vibrato_rate=self.vibrato_rate,
                                vibrato_depth=self.vibrato_depth, vibrato_delay=self.vibrato_delay,
                                glide=self.glide, jitter_cents=8.0)
        f0 = midi_to_hz(contour, self.tuning_cents)
        k = np.arange(1, 41)
        source = harmonic_source(f0, sr, k ** -self.tilt, rng)
        source /= np.abs(source).max() + 1e-9
        phase = np.cos((2 * np.pi / sr) * np.cumsum(f0))
        source += (self.breath * (0.6 + 0.4 * phase) * rng.standard_normal(n)).astype(np.float32)

        # segments: (start, stop, filter, level) — consonant murmurs and vowels; unvoiced gaps
        gate = np.ones(n, dtype=np.float32)
        out = np.zeros(n, dtype=np.float32)
        segments = []
        bursts = []
        vowel = "a"
        for i, note in enumerate(notes):
            onset = int(round(note.start * sr)) - start
            consonant, v = split_syllable(note.syllable)
            vowel = vowel if v == "-" else v
            c0 = onset - c_len[i]
            if consonant in _VOICED:
                segments.append((c0, onset, *self.voiced_sos[consonant]))
            elif consonant in _UNVOICED:
                gate[max(c0, 0):onset] = 0.0
                bursts.append((c0, onset, consonant))
            end = (int(round(notes[i + 1].start * sr)) - start - c_len[i + 1]) if i + 1 < len(notes) else n
            segments.append((onset, end, self.vowel_sos[vowel], 1.0 * note.velocity))
        xf = int(0.015 * sr)
        # smooth the voicing gate (5 ms) so unvoiced gaps do not click
        gate = uniform_filter1d(gate, max(1, int(0.005 * sr)), mode="nearest")
        voiced = source * gate
        for s, e, sos, level in segments:
            if e <= s:
                continue
            a, b = max(0, s - xf), min(n, e + xf)
            filtered = signal.sosfilt(sos, voiced[a:b]).astype(np.float32)
            idx = np.arange(a, b, dtype=np.float32)
            w = np.ones(b - a, dtype=np.float32)
            if s > 0:
                w *= np.clip((idx - (s - xf)) / (2 * xf), 0, 1)
            if e < n:
                w *= np.clip(((e + xf) - idx) / (2 * xf), 0, 1)
            out[a:b] += np.float32(level) * w * filtered
        out /= np.abs(out).max() + 1e-9
        for s, e, consonant in bursts:
            s = max(s, 0)
            length = e - s
            if length <= 0:
                continue
            noise = self.noise[consonant]
            offset = int(rng.integers(0, noise.size - length))
            env = np.minimum(1.0, np.minimum(np.arange(length), np.arange(length)[::-1]) / max(1, length // 4))
            out[s:e] += _UNVOICED[consonant][2] * env.astype(np.float32) * noise[offset:offset + length]
        # phrase envelope: attack on the first sound, release after the last note
        env = np.ones(n, dtype=np.float32)
        att = int(0.02 * sr)
        env[:att] = np.linspace(0, 1, att, dtype=np.float32)
        env[n - release:] = np.linspace(1, 0, release, endpoint=False, dtype=np.float32)[: release]
        out *= env
        track[start:stop] += out
        f0_track[start:stop] = np.where(gate > 0.5, f0, 0.0)
        return start, stop
