"""A trained model on a ``mirbook.data`` split, scored in one call (Section 5.7's six models).

The runners here drive a model over every song or clip of a split, in evaluation mode, and hand
its outputs to the metrics of ``mirbook.evaluate``: :func:`score_chord_model` (deep chroma
chapter), :func:`voice_probabilities` and :func:`score_voice_model` (voice chapters),
:func:`score_tagger` (tagger chapters).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader

from mirbook.evaluate import (
    choose_voicing_settings,
    decode_chords,
    evaluate_chords,
    evaluate_keys,
    evaluate_tags,
    evaluate_voicing,
)
from mirbook.runtime import evaluation_mode
from mirbook.vocab import KEY_LABELS, NO_KEY

__all__ = ["score_chord_model", "voice_probabilities", "score_voice_model", "score_tagger"]


def _song_items(dataset, *, what: str) -> list:
    if not hasattr(dataset, "song_items"):
        raise ValueError(f"{what} needs a mirbook.data dataset with song_items(); got {type(dataset).__name__}")
    items = dataset.song_items()
    if not items:
        raise ValueError(f"{what}: the dataset has no songs")
    return items


def score_chord_model(model, dataset, *, smooth: int = 1) -> dict[str, float]:
    """Run a chord model over every song of a ``ChordFrames`` split and score it (deep chroma chapter).

    Each song's features go through ``model.predict_frames`` in one call; the posteriors are
    decoded with ``mirbook.evaluate.decode_chords`` and compared with the song's reference chords
    by ``mirbook.evaluate.evaluate_chords`` (duration-weighted WCSR: "majmin", "root", ...).
    """
    references, estimates = [], []
    for item in _song_items(dataset, what="score_chord_model"):
        _, posteriors = model.predict_frames(item.features[None])
        estimates.append(decode_chords(posteriors[0], sample_rate=model.sample_rate, hop_length=model.hop_length,
                                       smooth=smooth))
        references.append(item.song.chords)
    return evaluate_chords(references, estimates)


def voice_probabilities(model, dataset) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(reference voiced intervals (n, 2), frame probabilities (frames,))`` per song of a ``VoiceExcerpts`` split.

    The inputs of ``mirbook.evaluate.choose_voicing_settings`` and ``evaluate_voicing`` (voice chapters).
    """
    references, probabilities = [], []
    for item in _song_items(dataset, what="voice_probabilities"):
        probabilities.append(model.predict_frames(item.features[None])[0].cpu().numpy())
        references.append(np.asarray(item.song.voicing, dtype=float).reshape(-1, 2))
    return references, probabilities


def score_voice_model(model, valid_dataset, test_dataset, *,
                      median_filters: Sequence[int] = (1,)) -> dict[str, float]:
    """Pick the threshold and median filter on the validation songs, then score the test songs (voice chapters).

    The choice is ``mirbook.evaluate.choose_voicing_settings`` over ``median_filters`` (frames);
    returns ``evaluate_voicing``'s scores on the test split plus the chosen "Threshold" and
    "Median Filter".
    """
    rate = {"sample_rate": model.sample_rate, "hop_length": model.hop_length}
    threshold, median_filter, _ = choose_voicing_settings(*voice_probabilities(model, valid_dataset),
                                                          median_filters=median_filters, **rate)
    scores = evaluate_voicing(*voice_probabilities(model, test_dataset), threshold=threshold,
                              median_filter=median_filter, **rate)
    return {**scores, "Threshold": threshold, "Median Filter": median_filter}


def score_tagger(model, dataset, *, batch_size: int = 64) -> dict:
    """Tag AUCs and key scores of a tagger on every clip of a ``TaggedClips`` split (tagger chapters).

    Clips are run in batches in evaluation mode; tags go to ``mirbook.evaluate.evaluate_tags``
    ("ROC-AUC", "PR-AUC", ...), the most probable key of each clip with a known key to
    ``evaluate_keys`` (prefixed "Key ": "Key Weighted Score", and "Key Correct", the fraction of
    clips whose key is exactly right). Clips without a key annotation (real tagging datasets)
    are left out of the key scores; when no clip has one there are none.
    """
    if len(dataset) == 0:
        raise ValueError("score_tagger: the dataset has no clips")
    scores, targets, keys, key_estimates = [], [], [], []
    with evaluation_mode(model):
        for x, tags, key in DataLoader(dataset, batch_size=batch_size):
            out = model(x.to(model.device))
            scores.append(torch.sigmoid(out.tags).cpu())
            targets.append(tags)
            keys.append(key)
            key_estimates.append(out.key.argmax(dim=1).cpu())
    result = evaluate_tags(torch.cat(targets), torch.cat(scores), tag_names=getattr(dataset, "tag_names", None))
    keys, key_estimates = torch.cat(keys), torch.cat(key_estimates)
    known = keys != NO_KEY
    if known.any():
        key_scores = evaluate_keys([KEY_LABELS[k] for k in keys[known].tolist()],
                                   [KEY_LABELS[k] for k in key_estimates[known].tolist()])
        result.update({f"Key {name}": value for name, value in key_scores.items()})
    return result
