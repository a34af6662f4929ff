"""Project files: citation metadata, dependency ranges, the pinned set and the package map."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_citation_cff_is_valid_cff_1_2():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert cff.get(key), f"CITATION.cff lacks required key {key!r}"
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    paper = [r for r in cff["references"] if "Tutorial on Deep Learning" in r["title"]]
    assert len(paper) == 1 and paper[0]["year"] == 2017
    assert all({"type", "title", "authors"} <= set(r) for r in cff["references"])
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cff["repository-code"] == config["repository"]["url"]


def test_runtime_dependencies_are_ranges_and_the_constraints_pin_them():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!~ \[]", d)[0].lower().replace("_", "-") for d in project["dependencies"]}
    needed = {"torch", "torchaudio", "librosa", "mir-eval", "numpy", "scipy", "soundfile", "tqdm", "matplotlib", "scikit-learn"}
    assert needed <= names
    assert all("==" not in d for d in project["dependencies"]), "runtime needs must be ranges, not pins"
    assert {"book", "test", "datasets"} <= set(project["optional-dependencies"])
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version.strip()
    for name in needed | {"jupyter-book", "nbval", "sphinxcontrib-bibtex", "pytest"}:
        assert name in pins, f"constraints.txt does not pin {name}"


def test_every_cited_key_is_in_the_bibliography():
    import pybtex.database

    keys = set(pybtex.database.parse_file(ROOT / "book" / "references.bib").entries)
    cited = set()
    for page in (ROOT / "book").rglob("*"):
        if page.suffix not in (".md", ".ipynb") or ".ipynb_checkpoints" in page.parts:
            continue
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", page.read_text()):
            cited |= {k.strip() for k in group.split(",")}
    assert cited, "no page cites anything"
    assert cited <= keys, f"cited but not in book/references.bib: {sorted(cited - keys)}"


def test_the_package_map_lists_every_module_once_and_agrees_with_the_readme():
    init = (ROOT / "mirbook" / "__init__.py").read_text().split("::\n\n")[1].split("\n\n")[0]
    readme = (ROOT / "README.md").read_text().split("## Package map")[1].split("```")[1]
    in_init = [line.split()[0] for line in init.splitlines()]
    in_readme = [line.split()[0] for line in readme.strip().splitlines()]
    modules = sorted(p.stem if p.is_file() else p.name for p in (ROOT / "mirbook").iterdir()
                     if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file())
    assert sorted(in_init) == modules, "mirbook/__init__.py's map must list every module of mirbook once"
    assert [" ".join(line.split()) for line in init.splitlines()] == \
        [" ".join(line.split()) for line in readme.strip().splitlines()], "README's package map differs"


WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def _check_workflow(path: Path):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=120)


def test_the_book_workflow_is_valid_against_the_github_workflow_schema(tmp_path):
    check = _check_workflow(WORKFLOW)
    assert check.returncode == 0, check.stdout + check.stderr
    broken = yaml.safe_load(WORKFLOW.read_text())
    del broken["jobs"]["build"]["runs-on"]  # a job without a runner: the schema must refuse it
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken))
    assert _check_workflow(tmp_path / "broken.yml").returncode != 0


def test_the_book_workflow_builds_with_make_book_and_publishes_that_html():
    import subprocess

    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"] and triggers["push"]["tags"] == ["v*"]
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"
    build, deploy = workflow["jobs"]["build"]["steps"], workflow["jobs"]["deploy"]
    python = next(s["with"]["python-version"] for s in build if s.get("uses", "").startswith("actions/setup-python"))
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python={python}" in environment["dependencies"]  # the CI Python
    assert [s["run"] for s in build if "run" in s] == ["make book"]
    upload = next(s for s in build if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert [s for s in build].index(upload) > [s.get("run") for s in build].index("make book")
    assert deploy["needs"] == "build"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in deploy["steps"])
    # `make book` runs `jupyter-book build .` without --path-output: the HTML lands in _build/html
    recipe = subprocess.run(["make", "-n", "book"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    command = next(line for line in recipe.splitlines() if "jupyter-book" in line and " build ." in line)
    assert "--path-output" not in command and "--builder" not in command
    assert upload["with"]["path"] == "_build/html"
