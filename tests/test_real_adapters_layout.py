"""Real-dataset adapters read each dataset's published layout, and say what is wrong when it is not there.

Tiny fixture folders in tmp_path copy each layout (GTZAN's two folder names, GuitarSet's JAMS
in both JAMS encodings and both audio folders, Jamendo's .lab files and file lists,
MagnaTagATune's annotations csv). Expectations are written out by hand: interval tables from
the JAMS rows, track ids and cache identities from the file names and ``os.stat``, GTZAN's
excerpts from torchaudio's copy of the published split lists, and the key phrases of each
"not found" message (dataset, missing path, where to get it, the expected layout).
"""

from __future__ import annotations

import json
import os
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mirbook.data.real import GTZAN, DatasetNotFoundError, GuitarSet, Jamendo, MagnaTagATune, base, default_root
from mirbook.data.real import download, load_audio
from mirbook.data.real.guitarset import read_jams
from mirbook.data.real.jamendo import read_lab

SR = 8000


def _tone(path: Path, seconds: float = 0.5, sr: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.2 * np.sin(2 * np.pi * 330.0 * t)).astype(np.float32), sr, format="WAV")


def _identity(path: Path) -> dict:
    stat = os.stat(path)
    return {"path": os.path.realpath(path), "size": stat.st_size, "mtime": stat.st_mtime_ns}


def _not_found(dataset: str, path: Path, url: str) -> str:
    """The start of a DatasetNotFoundError message: which dataset, which path, where to get it."""
    return "^" + re.escape(f"{dataset} not found: {path} does not exist. Download it from {url}")


# --- where datasets are looked for, repr, n_songs, load_audio -------------------------------------


def test_default_root_prefers_the_environment_then_the_checkout_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MIRBOOK_DATA_DIR", str(tmp_path / "env"))
    assert default_root("gtzan") == tmp_path / "env" / "gtzan"
    monkeypatch.setenv("MIRBOOK_DATA_DIR", "")  # an empty variable counts as unset
    monkeypatch.setattr(base, "checkout_dir", lambda: tmp_path / "checkout")
    assert default_root("gtzan") == tmp_path / "checkout" / "data" / "real" / "gtzan"
    assert GuitarSet().root == tmp_path / "checkout" / "data" / "real" / "guitarset"
    monkeypatch.delenv("MIRBOOK_DATA_DIR")
    monkeypatch.setattr(base, "checkout_dir", lambda: None)  # an installed package
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_root("jamendo") == tmp_path / "home" / "mirbook_data" / "jamendo"
    assert Jamendo().root == tmp_path / "home" / "mirbook_data" / "jamendo"


def test_repr_names_the_adapter_and_its_root(tmp_path):
    assert repr(GTZAN(tmp_path / "g")) == f"GTZAN(root='{tmp_path / 'g'}')"
    assert repr(MagnaTagATune(str(tmp_path))) == f"MagnaTagATune(root='{tmp_path}')"


def test_load_audio_names_the_file_and_the_audio_it_refuses(tmp_path):
    path = tmp_path / "bad.wav"
    sf.write(str(path), np.array([0.1, np.nan, 0.2, 0.1], dtype=np.float32), SR, subtype="FLOAT")
    with pytest.raises(ValueError, match="^" + re.escape(f"{path}: audio must be finite; it holds 1 NaN")):
        load_audio(path, SR)
    loud = tmp_path / "loud.wav"
    sf.write(str(loud), np.array([0.1, 1e13, 0.2], dtype=np.float32), SR, subtype="FLOAT")
    with pytest.raises(ValueError, match="^" + re.escape(f"{loud}: audio must be audio of magnitude at most")):
        load_audio(loud, SR)


# --- download ---------------------------------------------------------------------------------------


@pytest.fixture
def mirdata(monkeypatch):
    """A stand-in ``mirdata`` whose download runs ``unpack[name](data_home)`` and records its arguments."""
    state = {"calls": [], "unpack": {}}

    class Dataset:
        def __init__(self, name, data_home):
            self.name, self.data_home = name, data_home

        def download(self, partial_download=None, cleanup=False):
            state["calls"].append({"name": self.name, "home": self.data_home, "parts": partial_download,
                                   "cleanup": cleanup})
            state["unpack"].get(self.name, lambda home: None)(Path(self.data_home))

    module = types.ModuleType("mirdata")
    module.initialize = lambda name, data_home=None: Dataset(name, data_home)
    monkeypatch.setitem(sys.modules, "mirdata", module)
    return state


