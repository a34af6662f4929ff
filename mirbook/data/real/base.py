"""What the real-dataset adapters share: :class:`RealSource`, where datasets live, reading audio.

A :class:`RealSource` reads a dataset in its published on-disk layout under ``root``. Nothing is
downloaded: a missing dataset raises :class:`DatasetNotFoundError`, whose message says where to
get it and where to put it. Book: "The data in this book", section "Switching a chapter to a
real dataset".
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from mirbook.checks import as_waveform_batch, check_positive_int, check_sample_rate
from mirbook.data.sources import Source, TrackRef, check_split
from mirbook.io import checkout_dir
from mirbook.resample import resample

__all__ = ["RealSource", "DatasetNotFoundError", "default_root", "require", "load_audio", "file_identity"]


class DatasetNotFoundError(FileNotFoundError):
    """A real dataset is not where mirbook looked; the message says how to get it."""


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
    """Read any soundfile-readable file (wav, flac, ogg, au, mp3), down-mix to mono, resample.

    Resampling is :func:`mirbook.resample.resample`, as in ``mirbook.predict``. An empty file, or
    one holding NaN, inf or values beyond ``checks.MAX_AMPLITUDE``, raises a ValueError naming it.
    """
    sample_rate = check_sample_rate(sample_rate)
    audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    if len(audio) == 0:
        raise ValueError(f"{path}: the audio file holds no samples")
    try:
        mono = as_waveform_batch(np.ascontiguousarray(audio.mean(axis=1)), name="audio")
        return (mono if sr == sample_rate else resample(mono, sr, sample_rate))[0].numpy()
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err


def file_identity(path: Path) -> dict:
    """What keys a real track's cached features: the file's path, size and modification time."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime": stat.st_mtime_ns}


class RealSource(Source):
    """A real dataset under ``root`` (None: :func:`default_root` of its ``name``).

    Subclasses set ``name`` and ``tasks`` and implement :meth:`split_tracks`; ``tracks`` keeps
    the first ``n_songs`` of a split.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = default_root(self.name) if root is None else Path(root)

    @classmethod
    def for_dataset(cls, *, seed: int, duration: float, root) -> "RealSource":
        return cls(root)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r})"

    def split_tracks(self, split: str) -> list[TrackRef]:
        """Every track of ``split``, in a fixed order."""
        raise NotImplementedError

    def tracks(self, split: str, *, task: str | None = None, n_songs: int | None = None) -> list[TrackRef]:
        self.check_task(task)
        refs = self.split_tracks(check_split(split))
        return refs if n_songs is None else refs[: check_positive_int(n_songs, "n_songs")]
