"""The Jamendo singing-voice corpus (Ramona et al. 2008) for the voice chapters' real-data switch.

Layout (as prepared by Schlüter & Grill's scripts from the Zenodo/author release)::

    <root>/audio/<name>.ogg           (or .mp3 / .wav / .flac)
    <root>/labels/<name>.lab          lines "start end sing|nosing" in seconds
    <root>/filelists/train            one audio file name per line (also valid, test)

The train/valid/test split is the one in ``filelists`` (Schlüter & Grill's preparation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mirbook.data.real.base import RealSource, file_identity, load_audio, require
from mirbook.data.song import Song
from mirbook.data.sources import TrackRef

__all__ = ["Jamendo", "read_lab", "URL"]

URL = "https://zenodo.org/record/2585988 (Jamendo corpus of Ramona, Richard & David 2008)"
_LAYOUT = "<root>/audio/<name>.ogg, <root>/labels/<name>.lab and <root>/filelists/{train,valid,test} exist"


#: Row labels of the corpus' ``.lab`` files, read case-insensitively; "1"/"0" as some copies write them.
SUNG, NOT_SUNG = ("sing", "1"), ("nosing", "0")


def read_lab(path: Path) -> np.ndarray:
    """Sung intervals ``(n, 2)`` from a Jamendo ``.lab`` file (rows ``start end sing|nosing``).

    Labels are read case-insensitively. A row with a time that is not a finite number, that
    ends before it starts, or with another label raises a ValueError naming file and line.
    """
    sung = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3:
            raise ValueError(f"{path}:{number}: expected 'start end sing|nosing'; got {line!r}")
        try:
            start, end = float(fields[0]), float(fields[1])
        except ValueError as err:
            raise ValueError(f"{path}:{number}: start and end must be numbers in seconds; got {line!r}") from err
        if not (np.isfinite(start) and np.isfinite(end) and 0 <= start <= end):
            raise ValueError(f"{path}:{number}: expected finite times with 0 <= start <= end; got {line!r}")
        label = fields[2].lower()
        if label not in SUNG + NOT_SUNG:
            raise ValueError(f"{path}:{number}: the label must be 'sing' or 'nosing' (any case); got {fields[2]!r}")
        if label in SUNG:
            sung.append([start, end])
    return np.asarray(sung, dtype=float).reshape(-1, 2)


class Jamendo(RealSource):
    """The Jamendo corpus under ``root``: the songs of a split's file list, with sung intervals."""

    name = "jamendo"
    tasks = ("voice",)

    def split_tracks(self, split: str) -> list[TrackRef]:
        filelist = require(self.root / "filelists" / split, dataset="Jamendo", url=URL, layout=_LAYOUT)
        refs = []
        for name in filelist.read_text().split():
            audio = require(self.root / "audio" / name, dataset="Jamendo", url=URL, layout=_LAYOUT)
            lab = require(self.root / "labels" / f"{Path(name).stem}.lab", dataset="Jamendo", url=URL, layout=_LAYOUT)
            refs.append(_track(audio, lab))
        return refs


def _track(audio: Path, lab: Path) -> TrackRef:
    def load(sample_rate: int) -> Song:
        return Song(audio=load_audio(audio, sample_rate), sample_rate=sample_rate, voicing=read_lab(lab),
                    track_id=f"jamendo-{audio.stem}")

    identity = {"source": "jamendo", **file_identity(audio), "labels": file_identity(lab)}
    return TrackRef(f"jamendo-{audio.stem}", identity, load)
