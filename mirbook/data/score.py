"""The musical model of the embedded music world: from a random generator to a score.

A score fixes everything the audio renderer plays and everything the annotations say: tempo and
4/4 bars, key and mode, a chord progression (``mirbook.data.harmony``) with inversions,
voice-led chord voicings, a bass line that follows the harmony, drum patterns, melodies in the
key, and sung phrases with rests (answered by a non-vocal lead, the hard negatives of
singing-voice detection).
Ground truth is therefore exact by construction (paper Table 1's tasks; book: "The data in this
book").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mirbook.data.harmony import NUMERALS, roman_numerals
from mirbook.data.styles import BASSES, COMPING, FAVOURED, Style
from mirbook.vocab import PITCH_CLASSES

__all__ = ["Note", "DrumHit", "ChordEvent", "Part", "Score", "compose_score", "harte_label", "MIN_DURATION"]

#: Shortest song the composer accepts, in seconds (lead-in, two beats and the tail must fit).
MIN_DURATION = 4.0

_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}

# 16th-note drum patterns: instrument -> {step: velocity}.
_DRUM_PATTERNS = {
    "rock": {"kick": {0: 1.0, 8: 0.9, 10: 0.7}, "snare": {4: 1.0, 12: 1.0},
             "hat": {s: 0.7 if s % 4 == 0 else 0.5 for s in range(0, 16, 2)}},
    "ballad": {"kick": {0: 0.8, 10: 0.5}, "snare": {12: 0.6},
               "hat": {s: 0.45 for s in range(0, 16, 4)}},
    "electronic": {"kick": {0: 1.0, 4: 1.0, 8: 1.0, 12: 1.0}, "clap": {4: 0.9, 12: 0.9},
                   "hat": {s: 0.35 for s in range(16) if s % 4 != 2}, "open_hat": {2: 0.6, 6: 0.6, 10: 0.6, 14: 0.6}},
    "folk": {"kick": {0: 0.8, 8: 0.7}, "snare": {4: 0.6, 12: 0.6},
             "hat": {s: 0.35 + 0.15 * (s % 4 == 0) for s in range(16)}},
}

# Bars per melodic and harmonic phrase.
_PHRASE_BARS = 4

_COMP_REGISTER = {"piano": 60, "guitar": 55, "organ": 60, "strings": 58, "pad": 62, "brass": 58, "synth": 64}

_SYLLABLES = ("la", "na", "ma", "da", "ta", "sa", "ka", "pa", "lo", "no", "mo", "so", "to", "li", "ni",
              "mi", "si", "ti", "lu", "nu", "shi", "sho", "fe", "he", "ho", "ha", "le", "ne", "de", "a",
              "o", "e", "i", "u", "ya", "yo", "wa", "re", "ri", "ro")


@dataclass(frozen=True)
class Note:
    """One pitched event: onset and duration in seconds, MIDI pitch, velocity in (0, 1]."""

    start: float
    duration: float
    pitch: float
    velocity: float
    syllable: str = ""


@dataclass(frozen=True)
class DrumHit:
    """One drum stroke: onset in seconds, drum name ('kick', 'snare', ...), velocity."""

    start: float
    drum: str
    velocity: float


@dataclass(frozen=True)
class ChordEvent:
    """A sounding chord: time span, root pitch class, 'maj'/'min', bass interval, seventh flag."""

    start: float
    end: float
    root: int
    quality: str
    bass: int = 0
    seventh: bool = False

    @property
    def label(self) -> str:
        """The chord's Harte label, e.g. 'C:maj', 'A:min/b3', 'G:7'."""
        return harte_label(self.root, self.quality, self.bass, self.seventh)

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """The chord tones as pitch classes, root first."""
        third = 4 if self.quality == "maj" else 3
        tones = [self.root, (self.root + third) % 12, (self.root + 7) % 12]
        if self.seventh:
            tones.append((self.root + 10) % 12)
        return tuple(tones)


