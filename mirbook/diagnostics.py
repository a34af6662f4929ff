"""How much gradient reaches each frame or each layer (paper Sections 2.2, 4.5 and 5.3).

Back-propagation multiplies the gradient by one Jacobian per layer and, in a recurrent layer,
by one per time step, so what reaches early layers or early frames can shrink or grow
geometrically. These two functions measure it: the norm of the loss gradient with respect to
the input at every frame, and with respect to the output of every layer of a stack. Both use
``torch.autograd.grad`` and leave the parameters' ``.grad`` untouched; the caller chooses
training or evaluation mode (batch normalisation behaves differently in each).
Book: "Gradients through depth and time".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = ["gradient_norms_per_frame", "gradient_norms_per_layer"]


def _check_loss(loss: torch.Tensor) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"loss_fn must return a scalar tensor; got {shape}")
    if not loss.requires_grad:
        raise ValueError("loss_fn returned a loss that does not depend on the input (no gradient to measure)")
    return loss


def gradient_norms_per_frame(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                             loss_fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Norm of the loss gradient with respect to the input at each frame (Sections 4.5, 2.2).

    ``x`` is a frame sequence ``(batch, features, frames)``; the loss is ``loss_fn(model(x))``,
    a scalar. Returns ``(frames,)``: entry ``t`` is the Euclidean norm of ``dJ / dx[:, :, t]``
    over the batch and the features, i.e. how strongly frame ``t`` can still move the loss.
    For a recurrent layer, the ratio of the first entry to the last shows whether the gradient
    vanishes along time. Chapter: ``book/gradients.ipynb``.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or not x.is_floating_point() or x.numel() == 0:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a non-empty float tensor (batch, features, frames); got {shape}")
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(_check_loss(loss_fn(model(x))), x)
    return grad.pow(2).sum(dim=(0, 1)).sqrt()


def gradient_norms_per_layer(layers: Sequence[nn.Module], x: torch.Tensor,
                             loss_fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Norm of the loss gradient with respect to each layer's output (Sections 2.2, 5.3).

    ``layers`` are applied in turn to ``x`` (an ``nn.Sequential`` works); the loss is
    ``loss_fn`` of the last output. Returns ``(len(layers),)``: entry ``l`` is the Euclidean
    norm of ``dJ / dh_l`` over all elements, where ``h_l`` is the output of ``layers[l]`` (the
    last entry is the gradient at the network's output). Plotted against ``l`` it shows how the
    gradient changes on its way back to the first layer. Chapter: ``book/gradients.ipynb``.
    """
    layers = list(layers)
    if not layers:
        raise ValueError("layers must hold at least one module; got none")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.numel() == 0:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a non-empty float tensor; got {shape}")
    outputs, h = [], x.detach().requires_grad_(True)  # every output then has a gradient
    for layer in layers:
        h = layer(h)
        outputs.append(h)
    grads = torch.autograd.grad(_check_loss(loss_fn(h)), outputs, allow_unused=True)
    if any(g is None for g in grads):
        unused = [i for i, g in enumerate(grads) if g is None]
        raise ValueError(f"the loss does not depend on the outputs of layers {unused}")
    return torch.stack([g.norm() for g in grads])
