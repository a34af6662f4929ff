"""Music nobody here wrote: real compositions played by sampled instruments (out of the world).

:class:`OutOfWorld` is a :class:`~mirbook.data.sources.Source` like the synthetic world: the same
datasets, caches and ``mir_eval`` formats read it (``source="out_of_world"``). Its songs are pieces
of music21's corpus (:mod:`mirbook.data.corpus`) played with a General MIDI SoundFont
(:mod:`mirbook.data.soundfont`), with labels from the score:

- chords: every sonority's Harte majmin label ('X' for non-triads, left out by mir_eval);
- voicing: where a part sung by a sampled choir or voice sounds; ``lead``: where the top part is
  played by a sampled melody instrument (violin, flute, oboe, clarinet, trumpet), the hard negative;
- key: the score's stated key confirmed by its last chord (None otherwise). Served to the
  tagger chapters as the 'tags' task with an empty tag vocabulary: the clips carry the key
  alone, which the taggers' key head and the Krumhansl-Kessler baseline are scored on.

Each split is its own collections by composers that no other split has (:data:`COLLECTIONS`):
the **test** split (Bach's chorales) is read only to report; the **valid** split (Monteverdi's
madrigals, Haydn's and Mozart's string quartets) may choose settings; the **train** split
(Palestrina, Beethoven) may be rendered into training data. Arrangements rotate over three kinds:
the top part sung over instruments, the top part on a melody instrument (no voice), everything
sung (a choir). Book: "The data in this book" and every chord, voice and key chapter.
"""

from __future__ import annotations

import hashlib

import numpy as np

from mirbook.checks import check_positive_int
from mirbook.data.corpus import Score, corpus_pieces, read_score
from mirbook.data.song import Song
from mirbook.data.soundfont import GM_PROGRAMS, render_notes
from mirbook.data.sources import RenderedSource, TrackRef, check_split

__all__ = ["OutOfWorld", "COLLECTIONS", "OUT_OF_WORLD_VERSION", "arrangement"]

#: Bumped whenever the rendering or the labels change, so caches of older songs are not served.
OUT_OF_WORLD_VERSION = "2"

#: split -> (composer, corpus path prefix, file suffix) collections. Composers never repeat across splits.
COLLECTIONS = {
    "train": (("palestrina", "palestrina/", ".krn"), ("beethoven", "beethoven/", ".mxl")),
    "valid": (("monteverdi", "monteverdi/", ".mxl"), ("haydn", "haydn/", ".mxl"), ("mozart", "mozart/", ".mxl")),
    "test": (("bach", "bach/", ".mxl"),),
}

SUNG = ("choir aahs", "voice oohs")
MELODY = ("violin", "flute", "oboe", "clarinet", "trumpet")
ACCOMPANIMENT = ("acoustic grand piano", "harpsichord", "church organ", "nylon guitar", "string ensemble",
                 "viola", "french horn")
BASS = ("cello", "bassoon", "church organ", "acoustic grand piano", "string ensemble")
KINDS = ("sung top part", "instrumental top part", "choir")
#: Quarter notes per minute: the scores state no tempo, so each song draws one in this range.
MIN_TEMPO, MAX_TEMPO = 60.0, 96.0


def _rng(*parts) -> np.random.Generator:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def arrangement(piece: str, index: int, n_parts: int, *, seed: int) -> dict:
    """Who plays what in song ``index``: ``{"kind", "programs" (part -> instrument name), "tempo"}``.

    Deterministic in (piece, index, seed). Part 0 is the top part, the last part the bass.
    """
    rng = _rng("arrangement", piece, index, seed)
    kind = KINDS[index % len(KINDS)]
    if kind == "choir":
        sung = str(rng.choice(SUNG))
        programs = {p: sung for p in range(n_parts)}
    else:
        programs = {0: str(rng.choice(SUNG if kind == "sung top part" else MELODY))}
        for p in range(1, n_parts):
            programs[p] = str(rng.choice(BASS if p == n_parts - 1 else ACCOMPANIMENT))
    return {"kind": kind, "programs": programs, "tempo": float(rng.uniform(MIN_TEMPO, MAX_TEMPO))}


def _union(intervals: list[tuple[float, float]]) -> np.ndarray:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1e-6:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return np.asarray(merged, dtype=float).reshape(-1, 2)


