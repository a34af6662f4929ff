"""Note lists played by sampled instruments: a General MIDI SoundFont rendered offline.

The out-of-world source plays real compositions with recorded instrument and choir samples, the
timbres the synthetic world's numpy synthesisers do not have. The SoundFont is the small General
MIDI bank that ships inside the pretty_midi wheel (TimGM6mb.sf2); tinysoundfont (a wheel with no
system library) plays it. Install with ``pip install 'mirbook[world]'``; tinysoundfont declares
pyaudio for live playback, which offline rendering never imports, so install it with
``pip install --no-deps tinysoundfont`` where pyaudio cannot build.
Book: "The data in this book" (out of the world).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["GM_PROGRAMS", "soundfont_path", "render_notes"]

#: General MIDI programs (0-based) the out-of-world source uses, by name.
GM_PROGRAMS = {
    "acoustic grand piano": 0, "harpsichord": 6, "church organ": 19, "nylon guitar": 24,
    "violin": 40, "viola": 41, "cello": 42, "string ensemble": 48, "choir aahs": 52, "voice oohs": 53,
    "trumpet": 56, "french horn": 60, "oboe": 68, "bassoon": 70, "clarinet": 71, "flute": 73,
}


def _import(name: str, hint: str):
    try:
        return __import__(name)
    except ImportError as err:
        raise ImportError(f"rendering with a SoundFont needs {name}: {hint}") from err


@cache
def soundfont_path() -> Path:
    """The General MIDI SoundFont shipped in the pretty_midi wheel."""
    pretty_midi = _import("pretty_midi", "pip install 'mirbook[world]' (or pip install pretty_midi)")
    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise FileNotFoundError(f"pretty_midi {pretty_midi.__version__} has no {path.name} at {path}")
    return path


def render_notes(notes, *, sample_rate: int, duration: float, programs: dict[int, int],
                 velocities: dict[int, int] | None = None) -> np.ndarray:
    """Play ``notes`` and return float32 mono samples of exactly ``duration`` seconds.

    ``notes``: ``(track, pitch, start_s, end_s)`` tuples (MIDI pitch, seconds); ``programs``:
    track -> General MIDI program (0-based); ``velocities``: track -> MIDI velocity (default 90).
    Each track gets its own MIDI channel (at most 15: channel 9 is General MIDI's drums). Notes
    cut at ``duration``; release tails past it are dropped.
    """
    tinysoundfont = _import("tinysoundfont", "pip install --no-deps tinysoundfont")
    tracks = sorted(programs)
    if len(tracks) > 15:
        raise ValueError(f"at most 15 tracks can be rendered at once; got {len(tracks)}")
    if not duration > 0:
        raise ValueError(f"duration must be positive seconds; got {duration!r}")
    channel = {track: c if c < 9 else c + 1 for c, track in enumerate(tracks)}
    synth = tinysoundfont.Synth(samplerate=int(sample_rate))
    font = synth.sfload(str(soundfont_path()))
    for track in tracks:
        synth.program_select(channel[track], font, 0, int(programs[track]))
    velocities = velocities or {}
    events = []  # (sample, order, kind, track, pitch): note-offs before note-ons at the same sample
    for track, pitch, start, end in notes:
        if track not in channel:
            raise ValueError(f"note on track {track} but programs has only tracks {tracks}")
        first, last = int(round(start * sample_rate)), int(round(min(end, duration) * sample_rate))
        if last > first:
            events += [(first, 1, "on", track, int(pitch)), (last, 0, "off", track, int(pitch))]
    events.sort()
    total = int(round(duration * sample_rate))
    out = np.zeros((total, 2), dtype=np.float32)
    done = 0
    for sample, _, kind, track, pitch in events:
        sample = min(sample, total)
        if sample > done:
            out[done:sample] = np.frombuffer(synth.generate(sample - done), dtype=np.float32).reshape(-1, 2)
            done = sample
        if kind == "on":
            synth.noteon(channel[track], pitch, int(velocities.get(track, 90)))
        else:
            synth.noteoff(channel[track], pitch)
    if total > done:
        out[done:] = np.frombuffer(synth.generate(total - done), dtype=np.float32).reshape(-1, 2)
    return out.mean(axis=1)
