"""Settings, feature-cache keys and the errors of datasets, frontend recipes and checkpoints."""

import inspect
import os
import shutil
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from mirbook.data import ChordFrames, Song, TaggedClips, VoiceExcerpts
from mirbook.data.cache import frontend_fingerprint
from mirbook.data.datasets import SOURCES
from mirbook.data.sources import Source, TrackRef
from mirbook.models import MODELS, Conv1dTagger, build_frontend
from mirbook.representations import CQT, STFT, Chroma, Frontend, LogCompression, MelSpectrogram
from mirbook.train import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint

from test_data_real import guitarset, jamendo  # noqa: F401  (the fixture folders)

SR = 22050
#: A small CQT recipe: 36 bins from C2 at a hop of 1024 samples.
SMALL_CQT = {"representation": "cqt", "log": "log", "sample_rate": SR, "hop_length": 1024,
             "f_min": 65.40639132514966, "n_bins": 36, "bins_per_octave": 12}


def _tone(seconds=2.0, freq=220.0):
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# -- every setting and every buffer keys the cached features ------------------------------------

#: A non-default value for every constructor option of each representation.
OTHER_OPTIONS = {
    STFT: {"sample_rate": 16000, "n_fft": 1024, "hop_length": 256, "win_length": 800, "power": 2.0,
           "center": False, "pad_mode": "reflect"},
    MelSpectrogram: {"sample_rate": 16000, "n_fft": 1024, "hop_length": 256, "n_mels": 40, "f_min": 30.0,
                     "f_max": 7000.0, "power": 1.0, "mel_scale": "htk", "norm": None, "center": False,
                     "pad_mode": "reflect"},
    CQT: {"sample_rate": 16000, "hop_length": 256, "f_min": 55.0, "n_bins": 48, "bins_per_octave": 24,
          "tuning": 0.25, "filter_scale": 0.5, "sparsity": 0.0},
    Chroma: {"sample_rate": 16000, "hop_length": 256, "f_min": 55.0, "n_octaves": 5, "bins_per_octave": 24,
             "tuning": -0.25, "norm": 2, "threshold": 0.1},
    LogCompression: {"mode": "db", "eps": 1e-4, "input_power": 1.0},
}


@pytest.mark.parametrize("cls", list(OTHER_OPTIONS), ids=lambda c: c.__name__)
def test_every_constructor_option_is_a_declared_setting(cls):
    keywords = set(inspect.signature(cls).parameters)
    assert set(OTHER_OPTIONS[cls]) == keywords  # the table above covers every option
    module = cls(**OTHER_OPTIONS[cls])
    assert module.settings == OTHER_OPTIONS[cls]
    assert set(cls().settings) == keywords


def test_frontends_that_differ_in_one_setting_get_different_keys():
    spec = dict(MODELS["deep_chroma"]().frontend_spec)
    plain = MODELS["deep_chroma"].from_preset("cpu", frontend=spec).frontend()
    narrow = MODELS["deep_chroma"].from_preset("cpu", frontend={**spec, "filter_scale": 0.5}).frontend()
    sparse = MODELS["deep_chroma"].from_preset("cpu", frontend={**spec, "sparsity": 0.2}).frontend()
    audio = torch.from_numpy(_tone())
    assert not torch.allclose(plain(audio), narrow(audio))  # they compute different features ...
    keys = {frontend_fingerprint(f) for f in (plain, narrow, sparse)}
    assert len(keys) == 3  # ... so their cache keys differ
    again = MODELS["deep_chroma"].from_preset("cpu", frontend=spec).frontend()
    assert frontend_fingerprint(again) == frontend_fingerprint(plain)


