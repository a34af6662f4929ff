"""Real-dataset adapters on tiny fixture folders in each dataset's on-disk layout (offline)."""

import json
from collections import Counter
from importlib import resources

import numpy as np
import pytest
import soundfile as sf
import torch

from mirbook.data import ChordFrames, TaggedClips, VoiceExcerpts
from mirbook.data.real import GTZAN, DatasetNotFoundError, GuitarSet, Jamendo, MagnaTagATune
from mirbook.data.real.gtzan import GENRES, split_ids
from mirbook.data.real.guitarset import HELD_OUT, LEAD_SHEETS, lead_sheet_split, read_jams
from mirbook.representations import CQT, Frontend, LogCompression, MelSpectrogram
from mirbook.vocab import IGNORE_CHORD

SR = 22050


def _tone(path, seconds=3.0, sr=44100, freq=220.0):
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)


@pytest.fixture(scope="module")
def frontend():
    return Frontend(CQT(hop_length=1024, n_bins=36, f_min=65.40639132514966), LogCompression())


def _jams(chords, seconds=3.0):
    return json.dumps({"annotations": [
        {"namespace": "chord", "data": [{"time": t, "duration": d, "value": v, "confidence": 1} for t, d, v in chords]},
        {"namespace": "chord", "data": [{"time": 0.0, "duration": seconds, "value": "G:7", "confidence": 1}]},
        {"namespace": "key_mode", "data": [{"time": 0.0, "duration": seconds, "value": "Eb:major", "confidence": 1}]},
        {"namespace": "tempo", "data": [{"time": 0.0, "duration": seconds, "value": 129.0, "confidence": 1}]},
    ], "file_metadata": {"duration": seconds}})


@pytest.fixture
def guitarset(tmp_path):
    """Two players' comping and solo takes of three lead sheets: one test, one valid, one train."""
    (tmp_path / "annotation").mkdir()
    (tmp_path / "audio_mono-mic").mkdir()
    chords = [(0.5, 1.0, "Eb:maj"), (1.5, 0.5, "C:min7"), (2.0, 0.5, "F:sus4")]
    for lead_sheet in ("BN1-129-Eb", "BN2-166-Ab", "BN3-119-G"):
        for player in ("00", "05"):
            for take in ("comp", "solo"):
                stem = f"{player}_{lead_sheet}_{take}"
                _tone(tmp_path / "audio_mono-mic" / f"{stem}_mic.wav")
                (tmp_path / "annotation" / f"{stem}.jams").write_text(_jams(chords))
    return tmp_path


def test_guitarset(guitarset, frontend):
    meta = read_jams(guitarset / "annotation" / "00_BN1-129-Eb_comp.jams", 3.0)
    assert meta["chords"][1] == ["N", "Eb:maj", "C:min7", "F:sus4", "N"]
    assert np.allclose(meta["chords"][0], [[0, 0.5], [0.5, 1.5], [1.5, 2.0], [2.0, 2.5], [2.5, 3.0]])
    assert meta["key"] == "Eb major" and meta["tempo"] == 129.0
    source = GuitarSet(guitarset)
    assert [t.track_id for t in source.tracks("train", task="chords")] == \
        ["guitarset-00_BN3-119-G_comp", "guitarset-05_BN3-119-G_comp"]  # comping takes only
    assert [t.track_id for t in source.tracks("valid")] == \
        ["guitarset-00_BN2-166-Ab_comp", "guitarset-05_BN2-166-Ab_comp"]
    data = ChordFrames("test", frontend=frontend, source="guitarset", root=guitarset, n_songs=1, cache_dir=False,
                       progress=False)
    assert data.n_songs == 1 and data.songs[0].key == "Eb major"
    item = data.song(0)
    labels, times = item.targets.numpy(), item.times
    assert set(labels) == {0, 4, 13, IGNORE_CHORD}  # N, D#:maj, C:min (C:min7 reduces to C:min), F:sus4 ignored
    assert (labels[(times >= 2.0) & (times < 2.5)] == IGNORE_CHORD).all()
    assert (labels[(times < 2.0) | (times >= 2.5)] != IGNORE_CHORD).all()
    song = data.example(0)
    assert song.sample_rate == SR and song.audio.size == 3 * SR


