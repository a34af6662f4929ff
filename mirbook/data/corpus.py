"""Real compositions from the music21 corpus, with labels read from the score (out of the world).

A :class:`Score` is what the out-of-world source renders: every part's notes in beats (quarter
notes), the chord of every vertical sonority in Harte majmin, and the key. Labels come from the
notes themselves, not from an analysis:

- every stretch between two consecutive note starts or ends is a sonority; one whose pitch
  classes are exactly a major or a minor triad is ``'R:maj'`` / ``'R:min'`` (doublings and
  inversions allowed); any other sonority (a seventh chord, a suspension, a passing tone, a bare
  fifth) is ``'X'``, which ``mir_eval.chord`` leaves out of every score; ``'N'`` where nothing
  sounds;
- the key is the one the file states (music21 ``Key``) when the piece's final bass note is its
  tonic; a bare key signature gives major or minor by the same test; otherwise the key is None.

Needs music21 (``pip install mirbook[world]``). Book: "The data in this book" (out of the world).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from mirbook.vocab import KEY_LABELS, PITCH_CLASSES

__all__ = ["Note", "Score", "corpus_pieces", "read_score", "sonority_label"]


@dataclass(frozen=True)
class Note:
    """One note of part ``part``: MIDI ``pitch`` from ``start`` to ``end`` (in beats)."""

    part: int
    pitch: int
    start: float
    end: float


@dataclass(frozen=True)
class Score:
    """A piece as the renderer needs it: ``notes`` sorted by start, ``chords`` as ``(start, end,
    label)`` in beats covering ``[0, length]``, ``key`` as in ``mir_eval.key`` or None."""

    piece: str
    parts: tuple[str, ...]
    notes: tuple[Note, ...]
    chords: tuple[tuple[float, float, str], ...]
    key: str | None
    length: float


def _music21():
    try:
        import music21
    except ImportError as err:  # pragma: no cover - the message is the point
        raise ImportError("the out-of-world source reads scores with music21: pip install 'mirbook[world]' "
                          "(or pip install music21)") from err
    return music21


@cache
def corpus_pieces(composer: str) -> tuple[str, ...]:
    """The corpus paths (relative to music21's corpus folder, sorted) of ``composer``'s pieces."""
    music21 = _music21()
    root = Path(music21.corpus.__file__).parent
    paths = sorted(str(Path(p).relative_to(root)) for p in music21.corpus.getComposer(composer))
    if not paths:
        raise ValueError(f"music21's corpus has no pieces by {composer!r}")
    return tuple(paths)


def sonority_label(pitch_classes) -> str:
    """Harte majmin label of a set of pitch classes: 'R:maj', 'R:min', 'X' (anything else), 'N' (empty)."""
    pcs = {int(p) % 12 for p in pitch_classes}
    if not pcs:
        return "N"
    for root in sorted(pcs):
        if pcs == {root, (root + 4) % 12, (root + 7) % 12}:
            return f"{PITCH_CLASSES[root]}:maj"
        if pcs == {root, (root + 3) % 12, (root + 7) % 12}:
            return f"{PITCH_CLASSES[root]}:min"
    return "X"


def _final_bass(score) -> int | None:
    """Pitch class of the lowest note sounding at the piece's last onset (None: no notes)."""
    notes = [n for n in score.flatten().notes if float(n.quarterLength) > 0]
    if not notes:
        return None
    last = max(float(n.offset) for n in notes)
    sounding = [p for n in notes if float(n.offset) <= last < float(n.offset + n.quarterLength) for p in n.pitches]
    return min(sounding, key=lambda p: p.midi).pitchClass


def _key(score) -> str | None:
    """The stated key (or the key signature's major/minor) whose tonic is the final bass note."""
    music21 = _music21()
    signatures = list(score.flatten().getElementsByClass(music21.key.KeySignature))
    final = _final_bass(score)
    if not signatures or final is None:
        return None
    stated = signatures[0]
    candidates = [stated] if isinstance(stated, music21.key.Key) else [stated.asKey("major"), stated.asKey("minor")]
    for key in candidates:
        if key.tonic.pitchClass == final and key.mode in ("major", "minor"):
            return KEY_LABELS[key.tonic.pitchClass + (12 if key.mode == "minor" else 0)]
    return None


def _merge(segments: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    merged: list[list] = []
    for start, end, label in segments:
        if end <= start:
            continue
        if merged and merged[-1][2] == label and abs(merged[-1][1] - start) < 1e-9:
            merged[-1][1] = end
        elif merged and start > merged[-1][1] + 1e-9:
            merged.append([merged[-1][1], start, "N"])
            merged.append([start, end, label])
        else:
            merged.append([start, end, label])
    return [tuple(s) for s in merged]


def _sonorities(notes: list[Note], length: float) -> list[tuple[float, float, str]]:
    """The label of every stretch between two consecutive note starts or ends, merged where equal."""
    starts = np.array([n.start for n in notes])
    ends = np.array([n.end for n in notes])
    classes = np.array([n.pitch % 12 for n in notes])
    bounds = np.unique(np.concatenate([[0.0, length], starts, ends]))
    return _merge([(float(t0), float(t1), sonority_label(classes[(starts <= t0) & (t0 < ends)]))
                   for t0, t1 in zip(bounds[:-1], bounds[1:])])


def _excerpt(score, max_beats: float | None):
    """The measures of ``score`` up to the first one starting at or after ``max_beats`` (all: None)."""
    if max_beats is None:
        return score
    music21 = _music21()
    later = [m.number for m in score.parts[0].getElementsByClass(music21.stream.Measure) if m.offset >= max_beats]
    return score.measures(0, later[0]) if later else score


def read_score(piece: str, *, max_beats: float | None = None) -> Score:
    """Parse corpus piece ``piece`` (a path from :func:`corpus_pieces`) into a :class:`Score`.

    ``max_beats``: read only the measures needed to cover that many beats (long movements parse
    much faster); the key still comes from the piece's last measures.
    """
    music21 = _music21()
    full = music21.corpus.parse(piece)
    score = _excerpt(full, max_beats).stripTies()
    notes = []
    for index, part in enumerate(score.parts):
        for element in part.flatten().notes:
            start, length = float(element.offset), float(element.quarterLength)
            if length <= 0:  # grace notes take no time
                continue
            for pitch in element.pitches:
                notes.append(Note(index, int(pitch.midi), start, start + length))
    if not notes:
        raise ValueError(f"corpus piece {piece!r} has no notes")
    notes.sort(key=lambda n: (n.start, n.part, n.pitch))
    length = max(n.end for n in notes)
    chords = _sonorities(notes, length)
    parts = tuple(p.partName or f"part {i + 1}" for i, p in enumerate(full.parts))
    return Score(piece, parts, tuple(notes), tuple(chords), _key(full), length)
