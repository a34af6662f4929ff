"""The on-disk cache of rendered songs and computed features, keyed by content hashes.

Re-running a chapter should not re-render its songs nor recompute their spectrograms.
:func:`load_features` gives the datasets every track's features and annotations: it reads what
the cache holds, renders (or reads) the missing songs on a few threads, computes their features
in batches and stores them. Every entry is one ``.npz`` file named by a SHA-256 hash of
everything that determines it (the generator's version and configuration, a song's seed and
options, and for features the frontend's configuration and filter weights), so a changed
configuration never reads a stale entry. Files are written to a temporary file in the same
folder and renamed (``mirbook.io.write_atomically``), so an interrupted run never leaves a
readable partial file. Book: "The data in this book".
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from mirbook.data.song import Song, annotations_from_json, annotations_to_json
from mirbook.data.sources import TrackRef
from mirbook.io import checkout_dir, write_atomically

__all__ = ["default_cache_dir", "content_hash", "frontend_fingerprint", "ArrayCache", "load_features"]

#: Threads that render or read the songs whose features are not cached yet.
LOAD_THREADS = 4

#: Cache folders a write failed in (each is warned about once per process).
_UNWRITABLE: set[Path] = set()


def default_cache_dir() -> Path:
    """Where caches live: ``$MIRBOOK_CACHE_DIR`` if set; in a source checkout ``data/cache``
    (git-ignored) next to the package; otherwise ``~/.cache/mirbook``."""
    env = os.environ.get("MIRBOOK_CACHE_DIR")
    if env:
        return Path(env)
    checkout = checkout_dir()
    if checkout is not None:
        return checkout / "data" / "cache"
    return Path.home() / ".cache" / "mirbook"


def content_hash(config: dict) -> str:
    """SHA-256 (hex, 24 characters) of a JSON-serialisable configuration, key order ignored."""
    try:
        text = json.dumps(config, sort_keys=True, default=str)
    except TypeError as err:
        raise ValueError(f"cache configuration must be JSON-serialisable; got {config!r}") from err
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def frontend_fingerprint(frontend: torch.nn.Module) -> str:
    """A hash of everything that decides a frontend's features: module types, settings, all tensors.

    Each submodule contributes its type, its declared ``settings`` (the constructor options of
    every ``mirbook.representations`` module) and its public plain attributes (numbers, strings
    and lists, tuples or dicts of them); then every parameter and every buffer, registered
    persistent or not, contributes its name, dtype, shape and bytes. Two frontends that compute
    different features (another ``n_fft``, ``filter_scale``, log mode or filter bank) get
    different fingerprints, so their cached features never mix; so does the same frontend under
    two versions of the code (``mirbook.representations.REPRESENTATION_VERSION``).
    Book: "The data in this book".
    """
    from mirbook.representations import REPRESENTATION_VERSION

    digest = hashlib.sha256(f"representations {REPRESENTATION_VERSION}; fingerprint 2;".encode())
    for name, module in frontend.named_modules():
        settings = getattr(module, "settings", None)
        described = {"settings": _plain(settings) if isinstance(settings, dict) else None,
                     "attributes": {k: _plain(v) for k, v in sorted(vars(module).items())
                                    if not k.startswith("_") and _plain(v) is not _SKIP}}
        text = json.dumps(described, sort_keys=True, default=repr)
        digest.update(f"{name}:{type(module).__module__}.{type(module).__qualname__}:{text};".encode())
    for name, tensor in [*frontend.named_parameters(), *frontend.named_buffers()]:
        data = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}:{data.dtype}:{tuple(data.shape)};".encode())
        digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:24]


#: What :func:`_plain` returns for a value that is not plain data (a module, a tensor, a function).
_SKIP = object()


def _plain(value):
    """``value`` as JSON-able plain data (numbers, strings, lists, dicts), or :data:`_SKIP`."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return _SKIP if any(v is _SKIP for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _plain(v) for k, v in value.items()}
        return _SKIP if any(v is _SKIP for v in items.values()) else items
    return _SKIP