def test_download_creates_missing_parent_folders_and_removes_the_archives(mirdata, tmp_path):
    target = tmp_path / "deep" / "er" / "guitarset"
    assert download("guitarset", target) == target and target.is_dir()
    assert mirdata["calls"] == [{"name": "guitarset", "home": str(target), "parts": ["annotations", "audio_mic"],
                                 "cleanup": True}]


def _genres(folder: Path, genre: str = "blues") -> None:
    (folder / genre).mkdir(parents=True)
    (folder / genre / f"{genre}.00000.wav").write_bytes(b"")


def test_gtzan_download_accepts_the_wav_rerelease_folder(mirdata, tmp_path):
    mirdata["unpack"]["gtzan_genre"] = lambda home: _genres(home / "genres_original")
    target = download("gtzan", tmp_path / "gtzan")
    assert (target / "genres_original" / "blues" / "blues.00000.wav").is_file()
    assert not (target / "genres").exists()
    assert mirdata["calls"][0]["cleanup"] is True


def test_gtzan_download_keeps_an_existing_genres_folder(mirdata, tmp_path):
    """A genres/ folder already in place is left as it is; mirdata's nested copy stays where it landed."""
    target = tmp_path / "gtzan"
    _genres(target / "genres", "jazz")
    mirdata["unpack"]["gtzan_genre"] = lambda home: _genres(home / "gtzan_genre" / "genres", "rock")
    assert download("gtzan", target) == target
    assert sorted(p.name for p in (target / "genres").iterdir()) == ["jazz"]
    assert (target / "gtzan_genre" / "genres" / "rock" / "rock.00000.wav").is_file()


def test_gtzan_download_that_leaves_no_genres_folder_says_so(mirdata, tmp_path):
    target = tmp_path / "gtzan"
    with pytest.raises(FileNotFoundError, match="^" + re.escape(
            f"mirdata's GTZAN download left no genres/ folder under {target}; see http://marsyas.info")):
        download("gtzan", target)