def _chords(score: Score, seconds_per_beat: float, duration: float) -> tuple[np.ndarray, list[str]]:
    bounds, labels = [], []
    for start, end, label in score.chords:
        start, end = start * seconds_per_beat, min(end * seconds_per_beat, duration)
        if end > start:
            bounds.append([start, end])
            labels.append(label)
    if bounds[-1][1] < duration:
        bounds.append([bounds[-1][1], duration])
        labels.append("N")
    return np.asarray(bounds), labels


def render_piece(score: Score, plan: dict, *, sample_rate: int, duration: float, track_id: str) -> Song:
    """Play ``score`` as ``plan`` (:func:`arrangement`) says, cut at ``duration`` s (plus a 1 s tail)."""
    seconds_per_beat = 60.0 / plan["tempo"]
    length = min(score.length * seconds_per_beat + 1.0, duration)
    sung = {p for p, name in plan["programs"].items() if name in SUNG}
    notes = [(n.part, n.pitch, n.start * seconds_per_beat, n.end * seconds_per_beat) for n in score.notes
             if n.start * seconds_per_beat < length]
    programs = {p: GM_PROGRAMS[name] for p, name in plan["programs"].items()}
    stems = {}
    for stem, parts in (("vocals", sung), ("accompaniment", set(programs) - sung)):
        chosen = [n for n in notes if n[0] in parts]
        stems[stem] = (render_notes(chosen, sample_rate=sample_rate, duration=length,
                                    programs={p: programs[p] for p in parts}) if chosen
                       else np.zeros(int(round(length * sample_rate)), dtype=np.float32))
    mix = stems["vocals"] + stems["accompaniment"]
    gain = np.float32(0.5 / max(float(np.abs(mix).max()), 1e-9))
    voicing = _union([(s, min(e, length)) for part, _, s, e in notes if part in sung])
    lead = _union([(s, min(e, length)) for part, _, s, e in notes
                   if part == 0 and plan["kind"] == "instrumental top part"])
    return Song(audio=mix * gain, sample_rate=sample_rate, stems={k: v * gain for k, v in stems.items()},
                chords=_chords(score, seconds_per_beat, length), voicing=voicing, key=score.key,
                tempo=plan["tempo"], lead=lead, style=plan["kind"], track_id=track_id)


class OutOfWorld(RenderedSource):
    """Real compositions with sampled instruments, split by composer (see the module docstring)."""

    name = "out_of_world"
    tasks = ("chords", "voice", "tags")

    @staticmethod
    def pieces(split: str) -> list[str]:
        """The corpus pieces of ``split``: its collections interleaved, each in corpus order."""
        lists = [[p for p in corpus_pieces(composer) if p.startswith(prefix) and p.endswith(suffix)]
                 for composer, prefix, suffix in COLLECTIONS[check_split(split)]]
        return [p for group in zip(*lists) for p in group] + [p for lst in lists for p in lst[min(map(len, lists)):]]

    def tracks(self, split: str, *, task: str | None = None, n_songs: int | None = None) -> list[TrackRef]:
        """The first ``n_songs`` pieces of ``split`` (None: all of them)."""
        self.check_task(task)
        pieces = self.pieces(split)
        if n_songs is not None:
            n_songs = check_positive_int(n_songs, "n_songs")
            if n_songs > len(pieces):
                raise ValueError(f"the out-of-world {split} split has {len(pieces)} pieces; asked for {n_songs}")
            pieces = pieces[:n_songs]
        return [self._track(piece, index) for index, piece in enumerate(pieces)]

    def _track(self, piece: str, index: int) -> TrackRef:
        seed, duration = self.seed, self.duration
        identity = {"source": self.name, "version": OUT_OF_WORLD_VERSION, "piece": piece, "index": index,
                    "seed": seed, "duration": duration}
        track_id = f"{self.name}-{piece}"

        def load(sample_rate: int) -> Song:
            score = read_score(piece, max_beats=duration * MAX_TEMPO / 60.0)
            plan = arrangement(piece, index, len(score.parts), seed=seed)
            return render_piece(score, plan, sample_rate=sample_rate, duration=duration, track_id=track_id)

        return TrackRef(track_id, identity, load)