@dataclass
class Part:
    """The notes one instrument plays in a role ('comp', 'bass', 'vocals' or 'lead')."""

    instrument: str
    role: str
    notes: list[Note] = field(default_factory=list)
    phrases: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Score:
    """Everything about a song except its sound: the renderer plays it, the annotations read it."""

    duration: float
    style: str
    tempo: float
    tonic: int
    mode: str
    music_start: float
    music_end: float
    beats: np.ndarray
    downbeats: np.ndarray
    chords: list[ChordEvent]
    parts: list[Part]
    drums: list[DrumHit]

    @property
    def key(self) -> str:
        """The key in mir_eval format, e.g. 'C# minor'."""
        return f"{PITCH_CLASSES[self.tonic]} {self.mode}"

    def part(self, role: str) -> Part | None:
        """The first part playing ``role``, or None."""
        return next((p for p in self.parts if p.role == role), None)

    def instruments(self) -> list[str]:
        """Names of every instrument that plays (drums included)."""
        names = [p.instrument for p in self.parts if p.notes]
        if self.drums:
            names.append("drums")
        return names


def harte_label(root: int, quality: str, bass: int = 0, seventh: bool = False) -> str:
    """Harte (2005) chord syntax as mir_eval reads it: root, quality, optional bass degree."""
    if quality not in ("maj", "min"):
        raise ValueError(f"quality must be 'maj' or 'min'; got {quality!r}")
    name = PITCH_CLASSES[root % 12]
    shorthand = ("7" if quality == "maj" else "min7") if seventh else quality
    if bass == 0:
        return f"{name}:{shorthand}"
    degree = {3: "b3", 4: "3", 7: "5", 10: "b7"}.get(bass)
    if degree is None:
        raise ValueError(f"bass must be 0, 3, 4, 7 or 10 semitones above the root; got {bass!r}")
    return f"{name}:{shorthand}/{degree}"


def _close_voicing(pitch_classes: tuple[int, ...], center: float, previous: np.ndarray | None,
                   rng: np.random.Generator) -> np.ndarray:
    """A close-position voicing near ``center``; with a previous voicing, the smoothest one."""
    candidates = []
    for rotation in range(len(pitch_classes)):
        pcs = pitch_classes[rotation:] + pitch_classes[:rotation]
        low = center - 6
        first = low + (pcs[0] - low) % 12
        notes = [first]
        for pc in pcs[1:]:
            notes.append(notes[-1] + (pc - notes[-1]) % 12)
        candidates.append(np.array(notes, dtype=float))
    if previous is None:
        return candidates[rng.integers(len(candidates))]
    # compare the lowest notes the two voicings share (a seventh chord has one note more than a triad)
    k = min(len(pitch_classes), len(previous))
    cost = [np.abs(np.sort(c)[:k] - np.sort(previous)[:k]).sum() + rng.uniform(0, 2) for c in candidates]
    return candidates[int(np.argmin(cost))]


def _guitar_voicing(chord: ChordEvent) -> np.ndarray:
    """Six-string-like open voicing: bass note low, then root-fifth-root-third-fifth above."""
    third = 4 if chord.quality == "maj" else 3
    base = 40 + (chord.root - 40) % 12  # lowest root between E2 and D#3
    notes = [base, base + 7, base + 12, base + 12 + third, base + 19]
    if chord.seventh:
        notes[2] = base + 10
    return np.array(notes, dtype=float)


