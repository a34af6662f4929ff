"""The two singing-voice detectors of Section 5.7.1: a 2-D convnet and a bidirectional RNN.

Chapters: ``book/models/conv2d_voice.ipynb`` and ``book/models/brnn_voice.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from mirbook.layers import C2, D1, P2, R1
from mirbook.models.base import ReferenceModel, centre_pad, hidden_stack
from mirbook.runtime import evaluation_mode

__all__ = ["BRNNVoiceDetector", "Conv2dVoiceDetector"]


class Conv2dVoiceDetector(ReferenceModel):
    """2-D convnet singing-voice detector (Section 5.7.1; Schlüter & Grill 2015, Schlüter 2016).

    It classifies the centre frame of an excerpt of ``excerpt_frames`` frames of a log-mel
    spectrogram as voiced or not (one sigmoid). 3x3 convolutions make it respond to a pattern wherever it
    sits in pitch -- a sung note's harmonics and vibrato at any height -- which suits a voice.

    Published configuration (``"paper"`` preset), Schlüter & Grill (2015): 22.05 kHz audio,
    1024-sample frames at 70 frames per second (hop 315), 80 mel bands from 27.5 Hz to 8 kHz,
    log magnitudes, excerpts of 115 frames (1.6 s); conv 64 and 32 filters 3x3, max-pool 3x3,
    conv 128 and 64 filters 3x3, max-pool 3x3, dense 256, 64 and 1 (sigmoid); leaky ReLU,
    dropout 0.5 before the dense layers; unpadded convolutions; batch norm in the later code.

    Notation: both presets build this 2015 network, whose blocks (``layer_notation``) read
    c2-c2-p2-c2-c2-p2-d1-d1-d1: its max-pooling is 2-D (p2, over frequency and time). The class
    attribute ``notation`` keeps the tutorial's string c2-c2-p1-c2-c2-p1-c2-p1-d1-d1-d1, its
    sketch of Schlüter's ISMIR 2016 network. The author's reimplementation of that network
    (``arch=ismir2016`` in ``experiments/model.py``, branches ``phd_extra`` and ``unhorse`` of
    github.com/f0k/ismir2015) reads the same 80 mel bands and keeps the first 3x3 pooling; it
    replaces the second by a fifth convolution (3 frames by all but 3 of the remaining bands)
    and a max pooling over 4 bands along frequency only, i.e. c2-c2-p2-c2-c2-c2-p1-d1-d1-d1.
    This is the one model whose two strings differ. The dense layers act on the one decision
    frame of each excerpt, hence d1.

    ``"cpu"`` preset (the keyword defaults): 80 mel bands from 27.5 Hz to 8 kHz at hop 512 (43
    frames per second), excerpts of 25 frames (0.58 s), 16/16/32/32 filters, dense 64 and 32,
    dropout 0.3, and ``"centre_bands": True`` in the frontend: each mel band's mean over the
    song is subtracted (``mirbook.models.BandCentring``), so every excerpt is read against its
    own song's level and balance. 25 frames is the shortest excerpt
    that the two unpadded conv-conv-pool stages cover without a remainder (3 * (3 * 1 + 4) + 4),
    so every frame of the excerpt reaches the dense layers and the decision frame sits in the
    middle of what they see; along frequency the same arithmetic uses 79 of the 80 bands.

    Input ``(batch, n_bins, frames >= excerpt_frames)``; ``forward`` returns the voicing logits
    ``(batch, frames - excerpt_frames + 1)``, one per complete window (one for an excerpt of
    exactly ``excerpt_frames``). :meth:`predict_frames` gives one probability per frame of a whole song.
    Chapter: ``book/models/conv2d_voice.ipynb``.
    """

    notation = "c2-c2-p1-c2-c2-p1-c2-p1-d1-d1-d1"
    task = "voice"
    renamed_options = {"n_frames": "excerpt_frames"}
    presets = {
        "cpu": {},
        "paper": {
            "frontend": {"representation": "mel", "log": "log", "sample_rate": 22050, "n_fft": 1024,
                         "hop_length": 315, "n_mels": 80, "f_min": 27.5, "f_max": 8000.0},
            "excerpt_frames": 115,
            "channels": (64, 32, 128, 64),
            "dense": (256, 64),
            "dropout": 0.5,
        },
    }

    def __init__(self, *, frontend: dict | None = None, excerpt_frames: int = 25,
                 channels: Sequence[int] = (16, 16, 32, 32), dense: Sequence[int] = (64, 32), dropout: float = 0.3, batch_norm: bool = True):
        frontend = frontend or {"representation": "mel", "log": "log", "sample_rate": 22050, "n_fft": 1024,
                                "hop_length": 512, "n_mels": 80, "f_min": 27.5, "f_max": 8000.0, "centre_bands": True}
        if len(channels) != 4:
            raise ValueError(f"channels must give the 4 convolutions' filter counts; got {channels!r}")
        if isinstance(excerpt_frames, bool) or not isinstance(excerpt_frames, int) or excerpt_frames % 2 == 0:
            raise ValueError("excerpt_frames must be an odd int (the excerpt is centred on a frame); "
                             f"got {excerpt_frames!r}")
        super().__init__(frontend=frontend, config={"frontend": frontend, "excerpt_frames": excerpt_frames,
                                                    "channels": tuple(channels), "dense": tuple(dense),
                                                    "dropout": dropout, "batch_norm": batch_norm})
        conv = {"kernel_size": (3, 3), "padding": "valid", "activation": "leaky_relu", "batch_norm": batch_norm}
        c1, c2, c3, c4 = channels
        self.convs = nn.Sequential(C2(1, c1, **conv), C2(c1, c2, **conv), P2((3, 3)),
                                   C2(c2, c3, **conv), C2(c3, c4, **conv), P2((3, 3)))
        bins, frames = ((self.n_bins - 4) // 3 - 4) // 3, ((excerpt_frames - 4) // 3 - 4) // 3
        if bins < 1 or frames < 1:
            raise ValueError(f"{self.n_bins} bins x {excerpt_frames} frames is too small for two conv-conv-pool stages "
                             "(need at least 25 bins and 25 frames)")
        self.excerpt_frames = self.min_frames = excerpt_frames
        self.dense, width = hidden_stack(D1, dense, c4 * bins * frames, activation="leaky_relu", dropout=dropout)
        self.output = D1(width, 1, activation=None, dropout=dropout)

    def _excerpts(self, x: torch.Tensor) -> torch.Tensor:
        """All windows: ``(batch, bins, frames)`` -> ``(batch * windows, bins, excerpt_frames)``."""
        windows = x.unfold(2, self.excerpt_frames, 1)  # (batch, bins, windows, excerpt_frames)
        return windows.permute(0, 2, 1, 3).reshape(-1, x.shape[1], self.excerpt_frames)

    def _classify(self, excerpts: torch.Tensor) -> torch.Tensor:
        h = self.convs(self.input_norm(excerpts)).flatten(1)
        for layer in self.dense:
            h = layer(h)
        return self.output(h)[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.as_features(x)
        n_windows = x.shape[2] - self.excerpt_frames + 1
        return self._classify(self._excerpts(x)).reshape(x.shape[0], n_windows)

    def loss(self, batch) -> torch.Tensor:
        """Binary cross-entropy of each window against the voicing of its centre frame.

        ``batch = (x (B, n_bins, T), voicing (B, T))`` as ``VoiceExcerpts`` yields,
        ``T >= excerpt_frames``. Each of the ``T - excerpt_frames + 1`` windows is a full pass
        through the network, so train on excerpts of exactly ``excerpt_frames``
        (``VoiceExcerpts(excerpt_frames=model.excerpt_frames, excerpt_hop=...)``), as Schlüter &
        Grill do.
        """
        x, voicing = batch
        centre = self.excerpt_frames // 2
        target = voicing[:, centre: voicing.shape[1] - (self.excerpt_frames - 1 - centre)]
        return F.binary_cross_entropy_with_logits(self.forward(x), target.float())

    def predict_frames(self, features: torch.Tensor, *, batch_size: int = 512) -> torch.Tensor:
        """Voicing probability ``(batch, frames)`` for whole songs: an excerpt centred on every frame.

        The song is padded by repeating its edge frames, cut into all ``frames`` centred
        excerpts at once (``Tensor.unfold``, no copy) and classified ``batch_size`` excerpts
        at a time. Evaluation mode inside.
        """
        features = self.as_features(features).to(self.device)
        excerpts = self._excerpts(centre_pad(features, self.excerpt_frames))
        with evaluation_mode(self):
            logits = torch.cat([self._classify(chunk) for chunk in excerpts.split(batch_size)])
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
    accompaniment; an LSTM could learn the difference itself, but from a few minutes of training
    audio the explicit one does better (the chapter measures it). The frontend also has
    ``"centre_bands": True`` (``mirbook.models.BandCentring``: each band's song mean subtracted).

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
        x = self.as_features(x)
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

    def predict_frames(self, features: torch.Tensor) -> torch.Tensor:
        """Voicing probability ``(batch, frames)`` for whole songs (one pass; evaluation mode inside)."""
        features = self.as_features(features).to(self.device)
        with evaluation_mode(self):
            return torch.sigmoid(self.forward(features))
