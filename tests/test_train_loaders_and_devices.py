"""Tests of how mirbook.train batches and places data: evaluation order and batch sizes, a shuffle
that depends on fit's seed only, empty or wrong data named in the error, device moves of the model
and of every batch tensor, non-tensor batch items, and mixed precision ignored on the CPU."""

import functools
import warnings
from typing import ClassVar

import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from mirbook.train import evaluate_loss, fit

CPU = {"device": "cpu", "progress": False}


def _line():
    torch.manual_seed(0)
    return torch.nn.Linear(1, 1)


def _square(m, batch):
    return m(batch[0]).pow(2).mean()


def test_evaluate_loss_visits_the_data_in_order_in_batches_of_64_by_default():
    seen, sizes = [], []

    def loss_fn(m, batch):
        seen.extend(batch[0][:, 0].tolist())
        sizes.append(len(batch[0]))
        return m(batch[0]).mean()

    evaluate_loss(_line(), TensorDataset(torch.arange(100.0)[:, None]), device="cpu", loss_fn=loss_fn)
    assert sizes == [64, 36]
    assert seen == list(range(100))


def test_fit_validates_in_batches_of_its_batch_size():
    sizes = []

    def loss_fn(m, batch):
        if not m.training:
            sizes.append(len(batch[0]))
        return _square(m, batch)

    fit(_line(), TensorDataset(torch.ones(8, 1)), TensorDataset(torch.ones(16, 1)), epochs=1, batch_size=8,
        loss_fn=loss_fn, **CPU)
    assert sizes == [8, 8]


def _record_then_draw(seen, draws, m, batch):
    """Record the batch's values, then take ``draws`` numbers from torch's global generator (what a
    model's dropout or augmentation does)."""
    seen.extend(batch[0][:, 0].tolist())
    torch.rand(draws)
    return _square(m, batch)


def test_the_batch_order_depends_on_the_seed_only_not_on_random_draws_in_the_loss():
    """Dropout or augmentation drawing from torch's global generator must not reorder later epochs."""
    orders = {0: [], 5: []}
    for draws, seen in orders.items():
        fit(_line(), TensorDataset(torch.arange(16.0)[:, None]), epochs=3, batch_size=4, seed=7,
            loss_fn=functools.partial(_record_then_draw, seen, draws), **CPU)
    assert sorted(orders[0][16:32]) == list(range(16)) and orders[0][:16] != orders[0][16:32]
    assert orders[5] == orders[0]


def test_empty_or_wrong_data_is_named_with_what_it_was_for():
    empty = TensorDataset(torch.zeros(0, 1))
    for data in (empty, DataLoader(empty, batch_size=4)):
        with pytest.raises(ValueError, match=r"^train_data is empty: no batch to train on$"):
            fit(_line(), data, loss_fn=_square, **CPU)
        with pytest.raises(ValueError, match=r"^data is empty: no batch to validate on$"):
            evaluate_loss(_line(), data, device="cpu", loss_fn=_square)
    with pytest.raises(ValueError, match=r"^train_data must be a torch Dataset or DataLoader; got list$"):
        fit(_line(), [1.0, 2.0], loss_fn=_square, **CPU)


class _MoveRecordingTensor(torch.Tensor):
    """A tensor that records the arguments of every ``.to`` call made on it."""

    moves: ClassVar[list] = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is torch.Tensor.to:
            cls.moves.append(args[1] if len(args) > 1 else (kwargs or {}).get("device"))
        return super().__torch_function__(func, types, args, kwargs or {})


class _MoveRecordingLine(torch.nn.Linear):
    """A Linear layer that records the device of every ``.to`` call made on it."""

    def __init__(self):
        torch.manual_seed(0)
        super().__init__(1, 1)
        self.moves = []

    def to(self, *args, **kwargs):
        self.moves.append(args[0] if args else kwargs.get("device"))
        return super().to(*args, **kwargs)


class _NamedExamples(Dataset):
    """Examples with a song name: the default collate turns the names into a list of str."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return torch.tensor([float(i)]), torch.tensor([2.0 * i]), f"song {i}"


def _recording_loader(batch_size):
    def collate(items):
        x, y, names = zip(*items)
        return [torch.stack(x).as_subclass(_MoveRecordingTensor),
                torch.stack(y).as_subclass(_MoveRecordingTensor), list(names)]

    return DataLoader(_NamedExamples(), batch_size=batch_size, collate_fn=collate)


def test_fit_moves_the_model_and_every_batch_tensor_to_the_device_and_passes_names_through():
    """3 training batches and 2 validation batches of two tensors each: ten moves, all to the CPU asked
    for; the names (a list of str) arrive in the loss untouched."""
    _MoveRecordingTensor.moves = []
    names = []

    def loss_fn(m, batch):
        names.extend(batch[2])
        x, y = (b.as_subclass(torch.Tensor) for b in batch[:2])
        return torch.nn.functional.mse_loss(m(x), y)

    model = _MoveRecordingLine()
    fit(model, _recording_loader(2), _recording_loader(3), epochs=1, loss_fn=loss_fn, **CPU)
    cpu = torch.device("cpu")
    assert model.moves and all(device == cpu for device in model.moves)
    assert _MoveRecordingTensor.moves == [cpu] * 10
    assert names == [f"song {i}" for i in range(6)] * 2  # a DataLoader given is used as it is


def test_evaluate_loss_moves_the_model_and_batches_to_the_device():
    _MoveRecordingTensor.moves = []
    model = _MoveRecordingLine()
    loss = evaluate_loss(model, _recording_loader(4), device="cpu",
                         loss_fn=lambda m, b: torch.nn.functional.mse_loss(m(b[0].as_subclass(torch.Tensor)),
                                                                           b[1].as_subclass(torch.Tensor)))
    assert model.moves == [torch.device("cpu")]
    assert _MoveRecordingTensor.moves == [torch.device("cpu")] * 4
    assert loss >= 0


def test_mixed_precision_is_ignored_on_the_cpu():
    """amp=True on the CPU trains bit for bit as amp=False (float16 autocast is CUDA only), silently."""
    data = TensorDataset(torch.randn(12, 1, generator=torch.Generator().manual_seed(3)))
    runs = []
    for amp in (False, True):
        model = _line()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = fit(model, data, data, epochs=2, batch_size=4, amp=amp, loss_fn=_square, **CPU)
        assert [str(w.message) for w in caught] == []
        runs.append((history["train_loss"], history["valid_loss"], model.weight.item(), model.bias.item()))
    assert runs[0] == runs[1]