def test_non_persistent_buffers_and_list_settings_key_the_features():
    class Weighting(nn.Module):
        """Scales band groups by a list of gains (a setting held in a list)."""

        def __init__(self, gains):
            super().__init__()
            self.gains = list(gains)

        def forward(self, x):
            return x * torch.tensor(self.gains).repeat_interleave(x.shape[1] // len(self.gains))[:, None]

    def frontend(gains):
        return Frontend(CQT(hop_length=1024, n_bins=36, f_min=65.40639132514966), LogCompression(), Weighting(gains))

    assert frontend_fingerprint(frontend([1.0, 2.0])) != frontend_fingerprint(frontend([1.0, 3.0]))
    base, changed = frontend([1.0, 2.0]), frontend([1.0, 2.0])
    assert "weight0" not in changed.state_dict()  # the CQT's kernels are not persistent ...
    changed[0].weight0.mul_(0.5)
    assert frontend_fingerprint(changed) != frontend_fingerprint(base)  # ... and still key the features


class Tones(Source):
    """Two-second sine tones, one per track, tagged from a vocabulary (a test source)."""

    name = "tones"
    tasks = ("chords", "tags")

    def __init__(self, names=("low", "high"), n_tracks=2):
        self.names, self.n_tracks = list(names), n_tracks

    def tracks(self, split, *, task=None, n_songs=None):
        self.check_task(task)
        return [self._track(i) for i in range(self.n_tracks)]

    def _track(self, i):
        def load(sample_rate):
            return Song(audio=_tone(freq=220.0 * (i + 1)), sample_rate=sample_rate, tags=[self.names[i % 2]],
                        chords=(np.array([[0.0, 2.0]]), ["A:maj"]), track_id=f"tone-{i}")

        return TrackRef(f"tone-{i}", {"source": "tones", "index": i}, load)

    def tag_names(self):
        return list(self.names)


def test_a_dataset_never_serves_another_frontends_features(tmp_path):
    spec = dict(MODELS["deep_chroma"]().frontend_spec)
    first = MODELS["deep_chroma"](frontend=spec).frontend()
    second = MODELS["deep_chroma"](frontend={**spec, "filter_scale": 0.5}).frontend()
    ChordFrames("train", frontend=first, source=Tones(), cache_dir=tmp_path, progress=False)
    served = ChordFrames("train", frontend=second, source=Tones(), cache_dir=tmp_path, progress=False)
    for i in range(2):
        fresh = second(torch.from_numpy(_tone(freq=220.0 * (i + 1))))[0]
        assert torch.allclose(served.features[i], fresh, atol=1e-5)


# -- settings refused where they enter ------------------------------------------------------------

def test_tagged_clips_refuse_clips_shorter_than_one_frame():
    frontend = build_frontend(SMALL_CQT)  # one frame = 1024 / 22050 s = 46 ms
    with pytest.raises(ValueError, match=r"clip_seconds=0\.01 .*at least clip_seconds=0\.04644"):
        TaggedClips("train", frontend=frontend, source=Tones(), clip_seconds=0.01, cache_dir=False, progress=False)
    data = TaggedClips("train", frontend=frontend, source=Tones(), clip_seconds=0.05, cache_dir=False,
                       progress=False)
    assert data.clip_frames == 1 and data[0][0].shape == (36, 1)


MEL = {"representation": "mel", "log": "db", "n_mels": 16, "hop_length": 512}
SPECTRUM = {"representation": "stft", "log": "log", "n_fft": 512, "hop_length": 256}


@pytest.mark.parametrize("spec, named", [
    ({**SMALL_CQT, "bogus": 1}, "bogus"),
    ({**SMALL_CQT, "n_bins": "84"}, "n_bins"),
    ({**SMALL_CQT, "f_min": "30"}, "f_min"),
    ({**SMALL_CQT, "filter_scale": "1"}, "filter_scale"),
    ({**SMALL_CQT, "tuning": "0"}, "tuning"),
    ({**SMALL_CQT, "sparsity": None}, "sparsity"),
    ({**SMALL_CQT, "log": "ln"}, "log"),
    ({**SMALL_CQT, "n_bins": 120}, "Nyquist"),  # the top bin, C12, is above 11025 Hz
    ({**MEL, "n_bins": 84}, "n_bins"),  # a CQT option given to a mel spectrogram
    ({**MEL, "f_max": "8000"}, "f_max"),
    ({**SPECTRUM, "center": "no"}, "center"),
    ({**SPECTRUM, "power": None}, "power"),
], ids=lambda v: repr(v) if isinstance(v, str) else None)
def test_a_bad_frontend_spec_is_refused_when_the_model_is_built(spec, named):
    with pytest.raises(ValueError, match=named):
        build_frontend(spec)
    with pytest.raises(ValueError, match=named):
        MODELS["deep_chroma"](frontend=spec)


def test_a_frontend_spec_must_be_a_dict():
    with pytest.raises(ValueError, match="frontend spec must be a dict"):
        build_frontend("cqt")


def test_cqt_refuses_a_top_bin_above_nyquist():
    with pytest.raises(ValueError, match=r"above the Nyquist frequency 11025 Hz"):
        CQT(sample_rate=SR, f_min=8000.0, n_bins=12)


def test_a_checkpoint_with_a_bad_frontend_spec_fails_on_load_naming_the_file(tmp_path):
    model = MODELS["deep_chroma"](frontend=SMALL_CQT)
    path = save_checkpoint(tmp_path / "ok.pt", model)
    payload = torch.load(path, weights_only=True)
    payload["config"]["frontend"] = {**SMALL_CQT, "bogus": 1}
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(ValueError, match=r"edited\.pt.*bogus"):
        load_checkpoint(tmp_path / "edited.pt")


# -- checkpoints, tag names, caches and files -----------------------------------------------------

def _write_checkpoint_like(path, what):
    if what == "empty":
        path.write_bytes(b"")
    elif what == "text":
        path.write_text("epoch,loss\n1,0.5\n")
    elif what == "no config":
        torch.save({"format": CHECKPOINT_FORMAT, "model": "deep_chroma", "state_dict": {}, "history": {}}, path)
    elif what == "a list":
        torch.save([1, 2, 3], path)


@pytest.mark.parametrize("what", ["empty", "text", "no config", "a list"])
def test_load_checkpoint_names_the_file_and_what_a_checkpoint_holds(tmp_path, what):
    path = tmp_path / f"{what.replace(' ', '_')}.pt"
    _write_checkpoint_like(path, what)
    with pytest.raises(ValueError, match=rf"{path.name}.*a mirbook checkpoint is a torch file"):
        load_checkpoint(path)


def test_duplicate_tag_names_are_refused():
    with pytest.raises(ValueError, match=r"tag_names must be distinct; \['rock'\]"):
        Conv1dTagger(tag_names=["rock", "pop", "rock"])
    with pytest.raises(ValueError, match=r"tag_names\(\) must be distinct; \['low'\]"):
        TaggedClips("train", frontend=build_frontend(SMALL_CQT), source=Tones(names=("low", "low")),
                    clip_seconds=1.0, cache_dir=False, progress=False)


def test_an_unwritable_cache_folder_computes_without_caching(tmp_path, monkeypatch):
    from mirbook.data import cache

    monkeypatch.setattr(cache, "_UNWRITABLE", set(), raising=False)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    folder = blocker / "cache"  # cannot be created: its parent is a file
    frontend = build_frontend(SMALL_CQT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = ChordFrames("train", frontend=frontend, source=Tones(), cache_dir=folder, progress=False)
    messages = [str(w.message) for w in caught if "cache folder" in str(w.message)]
    assert len(messages) == 1 and str(folder) in messages[0]  # warned once, naming the folder
    uncached = ChordFrames("train", frontend=frontend, source=Tones(), cache_dir=False, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(data.features, uncached.features))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="a read-only folder binds only non-root users")
def test_a_read_only_cache_folder_computes_without_caching(tmp_path, monkeypatch):
    from mirbook.data import cache

    monkeypatch.setattr(cache, "_UNWRITABLE", set(), raising=False)
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.warns(RuntimeWarning, match="cache folder"):
            data = ChordFrames("train", frontend=build_frontend(SMALL_CQT), source=Tones(), cache_dir=folder,
                               progress=False)
    finally:
        folder.chmod(0o755)
    assert data.n_songs == 2 and not list(folder.iterdir())


def test_a_malformed_jams_file_fails_its_split_naming_the_file(guitarset, tmp_path):  # noqa: F811
    root = shutil.copytree(guitarset, tmp_path / "copy")
    (root / "annotation" / "05_BN1-129-Eb_comp.jams").write_text('{"annotations": [')
    with pytest.raises(ValueError, match=r"05_BN1-129-Eb_comp\.jams.*JSONDecodeError"):
        ChordFrames("test", frontend=build_frontend(SMALL_CQT), source="guitarset", root=root, n_songs=None,
                    cache_dir=False, progress=False)


def test_an_empty_audio_file_fails_its_split_naming_the_file(guitarset, tmp_path):  # noqa: F811
    root = shutil.copytree(guitarset, tmp_path / "copy")
    sf.write(str(root / "audio_mono-mic" / "05_BN1-129-Eb_comp_mic.wav"), np.zeros(0, dtype=np.float32), SR)
    with pytest.raises(ValueError, match=r"05_BN1-129-Eb_comp_mic\.wav.*(0|no) samples"):
        ChordFrames("test", frontend=build_frontend(SMALL_CQT), source="guitarset", root=root, n_songs=None,
                    cache_dir=False, progress=False)


def test_an_unreadable_audio_file_fails_its_split_naming_the_file(jamendo, tmp_path):  # noqa: F811
    root = shutil.copytree(jamendo, tmp_path / "copy")
    (root / "audio" / "b.ogg").write_bytes(b"not audio at all")
    mel = Frontend(MelSpectrogram(n_mels=16, hop_length=512), LogCompression(mode="db"))
    with pytest.raises(ValueError, match=r"b\.ogg"):
        VoiceExcerpts("train", frontend=mel, source="jamendo", root=root, n_songs=None, excerpt_frames=31,
                      cache_dir=False, progress=False)


@pytest.mark.parametrize("name", list(SOURCES))
def test_sources_refuse_an_unknown_task(name, tmp_path):
    source = SOURCES[name].for_dataset(seed=0, duration=2.0, root=tmp_path)
    with pytest.raises(ValueError, match=rf"source {name!r} serves the tasks .* got task 'beats'"):
        source.tracks("train", task="beats", n_songs=1)
