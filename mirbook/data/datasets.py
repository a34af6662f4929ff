"""The three torch Datasets of the book's three task families (paper Table 1, Section 5.7).

- :class:`ChordFrames` (time-varying, deep chroma chapter): a window of ``context`` frames
  centred on a frame, its 12-d chroma target and its chord class (``mirbook.vocab``).
- :class:`VoiceExcerpts` (time-varying, the two singing-voice chapters): excerpts of
  ``excerpt_frames`` frames with a 0/1 voicing label per frame; the songs carry non-vocal leads
  with vibrato (hard negatives).
- :class:`TaggedClips` (time-invariant, the three tagger chapters): fixed-length clips with
  multi-hot tags and the key (index into ``mirbook.vocab.KEY_LABELS``).

Features are computed once per song with the caller's frontend (any module with int
``sample_rate``, ``hop_length`` and ``n_bins``, e.g. a ``mirbook.representations.Frontend``),
in batches, and cached on disk (``mirbook.data.cache``); epochs only slice them. Splits are
deterministic and never share a song. Each dataset gives per-song access for evaluation
(:meth:`song`, :meth:`song_items`) and :meth:`example` (audio and annotations to play and plot).
``source`` names where the songs come from (:data:`SOURCES`: the synthetic world, the
out-of-world pieces of ``mirbook.data.out_of_world``, the real
datasets of ``mirbook.data.real``) or is a :class:`~mirbook.data.sources.Source` object.
A track that cannot be read (an unreadable or empty audio file, a malformed annotation file)
stops the whole split with a ValueError naming the track and its files; no file is skipped, so a
split's scores always cover the collection asked for. Fix or remove the file and build again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from mirbook.checks import check_frontend, check_positive_int
from mirbook.data.cache import ArrayCache, cached_song, default_cache_dir, load_features
from mirbook.data.out_of_world import OutOfWorld
from mirbook.data.real import GTZAN, GuitarSet, Jamendo, MagnaTagATune
from mirbook.data.song import Song
from mirbook.data.sources import WORLD_SPLITS, Source, SyntheticWorld, TrackRef, check_split
from mirbook.frames import frame_times, intervals_to_frames
from mirbook.vocab import CHORD_CHROMA, IGNORE_CHORD, NO_KEY, check_tag_names, chord_index, key_index

__all__ = ["ChordFrames", "VoiceExcerpts", "TaggedClips", "KeyOnlyClips", "SongItem", "NO_KEY", "SOURCES",
           "make_source"]

#: The names ``source="..."`` accepts and the :class:`~mirbook.data.sources.Source` classes they build.
SOURCES: dict[str, type[Source]] = {cls.name: cls for cls in (SyntheticWorld, OutOfWorld, GuitarSet, Jamendo,
                                                                MagnaTagATune, GTZAN)}

_CHROMA_TABLE = torch.tensor(CHORD_CHROMA)
_NO_CHROMA = torch.zeros(CHORD_CHROMA.shape[1])  # the chroma item of an ignored chord


def make_source(source: str | Source, *, seed: int = 0, duration: float = 30.0, root=None) -> Source:
    """The source a dataset reads: a :class:`Source` as is, or a name in :data:`SOURCES` built from
    ``seed`` and ``duration`` (the synthetic world) or ``root`` (a real dataset's folder)."""
    if isinstance(source, Source):
        return source
    if source not in SOURCES:
        raise ValueError(f"source must be a Source or one of {tuple(SOURCES)}; got {source!r}")
    return SOURCES[source].for_dataset(seed=seed, duration=duration, root=root)


@dataclass
class SongItem:
    """One whole song as a dataset sees it (for evaluation and plots).

    ``features``: float32 tensor (bins, frames); ``times``: frame centres in seconds;
    ``targets``: per-frame targets of the task (chord class indices, 0/1 voicing) or the
    song's multi-hot tags; ``song``: the annotations (a :class:`Song` without audio).
    """

    features: torch.Tensor
    times: np.ndarray
    targets: torch.Tensor
    song: Song


class _SongDataset(Dataset):
    """Shared machinery: the tracks of a split, their cached features and annotations."""

    task = ""

    def __init__(self, split: str, *, n_songs: int | None, seed: int, frontend, duration: float,
                 source: str | Source, root, cache_dir, progress: bool, batch_size: int):
        self.split = check_split(split, WORLD_SPLITS)  # the source checks its own splits
        self.frontend = check_frontend(frontend)
        self.sample_rate = int(frontend.sample_rate)
        self.hop_length = int(frontend.hop_length)
        self.n_bins = int(frontend.n_bins)
        self.source = make_source(source, seed=seed, duration=duration, root=root)
        if self.task not in self.source.tasks:
            serving = tuple(name for name, cls in SOURCES.items() if self.task in cls.tasks)
            raise ValueError(f"{type(self).__name__} needs a source that serves {self.task!r}: one of {serving} "
                             f"or a Source object; got source {self.source.name!r}")
        batch_size = check_positive_int(batch_size, "batch_size")
        self.tracks: list[TrackRef] = self.source.tracks(split, task=self.task, n_songs=n_songs)
        if not self.tracks:
            raise ValueError(f"the {split!r} split of source {self.source.name!r} is empty: no songs to load")
        cache = ArrayCache(None if cache_dir is False else Path(cache_dir) if cache_dir is not None
                           else default_cache_dir())
        self._cache = cache
        self.features, self.songs = load_features(
            self.tracks, self.frontend, cache=cache, cache_songs=self.source.cache_songs, batch_size=batch_size,
            progress=progress, desc=f"{type(self).__name__} {split}: features")
        self.n_frames = [int(f.shape[-1]) for f in self.features]
        self.times = [frame_times(m, sample_rate=self.sample_rate, hop_length=self.hop_length) for m in self.n_frames]

    # -- per-song access --------------------------------------------------------------------
    @property
    def n_songs(self) -> int:
        """Number of songs in this split."""
        return len(self.tracks)

    def _check_song_index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < self.n_songs:
            raise ValueError(f"song index must be an int in [0, {self.n_songs}); got {i!r}")
        return int(i)

    def example(self, i: int = 0, *, stems: bool = True) -> Song:
        """Song ``i`` with its audio, stems (synthetic songs) and annotations, to play and plot.

        ``stems=False``: the mix and annotations only, read from the song cache where the source
        keeps one (rendered sources), without rendering again: what audio baselines need."""
        track = self.tracks[self._check_song_index(i)]
        if stems or not self.source.cache_songs:
            return track.load(self.sample_rate)
        return replace(cached_song(track, self.sample_rate, self._cache), stems={})

    def song_items(self) -> list[SongItem]:
        """Every song of the split as a :class:`SongItem` (what evaluation loops over)."""
        return [self.song(i) for i in range(self.n_songs)]


def _frame_chord_classes(times: np.ndarray, intervals: np.ndarray, labels: list[str]) -> np.ndarray:
    """Class index (``mirbook.vocab.CHORD_LABELS``) of the chord sounding at each time ('N' outside
    the intervals; ``IGNORE_CHORD`` where the chord is outside majmin, see ``mirbook.vocab.chord_index``)."""
    classes = np.array([chord_index(label) for label in labels], dtype=np.int64)
    idx = np.searchsorted(intervals[:, 0], times, side="right") - 1
    inside = (idx >= 0) & (times < intervals[np.clip(idx, 0, None), 1])
    return np.where(inside, classes[np.clip(idx, 0, None)], 0).astype(np.int64)


class ChordFrames(_SongDataset):
    """Chord/chroma frames (paper Section 5.7.1, deep chroma; book: "Deep chroma" chapter).

    Item ``i``: ``(x, chroma, label)`` with ``x`` float32 ``(n_bins, context)``: ``context``
    frames centred on one frame (edge frames repeated at the song's borders), ``chroma``
    float32 ``(12,)``: the binary pitch classes of its chord (zeros for 'N'), ``label`` int64:
    the chord's index in ``mirbook.vocab.CHORD_LABELS`` (majmin classes), or ``IGNORE_CHORD``
    for a chord majmin leaves out (zero chroma; the model's loss skips it). There is one item per
    frame of every song. ``n_songs`` songs of ``duration`` seconds form the split (synthetic
    world, seeded by ``seed``), or the split of ``source="guitarset"`` under ``root``.
    ``cache_dir``: None = :func:`mirbook.data.cache.default_cache_dir`, False = no cache.
    """

    task = "chords"

    def __init__(self, split: str, *, n_songs: int | None = 32, seed: int = 0, frontend=None, context: int = 15,
                 duration: float = 30.0, source: str | Source = "synthetic", root=None, cache_dir=None,
                 progress: bool = True, batch_size: int = 8):
        if isinstance(context, bool) or not isinstance(context, int) or context < 1 or context % 2 == 0:
            raise ValueError(f"context must be a positive odd number of frames (centred); got {context!r}")
        self.context = context
        super().__init__(split, n_songs=n_songs, seed=seed, frontend=frontend, duration=duration, source=source,
                         root=root, cache_dir=cache_dir, progress=progress, batch_size=batch_size)
        half = context // 2
        self._padded = [torch.nn.functional.pad(f[None], (half, half), mode="replicate")[0] for f in self.features]
        self.labels = []
        for song, times in zip(self.songs, self.times):
            if song.chords is None:
                raise ValueError(f"track {song.track_id!r} has no chord annotation")
            self.labels.append(torch.from_numpy(_frame_chord_classes(times, *song.chords)))
        self._offsets = np.cumsum([0] + self.n_frames)

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"frame index {index} out of range for {len(self)} frames")
        index = index % len(self)
        j = int(np.searchsorted(self._offsets, index, side="right") - 1)
        f = index - int(self._offsets[j])
        label = self.labels[j][f]
        chroma = _NO_CHROMA if label == IGNORE_CHORD else _CHROMA_TABLE[label]
        return self._padded[j][:, f: f + self.context], chroma, label

    def song(self, i: int) -> SongItem:
        """Song ``i``: features (bins, frames), frame times, per-frame chord classes; reference
        ``item.song.chords`` = (intervals, labels) for ``mirbook.evaluate.evaluate_chords``."""
        i = self._check_song_index(i)
        return SongItem(self.features[i], self.times[i], self.labels[i], self.songs[i])


