"""``render_song``: one seed in, one song with exact annotations out.

Composes a score (``mirbook.data.score``), plays every part with the song's own instruments,
voice and lead (``instruments``, ``voice``, ``leads``), mixes them in a synthetic room
(``mix``), and reads the annotations off the score and the rendered stems, so they are exact by
construction. Book: "The data in this book"; every model chapter trains on these songs.
"""

from __future__ import annotations

import numpy as np

from mirbook.checks import check_sample_rate
from mirbook.data.instruments import DrumKit, make_synth, render_notes
from mirbook.data.leads import LEADS, LeadSynth
from mirbook.data.mix import active_rms, add_noise, apply_eq, apply_room, room_impulse_response
from mirbook.data.score import MIN_DURATION, Score, compose_score
from mirbook.data.song import Song
from mirbook.data.styles import FAVOURED, INSTRUMENT_TAGS, STYLE_NAMES, STYLES, Style, tempo_class
from mirbook.data.voice import SingingVoice

__all__ = ["render_song", "GENERATOR_VERSION", "F0_HOP"]

#: Bump when the generator changes what a seed renders: it is part of every cache key.
GENERATOR_VERSION = "1.5"

#: Time step of the f0 annotation in seconds (mir_eval.melody's customary 10 ms).
F0_HOP = 0.01

# mixing levels of the stems relative to the accompaniment, in dB: (mean, spread)
_LEVELS = {"comp": (0.0, 2.0), "bass": (-2.0, 2.0), "drums": (-1.0, 2.5), "vocals": (5.0, 2.0), "lead": (4.0, 2.0)}


def _check_options(seed, style, duration, sample_rate, vocals, lead):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    if style is not None and style not in STYLES:
        raise ValueError(f"style must be None or one of {STYLE_NAMES}; got {style!r}")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not np.isfinite(duration) \
            or duration < MIN_DURATION:
        raise ValueError(f"duration must be a number of seconds >= {MIN_DURATION}; got {duration!r}")
    check_sample_rate(sample_rate)
    if sample_rate < 16000:
        raise ValueError(f"sample_rate must be at least 16000 Hz (the voice needs its formants); got {sample_rate}")
    if vocals not in (None, True, False):
        raise ValueError(f"vocals must be None (the style decides), True or False; got {vocals!r}")
    if not (lead is None or lead is True or lead is False or lead in LEADS):
        raise ValueError(f"lead must be None (the style decides), True, False or one of {LEADS}; got {lead!r}")


def render_song(seed: int, *, style: str | None = None, duration: float = 30.0, sample_rate: int = 22050,
                vocals: bool | None = None, lead: bool | str | None = None, sevenths: bool = False) -> Song:
    """Render one synthetic song with exact ground truth (book: "The data in this book").

    The same arguments always give bit-identical audio and annotations. ``style`` is one of
    :data:`mirbook.data.STYLE_NAMES` or None (drawn from the seed); ``vocals`` and ``lead`` force
    a sung melody and a non-vocal lead (the hard negative of voice detection: True draws one as
    the style would, or name one of ``'violin'``, ``'flute'``, ``'synth_lead'``); None lets the
    style's odds decide. ``sevenths`` allows dominant seventh chords ('G:7').
    Returns a :class:`mirbook.data.Song` whose ``stems`` are the dry, level-balanced parts
    (before the room, EQ and noise) and whose annotations follow mir_eval's formats.
    """
    _check_options(seed, style, duration, sample_rate, vocals, lead)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20170001]))
    style_obj = STYLES[style] if style is not None else STYLES[STYLE_NAMES[rng.integers(len(STYLE_NAMES))]]
    sung = bool(rng.random() < style_obj.vocal_probability) if vocals is None else vocals
    lead_name = None
    if lead is None:
        lead_draw = rng.random() < (style_obj.lead_probability if sung else 0.85)
        lead_name = _draw_lead(rng, style_obj) if lead_draw else None
    elif lead is True:
        lead_name = _draw_lead(rng, style_obj)
    elif lead:
        lead_name = lead
    score = compose_score(rng, style_obj, float(duration), vocals=sung, lead=lead_name, sevenths=sevenths)
    return _perform(score, rng, sample_rate, seed=int(seed))


def _draw_lead(rng: np.random.Generator, style: Style) -> str:
    """A lead instrument: one of the style's ``leads`` with probability ``FAVOURED``, else of ``LEADS``."""
    return str(rng.choice(style.leads if rng.random() < FAVOURED else LEADS))


