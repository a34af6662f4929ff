"""The building blocks of the paper's Figure 8: d1 d2 c1 c2 p1 p2 r1 r2 (Sections 4.1-4.6).

Each block is a small ``nn.Module`` that a reader composes into a network (book: "Layers, one
at a time"; the six model chapters under ``book/models/`` build on them). Every block has a
``symbol`` attribute ('d1', 'c2', ...) so a model can print its notation, e.g. ``c2-p2-c2-p2-d2``.

Shapes follow the representation convention of ``mirbook.representations``:

- a *frame sequence* is ``(batch, features, frames)``: a spectrogram ``(batch, bins, frames)``, or
  the output of d1/d2/c1/r1 where ``features`` are hidden units or channels;
- a *feature map* is ``(batch, channels, bins, frames)``: what c2 and p2 work on. c2 also takes a
  plain spectrogram ``(batch, bins, frames)`` and treats it as one channel.

Option strings shared by the blocks: ``activation`` in {"relu", "elu", "leaky_relu", "tanh",
"sigmoid", None}; ``padding`` in {"valid", "same"} ("same" keeps the length, for odd kernels).
"""

from __future__ import annotations

import torch
from torch import nn

from mirbook.checks import check_choice, check_positive_int

__all__ = ["D1", "D2", "C1", "C2", "P1", "P2", "R1", "R2", "make_activation"]

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def make_activation(name: str | None) -> nn.Module:
    """Return the activation module called ``name`` (Section 2.2), or ``nn.Identity`` for None."""
    if name is None:
        return nn.Identity()
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)} or None; got {name!r}")
    return _ACTIVATIONS[name]()


def _check_dropout(p: float) -> float:
    if not 0.0 <= float(p) < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {p!r}")
    return float(p)


def _check_input(x: torch.Tensor, *, dims: tuple[int, ...], size: int | None, axis: int, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} expects a torch.Tensor; got {type(x).__name__}")
    if x.dim() not in dims:
        shapes = {2: "(batch, features)", 3: "(batch, features, frames)", 4: "(batch, channels, bins, frames)"}
        expected = " or ".join(shapes[d] for d in dims)
        raise ValueError(f"{name} expects a tensor of shape {expected}; got shape {tuple(x.shape)}")
    if size is not None and x.shape[axis] != size:
        raise ValueError(f"{name} expects {size} features on axis {axis}; got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} got an empty tensor of shape {tuple(x.shape)}")


def _check_padding(padding: str, kernel_sizes: tuple[int, ...]) -> str:
    check_choice(padding, "padding", ("valid", "same"))
    if padding == "same" and any(k % 2 == 0 for k in kernel_sizes):
        raise ValueError(f"padding='same' needs odd kernel sizes so the output stays centred; got {kernel_sizes}")
    return padding


class _FrameBlock(nn.Module):
    """Shared body of d1, d2 and c1: a Conv1d over frames with the bins as input channels.

    A dense layer applied to each window of ``W`` frames is exactly a Conv1d with kernel ``W``
    whose input channels are the bins (Section 5.4: "c1 with F-by-W kernels is equivalent to
    d2"), so the three blocks share this code and differ in what they assume and how they are used.
    """

    symbol = ""

    def __init__(self, in_features, out_features, *, kernel, padding, activation, dropout, batch_norm):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        self.kernel = check_positive_int(kernel, "kernel size")
        self.padding = _check_padding(padding, (kernel,))
        self.dropout = nn.Dropout(_check_dropout(dropout))
        self.linear = nn.Conv1d(in_features, out_features, kernel, padding=kernel // 2 if padding == "same" else 0)
        self.norm = nn.BatchNorm1d(out_features) if batch_norm else nn.Identity()
        self.activation = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, dims=(2, 3), size=self.in_features, axis=1, name=type(self).__name__)
        vector = x.dim() == 2
        if vector:
            x = x.unsqueeze(-1)
        if x.shape[-1] < self.kernel and self.padding == "valid":
            raise ValueError(
                f"{type(self).__name__} needs at least {self.kernel} frames; got {x.shape[-1]} (shape {tuple(x.shape)})"
            )
        y = self.activation(self.norm(self.linear(self.dropout(x))))
        return y.squeeze(-1) if vector else y