def test_guitarset_splits_hold_out_whole_lead_sheets(tmp_path):
    """On all 360 file names: no lead sheet in two splits, 6 players' comping takes per lead sheet, no solo."""
    (tmp_path / "annotation").mkdir()
    (tmp_path / "audio_mono-mic").mkdir()
    silence = np.zeros(441, dtype=np.float32)
    for lead_sheet in LEAD_SHEETS:
        for player in range(6):
            for take in ("comp", "solo"):
                stem = f"{player:02d}_{lead_sheet}_{take}"
                (tmp_path / "annotation" / f"{stem}.jams").write_text("{}")
                sf.write(str(tmp_path / "audio_mono-mic" / f"{stem}_mic.wav"), silence, 44100)
    source = GuitarSet(tmp_path)
    stems = {split: [t.track_id.removeprefix("guitarset-") for t in source.tracks(split)]
             for split in ("train", "valid", "test")}
    assert {split: len(v) for split, v in stems.items()} == {"train": 120, "valid": 30, "test": 30}
    assert all(stem.endswith("_comp") for v in stems.values() for stem in v)
    sheets = {split: Counter(stem.split("_")[1] for stem in v) for split, v in stems.items()}
    assert all(n == 6 for counts in sheets.values() for n in counts.values())  # every player of a lead sheet
    assert not set(sheets["train"]) & set(sheets["valid"]) and not set(sheets["train"]) & set(sheets["test"])
    assert not set(sheets["valid"]) & set(sheets["test"])
    assert set(sheets["train"]) | set(sheets["valid"]) | set(sheets["test"]) == set(LEAD_SHEETS)
    for split in ("valid", "test"):  # one lead sheet of each style, all three progressions
        styles = sorted(sheet.split("-")[0][:-1] for sheet in sheets[split])
        assert styles == ["BN", "Funk", "Jazz", "Rock", "SS"]
        assert {sheet.split("-")[0][-1] for sheet in sheets[split]} == {"1", "2", "3"}
        assert set(sheets[split]) == set(HELD_OUT[split])
    assert len(set(LEAD_SHEETS)) == 30 and Counter(s.split("-")[0] for s in LEAD_SHEETS) == {
        f"{style}{n}": 2 for style in ("BN", "Funk", "Jazz", "Rock", "SS") for n in (1, 2, 3)}


def test_guitarset_held_out_lead_sheets_follow_the_documented_rotation():
    """Style s (BN, Funk, Jazz, Rock, SS): test is progression s % 3 + 1 and valid (s + 1) % 3 + 1; test
    takes the slower tempo for even s and the faster for odd s, valid the other."""
    for s, style in enumerate(("BN", "Funk", "Jazz", "Rock", "SS")):
        def pick(progression, slower):
            sheets = sorted((int(sheet.split("-")[1]), sheet) for sheet in LEAD_SHEETS
                            if sheet.split("-")[0] == f"{style}{progression}")
            return sheets[0 if slower else 1][1]

        assert pick(s % 3 + 1, slower=s % 2 == 0) == HELD_OUT["test"][s]
        assert pick((s + 1) % 3 + 1, slower=s % 2 == 1) == HELD_OUT["valid"][s]


def test_guitarset_refuses_a_file_it_cannot_place(guitarset):
    (guitarset / "annotation" / "00_BN9-100-C_comp.jams").write_text("{}")
    with pytest.raises(ValueError, match="00_BN9-100-C_comp.jams.*30 lead sheets"):
        GuitarSet(guitarset).tracks("train")
    with pytest.raises(ValueError, match="not one of GuitarSet's 30 lead sheets"):
        lead_sheet_split("Polka1-100-C")


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


def test_gtzan_splits_are_the_published_fault_filtered_lists():
    """The shipped lists equal torchaudio's copy of Kereliuk et al.'s (2015) lists: 443/197/290, disjoint."""
    from torchaudio.datasets import gtzan as published

    for split, expected in (("train", published.filtered_train), ("valid", published.filtered_valid),
                            ("test", published.filtered_test)):
        assert list(split_ids(split)) == list(expected)
    assert [len(split_ids(s)) for s in ("train", "valid", "test")] == [443, 197, 290]
    ids = [set(split_ids(s)) for s in ("train", "valid", "test")]
    assert not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]
    assert all({i.split(".")[0] for i in split} == set(GENRES) for split in ids)


@pytest.fixture(scope="module")
def gtzan(tmp_path_factory):
    """Every GTZAN file name, half .au-named wav, half .wav; the first two valid excerpts 3 s long."""
    root = tmp_path_factory.mktemp("gtzan")
    long = set(split_ids("valid")[:2])
    for genre in GENRES:
        (root / "genres" / genre).mkdir(parents=True)
        for n in range(100):
            name = f"{genre}.{n:05d}"
            path = root / "genres" / genre / f"{name}{'.wav' if n % 2 else '.au'}"
            seconds = 3.0 if name in long else 0.01
            sf.write(str(path), np.zeros(int(seconds * 22050), dtype=np.float32) + 0.1, 22050,
                     format="WAV")
    return root


def test_gtzan(gtzan, frontend):
    for split in ("train", "valid", "test"):
        shipped = resources.files("mirbook.data.real").joinpath("gtzan_splits", f"{split}.txt").read_text()
        listed = [line for line in shipped.splitlines() if line]
        assert [t.track_id for t in GTZAN(gtzan).tracks(split)] == [f"gtzan-{i}" for i in listed]
    data = TaggedClips("valid", frontend=frontend, source="gtzan", root=gtzan, n_songs=2, clip_seconds=2.0,
                       cache_dir=False, progress=False)
    assert data.n_songs == 2 and len(data.tag_names) == 10
    assert [data.tag_names[int(t.argmax())] for t in data.tags] == [i.split(".")[0] for i in split_ids("valid")[:2]]
    assert len(GTZAN(gtzan).tracks("train", n_songs=5)) == 5


def test_gtzan_names_a_missing_excerpt(tmp_path):
    (tmp_path / "genres" / "blues").mkdir(parents=True)
    first = split_ids("test")[0]
    with pytest.raises(DatasetNotFoundError, match=f"{first} of the 'test' split"):
        GTZAN(tmp_path).tracks("test")


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
