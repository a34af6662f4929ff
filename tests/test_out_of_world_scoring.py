"""Scoring the voice detectors and the taggers' key head on the out-of-world pieces:
errors by kind of frame, key-only tagger scores and the Krumhansl-Kessler key baseline."""

import math

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from mirbook.data.baselines import key_baseline, krumhansl_keys
from mirbook.data.datasets import TaggedClips
from mirbook.evaluate import FRAME_KINDS, evaluate_keys, evaluate_voicing, voicing_errors_by_kind
from mirbook.models import MODELS
from mirbook.representations import CQT, Chroma, Frontend, LogCompression
from mirbook.scoring import score_tagger
from mirbook.vocab import KEY_LABELS, NO_KEY, key_index

SR, HOP = 22050, 2205  # 0.1 s per frame


def test_voicing_errors_by_kind_by_hand():
    # song 1, frames at 0.0 ... 0.9 s: voice sounds in frames 0-4, the lead in frames 3-7
    p1 = np.array([0.9, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.1, 0.9, 0.1])
    # song 2: no voice, no lead, one false alarm in four frames
    p2 = np.array([0.2, 0.7, 0.2, 0.2])
    refs = [np.array([[0.0, 0.5]]), np.zeros((0, 2))]
    leads = [np.array([[0.3, 0.8]]), None]
    result = voicing_errors_by_kind(refs, leads, [p1, p2], threshold=0.5, sample_rate=SR, hop_length=HOP)
    # voice only: frames 0, 1, 2 (frame 2 missed); both: 3, 4 (4 missed); lead only: 5, 6, 7 (5 fires);
    # neither: 8, 9 of song 1 (8 fires) and the four of song 2 (one fires)
    expected = {"voice only": (3, 1), "both": (2, 1), "lead only": (3, 1), "neither voice nor lead": (6, 2)}
    assert set(result) == set(FRAME_KINDS)
    for kind, (frames, errors) in expected.items():
        assert (result[kind]["frames"], result[kind]["errors"]) == (frames, errors), kind
        assert result[kind]["error_rate"] == pytest.approx(errors / frames)
    # the kinds partition the frames: their errors are the frame accuracy's complement (mir_eval side)
    accuracy = evaluate_voicing(refs, [p1, p2], threshold=0.5, sample_rate=SR, hop_length=HOP)["Frame Accuracy"]
    assert accuracy == pytest.approx(1 - 5 / 14)
    # a median filter of 3 frames changes the decisions as a hand-filtered sequence does
    filtered = voicing_errors_by_kind(refs[:1], leads[:1], [p1], threshold=0.5, sample_rate=SR, hop_length=HOP,
                                      median_filter=3)
    # median over 3 (edges repeat): 0.9 0.9 0.9 0.1 0.9 0.1 0.1 0.1 0.1 0.1
    assert filtered["voice only"]["errors"] == 0 and filtered["both"]["errors"] == 1
    assert filtered["lead only"]["errors"] == 0 and filtered["neither voice nor lead"]["errors"] == 0
    only_song_2 = voicing_errors_by_kind(refs[1:], leads[1:], [p2], threshold=0.5, sample_rate=SR, hop_length=HOP)
    assert math.isnan(only_song_2["lead only"]["error_rate"]) and only_song_2["lead only"]["frames"] == 0
    with pytest.raises(ValueError, match="lead annotations"):
        voicing_errors_by_kind(refs, leads[:1], [p1, p2], threshold=0.5, sample_rate=SR, hop_length=HOP)


class _KeyOnlyClips(Dataset):
    """Clips with a key and no tags, like the out-of-world pieces."""

    tag_names: list = []

    def __init__(self, model, n=9):
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(n, model.n_bins, model.min_frames + 10, generator=g)
        self.keys = torch.randint(0, 24, (n,), generator=g)
        self.keys[0] = NO_KEY

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], torch.zeros(0), self.keys[i]


def test_score_tagger_scores_the_key_alone_on_clips_without_tags():
    torch.manual_seed(0)
    model = MODELS["conv2d_tagger"].from_preset("cpu", tag_names=["a", "b", "c"]).eval()
    clips = _KeyOnlyClips(model)
    with torch.no_grad():
        estimates = model(clips.x).key.argmax(1)
    clips.keys[1:3] = estimates[1:3]  # two clips exactly right
    expected = evaluate_keys([KEY_LABELS[k] for k in clips.keys[1:].tolist()],
                             [KEY_LABELS[k] for k in estimates[1:].tolist()])
    result = score_tagger(model, clips, batch_size=4)
    assert set(result) == {"Key Weighted Score", "Key Correct", "key_scores", "key_songs"}
    # one weighted score per clip with a key (clip 0 has none), each mir_eval's for that clip alone
    assert result["key_songs"].tolist() == list(range(1, len(clips)))
    assert result["key_scores"].tolist() == pytest.approx(
        [evaluate_keys([KEY_LABELS[int(r)]], [KEY_LABELS[int(e)]])["Weighted Score"]
         for r, e in zip(clips.keys[1:], estimates[1:])])
    assert result["key_scores"][:2].tolist() == [1.0, 1.0]
    assert result["Key Weighted Score"] == pytest.approx(expected["Weighted Score"])
    assert result["Key Correct"] == pytest.approx((estimates[1:] == clips.keys[1:]).float().mean().item())
    clips.keys[:] = NO_KEY
    with pytest.raises(ValueError, match="neither tags nor a key"):
        score_tagger(model, clips)


def test_out_of_world_clips_carry_the_key_alone_and_the_baseline_reads_them(tmp_path):
    frontend = Frontend(CQT(sample_rate=SR, hop_length=1024, n_bins=84, bins_per_octave=12, f_min=32.70319566257483),
                        LogCompression(mode="log"))
    clips = TaggedClips("valid", n_songs=2, source="out_of_world", duration=6.0, frontend=frontend,
                        clip_seconds=3.0, clips_per_song=2, cache_dir=tmp_path, progress=False)
    assert clips.tag_names == [] and clips.n_tags == 0 and len(clips) == 4
    keys = [int(clips[i][2]) for i in range(len(clips))]
    assert keys == [key_index(s.key) if s.key else NO_KEY for s in clips.songs for _ in range(2)]
    assert all(clips[i][1].shape == (0,) for i in range(len(clips)))
    known = [i for i, k in enumerate(keys) if k != NO_KEY]
    assert 0 < len(known) < len(clips)  # the first valid piece states no key its last chord confirms
    baseline = key_baseline(clips, cache_dir=tmp_path)
    # independently: each clip's mean chroma from the song's audio, cut where the dataset cuts it
    chroma = Chroma(sample_rate=SR, hop_length=1024)
    means = []
    for i in known:
        j, start = clips._index[i]
        song = clips.example(j)
        c = chroma(torch.as_tensor(song.audio)[None]).squeeze(0)[:, start: start + clips.clip_frames]
        means.append(c.mean(dim=1).numpy())
    assert baseline["estimates"] == krumhansl_keys(np.stack(means))
    assert baseline["Weighted Score"] == pytest.approx(
        evaluate_keys([KEY_LABELS[keys[i]] for i in known], baseline["estimates"])["Weighted Score"])
    no_keys = [i for i in range(len(clips)) if i not in known]
    assert key_baseline(torch.utils.data.Subset(clips, no_keys)) is None