class ArrayCache:
    """A folder of ``<key>.npz`` entries, each a dict of numpy arrays, written atomically.

    ``directory=None`` disables caching (``load`` misses, ``save`` does nothing). An entry that
    cannot be read (e.g. a file truncated by another program) counts as a miss and is replaced.
    A folder that cannot be written (read-only, full) does not stop a run: ``save`` warns once,
    naming the folder (once per process), and the values are used without being cached.
    """

    def __init__(self, directory: str | os.PathLike | None):
        self.directory = None if directory is None else Path(directory)

    def path(self, key: str) -> Path:
        """The file an entry lives in."""
        if self.directory is None:
            raise ValueError("this cache is disabled (directory=None); it has no paths")
        if not key or not all(c.isalnum() or c in "-_" for c in key):
            raise ValueError(f"cache keys are alphanumeric (plus '-' and '_'); got {key!r}")
        return self.directory / f"{key}.npz"

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``key``, or None when absent or unreadable."""
        if self.directory is None:
            return None
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as entry:
                return {name: entry[name] for name in entry.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError):
            return None

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> Path | None:
        """Store ``arrays`` under ``key`` atomically; returns the path (None when disabled)."""
        if self.directory is None:
            return None
        path = self.path(key)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        try:
            return write_atomically(path, buffer.getvalue())
        except OSError as err:
            if self.directory not in _UNWRITABLE:
                _UNWRITABLE.add(self.directory)
                warnings.warn(f"cannot write to the cache folder {str(self.directory)!r} ({err.strerror or err}); "
                              "computing without caching", RuntimeWarning, stacklevel=2)
            return None


def load_features(tracks: list[TrackRef], frontend: torch.nn.Module, *, cache: ArrayCache, cache_songs: bool,
                  batch_size: int, progress: bool = False, desc: str = "features"
                  ) -> tuple[list[torch.Tensor], list[Song]]:
    """Each track's features (float32, (n_bins, frames)) and its annotations (a Song without audio).

    Features in ``cache`` are read; the missing songs are rendered or read ``batch_size`` at a
    time on :data:`LOAD_THREADS` threads (numpy and scipy release the GIL; each song has its
    own seed, so the audio is the same as one by one), run through ``frontend`` in batches of
    equal length and stored. ``cache_songs`` also caches the songs' audio (``Source.cache_songs``).
    A track that cannot be loaded (an unreadable or empty audio file, a malformed annotation)
    raises a ValueError naming the track and its files: no split is used with a song missing.
    """
    sample_rate = int(frontend.sample_rate)
    fingerprint = frontend_fingerprint(frontend)
    keys = [content_hash({**t.identity, "sample_rate": sample_rate, "frontend": fingerprint}) for t in tracks]
    features: list[torch.Tensor | None] = [None] * len(tracks)
    songs: list[Song | None] = [None] * len(tracks)
    missing = []
    for i, key in enumerate(keys):
        entry = cache.load(key)
        if entry is None:
            missing.append(i)
        else:
            features[i] = torch.from_numpy(entry["features"])
            songs[i] = _song_from_entry(entry, with_audio=False)

    def song_with_audio(i: int) -> Song:
        try:
            song = cached_song(tracks[i], sample_rate, cache) if cache_songs else tracks[i].load(sample_rate)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError, EOFError) as err:
            raise ValueError(f"cannot load {_describe(tracks[i])}: {type(err).__name__}: {err}") from err
        if song.audio.size == 0:
            raise ValueError(f"{_describe(tracks[i])} has no audio (0 samples)")
        return song

    bar = tqdm(total=len(missing), desc=desc, disable=not progress or not missing)
    pool = ThreadPoolExecutor(max_workers=min(LOAD_THREADS, os.cpu_count() or 1))
    try:
        for start in range(0, len(missing), batch_size):
            chunk = missing[start: start + batch_size]
            loaded = dict(zip(chunk, pool.map(song_with_audio, chunk)))
            for i, f in _compute_features(frontend, loaded, tracks).items():
                features[i] = f.contiguous()
                songs[i] = _without_audio(loaded[i])
                cache.save(keys[i], _entry(loaded[i], features=f.numpy()))
            bar.update(len(chunk))
    finally:
        pool.shutdown()
        bar.close()
    return features, songs


def cached_song(track: TrackRef, sample_rate: int, cache: ArrayCache) -> Song:
    """The track's song with audio: from the song cache, else loaded (and stored)."""
    key = content_hash({**track.identity, "sample_rate": sample_rate, "what": "song"})
    entry = cache.load(key)
    if entry is not None:
        return _song_from_entry(entry, with_audio=True)
    song = track.load(sample_rate)
    cache.save(key, _entry(song, audio=song.audio))
    return song


def _describe(track: TrackRef) -> str:
    """``track <id>`` and the files it is read from (a real dataset's audio and annotation paths)."""
    paths = []

    def collect(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                paths.append(str(item)) if key == "path" else collect(item)

    collect(track.identity)
    return f"track {track.track_id!r}" + (f" (files {', '.join(paths)})" if paths else "")


def _compute_features(frontend: torch.nn.Module, songs: dict[int, Song], tracks: list[TrackRef]
                      ) -> dict[int, torch.Tensor]:
    """The frontend's output for each song, songs of equal length batched together."""
    by_length: dict[int, list[int]] = {}
    for i, song in songs.items():
        by_length.setdefault(song.audio.shape[-1], []).append(i)
    try:
        device = next(iter(frontend.state_dict().values())).device
    except StopIteration:
        device = torch.device("cpu")
    out = {}
    for group in by_length.values():
        batch = torch.from_numpy(np.stack([songs[i].audio for i in group]).astype(np.float32))
        with torch.inference_mode():
            try:
                feats = frontend(batch.to(device))
            except ValueError as err:  # e.g. a recording shorter than the frontend's window
                raise ValueError(f"{', '.join(_describe(tracks[i]) for i in group)}: {err}") from err
        if feats.dim() != 3 or feats.shape[0] != batch.shape[0] or feats.shape[1] != frontend.n_bins:
            raise ValueError(f"frontend must map (batch, samples) to (batch, n_bins={frontend.n_bins}, frames); "
                             f"got shape {tuple(feats.shape)} for input {tuple(batch.shape)}")
        out.update(zip(group, feats.detach().to("cpu", torch.float32).clone()))
    return out


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
