"""Frontend recipes: a model's input stage built from a small dict (Sections 3.2, 5.1).

A model stores its frontend as a recipe (``frontend_spec``), which checkpoints keep, and builds
the ``mirbook.representations.Frontend`` from it with :func:`build_frontend`.
Used by every model chapter through ``model.frontend()``.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from mirbook.checks import check_choice

__all__ = ["REPRESENTATIONS", "BandCentring", "build_frontend"]

REPRESENTATIONS = ("mel", "cqt", "stft")


class BandCentring(nn.Module):
    """Subtract each band's mean over the frames of each clip (per-example standardisation, Section 5.1).

    ``(batch, bins, frames) -> (batch, bins, frames)``: on a log representation this removes a
    clip's overall level and spectral tilt (the mix, the instruments' balance, the recording's
    colour), leaving how each band moves against its own average. As the last module of a
    frontend it sees a whole song at once (datasets compute features once per song;
    ``mirbook.predict`` passes whole recordings), so a frame is read relative to its song.
    Frontend option ``"centre_bands": True`` of :func:`build_frontend`; used by the cpu presets
    of the two singing-voice detectors (``book/models/conv2d_voice.ipynb``, ``brnn_voice.ipynb``).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - x.mean(dim=-1, keepdim=True)


def build_frontend(spec: dict) -> nn.Module:
    """Build the ``mirbook.representations.Frontend`` described by ``spec`` (Sections 3.2, 5.1).

    ``spec = {"representation": "mel" | "cqt" | "stft", "log": "log" | "db", **options}``: the
    options go to ``MelSpectrogram`` / ``CQT`` / ``STFT``, then a ``LogCompression(mode=log)``
    follows, then, with ``"centre_bands": True`` (default False), a :class:`BandCentring`
    (each band's mean over the clip subtracted). Used by every model's
    ``ReferenceModel.frontend`` (all model chapters).
    """
    from mirbook import representations as rep

    if not isinstance(spec, dict):
        raise ValueError(f"a frontend spec must be a dict such as {{'representation': 'mel', 'log': 'db'}}; "
                         f"got {type(spec).__name__}")
    spec = dict(spec)
    kind, log = spec.pop("representation", None), spec.pop("log", "log")
    centre = spec.pop("centre_bands", False)
    if not isinstance(centre, bool):
        raise ValueError(f"frontend option centre_bands must be True or False; got {centre!r}")
    check_choice(kind, "frontend representation", REPRESENTATIONS)
    check_choice(log, "frontend option log", ("log", "db"))
    cls = {"mel": rep.MelSpectrogram, "cqt": rep.CQT, "stft": rep.STFT}[kind]
    accepted = tuple(inspect.signature(cls).parameters)
    unknown = [key for key in spec if key not in accepted]
    if unknown:
        raise ValueError(f"frontend options {unknown} are unknown for representation {kind!r}; besides "
                         f"'representation', 'log' and 'centre_bands' it accepts {accepted}")
    if kind == "stft" and "power" in spec and spec["power"] is None:
        raise ValueError("a frontend needs magnitudes: frontend option power must be a positive number; got None")
    representation = cls(**spec)
    input_power = spec.get("power", 2.0 if kind == "mel" else 1.0)
    log_options = {"mode": log} if log == "log" else {"mode": log, "input_power": input_power}
    post = (BandCentring(),) if centre else ()
    return rep.Frontend(representation, rep.LogCompression(**log_options), *post)