def _comp_notes(rng, pattern: str, instrument: str, chords: list[ChordEvent], beat: float,
                velocity: float) -> list[Note]:
    """The notes an accompaniment instrument plays over the chord events in ``pattern``."""
    notes: list[Note] = []
    previous = None
    center = _COMP_REGISTER[instrument] + rng.integers(-2, 3)
    eighth = beat / 2
    articulation = rng.uniform(0.6, 0.95)  # how long block chords are held, as a fraction of a beat
    for chord in chords:
        span = chord.end - chord.start
        if instrument == "guitar":
            voicing = _guitar_voicing(chord)
        else:
            voicing = _close_voicing(chord.pitch_classes, center, previous, rng)
            if len(voicing) == 3 and instrument in ("piano", "strings", "organ", "pad") and rng.random() < 0.6:
                voicing = np.append(voicing, voicing.min() + 12 if voicing.max() < voicing.min() + 12
                                    else voicing.min() - 12)
        previous = voicing
        # a 4-3 suspension now and then: the third is delayed by the fourth for a beat, as in
        # real accompaniments; the chord label stays the chord the suspension resolves to
        third_pc = chord.pitch_classes[1]
        suspended = voicing.copy()
        suspend = span >= 2 * beat - 1e-6 and rng.random() < 0.25
        if suspend:
            suspended[voicing % 12 == third_pc] += 5 - (third_pc - chord.root) % 12
        if pattern == "sustain":
            for p, q in zip(voicing, suspended):
                if p != q:
                    notes += [Note(chord.start, beat, float(q), velocity),
                              Note(chord.start + beat, span - beat, float(p), velocity)]
                else:
                    notes.append(Note(chord.start, span, float(p), velocity))
        elif pattern == "block":
            t = chord.start
            while t < chord.end - 1e-6:
                dur = min(beat * articulation, chord.end - t)
                accent = 1.0 if abs(((t - chord.start) / beat) % 2) < 1e-6 else 0.8
                chord_notes = suspended if t == chord.start else voicing
                notes += [Note(t, dur, float(p), velocity * accent) for p in chord_notes]
                t += beat
        elif pattern == "arpeggio":
            order = np.argsort(voicing)
            cycle = list(order) + list(order[1:-1][::-1])
            t, k = chord.start, 0
            while t < chord.end - 1e-6:
                p = voicing[cycle[k % len(cycle)]]
                # notes ring on (sustain pedal, let-ring) until the chord changes
                notes.append(Note(t, chord.end - t, float(p), velocity * (1.0 if k % 4 == 0 else 0.8)))
                t += eighth
                k += 1
        elif pattern == "strum":
            strums = (0, 2, 3, 5, 6, 7) if rng.random() < 0.5 else (0, 2, 4, 6)
            t_steps = np.arange(chord.start, chord.end - 1e-6, eighth)
            for i, t in enumerate(t_steps):
                if (i % 8) not in strums:
                    continue
                down = (i % 2) == 0
                order = voicing if down else voicing[::-1]
                gap = rng.uniform(0.008, 0.016)
                for j, p in enumerate(order):
                    onset = t + j * gap
                    if onset < chord.end:
                        notes.append(Note(onset, chord.end - onset, float(p),
                                          velocity * (1.0 if down else 0.75)))
        elif pattern == "stabs":
            for t in np.arange(chord.start + eighth, chord.end - 1e-6, beat):
                dur = min(eighth * 0.8, chord.end - t)
                notes += [Note(float(t), dur, float(p), velocity) for p in voicing]
        else:
            raise ValueError(f"unknown comping pattern {pattern!r}")
    return notes


def _bass_notes(rng, pattern: str, chords: list[ChordEvent], beat: float, velocity: float) -> list[Note]:
    """A bass line: the chord's bass note on each change, then roots, fifths and octaves."""
    notes: list[Note] = []
    previous = 40.0
    for k, chord in enumerate(chords):
        pc = (chord.root + chord.bass) % 12
        candidates = np.array([pc + 12 * o for o in range(2, 5)], dtype=float)
        candidates = candidates[(candidates >= 31) & (candidates <= 52)]
        low = float(candidates[np.argmin(np.abs(candidates - previous))])
        previous = low
        fifth = low + ((chord.root + 7 - pc) % 12)
        span = chord.end - chord.start
        if pattern == "whole":
            steps, figure = [chord.start], [low]
            durations = [span]
        else:
            step = {"half": 2 * beat, "quarters": beat, "eighths": beat / 2, "offbeat": beat / 2}[pattern]
            steps = list(np.arange(chord.start, chord.end - 1e-6, step))
            cycle = {"half": [low, fifth], "quarters": [low, fifth, low + 12, fifth],
                     "eighths": [low], "offbeat": [low, low + 12]}[pattern]
            figure = [cycle[i % len(cycle)] for i in range(len(steps))]
            durations = [min(step * 0.9, chord.end - t) for t in steps]
            following = chords[k + 1] if k + 1 < len(chords) else None
            if (pattern in ("quarters", "half") and len(steps) > 1 and following is not None
                    and abs(following.start - chord.end) < 1e-6 and rng.random() < 0.5):
                # an approach note a step above or below the next chord's bass
                target = (following.root + following.bass) % 12
                goal = low + ((target - low) % 12 if (target - low) % 12 <= 6 else (target - low) % 12 - 12)
                figure[-1] = goal + (1 if rng.random() < 0.5 else -1) * (1 if rng.random() < 0.5 else 2)
        for i, (t, p, d) in enumerate(zip(steps, figure, durations)):
            if pattern == "offbeat" and i % 2 == 0 and i > 0:
                continue
            notes.append(Note(float(t), float(d), float(p), velocity * (1.0 if i == 0 else 0.85)))
    return notes


