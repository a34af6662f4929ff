"""Per-song test outputs in a model chapter's ``RESULTS``, for paired intervals (paper Section 5.7; every
model chapter, the comparison page).

A chapter's ``RESULTS["items"]`` maps a metric of ``RESULTS["metrics"]`` to what each test song (or
clip) contributed to it, for the model and for the baseline the chapter sets it against on the
same songs. ``benchmarks/model_comparison.py`` stores them with the records, and the comparison page
resamples them (``mirbook.intervals.seeded_paired_bootstrap``) into confidence intervals for the
margin over the baseline and for the difference of two models scored on the same songs. Three
kinds, each with the metric that recomputes the score from any resample of songs:

- ``"ratio"``: rows of (numerator, denominator) per song, e.g. seconds matched and comparable
  (``mirbook.evaluate.chord_song_seconds``) or frames right and frames (``voicing_song_frames``);
  the score is ``mirbook.intervals.pooled_ratio``;
- ``"mean"``: one score per song (``mirbook.evaluate.key_song_scores``); the score is their mean;
- ``"tags"``: per clip the tag probabilities of the model and of the baseline and the multi-hot
  references, float32 in base64 (``mirbook.records.encode_floats``); the score is
  ``mirbook.intervals.macro_roc_auc``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mirbook.intervals import BootstrapInterval, macro_roc_auc, paired_bootstrap, pooled_ratio
from mirbook.records import decode_floats, encode_floats
from mirbook.scoring import reported_key_row

__all__ = ["KINDS", "ratio_item", "mean_item", "tags_item", "tagger_items", "item_arrays", "item_metric",
           "margin_intervals", "describe_margins"]

#: kind -> the metric that scores a resample of the item's songs (``metric(system, *shared)``).
KINDS: dict[str, Callable[..., float]] = {"ratio": pooled_ratio, "mean": np.mean, "tags": macro_roc_auc}


def _rows(values, name: str, width: int | None) -> list:
    values = np.asarray(values, dtype=float)
    if width is None and values.ndim != 1 or width is not None and (values.ndim != 2 or values.shape[1] != width):
        want = "(songs,)" if width is None else f"(songs, {width})"
        raise ValueError(f"{name} must be an array of shape {want}; got {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return values.tolist()


def _paired(model, baseline, width: int | None, kind: str) -> dict:
    model, baseline = _rows(model, "model", width), _rows(baseline, "baseline", width)
    if len(model) != len(baseline):
        raise ValueError(f"model and baseline must score the same songs; got {len(model)} and {len(baseline)}")
    return {"kind": kind, "model": model, "baseline": baseline}


def ratio_item(model, baseline) -> dict:
    """A pooled score's parts, ``(songs, 2)`` rows of (numerator, denominator), for model and baseline."""
    return _paired(model, baseline, 2, "ratio")


def mean_item(model, baseline) -> dict:
    """One score per song, ``(songs,)``, for model and baseline; the score is their mean."""
    return _paired(model, baseline, None, "mean")


def tags_item(targets, model, baseline) -> dict:
    """Tag probabilities ``(clips, tags)`` of model and baseline with the multi-hot ``targets``."""
    targets = np.asarray(targets, dtype=float)
    model, baseline = np.asarray(model, dtype=float), np.asarray(baseline, dtype=float)
    if targets.ndim != 2 or model.shape != targets.shape or baseline.shape != targets.shape:
        raise ValueError(f"targets, model and baseline must all be (clips, tags); got {targets.shape}, "
                         f"{model.shape} and {baseline.shape}")
    if not np.isin(targets, (0.0, 1.0)).all():
        raise ValueError("targets must be multi-hot (0 or 1)")
    return {"kind": "tags", "shape": list(targets.shape), "targets": encode_floats(targets),
            "model": encode_floats(model), "baseline": encode_floats(baseline)}


def tagger_items(tags_result: dict, baselines: dict, key_worlds: dict | None = None) -> dict:
    """A tagger chapter's items: ``roc_auc_macro`` against the no-audio scorer, ``key_weighted`` against
    the Krumhansl-Kessler profiles, and ``out_of_world_key_weighted`` on the out-of-world pieces the
    chapter reports (``mirbook.scoring.key_transfer``'s songs), where the data has them.

    ``tags_result``: ``mirbook.scoring.score_tagger`` on the held-out clips; ``baselines``:
    ``mirbook.data.baselines.tagger_baselines`` on the same clips.
    """
    items = {}
    if "audio_free" in baselines:
        items["roc_auc_macro"] = tags_item(tags_result["targets"], tags_result["scores"],
                                           baselines["audio_free"]["scores"])
    if "key_scores" in tags_result and "key" in baselines:
        items["key_weighted"] = mean_item(tags_result["key_scores"], baselines["key"]["scores"])
    if key_worlds:
        row = reported_key_row(key_worlds)
        items["out_of_world_key_weighted"] = mean_item(row["model_songs"], row["baseline_songs"])
    return items


def item_arrays(item: dict) -> tuple[np.ndarray, ...]:
    """``(model, baseline, *shared)`` arrays of an item, as its kind's metric takes them."""
    kind = item.get("kind")
    if kind not in KINDS:
        raise ValueError(f"an item's kind must be one of {sorted(KINDS)}; got {kind!r}")
    if kind == "tags":
        shape = tuple(item["shape"])
        return tuple(decode_floats(item[part], shape) for part in ("model", "baseline", "targets"))
    return np.asarray(item["model"], dtype=float), np.asarray(item["baseline"], dtype=float)


def item_metric(item: dict) -> Callable[..., float]:
    """The metric that scores a resample of an item's songs."""
    return KINDS[item["kind"]]


def margin_intervals(items: dict, *, n_resamples: int = 2000, confidence: float = 0.95,
                     seed: int = 0) -> dict[str, BootstrapInterval]:
    """Per item, ``mirbook.intervals.paired_bootstrap`` of model minus baseline over its songs."""
    return {name: paired_bootstrap(item_metric(item), *item_arrays(item), n_resamples=n_resamples,
                                   confidence=confidence, seed=seed)
            for name, item in items.items()}


def describe_margins(items: dict, *, n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> str:
    """A sentence with each item's margin over its baseline and its paired bootstrap interval over the
    held-out songs of one run (a chapter's closing cell; the spread between seeds is the comparison
    page's, over the records' runs)."""
    if not items:
        raise ValueError("items is empty: the chapter scored no per-song outputs")
    intervals = margin_intervals(items, n_resamples=n_resamples, confidence=confidence, seed=seed)
    parts = [f"`{name}` {t.difference:+.3f} ({100 * confidence:.0f} % CI {t.low:+.3f} to {t.high:+.3f}, "
             f"{len(item_arrays(items[name])[0])} songs)" for name, t in intervals.items()]
    return ("Model minus baseline on the same held-out songs, with a paired bootstrap interval over the songs "
            f"({n_resamples} resamples; this run's trained model held fixed): " + "; ".join(parts) + ".")