def test_without_mirdata_the_message_is_exactly_the_install_hint(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mirdata", None)
    with pytest.raises(ImportError, match=r"^mirbook\.data\.real\.download needs mirdata: "
                                          r"pip install 'mirbook\[datasets\]'$"):
        download("guitarset", tmp_path)


# --- GTZAN ------------------------------------------------------------------------------------------


def _published(split: str) -> list[str]:
    from torchaudio.datasets import gtzan as published

    return list({"train": published.filtered_train, "valid": published.filtered_valid,
                 "test": published.filtered_test}[split])


def _gtzan_folder(root: Path, folder: str, suffix: str, split: str = "valid") -> None:
    """Every excerpt of ``split`` as an (empty) file: listing a split only checks that files exist."""
    for excerpt in _published(split):
        path = root / folder / excerpt.split(".")[0] / f"{excerpt}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def test_gtzan_reads_the_genres_original_folder_of_the_wav_rerelease(tmp_path):
    _gtzan_folder(tmp_path, "genres_original", ".wav")
    refs = GTZAN(tmp_path).tracks("valid")
    assert [ref.track_id for ref in refs] == [f"gtzan-{i}" for i in _published("valid")]
    first = _published("valid")[0]
    assert refs[0].identity["path"] == str(tmp_path / "genres_original" / first.split(".")[0] / f"{first}.wav")


def test_gtzan_prefers_genres_when_both_folders_exist(tmp_path):
    _gtzan_folder(tmp_path, "genres", ".au")
    _gtzan_folder(tmp_path, "genres_original", ".wav")
    paths = [Path(ref.identity["path"]) for ref in GTZAN(tmp_path).tracks("valid")]
    assert len(paths) == 197
    assert all(p.parent.parent == tmp_path / "genres" and p.suffix == ".au" for p in paths)


def test_gtzan_missing_says_what_to_unpack_where(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=_not_found("GTZAN", tmp_path / "genres", "http://marsyas.info")) \
            as info:
        GTZAN(tmp_path).tracks("test")
    assert "<root>/genres/<genre>/<genre>.000NN.au (or genres_original/... .wav) exist" in str(info.value)


def test_gtzan_track_loads_its_genre_and_keys_its_cache_by_the_file(tmp_path):
    _gtzan_folder(tmp_path, "genres", ".au")
    first = _published("valid")[0]
    genre = first.split(".")[0]
    audio = tmp_path / "genres" / genre / f"{first}.au"
    _tone(audio, seconds=0.5, sr=16000)  # a WAV under the .au name: soundfile reads by content
    ref = GTZAN(tmp_path).tracks("valid", n_songs=1)[0]
    assert ref.track_id == f"gtzan-{first}"
    assert ref.identity == {"source": "gtzan", **_identity(audio)}
    song = ref.load(SR)
    assert song.sample_rate == SR and song.audio.shape == (4000,)
    assert song.tags == [genre] and song.style == genre and song.track_id == f"gtzan-{first}"


# --- Jamendo ----------------------------------------------------------------------------------------


@pytest.fixture
def jamendo(tmp_path):
    (tmp_path / "filelists").mkdir()
    (tmp_path / "filelists" / "train").write_text("a.wav\nb.wav\n")
    (tmp_path / "labels").mkdir()
    for name in ("a", "b"):
        _tone(tmp_path / "audio" / f"{name}.wav")
        (tmp_path / "labels" / f"{name}.lab").write_text("0 0.25 nosing\n0.25 0.5 sing\n")
    return tmp_path


_JAMENDO_URL = "https://zenodo.org/record/2585988"
_JAMENDO_LAYOUT = ("<root>/audio/<name>.ogg, <root>/labels/<name>.lab and "
                   "<root>/filelists/{train,valid,test} exist")


def test_jamendo_track_loads_its_voicing_and_keys_its_cache_by_audio_and_labels(jamendo):
    refs = Jamendo(jamendo).tracks("train")
    assert [ref.track_id for ref in refs] == ["jamendo-a", "jamendo-b"]
    assert refs[0].identity == {"source": "jamendo", **_identity(jamendo / "audio" / "a.wav"),
                                "labels": _identity(jamendo / "labels" / "a.lab")}
    song = refs[0].load(SR)
    assert song.sample_rate == SR and song.audio.shape == (4000,) and song.track_id == "jamendo-a"
    np.testing.assert_array_equal(song.voicing, [[0.25, 0.5]])


def test_n_songs_must_be_a_positive_int(jamendo):
    assert [ref.track_id for ref in Jamendo(jamendo).tracks("train", n_songs=1)] == ["jamendo-a"]
    with pytest.raises(ValueError, match=r"^n_songs must be a positive int; got 0$"):
        Jamendo(jamendo).tracks("train", n_songs=0)


@pytest.mark.parametrize("missing", ["filelists/train", "audio/b.wav", "labels/b.lab"])
def test_jamendo_missing_file_is_named_with_where_to_get_the_corpus(jamendo, missing):
    (jamendo / missing).unlink()
    with pytest.raises(DatasetNotFoundError, match=_not_found("Jamendo", jamendo / missing, _JAMENDO_URL)) as info:
        Jamendo(jamendo).tracks("train")
    assert _JAMENDO_LAYOUT in str(info.value)


def test_read_lab_skips_blank_lines_and_keeps_zero_length_rows(tmp_path):
    lab = tmp_path / "x.lab"
    lab.write_text("0 1.5 sing\n\n1.5 2 nosing\n   \n2 2 SING\n2 3.25 sing\n")
    np.testing.assert_array_equal(read_lab(lab), [[0.0, 1.5], [2.0, 2.0], [2.0, 3.25]])


# --- MagnaTagATune ----------------------------------------------------------------------------------

_MTAT_URL = "https://mirg.city.ac.uk/codeapps/the-magnatagatune-dataset"


def _mtat_csv(root: Path, header: list[str], rows: list[list[str]]) -> Path:
    path = root / "annotations_final.csv"
    path.write_text("\n".join("\t".join(f'"{v}"' for v in row) for row in [header] + rows) + "\n")
    return path


def test_magnatagatune_track_loads_its_tags_and_keys_its_cache_by_file_and_tags(tmp_path):
    _mtat_csv(tmp_path, ["clip_id", "rock", "piano", "mp3_path"],
              [["2", "1", "0", "0/x.mp3"], ["7", "1", "1", "3/y.mp3"], ["9", "0", "1", "c/z.mp3"]])
    for name in ("0/x.mp3", "3/y.mp3", "c/z.mp3"):
        _tone(tmp_path / name)
    refs = MagnaTagATune(tmp_path).tracks("train")
    assert [ref.track_id for ref in refs] == ["magnatagatune-2", "magnatagatune-7"]
    assert refs[1].identity == {"source": "magnatagatune", **_identity(tmp_path / "3" / "y.mp3"),
                                "tags": ["rock", "piano"]}
    song = refs[1].load(SR)
    assert song.sample_rate == SR and song.audio.shape == (4000,)
    assert song.tags == ["rock", "piano"] and song.track_id == "magnatagatune-7"


def test_magnatagatune_rereads_an_annotations_file_that_changed(tmp_path):
    csv_path = _mtat_csv(tmp_path, ["clip_id", "rock", "mp3_path"], [["2", "1", "0/x.mp3"]])
    os.utime(csv_path, ns=(1_000_000_000, 1_000_000_000))
    assert MagnaTagATune(tmp_path).tag_names() == ["rock"]
    _mtat_csv(tmp_path, ["clip_id", "jazz", "flute", "mp3_path"], [["2", "1", "1", "0/x.mp3"]])
    os.utime(csv_path, ns=(2_000_000_000, 2_000_000_000))
    assert MagnaTagATune(tmp_path).tag_names() == ["flute", "jazz"]  # equal counts: alphabetical


def test_magnatagatune_missing_annotations_or_clip_is_named(tmp_path):
    layout = "<root>/annotations_final.csv and the mp3 folders <root>/0 ... <root>/f exist"
    with pytest.raises(DatasetNotFoundError, match=_not_found(
            "MagnaTagATune", tmp_path / "annotations_final.csv", _MTAT_URL)) as info:
        MagnaTagATune(tmp_path).tracks("train")
    assert layout in str(info.value)
    _mtat_csv(tmp_path, ["clip_id", "rock", "mp3_path"], [["2", "1", "d/x.mp3"]])
    with pytest.raises(DatasetNotFoundError, match=_not_found("MagnaTagATune", tmp_path / "d" / "x.mp3", _MTAT_URL)) \
            as info:
        MagnaTagATune(tmp_path).tracks("test")
    assert layout in str(info.value)


# --- GuitarSet: JAMS reading ------------------------------------------------------------------------


def _annotation(namespace: str, rows: list[tuple], columns: bool = False) -> dict:
    """A JAMS annotation: a list of observation objects, or (``columns``) the older column-wise layout."""
    if columns:
        return {"namespace": namespace, "data": {"time": [r[0] for r in rows], "duration": [r[1] for r in rows],
                                                 "value": [r[2] for r in rows], "confidence": [1] * len(rows)}}
    return {"namespace": namespace,
            "data": [{"time": t, "duration": d, "value": v, "confidence": 1} for t, d, v in rows]}


def _write(path: Path, annotations: list[dict]) -> Path:
    path.write_text(json.dumps({"annotations": annotations, "file_metadata": {}}))
    return path


def test_read_jams_reads_the_column_wise_layout(tmp_path):
    path = _write(tmp_path / "c.jams", [_annotation("chord", [(0, 1, "C:maj"), (1, 2, "A:min")], columns=True),
                                        _annotation("key_mode", [(0, 3, "A:minor")], columns=True),
                                        _annotation("tempo", [(0, 3, 96)], columns=True)])
    meta = read_jams(path, 3.0)
    intervals, labels = meta["chords"]
    assert labels == ["C:maj", "A:min"]
    assert intervals.dtype == np.float64  # integer JAMS times still give float seconds
    np.testing.assert_array_equal(intervals, [[0.0, 1.0], [1.0, 3.0]])
    assert meta["key"] == "A minor" and meta["tempo"] == 96.0


def test_read_jams_keeps_the_first_of_two_chords_starting_together(tmp_path):
    """Observations are ordered by start time only (stably); a later one overlapping the chord before is cut."""
    rows = [(1.0, 1.0, "E:min"), (0.0, 2.0, "C:maj"), (0.0, 1.0, "A:min")]
    meta = read_jams(_write(tmp_path / "s.jams", [_annotation("chord", rows)]), 3.0)
    np.testing.assert_array_equal(meta["chords"][0], [[0.0, 2.0], [2.0, 3.0]])
    assert meta["chords"][1] == ["C:maj", "N"]


def test_read_jams_drops_zero_length_chords_and_reads_on(tmp_path):
    rows = [(0.0, 1.0, "C:maj"), (1.0, 0.0, "D:min"), (1.0, 1.0, "E:min")]
    meta = read_jams(_write(tmp_path / "z.jams", [_annotation("chord", rows)]), 3.0)
    np.testing.assert_array_equal(meta["chords"][0], [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]])
    assert meta["chords"][1] == ["C:maj", "E:min", "N"]


