"""Chords outside majmin as training targets: ignored by the data, the augmentation and the deep chroma loss."""

import numpy as np
import pytest
import torch

from mirbook.data import ChordFrames
from mirbook.data.harmony import NUMERALS
from mirbook.data.song import Song
from mirbook.data.sources import Source, TrackRef
from mirbook.models import MODELS, transpose_labels
from mirbook.representations import CQT, Frontend, LogCompression
from mirbook.vocab import CHORD_LABELS, IGNORE_CHORD, chord_chroma, chord_index

SR = 22050
HOP = 1024


@pytest.fixture(scope="module")
def frontend():
    return Frontend(CQT(hop_length=HOP, n_bins=36, f_min=65.40639132514966), LogCompression())


class _Progression(Source):
    """One 4-second song whose chords are C:maj, C:sus4, N, A:hdim7 (one second each)."""

    name = "progression"
    tasks = ("chords",)

    def tracks(self, split, *, task=None, n_songs=None):
        def load(sample_rate):
            t = np.arange(4 * sample_rate) / sample_rate
            audio = (0.2 * np.sin(2 * np.pi * 261.63 * t)).astype(np.float32)
            chords = (np.array([[0, 1], [1, 2], [2, 3], [3, 4]], dtype=float), ["C:maj", "C:sus4", "N", "A:hdim7"])
            return Song(audio=audio, sample_rate=sample_rate, chords=chords, track_id="progression")

        return [TrackRef("progression", {"source": "progression"}, load)]


def test_frames_of_a_chord_outside_majmin_get_the_ignore_target(frontend):
    data = ChordFrames("test", frontend=frontend, source=_Progression(), n_songs=None, cache_dir=False,
                       progress=False)
    item = data.song(0)
    times, labels = item.times, item.targets.numpy()
    # by hand: the chord sounding at each frame's time
    expected = np.select([times < 1, times < 2, times < 3, times < 4],
                         [chord_index("C:maj"), IGNORE_CHORD, 0, IGNORE_CHORD], default=0)
    assert chord_index("C:maj") == 1
    assert np.array_equal(labels, expected)
    assert (labels == IGNORE_CHORD).sum() == ((times >= 1) & (times < 2)).sum() + ((times >= 3) & (times < 4)).sum()
    sus = int(np.flatnonzero((times >= 1) & (times < 2))[0])
    _x, chroma, label = data[sus]
    assert int(label) == IGNORE_CHORD and chroma.dtype == torch.float32 and not chroma.any()
    batch = torch.utils.data.default_collate([data[i] for i in range(len(data))])
    assert torch.equal(batch[2], item.targets)


def test_transposition_keeps_the_ignore_target():
    labels = torch.tensor([IGNORE_CHORD, chord_index("E:min"), 0, IGNORE_CHORD])
    (moved,) = transpose_labels(torch.tensor([3, -2, 5, -6]), chords=labels)
    assert [int(v) for v in moved] == [IGNORE_CHORD, chord_index("D:min"), 0, IGNORE_CHORD]


def _batch(labels):
    torch.manual_seed(0)
    model = MODELS["deep_chroma"](hidden=(16,), transpose=0).eval()  # eval: no dropout, the same outputs twice
    x = torch.randn(len(labels), model.n_bins, model.context)
    label = torch.tensor(labels)
    chroma = torch.stack([torch.zeros(12) if int(c) == IGNORE_CHORD else torch.from_numpy(chord_chroma(CHORD_LABELS[c]))
                          for c in labels])
    return model, x, chroma, label


def test_the_chord_loss_is_the_mean_over_the_frames_not_ignored():
    labels = [chord_index("C:maj"), IGNORE_CHORD, chord_index("A:min"), 0, IGNORE_CHORD]
    model, x, chroma, label = _batch(labels)
    loss = model.loss((x, chroma, label)).item()
    with torch.no_grad():
        out = model(x)
    z = out.chroma[:, :, 0].double().numpy()
    logits = out.chords[:, :, 0].double().numpy()
    kept = [0, 2, 3]
    y = chroma.double().numpy()
    p = 1 / (1 + np.exp(-z))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))[kept].mean()  # mean over 3 frames x 12 pitch classes
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    ce = -np.mean([log_softmax[i, labels[i]] for i in kept])
    assert loss == pytest.approx(bce + ce, rel=1e-5)
    # the ignored frames' inputs and chroma do not matter
    x2, chroma2 = x.clone(), chroma.clone()
    x2[[1, 4]] = torch.randn(2, *x.shape[1:])
    chroma2[[1, 4]] = 1.0
    assert model.loss((x2, chroma2, label)).item() == pytest.approx(loss, rel=1e-6)


def test_a_batch_of_ignored_frames_alone_has_zero_loss_and_zero_gradient():
    model, x, chroma, label = _batch([IGNORE_CHORD, IGNORE_CHORD])
    loss = model.loss((x, chroma, label))
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(loss)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_the_synthetic_world_has_no_chord_outside_majmin(frontend):
    """So the ignore target changes nothing in the deep chroma chapter's synthetic runs."""
    assert {quality for mode in NUMERALS.values() for _, quality in mode.values()} == {"maj", "min"}
    for split in ("train", "valid", "test"):
        data = ChordFrames(split, n_songs=2, frontend=frontend, duration=8.0, cache_dir=False, progress=False)
        assert all(chord_index(label) != IGNORE_CHORD for song in data.songs for label in song.chords[1])
        labels = torch.cat(data.labels)
        assert len(labels) == len(data) and not (labels == IGNORE_CHORD).any()
