"""mirbook.records: the measurements shipped as package data (GPU timings for the model chapters,
the comparison records and their provenance for the comparison page)."""

import base64
import hashlib
import json
import platform
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

import mirbook
from mirbook import records
from mirbook.models import MODELS
from mirbook.records import gpu_timing, gpu_timing_sentence

RESULTS = Path(__file__).resolve().parents[1] / "mirbook" / "results" / "gpu_presets.json"
COMPARISON = RESULTS.with_name("model_comparison.json")


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


def _tree(root, files):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_package_hash_is_the_documented_digest_of_sorted_paths_and_contents(tmp_path):
    root = _tree(tmp_path, {"b.py": "y = 2\n", "a.py": "x = 1\n", "sub/c.py": "z = 3\n",
                            "results/r.json": "{}", "notes.txt": "not code"})
    lines = "".join(f"{name}\0{hashlib.sha256(text.encode()).hexdigest()}\n"
                    for name, text in (("a.py", "x = 1\n"), ("b.py", "y = 2\n"), ("sub/c.py", "z = 3\n")))
    assert records.package_sha256(root) == hashlib.sha256(lines.encode()).hexdigest()


def test_package_hash_changes_with_any_code_file_and_only_with_code(tmp_path):
    root = _tree(tmp_path, {"a.py": "x = 1\n", "sub/c.py": "z = 3\n", "results/r.json": "{}"})
    before = records.package_sha256(root)
    (root / "results" / "r.json").write_text('{"runs": {}}')
    assert records.package_sha256(root) == before  # data files are not code
    (root / "sub" / "c.py").write_text("z = 4\n")
    edited = records.package_sha256(root)
    (root / "sub" / "c.py").rename(root / "sub" / "d.py")
    renamed = records.package_sha256(root)
    (root / "e.py").write_text("")
    added = records.package_sha256(root)
    assert len({before, edited, renamed, added}) == 4


def test_package_hash_does_not_depend_on_the_order_files_are_listed(tmp_path, monkeypatch):
    root = _tree(tmp_path, {f"m{i}.py": f"v = {i}\n" for i in range(5)})
    expected = records.package_sha256(root)
    listing = Path.rglob
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: reversed(list(listing(self, pattern))))
    assert records.package_sha256(root) == expected


def test_package_hash_of_the_installed_package_covers_its_folder():
    assert records.package_sha256() == records.package_sha256(Path(mirbook.__file__).parent)


def _chapter(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nbformat.write(nb, path)
    return path


def test_chapter_fingerprint_is_the_hash_of_the_code_cells_and_ignores_prose(tmp_path):
    code = [nbformat.v4.new_code_cell("x = 1\ny = 2"), nbformat.v4.new_code_cell("print(x)")]
    first = records.chapter_fingerprint(
        _chapter(tmp_path / "a.ipynb", [nbformat.v4.new_markdown_cell("one"), *code]))
    prose = records.chapter_fingerprint(
        _chapter(tmp_path / "b.ipynb", [*code, nbformat.v4.new_markdown_cell("two")]))
    changed = records.chapter_fingerprint(_chapter(tmp_path / "c.ipynb", [nbformat.v4.new_code_cell("x = 2")]))
    assert first == prose == hashlib.sha256(b"x = 1\ny = 2\n\nprint(x)").hexdigest() != changed


def test_cpu_model_is_the_model_name_of_proc_cpuinfo():
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        expected = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), flags=re.M).group(1).strip()
    else:
        expected = platform.processor() or platform.machine()
    assert records.cpu_model() == expected


def _complete_record():
    return {"commit": "0" * 40, "dirty": False, "package_sha256": "a" * 64, "chapter_sha256": "b" * 64,
            "state_sha256": "c" * 64,
            "versions": {"representations": "3", "generator": "1.4", "torch": "2.4", "numpy": "2.0"},
            "machine": {"cpu_model": "a CPU", "cpu_count": 2, "torch_threads": 1}}


def test_missing_provenance_names_each_missing_field():
    record = _complete_record()
    assert records.missing_provenance(record) == []
    del record["commit"], record["machine"]["torch_threads"], record["versions"]["representations"]
    assert records.missing_provenance(record) == ["commit", "versions.representations", "machine.torch_threads"]
    assert len(records.missing_provenance({})) == len(records.PROVENANCE)


def test_summary_gives_mean_and_sample_sd_over_seeds():
    runs = [{"seed": s, "parameters": 10, "train_seconds": t, "metrics": {"acc": a}, "bars": {"acc": 0.5},
             "passed": True} for s, t, a in ((2, 30.0, 1.0), (0, 10.0, 0.8), (1, 20.0, 0.9))]
    summary = records.summarise(runs)
    assert summary["seeds"] == [0, 1, 2] and summary["passed"]
    assert summary["train_seconds"] == pytest.approx((20.0, 10.0))
    assert summary["metrics"]["acc"] == pytest.approx((0.9, 0.1))
    assert not records.summarise([{**runs[0], "passed": False}, runs[1]])["passed"]


def test_records_ship_with_the_package_and_another_file_can_be_read(tmp_path):
    assert records.load_records() == json.loads(COMPARISON.read_text())
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"runs": {}}))
    assert records.load_records(path) == {"runs": {}}
    with pytest.raises(ValueError, match="run `python benchmarks/model_comparison.py`"):
        records.load_records(tmp_path / "none.json")


