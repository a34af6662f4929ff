"""What a model is made of: its parameter count and its shape per block (Figure 8, Section 5.7).

Used by every model chapter and the layers chapter; :func:`widths_for_budget` sizes a model to a
parameter budget (the tagger budgets benchmark and the comparison page).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mirbook.runtime import evaluation_mode

__all__ = ["count_parameters", "layer_table", "widths_for_budget"]


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


def _scaled(widths: dict, factor: float) -> dict:
    """``widths`` with every int (alone or in a tuple) times ``factor``, rounded, at least 1."""
    def scale(n):
        return max(1, round(n * factor))
    return {name: tuple(scale(n) for n in value) if isinstance(value, (tuple, list)) else scale(value)
            for name, value in widths.items()}


def widths_for_budget(build: Callable[..., nn.Module], widths: dict, budget: int, *,
                      tolerance: float = 0.1) -> dict:
    """The layer widths, all scaled by one factor, that give ``build(**widths)`` about ``budget`` parameters.

    ``widths`` maps keyword options of ``build`` to a width or a tuple of widths (for example
    ``{"channels": (8, 16), "rnn_hidden": 112}``); every width is multiplied by the same factor and
    rounded, so the model keeps its shape and only grows or shrinks (as Choi et al. 2017 compare
    the taggers of Section 5.7.2 at equal parameter counts). The factor is found by bisection on
    a log scale (between 2**-10 and 2**10); the returned widths are those whose :func:`count_parameters` is nearest to
    ``budget``. A ValueError says when no factor comes within ``tolerance`` (a fraction of
    ``budget``). Book: the comparison page's parameter budgets.
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError(f"budget must be a positive int (parameters); got {budget!r}")
    if not widths:
        raise ValueError("widths must name at least one width option of build; got none")

    def count(factor):
        return count_parameters(build(**_scaled(widths, factor)))

    low, high = 1.0, 1.0  # widen a bracket by doubling (a huge factor would allocate a huge model)
    while count(low) > budget and low > 2 ** -10:
        low /= 2
    while count(high) < budget and high < 2 ** 10:
        high *= 2
    if count(low) > budget or count(high) < budget:
        raise ValueError(f"scaling {widths} by 2**-10 to 2**10 cannot reach {budget:,} parameters: "
                         f"from {count(low):,} to {count(high):,}")
    best = None
    for _ in range(60):
        middle = (low * high) ** 0.5
        n = count(middle)
        if best is None or abs(n - budget) < abs(best[0] - budget):
            best = (n, middle)
        if n == budget or high / low < 1 + 1e-6:
            break
        low, high = (middle, high) if n < budget else (low, middle)
    n, factor = best
    if abs(n - budget) > tolerance * budget:
        raise ValueError(f"the nearest width scaling of {widths} gives {n:,} parameters, more than "
                         f"{tolerance:.0%} away from {budget:,}")
    return _scaled(widths, factor)