class VoiceExcerpts(_SongDataset):
    """Singing-voice excerpts (paper Section 5.7.2-5.7.3; book: the two voice chapters).

    Item: ``(x, voicing)`` with ``x`` float32 ``(n_bins, excerpt_frames)`` and ``voicing``
    float32 ``(excerpt_frames,)``: 1 where the voice sounds at the frame's centre. Excerpts
    start every ``excerpt_hop`` frames (the last one ends at the song's end). Synthetic songs:
    see :class:`~mirbook.data.sources.SyntheticWorld` (hard negatives: a non-vocal lead in every
    song). ``source="jamendo"`` reads the Jamendo corpus.
    """

    task = "voice"

    def __init__(self, split: str, *, n_songs: int | None = 32, seed: int = 0, frontend=None,
                 excerpt_frames: int = 115, excerpt_hop: int | None = None, duration: float = 30.0,
                 source: str | Source = "synthetic", root=None, cache_dir=None, progress: bool = True,
                 batch_size: int = 8):
        self.excerpt_frames = check_positive_int(excerpt_frames, "excerpt_frames")
        self.excerpt_hop = check_positive_int(excerpt_hop if excerpt_hop is not None else max(1, excerpt_frames // 2),
                                         "excerpt_hop")
        super().__init__(split, n_songs=n_songs, seed=seed, frontend=frontend, duration=duration, source=source,
                         root=root, cache_dir=cache_dir, progress=progress, batch_size=batch_size)
        self.labels = []
        self._index = []
        for j, (song, m) in enumerate(zip(self.songs, self.n_frames)):
            if song.voicing is None:
                raise ValueError(f"track {song.track_id!r} has no voicing annotation")
            if m < self.excerpt_frames:
                raise ValueError(f"excerpt_frames={self.excerpt_frames} is longer than song {j} "
                                 f"({m} frames); use shorter excerpts or longer songs")
            self.labels.append(torch.from_numpy(intervals_to_frames(
                song.voicing, m, sample_rate=self.sample_rate, hop_length=self.hop_length).astype(np.float32)))
            starts = list(range(0, m - self.excerpt_frames + 1, self.excerpt_hop))
            if starts[-1] != m - self.excerpt_frames:
                starts.append(m - self.excerpt_frames)
            self._index += [(j, s) for s in starts]

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, index: int):
        j, s = self._index[index]
        e = s + self.excerpt_frames
        return self.features[j][:, s:e], self.labels[j][s:e]

    def song(self, i: int) -> SongItem:
        """Song ``i``: features, frame times, per-frame voicing; reference ``item.song.voicing``."""
        i = self._check_song_index(i)
        return SongItem(self.features[i], self.times[i], self.labels[i], self.songs[i])


