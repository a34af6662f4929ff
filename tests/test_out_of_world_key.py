"""The taggers' key in the world and out of it (``mirbook.scoring.key_transfer``), checked against
``mir_eval.key`` called directly and hand-computed weighted scores."""

from types import SimpleNamespace

import mir_eval
import numpy as np
import pytest
import torch

from mirbook.data.baselines import key_baseline
from mirbook.representations import CQT, Frontend, LogCompression
from mirbook.scoring import (
    describe_key_transfer,
    key_transfer,
    key_transfer_metrics,
    out_of_world_key_clips,
)
from mirbook.vocab import KEY_LABELS, NO_KEY

SR = 22050
PITCHES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


class _ScriptedKeys(torch.nn.Module):
    """A stand-in tagger that answers the given key indices, in the order the clips come."""

    def __init__(self, estimates):
        super().__init__()
        self.estimates, self.next = list(estimates), 0
        self.device = torch.device("cpu")

    def forward(self, x):
        chosen = self.estimates[self.next: self.next + len(x)]
        self.next += len(x)
        return SimpleNamespace(tags=torch.zeros(len(x), 0), key=torch.nn.functional.one_hot(
            torch.tensor(chosen), len(KEY_LABELS)).float())


def _fifth_relative_parallel(index: int, how: str) -> int:
    """The key a fifth above, the relative or the parallel key of ``KEY_LABELS[index]``, by pitch class."""
    tonic, mode = KEY_LABELS[index].split()
    pitch = PITCHES.index(tonic)
    if how == "fifth":
        pitch, other = (pitch + 7) % 12, mode
    elif how == "relative":
        pitch, other = ((pitch + 9) % 12, "minor") if mode == "major" else ((pitch + 3) % 12, "major")
    else:
        other = "minor" if mode == "major" else "major"
    return KEY_LABELS.index(f"{PITCHES[pitch]} {other}")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    frontend = Frontend(CQT(sample_rate=SR, hop_length=1024, n_bins=84, bins_per_octave=12,
                            f_min=32.70319566257483), LogCompression(mode="log"))
    return out_of_world_key_clips("valid", 3, frontend, clip_seconds=3.0, seconds=8.0,
                                  cache_dir=tmp_path_factory.mktemp("oow"), progress=False)


def test_out_of_world_key_clips_cut_as_many_clips_as_fit(clips):
    # 8 s pieces, 3 s clips: two clips fit in each piece, no tags, the piece's key on each of its clips
    assert clips.source.name == "out_of_world" and clips.tag_names == [] and len(clips) == 6
    assert [j for j, _ in clips._index] == [0, 0, 1, 1, 2, 2]
    assert clips._index[1][1] - clips._index[0][1] > 0  # spread over the piece, not the same clip twice


def test_key_transfer_scores_the_model_against_mir_eval_by_hand(clips, tmp_path):
    keys = [int(clips[i][2]) for i in range(len(clips))]
    known = [i for i, k in enumerate(keys) if k != NO_KEY]
    assert len(known) == 4 and keys[0] == keys[1] == NO_KEY  # the first piece states no key
    # on the four clips with a key: right, a fifth above, the relative, the parallel key
    answers = {known[0]: keys[known[0]], known[1]: _fifth_relative_parallel(keys[known[1]], "fifth"),
               known[2]: _fifth_relative_parallel(keys[known[2]], "relative"),
               known[3]: _fifth_relative_parallel(keys[known[3]], "parallel")}
    scripted = [answers.get(i, 0) for i in range(len(clips))]
    weighted = np.mean([mir_eval.key.weighted_score(KEY_LABELS[keys[i]], KEY_LABELS[answers[i]]) for i in known])
    assert weighted == pytest.approx((1.0 + 0.5 + 0.3 + 0.2) / 4)  # MIREX weights, by hand
    # the same clips serve as "world" and as the test split: each is scored once per role
    rows = key_transfer(_ScriptedKeys(scripted * 2), clips, {"test": clips}, cache_dir=tmp_path)
    profiles = key_baseline(clips, cache_dir=tmp_path)
    for name in ("world", "test"):
        row = rows[name]
        assert (row["pieces"], row["clips"]) == (2, 4)
        assert row["model"] == pytest.approx(0.5) and row["model_correct"] == pytest.approx(0.25)
        assert row["baseline"] == pytest.approx(np.mean(
            [mir_eval.key.weighted_score(KEY_LABELS[keys[i]], est) for i, est in zip(known, profiles["estimates"])]))
        assert row["margin"] == pytest.approx(0.5 - row["baseline"])
    metrics = key_transfer_metrics(rows)
    assert metrics == {"out_of_world_key_weighted": rows["test"]["model"],
                       "out_of_world_baseline_key_weighted": rows["test"]["baseline"],
                       "out_of_world_key_above_baseline": rows["test"]["margin"]}


def test_describe_key_transfer_says_whether_the_key_transfers():
    row = {"pieces": 40, "clips": 120, "model_correct": 0.5, "baseline_correct": 0.4}
    rows = {"world": {**row, "model": 0.9, "baseline": 0.7, "margin": 0.2},
            "valid": {**row, "model": 0.8, "baseline": 0.75, "margin": 0.05},
            "test": {**row, "model": 0.85, "baseline": 0.8, "margin": 0.05}}
    text = describe_key_transfer(rows, "Conv1d")
    table, sentence = text.split("\n\n")
    assert len(table.splitlines()) == 2 + 3
    assert "(Monteverdi, Haydn, Mozart)" in table and "(Bach)" in table and "| +0.200 |" in table
    assert "+0.200" in sentence and "+0.050" in sentence and "The key transfers" in sentence
    assert "smaller lead" in sentence
    rows["test"].update(model=0.7, margin=-0.1)
    sentence = describe_key_transfer(rows, "Conv1d").split("\n\n")[1]
    assert "only in part" in sentence and "-0.100" in sentence
    assert "above the profiles on the validation pieces but falls below them on the test pieces" in sentence
    rows["valid"].update(model=0.7, margin=-0.05)
    sentence = describe_key_transfer(rows, "Conv1d").split("\n\n")[1]
    assert "does not transfer" in sentence and "-0.050" in sentence


def test_without_the_test_pieces_the_validation_pieces_are_reported():
    row = {"pieces": 14, "clips": 42, "model_correct": 0.5, "baseline_correct": 0.4}
    rows = {"world": {**row, "model": 0.9, "baseline": 0.7, "margin": 0.2},
            "valid": {**row, "model": 0.8, "baseline": 0.75, "margin": 0.05}}
    assert key_transfer_metrics(rows) == {"out_of_world_key_weighted": 0.8, "out_of_world_baseline_key_weighted": 0.75,
                                          "out_of_world_key_above_baseline": 0.05}
    sentence = describe_key_transfer(rows, "Conv1d").split("\n\n")[1]
    assert "0.800 against 0.750 on the out-of-world validation pieces (+0.050)" in sentence
    assert "gave" not in sentence  # the validation pieces are named once
    with pytest.raises(ValueError, match="'test' or 'valid'"):
        key_transfer_metrics({"world": rows["world"]})
