"""A trained model on a ``mirbook.data`` split, scored in one call (Section 5.7's six models).

The runners here drive a model over every song or clip of a split, in evaluation mode, and hand
its outputs to the metrics of ``mirbook.evaluate``: :func:`chord_model_estimates` and
:func:`score_chord_model` (deep chroma chapter), :func:`voice_probabilities` and
:func:`score_voice_model` (voice chapters), :func:`score_tagger`, :func:`key_transfer` and
:func:`tagger_metrics` (tagger chapters). :func:`choose_template_settings` tunes the
template-chord baseline for itself on validation songs, and :func:`grid_edge` says whether a
choice sits at the edge of its grid (deep chroma chapter).
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
    key_song_scores,
)
from mirbook.data.baselines import (baseline_metrics, family_metrics, key_baseline, template_posteriors,
                                    template_similarities)
from mirbook.data.datasets import TaggedClips
from mirbook.data.out_of_world import COLLECTIONS
from mirbook.runtime import evaluation_mode
from mirbook.vocab import KEY_LABELS, NO_KEY

__all__ = ["chord_model_estimates", "score_chord_model", "voice_probabilities", "score_voice_model", "score_tagger",
           "OUT_OF_WORLD_SECONDS", "out_of_world_key_clips", "key_transfer", "describe_key_transfer",
           "key_transfer_metrics", "reported_key_row", "TAGGER_BARS", "tagger_metrics",
           "choose_template_settings", "grid_edge"]


def _song_items(dataset, *, what: str) -> list:
    if not hasattr(dataset, "song_items"):
        raise ValueError(f"{what} needs a mirbook.data dataset with song_items(); got {type(dataset).__name__}")
    items = dataset.song_items()
    if not items:
        raise ValueError(f"{what}: the dataset has no songs")
    return items


def chord_model_estimates(model, dataset, *, smooth: int = 1) -> tuple[list, list]:
    """``(references, estimates)``: every song's reference chords and a chord model's decoded chords,
    ``(intervals, labels)`` pairs, over a ``ChordFrames`` split (deep chroma chapter).

    Each song's features go through ``model.predict_frames`` in one call; the posteriors are
    decoded with ``mirbook.evaluate.decode_chords`` (``smooth`` frames).
    """
    references, estimates = [], []
    for item in _song_items(dataset, what="chord_model_estimates"):
        _, posteriors = model.predict_frames(item.features[None])
        estimates.append(decode_chords(posteriors[0], sample_rate=model.sample_rate, hop_length=model.hop_length,
                                       smooth=smooth))
        references.append(item.song.chords)
    return references, estimates


def score_chord_model(model, dataset, *, smooth: int = 1) -> dict[str, float]:
    """:func:`chord_model_estimates` scored by ``mirbook.evaluate.evaluate_chords`` (duration-weighted
    WCSR: "majmin", "root", ...; deep chroma chapter)."""
    return evaluate_chords(*chord_model_estimates(model, dataset, smooth=smooth))


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
    are left out of the key scores; when no clip has one there are none. A dataset without tags
    (``n_tags == 0``: the out-of-world pieces, which have a key only) gets the key scores alone.
    The outputs behind the scores come with them, for paired intervals: "scores" and "targets"
    (clips, tags) arrays, and for the clips with a key "key_scores" (each one's weighted score)
    and "key_songs" (the song each is cut from).
    """
    if len(dataset) == 0:
        raise ValueError("score_tagger: the dataset has no clips")
    tag_names = getattr(dataset, "tag_names", None)
    scores, targets, keys, key_estimates = [], [], [], []
    with evaluation_mode(model):
        for x, tags, key in DataLoader(dataset, batch_size=batch_size):
            out = model(x.to(model.device))
            scores.append(torch.sigmoid(out.tags).cpu())
            targets.append(tags)
            keys.append(key)
            key_estimates.append(out.key.argmax(dim=1).cpu())
    targets = torch.cat(targets)
    keys, key_estimates = torch.cat(keys), torch.cat(key_estimates)
    known = keys != NO_KEY
    if targets.shape[1] == 0 and not known.any():
        raise ValueError("score_tagger: the dataset has neither tags nor a key annotation to score")
    scores = torch.cat(scores)
    result = {} if targets.shape[1] == 0 else {
        **evaluate_tags(targets, scores, tag_names=tag_names), "scores": scores.numpy(), "targets": targets.numpy()}
    if known.any():
        references = [KEY_LABELS[k] for k in keys[known].tolist()]
        estimates = [KEY_LABELS[k] for k in key_estimates[known].tolist()]
        key_scores = evaluate_keys(references, estimates)
        result.update({f"Key {name}": value for name, value in key_scores.items()})
        songs = getattr(dataset, "clip_songs", range(len(dataset)))
        result.update(key_scores=key_song_scores(references, estimates),
                      key_songs=np.asarray(songs)[known.numpy()])
    return result


