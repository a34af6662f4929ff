"""mirbook.data.real.download: GuitarSet and GTZAN through mirdata, offline.

A fake ``mirdata`` module stands in for the real one: its download writes the files the real
release unpacks to (a tiny fixture of the same layout), and the package's adapters read them back.
"""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest
import soundfile as sf

from mirbook.data.real import GTZAN, GuitarSet, download, jamendo, magnatagatune
from mirbook.data.real.gtzan import GENRES, split_ids

SR = 8000
CHORDS = [(0.0, 0.5, "C:maj"), (0.5, 0.5, "A:min")]


def _guitarset_release(home):
    """Player 00's comping takes of a validation and a training lead sheet, as the Zenodo zips unpack."""
    for lead_sheet in ("BN2-166-Ab", "BN3-119-G"):
        stem = f"00_{lead_sheet}_comp"
        jam = {"annotations": [
            {"namespace": "chord", "data": [{"time": t, "duration": d, "value": v, "confidence": 1}
                                             for t, d, v in CHORDS]},
            {"namespace": "key_mode", "data": [{"time": 0.0, "duration": 1.0, "value": "Eb:major"}]},
            {"namespace": "tempo", "data": [{"time": 0.0, "duration": 1.0, "value": 129.0}]}]}
        (home / "annotation").mkdir(exist_ok=True)
        (home / "annotation" / f"{stem}.jams").write_text(json.dumps(jam))
        (home / "audio_mono-mic").mkdir(exist_ok=True)
        tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
        sf.write(home / "audio_mono-mic" / f"{stem}_mic.wav", tone.astype(np.float32), SR)


def _gtzan_release(home):
    """The 1000 excerpts (10 ms each) where mirdata unpacks genres.tar.gz (gtzan_genre/genres)."""
    for genre in GENRES:
        folder = home / "gtzan_genre" / "genres" / genre
        folder.mkdir(parents=True)
        for number in range(100):
            sf.write(folder / f"{genre}.{number:05d}.wav", np.zeros(SR // 100, dtype=np.float32), SR)


@pytest.fixture
def fake_mirdata(monkeypatch):
    calls = []
    releases = {"guitarset": _guitarset_release, "gtzan_genre": _gtzan_release}

    class Dataset:
        def __init__(self, name, data_home):
            self.name, self.data_home = name, data_home

        def download(self, partial_download=None, cleanup=False):
            calls.append((self.name, self.data_home, partial_download))
            from pathlib import Path
            releases[self.name](Path(self.data_home))

    module = types.ModuleType("mirdata")
    module.initialize = lambda name, data_home=None: Dataset(name, data_home)
    monkeypatch.setitem(sys.modules, "mirdata", module)
    return calls


def test_guitarset_downloads_annotations_and_mic_audio_where_the_adapter_reads(fake_mirdata, tmp_path):
    root = download("guitarset", tmp_path / "gs")
    assert root == tmp_path / "gs"
    assert fake_mirdata == [("guitarset", str(root), ["annotations", "audio_mic"])]
    valid = GuitarSet(root).tracks("valid", task="chords")
    assert [ref.track_id for ref in valid] == ["guitarset-00_BN2-166-Ab_comp"]
    song = valid[0].load(SR)
    intervals, labels = song.chords
    assert labels == ["C:maj", "A:min"]
    np.testing.assert_allclose(intervals, [[0.0, 0.5], [0.5, 1.0]])
    assert song.key == "Eb major" and song.tempo == 129.0


def test_gtzan_lands_in_the_genres_folder_the_adapter_reads(fake_mirdata, tmp_path):
    root = download("GTZAN", tmp_path / "gtzan")
    assert fake_mirdata == [("gtzan_genre", str(root), ["all"])]
    assert (root / "genres" / "blues" / "blues.00008.wav").is_file()
    source = GTZAN(root)
    assert [ref.track_id for ref in source.tracks("valid", task="tags")] == [f"gtzan-{i}" for i in split_ids("valid")]
    assert len(source.tracks("train", task="tags")) == 443
    assert source.tracks("valid")[0].load(SR).tags == [split_ids("valid")[0].split(".")[0]]


def test_without_root_it_downloads_to_the_adapters_default_root(fake_mirdata, tmp_path, monkeypatch):
    monkeypatch.setenv("MIRBOOK_DATA_DIR", str(tmp_path))
    assert download("guitarset") == tmp_path / "guitarset"
    assert len(GuitarSet().tracks("train")) == 1


@pytest.mark.parametrize("name, url", [("jamendo", jamendo.URL), ("MagnaTagATune", magnatagatune.URL)])
def test_datasets_without_a_mirdata_loader_point_at_their_manual_instructions(fake_mirdata, tmp_path, name, url):
    with pytest.raises(ValueError, match="no mirdata loader") as err:
        download(name, tmp_path / "x")
    assert url in str(err.value)
    assert fake_mirdata == [] and not (tmp_path / "x").exists()


def test_an_unknown_name_is_refused_with_the_known_ones(fake_mirdata, tmp_path):
    with pytest.raises(ValueError, match=r"unknown dataset 'beatles'.*\['gtzan', 'guitarset'\]"):
        download("beatles", tmp_path)
    assert fake_mirdata == []


def test_without_mirdata_the_error_says_which_extra_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mirdata", None)
    with pytest.raises(ImportError, match=r"pip install 'mirbook\[datasets\]'"):
        download("gtzan", tmp_path)
