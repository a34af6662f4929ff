"""GuitarSet (Xi et al. 2018) for chord recognition (deep chroma chapter, real-data switch).

Layout (the Zenodo release, also what ``mirdata``'s ``guitarset`` loader downloads)::

    <root>/annotation/00_BN1-129-Eb_comp.jams
    <root>/audio_mono-mic/00_BN1-129-Eb_comp_mic.wav        (or audio_mono-pickup_mix/..._mix.wav)

A file name is ``<player>_<lead sheet>_<comp|solo>``. Only the comping takes serve the chord
task: a solo take's JAMS file holds the chords of the lead sheet it was improvised over (those
of the comping take, which it did not play), so a solo would teach chords that do not sound.
Chords are the JAMS file's first ``chord`` annotation (the lead-sheet chords the player was
given), gaps filled with 'N'; the key comes from ``key_mode``, the tempo from ``tempo``.

Splits hold out lead sheets, not players: each of the 30 lead sheets (:data:`LEAD_SHEETS`,
5 styles x 3 progressions x 2 tempi, each in its own key) was played by all six players, and all
of a lead sheet's takes are in one split. Per style one lead sheet validates and one tests
(:data:`HELD_OUT`), the rest train: 20 / 5 / 5 lead sheets, 120 / 30 / 30 comping takes (4/6,
1/6, 1/6). A style's validation and test lead sheets are different progressions at different
tempi, and each held-out split holds all three progressions. The progressions recur across
styles (transposed, at other tempi), so training does hear the held-out chord sequences in
other lead sheets; what it never hears is a held-out lead sheet's own voicings, key and tempo.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mirbook.data.real.base import RealSource, file_identity, load_audio, require
from mirbook.data.song import Song
from mirbook.data.sources import TrackRef

__all__ = ["GuitarSet", "read_jams", "URL", "LEAD_SHEETS", "HELD_OUT", "lead_sheet_split"]

URL = "https://zenodo.org/record/3371780 (GuitarSet; or mirdata.initialize('guitarset').download())"
_LAYOUT = "<root>/annotation/*.jams and <root>/audio_mono-mic/*_mic.wav exist"

#: GuitarSet's 30 lead sheets: ``<style><progression>-<tempo in BPM>-<key>``.
LEAD_SHEETS = (
    "BN1-129-Eb", "BN1-147-Gb", "BN2-131-B", "BN2-166-Ab", "BN3-119-G", "BN3-154-E",
    "Funk1-97-C", "Funk1-114-Ab", "Funk2-108-Eb", "Funk2-119-G", "Funk3-98-A", "Funk3-112-C#",
    "Jazz1-130-D", "Jazz1-200-B", "Jazz2-110-Bb", "Jazz2-187-F#", "Jazz3-137-Eb", "Jazz3-150-C",
    "Rock1-90-C#", "Rock1-130-A", "Rock2-85-F", "Rock2-142-D", "Rock3-117-Bb", "Rock3-148-C",
    "SS1-68-E", "SS1-100-C#", "SS2-88-F", "SS2-107-Ab", "SS3-84-Bb", "SS3-98-C",
)
#: The held-out lead sheets, one per style (styles in the order BN, Funk, Jazz, Rock, SS, at
#: index s): test is progression s % 3 + 1, valid progression (s + 1) % 3 + 1; test takes the
#: slower tempo for even s and the faster for odd s, valid the other.
HELD_OUT = {
    "valid": ("BN2-166-Ab", "Funk3-98-A", "Jazz1-200-B", "Rock2-85-F", "SS3-98-C"),
    "test": ("BN1-129-Eb", "Funk2-119-G", "Jazz3-137-Eb", "Rock1-130-A", "SS2-88-F"),
}


def lead_sheet_split(lead_sheet: str) -> str:
    """The split ("train", "valid" or "test") of one of the 30 :data:`LEAD_SHEETS`."""
    if lead_sheet not in LEAD_SHEETS:
        raise ValueError(f"{lead_sheet!r} is not one of GuitarSet's 30 lead sheets (e.g. 'BN1-129-Eb')")
    return next((split for split, held in HELD_OUT.items() if lead_sheet in held), "train")


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
    """GuitarSet under ``root``: the comping takes of a split's lead sheets, with chords, key, tempo.

    A JAMS file whose name is not ``<player>_<lead sheet>_<comp|solo>`` with one of the 30
    :data:`LEAD_SHEETS` raises a ValueError naming it.
    """

    name = "guitarset"
    tasks = ("chords",)

    def split_tracks(self, split: str) -> list[TrackRef]:
        annotations = require(self.root / "annotation", dataset="GuitarSet", url=URL, layout=_LAYOUT)
        refs = []
        for jams in sorted(annotations.glob("*.jams")):
            player, _, rest = jams.stem.partition("_")
            lead_sheet, _, take = rest.rpartition("_")
            if take not in ("comp", "solo") or not player.isdigit():
                raise ValueError(f"{jams}: a GuitarSet annotation is named <player>_<lead sheet>_<comp|solo>.jams")
            try:
                held = lead_sheet_split(lead_sheet)
            except ValueError as err:
                raise ValueError(f"{jams}: {err}") from err
            if take == "comp" and held == split:
                audio = require(_audio_path(self.root, jams.stem), dataset="GuitarSet", url=URL, layout=_LAYOUT)
                refs.append(_track(jams, audio))
        return refs


def _track(jams: Path, audio: Path) -> TrackRef:
    def load(sample_rate: int) -> Song:
        y = load_audio(audio, sample_rate)
        meta = read_jams(jams, y.size / sample_rate)
        return Song(audio=y, sample_rate=sample_rate, chords=meta["chords"], key=meta["key"], tempo=meta["tempo"],
                    track_id=f"guitarset-{jams.stem}")

    identity = {"source": "guitarset", **file_identity(audio), "annotation": file_identity(jams)}
    return TrackRef(f"guitarset-{jams.stem}", identity, load)
