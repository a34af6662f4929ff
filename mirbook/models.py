"""The six reference models of the paper's Section 5.7 (Figure 13), built from ``mirbook.layers``.

============= ============================ ================================ ===================
registry key  class                        notation (Section 5.7)           task (book chapter)
============= ============================ ================================ ===================
deep_chroma   :class:`DeepChroma`          d2-d2-d2-d1                      chroma, chords
conv2d_voice  :class:`Conv2dVoiceDetector` c2-c2-p1-c2-c2-p1-c2-p1-d1-d1-d1 singing voice
brnn_voice    :class:`BRNNVoiceDetector`   r1-r1-d1                         singing voice
conv1d_tagger :class:`Conv1dTagger`        c1-p1-c1-p1-d1-d1-d1             tags + key
conv2d_tagger :class:`Conv2dTagger`        c2-p2-c2-p2-c2-p2-d2             tags + key
crnn_tagger   :class:`CRNNTagger`          c2-p2-c2-p2-r1-r2-d1             tags + key
============= ============================ ================================ ===================

Every model consumes a *representation batch* ``(batch, bins, frames)`` -- what the datasets of
``mirbook.data`` yield -- and carries the recipe of its input: :meth:`ReferenceModel.frontend`
builds the matching ``mirbook.representations.Frontend`` (waveform -> log representation), and
``sample_rate``, ``hop_length``, ``n_bins`` say what it expects. ``mirbook.predict`` chains the
two for a reader's own audio. Two presets each: ``"cpu"`` (the keyword defaults; trains in
minutes on a laptop on the embedded music world) and ``"paper"`` (the published configuration).

Notation: the class attribute ``notation`` is the tutorial's string; the instance property
``layer_notation`` reads the blocks the instance was actually built with (a paper preset that
follows the original publication more closely than the tutorial's sketch can differ, and says so).
Each model starts with a per-bin batch normalisation of its input (standardisation, Section 5.1;
Choi et al.'s CRNN does the same), which is not a layer of the notation.
"""

from __future__ import annotations

import copy
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mirbook.checks import check_finite
from mirbook.layers import C1, C2, D1, D2, P1, P2, R1, R2
from mirbook.vocab import CHORD_LABELS, KEY_LABELS, chord_chroma

__all__ = [
    "MODELS",
    "ReferenceModel",
    "DeepChroma",
    "Conv2dVoiceDetector",
    "BRNNVoiceDetector",
    "Conv1dTagger",
    "Conv2dTagger",
    "CRNNTagger",
    "ChromaOutput",
    "TagOutput",
    "build_frontend",
    "count_parameters",
]

N_CHROMA = 12
N_CHORDS = len(CHORD_LABELS)  # 25: 'N' + 12 major + 12 minor
N_KEYS = len(KEY_LABELS)  # 24
IGNORE_KEY = -100  # the key index of a clip without key annotation (mirbook.data.NO_KEY)

_REPRESENTATIONS = ("mel", "cqt", "stft")


class ChromaOutput(NamedTuple):
    """Deep chroma output: ``chroma`` logits ``(batch, 12, frames')`` and ``chords`` logits ``(batch, 25, frames')``."""

    chroma: torch.Tensor
    chords: torch.Tensor


class TagOutput(NamedTuple):
    """Tagger output: ``tags`` logits ``(batch, n_tags)`` (sigmoid) and ``key`` logits ``(batch, 24)`` (softmax)."""

    tags: torch.Tensor
    key: torch.Tensor


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
    :meth:`ReferenceModel.frontend` (all model chapters).
    """
    from mirbook import representations as rep

    spec = dict(spec)
    kind, log = spec.pop("representation", None), spec.pop("log", "log")
    centre = spec.pop("centre_bands", False)
    if not isinstance(centre, bool):
        raise ValueError(f"frontend option centre_bands must be True or False; got {centre!r}")
    classes = {"mel": rep.MelSpectrogram, "cqt": rep.CQT, "stft": rep.STFT}
    if kind not in classes:
        raise ValueError(f"frontend representation must be one of {_REPRESENTATIONS}; got {kind!r}")
    input_power = spec.get("power", 2.0 if kind == "mel" else 1.0)
    log_options = {"mode": log} if log == "log" else {"mode": log, "input_power": input_power}
    post = (BandCentring(),) if centre else ()
    return rep.Frontend(classes[kind](**spec), rep.LogCompression(**log_options), *post)


def _frontend_bins(spec: dict) -> int:
    kind = spec.get("representation")
    if kind == "mel":
        return int(spec.get("n_mels", 128))
    if kind == "cqt":
        return int(spec.get("n_bins", 84))
    if kind == "stft":
        return int(spec.get("n_fft", 2048)) // 2 + 1
    raise ValueError(f"frontend representation must be one of {_REPRESENTATIONS}; got {kind!r}")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (the size the papers quote; book: every model chapter)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


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

    def __init__(self, *, frontend: dict, config: dict, transpose: int = 0):
        super().__init__()
        self.frontend_spec = dict(frontend)
        self.n_bins = _frontend_bins(self.frontend_spec)
        self.sample_rate = int(self.frontend_spec.get("sample_rate", 22050))
        self.hop_length = int(self.frontend_spec.get("hop_length", 512))
        self.config = copy.deepcopy({**config, **({"transpose": transpose} if transpose else {})})  # for checkpoints
        self.input_norm = nn.BatchNorm1d(self.n_bins)
        if isinstance(transpose, bool) or not isinstance(transpose, int) or not 0 <= transpose <= 11:
            raise ValueError(f"transpose must be an int of semitones in [0, 11]; got {transpose!r}")
        bins_per_octave = self.frontend_spec.get("bins_per_octave", 12)
        if transpose and (self.frontend_spec.get("representation") != "cqt" or bins_per_octave % 12):
            raise ValueError("transpose needs a CQT frontend with a multiple of 12 bins per octave; "
                             f"got {self.frontend_spec.get('representation')!r} with {bins_per_octave} bins per octave")
        self.transpose, self.bins_per_semitone = transpose, bins_per_octave // 12

    def random_semitones(self, batch_size: int) -> torch.Tensor:
        """Training-time transposition of each example, uniform in ``[-transpose, transpose]`` (0 in eval mode)."""
        if not (self.training and self.transpose):
            return torch.zeros(batch_size, dtype=torch.long, device=self.device)
        return torch.randint(-self.transpose, self.transpose + 1, (batch_size,), device=self.device)

    @classmethod
    def from_preset(cls, preset: str = "cpu", **overrides) -> "ReferenceModel":
        """Build the model with the keyword options of ``preset`` ("cpu" or "paper"), then ``overrides``."""
        if preset not in cls.presets:
            raise ValueError(f"{cls.__name__} preset must be one of {sorted(cls.presets)}; got {preset!r}")
        return cls(**{**copy.deepcopy(cls.presets[preset]), **overrides})

    def frontend(self) -> nn.Module:
        """The ``Frontend`` (waveform -> log representation) whose output this model expects."""
        return build_frontend(self.frontend_spec)

    @property
    def layer_notation(self) -> str:
        """The Figure 8 symbols of the blocks this instance is built from, in order."""
        return "-".join(m.symbol for m in self.modules() if getattr(m, "symbol", ""))

    @property
    def device(self) -> torch.device:
        """Device of the parameters (the one inputs are moved to by ``mirbook.predict``)."""
        return next(self.parameters()).device

    def check_features(self, x: torch.Tensor, *, name: str = "features") -> torch.Tensor:
        """Check a representation batch ``(batch, n_bins, frames)`` at the model's edge."""
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