def test_read_jams_without_key_or_tempo_gives_none(tmp_path):
    only_chords = _write(tmp_path / "a.jams", [_annotation("chord", [(0.0, 2.0, "G:7")])])
    meta = read_jams(only_chords, 2.0)
    assert meta["key"] is None and meta["tempo"] is None
    assert meta["chords"][1] == ["G:7"]
    modal = _write(tmp_path / "b.jams", [_annotation("chord", [(0.0, 2.0, "G:7")]),
                                         _annotation("key_mode", [(0.0, 2.0, "D:dorian")])])
    assert read_jams(modal, 2.0)["key"] is None  # mir_eval keys are major or minor
    no_data = _write(tmp_path / "c.jams", [_annotation("chord", [(0.0, 2.0, "G:7")]), {"namespace": "key_mode"},
                                           {"namespace": "tempo", "data": []}])
    meta = read_jams(no_data, 2.0)
    assert meta["key"] is None and meta["tempo"] is None


def test_read_jams_refuses_a_file_without_chords(tmp_path):
    path = tmp_path / "empty.jams"
    path.write_text("{}")
    with pytest.raises(ValueError, match="^" + re.escape(f"{path} has no 'chord' annotation")):
        read_jams(path, 1.0)


# --- GuitarSet: folders and file names --------------------------------------------------------------

