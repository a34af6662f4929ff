"""Where a dataset's songs come from: the :class:`Source` interface and the synthetic world.

A source is an object with a ``name``, the ``tasks`` it serves ('chords', 'voice', 'tags'),
``tracks(split, task=..., n_songs=...)`` and ``tag_names()``. A track is a :class:`TrackRef`:
a track id, a JSON-able description of the content (hashed into cache keys) and a loader that
returns a :class:`~mirbook.data.Song` at a given sample rate. The three task datasets only see
sources and TrackRefs, so switching a chapter from the synthetic world to GuitarSet, Jamendo,
MagnaTagATune or GTZAN (``mirbook.data.real``) changes one argument.
Book: "The data in this book" (section "Switching a chapter to a real dataset").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mirbook.checks import check_choice, check_positive_int
from mirbook.data.render import GENERATOR_VERSION, render_song
from mirbook.data.song import Song
from mirbook.data.styles import TAG_NAMES

__all__ = ["TrackRef", "Source", "RenderedSource", "SyntheticWorld", "TASKS", "SPLITS", "WORLD_SPLITS", "check_split",
           "song_seed", "MAX_SONGS_PER_SPLIT"]

#: The splits of every source: training, validation (every choice) and test (read only to report).
SPLITS = ("train", "valid", "test")

#: The synthetic world's splits: those of every source and 'ci', held-out songs that the book's
#: tests assert the chapters' bars on, so that the world's 'test' songs are read only to report
#: (``make comparison``).
WORLD_SPLITS = ("train", "valid", "ci", "test")

#: The task families of paper Section 5.7, one per dataset class (``mirbook.data.datasets``).
TASKS = ("chords", "voice", "tags")

#: Song seeds of different splits live in disjoint ranges of this size.
MAX_SONGS_PER_SPLIT = 2**20


@dataclass(frozen=True)
class TrackRef:
    """One track of a source: ``load(sample_rate)`` gives the Song; ``identity`` keys caches."""

    track_id: str
    identity: dict
    load: Callable[[int], Song]


def check_split(split: str, splits: tuple[str, ...] = SPLITS) -> str:
    """Return ``split`` if it is one of ``splits`` ('train', 'valid' or 'test'), else raise ValueError."""
    return check_choice(split, "split", splits)


class Source:
    """A collection of annotated tracks that the task datasets read (book: "The data in this book").

    A new source is a subclass that sets ``name`` and ``tasks`` and implements :meth:`tracks`
    (and :meth:`tag_names` when it serves 'tags'). ``cache_songs`` says whether a loaded song's
    audio is worth caching (rendered songs: yes; files read from disk: no).
    """

    name = ""
    tasks: tuple[str, ...] = ()
    cache_songs = False

    @classmethod
    def for_dataset(cls, *, seed: int, duration: float, root) -> "Source":
        """The source a dataset builds from ``source="<name>"`` and its other arguments."""
        return cls()

    def tracks(self, split: str, *, task: str | None = None, n_songs: int | None = None) -> list[TrackRef]:
        """The tracks of ``split`` for ``task`` (None: any task), at most ``n_songs`` (None: all)."""
        raise NotImplementedError

    def check_task(self, task: str | None) -> str | None:
        """Return ``task`` if this source serves it (or it is None), else raise ValueError."""
        if task is not None and task not in self.tasks:
            raise ValueError(f"source {self.name!r} serves the tasks {self.tasks}; got task {task!r}")
        return task

    def tag_names(self) -> list[str]:
        """The tag vocabulary, in the order of the multi-hot vectors (empty: no tags)."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def song_seed(seed: int, split: str, index: int) -> int:
    """The ``render_song`` seed of song ``index`` of ``split`` in the world seeded by ``seed``.

    Each (seed, split) owns a disjoint block of :data:`MAX_SONGS_PER_SPLIT` seeds, so the
    songs of the :data:`WORLD_SPLITS` can never coincide.
    """
    check_split(split, WORLD_SPLITS)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < MAX_SONGS_PER_SPLIT:
        raise ValueError(f"song index must be an int in [0, {MAX_SONGS_PER_SPLIT}); got {index!r}")
    return (seed * len(WORLD_SPLITS) + WORLD_SPLITS.index(split)) * MAX_SONGS_PER_SPLIT + index


class RenderedSource(Source):
    """A source that renders its songs from a ``seed`` and a song length ``duration`` (seconds): the
    synthetic world and the out-of-world pieces (``mirbook.data.out_of_world``)."""

    cache_songs = True

    def __init__(self, *, seed: int = 0, duration: float = 30.0):
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0:
            raise ValueError(f"duration must be a positive number of seconds; got {duration!r}")
        song_seed(seed, "train", 0)  # checks the seed
        self.seed = seed
        self.duration = float(duration)

    @classmethod
    def for_dataset(cls, *, seed: int, duration: float, root) -> "RenderedSource":
        return cls(seed=seed, duration=duration)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed}, duration={self.duration})"


class SyntheticWorld(RenderedSource):
    """The embedded music world: ``render_song`` songs of ``duration`` seconds, seeded by ``seed``.

    Every task is served; the voice task's songs all have a non-vocal lead with vibrato (violin,
    flute or synth lead: the hard negatives) and three in four are sung. Splits:
    :data:`WORLD_SPLITS` (a 'ci' split beside train, valid and test). Tags:
    :data:`mirbook.data.TAG_NAMES`. Book: "The data in this book"; every model chapter.
    """

    name = "synthetic"
    tasks = TASKS

    @staticmethod
    def render_options(task: str | None, index: int) -> dict:
        """The ``render_song`` options of song ``index`` of a ``task`` dataset."""
        return {"vocals": index % 4 != 3, "lead": True} if task == "voice" else {}

    def tracks(self, split: str, *, task: str | None = None, n_songs: int | None = None) -> list[TrackRef]:
        """``n_songs`` songs of ``split`` (required: the world has as many songs as asked for)."""
        check_split(split, WORLD_SPLITS)
        self.check_task(task)
        if n_songs is None:
            raise ValueError("n_songs must be a positive int for the synthetic source; got None")
        n_songs = check_positive_int(n_songs, "n_songs")
        if n_songs > MAX_SONGS_PER_SPLIT:
            raise ValueError(f"n_songs must be an int in [1, {MAX_SONGS_PER_SPLIT}]; got {n_songs!r}")
        return [self._track(song_seed(self.seed, split, i), self.render_options(task, i)) for i in range(n_songs)]

    def _track(self, seed: int, options: dict) -> TrackRef:
        duration = self.duration
        identity = {"source": "synthetic", "generator": GENERATOR_VERSION, "seed": seed, "duration": duration,
                    **options}

        def load(sample_rate: int) -> Song:
            return render_song(seed, duration=duration, sample_rate=sample_rate, **options)

        return TrackRef(f"synthetic-{seed}", identity, load)

    def tag_names(self) -> list[str]:
        return list(TAG_NAMES)
