"""GTZAN genres (Tzanetakis & Cook 2002) as a ten-tag (one-hot) tagging set for the tagger chapters.

Layout (the original tarball, or the common wav re-release)::

    <root>/genres/blues/blues.00000.au        (or <root>/genres_original/blues/blues.00000.wav)

Splits are the fault-filtered partition of Kereliuk, Sturm & Larsen (2015, "Deep learning and
music adversaries", IEEE Trans. Multimedia): 443 train, 197 valid and 290 test excerpts, made
by hand to keep an artist's excerpts in one split and to leave out excerpts of the faults Sturm
(2013) catalogued (repetitions, mislabellings, distortions); the other 70 are in no split. A
split by file number would put the same artists, and some identical recordings, in training and
test, and reward recognising an artist or a recording rather than a genre. The lists ship with
mirbook (``gtzan_splits/*.txt``, one excerpt id per line; their source is in the folder's
README). GTZAN has no key annotation.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from mirbook.data.real.base import DatasetNotFoundError, RealSource, file_identity, load_audio, require
from mirbook.data.song import Song
from mirbook.data.sources import TrackRef, check_split

__all__ = ["GTZAN", "URL", "GENRES", "split_ids"]

URL = "http://marsyas.info/downloads/datasets.html (GTZAN genre collection)"
_LAYOUT = "<root>/genres/<genre>/<genre>.000NN.au (or genres_original/... .wav) exist"
GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")


@cache
def split_ids(split: str) -> tuple[str, ...]:
    """The excerpt ids (``'blues.00029'``) of a fault-filtered ``split``, in the list's order."""
    text = resources.files("mirbook.data.real").joinpath("gtzan_splits", f"{check_split(split)}.txt").read_text()
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _genre_root(root: Path) -> Path:
    for name in ("genres", "genres_original"):
        if (root / name).is_dir():
            return root / name
    return require(root / "genres", dataset="GTZAN", url=URL, layout=_LAYOUT)


class GTZAN(RealSource):
    """GTZAN under ``root``: the 30 s excerpts of a fault-filtered split, each tagged with its genre (no key).

    A listed excerpt missing from ``root`` raises :class:`DatasetNotFoundError` naming it.
    """

    name = "gtzan"
    tasks = ("tags",)

    def tag_names(self) -> list[str]:
        """The ten genres."""
        return list(GENRES)

    def split_tracks(self, split: str) -> list[TrackRef]:
        base = _genre_root(self.root)
        refs = []
        for excerpt in split_ids(split):
            genre = excerpt.split(".")[0]
            found = [base / genre / f"{excerpt}{suffix}" for suffix in (".au", ".wav")]
            found = [path for path in found if path.exists()]
            if not found:
                raise DatasetNotFoundError(f"GTZAN excerpt {excerpt} of the {split!r} split is not under {base}; "
                                           f"expected {base / genre / excerpt}.au or .wav (get GTZAN from {URL})")
            refs.append(_track(found[0], genre))
        return refs


def _track(audio: Path, genre: str) -> TrackRef:
    def load(sample_rate: int) -> Song:
        return Song(audio=load_audio(audio, sample_rate), sample_rate=sample_rate, tags=[genre], style=genre,
                    track_id=f"gtzan-{audio.stem}")

    return TrackRef(f"gtzan-{audio.stem}", {"source": "gtzan", **file_identity(audio)}, load)