def _perform(score: Score, rng: np.random.Generator, sample_rate: int, *, seed: int) -> Song:
    n = int(round(score.duration * sample_rate))
    tuning = float(rng.uniform(-15, 15))
    stems: dict[str, np.ndarray] = {}
    roles: dict[str, str] = {}
    f0_track = np.zeros(n, dtype=np.float32)
    voicing: list[tuple[float, float]] = []
    lead_intervals: list[tuple[float, float]] = []
    for part in score.parts:
        if part.role in ("comp", "bass"):
            synth = make_synth(part.instrument, rng, sample_rate, tuning)
            stems[part.instrument] = render_notes(synth, part.notes, n)
        elif part.role == "vocals":
            register = min(note.pitch for note in part.notes)
            singer = SingingVoice(rng, sample_rate, tuning, register=register)
            stems["vocals"], f0_track, voicing = singer.render(part, n)
        else:
            stems[part.instrument], lead_intervals = LeadSynth(part.instrument, rng, sample_rate, tuning).render(part, n)
        roles[part.instrument if part.role != "vocals" else "vocals"] = part.role
    if score.drums:
        stems["drums"] = DrumKit(rng, sample_rate).render(score.drums, n)
        roles["drums"] = "drums"

    # balance: every stem to its level (dB re the accompaniment), then the whole to a loudness
    for name, stem in stems.items():
        mean, spread = _LEVELS[roles[name]]
        level = 10 ** ((mean + rng.uniform(-spread, spread)) / 20) * 0.1
        rms = active_rms(stem)
        if rms > 0:
            stem *= np.float32(level / rms)
    # nothing may sound after the music ends: a 50 ms fade closes every stem
    end = int(round(score.music_end * sample_rate))
    fade = np.ones(n, dtype=np.float32)
    fade_n = int(0.05 * sample_rate)
    fade[end:end + fade_n] = np.linspace(1, 0, fade_n, dtype=np.float32)[: max(0, min(fade_n, n - end))]
    fade[end + fade_n:] = 0.0
    for stem in stems.values():
        stem *= fade
    dry = np.sum(list(stems.values()), axis=0).astype(np.float32)
    rt60 = float(rng.uniform(*STYLES[score.style].reverb_range))
    wet = apply_room(dry, room_impulse_response(rng, sample_rate, rt60), float(rng.uniform(0.1, 0.3)))
    wet = apply_eq(wet, sample_rate, low_cut=float(rng.uniform(25, 90)), high_cut=float(rng.uniform(5000, 10000)))
    wet *= fade
    gain = 10 ** (rng.uniform(-23, -17) / 20) / (active_rms(wet) + 1e-12)
    gain = min(gain, 0.95 / (np.abs(wet).max() + 1e-12))
    audio = add_noise(wet * np.float32(gain), rng, snr_db=float(rng.uniform(30, 55)), reference_rms=10 ** (-20 / 20))
    for name in stems:
        stems[name] = (stems[name] * np.float32(gain)).astype(np.float32)
    return Song(audio=audio.astype(np.float32), sample_rate=sample_rate, stems=stems,
                chords=_chord_annotation(score), voicing=np.asarray(voicing, dtype=float).reshape(-1, 2),
                f0=_f0_annotation(f0_track, sample_rate, score.duration), key=score.key, tempo=float(score.tempo),
                beats=np.asarray(score.beats, dtype=float), downbeats=np.asarray(score.downbeats, dtype=float),
                onsets=_onsets(score), tags=_tags(score), style=score.style,
                lead=np.asarray(lead_intervals, dtype=float).reshape(-1, 2), track_id=f"synthetic-{seed}")


def _chord_annotation(score: Score) -> tuple[np.ndarray, list[str]]:
    """Contiguous (intervals, labels) over [0, duration]: the chords, 'N' in between, merged."""
    bounds: list[list[float]] = []
    labels: list[str] = []

    def push(start, end, label):
        if bounds and abs(bounds[-1][1] - start) < 1e-9:
            start = bounds[-1][1]  # exactly contiguous, no float gaps or overlaps
        if end - start <= 1e-9:
            return
        if labels and labels[-1] == label and abs(bounds[-1][1] - start) < 1e-9:
            bounds[-1][1] = end
        else:
            bounds.append([start, end])
            labels.append(label)

    t = 0.0
    for chord in score.chords:
        push(t, chord.start, "N")
        push(chord.start, chord.end, chord.label)
        t = chord.end
    push(t, score.duration, "N")
    return np.asarray(bounds, dtype=float), labels


def _f0_annotation(f0_track: np.ndarray, sample_rate: int, duration: float) -> tuple[np.ndarray, np.ndarray]:
    times = np.arange(int(np.floor(duration / F0_HOP))) * F0_HOP
    idx = np.minimum(np.round(times * sample_rate).astype(int), f0_track.size - 1)
    return times, f0_track[idx].astype(float)


def _onsets(score: Score) -> np.ndarray:
    starts = [note.start for part in score.parts for note in part.notes] + [hit.start for hit in score.drums]
    return np.unique(np.round(np.asarray(starts, dtype=float), 3))


def _tags(score: Score) -> list[str]:
    instruments = {INSTRUMENT_TAGS[name] for name in score.instruments() if name in INSTRUMENT_TAGS}
    vocal = score.part("vocals") is not None
    return [score.style, *sorted(instruments), *(["vocal"] if vocal else []),
            *(["major"] if score.mode == "major" else []), tempo_class(score.tempo)]