def test_state_hash_is_the_documented_digest_and_sees_one_rounding_step():
    model = torch.nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(1.0)
        model.bias.fill_(0.0)
    expected = hashlib.sha256(b"weight torch.float32 (1, 1)\n" + np.float32(1.0).tobytes()
                              + b"bias torch.float32 (1,)\n" + np.float32(0.0).tobytes()).hexdigest()
    assert records.state_sha256(model) == expected
    with torch.no_grad():
        model.weight.copy_(torch.nextafter(model.weight, torch.tensor(2.0)))  # one float32 step up
    assert records.state_sha256(model) != expected


def test_state_hash_covers_buffers_and_is_equal_for_equal_weights():
    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    torch.manual_seed(0)
    b = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    assert records.state_sha256(a) == records.state_sha256(b)
    b[1].running_mean += 1.0
    assert records.state_sha256(a) != records.state_sha256(b)


# -- tagger-budget records -------------------------------------------------------------------------

def _budget_run(**changes):
    run = {"commit": "c", "dirty": False, "package_sha256": records.package_sha256(), "state_sha256": "s",
           "benchmark_sha256": "b", "versions": {"representations": 1, "generator": 1, "torch": "t", "numpy": "n"},
           "machine": {"cpu_model": "cpu", "cpu_count": 2, "torch_threads": 1}}
    run.update(changes)
    return run


def test_budget_records_with_the_benchmark_fingerprint_and_package_are_current(tmp_path):
    benchmark = tmp_path / "tagger_budgets.py"
    benchmark.write_text("print('budgets')\n")
    fingerprint = hashlib.sha256(benchmark.read_bytes()).hexdigest()
    table = {"runs": {"crnn_tagger 25000 0 0.003": _budget_run(benchmark_sha256=fingerprint)}}
    assert records.budget_record_problems(table, benchmark=benchmark) == {"stale": [], "package": [],
                                                                          "unchecked": []}


def test_budget_records_flag_a_tampered_fingerprint_dirty_code_missing_fields_and_other_packages(tmp_path):
    benchmark = tmp_path / "tagger_budgets.py"
    benchmark.write_text("print('budgets')\n")
    fingerprint = records.file_sha256(benchmark)
    incomplete = _budget_run(benchmark_sha256=fingerprint)
    del incomplete["machine"]["torch_threads"]
    table = {"runs": {"tampered": _budget_run(benchmark_sha256="0" * 64),
                      "dirty": _budget_run(benchmark_sha256=fingerprint, dirty=True),
                      "incomplete": incomplete,
                      "other package": _budget_run(benchmark_sha256=fingerprint, package_sha256="f" * 64)}}
    problems = records.budget_record_problems(table, benchmark=benchmark)
    assert problems["stale"] == ["tampered: the benchmark file changed since this run",
                                 "dirty: made from a checkout with uncommitted changes",
                                 "incomplete: no machine.torch_threads"]
    assert problems["package"] == ["other package"]
    benchmark.write_text("print('changed')\n")  # the benchmark edited after the runs
    changed = [line.split(":")[0] for line in records.budget_record_problems(table, benchmark=benchmark)["stale"]
               if line.endswith("the benchmark file changed since this run")]
    assert changed == ["tampered", "dirty", "other package"]  # every run with a fingerprint


def test_budget_records_outside_a_checkout_say_what_they_cannot_check(tmp_path):
    table = {"runs": {"r": _budget_run(benchmark_sha256="0" * 64)}}
    problems = records.budget_record_problems(table, benchmark=tmp_path / "absent.py")
    assert problems["stale"] == [] and problems["unchecked"] == [
        "the benchmark file is not here, so the records cannot be checked against its code"]


def test_budget_records_load_from_a_path_and_say_how_to_make_a_missing_file(tmp_path):
    path = tmp_path / "budgets.json"
    path.write_text(json.dumps({"runs": {}}))
    assert records.load_budget_records(path) == {"runs": {}}
    with pytest.raises(ValueError, match="benchmarks/tagger_budgets.py"):
        records.load_budget_records(tmp_path / "absent.json")


def test_floats_survive_encoding_and_a_wrong_shape_is_refused():
    values = np.random.default_rng(0).random((5, 3)).astype(np.float32)
    text = records.encode_floats(values)
    assert np.array_equal(records.decode_floats(text, (5, 3)), values)
    assert len(base64.b64decode(text)) == 5 * 3 * 4  # float32, nothing else
    with pytest.raises(ValueError, match="holds 15 values, not the 16"):
        records.decode_floats(text, (4, 4))


def test_git_state_and_environment_describe_the_run(tmp_path):
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "a.py").write_text("x = 1\n")
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "a"],
                   cwd=tmp_path, check=True)
    assert records.git_state([tmp_path / "a.py"], tmp_path)["dirty"] is False
    (tmp_path / "a.py").write_text("x = 2\n")
    assert records.git_state([tmp_path / "a.py"], tmp_path)["dirty"] is True
    env = records.environment()
    assert env["versions"]["torch"] == torch.__version__ and env["machine"]["cpu_model"] == records.cpu_model()
