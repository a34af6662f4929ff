"""Tests of mirbook.layers: the Figure 8 blocks (shapes, what each computes, overfitting, errors)."""

import pytest
import torch
from torch import nn

from mirbook.layers import C1, C2, D1, D2, P1, P2, R1, R2


@pytest.mark.parametrize("frames", [1, 7, 40])
def test_d1_maps_every_frame(frames):
    layer = D1(10, 4, activation=None)
    x = torch.randn(3, 10, frames)
    y = layer(x)
    assert y.shape == (3, 4, frames)
    # frame t of the output depends on frame t of the input only
    expected = layer.linear.weight[:, :, 0] @ x[0, :, -1] + layer.linear.bias
    torch.testing.assert_close(y[0, :, -1], expected)
    assert D1(10, 4)(torch.randn(3, 10)).shape == (3, 4)


@pytest.mark.parametrize("frames", [5, 9, 30])
def test_d2_is_a_dense_layer_on_each_flattened_window(frames):
    layer = D2(6, 4, context=5, activation=None)
    x = torch.randn(2, 6, frames)
    y = layer(x)
    assert y.shape == (2, 4, frames - 4)
    dense = layer.linear.weight.reshape(4, -1)  # (out, bins * context), bins major
    window = x[1, :, 0:5].reshape(-1)
    torch.testing.assert_close(y[1, :, 0], dense @ window + layer.linear.bias)
    assert D2(6, 4, context=5, padding="same")(x).shape == (2, 4, frames)


def test_c1_with_one_frame_kernel_equals_d1():
    c1, d1 = C1(8, 5, kernel_size=1, activation="relu"), D1(8, 5, activation="relu")
    d1.load_state_dict(c1.state_dict())
    x = torch.randn(2, 8, 13)
    torch.testing.assert_close(c1(x), d1(x))
    assert C1(8, 5, kernel_size=8)(x).shape == (2, 5, 6)
    assert C1(8, 5, kernel_size=3, padding="same")(x).shape == (2, 5, 13)


@pytest.mark.parametrize("shape", [(2, 20, 11), (2, 1, 20, 11)])
def test_c2_shapes_and_single_channel_input(shape):
    x = torch.randn(*shape)
    assert C2(1, 6)(x).shape == (2, 6, 20, 11)
    assert C2(1, 6, padding="valid", kernel_size=(3, 5))(x).shape == (2, 6, 18, 7)


def test_c2_is_equivariant_to_pitch_shift():
    """A pattern moved up by k bins gives the same feature map moved by k bins (weight sharing)."""
    layer = C2(1, 3, padding="valid", activation=None)
    x = torch.zeros(1, 1, 30, 9)
    x[0, 0, 5:8, 3:6] = torch.randn(3, 3)
    shifted = torch.roll(x, 7, dims=2)
    torch.testing.assert_close(torch.roll(layer(x), 7, dims=2)[:, :, 8:20], layer(shifted)[:, :, 8:20])


def test_p1_pools_one_axis_and_global():
    x = torch.arange(2 * 3 * 10, dtype=torch.float32).reshape(2, 3, 10)
    y = P1(4)(x)
    assert y.shape == (2, 3, 2)
    torch.testing.assert_close(y[0, 0], torch.tensor([3.0, 7.0]))  # remainder (frames 8, 9) dropped
    assert P1(None)(x).shape == (2, 3)
    fmap = torch.randn(2, 4, 9, 10)
    assert P1(3, axis="frequency")(fmap).shape == (2, 4, 3, 10)
    assert P1(2, axis="time", mode="avg")(fmap).shape == (2, 4, 9, 5)
    torch.testing.assert_close(P1(2, mode="avg")(fmap)[..., 0], fmap[..., :2].mean(-1))


def test_p2_pools_both_axes_and_global():
    fmap = torch.randn(2, 4, 9, 10)
    assert P2((3, 2))(fmap).shape == (2, 4, 3, 5)
    torch.testing.assert_close(P2(None)(fmap), fmap.amax(dim=(2, 3)))
    torch.testing.assert_close(P2((3, 2))(fmap)[0, 0, 0, 0], fmap[0, 0, :3, :2].max())


