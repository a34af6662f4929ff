"""The deep chroma extractor and its chord classifier, d2-d2-d2-d1 (Section 5.7.1).

Chapter: ``book/models/deep_chroma.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from mirbook.layers import D1, D2
from mirbook.models.augmentation import transpose_labels, transpose_spectrogram
from mirbook.models.base import ReferenceModel, centre_pad
from mirbook.runtime import evaluation_mode
from mirbook.vocab import CHORD_CHROMA, CHORD_LABELS, IGNORE_CHORD

__all__ = ["ChromaOutput", "DeepChroma"]

N_CHROMA = 12
N_CHORDS = len(CHORD_LABELS)  # 25: 'N' + 12 major + 12 minor


class ChromaOutput(NamedTuple):
    """Deep chroma output: ``chroma`` logits ``(batch, 12, frames')`` and ``chords`` logits ``(batch, 25, frames')``."""

    chroma: torch.Tensor
    chords: torch.Tensor


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
    same 15-frame context and dropout, three layers of 128 units. With 12 bins per octave a note
    leaks into its neighbours and blurs the third; without transposition the model overfits
    (the deep chroma chapter measures both).

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
        templates = torch.tensor(CHORD_CHROMA)
        classifier.weight.copy_(scale * (templates - templates.mean(dim=1, keepdim=True)))
        classifier.bias.zero_()
        classifier.bias[0] = scale / 2

    def forward(self, x: torch.Tensor) -> ChromaOutput:
        h = self.input_norm(self.as_features(x))
        for layer in self.hidden:
            h = layer(h)
        chroma = self.chroma(h)
        chords = self.chord_classifier(torch.sigmoid(chroma).detach().transpose(1, 2)).transpose(1, 2)
        return ChromaOutput(chroma, chords)

    def loss(self, batch) -> torch.Tensor:
        """Binary cross-entropy on the 12 chroma targets plus cross-entropy on the chord label.

        ``batch = (x (B, n_bins, context), chroma (B, 12), label (B,))`` as ``ChordFrames`` yields.
        With ``transpose=k`` each training example is first transposed by a random number of
        semitones in ``[-k, k]``, its targets with it (:func:`transpose_spectrogram`). Frames
        labelled ``IGNORE_CHORD`` (a chord outside majmin, e.g. 'C:sus4') enter neither term;
        a batch of such frames alone has loss zero.
        """
        x, chroma, label = batch
        semitones = self.random_semitones(len(x))
        x = transpose_spectrogram(x, semitones, bins_per_semitone=self.bins_per_semitone)
        chroma, label = transpose_labels(semitones, chroma=chroma, chords=label)
        out = self.forward(x)
        known = label != IGNORE_CHORD
        if not known.any():
            return out.chords.sum() * 0.0
        return (F.binary_cross_entropy_with_logits(out.chroma[known, :, 0], chroma[known].float())
                + F.cross_entropy(out.chords[known, :, 0], label[known].long()))

    def predict_frames(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Chroma ``(batch, 12, frames)`` and chord posteriors ``(batch, 25, frames)`` for whole songs.

        The context window is centred on every frame (edges repeated), so output ``t`` belongs
        to frame ``t`` at ``t * hop_length / sample_rate`` seconds. Evaluation mode inside.
        """
        features = self.as_features(features).to(self.device)
        with evaluation_mode(self):
            out = self.forward(centre_pad(features, self.context))
            return torch.sigmoid(out.chroma), torch.softmax(out.chords, dim=1)
