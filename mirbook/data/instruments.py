"""Accompaniment instruments and drums of the embedded music world, synthesised in numpy.

No samples and no system packages: piano-like tones are sums of slightly inharmonic partials
that decay faster the higher they are; guitar and bass are plucked strings (Karplus & Strong
1983, computed one period at a time); organ, strings, pads, brass and synths are additive tones
with their own spectra and envelopes; drums are swept sines and filtered noise. Every song draws
its own timbre parameters, so no two pianos are identical. Each synthesiser renders a note once
per (pitch, length, velocity step) and reuses it, which is what makes rendering much faster than
real time. Book: "The data in this book".
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from mirbook.data.score import DrumHit, Note

__all__ = ["midi_to_hz", "karplus_strong", "NoteSynth", "make_synth", "render_notes", "DrumKit", "SYNTHS"]

_TWO_PI = np.float32(2 * np.pi)


def midi_to_hz(pitch, tuning_cents: float = 0.0):
    """Frequency in Hz of a (fractional) MIDI pitch, A4 = 440 Hz shifted by ``tuning_cents``."""
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=float) - 69.0 + tuning_cents / 100.0) / 12.0)


def karplus_strong(frequency: float, n_samples: int, sample_rate: int, *, decay: float, brightness: float,
                   rng: np.random.Generator) -> np.ndarray:
    """A plucked string (Karplus & Strong 1983): a noise burst circulating in a damped delay line.

    The delay line is updated one period at a time (a vectorised numpy step per period), with
    the two-point average as loss filter and ``decay`` as the loop gain. The integer period
    tunes the string too low or high by up to a few percent, so the output is resampled to the
    exact frequency. ``brightness`` in (0, 1] low-passes the excitation (a softer pluck).
    """
    period_exact = sample_rate / frequency
    period = max(2, int(period_exact))
    ratio = period / period_exact  # > 1 means the integer-period string is flat: read it faster
    n_raw = int(np.ceil(n_samples * ratio)) + 2
    n_periods = n_raw // period + 2
    excitation = rng.uniform(-1.0, 1.0, period)
    if brightness < 1.0:
        excitation = signal.lfilter([brightness], [1.0, brightness - 1.0], excitation)
    excitation -= excitation.mean()
    out = np.empty((n_periods, period))
    out[0] = excitation
    previous_last = 0.0
    for k in range(1, n_periods):
        prev = out[k - 1]
        shifted = np.empty(period)
        shifted[0] = previous_last
        shifted[1:] = prev[:-1]
        previous_last = prev[-1]
        out[k] = decay * 0.5 * (prev + shifted)
    flat = out.reshape(-1)
    positions = np.arange(n_samples) * ratio
    return np.interp(positions, np.arange(flat.size), flat).astype(np.float32)


def _envelope(n: int, sample_rate: int, attack: float, release: float, sustain_n: int) -> np.ndarray:
    """Linear attack, flat sustain for ``sustain_n`` samples in total, linear release."""
    env = np.ones(n, dtype=np.float32)
    a = max(1, min(int(attack * sample_rate), n))
    env[:a] = np.linspace(0.0, 1.0, a, dtype=np.float32)
    r = n - sustain_n
    if r > 0:
        env[sustain_n:] *= np.linspace(1.0, 0.0, r, dtype=np.float32)
    return env


class NoteSynth:
    """One instrument of one song: draws its timbre from ``rng`` and renders notes.

    A subclass implements ``_ring(frequency, n, velocity)``: the note as it would sound if held
    for ``n`` samples, without its attack and release. The ring is computed once per
    (pitch, velocity step), grown when a longer note needs it, and each note is a slice of it
    shaped by the instrument's ``attack`` and ``release`` (seconds): the reuse is what makes
    rendering much faster than real time.
    """

    attack = 0.003
    release = 0.05
    min_ring = 1.0

    def __init__(self, rng: np.random.Generator, sample_rate: int, tuning_cents: float):
        self.rng = rng
        self.sample_rate = sample_rate
        self.tuning_cents = tuning_cents
        self._rings: dict[tuple[int, int], np.ndarray] = {}
        self.setup()

    def setup(self) -> None:
        """Draw the per-song timbre parameters."""

    def note(self, pitch: float, duration: float, velocity: float) -> np.ndarray:
        """The waveform (float32) of one note held ``duration`` seconds, plus its release."""
        sustain_n = max(1, int(round(duration * self.sample_rate)))
        n = sustain_n + int(self.release * self.sample_rate)
        step = max(1, int(round(velocity * 8)))
        key = (int(round(pitch * 100)), step)
        ring = self._rings.get(key)
        if ring is None or ring.size < n:
            frequency = float(midi_to_hz(pitch, self.tuning_cents))
            ring = self._ring(frequency, max(n, int(self.min_ring * self.sample_rate)), step / 8.0)
            ring *= np.float32(0.5) / (np.abs(ring).max() + np.float32(1e-9))
            self._rings[key] = ring
        return ring[:n] * _envelope(n, self.sample_rate, self.attack, self.release, sustain_n)

    def _ring(self, frequency: float, n: int, velocity: float) -> np.ndarray:
        raise NotImplementedError

    def _periodic(self, base: float, harmonics, amplitudes, n: int) -> np.ndarray:
        """A steady periodic tone: partials ``harmonics`` (ints) x ``base`` Hz with ``amplitudes``.

        One period goes into an 8192-point wavetable (random partial phases; partials at or
        above 0.47 x sample rate are left out) read by a fixed-point phase accumulator: an
        integer multiply, shift and mask per sample, whatever the number of partials (the table
        is fine enough that its rounding stays near -80 dB).
        """
        harmonics = np.asarray(harmonics, dtype=float)
        keep = (harmonics * base < 0.47 * self.sample_rate) & (np.asarray(amplitudes) > 0)
        size, fraction_bits = 8192, 20
        grid = np.arange(size) * (2 * np.pi / size)
        phases = self.rng.uniform(0, 2 * np.pi, harmonics.size)[keep]
        table = (np.asarray(amplitudes, dtype=float)[keep, None]
                 * np.sin(harmonics[keep, None] * grid[None, :] + phases[:, None])).sum(axis=0).astype(np.float32)
        step = int(round(base * size / self.sample_rate * (1 << fraction_bits)))
        index = ((np.arange(n, dtype=np.int64) * step) >> fraction_bits) & (size - 1)
        return table[index]

    def _additive(self, frequencies: np.ndarray, amplitudes: np.ndarray, n: int,
                  decays: np.ndarray | None = None) -> np.ndarray:
        """Sum of sinusoids (band-limited below Nyquist), each optionally decaying exponentially."""
        t = np.arange(n, dtype=np.float32) / np.float32(self.sample_rate)
        out = np.zeros(n, dtype=np.float32)
        nyquist = 0.47 * self.sample_rate
        for k, (f, a) in enumerate(zip(frequencies, amplitudes)):
            if f >= nyquist or a <= 0:
                continue
            partial = np.sin(t * np.float32(_TWO_PI * f) + np.float32(self.rng.uniform(0, 2 * np.pi)))
            if decays is not None:
                partial *= np.exp(-np.float32(decays[k]) * t)
            out += np.float32(a) * partial
        return out


class Piano(NoteSynth):
    """Piano-like: stiff-string partials f_k = k f sqrt(1 + B k^2), faster decay up the spectrum."""

    release = 0.12

    def setup(self):
        self.inharmonicity = self.rng.uniform(5e-5, 4e-4)
        self.tilt = self.rng.uniform(0.9, 1.6)
        self.base_decay = self.rng.uniform(0.8, 2.0)

    def _ring(self, frequency, n, velocity):
        k = np.arange(1, 11)
        freqs = k * frequency * np.sqrt(1 + self.inharmonicity * k**2)
        amps = k ** -(self.tilt + 0.8 * (1 - velocity))
        decays = self.base_decay * (frequency / 261.6) ** 0.5 * (1 + 0.45 * (k - 1))
        return self._additive(freqs, amps, n, decays)


class Guitar(NoteSynth):
    """Plucked steel string (Karplus-Strong) with a per-song brightness and sustain."""

    attack = 0.001
    release = 0.06
    min_ring = 2.0

    def setup(self):
        self.decay = self.rng.uniform(0.994, 0.998)
        self.brightness = self.rng.uniform(0.45, 0.9)

    def _ring(self, frequency, n, velocity):
        return karplus_strong(frequency, n, self.sample_rate, decay=self.decay,
                              brightness=self.brightness * (0.6 + 0.4 * velocity), rng=self.rng)


class Bass(Guitar):
    """Electric bass: a darker, longer-sustaining plucked string."""

    def setup(self):
        self.decay = self.rng.uniform(0.996, 0.999)
        self.brightness = self.rng.uniform(0.15, 0.4)


class Organ(NoteSynth):
    """Drawbar organ: fixed harmonic registration, quick attack, a little tremolo."""

    attack = 0.01
    release = 0.04
    min_ring = 2.0

    def setup(self):
        self.ratios = np.array([0.5, 1, 2, 3, 4, 6, 8])
        self.levels = self.rng.uniform(0.0, 1.0, self.ratios.size) * np.array([0.6, 1, 0.8, 0.5, 0.5, 0.3, 0.3])
        self.levels[1] = 1.0
        self.tremolo = (self.rng.uniform(4.0, 7.0), self.rng.uniform(0.0, 0.15))

    def _ring(self, frequency, n, velocity):
        tone = self._periodic(frequency / 2, (2 * self.ratios).astype(int), self.levels, n)
        t = np.arange(n, dtype=np.float32) / self.sample_rate
        rate, depth = self.tremolo
        return tone * ((1 - depth) + depth * np.sin(_TWO_PI * np.float32(rate) * t))


class Strings(NoteSynth):
    """Bowed-string section: two slightly detuned sawtooth-like tones, slow attack and release."""

    release = 0.25
    min_ring = 2.0

    def setup(self):
        self.detune = self.rng.uniform(0.002, 0.006)
        self.tilt = self.rng.uniform(1.1, 1.6)
        self.attack = self.rng.uniform(0.08, 0.25)

    def _ring(self, frequency, n, velocity):
        k = np.arange(1, 16)
        amps = k ** -self.tilt
        return self._periodic(frequency * (1 + self.detune), k, amps, n) + \
            self._periodic(frequency * (1 - self.detune), k, amps, n)


class Cello(Strings):
    """Low bowed string for the bass line of chamber music."""

    release = 0.15

    def setup(self):
        super().setup()
        self.attack = self.rng.uniform(0.04, 0.1)


class Pad(NoteSynth):
    """Synth pad: detuned dark sawtooth voices, very slow attack."""

    release = 0.3
    min_ring = 2.0

    def setup(self):
        self.detune = self.rng.uniform(0.004, 0.01)
        self.attack = self.rng.uniform(0.2, 0.5)

    def _ring(self, frequency, n, velocity):
        k = np.arange(1, 10)
        amps = k ** -2.0
        return sum(self._periodic(frequency * (1 + d), k, amps, n) for d in (-self.detune, 0.0, self.detune))


class Brass(NoteSynth):
    """Brass-like: a bright attack 'blare' over a darker steady tone (upper partials swell first)."""

    release = 0.08

    def setup(self):
        self.attack = self.rng.uniform(0.03, 0.08)
        self.blare = self.rng.uniform(4.0, 10.0)

    def _ring(self, frequency, n, velocity):
        k = np.arange(1, 13)
        steady = self._periodic(frequency, k, k ** -1.8, n)
        bright = self._periodic(frequency, k, k ** -0.8, n)
        t = np.arange(n, dtype=np.float32) / self.sample_rate
        mix = np.float32(velocity) * np.exp(-np.float32(self.blare) * t)
        return steady + mix * bright


class Synth(NoteSynth):
    """Analog-style synth: sawtooth or square with a decaying low-pass 'filter' on its partials."""

    attack = 0.004
    release = 0.03

    def setup(self):
        self.square = bool(self.rng.random() < 0.5)
        self.filter_decay = self.rng.uniform(2.0, 8.0)

    def _ring(self, frequency, n, velocity):
        k = np.arange(1, 20, 2 if self.square else 1)
        return self._additive(k * frequency, 1.0 / k, n, self.filter_decay * (k - 1) * 0.5)


class SynthBass(Synth):
    """Synth bass: a darker, plucky sawtooth."""

    def setup(self):
        self.square = False
        self.filter_decay = self.rng.uniform(6.0, 14.0)


SYNTHS: dict[str, type[NoteSynth]] = {
    "piano": Piano, "guitar": Guitar, "bass": Bass, "organ": Organ, "strings": Strings, "cello": Cello,
    "pad": Pad, "brass": Brass, "synth": Synth, "synth_bass": SynthBass,
}


def make_synth(instrument: str, rng: np.random.Generator, sample_rate: int, tuning_cents: float) -> NoteSynth:
    """The synthesiser for an accompaniment instrument name (a key of :data:`SYNTHS`)."""
    if instrument not in SYNTHS:
        raise ValueError(f"unknown instrument {instrument!r}; expected one of {sorted(SYNTHS)}")
    return SYNTHS[instrument](rng, sample_rate, tuning_cents)


def render_notes(synth: NoteSynth, notes: list[Note], n_samples: int) -> np.ndarray:
    """Place every note of a part on a float32 track of ``n_samples`` samples."""
    track = np.zeros(n_samples, dtype=np.float32)
    for note in notes:
        wave = synth.note(note.pitch, note.duration, note.velocity)
        start = int(round(note.start * synth.sample_rate))
        stop = min(start + wave.size, n_samples)
        if stop > start:
            track[start:stop] += np.float32(note.velocity) * wave[: stop - start]
    return track


class DrumKit:
    """Kick, snare, clap, hats and crash of one song: swept sines and filtered noise."""

    def __init__(self, rng: np.random.Generator, sample_rate: int):
        self.sample_rate = sample_rate
        sr = sample_rate
        t = np.arange(int(0.5 * sr), dtype=np.float32) / sr
        # kick: a sine sweeping down from ~150 Hz to ~50 Hz, and a click
        f_hi, f_lo = rng.uniform(120, 180), rng.uniform(42, 60)
        sweep = f_lo + (f_hi - f_lo) * np.exp(-t * rng.uniform(25, 45))
        kick = np.sin(_TWO_PI * np.cumsum(sweep) / sr) * np.exp(-t * rng.uniform(7, 14))
        kick[: int(0.003 * sr)] += rng.uniform(-0.5, 0.5, int(0.003 * sr))
        noise = rng.standard_normal(int(0.6 * sr)).astype(np.float32)
        t6 = np.arange(noise.size, dtype=np.float32) / sr
        # snare: band-passed noise plus a short tonal body
        sos = signal.butter(2, [rng.uniform(1500, 2500), min(rng.uniform(6000, 9000), 0.45 * sr)], "bandpass",
                            fs=sr, output="sos")
        snare_noise = signal.sosfilt(sos, noise)[: t.size] * np.exp(-t * rng.uniform(14, 24))
        snare = 0.8 * snare_noise / np.abs(snare_noise).max() + 0.5 * np.sin(
            _TWO_PI * rng.uniform(170, 220) * t) * np.exp(-t * 30)
        clap = snare_noise * (1 + 0.8 * np.sin(_TWO_PI * 90 * t) ** 8)
        hp = signal.butter(2, min(rng.uniform(6000, 8000), 0.45 * sr), "highpass", fs=sr, output="sos")
        hiss = signal.sosfilt(hp, noise)
        hat = hiss[: t.size] * np.exp(-t * rng.uniform(40, 70))
        open_hat = hiss[: t.size] * np.exp(-t * rng.uniform(8, 14))
        crash = hiss * np.exp(-t6 * rng.uniform(3, 5)) + 0.3 * noise * np.exp(-t6 * 8)
        self.sounds = {
            name: (0.6 * wave / np.abs(wave).max()).astype(np.float32)
            for name, wave in (("kick", kick), ("snare", snare), ("clap", clap), ("hat", hat),
                               ("open_hat", open_hat), ("crash", crash))
        }
        self.levels = {"kick": 1.0, "snare": 0.8, "clap": 0.7, "hat": 0.35, "open_hat": 0.3, "crash": 0.35}

    def render(self, hits: list[DrumHit], n_samples: int) -> np.ndarray:
        """The drum track: every hit placed at its onset, scaled by velocity."""
        track = np.zeros(n_samples, dtype=np.float32)
        for hit in hits:
            wave = self.sounds[hit.drum]
            start = int(round(hit.start * self.sample_rate))
            stop = min(start + wave.size, n_samples)
            if stop > start:
                track[start:stop] += np.float32(hit.velocity * self.levels[hit.drum]) * wave[: stop - start]
        return track