def _centre_pad(x: torch.Tensor, context: int) -> torch.Tensor:
    """Pad the frame axis so a window of ``context`` frames is centred on every frame (edge values)."""
    left = context // 2
    return F.pad(x, (left, context - 1 - left), mode="replicate")


def transpose_spectrogram(x: torch.Tensor, semitones: torch.Tensor, *, bins_per_semitone: int) -> torch.Tensor:
    """Move each example of a log-frequency batch ``(batch, bins, frames)`` up by ``semitones[b]``.

    On a CQT a transposition is a shift along the bins (Section 3.2, Eq. 4): bin ``f`` of the
    result is bin ``f - bins_per_semitone * semitones[b]`` of the input; bins shifted in from
    outside are filled with the batch example's smallest value (silence on a log scale). Used
    for transposition augmentation (Section 5.1: data preprocessing) by the models whose
    ``transpose`` option is set; chords and keys move with it (:func:`transpose_labels`).
    """
    batch, bins, frames = x.shape
    source = torch.arange(bins, device=x.device)[None, :] - bins_per_semitone * semitones.to(x.device)[:, None]
    inside = (source >= 0) & (source < bins)
    shifted = x.gather(1, source.clamp(0, bins - 1)[:, :, None].expand(batch, bins, frames))
    return torch.where(inside[:, :, None], shifted, x.amin(dim=(1, 2), keepdim=True))