class D1(_FrameBlock):
    """d1 (Figure 8; Sections 4.1-4.2, Eq. 6): a dense layer applied to every frame on its own.

    ``(batch, in_features, frames) -> (batch, out_features, frames)``; a vector ``(batch,
    in_features)`` gives ``(batch, out_features)``. Invariance: none along frequency -- every
    bin has its own weight, so a pitch shift is a different input (why deep chroma uses dense
    layers: pitch must *not* be invariant). Frames are independent: no temporal context.
    Options (keyword-only): ``activation="relu"``, ``dropout=0.0`` (applied to the input, as in
    Srivastava et al.), ``batch_norm=False``. Used by every model chapter as the output layer.
    """

    symbol = "d1"

    def __init__(self, in_features: int, out_features: int, *, activation: str | None = "relu",
                 dropout: float = 0.0, batch_norm: bool = False):
        super().__init__(in_features, out_features, kernel=1, padding="valid", activation=activation,
                         dropout=dropout, batch_norm=batch_norm)


class D2(_FrameBlock):
    """d2 (Figure 8; Section 4.2): a dense layer over a context of ``context`` adjacent frames.

    It flattens each window of ``context`` frames (all bins) into one vector and maps it with one
    weight matrix, sliding over the sequence: ``(batch, in_features, frames) -> (batch,
    out_features, frames - context + 1)`` with ``padding="valid"`` (output ``t`` is centred on
    input frame ``t + context // 2``), or ``frames`` outputs with ``padding="same"`` (odd context).
    A single window ``(batch, in_features, context)`` gives ``(batch, out_features, 1)``.
    Invariance: none along frequency nor within the window (each (bin, frame offset) has its
    own weight); only the sliding makes it time-shift equivariant. Options as :class:`D1`.
    Used by the deep chroma chapter.
    """

    symbol = "d2"

    def __init__(self, in_features: int, out_features: int, *, context: int, padding: str = "valid",
                 activation: str | None = "relu", dropout: float = 0.0, batch_norm: bool = False):
        super().__init__(in_features, out_features, kernel=context, padding=padding, activation=activation,
                         dropout=dropout, batch_norm=batch_norm)
        self.context = self.kernel


class C1(_FrameBlock):
    """c1 (Figure 8; Sections 4.3-4.4, Eq. 7): a 1-D convolution whose kernel spans all bins.

    Kernel ``in_features x kernel_size`` frames, ``out_channels`` of them: ``(batch, in_features,
    frames) -> (batch, out_channels, frames')`` with ``frames' = frames - kernel_size + 1``
    (``padding="valid"``) or ``frames`` (``"same"``). Invariance: shift-equivariant in time
    (weights shared over frames), none in frequency -- the frequency axis collapses at once
    (F x T -> 1 x T), which makes it cheap but unable to learn patterns local in frequency.
    Options: ``kernel_size=8`` (Dieleman & Schrauwen 2014), ``padding="valid"``,
    ``activation="relu"``, ``dropout=0.0``, ``batch_norm=False``. Used by the Conv1d tagger chapter.
    """

    symbol = "c1"

    def __init__(self, in_features: int, out_channels: int, *, kernel_size: int = 8, padding: str = "valid",
                 activation: str | None = "relu", dropout: float = 0.0, batch_norm: bool = False):
        super().__init__(in_features, out_channels, kernel=kernel_size, padding=padding, activation=activation,
                         dropout=dropout, batch_norm=batch_norm)


