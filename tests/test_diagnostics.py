"""mirbook.diagnostics: gradient norms per frame and per layer against hand computations."""

import math

import pytest
import torch
from torch import nn

from mirbook.diagnostics import gradient_norms_per_frame, gradient_norms_per_layer
from mirbook.layers import R1


class LinearRecurrence(nn.Module):
    """h_t = a * h_{t-1} + x_t on every feature; output h_T, so dh_T / dx_t = a ** (T - t)."""

    def __init__(self, a):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(float(a)))

    def forward(self, x):
        h = torch.zeros_like(x[:, :, 0])
        for t in range(x.shape[2]):
            h = self.a * h + x[:, :, t]
        return h


class Scale(nn.Module):
    def __init__(self, factor, residual=False):
        super().__init__()
        self.factor, self.residual = factor, residual

    def forward(self, x):
        return x + self.factor * x if self.residual else self.factor * x


class Detached(nn.Module):
    """A linear layer that cuts the graph before it: the loss cannot reach earlier layers."""

    def __init__(self, width):
        super().__init__()
        self.linear = nn.Linear(width, width)

    def forward(self, x):
        return self.linear(x.detach())


def test_per_frame_decays_as_the_recurrence_weight_to_the_distance():
    batch, features, frames, a = 3, 2, 5, 0.5
    x = torch.randn(batch, features, frames)
    norms = gradient_norms_per_frame(LinearRecurrence(a), x, lambda h: h.sum())
    # dJ/dx[b, f, t] = a ** (T - 1 - t) for each of the batch * features entries
    expected = [math.sqrt(batch * features) * a ** (frames - 1 - t) for t in range(frames)]
    assert norms.shape == (frames,)
    assert norms.tolist() == pytest.approx(expected, rel=1e-6)


def test_per_frame_of_a_weighted_sum_is_the_weight_norm():
    weights = torch.tensor([[1.0, 0.0, -2.0], [3.0, 4.0, 0.0]])  # (features, frames)
    x = torch.randn(4, 2, 3)
    norms = gradient_norms_per_frame(lambda v: (v * weights).sum(dim=(1, 2)), x, lambda y: y.mean())
    # the mean over 4 examples: each entry's gradient is weight / 4, summed over 4 examples
    expected = [math.sqrt(4 * (1 + 9)) / 4, math.sqrt(4 * 16) / 4, math.sqrt(4 * 4) / 4]
    assert norms.tolist() == pytest.approx(expected, rel=1e-6)


def test_per_frame_leaves_parameter_gradients_untouched():
    rnn = R1(3, 4, cell="rnn")
    norms = gradient_norms_per_frame(rnn, torch.randn(2, 3, 6), lambda y: y[:, :, -1].sum())
    assert norms.shape == (6,) and bool((norms > 0).all())
    assert all(p.grad is None for p in rnn.parameters())


def test_per_frame_of_a_causal_recurrence_is_zero_after_the_read_frame():
    norms = gradient_norms_per_frame(R1(3, 4, cell="gru"), torch.randn(2, 3, 6), lambda y: y[:, :, 2].sum())
    assert bool((norms[:3] > 0).all()) and norms[3:].tolist() == [0.0, 0.0, 0.0]


def test_per_layer_multiplies_the_later_factors():
    x = torch.randn(2, 5)
    layers = [Scale(2.0), Scale(3.0), Scale(0.5)]
    norms = gradient_norms_per_layer(layers, x, lambda y: y.sum())
    # dJ/dh_l is the product of the factors after layer l, on each of the 10 elements
    assert norms.tolist() == pytest.approx([math.sqrt(10) * 1.5, math.sqrt(10) * 0.5, math.sqrt(10)], rel=1e-6)


def test_per_layer_through_identity_connections():
    layers = [Scale(0.1, residual=True) for _ in range(4)]
    norms = gradient_norms_per_layer(nn.Sequential(*layers), torch.randn(3, 2), lambda y: y.sum())
    # each residual block h + 0.1 h passes back a factor 1.1
    assert norms.tolist() == pytest.approx([math.sqrt(6) * 1.1 ** k for k in (3, 2, 1, 0)], rel=1e-6)


def test_per_layer_works_on_parameter_free_first_layers_and_keeps_grads_empty():
    linear = nn.Linear(4, 1)
    norms = gradient_norms_per_layer([nn.ReLU(), linear], torch.randn(5, 4), lambda y: y.sum())
    assert norms[1].item() == pytest.approx(math.sqrt(5))
    assert linear.weight.grad is None


@pytest.mark.parametrize("x", [torch.randn(2, 3), torch.zeros(0, 2, 3), torch.ones(2, 3, 4, dtype=torch.long)])
def test_per_frame_refuses_inputs_that_are_not_frame_sequences(x):
    with pytest.raises(ValueError, match="batch, features, frames"):
        gradient_norms_per_frame(nn.Identity(), x, lambda y: y.float().sum())


def test_refuses_a_loss_that_is_not_a_scalar_or_ignores_the_input():
    x = torch.randn(2, 3, 4)
    with pytest.raises(ValueError, match="scalar"):
        gradient_norms_per_frame(nn.Identity(), x, lambda y: y.sum(dim=0))
    with pytest.raises(ValueError, match="does not depend"):
        gradient_norms_per_frame(nn.Identity(), x, lambda y: torch.tensor(1.0))


def test_per_layer_refuses_no_layers_and_layers_the_loss_skips():
    with pytest.raises(ValueError, match="at least one"):
        gradient_norms_per_layer([], torch.randn(2, 3), lambda y: y.sum())
    with pytest.raises(ValueError, match="non-empty float"):
        gradient_norms_per_layer([nn.Identity()], torch.zeros(0, 3), lambda y: y.sum())
    with pytest.raises(ValueError, match=r"layers \[0\]"):
        gradient_norms_per_layer([nn.Linear(3, 3), Detached(3)], torch.randn(2, 3), lambda y: y.sum())