_GS_URL = "https://zenodo.org/record/3371780"
_GS_LAYOUT = "<root>/annotation/*.jams and <root>/audio_mono-mic/*_mic.wav exist"


def _take(root: Path, stem: str) -> Path:
    (root / "annotation").mkdir(exist_ok=True)
    return _write(root / "annotation" / f"{stem}.jams", [_annotation("chord", [(0.0, 0.25, "C:maj")])])


def test_guitarset_missing_annotation_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=_not_found("GuitarSet", tmp_path / "annotation", _GS_URL)) \
            as info:
        GuitarSet(tmp_path).tracks("train")
    assert _GS_LAYOUT in str(info.value)


def test_guitarset_missing_audio_names_the_pickup_mix_it_fell_back_to(tmp_path):
    _take(tmp_path, "00_BN3-119-G_comp")
    missing = tmp_path / "audio_mono-pickup_mix" / "00_BN3-119-G_comp_mix.wav"
    with pytest.raises(DatasetNotFoundError, match=_not_found("GuitarSet", missing, _GS_URL)) as info:
        GuitarSet(tmp_path).tracks("train")
    assert _GS_LAYOUT in str(info.value)


def test_guitarset_reads_the_pickup_mix_when_there_is_no_mic_audio(tmp_path):
    jams = _take(tmp_path, "03_Rock3-117-Bb_comp")
    audio = tmp_path / "audio_mono-pickup_mix" / "03_Rock3-117-Bb_comp_mix.wav"
    _tone(audio)
    [ref] = GuitarSet(tmp_path).tracks("train")
    assert ref.track_id == "guitarset-03_Rock3-117-Bb_comp"
    assert ref.identity == {"source": "guitarset", **_identity(audio), "annotation": _identity(jams)}
    song = ref.load(SR)
    assert song.track_id == "guitarset-03_Rock3-117-Bb_comp" and song.sample_rate == SR
    np.testing.assert_array_equal(song.chords[0], [[0.0, 0.25], [0.25, 0.5]])
    assert song.chords[1] == ["C:maj", "N"]


@pytest.mark.parametrize("stem", ["xx_BN3-119-G_comp", "00_BN3-119-G_duo"])
def test_guitarset_refuses_a_name_outside_the_pattern(tmp_path, stem):
    _take(tmp_path, stem)
    path = tmp_path / "annotation" / f"{stem}.jams"
    with pytest.raises(ValueError, match="^" + re.escape(
            f"{path}: a GuitarSet annotation is named <player>_<lead sheet>_<comp|solo>.jams")):
        GuitarSet(tmp_path).tracks("train")


def test_guitarset_reads_the_take_from_the_last_field_of_the_name(tmp_path):
    """In <player>_<lead sheet>_<comp|solo>, what lies between the first and the last '_' is the lead sheet."""
    _take(tmp_path, "00_BN3-119-G_take2_comp")
    with pytest.raises(ValueError, match=re.escape("'BN3-119-G_take2' is not one of GuitarSet's 30 lead sheets")):
        GuitarSet(tmp_path).tracks("train")