def transpose_labels(semitones: torch.Tensor, *, chroma: torch.Tensor | None = None, chords: torch.Tensor | None = None,
                     keys: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Transpose targets with the audio: chroma ``(batch, 12)`` rolled, chord (``CHORD_LABELS``)
    and key (``KEY_LABELS``) indices moved by ``semitones[b]``; 'N' and unknown keys (-100) stay."""
    out = []
    if chroma is not None:
        source = (torch.arange(12, device=chroma.device)[None, :] - semitones[:, None]) % 12
        out.append(chroma.gather(1, source))
    if chords is not None:
        root, minor = (chords - 1) % 12, (chords > 12).long()
        out.append(torch.where(chords == 0, chords, 1 + 12 * minor + (root + semitones) % 12))
    if keys is not None:
        moved = 12 * (keys // 12) + (keys % 12 + semitones) % 12
        out.append(torch.where(keys == IGNORE_KEY, keys, moved))
    return out


def _hidden_stack(block, sizes: Sequence[int], first: int, **options) -> tuple[nn.ModuleList, int]:
    layers, width = [], first
    for size in sizes:
        layers.append(block(width, size, **options))
        width = size
    return nn.ModuleList(layers), width


# --------------------------------------------------------------------------------------------
# Time-varying models (Section 5.7.1)
# --------------------------------------------------------------------------------------------


class DeepChroma(ReferenceModel):
    """Deep chroma extractor, d2-d2-d2-d1 (Section 5.7.1; Korzeniowski & Widmer 2016).

    A dense network reads ``context`` consecutive frames of a log-frequency spectrogram and
    outputs the 12 pitch-class activations (sigmoid) of the centre frame; dense layers, not
    convolutions, because chroma must *not* be pitch-shift invariant. A chord classifier sits on
    top as the second stage of the original two-stage design: a logistic regression (one d1,
    softmax) from the chroma probabilities to the 25 major/minor classes of ``mirbook.vocab``.
    It reads the chroma with gradients stopped, so the extractor learns from chroma targets only
    (as when the stages are trained one after the other) while both train in one loop.

    Published configuration (``"paper"`` preset), as described by Korzeniowski & Widmer (2016):
    15 frames of a log-magnitude, log-frequency spectrogram (24 bands per octave from 30 Hz to
    5.5 kHz, about 10 frames per second), three dense layers of 512 ReLU units with dropout 0.5,
    12 sigmoid outputs; their released configuration (fdlm/chordrec) reads 10 frames per second
    and 178 triangular filters between 30 Hz and 5.5 kHz. Here the log-frequency filterbank is a
    CQT with 24 bins per octave from 30 Hz (178 bins, up to 5.0 kHz) at 44.1 kHz, hop 4410
    samples (10 frames per second).
    The first d2 reads the whole window; the next two are dense layers on that window's
    summary (context 1), which the tutorial still writes as d2.
    ``"cpu"`` preset (the defaults, plus random transposition by up to 6 semitones): a CQT with
    the paper's 24 bins per octave, 6 octaves from C2, at 22.05 kHz, hop 2048 (10.8 fps), the
    same 15-frame context and dropout, three layers of 128 units. Both choices were measured in
    the deep chroma chapter: 12 bins per octave cost about 0.05 majmin WCSR (a note leaks into
    its neighbours and blurs the third), and without transposition the model overfits
    (train about 0.95, test 0.73-0.84).

    Input ``(batch, n_bins, frames >= context)``; ``forward`` returns :class:`ChromaOutput`
    with ``frames - context + 1`` centre frames (one for a single window, as ``ChordFrames``
    yields). :meth:`predict_frames` gives one output per frame of a whole song in one call.
    Chapter: ``book/models/deep_chroma.ipynb``.
    """

    notation = "d2-d2-d2-d1"
    task = "chords"
    presets = {
        "cpu": {"transpose": 6},
        "paper": {
            "frontend": {"representation": "cqt", "log": "log", "sample_rate": 44100, "hop_length": 4410,
                         "f_min": 30.0, "n_bins": 178, "bins_per_octave": 24},
            "context": 15,
            "hidden": (512, 512, 512),
            "dropout": 0.5,
        },
    }

    def __init__(self, *, frontend: dict | None = None, context: int = 15, hidden: Sequence[int] = (128, 128, 128),
                 dropout: float = 0.5, transpose: int = 0):
        frontend = frontend or {"representation": "cqt", "log": "log", "sample_rate": 22050, "hop_length": 2048,
                                "f_min": 65.40639132514966, "n_bins": 144, "bins_per_octave": 24}
        if isinstance(context, bool) or not isinstance(context, int) or context < 1 or context % 2 == 0:
            raise ValueError(f"context must be a positive odd number of frames (centred); got {context!r}")
        if len(hidden) < 1:
            raise ValueError(f"hidden must list at least one layer size; got {hidden!r}")
        super().__init__(frontend=frontend, transpose=transpose,
                         config={"frontend": frontend, "context": context, "hidden": tuple(hidden), "dropout": dropout})
        self.context = self.min_frames = context
        layers = [D2(self.n_bins, hidden[0], context=context)]
        for v_in, v_out in zip(hidden[:-1], hidden[1:]):
            layers.append(D2(v_in, v_out, context=1, dropout=dropout))
        self.hidden = nn.ModuleList(layers)
        self.chroma = D1(hidden[-1], N_CHROMA, activation=None, dropout=dropout)
        self.chord_classifier = nn.Linear(N_CHROMA, N_CHORDS)  # stage two: not part of the notation
        self._start_from_templates(self.chord_classifier)

    @staticmethod
    @torch.no_grad()
    def _start_from_templates(classifier: nn.Linear, scale: float = 4.0) -> None:
        """Initialise the chord classifier as template matching (Section 2.1's designed pipeline).

        The score of chord ``c`` starts as ``scale * (T_c . p - mean(T_c) * sum(p))``: the
        chroma energy on the chord's three notes minus their share of the total, and 'N' wins
        when the chroma is near zero (bias ``scale / 2``). Training then refines these weights,
        so the classifier learns in hundreds of steps instead of thousands.
        """
        templates = torch.from_numpy(np.stack([chord_chroma(label) for label in CHORD_LABELS]))
        classifier.weight.copy_(scale * (templates - templates.mean(dim=1, keepdim=True)))
        classifier.bias.zero_()
        classifier.bias[0] = scale / 2

    def forward(self, x: torch.Tensor) -> ChromaOutput:
        h = self.input_norm(self.check_features(x))
        for layer in self.hidden:
            h = layer(h)
        chroma = self.chroma(h)
        chords = self.chord_classifier(torch.sigmoid(chroma).detach().transpose(1, 2)).transpose(1, 2)
        return ChromaOutput(chroma, chords)

    def loss(self, batch) -> torch.Tensor:
        """Binary cross-entropy on the 12 chroma targets plus cross-entropy on the chord label.

        ``batch = (x (B, n_bins, context), chroma (B, 12), label (B,))`` as ``ChordFrames`` yields.
        With ``transpose=k`` each training example is first transposed by a random number of
        semitones in ``[-k, k]``, its targets with it (:func:`transpose_spectrogram`).
        """
        x, chroma, label = batch
        semitones = self.random_semitones(len(x))
        x = transpose_spectrogram(x, semitones, bins_per_semitone=self.bins_per_semitone)
        chroma, label = transpose_labels(semitones, chroma=chroma, chords=label)
        out = self.forward(x)
        return (F.binary_cross_entropy_with_logits(out.chroma[..., 0], chroma.float())
                + F.cross_entropy(out.chords[..., 0], label.long()))

    @torch.no_grad()
    def predict_frames(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Chroma ``(batch, 12, frames)`` and chord posteriors ``(batch, 25, frames)`` for whole songs.

        The context window is centred on every frame (edges repeated), so output ``t`` belongs
        to frame ``t`` at ``t * hop_length / sample_rate`` seconds. Evaluation mode inside.
        """
        features = self.check_features(features).to(self.device)
        was_training = self.training
        self.eval()
        try:
            out = self.forward(_centre_pad(features, self.context))
        finally:
            self.train(was_training)
        return torch.sigmoid(out.chroma), torch.softmax(out.chords, dim=1)


class Conv2dVoiceDetector(ReferenceModel):
    """2-D convnet singing-voice detector (Section 5.7.1; Schlüter & Grill 2015, Schlüter 2016).

    It classifies the centre frame of an excerpt of ``n_frames`` frames of a log-mel spectrogram
    as voiced or not (one sigmoid). 3x3 convolutions make it respond to a pattern wherever it
    sits in pitch -- a sung note's harmonics and vibrato at any height -- which suits a voice.

    Published configuration (``"paper"`` preset), Schlüter & Grill (2015): 22.05 kHz audio,
    1024-sample frames at 70 frames per second (hop 315), 80 mel bands from 27.5 Hz to 8 kHz,
    log magnitudes, excerpts of 115 frames (1.6 s); conv 64 and 32 filters 3x3, max-pool 3x3,
    conv 128 and 64 filters 3x3, max-pool 3x3, dense 256, 64 and 1 (sigmoid); leaky ReLU,
    dropout 0.5 before the dense layers; unpadded convolutions; batch norm in the later code.

    Notation: both presets build this 2015 network, whose blocks (``layer_notation``) read
    c2-c2-p2-c2-c2-p2-d1-d1-d1: its max-pooling is 2-D (p2, over frequency and time). The class
    attribute ``notation`` keeps the tutorial's string c2-c2-p1-c2-c2-p1-c2-p1-d1-d1-d1, which
    sketches Schlüter's ISMIR 2016 variant (a linear-frequency input, pooling over frequency
    only, and a fifth convolution spanning all remaining bands); this is the one model whose
    two strings differ. The dense layers act on the one decision frame of each excerpt, hence d1.

    ``"cpu"`` preset (the keyword defaults): 80 mel bands from 27.5 Hz to 8 kHz at hop 512 (43
    frames per second), excerpts of 25 frames (0.58 s), 16/16/32/32 filters, dense 64 and 32,
    dropout 0.3, and ``"centre_bands": True`` in the frontend: each mel band's mean over the
    song is subtracted (:class:`BandCentring`), so every excerpt is read against its own song's
    level and balance. Measured on the chapter's 24 validation songs (seed 0, four epochs):
    frame accuracy 0.899 without the centring, 0.922 with it. 25 frames is the shortest excerpt
    that the two unpadded conv-conv-pool stages cover without a remainder (3 * (3 * 1 + 4) + 4),
    so every frame of the excerpt reaches the dense layers and the decision frame sits in the
    middle of what they see; along frequency the same arithmetic uses 79 of the 80 bands.

    Input ``(batch, n_bins, frames >= n_frames)``; ``forward`` returns the voicing logits
    ``(batch, frames - n_frames + 1)``, one per complete window (one for an excerpt of exactly
    ``n_frames``). :meth:`predict_frames` gives one probability per frame of a whole song.
    Chapter: ``book/models/conv2d_voice.ipynb``.
    """

    notation = "c2-c2-p1-c2-c2-p1-c2-p1-d1-d1-d1"
    task = "voice"
    presets = {
        "cpu": {},
        "paper": {
            "frontend": {"representation": "mel", "log": "log", "sample_rate": 22050, "n_fft": 1024,
                         "hop_length": 315, "n_mels": 80, "f_min": 27.5, "f_max": 8000.0},
            "n_frames": 115,
            "channels": (64, 32, 128, 64),
            "dense": (256, 64),
            "dropout": 0.5,
        },
    }

    def __init__(self, *, frontend: dict | None = None, n_frames: int = 25, channels: Sequence[int] = (16, 16, 32, 32),
                 dense: Sequence[int] = (64, 32), dropout: float = 0.3, batch_norm: bool = True):
        frontend = frontend or {"representation": "mel", "log": "log", "sample_rate": 22050, "n_fft": 1024,
                                "hop_length": 512, "n_mels": 80, "f_min": 27.5, "f_max": 8000.0, "centre_bands": True}
        if len(channels) != 4:
            raise ValueError(f"channels must give the 4 convolutions' filter counts; got {channels!r}")
        if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames % 2 == 0:
            raise ValueError(f"n_frames must be an odd int (the excerpt is centred on a frame); got {n_frames!r}")
        super().__init__(frontend=frontend, config={"frontend": frontend, "n_frames": n_frames, "channels": tuple(channels),
                                                    "dense": tuple(dense), "dropout": dropout, "batch_norm": batch_norm})
        conv = {"kernel_size": (3, 3), "padding": "valid", "activation": "leaky_relu", "batch_norm": batch_norm}
        c1, c2, c3, c4 = channels
        self.convs = nn.Sequential(C2(1, c1, **conv), C2(c1, c2, **conv), P2((3, 3)),
                                   C2(c2, c3, **conv), C2(c3, c4, **conv), P2((3, 3)))
        bins, frames = ((self.n_bins - 4) // 3 - 4) // 3, ((n_frames - 4) // 3 - 4) // 3
        if bins < 1 or frames < 1:
            raise ValueError(f"{self.n_bins} bins x {n_frames} frames is too small for two conv-conv-pool stages "
                             "(need at least 25 bins and 25 frames)")
        self.n_frames = self.min_frames = n_frames
        self.dense, width = _hidden_stack(D1, dense, c4 * bins * frames, activation="leaky_relu", dropout=dropout)
        self.output = D1(width, 1, activation=None, dropout=dropout)

    def _excerpts(self, x: torch.Tensor) -> torch.Tensor:
        """All windows of ``n_frames``: ``(batch, bins, frames)`` -> ``(batch * windows, bins, n_frames)``."""
        windows = x.unfold(2, self.n_frames, 1)  # (batch, bins, windows, n_frames)
        return windows.permute(0, 2, 1, 3).reshape(-1, x.shape[1], self.n_frames)

    def _classify(self, excerpts: torch.Tensor) -> torch.Tensor:
        h = self.convs(self.input_norm(excerpts)).flatten(1)
        for layer in self.dense:
            h = layer(h)
        return self.output(h)[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_features(x)
        n_windows = x.shape[2] - self.n_frames + 1
        return self._classify(self._excerpts(x)).reshape(x.shape[0], n_windows)

    def loss(self, batch) -> torch.Tensor:
        """Binary cross-entropy of each window against the voicing of its centre frame.

        ``batch = (x (B, n_bins, T), voicing (B, T))`` as ``VoiceExcerpts`` yields, ``T >= n_frames``.
        Each of the ``T - n_frames + 1`` windows is a full pass through the network, so train on
        excerpts of exactly ``n_frames`` (``VoiceExcerpts(excerpt_frames=model.n_frames,
        excerpt_hop=...)``), as Schlüter & Grill do.
        """
        x, voicing = batch
        centre = self.n_frames // 2
        target = voicing[:, centre: voicing.shape[1] - (self.n_frames - 1 - centre)]
        return F.binary_cross_entropy_with_logits(self.forward(x), target.float())

    @torch.no_grad()
    def predict_frames(self, features: torch.Tensor, *, batch_size: int = 512) -> torch.Tensor:
        """Voicing probability ``(batch, frames)`` for whole songs: an excerpt centred on every frame.

        The song is padded by repeating its edge frames, cut into all ``frames`` centred
        excerpts at once (``Tensor.unfold``, no copy) and classified ``batch_size`` excerpts
        at a time. Evaluation mode inside.
        """
        features = self.check_features(features).to(self.device)
        excerpts = self._excerpts(_centre_pad(features, self.n_frames))
        was_training = self.training
        self.eval()
        try:
            logits = torch.cat([self._classify(chunk) for chunk in excerpts.split(batch_size)])
        finally:
            self.train(was_training)
        return torch.sigmoid(logits).reshape(features.shape[0], features.shape[2])


class BRNNVoiceDetector(ReferenceModel):
    """Bidirectional-LSTM singing-voice detector, r1-r1-d1 (Section 5.7.1; Leglaive et al. 2015).

    Stacked bidirectional LSTMs (r1, many-to-many) read a log-mel spectrogram and a d1 layer
    gives every frame a voicing probability; the backward direction lets a frame use what comes
    after it (a sung phrase's continuation). No excerpt window: any number of frames.

    Published configuration: Leglaive, Hennequin & Badeau (2015) feed mel-band features of
    the mixture, after a two-stage harmonic-percussive separation that enhances the voice, to
    deep bidirectional LSTMs and compare 2 to 5 layers (the tutorial notes the 4-layer network,
    three recurrent layers and the output, did best). The ``"paper"`` preset takes that depth
    -- three bidirectional LSTM layers -- on 80 log-mel bands at 22.05 kHz, hop 512; the layer
    widths (50 units per direction) and the skipped separation step are our choices, stated
    as such (the paper preset reads the plain log-mel frames, ``deltas=False``).

    ``"cpu"`` preset (the keyword defaults): 40 mel bands, two layers of 64 units per direction,
    and ``deltas=True``: each frame's log-mel bands are followed by their change since the
    previous frame (a first-order difference, batch-normalised like the bands). It stands in
    for Leglaive et al.'s separation step, which also serves to expose what moves -- vibrato,
    glides, formant changes between syllables, consonant onsets -- against the sustained
    accompaniment; an LSTM could learn the difference itself, but on a few minutes of training
    audio the explicit one measured far better (frame accuracy on held-out validation songs 0.78
    with 24 units on plain frames, 0.86 with the differences and more, shorter training songs,
    0.90 with 64 units; chapter ``book/models/brnn_voice.ipynb``). The frontend also has
    ``"centre_bands": True`` (:class:`BandCentring`: each band's song mean subtracted), which
    raised validation frame accuracy on every seed (seeds 0, 1, 2: 0.90, 0.90, 0.87 before;
    0.91, 0.92, 0.88 with it).

    Input ``(batch, n_bins, frames)``; ``forward`` returns voicing logits ``(batch, frames)``.
    Chapter: ``book/models/brnn_voice.ipynb``.
    """

    notation = "r1-r1-d1"
    task = "voice"
    presets = {
        "cpu": {},
        "paper": {
            "frontend": {"representation": "mel", "log": "log", "sample_rate": 22050, "n_fft": 1024,
                         "hop_length": 512, "n_mels": 80, "f_min": 27.5, "f_max": 8000.0},
            "hidden": (50, 50, 50),
            "dropout": 0.2,
            "deltas": False,
        },
    }
    min_frames = 1

    def __init__(self, *, frontend: dict | None = None, hidden: Sequence[int] = (64, 64), dropout: float = 0.0,
                 deltas: bool = True):
        frontend = frontend or {"representation": "mel", "log": "log", "sample_rate": 22050, "n_fft": 1024,
                                "hop_length": 512, "n_mels": 40, "f_min": 27.5, "f_max": 8000.0, "centre_bands": True}
        if len(hidden) < 1:
            raise ValueError(f"hidden must list at least one recurrent layer size; got {hidden!r}")
        if not isinstance(deltas, bool):
            raise ValueError(f"deltas must be True or False; got {deltas!r}")
        super().__init__(frontend=frontend, config={"frontend": frontend, "hidden": tuple(hidden), "dropout": dropout,
                                                    "deltas": deltas})
        self.deltas = deltas
        self.delta_norm = nn.BatchNorm1d(self.n_bins) if deltas else None
        layers, width = [], self.n_bins * (2 if deltas else 1)
        for size in hidden:
            layers.append(R1(width, size, cell="lstm", bidirectional=True))
            width = 2 * size
        self.recurrent = nn.ModuleList(layers)
        self.dropout = nn.Dropout(dropout)
        self.output = D1(width, 1, activation=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_features(x)
        h = self.input_norm(x)
        if self.deltas:  # frame differences: how each band changes (onsets, vibrato, formant moves)
            h = torch.cat([h, self.delta_norm(torch.diff(x, dim=2, prepend=x[:, :, :1]))], dim=1)
        for layer in self.recurrent:
            h = self.dropout(layer(h))
        return self.output(h)[:, 0]

    def loss(self, batch) -> torch.Tensor:
        """Frame-wise binary cross-entropy; ``batch = (x (B, n_bins, T), voicing (B, T))``."""
        x, voicing = batch
        return F.binary_cross_entropy_with_logits(self.forward(x), voicing.float())

    @torch.no_grad()
    def predict_frames(self, features: torch.Tensor) -> torch.Tensor:
        """Voicing probability ``(batch, frames)`` for whole songs (one pass; evaluation mode inside)."""
        features = self.check_features(features).to(self.device)
        was_training = self.training
        self.eval()
        try:
            return torch.sigmoid(self.forward(features))
        finally:
            self.train(was_training)


# --------------------------------------------------------------------------------------------
# Time-invariant models (Section 5.7.2): tags (sigmoid) and key (softmax over 24)
# --------------------------------------------------------------------------------------------


class _Tagger(ReferenceModel):
    """Shared head and loss of the three taggers: one dense output split into tags and key.

    The cpu presets of all three read a log CQT (84 semitone bins from C1, hop 1024 at
    22.05 kHz) instead of a mel spectrogram, because the key head needs semitone resolution
    that mel bands below about 1 kHz lack, and they train with random transpositions of up to
    6 semitones (``transpose=6``), which shows every key in every song. Paper presets: neither.

    The loss weighs the tag term by ``tag_weight`` (see :meth:`loss`): the tag cross-entropy is an
    average over the tags, so without a weight the key term dominates the shared layers (measured
    in the tagger chapters: tags stuck at their base rates). The key of a real tagging dataset is
    unknown, so on real data only the tag term remains and the weight only scales the loss.
    """

    task = "tags"

    def __init__(self, *, frontend: dict, config: dict, n_tags: int, tag_names: Sequence[str] | None,
                 transpose: int = 0, tag_weight: float = 1.0):
        if isinstance(tag_weight, bool) or not isinstance(tag_weight, (int, float)) or not tag_weight > 0:
            raise ValueError(f"tag_weight must be a positive number; got {tag_weight!r}")
        if tag_names is not None:
            tag_names = tuple(str(t) for t in tag_names)
            if n_tags is None:
                n_tags = len(tag_names)
            if len(tag_names) != n_tags:
                raise ValueError(f"tag_names has {len(tag_names)} names but n_tags is {n_tags}")
        if isinstance(n_tags, bool) or not isinstance(n_tags, int) or n_tags < 1:
            raise ValueError(f"n_tags must be a positive int; got {n_tags!r}")
        super().__init__(frontend=frontend, config={**config, "n_tags": n_tags, "tag_names": tag_names,
                                                    "tag_weight": float(tag_weight)}, transpose=transpose)
        self.n_tags, self.tag_names, self.tag_weight = n_tags, tag_names, float(tag_weight)

    def _split(self, logits: torch.Tensor) -> TagOutput:
        return TagOutput(logits[:, : self.n_tags], logits[:, self.n_tags:])

    def loss(self, batch) -> torch.Tensor:
        """``tag_weight`` x binary cross-entropy on the tags plus cross-entropy on the key.

        ``batch = (x (B, n_bins, T), tags (B, n_tags), key (B,))`` as ``TaggedClips`` yields;
        clips whose key is ``-100`` (unknown) do not enter the key term. The tag term is the
        mean over clips *and tags*, so on its own each tag would pull on the shared layers with
        ``1 / n_tags`` of the key's strength: with ``tag_weight=1`` the key alone shapes the trunk
        and the tags stay at their base rates. ``tag_weight`` restores the balance. With
        ``transpose=k`` each training clip is first transposed by a random number of semitones
        in ``[-k, k]`` and its key with it (tags do not change), as in key-detection practice.
        """
        x, tags, key = batch
        semitones = self.random_semitones(len(x))
        x = transpose_spectrogram(x, semitones, bins_per_semitone=self.bins_per_semitone)
        (key,) = transpose_labels(semitones, keys=key)
        out = self.forward(x)
        loss = self.tag_weight * F.binary_cross_entropy_with_logits(out.tags, tags.float())
        known = key != IGNORE_KEY  # real tagging datasets (MagnaTagATune, GTZAN) have no key
        if known.any():
            loss = loss + F.cross_entropy(out.key[known], key[known].long())
        return loss


_CPU_TAGGER_FRONTEND = {"representation": "cqt", "log": "log", "sample_rate": 22050, "hop_length": 1024,
                        "f_min": 32.70319566257483, "n_bins": 84, "bins_per_octave": 12}


class Conv1dTagger(_Tagger):
    """1-D convnet tagger, c1-p1-c1-p1-d1-d1-d1 (Section 5.7.2; Dieleman & Schrauwen 2014).

    The first convolution spans every bin (F x T -> 1 x T), so the network is cheap but cannot
    learn patterns local in frequency; pooling is along time only. The d1 layers run on every
    remaining time step; their outputs are averaged over time before the output layer (as
    Dieleman & Schrauwen average predictions over a clip's windows), so any clip length works.
    Outputs: :class:`TagOutput` (tags and 24-class key logits).

    Published configuration (``"paper"`` preset), Dieleman & Schrauwen (2014): 128 mel bands
    at 16 kHz (window 1024, hop 512), 32 filters of 8 frames, max-pool 4, 32 filters of 8,
    max-pool 4, one dense layer of 100 ReLU units, 50 sigmoid tags (MagnaTagATune); clips of
    about 3 s. That is c1-p1-c1-p1-d1-d1; the tutorial's sketch has one more dense layer, as
    the cpu preset does. ``"cpu"`` preset: 64 filters of 4 frames (more spectral templates for the
    same parameters: each spans all bins), then 32 of 4, pools 4, dense 64 and 64, ``tag_weight=6``.
    """

    notation = "c1-p1-c1-p1-d1-d1-d1"
    presets = {
        "cpu": {},
        "paper": {
            "frontend": {"representation": "mel", "log": "log", "sample_rate": 16000, "n_fft": 1024,
                         "hop_length": 512, "n_mels": 128},
            "channels": (32, 32),
            "kernel_size": 8,
            "pool": 4,
            "dense": (100,),
            "n_tags": 50,
            "transpose": 0,
        },
    }

    def __init__(self, *, frontend: dict | None = None, channels: Sequence[int] = (64, 32), kernel_size: int = 4,
                 pool: int = 4, dense: Sequence[int] = (64, 64), dropout: float = 0.0, n_tags: int | None = None,
                 tag_names: Sequence[str] | None = None, transpose: int = 6, tag_weight: float = 6.0):
        frontend = frontend or dict(_CPU_TAGGER_FRONTEND)
        if n_tags is None and tag_names is None:
            n_tags = 50
        super().__init__(frontend=frontend, n_tags=n_tags, tag_names=tag_names, transpose=transpose,
                         tag_weight=tag_weight,
                         config={"frontend": frontend, "channels": tuple(channels), "kernel_size": kernel_size,
                                 "pool": pool, "dense": tuple(dense), "dropout": dropout})
        layers, width = [], self.n_bins
        for n in channels:
            layers += [C1(width, n, kernel_size=kernel_size), P1(pool, axis="time")]
            width = n
        self.convs = nn.Sequential(*layers)
        self.dense, width = _hidden_stack(D1, dense, width, dropout=dropout)
        self.output = D1(width, self.n_tags + N_KEYS, activation=None, dropout=dropout)
        frames = 1
        for _ in channels:
            frames = frames * pool + kernel_size - 1
        self.min_frames = frames

    def forward(self, x: torch.Tensor) -> TagOutput:
        h = self.convs(self.input_norm(self.check_features(x)))
        for layer in self.dense:
            h = layer(h)
        return self._split(self.output(h.mean(dim=2)))


class Conv2dTagger(_Tagger):
    """Fully convolutional 2-D tagger, c2-p2-c2-p2-c2-p2-d2 (Section 5.7.2; Choi et al. 2016).

    3x3 convolutions with batch norm and ELU, each followed by max pooling, see the input at
    coarser and coarser scales; then a global max over the remaining frames (so any clip long
    enough for the pools works), and one dense layer (sigmoid tags, softmax key) reads the
    channels at every remaining frequency position -- the tutorial writes it d2 since it covers
    every frame. Pooling along frequency makes the features blind to *where* in pitch a
    pattern sits, which tags tolerate but the key does not: hence the cpu preset pools along
    time only, and its dense layer sees each of the 84 semitone bins.

    Published configuration (``"paper"`` preset), Choi, Fazekas & Sandler (2016), FCN-4:
    96 mel bands at 12 kHz (n_fft 512, hop 256), 1366 frames (29.1 s); conv 3x3 with 128, 384,
    768 and 2048 filters, max-pools (2, 4), (4, 5), (3, 8), (4, 8) in (bins, frames); batch
    norm, ELU; 50 sigmoid tags. Four blocks, so its layers read c2-p2-c2-p2-c2-p2-c2-p2-d2.
    ``"cpu"`` preset: three blocks of 8, 16, 32 filters, pools (1, 4), (1, 4), (1, 2) (pooling
    time early keeps the full-resolution layers cheap), ``tag_weight=12`` (see :class:`_Tagger`).
    """

    notation = "c2-p2-c2-p2-c2-p2-d2"
    presets = {
        "cpu": {},
        "paper": {
            "frontend": {"representation": "mel", "log": "db", "sample_rate": 12000, "n_fft": 512,
                         "hop_length": 256, "n_mels": 96},
            "channels": (128, 384, 768, 2048),
            "pools": ((2, 4), (4, 5), (3, 8), (4, 8)),
            "n_tags": 50,
            "transpose": 0,
        },
    }

    def __init__(self, *, frontend: dict | None = None, channels: Sequence[int] = (8, 16, 32),
                 pools: Sequence[tuple[int, int]] = ((1, 4), (1, 4), (1, 2)), dropout: float = 0.0,
                 n_tags: int | None = None, tag_names: Sequence[str] | None = None, transpose: int = 6,
                 tag_weight: float = 12.0):
        frontend = frontend or dict(_CPU_TAGGER_FRONTEND)
        if n_tags is None and tag_names is None:
            n_tags = 50
        if len(channels) != len(pools) or not channels:
            raise ValueError(f"channels and pools must have the same non-zero length; got {channels!r} and {pools!r}")
        super().__init__(frontend=frontend, n_tags=n_tags, tag_names=tag_names, transpose=transpose,
                         tag_weight=tag_weight,
                         config={"frontend": frontend, "channels": tuple(channels),
                                 "pools": tuple(tuple(p) for p in pools), "dropout": dropout})
        layers, width, bins, frames = [], 1, self.n_bins, 1
        for n, pool in zip(channels, pools):
            layers += [C2(width, n, activation="elu", batch_norm=True), P2(pool)]
            width, bins, frames = n, bins // pool[0], frames * pool[1]
        if bins < 1:
            raise ValueError(f"the poolings {pools} need more than the frontend's {self.n_bins} bins")
        self.convs = nn.Sequential(*layers)
        self.min_frames = frames
        self.output = D2(width * bins, self.n_tags + N_KEYS, context=1, activation=None, dropout=dropout)

    def forward(self, x: torch.Tensor) -> TagOutput:
        h = self.convs(self.input_norm(self.check_features(x)))
        return self._split(self.output(h.amax(dim=3).flatten(1)))  # max over time; bins keep their place


class CRNNTagger(_Tagger):
    """Convolutional recurrent tagger, c2-p2-c2-p2-r1-r2-d1 (Section 5.7.2; Choi et al. 2017).

    2-D conv blocks (3x3, batch norm, ELU, max pooling) capture local patterns; once the
    frequency axis is pooled away (any bins left are stacked into the features), a GRU
    sequence (r1, many-to-many, then r2, many-to-one) summarises the remaining frames into one
    vector, and a d1 layer gives tags and key. Any clip long enough for the pools works.

    Published configuration (``"paper"`` preset), Choi, Fazekas, Sandler & Cho (2017), as in
    the authors' Keras code: 96 mel bands at 12 kHz (n_fft 512, hop 256), 1366 frames; four
    conv blocks of 64, 128, 128, 128 filters with max-pools (2, 2), (3, 3), (4, 4), (4, 4),
    dropout 0.1; two GRU layers of 32 units, dropout 0.3, 50 sigmoid tags. Its layers read
    c2-p2-c2-p2-c2-p2-c2-p2-r1-r2-d1. ``"cpu"`` preset: two blocks of 8 and 16 filters, pools
    (2, 4) and (1, 4) -- frequency only once by 2, after a 3x3 convolution has already marked
    which semitone of each pair sounds, so the GRUs can still tell the key (13 steps of 42 x 16
    = 672 features for a 10-s clip) -- GRUs of 112, ``tag_weight=8``. The tagger chapter trains
    it with ``torch.channels_last`` weights: a training step is 1.6x faster on one CPU thread.
    """

    notation = "c2-p2-c2-p2-r1-r2-d1"
    presets = {
        "cpu": {},
        "paper": {
            "frontend": {"representation": "mel", "log": "db", "sample_rate": 12000, "n_fft": 512,
                         "hop_length": 256, "n_mels": 96},
            "channels": (64, 128, 128, 128),
            "pools": ((2, 2), (3, 3), (4, 4), (4, 4)),
            "rnn_hidden": 32,
            "conv_dropout": 0.1,
            "dropout": 0.3,
            "n_tags": 50,
            "transpose": 0,
        },
    }

    def __init__(self, *, frontend: dict | None = None, channels: Sequence[int] = (8, 16),
                 pools: Sequence[tuple[int, int]] = ((2, 4), (1, 4)), rnn_hidden: int = 112, conv_dropout: float = 0.0,
                 dropout: float = 0.0, n_tags: int | None = None, tag_names: Sequence[str] | None = None,
                 transpose: int = 6, tag_weight: float = 8.0):
        frontend = frontend or dict(_CPU_TAGGER_FRONTEND)
        if n_tags is None and tag_names is None:
            n_tags = 50
        if len(channels) != len(pools) or not channels:
            raise ValueError(f"channels and pools must have the same non-zero length; got {channels!r} and {pools!r}")
        super().__init__(frontend=frontend, n_tags=n_tags, tag_names=tag_names, transpose=transpose,
                         tag_weight=tag_weight,
                         config={"frontend": frontend, "channels": tuple(channels),
                                 "pools": tuple(tuple(p) for p in pools), "rnn_hidden": rnn_hidden,
                                 "conv_dropout": conv_dropout, "dropout": dropout})
        layers, width, bins, frames = [], 1, self.n_bins, 1
        for i, (n, pool) in enumerate(zip(channels, pools)):
            layers += [C2(width, n, activation="elu", batch_norm=True, dropout=conv_dropout if i else 0.0), P2(pool)]
            width, bins, frames = n, bins // pool[0], frames * pool[1]
        if bins < 1:
            raise ValueError(f"the poolings {pools} need more than the frontend's {self.n_bins} bins")
        self.convs = nn.Sequential(*layers)
        self.min_frames = frames
        self.r1 = R1(width * bins, rnn_hidden, cell="gru")
        self.r2 = R2(rnn_hidden, rnn_hidden, cell="gru")
        self.dropout = nn.Dropout(dropout)
        self.output = D1(rnn_hidden, self.n_tags + N_KEYS, activation=None)

    def forward(self, x: torch.Tensor) -> TagOutput:
        h = self.convs(self.input_norm(self.check_features(x)))  # (batch, channels, bins', frames')
        h = h.flatten(1, 2)  # channels x remaining bins become the features of each step
        return self._split(self.output(self.dropout(self.r2(self.r1(h)))))


#: Registry from the book's chapter names (``book/models/<key>.ipynb``) to the model classes.
MODELS: dict[str, type[ReferenceModel]] = {
    "deep_chroma": DeepChroma,
    "conv2d_voice": Conv2dVoiceDetector,
    "brnn_voice": BRNNVoiceDetector,
    "conv1d_tagger": Conv1dTagger,
    "conv2d_tagger": Conv2dTagger,
    "crnn_tagger": CRNNTagger,
}
