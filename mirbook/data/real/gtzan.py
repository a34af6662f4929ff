"""GTZAN genres (Tzanetakis & Cook 2002) as a ten-tag (one-hot) tagging set for the tagger chapters.

Layout (the original tarball, or the common wav re-release)::

    <root>/genres/blues/blues.00000.au        (or <root>/genres_original/blues/blues.00000.wav)

Splits are stratified by the file number: numbers ending in 0-7 train, 8 valid, 9 test (80/10/10
per genre). GTZAN has no key annotation. Note its known faults (repetitions, mislabelings;
Sturm 2013) before reading much into a score.
"""

from __future__ import annotations

from pathlib import Path

from mirbook.data.real.base import RealSource, file_identity, load_audio, require
from mirbook.data.song import Song
from mirbook.data.sources import TrackRef

__all__ = ["GTZAN", "URL", "GENRES"]

URL = "http://marsyas.info/downloads/datasets.html (GTZAN genre collection)"
_LAYOUT = "<root>/genres/<genre>/<genre>.000NN.au (or genres_original/... .wav) exist"
GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
_DIGITS = {"train": "01234567", "valid": "8", "test": "9"}


def _genre_root(root: Path) -> Path:
    for name in ("genres", "genres_original"):
        if (root / name).is_dir():
            return root / name
    return require(root / "genres", dataset="GTZAN", url=URL, layout=_LAYOUT)


class GTZAN(RealSource):
    """GTZAN under ``root``: the 30 s excerpts of a split, each tagged with its genre (no key)."""

    name = "gtzan"
    tasks = ("tags",)

    def tag_names(self) -> list[str]:
        """The ten genres."""
        return list(GENRES)

    def split_tracks(self, split: str) -> list[TrackRef]:
        base = _genre_root(self.root)
        refs = []
        for genre in GENRES:
            for audio in sorted(p for p in (base / genre).glob(f"{genre}.*") if p.suffix in (".au", ".wav")):
                number = audio.stem.split(".")[-1]
                if number.isdigit() and number[-1] in _DIGITS[split]:
                    refs.append(_track(audio, genre))
        return refs


def _track(audio: Path, genre: str) -> TrackRef:
    def load(sample_rate: int) -> Song:
        return Song(audio=load_audio(audio, sample_rate), sample_rate=sample_rate, tags=[genre], style=genre,
                    track_id=f"gtzan-{audio.stem}")

    return TrackRef(f"gtzan-{audio.stem}", {"source": "gtzan", **file_identity(audio)}, load)
