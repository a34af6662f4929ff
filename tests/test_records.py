"""mirbook.records: the GPU measurements shipped as package data (model chapters)."""

import json
from pathlib import Path

import pytest

from mirbook.models import MODELS
from mirbook.records import gpu_timing, gpu_timing_sentence

RESULTS = Path(__file__).resolve().parents[1] / "mirbook" / "results" / "gpu_presets.json"


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_has_a_gpu_timing_read_from_the_file(model):
    runs = {r["model"]: r for r in json.loads(RESULTS.read_text())["runs"]}
    timing = gpu_timing(model)
    assert timing["epoch_seconds"] == runs[model]["epoch_seconds"]
    assert timing["peak_memory_mib"] == runs[model]["peak_memory_mib"]
    sentence = gpu_timing_sentence(model)
    assert f"{runs[model]['epoch_seconds']:.2f} s per epoch" in sentence
    assert f"{runs[model]['peak_memory_mib']:,.0f} MiB" in sentence


def test_unknown_model_names_the_measured_ones():
    with pytest.raises(ValueError, match="deep_chroma"):
        gpu_timing("resnet")
