"""A model chapter's records reproduce: a short deep chroma configuration, executed twice in fresh kernels
by benchmarks/model_comparison.py's runner, gives the same weights and metrics (comparison page)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import model_comparison as mc  # noqa: E402

# The deep chroma chapter cut to a few songs and real pieces (two held out: a paired interval needs two) and
# one epoch: every cell runs, the bars are not met.
SHORT = {"EPOCHS": 1, "N_SONGS": {"train": 2, "valid": 1, "test": 2},
         "OUT_OF_WORLD": {"train": 1, "valid": 2, "test": 2}, "SEED": 0}


def test_a_short_chapter_configuration_gives_the_same_metrics_in_two_fresh_kernels(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # the kernels inherit it: the CPU path, as the records
    path = mc.CHAPTERS / "deep_chroma.ipynb"
    first, second = (mc.execute_chapter(path, SHORT, timeout=600) for _ in range(2))
    assert first["error"] is None or first["error"].startswith("AssertionError"), first["error"]  # bars only
    if first["package_sha256"] != second["package_sha256"]:
        pytest.skip("mirbook's code changed between the two runs (a checkout being edited)")
    assert first["torch_threads"] == second["torch_threads"] == 1  # the chapter pins one thread on CPU
    assert first["state_sha256"] == second["state_sha256"]  # the same weights, bit for bit
    assert first["metrics"].keys() == second["metrics"].keys() and first["metrics"]
    for name, value in first["metrics"].items():
        assert second["metrics"][name] == pytest.approx(value, abs=1e-6), name
    assert first["items"] == second["items"] and first["items"]  # every song's part, the same
