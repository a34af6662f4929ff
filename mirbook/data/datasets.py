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
The ``source`` argument switches to a real dataset (``mirbook.data.real``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from mirbook.checks import check_frontend
from mirbook.data.cache import ArrayCache, content_hash, default_cache_dir, frontend_fingerprint
from mirbook.data.song import Song, annotations_from_json, annotations_to_json
from mirbook.data.sources import TrackRef, check_split, synthetic_tracks
from mirbook.data.styles import TAG_NAMES
from mirbook.frames import frame_times, intervals_to_frames
from mirbook.vocab import CHORD_LABELS, chord_chroma, chord_index, key_index

__all__ = ["ChordFrames", "VoiceExcerpts", "TaggedClips", "SongItem", "NO_KEY"]

#: Key target of a clip whose source has no key annotation (PyTorch's default ``ignore_index``).
NO_KEY = -100
# Threads that render or read the songs of a dataset whose features are not cached yet.
_LOAD_THREADS = 4

_CHROMA_TABLE = torch.from_numpy(np.stack([chord_chroma(label) for label in CHORD_LABELS]))


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")
    return int(value)


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
    default_source = "synthetic"

    def __init__(self, split: str, *, n_songs: int | None, seed: int, frontend, duration: float, source: str,
                 root, cache_dir, progress: bool, batch_size: int):
        self.split = check_split(split)
        self.frontend = check_frontend(frontend)
        self.sample_rate = int(frontend.sample_rate)
        self.hop_length = int(frontend.hop_length)
        self.n_bins = int(frontend.n_bins)
        self.source = source
        batch_size = _positive_int(batch_size, "batch_size")
        if source == "synthetic":
            if n_songs is None:
                raise ValueError("n_songs must be a positive int for the synthetic source; got None")
            n_songs = _positive_int(n_songs, "n_songs")
            if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0:
                raise ValueError(f"duration must be a positive number of seconds; got {duration!r}")
            tracks = synthetic_tracks(split, n_songs, seed=seed, duration=float(duration), options=self._render_options)
        else:
            from mirbook.data.real import real_tracks

            tracks = real_tracks(self.task, source, split, root=root)
            if n_songs is not None:
                tracks = tracks[: _positive_int(n_songs, "n_songs")]
        if not tracks:
            raise ValueError(f"the {split!r} split of source {source!r} is empty: no songs to load")
        self.tracks: list[TrackRef] = tracks
        if cache_dir is False:
            cache = ArrayCache(None)
        else:
            cache = ArrayCache(default_cache_dir() if cache_dir is None else Path(cache_dir))
        self._load(cache, progress=progress, batch_size=batch_size)

    # -- subclasses -------------------------------------------------------------------------
    def _render_options(self, index: int) -> dict:
        return {}

    # -- loading ----------------------------------------------------------------------------
    def _load(self, cache: ArrayCache, *, progress: bool, batch_size: int) -> None:
        fingerprint = frontend_fingerprint(self.frontend)
        n = len(self.tracks)
        self.features: list[torch.Tensor | None] = [None] * n
        self.songs: list[Song | None] = [None] * n
        feature_keys = [content_hash({**t.identity, "sample_rate": self.sample_rate, "frontend": fingerprint})
                        for t in self.tracks]
        missing = []
        for i, key in enumerate(feature_keys):
            entry = cache.load(key)
            if entry is None:
                missing.append(i)
                continue
            self.features[i] = torch.from_numpy(entry["features"])
            self.songs[i] = _song_from_entry(entry, with_audio=False)
        bar = tqdm(total=len(missing), desc=f"{type(self).__name__} {self.split}: features", disable=not progress or not missing)
        # Songs are rendered (or read) on a few threads: numpy and scipy release the GIL in their
        # array work (48 tagger songs: 9.6 -> 6.6 s on two cores); each song has its own seed, so
        # the audio is the same as when rendered one by one.
        pool = ThreadPoolExecutor(max_workers=min(_LOAD_THREADS, os.cpu_count() or 1))
        try:
            for chunk_start in range(0, len(missing), batch_size):
                chunk = missing[chunk_start: chunk_start + batch_size]
                songs = dict(zip(chunk, pool.map(lambda i: self._audio_song(cache, self.tracks[i]), chunk)))
                by_length: dict[int, list[int]] = {}
                for i, song in songs.items():
                    by_length.setdefault(song.audio.shape[-1], []).append(i)
                for group in by_length.values():
                    batch = torch.from_numpy(np.stack([songs[i].audio for i in group]).astype(np.float32))
                    feats = self._compute(batch)
                    for i, f in zip(group, feats):
                        self.features[i] = f.contiguous()
                        self.songs[i] = _without_audio(songs[i])
                        cache.save(feature_keys[i], _entry(songs[i], features=f.numpy()))
                bar.update(len(chunk))
        finally:
            pool.shutdown()
            bar.close()
        self.n_frames = [int(f.shape[-1]) for f in self.features]
        self.times = [frame_times(m, sample_rate=self.sample_rate, hop_length=self.hop_length) for m in self.n_frames]

    def _audio_song(self, cache: ArrayCache, track: TrackRef) -> Song:
        """The song with audio: from the song cache (synthetic songs) or rendered / read from disk."""
        if track.identity.get("source") != "synthetic":
            return track.load(self.sample_rate)
        key = content_hash({**track.identity, "sample_rate": self.sample_rate, "what": "song"})
        entry = cache.load(key)
        if entry is not None:
            return _song_from_entry(entry, with_audio=True)
        song = track.load(self.sample_rate)
        cache.save(key, _entry(song, audio=song.audio))
        return song

    def _compute(self, batch: torch.Tensor) -> torch.Tensor:
        try:
            device = next(iter(self.frontend.state_dict().values())).device
        except StopIteration:
            device = torch.device("cpu")
        with torch.inference_mode():
            out = self.frontend(batch.to(device))
        if out.dim() != 3 or out.shape[0] != batch.shape[0] or out.shape[1] != self.n_bins:
            raise ValueError(f"frontend must map (batch, samples) to (batch, n_bins={self.n_bins}, frames); "
                             f"got shape {tuple(out.shape)} for input {tuple(batch.shape)}")
        return out.detach().to("cpu", torch.float32).clone()

    # -- per-song access --------------------------------------------------------------------
    @property
    def n_songs(self) -> int:
        """Number of songs in this split."""
        return len(self.tracks)

    def _check_song_index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < self.n_songs:
            raise ValueError(f"song index must be an int in [0, {self.n_songs}); got {i!r}")
        return int(i)

    def example(self, i: int = 0) -> Song:
        """Song ``i`` with its audio, stems (synthetic songs) and annotations, to play and plot."""
        return self.tracks[self._check_song_index(i)].load(self.sample_rate)

    def song_items(self) -> list[SongItem]:
        """Every song of the split as a :class:`SongItem` (what evaluation loops over)."""
        return [self.song(i) for i in range(self.n_songs)]


def _entry(song: Song, *, features: np.ndarray | None = None, audio: np.ndarray | None = None) -> dict:
    entry = {"meta": np.frombuffer(annotations_to_json(song).encode(), dtype=np.uint8),
             "n_samples": np.array(song.audio.shape[-1])}
    if features is not None:
        entry["features"] = features
    if audio is not None:
        entry["audio"] = audio
    return entry


def _song_from_entry(entry: dict, *, with_audio: bool) -> Song:
    audio = entry["audio"] if with_audio else np.zeros(0, dtype=np.float32)
    song = annotations_from_json(entry["meta"].tobytes().decode(), audio, {})
    song.n_samples = int(entry["n_samples"])
    return song


def _without_audio(song: Song) -> Song:
    return replace(song, audio=np.zeros(0, dtype=np.float32), stems={}, n_samples=int(song.audio.shape[-1]))


def _frame_chord_classes(times: np.ndarray, intervals: np.ndarray, labels: list[str]) -> np.ndarray:
    """Class index (``mirbook.vocab.CHORD_LABELS``) of the chord sounding at each time ('N' outside)."""
    classes = np.array([chord_index(label) for label in labels], dtype=np.int64)
    idx = np.searchsorted(intervals[:, 0], times, side="right") - 1
    inside = (idx >= 0) & (times < intervals[np.clip(idx, 0, None), 1])
    return np.where(inside, classes[np.clip(idx, 0, None)], 0).astype(np.int64)


class ChordFrames(_SongDataset):
    """Chord/chroma frames (paper Section 5.7.1, deep chroma; book: "Deep chroma" chapter).

    Item ``i``: ``(x, chroma, label)`` with ``x`` float32 ``(n_bins, context)``: ``context``
    frames centred on one frame (edge frames repeated at the song's borders), ``chroma``
    float32 ``(12,)``: the binary pitch classes of its chord (zeros for 'N'), ``label`` int64:
    the chord's index in ``mirbook.vocab.CHORD_LABELS`` (majmin classes). There is one item per
    frame of every song. ``n_songs`` songs of ``duration`` seconds form the split (synthetic
    source), or the split of ``source="guitarset"`` under ``root``.
    ``cache_dir``: None = :func:`mirbook.data.cache.default_cache_dir`, False = no cache.
    """

    task = "chords"

    def __init__(self, split: str, *, n_songs: int | None = 32, seed: int = 0, frontend=None, context: int = 15,
                 duration: float = 30.0, source: str = "synthetic", root=None, cache_dir=None,
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
        return self._padded[j][:, f: f + self.context], _CHROMA_TABLE[label], label

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
    every song has a non-vocal lead with vibrato (violin, flute or synth lead: the hard
    negatives) and three in four are sung. ``source="jamendo"`` reads the Jamendo corpus.
    """

    task = "voice"

    def __init__(self, split: str, *, n_songs: int | None = 32, seed: int = 0, frontend=None,
                 excerpt_frames: int = 115, excerpt_hop: int | None = None, duration: float = 30.0,
                 source: str = "synthetic", root=None, cache_dir=None, progress: bool = True, batch_size: int = 8):
        self.excerpt_frames = _positive_int(excerpt_frames, "excerpt_frames")
        self.excerpt_hop = _positive_int(excerpt_hop if excerpt_hop is not None else max(1, excerpt_frames // 2),
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

    def _render_options(self, index: int) -> dict:
        return {"vocals": index % 4 != 3, "lead": True}

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
    ``clip_seconds`` are spread evenly over the music of each song. Sources: synthetic
    (:data:`mirbook.data.TAG_NAMES`), ``"magnatagatune"`` (top-50 tags), ``"gtzan"`` (genres).
    """

    task = "tags"

    def __init__(self, split: str, *, n_songs: int | None = 48, seed: int = 0, frontend=None,
                 clip_seconds: float = 10.0, clips_per_song: int = 2, duration: float = 30.0,
                 source: str = "synthetic", root=None, cache_dir=None, progress: bool = True, batch_size: int = 8):
        if isinstance(clip_seconds, bool) or not isinstance(clip_seconds, (int, float)) or not clip_seconds > 0:
            raise ValueError(f"clip_seconds must be a positive number; got {clip_seconds!r}")
        self.clips_per_song = _positive_int(clips_per_song, "clips_per_song")
        super().__init__(split, n_songs=n_songs, seed=seed, frontend=frontend, duration=duration, source=source,
                         root=root, cache_dir=cache_dir, progress=progress, batch_size=batch_size)
        self.clip_frames = int(round(clip_seconds * self.sample_rate / self.hop_length))
        if source == "synthetic":
            self.tag_names = list(TAG_NAMES)
        else:
            from mirbook.data.real import real_tag_names

            self.tag_names = list(real_tag_names(source, root=root))
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

    def __getitem__(self, index: int):
        j, s = self._index[index]
        return self.features[j][:, s: s + self.clip_frames], self.tags[j], self.keys[j]

    def song(self, i: int) -> SongItem:
        """Song ``i``: full features, frame times, multi-hot tags; ``item.song.key`` the reference key."""
        i = self._check_song_index(i)
        return SongItem(self.features[i], self.times[i], self.tags[i], self.songs[i])