def _drum_hits(rng, pattern: str, bars: list[tuple[float, float]], beat: float, phrase_bars: int,
               velocity: float) -> list[DrumHit]:
    """Drum strokes for every bar from a 16th-note pattern, with fills and crashes at phrase ends."""
    hits: list[DrumHit] = []
    sixteenth = beat / 4
    grid = _DRUM_PATTERNS[pattern]
    for b, (start, end) in enumerate(bars):
        fill = (b % phrase_bars == phrase_bars - 1) and rng.random() < 0.5
        if b % phrase_bars == 0 and pattern != "ballad":
            hits.append(DrumHit(start, "crash", 0.7 * velocity))
        for drum, steps in grid.items():
            for step, vel in steps.items():
                if fill and step >= 12 and drum != "kick":
                    continue
                t = start + step * sixteenth
                if t < end - 1e-6:
                    hits.append(DrumHit(float(t), drum, vel * velocity * rng.uniform(0.9, 1.05)))
        if fill:
            for step in (12, 13, 14, 15):
                t = start + step * sixteenth
                if t < end - 1e-6:
                    hits.append(DrumHit(float(t), "snare", velocity * (0.6 + 0.1 * (step - 12))))
    return hits


def _chord_at(chords: list[ChordEvent], t: float) -> ChordEvent | None:
    for chord in chords:
        if chord.start - 1e-6 <= t < chord.end:
            return chord
    return None


def _melody(rng, chords: list[ChordEvent], start: float, end: float, beat: float, tonic: int, mode: str,
            low: int, high: int, sung: bool) -> list[Note]:
    """A legato phrase in the key between ``start`` and ``end``: steps, chord tones on strong beats."""
    scale = np.array(_SCALES[mode])
    pitches = np.array([p for p in range(low, high + 1) if (p - tonic) % 12 in scale])
    cells = ([1.0], [0.5, 0.5], [1.5, 0.5], [2.0], [0.5, 0.5, 1.0], [1.0, 0.5, 0.5], [0.75, 0.25])
    durations: list[float] = []
    total = (end - start) / beat
    while sum(durations) < total - 1e-6:
        durations += list(cells[rng.integers(len(cells))])
    # the last note takes whatever is left, at least half a beat
    while durations and sum(durations[:-1]) > total - 0.5:
        durations.pop()
    durations[-1] = total - sum(durations[:-1])
    idx = int(rng.integers(len(pitches) // 3, 2 * len(pitches) // 3 + 1))
    notes: list[Note] = []
    t = start
    syllable = None
    for i, d in enumerate(durations):
        idx = int(np.clip(idx + rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]), 0, len(pitches) - 1))
        chord = _chord_at(chords, t)
        on_strong = abs(((t - start) / beat) % 2) < 1e-6 or i == len(durations) - 1
        if chord is not None and on_strong:
            tones = [j for j, p in enumerate(pitches) if p % 12 in chord.pitch_classes]
            if i == len(durations) - 1 and chord.root == tonic and rng.random() < 0.7:
                # phrases that end on the tonic chord mostly end on the tonic itself
                tones = [j for j, p in enumerate(pitches) if p % 12 == tonic] or tones
            if tones:
                idx = min(tones, key=lambda j: abs(j - idx))
        if sung:
            # a syllable per note, now and then a melisma that carries the vowel on
            syllable = _SYLLABLES[rng.integers(len(_SYLLABLES))] if (i == 0 or rng.random() > 0.15) else "-"
        notes.append(Note(float(t), float(d * beat), float(pitches[idx]), float(rng.uniform(0.75, 1.0)),
                          syllable or ""))
        t += d * beat
    return notes