class C2(nn.Module):
    """c2 (Figure 8; Sections 4.3-4.4, Eq. 7): a 2-D convolution over (bins, frames).

    ``(batch, in_channels, bins, frames) -> (batch, out_channels, bins', frames')``; a spectrogram
    ``(batch, bins, frames)`` is read as one channel (``in_channels`` must then be 1). With
    ``padding="valid"`` each axis shrinks by ``kernel - 1``; ``"same"`` keeps it (odd kernels).
    Invariance: local patterns are detected wherever they occur in time *and* frequency (weight
    sharing), so a pitch shift moves the feature map instead of changing it -- useful for voice
    or timbre, harmful where absolute pitch matters. Options: ``kernel_size=(3, 3)`` as
    (bins, frames), ``padding="same"``, ``activation="relu"``, ``batch_norm=False`` (applied
    before the activation, as in Choi et al. 2016), ``dropout=0.0``.
    Used by the Conv2D voice, Conv2d tagger and CRNN chapters.
    """

    symbol = "c2"

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: tuple[int, int] = (3, 3),
                 padding: str = "same", activation: str | None = "relu", batch_norm: bool = False,
                 dropout: float = 0.0):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        kernel_size = tuple(kernel_size)
        if len(kernel_size) != 2:
            raise ValueError(f"kernel_size must be (bins, frames); got {kernel_size!r}")
        self.kernel_size = (check_positive_int(kernel_size[0], "kernel height"),
                            check_positive_int(kernel_size[1], "kernel width"))
        self.padding = _check_padding(padding, self.kernel_size)
        pad = (self.kernel_size[0] // 2, self.kernel_size[1] // 2) if padding == "same" else 0
        self.dropout = nn.Dropout2d(_check_dropout(dropout))
        self.conv = nn.Conv2d(in_channels, out_channels, self.kernel_size, padding=pad)
        self.norm = nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()
        self.activation = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.dim() == 3 and self.in_channels == 1:
            x = x.unsqueeze(1)
        _check_input(x, dims=(4,), size=self.in_channels, axis=1, name="C2")
        if self.padding == "valid" and (x.shape[2] < self.kernel_size[0] or x.shape[3] < self.kernel_size[1]):
            raise ValueError(f"C2 needs at least {self.kernel_size} (bins, frames); got shape {tuple(x.shape)}")
        return self.activation(self.norm(self.conv(self.dropout(x))))


def _pool(mode: str):
    check_choice(mode, "pooling mode", ("max", "avg"))
    return torch.amax if mode == "max" else torch.mean


class P1(nn.Module):
    """p1 (Figure 8; Section 4.3.1): pooling along one axis, ``axis="time"`` or ``"frequency"``.

    Non-overlapping windows of ``size`` (a trailing remainder is dropped); ``size=None`` pools the
    whole axis (global pooling, Section 5.2) and removes it. Works on frame sequences ``(batch,
    features, frames)`` (time only) and feature maps ``(batch, channels, bins, frames)``.
    Invariance: max pooling keeps *whether* a pattern fired in each window, not exactly where --
    small shifts along that axis stop mattering; the other axis keeps full resolution.
    Options: ``size`` (int or None), ``axis="time"``, ``mode="max"`` or ``"avg"``.
    Used by the Conv1d tagger and Conv2D voice chapters.
    """

    symbol = "p1"

    def __init__(self, size: int | None, *, axis: str = "time", mode: str = "max"):
        super().__init__()
        self.size = None if size is None else check_positive_int(size, "pool size")
        check_choice(axis, "axis", ("time", "frequency"))
        self.axis, self.mode, self._reduce = axis, mode, _pool(mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, dims=(3, 4), size=None, axis=1, name="P1")
        if x.dim() == 3 and self.axis == "frequency":
            raise ValueError("P1(axis='frequency') needs a feature map (batch, channels, bins, frames); "
                             f"got a frame sequence of shape {tuple(x.shape)}")
        dim = x.dim() - 1 if self.axis == "time" else 2
        if self.size is None:
            return self._reduce(x, dim=dim)
        n = x.shape[dim] // self.size
        if n == 0:
            raise ValueError(f"P1 cannot pool {x.shape[dim]} {self.axis} steps by {self.size}; shape {tuple(x.shape)}")
        x = x.narrow(dim, 0, n * self.size)
        x = x.unflatten(dim, (n, self.size))
        return self._reduce(x, dim=dim + 1)


class P2(nn.Module):
    """p2 (Figure 8; Section 4.3.1): 2-D pooling over (bins, frames) of a feature map.

    ``(batch, channels, bins, frames) -> (batch, channels, bins // h, frames // w)`` for
    ``size=(h, w)`` (non-overlapping, remainders dropped); ``size=None`` pools everything and
    returns ``(batch, channels)`` (global pooling, Section 5.2 and Figure 8). Invariance: small
    distortions in time and in frequency inside each window stop mattering; stacking c2-p2 lets
    later layers see the input at coarser scales (Section 5.7.2). Options: ``size=(2, 2)``,
    ``mode="max"`` or ``"avg"``. Used by the Conv2d tagger, CRNN and Conv2D voice chapters.
    """

    symbol = "p2"

    def __init__(self, size: tuple[int, int] | None = (2, 2), *, mode: str = "max"):
        super().__init__()
        if size is not None:
            size = tuple(size)
            if len(size) != 2:
                raise ValueError(f"size must be (bins, frames) or None; got {size!r}")
            size = (check_positive_int(size[0], "pool height"), check_positive_int(size[1], "pool width"))
        self.size, self.mode, self._reduce = size, mode, _pool(mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, dims=(4,), size=None, axis=1, name="P2")
        if self.size is None:
            return self._reduce(x, dim=(2, 3))
        if x.shape[2] < self.size[0] or x.shape[3] < self.size[1]:
            raise ValueError(f"P2 cannot pool (bins, frames) {tuple(x.shape[2:])} by {self.size}")
        pool = nn.functional.max_pool2d if self.mode == "max" else nn.functional.avg_pool2d
        return pool(x, self.size)


class _Recurrent(nn.Module):
    def __init__(self, in_features, hidden_size, *, cell, bidirectional, num_layers, dropout):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.num_layers = check_positive_int(num_layers, "num_layers")
        check_choice(cell, "cell", ("lstm", "gru", "rnn"))
        self.cell, self.bidirectional = cell, bool(bidirectional)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.rnn = rnn(in_features, hidden_size, num_layers=num_layers, batch_first=True,
                       bidirectional=bidirectional, dropout=_check_dropout(dropout) if num_layers > 1 else 0.0)
        self.out_features = hidden_size * (2 if bidirectional else 1)

    def _run(self, x: torch.Tensor):
        _check_input(x, dims=(3,), size=self.in_features, axis=1, name=type(self).__name__)
        return self.rnn(x.transpose(1, 2))


class R1(_Recurrent):
    """r1 (Figure 8; Sections 4.5-4.6, Eq. 8): a many-to-many recurrent layer.

    ``(batch, in_features, frames) -> (batch, out_features, frames)`` with ``out_features =
    hidden_size`` (or ``2 * hidden_size`` when bidirectional: forward and backward states are
    concatenated). Invariance: none along the feature axis (the input is fully connected, like
    d1); no shift invariance is built in -- it models how the sequence evolves, with a context
    as long as the input (both directions when bidirectional, Schuster & Paliwal 1997).
    Options: ``cell="lstm"`` ("gru", "rnn"), ``bidirectional=False``, ``num_layers=1``,
    ``dropout=0.0`` (between stacked layers). Used by the BRNN voice and CRNN chapters.
    """

    symbol = "r1"

    def __init__(self, in_features: int, hidden_size: int, *, cell: str = "lstm", bidirectional: bool = False,
                 num_layers: int = 1, dropout: float = 0.0):
        super().__init__(in_features, hidden_size, cell=cell, bidirectional=bidirectional,
                         num_layers=num_layers, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self._run(x)
        return y.transpose(1, 2)


class R2(_Recurrent):
    """r2 (Figure 8; Sections 4.6, 5.2): a many-to-one recurrent layer, one vector per sequence.

    ``(batch, in_features, frames) -> (batch, out_features)``: the hidden state after the last
    frame (for a bidirectional layer, the forward state after the last frame concatenated with
    the backward state after the first). It summarises a whole excerpt with trainable weights,
    so it suits the last layer of a time-invariant model (Choi et al. 2017's CRNN).
    Options: ``cell="gru"``, ``bidirectional=False``, ``num_layers=1``, ``dropout=0.0``.
    Used by the CRNN chapter.
    """

    symbol = "r2"

    def __init__(self, in_features: int, hidden_size: int, *, cell: str = "gru", bidirectional: bool = False,
                 num_layers: int = 1, dropout: float = 0.0):
        super().__init__(in_features, hidden_size, cell=cell, bidirectional=bidirectional,
                         num_layers=num_layers, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, state = self._run(x)
        h = state[0] if self.cell == "lstm" else state
        last = h[-2:] if self.bidirectional else h[-1:]
        return last.transpose(0, 1).reshape(x.shape[0], self.out_features)
