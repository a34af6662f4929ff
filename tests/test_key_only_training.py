"""Out-of-world key-only clips in a tagger's training set: unknown tags leave the tag term, the
key still trains (mirbook.data.datasets.KeyOnlyClips, the taggers' loss; tagger chapters)."""

import numpy as np
import pytest
import torch

from mirbook.data.datasets import KeyOnlyClips, TaggedClips
from mirbook.models import MODELS
from mirbook.vocab import NO_KEY


class _Clips:
    """What KeyOnlyClips reads of a TaggedClips: items, per-song keys and the clip index."""

    def __init__(self, keys, clips_per_song=2):
        self.keys = [torch.tensor(k) for k in keys]
        self._index = [(j, s) for j in range(len(keys)) for s in range(clips_per_song)]

    def __len__(self):
        return len(self._index)

    def __getitem__(self, i):
        j, s = self._index[i]
        return torch.full((3, 4), float(10 * j + s)), torch.zeros(0), self.keys[j]


def test_key_only_clips_keep_the_clips_with_a_key_and_leave_every_tag_unknown():
    clips = _Clips([5, NO_KEY, 17])
    data = KeyOnlyClips(clips, ["rock", "jazz"])
    assert len(data) == 4
    items = [data[i] for i in range(len(data))]
    assert [float(x[0, 0]) for x, _, _ in items] == [0.0, 1.0, 20.0, 21.0]  # song 1 (no key) dropped
    assert [int(k) for _, _, k in items] == [5, 5, 17, 17]
    assert all(t.shape == (2,) and torch.isnan(t).all() for _, t, _ in items)
    items[0][1][0] = 0.0  # an item's tags are its own: changing them leaves the next item's alone
    assert torch.isnan(data[1][1]).all()
    with pytest.raises(ValueError, match="tag_names"):
        KeyOnlyClips(clips, ["rock", "rock"])


def _bce(logit, target):
    p = 1 / (1 + np.exp(-logit))
    return -(target * np.log(p) + (1 - target) * np.log(1 - p))


def test_unknown_tags_leave_the_tag_term_and_the_key_term_is_untouched():
    """Loss by hand: tag_weight x the mean BCE over the known tag entries, plus the key's cross-entropy
    over the clips with a key; a batch of key-only clips trains the key alone."""
    torch.manual_seed(0)
    model = MODELS["conv2d_tagger"].from_preset("cpu", tag_names=["a", "b", "c"], transpose=0).eval()
    x = torch.randn(3, model.n_bins, 64)
    tags = torch.tensor([[1.0, 0.0, 1.0], [float("nan")] * 3, [0.0, 1.0, 0.0]])
    key = torch.tensor([3, 7, NO_KEY])
    with torch.no_grad():
        out = model(x)
        loss = float(model.loss((x, tags, key)))
    logits, key_logits = out.tags.numpy().astype(float), out.key.numpy().astype(float)
    known = ~np.isnan(tags.numpy())
    tag_term = _bce(logits[known], tags.numpy()[known]).mean()  # 6 known entries, not 9
    log_softmax = key_logits - np.log(np.exp(key_logits).sum(axis=1, keepdims=True))
    key_term = -(log_softmax[0, 3] + log_softmax[1, 7]) / 2
    assert loss == pytest.approx(model.tag_weight * tag_term + key_term, rel=1e-5)
    with torch.no_grad():
        only_key = float(model.loss((x[1:2], tags[1:2], key[1:2])))
    assert only_key == pytest.approx(-log_softmax[1, 7], rel=1e-5)  # finite: no tag entry to average


def test_key_only_out_of_world_clips_train_beside_the_world(tmp_path):
    """Out-of-world clips (no tag vocabulary) padded to the world's tags concatenate with world clips."""
    from torch.utils.data import ConcatDataset, DataLoader

    model = MODELS["conv2d_tagger"].from_preset("cpu", n_tags=1)
    frontend = model.frontend()
    world = TaggedClips("train", n_songs=1, frontend=frontend, duration=6.0, clip_seconds=2.0, clips_per_song=1,
                        cache_dir=tmp_path, progress=False)
    real = TaggedClips("train", n_songs=3, frontend=frontend, source="out_of_world", duration=6.0,
                       clip_seconds=2.0, clips_per_song=2, cache_dir=tmp_path, progress=False)
    keyed = KeyOnlyClips(real, world.tag_names)
    assert 0 < len(keyed) == 2 * sum(song.key is not None for song in real.songs) < len(real)
    x, tags, key = next(iter(DataLoader(ConcatDataset([world, keyed]), batch_size=len(world) + len(keyed))))
    assert tags.shape == (len(world) + len(keyed), world.n_tags)
    assert not torch.isnan(tags[: len(world)]).any() and torch.isnan(tags[len(world):]).all()