def compose_score(rng: np.random.Generator, style: Style, duration: float, *, vocals: bool, lead: str | None,
                  sevenths: bool = False) -> Score:
    """Compose one song of ``style`` lasting ``duration`` seconds (used by ``render_song``).

    ``vocals`` decides whether a voice sings the melody phrases; ``lead`` names a non-vocal lead
    instrument (``'violin'``, ``'flute'``, ``'synth_lead'``) that answers the voice in its rests
    or, without vocals, plays the phrases itself; ``sevenths`` lets some dominants be seventh
    chords (labelled e.g. 'G:7', which majmin evaluation reduces to 'G:maj').
    """
    if duration < MIN_DURATION:
        raise ValueError(f"duration must be at least {MIN_DURATION} s; got {duration}")
    tempo = float(rng.uniform(*style.tempo_range))
    tonic = int(rng.integers(12))
    mode = "minor" if rng.random() < style.minor_probability else "major"
    timeline = _timeline(rng, tempo, duration)
    beat = timeline.beat
    has_drums = bool(rng.random() < style.drum_probability)
    harmonic_bars = _harmonic_bars(rng, timeline.bars, has_drums)
    chords = _chord_events(rng, style, harmonic_bars, beat, tonic, mode, sevenths)
    parts = _comp_parts(rng, style, chords, beat)
    bass_pattern = str(rng.choice(style.bass_patterns))
    bass = style.bass if rng.random() < FAVOURED else str(rng.choice(BASSES))
    parts.append(Part(bass, "bass", _bass_notes(rng, bass_pattern, chords, beat, float(rng.uniform(0.6, 0.9)))))
    drums = (_drum_hits(rng, style.drum_pattern, timeline.bars, beat, _PHRASE_BARS, float(rng.uniform(0.6, 0.9)))
             if has_drums else [])
    parts += _melody_parts(rng, chords, beat, tonic, mode, vocals=vocals, lead=lead)
    return Score(duration=float(duration), style=style.name, tempo=tempo, tonic=tonic, mode=mode,
                 music_start=timeline.music_start, music_end=timeline.music_end, beats=timeline.beats,
                 downbeats=timeline.beats[::4], chords=chords, parts=parts, drums=drums)


@dataclass(frozen=True)
class _Timeline:
    """The song's clock: beats and 4/4 bars between a short lead-in and a tail of silence."""

    beat: float
    music_start: float
    music_end: float
    beats: np.ndarray
    bars: list[tuple[float, float]]


