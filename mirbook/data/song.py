"""The ``Song`` container: audio plus ground truth in mir_eval's formats.

Both the synthetic songs of ``render_song`` and the tracks of the real-dataset adapters are
``Song`` objects, so the three task datasets read them the same way. Annotations a source does
not have are None (a GTZAN track has no chords). Book: "The data in this book".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Song", "annotations_to_json", "annotations_from_json"]

_ARRAY_FIELDS = ("voicing", "beats", "downbeats", "onsets", "lead")


@dataclass
class Song:
    """A mono recording and its annotations (paper Table 1's tasks; book: every chapter).

    - ``audio``: float32 mono samples at ``sample_rate`` Hz; ``stems``: name -> float32 dry
      stem (e.g. ``"vocals"``, ``"piano"``, ``"drums"``), same length.
    - ``chords``: ``(intervals (n, 2) seconds, Harte labels)``, sorted, contiguous, covering the
      song, ``'N'`` where no chord sounds (``mir_eval.chord`` format).
    - ``voicing``: ``(n, 2)`` intervals where the singing voice sounds; ``f0``: ``(times, Hz)``
      with 0 where the voice is unvoiced (``mir_eval.melody`` format).
    - ``key`` ('C# minor', ``mir_eval.key``), ``tempo`` (BPM), ``beats``, ``downbeats``,
      ``onsets`` (seconds), ``tags`` (list of str), ``style``.
    - ``lead``: ``(n, 2)`` intervals where the non-vocal lead (a hard negative) plays.
    - ``track_id``: where the song comes from; ``n_samples``: the audio's length, kept when a
      dataset drops the audio of a cached song.
    """

    audio: np.ndarray
    sample_rate: int
    stems: dict[str, np.ndarray] = field(default_factory=dict)
    chords: tuple[np.ndarray, list[str]] | None = None
    voicing: np.ndarray | None = None
    f0: tuple[np.ndarray, np.ndarray] | None = None
    key: str | None = None
    tempo: float | None = None
    beats: np.ndarray | None = None
    downbeats: np.ndarray | None = None
    onsets: np.ndarray | None = None
    tags: list[str] = field(default_factory=list)
    style: str | None = None
    lead: np.ndarray | None = None
    track_id: str = ""
    n_samples: int | None = None

    def __post_init__(self):
        if self.n_samples is None:
            self.n_samples = int(self.audio.shape[-1])

    @property
    def duration(self) -> float:
        """Length in seconds (also known when a dataset keeps the annotations without the audio)."""
        return self.n_samples / self.sample_rate

    @property
    def has_vocals(self) -> bool:
        """True when the song has sung (voiced) intervals."""
        return self.voicing is not None and len(self.voicing) > 0


def annotations_to_json(song: Song) -> str:
    """Serialise everything but the audio and stems (the cache stores these separately)."""
    meta = {
        "sample_rate": song.sample_rate,
        "key": song.key,
        "tempo": song.tempo,
        "tags": list(song.tags),
        "style": song.style,
        "track_id": song.track_id,
        "stems": sorted(song.stems),
        "chords": None if song.chords is None else [np.asarray(song.chords[0]).tolist(), list(song.chords[1])],
        "f0": None if song.f0 is None else [np.asarray(song.f0[0]).tolist(), np.asarray(song.f0[1]).tolist()],
    }
    for name in _ARRAY_FIELDS:
        value = getattr(song, name)
        meta[name] = None if value is None else np.asarray(value).tolist()
    return json.dumps(meta)


def annotations_from_json(text: str, audio: np.ndarray, stems: dict[str, np.ndarray]) -> Song:
    """Inverse of :func:`annotations_to_json`, given the audio and stems."""
    meta = json.loads(text)
    song = Song(audio=audio, sample_rate=int(meta["sample_rate"]), stems=stems, key=meta["key"],
                tempo=meta["tempo"], tags=list(meta["tags"]), style=meta["style"], track_id=meta["track_id"])
    if meta["chords"] is not None:
        song.chords = (np.asarray(meta["chords"][0], dtype=float).reshape(-1, 2), list(meta["chords"][1]))
    if meta["f0"] is not None:
        song.f0 = (np.asarray(meta["f0"][0], dtype=float), np.asarray(meta["f0"][1], dtype=float))
    for name in _ARRAY_FIELDS:
        value = meta[name]
        if value is not None:
            array = np.asarray(value, dtype=float)
            setattr(song, name, array.reshape(-1, 2) if name in ("voicing", "lead") else array)
    return song
