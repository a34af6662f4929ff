"""Apply a trained reference model to a reader's own audio in one call (Section 5.7's models).

:func:`predict` takes a model from ``mirbook.models`` (trained, e.g. loaded with
``mirbook.train.load_checkpoint``) and a mono waveform with its sample rate; it resamples to the
model's rate (:func:`mirbook.resample.resample`), runs the model's frontend and the model, and
returns mir_eval-style annotations:

- chord models: ``(intervals (n, 2) seconds, Harte labels)`` (:func:`predict_chords`);
- voice models: voiced ``intervals (n, 2)`` (:func:`predict_voicing`);
- taggers: ``({tag: probability}, key string)`` (:func:`predict_tags`).

``mirbook.io.write_lab`` stores intervals and labels as a ``.lab`` file (start, end, label per line).
Used at the end of every model chapter ("try it on your own music").
"""

from __future__ import annotations

import numpy as np
import torch

from mirbook.checks import as_waveform_batch, check_frontend, check_sample_rate
from mirbook.evaluate import decode_chords, voiced_intervals
from mirbook.models import ReferenceModel
from mirbook.resample import resample
from mirbook.runtime import evaluation_mode
from mirbook.vocab import KEY_LABELS

__all__ = ["features_for", "predict", "predict_chords", "predict_voicing", "predict_tags"]


def _check_model(model, task: str | None = None) -> ReferenceModel:
    if not isinstance(model, ReferenceModel):
        raise ValueError(f"model must be one of mirbook.models.MODELS; got {type(model).__name__}")
    if task is not None and model.task != task:
        raise ValueError(f"this function needs a {task!r} model; {type(model).__name__} is a {model.task!r} model")
    return model


@torch.no_grad()
def features_for(model: ReferenceModel, waveform, sample_rate: int, *, frontend: torch.nn.Module | None = None) -> torch.Tensor:
    """The representation ``(1, n_bins, frames)`` that ``model`` reads, computed from mono audio.

    ``waveform``: ``(samples,)`` numpy or torch float audio at ``sample_rate`` Hz, resampled to
    ``model.sample_rate`` when they differ. ``frontend`` defaults to ``model.frontend()``
    (pass one to reuse it over many files). The result is on the model's device.
    """
    return _features_and_duration(model, waveform, sample_rate, frontend)[0]


def _features_and_duration(model, waveform, sample_rate, frontend) -> tuple[torch.Tensor, float]:
    model = _check_model(model)
    sample_rate = check_sample_rate(sample_rate)
    x = as_waveform_batch(waveform)
    if x.shape[0] != 1:
        raise ValueError(f"waveform must be one mono recording (samples,) for predict; got a batch of shape "
                         f"{tuple(x.shape)}")
    duration = x.shape[-1] / sample_rate
    x = x.float().to(model.device)
    if sample_rate != model.sample_rate:
        x = resample(x, sample_rate, model.sample_rate)
    frontend = model.frontend() if frontend is None else check_frontend(frontend, like=model)
    frontend = frontend.to(model.device)
    features = frontend(x)
    if features.shape[-1] < model.min_frames:
        seconds = model.min_frames * model.hop_length / model.sample_rate
        raise ValueError(
            f"waveform too short for {type(model).__name__}: {features.shape[-1]} frames, at least {model.min_frames} "
            f"(about {seconds:.1f} s) expected"
        )
    return features, duration


def _clip(intervals: np.ndarray, duration: float) -> np.ndarray:
    """``intervals`` cut at the recording's end (the last frame's half hop may reach past it)."""
    intervals = intervals.copy()
    intervals[:, 1] = np.minimum(intervals[:, 1], duration)
    return intervals


def predict_chords(model: ReferenceModel, waveform, sample_rate: int, *, smooth: int = 1,
                   frontend: torch.nn.Module | None = None) -> tuple[np.ndarray, list[str]]:
    """Chord ``(intervals, Harte labels)`` of a recording with a chord model (deep chroma chapter).

    The intervals cover the recording from 0 to its duration (``samples / sample_rate``).
    """
    model = _check_model(model, "chords")
    features, duration = _features_and_duration(model, waveform, sample_rate, frontend)
    _, chords = model.predict_frames(features)
    intervals, labels = decode_chords(chords[0], sample_rate=model.sample_rate, hop_length=model.hop_length,
                                      smooth=smooth)
    intervals = _clip(intervals, duration)
    intervals[-1, 1] = duration  # the last frame's chord lasts to the end of the recording
    return intervals, labels


def predict_voicing(model: ReferenceModel, waveform, sample_rate: int, *, threshold: float = 0.5,
                    median_filter: int = 1, frontend: torch.nn.Module | None = None) -> np.ndarray:
    """Voiced intervals ``(n, 2)`` in seconds of a recording with a voice model (voice chapters).

    No interval ends after the recording (``samples / sample_rate``).
    Use the ``threshold`` and ``median_filter`` chosen on validation data
    (``mirbook.evaluate.choose_voicing_settings``).
    """
    model = _check_model(model, "voice")
    features, duration = _features_and_duration(model, waveform, sample_rate, frontend)
    probabilities = model.predict_frames(features)
    return _clip(voiced_intervals(probabilities[0], threshold=threshold, sample_rate=model.sample_rate,
                                  hop_length=model.hop_length, median_filter=median_filter), duration)


def predict_tags(model: ReferenceModel, waveform, sample_rate: int, *,
                 frontend: torch.nn.Module | None = None) -> tuple[dict[str, float], str]:
    """``({tag: probability}, key)`` of a whole recording with a tagger (tagger chapters).

    The whole recording is one clip (the taggers' global pooling or many-to-one recurrence
    takes any length); the key is the most probable of ``mirbook.vocab.KEY_LABELS``.
    The model must have been built with ``tag_names`` (the dataset's ``.tag_names``).
    """
    model = _check_model(model, "tags")
    if model.tag_names is None:
        raise ValueError("the tagger has no tag_names; build it with tag_names=dataset.tag_names to name its outputs")
    features = features_for(model, waveform, sample_rate, frontend=frontend)
    with evaluation_mode(model):
        out = model(features)
    scores = torch.sigmoid(out.tags[0]).cpu().tolist()
    return dict(zip(model.tag_names, scores)), KEY_LABELS[int(out.key[0].argmax())]


def predict(model: ReferenceModel, waveform, sample_rate: int, **options):
    """Dispatch to :func:`predict_chords`, :func:`predict_voicing` or :func:`predict_tags` by ``model.task``."""
    model = _check_model(model)
    function = {"chords": predict_chords, "voice": predict_voicing, "tags": predict_tags}[model.task]
    return function(model, waveform, sample_rate, **options)


