"""mirbook.runtime and mirbook.checks: device choice, seeding and edge checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mirbook.checks import as_waveform_batch, check_sample_rate
from mirbook.runtime import describe_device, median_seconds, resolve_device, seed_everything


def test_auto_device_matches_cuda_availability():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    assert describe_device("cpu").startswith("cpu")


@pytest.mark.parametrize("bad", ["gpu", 3, None])
def test_bad_device_is_refused(bad):
    with pytest.raises(ValueError, match="device must be"):
        resolve_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without CUDA")
def test_cuda_without_a_gpu_is_refused():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")


def test_seed_everything_repeats_random_draws():
    seed_everything(3)
    a = (np.random.rand(), torch.rand(2))
    seed_everything(3)
    b = (np.random.rand(), torch.rand(2))
    assert a[0] == b[0] and torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)


def test_waveform_batch_accepts_mono_and_numpy():
    assert as_waveform_batch(np.zeros(100, dtype=np.float32)).shape == (1, 100)
    assert as_waveform_batch(torch.zeros(3, 100)).shape == (3, 100)


@pytest.mark.parametrize(
    "bad, message",
    [
        (torch.zeros(2, 2, 100), "mono"),
        (torch.zeros(100, dtype=torch.int16), "floating point"),
        (torch.zeros(1, 10), "too short"),
        (torch.tensor([0.0, float("nan")] * 50), "finite"),
        (torch.zeros(0, 100), "empty"),
        ([0.0] * 100, "torch.Tensor or numpy"),
    ],
)
def test_bad_waveforms_are_refused_with_a_clear_message(bad, message):
    with pytest.raises(ValueError, match=message):
        as_waveform_batch(bad, min_samples=20)


def test_sample_rate_checks():
    assert check_sample_rate(22050) == 22050
    with pytest.raises(ValueError, match="positive integer"):
        check_sample_rate(22050.0)
    with pytest.raises(ValueError, match="must be 16000 Hz"):
        check_sample_rate(22050, expected=16000)


def test_median_seconds_calls_warmup_plus_runs_times_and_ignores_the_warmup(monkeypatch):
    import mirbook.runtime

    durations = iter([10.0, 3.0, 1.0, 2.0])  # the warm-up is slow; the median of the rest is 2
    clock = {"now": 0.0}
    calls = []

    def fn():
        calls.append(1)
        clock["now"] += next(durations)

    monkeypatch.setattr(mirbook.runtime.time, "perf_counter", lambda: clock["now"])
    assert median_seconds(fn, runs=3, warmup=1) == 2.0
    assert len(calls) == 4
    with pytest.raises(ValueError, match="runs >= 1"):
        median_seconds(fn, runs=0)


def test_describe_device_tells_a_cpu_reader_what_to_do(monkeypatch):
    assert "PRESET = 'paper' needs a GPU" in describe_device("cpu")
    monkeypatch.setitem(__import__("sys").modules, "google.colab", object())
    assert "Runtime > Change runtime type > GPU" in describe_device("cpu")
