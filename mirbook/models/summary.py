"""What a model is made of: its parameter count and its shape per block (Figure 8, Section 5.7).

Used by every model chapter and the layers chapter.
"""

from __future__ import annotations

import torch
from torch import nn

from mirbook.runtime import evaluation_mode

__all__ = ["count_parameters", "layer_table"]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (the size the papers quote; book: every model chapter)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def layer_table(model: nn.Module, x: torch.Tensor) -> str:
    """A printable table of what each Figure 8 block of ``model`` returns for the batch ``x``.

    ``x`` is a representation batch ``(batch, bins, frames)``. It runs through ``model`` in
    evaluation mode, with a forward hook on every submodule whose ``symbol`` is set; the first
    row is the input's shape, then one row per block: symbol, module name, output shape and
    number of parameters. Used by the model chapters (``print(layer_table(model, x))``).
    """
    rows = []

    def record(name):
        def hook(module, inputs, output):
            n = sum(p.numel() for p in module.parameters())
            rows.append((module.symbol, name, str(tuple(output.shape)), f"{n:,}"))
        return hook

    hooks = [m.register_forward_hook(record(name)) for name, m in model.named_modules() if getattr(m, "symbol", "")]
    try:
        with evaluation_mode(model):
            model(x)
    finally:
        for h in hooks:
            h.remove()
    table = [("block", "module", "output shape", "parameters"), ("input", "", str(tuple(x.shape)), ""), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d:>{widths[3]}}".rstrip() for a, b, c, d in table]
    return "\n".join(lines)
