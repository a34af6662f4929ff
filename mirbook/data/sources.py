"""Where a dataset's songs come from: the synthetic world or a real dataset on disk.

A source is a list of :class:`TrackRef`: a track id, a JSON-able description of the content
(hashed into cache keys) and a loader that returns a :class:`~mirbook.data.Song` at a given
sample rate. The three task datasets only see TrackRefs, so switching a chapter from the
synthetic world to GuitarSet, Jamendo, MagnaTagATune or GTZAN changes one argument.
Book: "The data in this book" (section "Switching a chapter to a real dataset").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mirbook.data.render import GENERATOR_VERSION, render_song
from mirbook.data.song import Song

__all__ = ["TrackRef", "SPLITS", "check_split", "song_seed", "synthetic_tracks", "MAX_SONGS_PER_SPLIT"]

SPLITS = ("train", "valid", "test")

#: Song seeds of different splits live in disjoint ranges of this size.
MAX_SONGS_PER_SPLIT = 2**20


@dataclass(frozen=True)
class TrackRef:
    """One track of a source: ``load(sample_rate)`` gives the Song; ``identity`` keys caches."""

    track_id: str
    identity: dict
    load: Callable[[int], Song]


def check_split(split: str) -> str:
    """Return ``split`` if it is 'train', 'valid' or 'test', else raise ValueError."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    return split


def song_seed(seed: int, split: str, index: int) -> int:
    """The ``render_song`` seed of song ``index`` of ``split`` in the world seeded by ``seed``.

    Each (seed, split) owns a disjoint block of :data:`MAX_SONGS_PER_SPLIT` seeds, so the
    train, valid and test songs can never coincide.
    """
    check_split(split)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < MAX_SONGS_PER_SPLIT:
        raise ValueError(f"song index must be an int in [0, {MAX_SONGS_PER_SPLIT}); got {index!r}")
    return (seed * len(SPLITS) + SPLITS.index(split)) * MAX_SONGS_PER_SPLIT + index


def synthetic_tracks(split: str, n_songs: int, *, seed: int, duration: float,
                     options: Callable[[int], dict]) -> list[TrackRef]:
    """``n_songs`` synthetic songs of ``split``; ``options(i)`` gives song i's render_song options."""
    check_split(split)
    if isinstance(n_songs, bool) or not isinstance(n_songs, int) or not 1 <= n_songs <= MAX_SONGS_PER_SPLIT:
        raise ValueError(f"n_songs must be an int in [1, {MAX_SONGS_PER_SPLIT}]; got {n_songs!r}")
    tracks = []
    for i in range(n_songs):
        s = song_seed(seed, split, i)
        opts = dict(options(i))
        identity = {"source": "synthetic", "generator": GENERATOR_VERSION, "seed": s, "duration": float(duration),
                    **opts}

        def load(sample_rate: int, s=s, opts=opts) -> Song:
            return render_song(s, duration=float(duration), sample_rate=sample_rate, **opts)

        tracks.append(TrackRef(f"synthetic-{s}", identity, load))
    return tracks