class TaggedClips(_SongDataset):
    """Fixed-length clips with tags and key (paper Section 5.7.4-5.7.6; book: the tagger chapters).

    Item: ``(x, tags, key)`` with ``x`` float32 ``(n_bins, clip_frames)``, ``tags`` float32
    multi-hot ``(n_tags,)`` in the order of :attr:`tag_names`, ``key`` int64 index into
    ``mirbook.vocab.KEY_LABELS`` (:data:`NO_KEY` = -100 when the source has no key, which
    ``torch.nn.functional.cross_entropy`` ignores). ``clips_per_song`` clips of
    ``clip_seconds`` are spread evenly over the music of each song. Tags: the source's
    ``tag_names()``: synthetic (:data:`mirbook.data.TAG_NAMES`), ``"magnatagatune"`` (top-50
    tags), ``"gtzan"`` (genres).
    """

    task = "tags"

    def __init__(self, split: str, *, n_songs: int | None = 48, seed: int = 0, frontend=None,
                 clip_seconds: float = 10.0, clips_per_song: int = 2, duration: float = 30.0,
                 source: str | Source = "synthetic", root=None, cache_dir=None, progress: bool = True,
                 batch_size: int = 8):
        if isinstance(clip_seconds, bool) or not isinstance(clip_seconds, (int, float)) or not clip_seconds > 0:
            raise ValueError(f"clip_seconds must be a positive number; got {clip_seconds!r}")
        self.clips_per_song = check_positive_int(clips_per_song, "clips_per_song")
        check_frontend(frontend)
        self.clip_frames = int(round(clip_seconds * int(frontend.sample_rate) / int(frontend.hop_length)))
        frame_seconds = int(frontend.hop_length) / int(frontend.sample_rate)
        if self.clip_frames < 1:
            raise ValueError(f"clip_seconds={clip_seconds} is less than one frame of the frontend "
                             f"(hop_length / sample_rate = {frame_seconds:.4g} s); clips need at least "
                             f"clip_seconds={frame_seconds:.4g}")
        source = make_source(source, seed=seed, duration=duration, root=root)
        self.tag_names = list(check_tag_names(source.tag_names(), name=f"source {source.name!r}'s tag_names()"))
        super().__init__(split, n_songs=n_songs, seed=seed, frontend=frontend, duration=duration, source=source,
                         root=root, cache_dir=cache_dir, progress=progress, batch_size=batch_size)
        position = {t: k for k, t in enumerate(self.tag_names)}
        self.tags, self.keys, self._index = [], [], []
        for j, (song, m, times) in enumerate(zip(self.songs, self.n_frames, self.times)):
            if m < self.clip_frames:
                raise ValueError(f"clip_seconds={clip_seconds} ({self.clip_frames} frames) is longer than song {j} "
                                 f"({m} frames)")
            unknown = [t for t in song.tags if t not in position]
            if unknown:
                raise ValueError(f"track {song.track_id!r} has tags {unknown} outside the vocabulary {self.tag_names}")
            hot = torch.zeros(len(self.tag_names))
            hot[[position[t] for t in song.tags]] = 1.0
            self.tags.append(hot)
            self.keys.append(torch.tensor(key_index(song.key) if song.key else NO_KEY, dtype=torch.int64))
            first, last = 0, m - self.clip_frames
            if song.beats is not None and len(song.beats) > 1:
                # spread the clips over the music, not the silence around it
                lo = int(np.searchsorted(times, song.beats[0]))
                hi = int(np.searchsorted(times, song.beats[-1] + (song.beats[-1] - song.beats[-2])))
                if hi - lo >= self.clip_frames:
                    first, last = lo, hi - self.clip_frames
            starts = np.linspace(first, last, self.clips_per_song).round().astype(int)
            self._index += [(j, int(s)) for s in starts]

    @property
    def n_tags(self) -> int:
        """Number of tags (length of the multi-hot vectors)."""
        return len(self.tag_names)

    def __len__(self) -> int:
        return len(self._index)

    @property
    def clip_songs(self) -> list[int]:
        """The song each clip is cut from, in clip order (clips of one song are scored as one item)."""
        return [j for j, _ in self._index]

    def __getitem__(self, index: int):
        j, s = self._index[index]
        return self.features[j][:, s: s + self.clip_frames], self.tags[j], self.keys[j]

    def song(self, i: int) -> SongItem:
        """Song ``i``: full features, frame times, multi-hot tags; ``item.song.key`` the reference key."""
        i = self._check_song_index(i)
        return SongItem(self.features[i], self.times[i], self.tags[i], self.songs[i])


class KeyOnlyClips(Dataset):
    """The clips of ``clips`` that have a key, their tags unknown: training items for a tagger's key
    head (paper Section 5.7.2; tagger chapters, which add the out-of-world pieces this way).

    Item: ``(x, tags, key)`` as :class:`TaggedClips` yields, with ``tags`` all NaN over
    ``tag_names`` (the vocabulary of the clips they train beside), which the taggers' loss leaves
    out of its tag term. Clips whose key is :data:`NO_KEY` are dropped: they would teach nothing.
    """

    def __init__(self, clips: TaggedClips, tag_names):
        self.tag_names = list(check_tag_names(tag_names, name="tag_names"))
        self.clips = clips
        self._index = [i for i, key in enumerate(clips.keys[j] for j, _ in clips._index) if int(key) != NO_KEY]
        self._unknown = torch.full((len(self.tag_names),), float("nan"))

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, index: int):
        x, _, key = self.clips[self._index[index]]
        return x, self._unknown.clone(), key
