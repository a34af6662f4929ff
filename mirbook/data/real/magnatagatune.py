"""MagnaTagATune (Law et al. 2009), the 50 most frequent tags, for the tagger chapters.

Layout (the MIREX/author release)::

    <root>/annotations_final.csv      tab-separated: clip_id, 188 tag columns (0/1), mp3_path
    <root>/0/..., <root>/1/..., ... <root>/f/...   the mp3 clips named by mp3_path

The top-50 tags are the 50 most frequent columns; clips with none of them are left out. Splits
follow the usual folder convention (Dieleman & Schrauwen 2014): folders 0-b train, c valid,
d-f test. Audio is read with soundfile (libsndfile >= 1.1 reads mp3).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from mirbook.data.real.base import RealSource, file_identity, load_audio, require
from mirbook.data.song import Song
from mirbook.data.sources import TrackRef

__all__ = ["MagnaTagATune", "URL", "N_TOP"]

URL = "https://mirg.city.ac.uk/codeapps/the-magnatagatune-dataset"
_LAYOUT = "<root>/annotations_final.csv and the mp3 folders <root>/0 ... <root>/f exist"
_FOLDERS = {"train": "0123456789ab", "valid": "c", "test": "def"}
N_TOP = 50


@lru_cache(maxsize=4)
def _read(csv_path: Path, mtime: int) -> tuple[list[str], list[tuple[str, str, list[str]]]]:
    with open(csv_path, newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows or rows[0][0] != "clip_id" or rows[0][-1] != "mp3_path":
        raise ValueError(f"{csv_path} is not MagnaTagATune's annotations_final.csv (clip_id ... mp3_path header)")
    header = rows[0][1:-1]
    counts = [0] * len(header)
    clips = []
    for row in rows[1:]:
        if len(row) != len(header) + 2:
            continue
        flags = row[1:-1]
        for k, flag in enumerate(flags):
            counts[k] += flag == "1"
        clips.append((row[0], row[-1], [header[k] for k, flag in enumerate(flags) if flag == "1"]))
    order = sorted(range(len(header)), key=lambda k: (-counts[k], header[k]))
    return [header[k] for k in order[:N_TOP]], clips


def _annotations(root: Path):
    csv_path = require(root / "annotations_final.csv", dataset="MagnaTagATune", url=URL, layout=_LAYOUT)
    return _read(csv_path, csv_path.stat().st_mtime_ns)


class MagnaTagATune(RealSource):
    """MagnaTagATune under ``root``: the clips of a split that carry a top-50 tag (no key)."""

    name = "magnatagatune"
    tasks = ("tags",)

    def tag_names(self) -> list[str]:
        """The top-50 tags (fewer if the CSV has fewer columns), most frequent first."""
        return list(_annotations(self.root)[0])

    def split_tracks(self, split: str) -> list[TrackRef]:
        top, clips = _annotations(self.root)
        keep = set(top)
        refs = []
        for clip_id, mp3_path, tags in clips:
            tags = [t for t in tags if t in keep]
            if tags and mp3_path and mp3_path[0] in _FOLDERS[split]:
                audio = require(self.root / mp3_path, dataset="MagnaTagATune", url=URL, layout=_LAYOUT)
                refs.append(_track(clip_id, audio, tags))
        return refs


def _track(clip_id: str, audio: Path, tags: list[str]) -> TrackRef:
    def load(sample_rate: int) -> Song:
        return Song(audio=load_audio(audio, sample_rate), sample_rate=sample_rate, tags=list(tags),
                    track_id=f"magnatagatune-{clip_id}")

    identity = {"source": "magnatagatune", **file_identity(audio), "tags": tags}
    return TrackRef(f"magnatagatune-{clip_id}", identity, load)