@pytest.mark.parametrize("frames", [1, 12])
def test_r1_and_r2_shapes(frames):
    x = torch.randn(2, 7, frames)
    assert R1(7, 5)(x).shape == (2, 5, frames)
    assert R1(7, 5, bidirectional=True, cell="gru")(x).shape == (2, 10, frames)
    assert R2(7, 5)(x).shape == (2, 5)
    assert R2(7, 5, bidirectional=True, cell="lstm", num_layers=2)(x).shape == (2, 10)


def test_r2_returns_the_states_that_r1_emits_at_the_ends():
    """Many-to-one = the last forward state and the first-frame backward state of many-to-many."""
    r1, r2 = R1(4, 3, cell="gru", bidirectional=True), R2(4, 3, cell="gru", bidirectional=True)
    r2.load_state_dict(r1.state_dict())
    x = torch.randn(2, 4, 9)
    seq = r1(x)
    torch.testing.assert_close(r2(x), torch.cat([seq[:, :3, -1], seq[:, 3:, 0]], dim=1))


def _fits(network: nn.Module, x: torch.Tensor, steps: int = 60) -> float:
    """Ratio last/first MSE loss when fitting random targets for 8 examples with Adam."""
    torch.manual_seed(0)
    with torch.no_grad():
        network(x)  # initialise lazy layers
    target = torch.randn(x.shape[0], 1)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = nn.functional.mse_loss(network(x), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses[-1] / losses[0]


@pytest.mark.parametrize("name", ["d1", "d2", "c1", "c2", "p1", "p2", "r1", "r2"])
def test_every_block_overfits_a_tiny_batch(name):
    """Each block, with a linear read-out, fits 8 random targets: the loss falls at least 20-fold in 60 steps."""
    torch.manual_seed(0)
    x = torch.randn(8, 12, 16)
    body = {
        "d1": [D1(12, 16)],
        "d2": [D2(12, 16, context=5)],
        "c1": [C1(12, 16, kernel_size=4)],
        "c2": [C2(1, 4)],
        "p1": [C1(12, 16, kernel_size=3), P1(2)],
        "p2": [C2(1, 4), P2((2, 2))],
        "r1": [R1(12, 16, bidirectional=True)],
        "r2": [R2(12, 16)],
    }[name]
    network = nn.Sequential(*body, nn.Flatten(), nn.LazyLinear(1))
    assert _fits(network, x) < 0.05


@pytest.mark.parametrize(
    "layer, x, message",
    [
        (D1(10, 4), torch.randn(2, 9, 5), "10 features"),
        (D1(10, 4), torch.randn(2, 10, 5, 1), "shape"),
        (D2(10, 4, context=5), torch.randn(2, 10, 3), "at least 5 frames"),
        (C2(1, 4), torch.randn(2, 3, 10, 10), "1 features"),
        (C2(1, 4, padding="valid"), torch.randn(2, 2, 10), "at least"),
        (P1(4), torch.randn(2, 3, 3), "cannot pool"),
        (P1(2, axis="frequency"), torch.randn(2, 3, 8), "feature map"),
        (P2((2, 2)), torch.randn(2, 3, 8), "shape"),
        (R1(7, 5), torch.randn(2, 6, 10), "7 features"),
        (R2(7, 5), torch.randn(0, 7, 10), "empty"),
    ],
)
def test_wrong_inputs_raise_clear_errors(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer(x)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="activation"):
        D1(3, 4, activation="swish")
    with pytest.raises(ValueError, match="odd kernel"):
        C2(1, 4, kernel_size=(2, 3), padding="same")
    with pytest.raises(ValueError, match="dropout"):
        C1(3, 4, dropout=1.0)
    with pytest.raises(ValueError, match="cell"):
        R1(3, 4, cell="transformer")
    with pytest.raises(ValueError, match="axis"):
        P1(2, axis="channels")
    with pytest.raises(ValueError, match="mode"):
        P2((2, 2), mode="median")
    with pytest.raises(ValueError, match="padding must be one of"):
        C1(3, 4, padding="causal")
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        D1(True, 4)
    with pytest.raises(ValueError, match="pool size must be a positive int"):
        P1(0)
