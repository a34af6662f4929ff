"""What the six reference models share (Section 5.7): the ``ReferenceModel`` base and small helpers.

A model reads a representation batch ``(batch, bins, frames)`` and carries the recipe of its
input (``frontend_spec``); ``sample_rate``, ``hop_length`` and ``n_bins`` come from the frontend
the recipe builds. Used by all model chapters.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from mirbook.checks import FRONTEND_ATTRIBUTES, check_finite, check_frontend
from mirbook.models.frontends import build_frontend

__all__ = ["ReferenceModel"]


class ReferenceModel(nn.Module):
    """What the six models share: presets, the frontend recipe, notation and input checks.

    Subclasses set ``notation`` (Section 5.7), ``task`` ("chords", "voice" or "tags"),
    ``presets`` (overrides of the keyword defaults, which are the "cpu" preset) and
    ``min_frames``; they implement ``forward`` and :meth:`loss`. Used by all model chapters.
    """

    notation: str = ""
    task: str = ""
    presets: dict[str, dict] = {"cpu": {}}
    min_frames: int = 1
    #: Option names a stored configuration may carry, mapped to the keyword that replaces them
    #: (read by :meth:`from_config`, so every checkpoint keeps loading).
    renamed_options: dict[str, str] = {}

    def __init__(self, *, frontend: dict, config: dict, transpose: int = 0):
        super().__init__()
        built = check_frontend(build_frontend(frontend))  # checks the recipe: options, types, ranges
        self.frontend_spec = dict(frontend)
        # Kept out of the submodules: the state_dict holds the weights, the recipe holds the frontend.
        object.__setattr__(self, "_frontend", built)
        self.sample_rate, self.hop_length, self.n_bins = (int(getattr(built, a)) for a in FRONTEND_ATTRIBUTES)
        self.config = copy.deepcopy({**config, **({"transpose": transpose} if transpose else {})})  # for checkpoints
        self.input_norm = nn.BatchNorm1d(self.n_bins)
        if isinstance(transpose, bool) or not isinstance(transpose, int) or not 0 <= transpose <= 11:
            raise ValueError(f"transpose must be an int of semitones in [0, 11]; got {transpose!r}")
        bins_per_octave = getattr(built[0], "bins_per_octave", 12)  # 12 for a frontend that is no CQT
        if transpose and (self.frontend_spec["representation"] != "cqt" or bins_per_octave % 12):
            raise ValueError("transpose needs a CQT frontend with a multiple of 12 bins per octave; "
                             f"got {self.frontend_spec['representation']!r} with {bins_per_octave} bins per octave")
        self.transpose, self.bins_per_semitone = transpose, bins_per_octave // 12

    def random_semitones(self, batch_size: int) -> torch.Tensor:
        """Training-time transposition of each example, uniform in ``[-transpose, transpose]`` (0 in eval mode)."""
        if not (self.training and self.transpose):
            return torch.zeros(batch_size, dtype=torch.long, device=self.device)
        return torch.randint(-self.transpose, self.transpose + 1, (batch_size,), device=self.device)

    @classmethod
    def from_preset(cls, preset: str = "cpu", **overrides) -> ReferenceModel:
        """Build the model with the keyword options of ``preset`` ("cpu" or "paper"), then ``overrides``."""
        if preset not in cls.presets:
            raise ValueError(f"{cls.__name__} preset must be one of {sorted(cls.presets)}; got {preset!r}")
        return cls(**{**copy.deepcopy(cls.presets[preset]), **overrides})

    @classmethod
    def from_config(cls, config: dict) -> ReferenceModel:
        """Build the model from a stored ``config`` (a checkpoint's), renaming options per ``renamed_options``."""
        return cls(**{cls.renamed_options.get(key, key): value for key, value in config.items()})

    def frontend(self) -> nn.Module:
        """The ``Frontend`` (waveform -> log representation) whose output this model expects (a fresh copy)."""
        return copy.deepcopy(self._frontend)

    @property
    def layer_notation(self) -> str:
        """The Figure 8 symbols of the blocks this instance is built from, in order."""
        return "-".join(m.symbol for m in self.modules() if getattr(m, "symbol", ""))

    @property
    def device(self) -> torch.device:
        """Device of the parameters (the one inputs are moved to by ``mirbook.predict``)."""
        return next(self.parameters()).device

    def as_features(self, x: torch.Tensor, *, name: str = "features") -> torch.Tensor:
        """Check a representation batch ``(batch, n_bins, frames)`` at the model's edge; return it as float32."""
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"{name} must be a torch.Tensor of shape (batch, {self.n_bins}, frames); got {type(x).__name__}")
        if x.dim() != 3 or x.shape[1] != self.n_bins:
            raise ValueError(
                f"{type(self).__name__} expects {name} of shape (batch, {self.n_bins} bins, frames) from its "
                f"frontend(); got shape {tuple(x.shape)}. A single spectrogram needs x.unsqueeze(0)."
            )
        if x.shape[0] == 0:
            raise ValueError(f"{name} is an empty batch (shape {tuple(x.shape)})")
        if x.shape[2] < self.min_frames:
            raise ValueError(
                f"{type(self).__name__} needs at least {self.min_frames} frames; got {x.shape[2]} (shape {tuple(x.shape)})"
            )
        check_finite(x, name=name)
        return x.float()

    def extra_repr(self) -> str:
        return f"notation={self.notation!r}, layers={self.layer_notation!r}, task={self.task!r}"

    def loss(self, batch) -> torch.Tensor:  # pragma: no cover - every subclass overrides
        """The training objective on one dataset batch (used by ``mirbook.train.fit``)."""
        raise NotImplementedError


def centre_pad(x: torch.Tensor, context: int) -> torch.Tensor:
    """Pad the frame axis so a window of ``context`` frames is centred on every frame (edge values)."""
    left = context // 2
    return F.pad(x, (left, context - 1 - left), mode="replicate")


def hidden_stack(block, sizes: Sequence[int], first: int, **options) -> tuple[nn.ModuleList, int]:
    """``block(first, sizes[0]), block(sizes[0], sizes[1]), ...`` as a ModuleList, and the last width."""
    layers, width = [], first
    for size in sizes:
        layers.append(block(width, size, **options))
        width = size
    return nn.ModuleList(layers), width
