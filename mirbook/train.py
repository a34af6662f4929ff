"""One small, explicit training loop, and checkpoints (paper Section 2.2: training a network).

Every model chapter under ``book/models/`` trains with :func:`fit`: Adam (Kingma & Ba 2014),
mini-batches, the model's own ``loss(batch)`` (``mirbook.models``), validation after each epoch,
early stopping on the validation loss, optional mixed precision on CUDA, and a history of the
losses a chapter can plot. :func:`save_checkpoint` / :func:`load_checkpoint` store a model with
its configuration so it can be rebuilt without the code that created it (``mirbook.predict``).
"""

from __future__ import annotations

import copy
import io
import math
import os
import time
from pathlib import Path
from collections.abc import Callable

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from mirbook.checks import check_choice, check_positive_int
from mirbook.io import write_atomically
from mirbook.runtime import evaluation_mode, resolve_device, seed_everything

__all__ = ["fit", "evaluate_loss", "save_checkpoint", "load_checkpoint"]

CHECKPOINT_FORMAT = "mirbook-checkpoint-1"
#: The entries of a checkpoint's dict besides ``format``.
_CHECKPOINT_KEYS = ("model", "config", "state_dict", "history")


def _loader(data, *, batch_size: int, shuffle: bool, seed: int, name: str) -> DataLoader:
    if isinstance(data, DataLoader):
        loader = data
    elif isinstance(data, Dataset):
        if len(data) == 0:
            raise ValueError(f"{name} is empty: no batch to {'train' if shuffle else 'validate'} on")
        generator = torch.Generator().manual_seed(seed)
        loader = DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator)
    else:
        raise ValueError(f"{name} must be a torch Dataset or DataLoader; got {type(data).__name__}")
    if len(loader) == 0:
        raise ValueError(f"{name} is empty: no batch to {'train' if shuffle else 'validate'} on")
    return loader


def _to(batch, device: torch.device):
    return [b.to(device, non_blocking=True) if isinstance(b, torch.Tensor) else b for b in batch]


def evaluate_loss(model: torch.nn.Module, data, *, batch_size: int = 64, device="auto",
                  loss_fn: Callable | None = None) -> float:
    """Mean loss of ``model`` over ``data`` (Dataset or DataLoader) in evaluation mode, batch-size weighted.

    The validation loss of :func:`fit` (Section 2.2), and a quick check in every model chapter.
    """
    device = resolve_device(device)
    loader = _loader(data, batch_size=batch_size, shuffle=False, seed=0, name="data")
    loss_fn = loss_fn or (lambda m, b: m.loss(b))
    total, count = 0.0, 0
    with evaluation_mode(model.to(device)):
        for batch in loader:
            batch = _to(batch, device)
            total += loss_fn(model, batch).item() * len(batch[0])
            count += len(batch[0])
    return total / count


