"""GuitarSet (Xi et al. 2018) for chord recognition (deep chroma chapter, real-data switch).

Layout (the Zenodo release, also what ``mirdata``'s ``guitarset`` loader downloads)::

    <root>/annotation/00_BN1-129-Eb_comp.jams
    <root>/audio_mono-mic/00_BN1-129-Eb_comp_mic.wav        (or audio_mono-pickup_mix/..._mix.wav)

Chords are the JAMS file's first ``chord`` annotation (the lead-sheet chords the player was
given), gaps filled with 'N'; the key comes from ``key_mode``, the tempo from ``tempo``.
Splits leave players out: players 00-03 train, 04 valid, 05 test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mirbook.data.real.base import RealSource, file_identity, load_audio, require
from mirbook.data.song import Song
from mirbook.data.sources import TrackRef

__all__ = ["GuitarSet", "read_jams", "URL"]

URL = "https://zenodo.org/record/3371780 (GuitarSet; or mirdata.initialize('guitarset').download())"
_LAYOUT = "<root>/annotation/*.jams and <root>/audio_mono-mic/*_mic.wav exist"
_PLAYERS = {"train": ("00", "01", "02", "03"), "valid": ("04",), "test": ("05",)}


def _observations(annotation: dict) -> list[tuple[float, float, object]]:
    data = annotation.get("data", [])
    if isinstance(data, dict):  # the older column-wise JAMS layout
        return list(zip(data["time"], data["duration"], data["value"]))
    return [(float(o["time"]), float(o["duration"]), o["value"]) for o in data]


def read_jams(path: Path, duration: float) -> dict:
    """Chords (intervals covering [0, duration], labels), key and tempo from a GuitarSet JAMS file."""
    jam = json.loads(Path(path).read_text())
    by_namespace: dict[str, list] = {}
    for annotation in jam.get("annotations", []):
        by_namespace.setdefault(annotation.get("namespace"), []).append(annotation)
    if "chord" not in by_namespace:
        raise ValueError(f"{path} has no 'chord' annotation; is it a GuitarSet JAMS file?")
    bounds, labels, t = [], [], 0.0
    for start, length, value in sorted(_observations(by_namespace["chord"][0]), key=lambda o: o[0]):
        start, end = max(start, t), min(start + length, duration)
        if end <= start:
            continue
        if start > t:
            bounds.append([t, start])
            labels.append("N")
        bounds.append([start, end])
        labels.append(str(value))
        t = end
    if t < duration:
        bounds.append([t, duration])
        labels.append("N")
    key = None
    if "key_mode" in by_namespace and _observations(by_namespace["key_mode"][0]):
        tonic, _, mode = str(_observations(by_namespace["key_mode"][0])[0][2]).partition(":")
        key = f"{tonic} {mode}" if mode in ("major", "minor") else None
    tempo = None
    if "tempo" in by_namespace and _observations(by_namespace["tempo"][0]):
        tempo = float(_observations(by_namespace["tempo"][0])[0][2])
    return {"chords": (np.asarray(bounds, dtype=float).reshape(-1, 2), labels), "key": key, "tempo": tempo}


def _audio_path(root: Path, stem: str) -> Path:
    mic = root / "audio_mono-mic" / f"{stem}_mic.wav"
    return mic if mic.exists() else root / "audio_mono-pickup_mix" / f"{stem}_mix.wav"


class GuitarSet(RealSource):
    """GuitarSet under ``root``: the comping and solo excerpts of a split, with chords, key, tempo."""

    name = "guitarset"
    tasks = ("chords",)

    def split_tracks(self, split: str) -> list[TrackRef]:
        annotations = require(self.root / "annotation", dataset="GuitarSet", url=URL, layout=_LAYOUT)
        return [_track(jams, require(_audio_path(self.root, jams.stem), dataset="GuitarSet", url=URL, layout=_LAYOUT))
                for jams in sorted(annotations.glob("*.jams")) if jams.stem[:2] in _PLAYERS[split]]


def _track(jams: Path, audio: Path) -> TrackRef:
    def load(sample_rate: int) -> Song:
        y = load_audio(audio, sample_rate)
        meta = read_jams(jams, y.size / sample_rate)
        return Song(audio=y, sample_rate=sample_rate, chords=meta["chords"], key=meta["key"], tempo=meta["tempo"],
                    track_id=f"guitarset-{jams.stem}")

    identity = {"source": "guitarset", **file_identity(audio), "annotation": file_identity(jams)}
    return TrackRef(f"guitarset-{jams.stem}", identity, load)
