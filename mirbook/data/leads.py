"""Non-vocal melodic leads: the hard negatives of singing-voice detection.

A violin (bowed sawtooth through a fixed body resonance, bow noise), a flute (few partials,
strong breath noise, tonguing) and a synth lead (bright, gliding) play melodies in the vocal
range with portamento and vibrato, like a singer. What they lack are the moving formants and the
consonants of sung syllables, so a detector must learn the voice, not "any vibrato"
(paper Section 5.7.2-5.7.3; book: "The data in this book", "Singing-voice detection" chapters).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from mirbook.data.expression import harmonic_source, pitch_contour
from mirbook.data.instruments import midi_to_hz
from mirbook.data.score import Part

__all__ = ["LeadSynth", "LEADS"]

LEADS = ("violin", "flute", "synth_lead")


class LeadSynth:
    """A lead instrument of one song; ``render`` plays the 'lead' part phrase by phrase.

    Returns the dry track and the intervals (seconds) where it sounds.
    """

    def __init__(self, instrument: str, rng: np.random.Generator, sample_rate: int, tuning_cents: float):
        if instrument not in LEADS:
            raise ValueError(f"unknown lead instrument {instrument!r}; expected one of {LEADS}")
        self.instrument = instrument
        self.rng = rng
        self.sample_rate = sample_rate
        self.tuning_cents = tuning_cents
        sr = sample_rate
        k = np.arange(1, 41, dtype=float)
        if instrument == "violin":
            self.amplitudes = 1.0 / k
            self.vibrato = (rng.uniform(5.5, 7.0), rng.uniform(0.15, 0.4), rng.uniform(0.1, 0.25))
            self.glide = rng.uniform(0.015, 0.04)
            self.noise_level = rng.uniform(0.02, 0.05)
            body = [(rng.uniform(270, 300), 60), (rng.uniform(420, 560), 120), (rng.uniform(2500, 3200), 900)]
            self.body = self._peaks(body)
            self.noise_band = (2000.0, 7000.0)
        elif instrument == "flute":
            self.amplitudes = np.zeros(k.size)
            self.amplitudes[:5] = [1.0, rng.uniform(0.2, 0.5), rng.uniform(0.08, 0.2), 0.05, 0.02]
            self.vibrato = (rng.uniform(4.5, 5.5), rng.uniform(0.08, 0.25), rng.uniform(0.15, 0.35))
            self.glide = rng.uniform(0.01, 0.025)
            self.noise_level = rng.uniform(0.06, 0.14)
            self.body = None
            self.noise_band = (1000.0, 6000.0)
        else:
            self.amplitudes = (1.0 / k) * np.exp(-k / rng.uniform(6, 14))
            self.vibrato = (rng.uniform(5.0, 6.5), rng.uniform(0.15, 0.45), rng.uniform(0.15, 0.3))
            self.glide = rng.uniform(0.03, 0.08)
            self.noise_level = 0.0
            self.body = None
            self.noise_band = (1000.0, 6000.0)
        sos = signal.butter(2, [self.noise_band[0], min(self.noise_band[1], 0.45 * sr)], "bandpass", fs=sr,
                            output="sos")
        noise = signal.sosfilt(sos, rng.standard_normal(int(1.0 * sr)))
        self.noise = (noise / np.abs(noise).max()).astype(np.float32)

    def _peaks(self, peaks) -> np.ndarray:
        """Fixed body resonances as a sum of band-pass sections (the same for every note)."""
        sos = []
        for f, bw in peaks:
            lo, hi = max(f - bw / 2, 20.0), min(f + bw / 2, 0.45 * self.sample_rate)
            sos.append(signal.butter(1, [lo, hi], "bandpass", fs=self.sample_rate, output="sos"))
        return sos

    def render(self, part: Part, n_samples: int) -> tuple[np.ndarray, list[tuple[float, float]]]:
        """Play every phrase of ``part``: (track, sounding intervals in seconds)."""
        sr = self.sample_rate
        track = np.zeros(n_samples, dtype=np.float32)
        intervals = []
        for p_start, p_end in part.phrases:
            notes = [n for n in part.notes if p_start - 1e-6 <= n.start < p_end - 1e-6]
            if not notes:
                continue
            release = int(self.rng.uniform(0.05, 0.1) * sr)
            start = int(round(notes[0].start * sr))
            stop = min(int(round(p_end * sr)) + release, n_samples)
            n = stop - start
            rate, depth, delay = self.vibrato
            contour = pitch_contour(notes, start, n, sr, self.rng, vibrato_rate=rate, vibrato_depth=depth,
                                    vibrato_delay=delay, glide=self.glide, jitter_cents=4.0)
            f0 = midi_to_hz(contour, self.tuning_cents)
            tone = harmonic_source(f0, sr, self.amplitudes, self.rng)
            if self.body is not None:
                tone = 0.3 * tone + sum(signal.sosfilt(s, tone) for s in self.body).astype(np.float32)
            tone /= np.abs(tone).max() + 1e-9
            offset = int(self.rng.integers(0, max(1, self.noise.size - n)))
            noise = np.resize(self.noise[offset:], n)
            tone += np.float32(self.noise_level) * noise
            # articulation: a short dip at each re-bowed / re-tongued note, phrase attack and release
            env = np.ones(n, dtype=np.float32)
            dip = int(0.03 * sr)
            for note in notes[1:]:
                if self.rng.random() < 0.5:
                    a = int(round(note.start * sr)) - start
                    if dip < a < n - dip:
                        env[a - dip:a + dip] *= 1 - 0.5 * np.hanning(2 * dip).astype(np.float32)
            attack = int((0.06 if self.instrument == "violin" else 0.03) * sr)
            env[:attack] *= np.linspace(0, 1, attack, dtype=np.float32)
            env[n - release:] *= np.linspace(1, 0, release, endpoint=False, dtype=np.float32)
            track[start:stop] += tone * env
            intervals.append((start / sr, stop / sr))
        return track, intervals
