"""The three time-invariant models of Section 5.7.2: tags (sigmoid) and key (softmax over 24).

Chapters: ``book/models/conv1d_tagger.ipynb``, ``conv2d_tagger.ipynb`` and ``crnn_tagger.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from mirbook.checks import check_positive_int
from mirbook.layers import C1, C2, D1, D2, P1, P2, R1, R2
from mirbook.models.augmentation import transpose_labels, transpose_spectrogram
from mirbook.models.base import ReferenceModel, hidden_stack
from mirbook.vocab import KEY_LABELS, NO_KEY, check_tag_names

__all__ = ["CRNNTagger", "Conv1dTagger", "Conv2dTagger", "TagOutput"]

N_KEYS = len(KEY_LABELS)  # 24


#: The input of Choi et al.'s published FCN and CRNN: 96 log-mel bands (dB) of 12 kHz audio, hop 256.
CHOI_MEL_FRONTEND = {"representation": "mel", "log": "db", "sample_rate": 12000, "n_fft": 512,
                     "hop_length": 256, "n_mels": 96}
#: The cpu presets' frontend: a log CQT of 84 semitone bins from C1 (32.7 Hz), hop 1024 at 22.05 kHz.
CPU_TAGGER_FRONTEND = {"representation": "cqt", "log": "log", "sample_rate": 22050, "hop_length": 1024,
                       "f_min": 32.70319566257483, "n_bins": 84, "bins_per_octave": 12}


class TagOutput(NamedTuple):
    """Tagger output: ``tags`` logits ``(batch, n_tags)`` (sigmoid) and ``key`` logits ``(batch, 24)`` (softmax)."""

    tags: torch.Tensor
    key: torch.Tensor


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

    def __init__(self, *, frontend: dict | None, config: dict, n_tags: int | None, tag_names: Sequence[str] | None,
                 transpose: int, tag_weight: float):
        frontend = frontend or dict(CPU_TAGGER_FRONTEND)
        if n_tags is None and tag_names is None:
            n_tags = 50
        if isinstance(tag_weight, bool) or not isinstance(tag_weight, (int, float)) or not tag_weight > 0:
            raise ValueError(f"tag_weight must be a positive number; got {tag_weight!r}")
        if tag_names is not None:
            tag_names = check_tag_names(tag_names)
            if n_tags is None:
                n_tags = len(tag_names)
            if len(tag_names) != n_tags:
                raise ValueError(f"tag_names has {len(tag_names)} names but n_tags is {n_tags}")
        n_tags = check_positive_int(n_tags, "n_tags")
        config = {"frontend": frontend, **config, "n_tags": n_tags, "tag_names": tag_names,
                  "tag_weight": float(tag_weight)}
        super().__init__(frontend=frontend, config=config, transpose=transpose)
        self.n_tags, self.tag_names, self.tag_weight = n_tags, tag_names, float(tag_weight)

    def _tags_and_key(self, logits: torch.Tensor) -> TagOutput:
        """Split the output layer's ``(batch, n_tags + 24)`` logits into tags and key."""
        return TagOutput(logits[:, : self.n_tags], logits[:, self.n_tags:])

    def loss(self, batch) -> torch.Tensor:
        """``tag_weight`` x binary cross-entropy on the tags plus cross-entropy on the key.

        ``batch = (x (B, n_bins, T), tags (B, n_tags), key (B,))`` as ``TaggedClips`` yields;
        clips whose key is ``NO_KEY`` (unknown) do not enter the key term, tags that are NaN
        (unknown: :class:`~mirbook.data.datasets.KeyOnlyClips`) not the tag term. The tag term is
        the mean over the known entries of clips *and tags*, so on its own each tag would pull on
        the shared layers with ``1 / n_tags`` of the key's strength: with ``tag_weight=1`` the key alone shapes the trunk
        and the tags stay at their base rates. ``tag_weight`` restores the balance. With
        ``transpose=k`` each training clip is first transposed by a random number of semitones
        in ``[-k, k]`` and its key with it (tags do not change), as in key-detection practice.
        """
        x, tags, key = batch
        semitones = self.random_semitones(len(x))
        x = transpose_spectrogram(x, semitones, bins_per_semitone=self.bins_per_semitone)
        (key,) = transpose_labels(semitones, keys=key)
        out = self.forward(x)
        tags = tags.float()
        known_tags = ~torch.isnan(tags)
        loss = out.key.new_zeros(())
        if known_tags.any():
            loss = self.tag_weight * F.binary_cross_entropy_with_logits(out.tags[known_tags], tags[known_tags])
        known = key != NO_KEY  # real tagging datasets (MagnaTagATune, GTZAN) have no key
        if known.any():
            loss = loss + F.cross_entropy(out.key[known], key[known].long())
        return loss


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
        super().__init__(frontend=frontend, n_tags=n_tags, tag_names=tag_names, transpose=transpose,
                         tag_weight=tag_weight,
                         config={"channels": tuple(channels), "kernel_size": kernel_size,
                                 "pool": pool, "dense": tuple(dense), "dropout": dropout})
        layers, width = [], self.n_bins
        for n in channels:
            layers += [C1(width, n, kernel_size=kernel_size), P1(pool, axis="time")]
            width = n
        self.convs = nn.Sequential(*layers)
        self.dense, width = hidden_stack(D1, dense, width, dropout=dropout)
        self.output = D1(width, self.n_tags + N_KEYS, activation=None, dropout=dropout)
        frames = 1
        for _ in channels:
            frames = frames * pool + kernel_size - 1
        self.min_frames = frames

    def forward(self, x: torch.Tensor) -> TagOutput:
        h = self.convs(self.input_norm(self.as_features(x)))
        for layer in self.dense:
            h = layer(h)
        return self._tags_and_key(self.output(h.mean(dim=2)))


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
            "frontend": dict(CHOI_MEL_FRONTEND),
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
        if len(channels) != len(pools) or not channels:
            raise ValueError(f"channels and pools must have the same non-zero length; got {channels!r} and {pools!r}")
        super().__init__(frontend=frontend, n_tags=n_tags, tag_names=tag_names, transpose=transpose,
                         tag_weight=tag_weight,
                         config={"channels": tuple(channels),
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
        h = self.convs(self.input_norm(self.as_features(x)))
        return self._tags_and_key(self.output(h.amax(dim=3).flatten(1)))  # max over time; bins keep their place


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
    it with ``torch.channels_last`` weights, which are faster on a CPU.
    """

    notation = "c2-p2-c2-p2-r1-r2-d1"
    presets = {
        "cpu": {},
        "paper": {
            "frontend": dict(CHOI_MEL_FRONTEND),
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
        if len(channels) != len(pools) or not channels:
            raise ValueError(f"channels and pools must have the same non-zero length; got {channels!r} and {pools!r}")
        super().__init__(frontend=frontend, n_tags=n_tags, tag_names=tag_names, transpose=transpose,
                         tag_weight=tag_weight,
                         config={"channels": tuple(channels),
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
        h = self.convs(self.input_norm(self.as_features(x)))  # (batch, channels, bins', frames')
        h = h.flatten(1, 2)  # channels x remaining bins become the features of each step
        return self._tags_and_key(self.output(self.dropout(self.r2(self.r1(h)))))
