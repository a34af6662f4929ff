"""Note lists played by sampled instruments: a General MIDI SoundFont played in numpy.

The out-of-world source plays real compositions with recorded instrument and choir samples, the
timbres the synthetic world's synthesisers do not have. The SoundFont is the small General MIDI
bank inside the pretty_midi wheel (TimGM6mb.sf2); :class:`SoundFont` reads its SoundFont 2 chunks
and plays a note as the format specifies (section 8 of the 2.04 specification): the zones of the
preset and instrument that match the key and velocity, each sample resampled to the note's pitch
with its loop, a volume envelope (delay, attack, hold, decay to sustain, release) and the lowpass
filter whose cutoff the modulation envelope moves. Modulators, LFOs, reverb and chorus are left
out, and the output is mono. ``tests/test_out_of_world.py`` compares notes with tinysoundfont's.
Book: "The data in this book" (out of the world).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numba
import numpy as np

__all__ = ["GM_PROGRAMS", "SoundFont", "soundfont_path", "general_midi", "render_notes"]

#: General MIDI programs (0-based) the out-of-world source uses, by name.
GM_PROGRAMS = {
    "acoustic grand piano": 0, "harpsichord": 6, "church organ": 19, "nylon guitar": 24,
    "violin": 40, "viola": 41, "cello": 42, "string ensemble": 48, "choir aahs": 52, "voice oohs": 53,
    "trumpet": 56, "french horn": 60, "oboe": 68, "bassoon": 70, "clarinet": 71, "flute": 73,
}

# Generator numbers of the SoundFont 2.04 specification (section 8.1.2).
START, END, LOOP_START, LOOP_END, START_COARSE = 0, 1, 2, 3, 4
FILTER_FC, END_COARSE = 8, 12
DELAY, ATTACK, HOLD, DECAY, SUSTAIN, RELEASE, KEY_TO_HOLD, KEY_TO_DECAY = 33, 34, 35, 36, 37, 38, 39, 40
INSTRUMENT, KEY_RANGE, VEL_RANGE, LOOP_START_COARSE, KEYNUM, VELOCITY, ATTENUATION = 41, 43, 44, 45, 46, 47, 48
LOOP_END_COARSE, COARSE_TUNE, FINE_TUNE, SAMPLE_ID, SAMPLE_MODES, SCALE_TUNING, ROOT_KEY = 50, 51, 52, 53, 54, 56, 58
MOD_TO_FC, MOD_DELAY, MOD_ATTACK, MOD_HOLD, MOD_DECAY, MOD_SUSTAIN, MOD_RELEASE = 11, 25, 26, 27, 28, 29, 30
KEY_TO_MOD_HOLD, KEY_TO_MOD_DECAY = 31, 32
DEFAULTS = {FILTER_FC: 13500, MOD_DELAY: -12000, MOD_ATTACK: -12000, MOD_HOLD: -12000, MOD_DECAY: -12000,
            MOD_RELEASE: -12000, DELAY: -12000, ATTACK: -12000, HOLD: -12000, DECAY: -12000, RELEASE: -12000,
            SCALE_TUNING: 100, ROOT_KEY: -1, KEYNUM: -1, VELOCITY: -1, KEY_RANGE: 127 << 8, VEL_RANGE: 127 << 8}
_RANGES = (KEY_RANGE, VEL_RANGE)
_NOT_ADDED = (KEY_RANGE, VEL_RANGE, INSTRUMENT, SAMPLE_ID, SAMPLE_MODES, ROOT_KEY, KEYNUM, VELOCITY)


def _chunks(data: bytes, start: int, end: int):
    while start < end:
        size = struct.unpack_from("<I", data, start + 4)[0]
        yield data[start:start + 4], start + 8, size
        start += 8 + size + (size & 1)


def _records(data: bytes, offset: int, size: int, fmt: str) -> list[tuple]:
    return list(struct.iter_unpack("<" + fmt, data[offset:offset + size]))


def _zones(bags, gens, first: int, last: int, terminal: int) -> tuple[dict, list[dict]]:
    """Global zone and the other zones of bags [first, last): generator -> amount."""
    glob, zones = {}, []
    for b in range(first, last):
        zone = {}
        for oper, amount in gens[bags[b][0]:bags[b + 1][0]]:
            zone[oper] = amount
        if terminal in zone:
            zones.append(zone)
        elif b == first:
            glob = zone
    return glob, zones


def _in_range(zone: dict, glob: dict, generator: int, value: int) -> bool:
    amount = zone.get(generator, glob.get(generator, DEFAULTS[generator]))
    return (amount & 0xFF) <= value <= (amount >> 8)


def _signed(amount: int) -> int:
    return amount - 65536 if amount >= 32768 else amount


def _seconds(timecents: int) -> float:
    return 2.0 ** (timecents / 1200.0)


@dataclass(frozen=True)
class _Sample:
    start: int
    end: int
    loop_start: int
    loop_end: int
    rate: int
    pitch: int
    correction: int


@numba.njit(cache=True, nogil=True)
def _biquad_blocks(x, sos, block):  # pragma: no cover - compiled
    """Direct form II transposed biquad whose coefficients change every ``block`` samples."""
    y = np.empty_like(x)
    z1 = 0.0
    z2 = 0.0
    for i in range(x.size):
        b0, b1, b2, _, a1, a2 = sos[i // block]
        out = b0 * x[i] + z1
        z1 = b1 * x[i] - a1 * out + z2
        z2 = b2 * x[i] - a2 * out
        y[i] = out
    return y


class SoundFont:
    """A SoundFont 2 bank: its samples and the preset/instrument zones that :meth:`note` plays."""

    def __init__(self, path):
        data = Path(path).read_bytes()
        if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
            raise ValueError(f"{path} is not a SoundFont 2 file (no RIFF sfbk header)")
        lists = {data[o:o + 4]: {c: (co, cs) for c, co, cs in _chunks(data, o + 4, o + s)}
                 for _, o, s in _chunks(data, 12, len(data))}
        offset, size = lists[b"sdta"][b"smpl"]
        self.samples = np.frombuffer(data, dtype="<i2", count=size // 2, offset=offset).astype(np.float32) / 32768.0
        pdta = lists[b"pdta"]

        def read(name: bytes, fmt: str) -> list[tuple]:
            return _records(data, *pdta[name], fmt)

        self._phdr = read(b"phdr", "20sHHHIII")
        self.presets = {(bank, preset): index for index, (_, preset, bank, *_rest) in enumerate(self._phdr[:-1])}
        self._pbag, self._pgen = read(b"pbag", "HH"), read(b"pgen", "HH")
        self._inst = read(b"inst", "20sH")
        self._ibag, self._igen = read(b"ibag", "HH"), read(b"igen", "HH")
        self._shdr = [_Sample(*r[1:8]) for r in read(b"shdr", "20sIIIIIBbHH")]

    @cache  # noqa: B019 - a bank is loaded once per process (general_midi) and lives as long
    def regions(self, program: int, key: int, velocity: int, bank: int = 0) -> list[tuple[dict, _Sample]]:
        """The zones that sound for (program, key, velocity): merged generators and sample."""
        index = self.presets.get((bank, program), self.presets.get((0, program)))
        if index is None:
            raise ValueError(f"the SoundFont has no preset {program} in bank {bank}")
        pglob, pzones = _zones(self._pbag, self._pgen, self._phdr[index][3], self._phdr[index + 1][3], INSTRUMENT)
        found = []
        for pzone in pzones:
            if not (_in_range(pzone, pglob, KEY_RANGE, key) and _in_range(pzone, pglob, VEL_RANGE, velocity)):
                continue
            preset_gens = {**pglob, **pzone}
            inst = preset_gens[INSTRUMENT]
            iglob, izones = _zones(self._ibag, self._igen, self._inst[inst][1], self._inst[inst + 1][1], SAMPLE_ID)
            for izone in izones:
                if not (_in_range(izone, iglob, KEY_RANGE, key) and _in_range(izone, iglob, VEL_RANGE, velocity)):
                    continue
                gens = {g: _signed(a) for g, a in {**DEFAULTS, **iglob, **izone}.items() if g not in _RANGES}
                for g, a in preset_gens.items():
                    if g not in _NOT_ADDED:
                        gens[g] = gens.get(g, 0) + _signed(a)
                found.append((gens, self._shdr[izone[SAMPLE_ID]]))
        return found

    def note(self, program: int, key: int, velocity: int, seconds: float, sample_rate: int) -> np.ndarray:
        """One note held ``seconds`` then released: float32 mono, its release tail included."""
        out = None
        for gens, sample in self.regions(program, key, velocity):
            y = self._play(gens, sample, key, velocity, seconds, sample_rate)
            out = y if out is None else (np.pad(out, (0, max(0, y.size - out.size))) +
                                         np.pad(y, (0, max(0, out.size - y.size))))
        return np.zeros(0, np.float32) if out is None else out

    def _play(self, g, s: _Sample, key: int, velocity: int, seconds: float, sample_rate: int) -> np.ndarray:
        start = s.start + g.get(START, 0) + 32768 * g.get(START_COARSE, 0)
        end = s.end + g.get(END, 0) + 32768 * g.get(END_COARSE, 0)
        loop_start = s.loop_start + g.get(LOOP_START, 0) + 32768 * g.get(LOOP_START_COARSE, 0)
        loop_end = s.loop_end + g.get(LOOP_END, 0) + 32768 * g.get(LOOP_END_COARSE, 0)
        key_for_pitch = g[KEYNUM] if g[KEYNUM] >= 0 else key
        root = g[ROOT_KEY] if g[ROOT_KEY] >= 0 else s.pitch
        cents = (key_for_pitch - root) * g[SCALE_TUNING] + 100 * g.get(COARSE_TUNE, 0) + g.get(FINE_TUNE, 0) + s.correction
        step = 2.0 ** (cents / 1200.0) * s.rate / sample_rate
        # volume envelope (dB below full), then release from note-off
        hold_tc = g[HOLD] + (60 - key) * g.get(KEY_TO_HOLD, 0)
        decay_tc = g[DECAY] + (60 - key) * g.get(KEY_TO_DECAY, 0)
        delay, attack, hold, decay = (_seconds(g[DELAY]), _seconds(g[ATTACK]), _seconds(hold_tc), _seconds(decay_tc))
        sustain_db = min(max(g.get(SUSTAIN, 0), 0), 1440) / 10.0
        release = _seconds(g[RELEASE])
        n_on = int(round(seconds * sample_rate))
        n_release = int(round(min(release, 4.0) * 0.6 * sample_rate))  # down to -60 dB
        t = np.arange(n_on + n_release) / sample_rate
        db = np.full(t.size, -sustain_db)
        db = np.where(t < delay + attack + hold + decay, -sustain_db * np.clip((t - delay - attack - hold) / max(decay * sustain_db / 100.0, 1e-9), 0, 1), db)
        level = 10.0 ** (db / 20.0)
        ramp = np.clip((t - delay) / max(attack, 1e-9), 0.0, 1.0)
        level = level * ramp
        off_level = level[n_on - 1] if n_on > 0 else 0.0
        tail = t[n_on:] - seconds
        level[n_on:] = off_level * 10.0 ** (-(100.0 * tail / max(release, 1e-9)) / 20.0)
        gain = 10.0 ** (-g.get(ATTENUATION, 0) / 200.0) * (velocity / 127.0)
        # sample positions, looped if the mode says so
        position = start + step * np.arange(t.size)
        mode = g.get(SAMPLE_MODES, 0) & 3
        if mode in (1, 3) and loop_end > loop_start:
            looped = position >= loop_end
            position[looped] = loop_start + np.mod(position[looped] - loop_start, loop_end - loop_start)
            playing = np.ones(t.size, bool)
        else:
            playing = position < end - 1
        index = np.minimum(position.astype(np.int64), self.samples.size - 2)
        frac = (position - index).astype(np.float32)
        y = (self.samples[index] * (1 - frac) + self.samples[index + 1] * frac) * playing
        y = self._lowpass(y, g, key, seconds, sample_rate)
        return (y * level * gain).astype(np.float32)

    @staticmethod
    def _modulation(g, key: int, t: np.ndarray, seconds: float) -> np.ndarray:
        """The modulation envelope (0..1) at times ``t``: delay, linear attack, hold, decay to sustain, release."""
        delay, attack = _seconds(g[MOD_DELAY]), _seconds(g[MOD_ATTACK])
        hold = _seconds(g[MOD_HOLD] + (60 - key) * g.get(KEY_TO_MOD_HOLD, 0))
        decay = _seconds(g[MOD_DECAY] + (60 - key) * g.get(KEY_TO_MOD_DECAY, 0))
        sustain = 1.0 - min(max(g.get(MOD_SUSTAIN, 0), 0), 1000) / 1000.0
        level = np.clip((t - delay) / max(attack, 1e-9), 0.0, 1.0)
        level = np.where(t > delay + attack + hold, np.maximum(1.0 - (t - delay - attack - hold) / max(decay, 1e-9), sustain), level)
        at_release = np.interp(seconds, t, level) if t.size else 0.0
        release = _seconds(g[MOD_RELEASE])
        return np.where(t > seconds, np.maximum(at_release - (t - seconds) / max(release, 1e-9), 0.0), level)

    def _lowpass(self, y: np.ndarray, g, key: int, seconds: float, sample_rate: int, block: int = 1024) -> np.ndarray:
        """SoundFont's lowpass: cutoff initialFilterFc plus the modulation envelope's share, block by block
        (a second-order Butterworth section per block, its state carried across blocks)."""
        starts = np.arange(0, y.size, block)
        t = (starts + block / 2) / sample_rate
        cents = g[FILTER_FC] + g.get(MOD_TO_FC, 0) * self._modulation(g, key, t, seconds)
        cutoff = np.minimum(8.176 * 2.0 ** (cents / 1200.0), 0.45 * sample_rate)
        if not np.any((cutoff < 0.45 * sample_rate) & (cents < 13500)):
            return y
        # bilinear-transform Butterworth lowpass (Q = 1/sqrt 2), coefficients for every block at once
        w = np.tan(np.pi * cutoff / sample_rate)
        norm = 1.0 / (1.0 + np.sqrt(2.0) * w + w * w)
        b0 = w * w * norm
        sos = np.stack([b0, 2 * b0, b0, np.ones_like(w), 2.0 * (w * w - 1.0) * norm,
                        (1.0 - np.sqrt(2.0) * w + w * w) * norm], axis=1)
        return _biquad_blocks(y.astype(np.float32), sos, block)


@cache
def soundfont_path() -> Path:
    """The General MIDI SoundFont shipped in the pretty_midi wheel."""
    try:
        import pretty_midi
    except ImportError as err:
        raise ImportError("the out-of-world source plays pretty_midi's General MIDI SoundFont: "
                          "pip install 'mirbook[world]' (or pip install pretty_midi)") from err
    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise FileNotFoundError(f"pretty_midi {pretty_midi.__version__} has no {path.name} at {path}")
    return path


@cache
def general_midi() -> SoundFont:
    """The General MIDI bank of :func:`soundfont_path`, read once per process."""
    return SoundFont(soundfont_path())


def render_notes(notes, *, sample_rate: int, duration: float, programs: dict[int, int],
                 velocities: dict[int, int] | None = None) -> np.ndarray:
    """Play ``notes`` with the General MIDI bank: float32 mono samples of exactly ``duration`` s.

    ``notes``: ``(track, pitch, start_s, end_s)`` tuples (MIDI pitch, seconds); ``programs``:
    track -> General MIDI program (0-based); ``velocities``: track -> MIDI velocity (default 90).
    Notes are cut at ``duration``, and so are their release tails.
    """
    if not duration > 0:
        raise ValueError(f"duration must be positive seconds; got {duration!r}")
    bank, velocities = general_midi(), velocities or {}
    out = np.zeros(int(round(duration * sample_rate)), dtype=np.float32)
    for track, pitch, start, end in notes:
        if track not in programs:
            raise ValueError(f"note on track {track} but programs has only tracks {sorted(programs)}")
        first = int(round(start * sample_rate))
        held = min(end, duration) - start
        if held <= 0 or first >= out.size:
            continue
        y = bank.note(int(programs[track]), int(pitch), int(velocities.get(track, 90)), held, sample_rate)
        y = y[: out.size - first]
        out[first:first + y.size] += y
    return out
