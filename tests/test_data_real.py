"""Real-dataset adapters on tiny fixture folders in each dataset's on-disk layout (offline)."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from mirbook.data import ChordFrames, TaggedClips, VoiceExcerpts
from mirbook.data.real import GTZAN, DatasetNotFoundError, GuitarSet, Jamendo, MagnaTagATune
from mirbook.data.real.guitarset import read_jams
from mirbook.representations import CQT, Frontend, LogCompression, MelSpectrogram

SR = 22050


def _tone(path, seconds=3.0, sr=44100, freq=220.0):
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)


@pytest.fixture(scope="module")
def frontend():
    return Frontend(CQT(hop_length=1024, n_bins=36, f_min=65.40639132514966), LogCompression())


@pytest.fixture
def guitarset(tmp_path):
    (tmp_path / "annotation").mkdir()
    (tmp_path / "audio_mono-mic").mkdir()
    for player in ("00", "04", "05"):
        stem = f"{player}_BN1-129-Eb_comp"
        _tone(tmp_path / "audio_mono-mic" / f"{stem}_mic.wav")
        jam = {"annotations": [
            {"namespace": "chord", "data": [{"time": 0.5, "duration": 1.0, "value": "Eb:maj", "confidence": 1},
                                            {"time": 1.5, "duration": 1.0, "value": "C:min7", "confidence": 1}]},
            {"namespace": "chord", "data": [{"time": 0.0, "duration": 3.0, "value": "G:7", "confidence": 1}]},
            {"namespace": "key_mode", "data": [{"time": 0.0, "duration": 3.0, "value": "Eb:major", "confidence": 1}]},
            {"namespace": "tempo", "data": [{"time": 0.0, "duration": 3.0, "value": 129.0, "confidence": 1}]},
        ], "file_metadata": {"duration": 3.0}}
        (tmp_path / "annotation" / f"{stem}.jams").write_text(json.dumps(jam))
    return tmp_path


def test_guitarset(guitarset, frontend):
    meta = read_jams(guitarset / "annotation" / "00_BN1-129-Eb_comp.jams", 3.0)
    assert meta["chords"][1] == ["N", "Eb:maj", "C:min7", "N"]
    assert np.allclose(meta["chords"][0], [[0, 0.5], [0.5, 1.5], [1.5, 2.5], [2.5, 3.0]])
    assert meta["key"] == "Eb major" and meta["tempo"] == 129.0
    assert [t.track_id for t in GuitarSet(guitarset).tracks("train", task="chords")] == \
        ["guitarset-00_BN1-129-Eb_comp"]
    data = ChordFrames("test", frontend=frontend, source="guitarset", root=guitarset, n_songs=None, cache_dir=False,
                       progress=False)
    assert data.n_songs == 1 and data.songs[0].key == "Eb major"
    labels = data.song(0).targets.numpy()
    assert set(labels) == {0, 4, 13}  # N, D#:maj, C:min (C:min7 reduces to C:min)
    song = data.example(0)
    assert song.sample_rate == SR and song.audio.size == 3 * SR


@pytest.fixture
def jamendo(tmp_path):
    for folder in ("audio", "labels", "filelists"):
        (tmp_path / folder).mkdir()
    for split, names in {"train": ["a", "b"], "valid": ["c"], "test": ["d"]}.items():
        (tmp_path / "filelists" / split).write_text("\n".join(f"{n}.ogg" for n in names) + "\n")
        for n in names:
            _tone(tmp_path / "audio" / f"{n}.ogg", seconds=4.0)
            (tmp_path / "labels" / f"{n}.lab").write_text("0 1.5 nosing\n1.5 3.0 sing\n3.0 4.0 nosing\n")
    return tmp_path


def test_jamendo(jamendo):
    mel = Frontend(MelSpectrogram(n_mels=16, hop_length=512), LogCompression(mode="db"))
    data = VoiceExcerpts("train", frontend=mel, source="jamendo", root=jamendo, n_songs=None, excerpt_frames=31,
                         cache_dir=False, progress=False)
    assert data.n_songs == 2
    assert np.allclose(data.songs[0].voicing, [[1.5, 3.0]])
    item = data.song(0)
    assert item.targets[item.times < 1.4].sum() == 0 and item.targets[(item.times > 1.6) & (item.times < 2.9)].all()


@pytest.fixture
def magnatagatune(tmp_path):
    header = ["clip_id", "guitar", "classical", "no voice", "mp3_path"]
    rows = [["2", "1", "0", "1", "0/a.mp3"], ["6", "0", "1", "0", "c/b.mp3"], ["10", "0", "0", "0", "d/c.mp3"],
            ["11", "1", "1", "0", "e/d.mp3"]]
    lines = ["\t".join(f'"{v}"' for v in row) for row in [header] + rows]
    (tmp_path / "annotations_final.csv").write_text("\n".join(lines) + "\n")
    for row in rows:
        (tmp_path / row[-1]).parent.mkdir(exist_ok=True)
        # soundfile decides by content, so a WAV named .mp3 stands in for MagnaTagATune's mp3 here
        _tone(tmp_path / row[-1], seconds=3.0, sr=16000)
    return tmp_path


def test_magnatagatune(magnatagatune, frontend):
    assert MagnaTagATune(magnatagatune).tag_names() == ["classical", "guitar", "no voice"]
    test = MagnaTagATune(magnatagatune).tracks("test")
    assert [t.track_id for t in test] == ["magnatagatune-11"]  # clip 10 has no top tag
    data = TaggedClips("train", frontend=frontend, source="magnatagatune", root=magnatagatune, n_songs=None,
                       clip_seconds=2.0, cache_dir=False, progress=False)
    x, tags, key = data[0]
    assert data.tag_names == ["classical", "guitar", "no voice"]
    assert tags.tolist() == [0.0, 1.0, 1.0] and int(key) == -100


def test_gtzan(tmp_path, frontend):
    for genre in ("blues", "rock"):
        (tmp_path / "genres" / genre).mkdir(parents=True)
        for n in (0, 8, 9):
            _tone(tmp_path / "genres" / genre / f"{genre}.{n:05d}.wav", seconds=3.0)
    data = TaggedClips("valid", frontend=frontend, source="gtzan", root=tmp_path, n_songs=None, clip_seconds=2.0,
                       cache_dir=False, progress=False)
    assert data.n_songs == 2 and len(data.tag_names) == 10
    assert [data.tag_names[int(t.argmax())] for t in data.tags] == ["blues", "rock"]
    assert len(GTZAN(tmp_path).tracks("train", n_songs=5)) == 2


@pytest.mark.parametrize("source, where", [
    (GuitarSet, "zenodo"), (Jamendo, "zenodo"), (MagnaTagATune, "mirg"), (GTZAN, "marsyas"),
])
def test_missing_dataset_says_where_to_get_it(tmp_path, source, where):
    with pytest.raises(DatasetNotFoundError, match=where) as info:
        source(tmp_path / "nowhere").tracks("train")
    assert "root=" in str(info.value) and str(tmp_path / "nowhere") in str(info.value)


def test_wrong_source_for_a_task(tmp_path, frontend):
    with pytest.raises(ValueError, match="serves 'chords'"):
        ChordFrames("train", frontend=frontend, source="gtzan", root=tmp_path, cache_dir=False, progress=False)
    with pytest.raises(ValueError, match="serves the tasks"):
        GTZAN(tmp_path).tracks("train", task="voice")
    with pytest.raises(ValueError, match="source must be a Source or one of"):
        ChordFrames("train", frontend=frontend, source="nowhere", cache_dir=False, progress=False)


def test_a_source_object_in_place_of_a_name(guitarset, frontend):
    by_name = ChordFrames("train", frontend=frontend, source="guitarset", root=guitarset, n_songs=None,
                          cache_dir=False, progress=False)
    by_object = ChordFrames("train", frontend=frontend, source=GuitarSet(guitarset), n_songs=None, cache_dir=False,
                            progress=False)
    assert [t.track_id for t in by_object.tracks] == [t.track_id for t in by_name.tracks]
    assert torch.equal(by_object.features[0], by_name.features[0])