def _timeline(rng: np.random.Generator, tempo: float, duration: float) -> _Timeline:
    beat = 60.0 / tempo
    music_start = float(rng.uniform(0.2, 0.8))
    tail = float(rng.uniform(0.4, 1.0))
    n_beats = int((duration - tail - music_start) // beat)
    if n_beats < 2:
        raise ValueError(f"duration {duration} s is too short for two beats at {tempo:.0f} BPM")
    music_end = music_start + n_beats * beat
    beats = music_start + beat * np.arange(n_beats)
    bars = [(float(s), float(min(s + 4 * beat, music_end))) for s in beats[::4]]
    return _Timeline(beat, music_start, float(music_end), beats, bars)


def _harmonic_bars(rng: np.random.Generator, bars: list[tuple[float, float]], has_drums: bool
                   ) -> list[tuple[float, float]]:
    """The bars that carry harmony; drum-only bars (an intro, a break) are labelled 'N'."""
    harmonic = [True] * len(bars)
    if has_drums and len(bars) >= 3 and rng.random() < 0.6:
        harmonic[0] = False
    if has_drums and len(bars) >= 12 and rng.random() < 0.4:
        harmonic[1 + _PHRASE_BARS * 2 - (not harmonic[0])] = False
    return [b for b, h in zip(bars, harmonic) if h]


def _chord_events(rng: np.random.Generator, style: Style, harmonic_bars: list[tuple[float, float]], beat: float,
                  tonic: int, mode: str, sevenths: bool) -> list[ChordEvent]:
    """The chord progression over the harmonic bars, ``style.chords_per_bar`` chords a bar."""
    chords_per_bar = int(rng.choice(style.chords_per_bar))
    slots: list[tuple[float, float]] = []
    for start, end in harmonic_bars:
        step = 4 * beat / chords_per_bar
        for k in range(chords_per_bar):
            s = start + k * step
            if s < end - 1e-6:
                slots.append((s, min(s + step, end)))
    numerals = roman_numerals(rng, mode, len(slots), _PHRASE_BARS * chords_per_bar)
    chords: list[ChordEvent] = []
    table = NUMERALS[mode]
    for (s, e), numeral in zip(slots, numerals):
        offset, quality = table[numeral]
        root = (tonic + offset) % 12
        inversion = rng.choice(3, p=[0.72, 0.18, 0.10])
        bass = (0, 4 if quality == "maj" else 3, 7)[inversion]
        # dominant sevenths on dominant-function major chords only
        seventh = bool(sevenths and numeral in ("V", "II", "III", "VI") and rng.random() < 0.35)
        chords.append(ChordEvent(float(s), float(e), root, quality, int(bass), seventh))
    return chords


def _comp_parts(rng: np.random.Generator, style: Style, chords: list[ChordEvent], beat: float) -> list[Part]:
    """The accompaniment: ``style.n_comping`` distinct instruments, the first one loudest; each
    is drawn from the style's own ``comping`` with probability ``FAVOURED``, else from ``COMPING``."""
    parts: list[Part] = []
    n_comp = int(rng.integers(style.n_comping[0], style.n_comping[1] + 1))
    used: set[str] = set()
    while len(used) < n_comp:
        favoured = [pair for pair in style.comping if pair[0] not in used]
        pool = favoured if favoured and rng.random() < FAVOURED else [p for p in COMPING if p[0] not in used]
        instrument, pattern = pool[int(rng.integers(len(pool)))]
        used.add(instrument)
        velocity = float(rng.uniform(0.6, 0.9)) if len(used) == 1 else float(rng.uniform(0.35, 0.6))
        parts.append(Part(instrument, "comp", _comp_notes(rng, pattern, instrument, chords, beat, velocity)))
    return parts


def _harmonic_stretches(chords: list[ChordEvent]) -> list[list[float]]:
    """Spans ``[start, end]`` of uninterrupted harmony (chords that follow each other without a gap)."""
    stretches: list[list[float]] = []
    for s, e in [(c.start, c.end) for c in chords]:
        if stretches and abs(stretches[-1][1] - s) < 1e-6:
            stretches[-1][1] = e
        else:
            stretches.append([s, e])
    return stretches


def _melody_parts(rng: np.random.Generator, chords: list[ChordEvent], beat: float, tonic: int, mode: str, *,
                  vocals: bool, lead: str | None) -> list[Part]:
    """Melody phrases over the harmonic stretches, sung by the voice and/or played by the lead."""
    voice_part = Part("voice", "vocals") if vocals else None
    lead_part = Part(lead, "lead") if lead else None
    if vocals:
        low = int(rng.choice([48, 53, 57]))
        v_low, v_high = low, low + 19
    l_low, l_high = (57, 79) if lead != "flute" else (62, 84)
    gaps: list[tuple[float, float]] = []

    def answer(gap_start: float, gap_end: float) -> None:
        """The lead answers the voice in its rest (the hard negative right next to the voice)."""
        a_start, a_end = gap_start + 0.5 * beat, gap_end - 0.25 * beat
        lead_part.notes.extend(_melody(rng, chords, a_start, a_end, beat, tonic, mode, l_low, l_high, False))
        lead_part.phrases.append((a_start, a_end))

    for s, e in _harmonic_stretches(chords):
        t = s + beat * int(rng.integers(0, 3))
        while t < e - 2 * beat:
            length = max(2, int(round(rng.uniform(3.0, 7.0) / beat)))
            p_end = min(t + length * beat, e - 0.5 * beat)
            if p_end - t < 1.5 * beat:
                break
            rest = max(1, int(round(rng.uniform(1.2, 3.5) / beat)))
            if vocals:
                voice_part.notes += _melody(rng, chords, t, p_end, beat, tonic, mode, v_low, v_high, True)
                voice_part.phrases.append((t, p_end))
                gap_end = min(p_end + rest * beat, e - 0.5 * beat)
                if gap_end - p_end >= 1.75 * beat:
                    gaps.append((p_end, gap_end))
                    if lead_part is not None and rng.random() < 0.7:
                        answer(p_end, gap_end)
            elif lead_part is not None:
                lead_part.notes += _melody(rng, chords, t, p_end, beat, tonic, mode, l_low, l_high, False)
                lead_part.phrases.append((t, p_end))
            t = p_end + rest * beat
    if vocals and lead_part is not None and not lead_part.phrases and gaps:
        # a song with a lead always lets it play at least once
        answer(*max(gaps, key=lambda g: g[1] - g[0]))
    return [part for part in (voice_part, lead_part) if part is not None and part.notes]