#: Seconds of each out-of-world piece the tagger chapters read: its opening, rendered once and cached.
OUT_OF_WORLD_SECONDS = 30.0


def out_of_world_key_clips(split: str, n_songs: int, frontend, *, clip_seconds: float,
                           seconds: float = OUT_OF_WORLD_SECONDS, cache_dir=None,
                           progress: bool = True) -> TaggedClips:
    """The first ``n_songs`` out-of-world pieces of ``split`` as key-only ``TaggedClips`` (paper Section
    5.7.2's taggers, their key head; tagger chapters).

    ``mirbook.data.out_of_world``: real compositions played by sampled instruments, no tags, the
    key from the score. The opening ``seconds`` of each piece are cut into as many clips of
    ``clip_seconds`` (the length the tagger trained on) as fit, at least one, spread evenly and
    seen through the tagger's ``frontend``.
    """
    clips_per_song = max(1, int(seconds // clip_seconds))
    return TaggedClips(split, n_songs=n_songs, source="out_of_world", frontend=frontend, duration=seconds,
                       clip_seconds=clip_seconds, clips_per_song=clips_per_song, cache_dir=cache_dir,
                       progress=progress)


def key_transfer(model, world, out_of_world: dict, *, cache_dir=None) -> dict[str, dict]:
    """A tagger's key head beside the Krumhansl-Kessler profiles, in the world and out of it (tagger chapters).

    ``world``: the world's held-out clips; ``out_of_world``: split name -> key-only clips
    (:func:`out_of_world_key_clips`). On the clips of each that have a key, :func:`score_tagger`
    scores the model's estimates and ``mirbook.data.baselines.key_baseline`` the profiles' on the
    clips' mean chroma (paper Section 5.7.2; ``mir_eval.key``). Returns ``{"world": row, split:
    row, ...}``, each row ``{"pieces", "clips", "model", "baseline", "margin", "model_correct",
    "baseline_correct"}``: weighted scores, margin = model - baseline, and exact-key fractions;
    and ``"model_songs"``, ``"baseline_songs"``: each song's weighted score averaged over its
    clips, for intervals that resample songs, not their correlated clips.
    """
    rows = {}
    for name, clips in {"world": world, **out_of_world}.items():
        baseline = key_baseline(clips, cache_dir=cache_dir)
        if baseline is None:
            raise ValueError(f"key_transfer: the {name!r} clips have no key annotation to score")
        scores = score_tagger(model, clips)
        rows[name] = {"pieces": sum(song.key is not None for song in clips.songs),
                      "clips": len(baseline["estimates"]),
                      "model": float(scores["Key Weighted Score"]), "baseline": float(baseline["Weighted Score"]),
                      "margin": float(scores["Key Weighted Score"] - baseline["Weighted Score"]),
                      "model_correct": float(scores["Key Correct"]), "baseline_correct": float(baseline["Correct"]),
                      "model_songs": _song_means(scores["key_scores"], scores["key_songs"]),
                      "baseline_songs": _song_means(baseline["scores"], scores["key_songs"])}
    return rows


def _song_means(values, songs) -> np.ndarray:
    """The mean of ``values`` over the clips of each song, songs in order of first appearance."""
    values, songs = np.asarray(values, dtype=float), np.asarray(songs)
    order = list(dict.fromkeys(songs.tolist()))
    return np.array([values[songs == song].mean() for song in order])


def _pieces(split: str) -> str:
    return f"{'validation' if split == 'valid' else split} pieces"


def _world_name(name: str) -> str:
    if name == "world":
        return "the book's world, held-out songs"
    composers = ", ".join(composer.capitalize() for composer, _, _ in COLLECTIONS[name])
    return f"out of the world, {_pieces(name)} ({composers})"


def describe_key_transfer(rows: dict[str, dict], model_name: str) -> str:
    """:func:`key_transfer`'s rows as a Markdown table, then a sentence on whether the key transfers:
    the model's margin over the profiles in the world and on each out-of-world split (tagger chapters)."""
    header = ("| music | songs with a key | clips | network | Krumhansl-Kessler | network - profiles "
              "| network: exact key | profiles: exact key |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {_world_name(name)} | {r['pieces']} | {r['clips']} | {r['model']:.3f} | {r['baseline']:.3f} "
              f"| {r['margin']:+.3f} | {r['model_correct']:.3f} | {r['baseline_correct']:.3f} |"
              for name, r in rows.items()]
    world, held_out = rows["world"], rows[_held_out(rows)]
    above = [name for name in rows if name != "world" and rows[name]["margin"] >= 0]
    below = [name for name in rows if name != "world" and rows[name]["margin"] < 0]

    if not below:
        verdict = ("The key transfers: on music the world did not write the network stays at or above the "
                   "classic profiles, " + ("with a smaller lead than in the world." if held_out["margin"] < world["margin"]
                                           else "with at least the lead it has in the world."))
    elif not above:
        verdict = ("The key does not transfer: on music the world did not write the network falls below the "
                   "classic profiles.")
    else:
        verdict = (f"The key transfers only in part: the network stays at or above the profiles on the "
                   f"{' and '.join(map(_pieces, above))} but falls below them on the "
                   f"{' and '.join(map(_pieces, below))}, so its lead out of the world "
                   "depends on the music.")
    sentence = (f"Key weighted score (`mir_eval.key`), {model_name} against the Krumhansl-Kessler profiles on "
                f"the same clips: {world['model']:.3f} against {world['baseline']:.3f} in the book's world "
                f"({world['margin']:+.3f}), {held_out['model']:.3f} against {held_out['baseline']:.3f} on the "
                f"out-of-world {_pieces(_held_out(rows))} ({held_out['margin']:+.3f})"
                + (f"; the validation pieces gave {rows['valid']['margin']:+.3f}"
                   if "valid" in rows and _held_out(rows) != "valid" else "")
                + f". {verdict}")
    return "\n".join(lines) + "\n\n" + sentence


def _held_out(rows: dict[str, dict]) -> str:
    """The out-of-world split a chapter reports: 'test' when it was scored (the test world), else 'valid'."""
    if "test" in rows:
        return "test"
    if "valid" in rows:
        return "valid"
    raise ValueError(f"key_transfer rows need an out-of-world 'test' or 'valid' row; got {sorted(rows)}")


def reported_key_row(rows: dict[str, dict]) -> dict:
    """The out-of-world row of :func:`key_transfer` that a tagger chapter reports: the test pieces' when
    they were scored (the test world), otherwise the validation pieces' (the CI split's runs)."""
    return rows[_held_out(rows)]


def key_transfer_metrics(rows: dict[str, dict]) -> dict[str, float]:
    """:func:`reported_key_row` as a tagger chapter's ``RESULTS["metrics"]`` entries:
    ``out_of_world_key_weighted``, ``out_of_world_baseline_key_weighted`` and
    ``out_of_world_key_above_baseline`` (model minus profiles)."""
    row = reported_key_row(rows)
    return {"out_of_world_key_weighted": row["model"], "out_of_world_baseline_key_weighted": row["baseline"],
            "out_of_world_key_above_baseline": row["margin"]}


#: A tagger chapter's bars on the synthetic world: each a margin over a baseline on the same clips.
TAGGER_BARS = {"roc_auc_above_audio_free": 0.0, "instruments_above_audio_free": 0.05,
               "key_above_baseline": 0.0, "out_of_world_key_above_baseline": 0.0}


def tagger_metrics(tags_result: dict, baselines: dict, key_worlds: dict | None = None) -> dict[str, float]:
    """A tagger chapter's ``RESULTS["metrics"]`` (paper Section 5.7.2; the three tagger chapters).

    ``tags_result``: :func:`score_tagger` on the held-out clips; ``baselines``:
    ``mirbook.data.baselines.tagger_baselines`` on the same clips; ``key_worlds``:
    :func:`key_transfer` (None: a dataset without keys). Macro ROC-AUC and PR-AUC, the key's
    weighted score and accuracy, the out-of-world key (:func:`key_transfer_metrics`), the
    baselines' scores and the per-family ROC-AUCs; where the no-audio scorer exists (the synthetic
    world), the margins of :data:`TAGGER_BARS`: macro and instrument-family ROC-AUC over the
    no-audio scorer, and the key over the Krumhansl-Kessler profiles in the world and out of it.
    """
    metrics = {"roc_auc_macro": float(tags_result["ROC-AUC"]), "pr_auc_macro": float(tags_result["PR-AUC"])}
    if "Key Weighted Score" in tags_result:  # real tagging datasets have no key annotation
        metrics.update(key_weighted=float(tags_result["Key Weighted Score"]),
                       key_accuracy=float(tags_result["Key Correct"]))
    if key_worlds:
        metrics.update(key_transfer_metrics(key_worlds))
    metrics.update(baseline_metrics(baselines))  # MFCC + LR, no-audio tag scores, Krumhansl-Kessler key
    metrics.update(family_metrics(tags_result, baselines))  # mean ROC-AUC per tag family, model and no-audio
    if "audio_free_roc_auc_macro" in metrics:  # the synthetic world: the no-audio scorer exists
        metrics.update(
            roc_auc_above_audio_free=metrics["roc_auc_macro"] - metrics["audio_free_roc_auc_macro"],
            instruments_above_audio_free=(metrics["roc_auc_instruments"]
                                          - metrics["audio_free_roc_auc_instruments"]),
            key_above_baseline=metrics["key_weighted"] - metrics["baseline_key_weighted"])
    return metrics


def choose_template_settings(songs: Sequence, *, hop_length: int = 2048,
                             no_chords: Sequence[float] = (0.5, 0.55, 0.575, 0.6, 0.625, 0.65, 0.7, 0.8),
                             smooths: Sequence[int] = (1, 3, 5, 7, 9, 11, 13, 15, 21, 31),
                             sharpness: float = 20.0) -> tuple[float, int, np.ndarray]:
    """``(no_chord, smooth, wcsr)``: the template baseline's settings with the best majmin WCSR on ``songs``.

    ``songs``: validation songs with ``audio``, ``sample_rate`` and ``chords`` (a
    ``mirbook.data.Song``). Every pair of a 'no chord' score in ``no_chords`` and a smoothing
    length in ``smooths`` (frames) decodes the songs as ``template_chords(audio, sample_rate,
    hop_length=..., no_chord=..., sharpness=..., smooth=...)`` does; ``wcsr[i, j]`` is the
    majmin WCSR of ``(no_chords[i], smooths[j])``, and the first best pair in grid order wins.
    The baseline tuned for itself, as the model is (deep chroma chapter, paper Section 2.1).
    """
    if len(songs) == 0:
        raise ValueError("choose_template_settings needs at least one validation song; got none")
    if len(no_chords) == 0 or len(smooths) == 0:
        raise ValueError(f"no_chords and smooths must be non-empty grids; got {no_chords!r} and {smooths!r}")
    similarities = [template_similarities(song.audio, song.sample_rate, hop_length=hop_length) for song in songs]
    references = [song.chords for song in songs]
    wcsr = np.zeros((len(no_chords), len(smooths)))
    for i, no_chord in enumerate(no_chords):
        posteriors = [template_posteriors(scores, no_chord=no_chord, sharpness=sharpness) for scores in similarities]
        for j, smooth in enumerate(smooths):
            estimates = [decode_chords(p, sample_rate=song.sample_rate, hop_length=hop_length, smooth=smooth)
                         for p, song in zip(posteriors, songs)]
            wcsr[i, j] = evaluate_chords(references, estimates)["majmin"]
    i, j = np.unravel_index(np.argmax(wcsr), wcsr.shape)
    return float(no_chords[i]), int(smooths[j]), wcsr


def grid_edge(value, grid: Sequence) -> str | None:
    """``"lowest"`` or ``"highest"`` when ``value`` is the smallest or largest of ``grid``, else None.

    A choice at the edge of its grid may have its optimum outside it: widen the grid (deep
    chroma chapter).
    """
    if value not in grid:
        raise ValueError(f"{value!r} is not one of the grid's values {list(grid)!r}")
    if len(grid) > 1 and value == min(grid):
        return "lowest"
    if len(grid) > 1 and value == max(grid):
        return "highest"
    return None
