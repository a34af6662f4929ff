"""Mutation testing of mirbook: run mutmut, then write the report.

    python tools/mutation.py                      # every mutant of mirbook/, then the report
    python tools/mutation.py mirbook.vocab mirbook.data.cache --jobs 16   # these modules only
    python tools/mutation.py --report-only        # the report from the results in mutants/
    python tools/mutation.py --check mirbook.train tests/test_train_x.py   # these tests vs each survivor
    python tools/mutation.py --from-json          # the report again from mutation.json, with the current notes

`make mutation` calls this (MODULES=..., JOBS=...). mutmut's settings are in pyproject.toml
([tool.mutmut]); its work folder mutants/ is git-ignored and keeps results between runs, so
modules can be measured one at a time and the report covers every module measured so far (one
whose source changed since, whose mutants mutmut regenerates without results, keeps the results
and commit recorded in mutation.json until it is measured again). A module named here is re-run
in full (after its tests changed, say).

The report: benchmarks/results/mutation.json (raw counts and every surviving mutant with its diff)
and mutation.md (per module: mutants, killed, survived, timeouts, score; the survivors by
function, each with the judgement kept in benchmarks/results/mutation_notes.json, keyed by mutant
name or by function). Score = (killed + timeout) / (killed + timeout + survived + no tests):
a mutant that no test reaches counts as surviving; one that never ran is left out and listed.

``--check MODULE TEST_FILE...`` runs the test files against each survivor of MODULE recorded in
mutation.json, through mutmut's trampoline (``MUTANT_UNDER_TEST=<mutant>`` in mutants/, mutants
regenerated first for source files changed since), and prints which ones they kill: the check
behind a survivor judged "gap, now killed by ..." in mutation_notes.json. The unmutated code must
pass the same files first. One process imports torch once and forks a pytest run per mutant.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NOTES = RESULTS / "mutation_notes.json"
# The project's bars: these modules (packages by prefix) need a score of at least 85 %.
BAR = 0.85
# data/'s data path is under the bar; the music world's synthesis modules (and the SoundFont player
# the out-of-world pieces are rendered with) are measured but not held to it.
BAR_MODULES = ("mirbook.evaluate", "mirbook.train", "mirbook.vocab", "mirbook.predict",
               "mirbook.data.datasets", "mirbook.data.cache", "mirbook.data.sources",
               "mirbook.data.baselines", "mirbook.data.real", "mirbook.data.out_of_world", "mirbook.data.song",
               "mirbook.representations")
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
          -11: "crash", -9: "crash", -6: "crash", 37: "type check", None: "not checked"}
# A crash (the test process killed by SIGSEGV, SIGKILL or SIGABRT, e.g. a native loop reading past its
# buffer) is a failed test run: the mutant is detected.


def mutmut_exe() -> str:
    exe = Path(sys.executable).with_name("mutmut")
    if not exe.exists():
        sys.exit("mutmut is not installed in this environment: pip install -c constraints.txt -e '.[mutation]'")
    return str(exe)


def forget_stale_call_graph() -> None:
    """mutmut re-records which tests reach which function only for new tests; after the package or
    the tests changed, drop its record so that every test is traced again (else a renamed or new
    function is tried against too few tests and its mutants survive falsely)."""
    import hashlib

    files = sorted(list((ROOT / "mirbook").rglob("*.py")) + list((ROOT / "tests").rglob("*.py")))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
    stamp = ROOT / "mutants" / "traced_sources.sha256"
    if stamp.exists() and stamp.read_text() != digest:
        (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(digest)


def run(modules: list[str], jobs: int) -> None:
    forget_stale_call_graph()
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    # One mutmut run for all the modules named (one start-up); none named: every mutant not yet run.
    cmd = [mutmut_exe(), "run", "--max-children", str(jobs)] + [f"{m}.*" for m in modules]
    print("$", " ".join(cmd), flush=True)
    # mutmut's exit status says nothing about the score; the report below does.
    subprocess.run(cmd, cwd=ROOT, env=env, check=False)


def record_commit(modules: list[str], measured_commit: str) -> dict[str, str]:
    """Remember which commit each module was last measured on (mutants/ keeps results between runs)."""
    path = ROOT / "mutants" / "measured_commits.json"
    commits = json.loads(path.read_text()) if path.exists() else {}
    for module in modules or ["mirbook"]:
        commits[module] = measured_commit
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(commits, indent=1))
    return commits


def commit_of(module: str, commits: dict[str, str]) -> str:
    prefixes = [m for m in commits if module == m or module.startswith(m + ".")]
    return commits[max(prefixes, key=len)] if prefixes else "unknown"


def module_of(path: Path) -> str:
    rel = path.relative_to(ROOT / "mutants").with_suffix("").with_suffix("")
    return ".".join(rel.parts).removesuffix(".__init__")


def function_of(mutant: str) -> str:
    """'mirbook.x.xǁChromaǁforward__mutmut_3' -> 'Chroma.forward'; 'mirbook.x.x_f__mutmut_1' -> 'f'."""
    last = mutant.rpartition(".")[2].rpartition("__mutmut_")[0]
    if last.startswith("xǁ"):
        return ".".join(part for part in last[2:].split("ǁ") if part)
    return last.removeprefix("x_")


def changed_lines(diff: str) -> str:
    """The mutated line, before -> after, in one line."""
    minus = [line[1:].strip() for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    plus = [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return f"`{' / '.join(minus)[:110]}` -> `{' / '.join(plus)[:110]}`"


def collect() -> dict:
    os.chdir(ROOT)
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    modules: dict[str, dict] = {}
    for meta in sorted((ROOT / "mutants" / "mirbook").rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes or all(code is None for code in codes.values()):
            continue
        counts: dict[str, int] = defaultdict(int)
        survivors = []
        for name, code in codes.items():
            status = STATUS.get(code, "suspicious")
            counts[status] += 1
            if status in ("survived", "no tests", "suspicious"):
                source = meta.with_suffix("").relative_to(ROOT / "mutants")
                diff = get_diff_for_mutant(name, path=source)
                survivors.append({"mutant": name, "function": function_of(name), "status": status,
                                  "change": changed_lines(diff), "diff": diff})
        detected = counts["killed"] + counts["timeout"] + counts["crash"] + counts["type check"]
        judged = detected + counts["survived"] + counts["no tests"] + counts["suspicious"]
        modules[module_of(meta)] = {
            "mutants": sum(counts.values()), "killed": counts["killed"], "survived": counts["survived"],
            "timeout": counts["timeout"], "no_tests": counts["no tests"], "suspicious": counts["suspicious"],
            "crash": counts["crash"], "not_checked": counts["not checked"],
            "score": round(detected / judged, 4) if judged else None,
            "survivors": survivors,
        }
    return modules


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "mirbook", "tests"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return head.stdout.strip() + (" (with uncommitted changes to mirbook/ or tests/)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def under_bar(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in BAR_MODULES)


def bar_module_names() -> list[str]:
    """Every module of mirbook/ that the bar covers, by dotted name (a package's files one by one)."""
    names = []
    for path in sorted((ROOT / "mirbook").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if not name.endswith("__init__") and under_bar(name):
            names.append(name)
    return names


def score_after_added_tests(module: dict, notes: dict) -> tuple[int, float | None]:
    """Survivors judged "gap, now killed" (checked against each mutant) and the score with them killed."""
    now_killed = sum(notes.get(s["mutant"], "").startswith("gap, now killed") for s in module["survivors"])
    judged = module["mutants"] - module["not_checked"]
    if not now_killed or not judged:
        return now_killed, None
    return now_killed, (judged - len(module["survivors"]) + now_killed) / judged


def write_report(modules: dict, commits: dict[str, str]) -> None:
    from importlib.metadata import version

    for name, m in modules.items():
        m["commit"] = commit_of(name, commits)
    measured = sorted({m["commit"] for m in modules.values()})
    measured_commit = ", ".join(measured)

    notes = json.loads(NOTES.read_text()) if NOTES.exists() else {}
    data = {"date": datetime.date.today().isoformat(), "tool": f"mutmut {version('mutmut')}",
            "commit": measured_commit, "bar": BAR,
            "score": "(killed + timeout) / (killed + timeout + survived + no_tests)", "modules": modules}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mutation.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")

    out = ["# Mutation testing of mirbook", "",
           f"Measured {data['date']} with {data['tool']} on commit {measured_commit} (per module below), by `make mutation`",
           "(tools/mutation.py; settings in pyproject.toml's [tool.mutmut]). Each mutant runs the tests",
           "that reach the mutated function. Score = (killed + timeout) / (killed + timeout + survived + no tests).",
           f"The bar is {BAR:.0%} on evaluate, train, vocab, predict, data/ (datasets, cache, sources,",
           "baselines, real/, out_of_world, song) and representations. Raw numbers and every survivor's diff:",
           "mutation.json.", "",
           "The column 'with added tests' counts the survivors that tests added after the measurement kill",
           "(each checked against that mutant, `tools/mutation.py --check`): computed, not re-measured.", "",
           ("| module | mutants | killed | survived | timeouts | no tests | not run | score | with added tests "
            "| bar | commit |"),
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    plain_notes = {k: v for k, v in notes.items() if not k.startswith("_")}
    for name, m in sorted(modules.items()):
        score = f"{m['score']:.1%}" if m["score"] is not None else "-"
        _, after = score_after_added_tests(m, plain_notes)
        bar = ""
        if under_bar(name):
            bar = "pass" if m["score"] is not None and m["score"] >= BAR else "**below**"
            if bar != "pass" and after is not None and after >= BAR:
                bar = "pass with the added tests (computed; re-measure)"
            if m["not_checked"]:
                bar = f"open: {m['not_checked']} of its mutants not run"
        out.append(f"| {name} | {m['mutants']} | {m['killed']} | {m['survived']} | {m['timeout']} | "
                   f"{m['no_tests']} | {m['not_checked']} | {score} | {f'{after:.1%}' if after else '-'} | "
                   f"{bar} | {m['commit'][:12]} |")
    unmeasured = [name for name in bar_module_names()
                  if name not in modules or modules[name]["not_checked"] == modules[name]["mutants"]]
    if unmeasured:
        out += ["", "Modules under the bar not measured yet: " + ", ".join(unmeasured) + "."]
    summary = notes.get("_summary", [])
    out += [""] + ([*summary, ""] if summary else [])
    out += ["## Surviving mutants", "",
            "By module and function: the mutation (before -> after) and a one-line judgement: a **gap**",
            "in the tests, or **equivalent** (same behaviour) / **unobservable** (an arbitrary constant no",
            "test can know, or a change below any stated tolerance).", ""]
    notes = {k: v for k, v in notes.items() if not k.startswith("_")}
    for name, m in sorted(modules.items()):
        if not m["survivors"]:
            continue
        out += [f"### {name}", ""]
        by_function = defaultdict(list)
        for s in m["survivors"]:
            by_function[s["function"]].append(s)
        for function, survivors in sorted(by_function.items()):
            group_note = notes.get(f"{name}.{function}", "")
            out.append(f"- `{function}`" + (f": {group_note}" if group_note else ""))
            for s in survivors:
                number = s["mutant"].rpartition("__mutmut_")[2]
                note = notes.get(s["mutant"], "" if group_note else "not judged yet")
                status = "" if s["status"] == "survived" else f" ({s['status']})"
                out.append(f"  - #{number}{status} {s['change']}" + (f": {note}" if note else ""))
        now_killed, after = score_after_added_tests(m, notes)
        if after is not None:
            out.append(f"After the added tests: {now_killed} of these killed (checked against each mutant), "
                       f"score {after:.1%}.")
            m["score_after_added_tests"] = round(after, 4)
        out.append("")
    (RESULTS / "mutation.md").write_text("\n".join(out))
    (RESULTS / "mutation.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS / 'mutation.md'} and mutation.json")


def regenerate_mutants() -> None:
    """mutmut's generation step alone: copy the tests, re-mutate source files changed since."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir

    os.chdir(ROOT)
    set_mutant_under_test("mutant_generation")
    copy_src_dir()
    copy_also_copy_files()
    mutants = ROOT / "mutants"
    if any(not (mutants / src.relative_to(ROOT)).exists()
           or src.stat().st_mtime > (mutants / src.relative_to(ROOT)).stat().st_mtime
           for src in (ROOT / "mirbook").rglob("*.py")):
        create_mutants(1)
    set_mutant_under_test(None)


def current_names(survivors: list[dict], module: str) -> dict[str, str | None]:
    """Each recorded survivor's mutation in the current mutants: the same mutant number when that still
    makes the same change, else the function's mutant making the same change (numbers shift when the
    function was edited since the measurement), else None."""
    import libcst as cst
    from mutmut.mutation.diff_apply import read_mutant_function, read_original_function

    source = Path(*module.split(".")).with_suffix(".py")
    tree = cst.parse_module((ROOT / "mutants" / source).read_text())
    meta = json.loads((ROOT / "mutants" / source).with_suffix(".py.meta").read_text())["exit_code_by_key"]
    changes: dict[str, str] = {}

    def change(name: str) -> str:
        if name not in changes:
            before, after = (cst.Module([f]).code.strip().split("\n")
                             for f in (read_original_function(tree, name), read_mutant_function(tree, name)))
            changes[name] = changed_lines("\n".join(difflib.unified_diff(before, after, lineterm="")))
        return changes[name]

    found = {}
    for s in survivors:
        prefix = s["mutant"].rpartition("__mutmut_")[0] + "__mutmut_"
        candidates = sorted((name for name in meta if name.startswith(prefix)), key=lambda name: name != s["mutant"])
        found[s["mutant"]] = next((name for name in candidates if change(name) == s["change"]), None)
    return found


def check_survivors(module: str, test_files: list[str], functions: list[str] | None = None,
                    mutants: list[str] | None = None) -> dict[str, bool]:
    """Run ``test_files`` against each recorded survivor of ``module`` (of ``functions`` only, or these
    ``mutants`` (recorded names) only, when given) that is not judged equivalent or unobservable;
    return {mutant: killed}, also merged into mutants/checked_survivors.json."""
    survivors = json.loads((RESULTS / "mutation.json").read_text())["modules"][module]["survivors"]
    notes = json.loads(NOTES.read_text()) if NOTES.exists() else {}
    survivors = [s for s in survivors if (functions is None or s["function"] in functions)
                 and (mutants is None or s["mutant"].rpartition(".")[2] in mutants)
                 and not notes.get(s["mutant"], "").startswith(("equivalent", "unobservable"))]
    regenerate_mutants()
    names = current_names(survivors, module)
    os.environ.pop("MUTANT_UNDER_TEST", None)
    work = ROOT / "mutants"
    os.chdir(work)
    sys.path.insert(0, str(work))
    import importlib

    import pytest
    import torch

    torch.set_num_threads(1)  # forked children must not inherit a busy thread pool
    for name in (module, "mirbook.models", "torch.utils.data", "torch.optim"):
        importlib.import_module(name)  # imported once here, not once per mutant

    def run_tests(mutant: str) -> int:
        pid = os.fork()
        if pid == 0:
            os.environ["MUTANT_UNDER_TEST"] = mutant
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the test files need no plugin
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os._exit(int(pytest.main([*test_files, "-x", "-q", "-p", "no:cacheprovider"])))
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    if (code := run_tests("")) != 0:
        sys.exit(f"the unmutated code fails {test_files} (pytest exit status {code})")
    record = work / "checked_survivors.json"
    checked = json.loads(record.read_text()) if record.exists() else {}
    killed = {}
    for s in survivors:
        mutant = names[s["mutant"]]
        if mutant is None:
            print(f"gone     {s['mutant']} {s['change'][:90]}: no such mutation of the current source")
            continue
        killed[mutant] = run_tests(mutant) != 0
        checked[s["mutant"]] = {"current": mutant, "killed": killed[mutant], "tests": test_files}
        record.write_text(json.dumps(checked, indent=1, ensure_ascii=False))
        print(f"{'killed  ' if killed[mutant] else 'survived'} {mutant} {s['change'][:90]}", flush=True)
    print(f"{sum(killed.values())} of {len(killed)} survivors of {module} killed by {' '.join(test_files)}")
    return killed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="dotted module or package names; none: all of mirbook")
    parser.add_argument("--jobs", type=int, default=1, help="mutmut workers (default 1)")
    parser.add_argument("--report-only", action="store_true", help="only write the report from mutants/")
    parser.add_argument("--from-json", action="store_true",
                        help="only rewrite the report from mutation.json's measured results and the current notes")
    parser.add_argument("--commit", help="the commit measured, when the tree is not a git checkout")
    parser.add_argument("--check", nargs="+", metavar=("MODULE", "TEST_FILE"),
                        help="run TEST_FILEs against each recorded survivor of MODULE (its results: "
                             "mutants/checked_survivors.json)")
    parser.add_argument("--functions", help="with --check: only these functions' survivors (comma-separated)")
    parser.add_argument("--mutants", help="with --check: only these recorded survivors (comma-separated, "
                                          "e.g. x_fit__mutmut_114)")
    args = parser.parse_args()
    if args.check:
        if len(args.check) < 2:
            parser.error("--check needs a module and at least one test file")
        check_survivors(args.check[0], args.check[1:], args.functions and args.functions.split(","),
                        args.mutants and args.mutants.split(","))
        return
    if args.from_json:
        modules = json.loads((RESULTS / "mutation.json").read_text())["modules"]
        write_report(modules, {name: m["commit"] for name, m in modules.items()})
        return
    bad = [m for m in args.modules if not re.fullmatch(r"mirbook(\.\w+)*", m)]
    if bad:
        parser.error(f"expected dotted names under mirbook (e.g. mirbook.data.cache), got {bad}")
    path = ROOT / "mutants" / "measured_commits.json"
    if args.report_only:
        commits = json.loads(path.read_text()) if path.exists() else {"mirbook": args.commit or commit()}
    else:
        run(args.modules, args.jobs)
        commits = record_commit(args.modules, args.commit or commit())
    collected = collect()
    if args.modules and not args.report_only:  # mutants/ may hold older, partial results of other modules
        collected = {name: m for name, m in collected.items()
                     if any(name == a or name.startswith(a + ".") for a in args.modules)}
    # mutmut regenerates a changed file's mutants and forgets their results: a module measured
    # earlier and not since keeps its recorded results (and the commit they were measured on).
    report = RESULTS / "mutation.json"
    recorded = json.loads(report.read_text())["modules"] if report.exists() else {}
    kept = {name: m for name, m in recorded.items() if name not in collected}
    write_report({**kept, **collected}, {**commits, **{name: m["commit"] for name, m in kept.items()}})


if __name__ == "__main__":
    main()