def fit(model: torch.nn.Module, train_data, valid_data=None, *, epochs: int = 10, batch_size: int = 32,
        lr: float = 1e-3, weight_decay: float = 0.0, patience: int | None = 5, device="auto", seed: int = 0,
        amp: bool = False, checkpoint: str | os.PathLike | None = None, loss_fn: Callable | None = None,
        progress: bool | str = True, schedule: str = "constant", first_epoch: int = 1) -> dict[str, list]:
    """Train ``model`` with Adam and return its history (Section 2.2; every model chapter).

    ``train_data`` / ``valid_data``: torch Datasets (shuffled / in order, ``batch_size``) or
    DataLoaders. The loss of a batch is ``model.loss(batch)`` unless ``loss_fn(model, batch)``
    is given. After each epoch the validation loss is computed; training stops when it has not
    improved for ``patience`` epochs (``None``: never), and the best weights are restored at the
    end (and written to ``checkpoint`` when a path is given). ``schedule="cosine"`` lowers the
    learning rate after every batch along half a cosine, from ``lr`` to 0 at the end of
    ``epochs`` (Loshchilov & Hutter's annealing without restarts): the last epochs take small
    steps, so the weights settle instead of jumping between minima; ``"constant"`` keeps
    ``lr``. ``amp=True`` uses float16 autocast on CUDA (ignored on CPU). One progress display per run:
    ``progress=True`` (or ``"log"``) prints the losses of at most about 25 epochs (first, last,
    every k-th), ``"bar"`` shows one bar whose caption carries the last epoch's losses, ``False``
    nothing. ``first_epoch`` numbers the epochs of the log and the history from that value, so a
    second call that continues training the same model continues the count.
    Returns ``{"epoch", "train_loss", "valid_loss", "seconds"}`` lists (``valid_loss`` holds NaN
    without validation data) plus ``"best_epoch"``. ``seed`` seeds the shuffling, dropout and
    augmentation of this run; the initial weights come from the global RNG when the model was
    built, so call ``mirbook.runtime.seed_everything`` before building it (as the chapters do)
    for a repeatable run.
    """
    epochs = check_positive_int(epochs, "epochs")
    patience = None if patience is None else check_positive_int(patience, "patience (or None)")
    check_choice(schedule, "schedule", ("constant", "cosine"))
    check_choice(progress, "progress", (True, False, "log", "bar"))
    first_epoch = check_positive_int(first_epoch, "first_epoch")
    seed_everything(seed)
    device = resolve_device(device)
    train_loader = _loader(train_data, batch_size=batch_size, shuffle=True, seed=seed, name="train_data")
    valid_loader = None if valid_data is None else \
        _loader(valid_data, batch_size=batch_size, shuffle=False, seed=seed, name="valid_data")
    loss_fn = loss_fn or (lambda m, b: m.loss(b))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * len(train_loader)) \
        if schedule == "cosine" else None
    use_amp = amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    history = {"epoch": [], "train_loss": [], "valid_loss": [], "seconds": [], "best_epoch": 0}
    best, best_state, stale = math.inf, None, 0
    # Either a log of at most about 25 epoch lines or one bar updated at most once a second, never
    # both: a notebook that prints a line per epoch for hundreds of short epochs floods the
    # kernel's output channel (nbval then times out waiting for the cell's output).
    report_every = max(1, math.ceil(epochs / 25))
    last_epoch = first_epoch + epochs - 1
    bar = tqdm(total=epochs * len(train_loader), unit="batch", mininterval=1.0, disable=progress != "bar")
    try:
        for epoch in range(first_epoch, last_epoch + 1):
            start, total, count = time.perf_counter(), 0.0, 0
            model.train()
            bar.set_description(f"epoch {epoch}/{last_epoch}", refresh=False)
            for batch in train_loader:
                batch = _to(batch, device)
                with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                    loss = loss_fn(model, batch)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                if scheduler is not None:
                    scheduler.step()
                total, count = total + loss.item() * len(batch[0]), count + len(batch[0])
                bar.set_postfix_str(f"loss {total / count:.4f}", refresh=False)
                bar.update()
            valid = evaluate_loss(model, valid_loader, batch_size=batch_size, device=device, loss_fn=loss_fn) \
                if valid_loader is not None else math.nan
            for key, value in zip(("epoch", "train_loss", "valid_loss", "seconds"),
                                  (epoch, total / count, valid, time.perf_counter() - start)):
                history[key].append(value)
            score = valid if valid_loader is not None else total / count
            if score < best:
                best, best_state, stale, history["best_epoch"] = score, copy.deepcopy(model.state_dict()), 0, epoch
                if checkpoint is not None:
                    save_checkpoint(checkpoint, model, history=history)
            else:
                stale += 1
            stop = patience is not None and stale >= patience
            losses = f"train loss {total / count:.4f}, valid loss {valid:.4f}"
            bar.set_postfix_str(losses, refresh=False)
            index = epoch - first_epoch + 1
            if progress in (True, "log") and (index % report_every == 0 or index in (1, epochs) or stop):
                print(f"epoch {epoch}: {losses}" + (" (early stop)" if stop else ""), flush=True)
            if stop:
                break
    finally:
        bar.close()
    if best_state is None:
        raise RuntimeError("the loss was never finite (NaN or inf from the first epoch on); try a lower lr")
    model.load_state_dict(best_state)
    return history


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, *, history: dict | None = None) -> Path:
    """Write ``model`` (registry name, configuration, weights) and ``history`` to ``path`` atomically.

    The file is written to a temporary name in the same folder and moved into place with
    ``os.replace``, so an interrupted run never leaves a half-written checkpoint.
    """
    from mirbook.models import MODELS

    name = next((key for key, cls in MODELS.items() if type(model) is cls), None)
    if name is None:
        raise ValueError(f"save_checkpoint stores mirbook.models.MODELS models; got {type(model).__name__}")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {"format": CHECKPOINT_FORMAT, "model": name, "config": model.config, "state_dict": state,
               "history": history or {}}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return write_atomically(path, buffer.getvalue())


def load_checkpoint(path: str | os.PathLike, *, device="cpu") -> tuple[torch.nn.Module, dict]:
    """Rebuild the model saved by :func:`save_checkpoint`; return ``(model in eval mode, history)``.

    A file that is not such a checkpoint (empty, text, another program's torch file, one missing
    an entry) raises a ValueError naming the file and what a checkpoint holds.
    """
    from mirbook.models import MODELS

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint file at {str(path)!r}")
    holds = (f"a mirbook checkpoint is a torch file, written by save_checkpoint, of a dict with "
             f"{_CHECKPOINT_KEYS} and format {CHECKPOINT_FORMAT!r}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises EOFError, UnpicklingError, KeyError, RuntimeError... on other files
        raise ValueError(f"{str(path)!r} cannot be read as a checkpoint ({type(err).__name__}: {err}); {holds}") from err
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{str(path)!r} is not a mirbook checkpoint (expected format {CHECKPOINT_FORMAT!r}); {holds}")
    missing = [key for key in _CHECKPOINT_KEYS if key not in payload]
    if missing:
        raise ValueError(f"{str(path)!r} lacks the checkpoint entries {missing}; {holds}")
    if payload["model"] not in MODELS:
        raise ValueError(f"checkpoint names unknown model {payload['model']!r}; known: {sorted(MODELS)}")
    if not isinstance(payload["config"], dict):
        raise ValueError(f"{str(path)!r} holds a config of type {type(payload['config']).__name__}; {holds}")
    try:
        model = MODELS[payload["model"]].from_config(payload["config"])
        model.load_state_dict(payload["state_dict"])
    except (ValueError, TypeError, RuntimeError) as err:  # a config or weights that do not fit the model
        raise ValueError(f"{str(path)!r} does not rebuild a {payload['model']!r} model ({err}); {holds}") from err
    return model.to(resolve_device(device)).eval(), payload["history"]
