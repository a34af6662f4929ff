"""GTZAN genres (Tzanetakis & Cook 2002) as a ten-tag (one-hot) tagging set for the tagger chapters.

Layout (the original tarball, or the common wav re-release)::

    <root>/genres/blues/blues.00000.au        (or <root>/genres_original/blues/blues.00000.wav)

Splits are stratified by the file number: numbers ending in 0-7 train, 8 valid, 9 test (80/10/10
per genre). GTZAN has no key annotation. Note its known faults (repetitions, mislabelings;
Sturm 2013) before reading much into a score.
"""

from __future__ import annotations

from pathlib import Path

from mirbook.data.real import file_identity, load_audio, require
from mirbook.data.song import Song
from mirbook.data.sources import TrackRef, check_split

__all__ = ["tracks", "tag_names", "URL", "GENRES"]

URL = "http://marsyas.info/downloads/datasets.html (GTZAN genre collection)"
_LAYOUT = "<root>/genres/<genre>/<genre>.000NN.au (or genres_original/... .wav) exist"
GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
_DIGITS = {"train": "01234567", "valid": "8", "test": "9"}


def _genre_root(root: Path) -> Path:
    for name in ("genres", "genres_original"):
        if (root / name).is_dir():
            return root / name
    return require(root / "genres", dataset="GTZAN", url=URL, layout=_LAYOUT)


def tag_names(root: Path) -> list[str]:
    """The ten genres."""
    return list(GENRES)


def tracks(root: Path, split: str) -> list[TrackRef]:
    """The excerpts of ``split``, each tagged with its genre (tags task; no key annotation)."""
    check_split(split)
    base = _genre_root(root)
    refs = []
    for genre in GENRES:
        for audio in sorted(p for p in (base / genre).glob(f"{genre}.*") if p.suffix in (".au", ".wav")):
            number = audio.stem.split(".")[-1]
            if not number.isdigit() or number[-1] not in _DIGITS[split]:
                continue

            def load(sample_rate: int, audio=audio, genre=genre) -> Song:
                return Song(audio=load_audio(audio, sample_rate), sample_rate=sample_rate, tags=[genre], style=genre,
                            track_id=f"gtzan-{audio.stem}")

            refs.append(TrackRef(f"gtzan-{audio.stem}", {"source": "gtzan", **file_identity(audio)}, load))
    return refs
