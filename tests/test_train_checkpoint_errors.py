"""Tests of what mirbook.train's checkpoint functions say about files that are not checkpoints: each
error names the file and what was expected and found, loading never runs code from the file, and
the loaded model is moved to the device asked for."""

import os
import re

import pytest
import torch

from mirbook.models import MODELS
from mirbook.train import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint


def _payload(**changes):
    payload = {"format": CHECKPOINT_FORMAT, "model": "brnn_voice", "config": {}, "state_dict": {},
               "history": {}}
    return {**payload, **changes}


class _MakesAFolder:
    """Pickles as a call of os.makedirs: unpickling it without weights_only runs that call."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.makedirs, (self.path,)


def test_loading_never_runs_code_stored_in_the_file(tmp_path):
    marker = tmp_path / "made by the file"
    path = tmp_path / "trap.pt"
    torch.save(_payload(history=_MakesAFolder(marker)), path)
    with pytest.raises(ValueError, match="cannot be read as a checkpoint") as err:
        load_checkpoint(path)
    assert not marker.exists()
    cause = err.value.__cause__
    assert cause is not None and f"({type(cause).__name__}: " in str(err.value)
    assert repr(str(path)) in str(err.value)


def test_a_missing_file_is_named(tmp_path):
    path = tmp_path / "nowhere" / "model.pt"
    with pytest.raises(ValueError, match="^no checkpoint file at " + re.escape(repr(str(path))) + "$"):
        load_checkpoint(path)


def test_an_unknown_model_name_is_reported_with_the_known_ones(tmp_path):
    torch.save(_payload(model="no_such_model"), tmp_path / "unknown.pt")
    with pytest.raises(ValueError, match=r"unknown model 'no_such_model'; known: \[.*'brnn_voice'"):
        load_checkpoint(tmp_path / "unknown.pt")


def test_a_config_that_is_not_a_dict_is_reported_with_its_type(tmp_path):
    path = tmp_path / "listconfig.pt"
    torch.save(_payload(config=[1, 2]), path)
    with pytest.raises(ValueError, match="^" + re.escape(repr(str(path))) + " holds a config of type list; "):
        load_checkpoint(path)


def test_saving_a_model_outside_the_registry_names_its_class(tmp_path):
    with pytest.raises(ValueError, match=r"MODELS models; got Linear$"):
        save_checkpoint(tmp_path / "x.pt", torch.nn.Linear(2, 2))


def test_load_checkpoint_moves_the_model_to_the_device_asked_for(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = MODELS["brnn_voice"](hidden=(4,), deltas=False)
    path = save_checkpoint(tmp_path / "small.pt", model)
    moves, original = [], type(model).to

    def recording_to(self, *args, **kwargs):
        moves.append(args[0] if args else kwargs.get("device"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(model), "to", recording_to)
    loaded, _ = load_checkpoint(path, device="cpu")
    assert moves == [torch.device("cpu")] and not loaded.training
