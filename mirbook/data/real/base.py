"""Real-dataset adapters behind the same interface as the synthetic world (book: "The data in
this book", section "Switching a chapter to a real dataset").

Each adapter reads a dataset in its published on-disk layout and yields
:class:`mirbook.data.sources.TrackRef` s whose songs carry the annotations the task needs:
GuitarSet (chords; :mod:`~mirbook.data.real.guitarset`), the Jamendo singing-voice corpus
(:mod:`~mirbook.data.real.jamendo`), MagnaTagATune top-50 tags
(:mod:`~mirbook.data.real.magnatagatune`) and GTZAN genres (:mod:`~mirbook.data.real.gtzan`).
Nothing is downloaded: a missing dataset raises :class:`DatasetNotFoundError`, whose message says
where to get it and where to put it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio

from mirbook.io import checkout_dir

__all__ = ["DatasetNotFoundError", "REAL_SOURCES", "default_root", "real_tracks", "real_tag_names", "load_audio"]


class DatasetNotFoundError(FileNotFoundError):
    """A real dataset is not where mirbook looked; the message says how to get it."""


#: Which real sources serve which task family.
REAL_SOURCES = {"chords": ("guitarset",), "voice": ("jamendo",), "tags": ("magnatagatune", "gtzan")}


def default_root(name: str) -> Path:
    """Where dataset ``name`` is looked for: ``$MIRBOOK_DATA_DIR/<name>``, else ``data/real/<name>``
    in a source checkout (git-ignored), else ``~/mirbook_data/<name>``."""
    env = os.environ.get("MIRBOOK_DATA_DIR")
    if env:
        return Path(env) / name
    checkout = checkout_dir()
    if checkout is not None:
        return checkout / "data" / "real" / name
    return Path.home() / "mirbook_data" / name


def require(path: Path, *, dataset: str, url: str, layout: str) -> Path:
    """Return ``path`` if it exists, else raise :class:`DatasetNotFoundError` with instructions."""
    if not path.exists():
        raise DatasetNotFoundError(
            f"{dataset} not found: {path} does not exist. Download it from {url} and unpack it so that "
            f"{layout} (pass root=... or set MIRBOOK_DATA_DIR; the default root is data/real/<name>).")
    return path


def load_audio(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """Read any soundfile-readable file (wav, flac, ogg, au, mp3), down-mix to mono, resample."""
    audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    mono = torch.from_numpy(np.ascontiguousarray(audio.mean(axis=1)))
    if sr != sample_rate:
        mono = torchaudio.functional.resample(mono, sr, sample_rate)
    return mono.numpy().astype(np.float32)


def file_identity(path: Path) -> dict:
    """What keys a real track's cached features: the file's path, size and modification time."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime": stat.st_mtime_ns}


def _module(source: str):
    from mirbook.data.real import gtzan, guitarset, jamendo, magnatagatune

    return {"guitarset": guitarset, "jamendo": jamendo, "magnatagatune": magnatagatune, "gtzan": gtzan}[source]


def _check_source(task: str, source: str) -> None:
    if source not in REAL_SOURCES.get(task, ()):
        raise ValueError(f"source must be 'synthetic' or one of {REAL_SOURCES[task]} for this dataset; "
                         f"got {source!r}")


def real_tracks(task: str, source: str, split: str, *, root=None) -> list:
    """The TrackRefs of ``split`` of real dataset ``source`` for ``task`` ('chords', 'voice', 'tags')."""
    _check_source(task, source)
    root = default_root(source) if root is None else Path(root)
    return _module(source).tracks(root, split)


def real_tag_names(source: str, *, root=None) -> list[str]:
    """The tag vocabulary of a real tagging dataset (MagnaTagATune top-50, GTZAN genres)."""
    _check_source("tags", source)
    root = default_root(source) if root is None else Path(root)
    return _module(source).tag_names(root)
