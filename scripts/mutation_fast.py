"""Run mutmut's mutants one at a time in a single Python process (docs/mutation-testing.md).

`make mutation` lets mutmut fork a process per mutant and first maps every test to the functions
it reaches; on a busy machine that costs minutes before the first mutant and about 4 s a mutant.
This script does the same work the "fast" way: it makes a `git archive` copy of a commit, lets
mutmut 3.8.1 write the mutants of the chosen files into `COPY/mutants`, then, in this one
process, for each mutant sets `MUTANT_UNDER_TEST` (the trampoline reads it at every call),
clears the caches kept per parameter set (every module-level `WeakKeyDictionary` of `sio`:
the engine's `_SHARED`, the kernel's `_PRICE_TABLES`; a table built under one mutant would
otherwise be read under the next) and calls `pytest.main(-x --tb=no)` on the chosen test files,
with `SIO_MUTATION=1`. A mutant is killed when pytest fails (or the alarm of `--timeout` seconds
rings), survives when it passes. A run without a mutant must pass and one with mutmut's
`fail` must fail, or the script stops.

    nice -n 19 .venv/bin/python scripts/mutation_fast.py --copy ../sio-mutation \\
        --files src/sio/rules/uttrekk.py --tests tests/test_money_core.py tests/test_cases.py \\
        --list patterns.txt   # or the names or globs as the first arguments

Results are appended, one JSON object a line, to `COPY/results.jsonl`; a mutant already there is
not run again (delete the file, or `--again`). `--sync-tests` copies the working tree's `tests/`
over the copy's before running, so that new tests run against the mutants of the old commit.
Without `--files` or `--tests` the lists of `[tool.mutmut]` in `pyproject.toml` are taken
(`only_mutate`, `pytest_add_cli_args_test_selection`); the files count only when the copy is made.
At the end the matched mutants' results are counted and the survivors listed. `make mutation-fast`
runs it.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import weakref
from pathlib import Path
from types import FrameType


def _prepare(copy: Path, rev: str, files: list[str]) -> None:
    """A `git archive` copy of `rev` in `copy`, and mutmut's mutants of `files` in it."""
    if (copy / "mutants").exists():
        return
    copy.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(copy)], input=archive, check=True)
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--generate", *files], cwd=copy, check=True
    )


def _generate(files: list[str]) -> None:
    """In the copy (the working directory): mutmut writes the mutants of `files`."""
    from mutmut import __main__ as mm
    from mutmut.configuration import config
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir

    if files:
        config().only_mutate = files
    set_mutant_under_test("mutant_generation")
    copy_src_dir()
    copy_also_copy_files()
    stats = mm.create_mutants(1)
    print(f"mutated {stats.mutated} files", file=sys.stderr)


def _mutant_names(mutants: Path) -> list[str]:
    names: list[str] = []
    for meta in sorted(mutants.rglob("*.py.meta")):
        names.extend(json.loads(meta.read_text())["exit_code_by_key"])
    return names


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Timeout


def _run(copy: Path, patterns: list[str], tests: list[str], timeout: int, again: bool) -> None:
    mutants = copy / "mutants"
    results = copy / "results.jsonl"
    done: set[str] = set()
    if results.exists() and not again:
        done = {json.loads(line)["mutant"] for line in results.read_text().splitlines() if line}
    names = [n for n in _mutant_names(mutants) if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    todo = [n for n in names if n not in done]
    print(f"{len(names)} mutants match, {len(todo)} to run", file=sys.stderr)

    os.chdir(mutants)
    sys.path.insert(0, str((mutants / "src").resolve()))
    os.environ["SIO_MUTATION"] = "1"
    os.environ.pop("MUTANT_UNDER_TEST", None)
    import pytest

    import sio.engine  # type: ignore[import-untyped]  # (the copy's, not the installed one)

    assert Path(sio.engine.__file__).resolve().is_relative_to(mutants.resolve()), (
        sio.engine.__file__
    )
    args = [*tests, "-x", "--tb=no", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    signal.signal(signal.SIGALRM, _alarm)

    def clear_caches() -> None:
        """Empty the caches that `sio`'s modules keep per parameter set across calls."""
        for mod in [m for n, m in list(sys.modules.items()) if n.startswith("sio.")]:
            for value in list(vars(mod).values()):
                if isinstance(value, weakref.WeakKeyDictionary):
                    value.clear()

    def one(name: str) -> tuple[str, float]:
        os.environ["MUTANT_UNDER_TEST"] = name
        clear_caches()
        start = time.process_time()
        signal.alarm(timeout)
        try:
            code = pytest.main(args)
            status = "survived" if code == 0 else ("killed" if code == 1 else f"error {int(code)}")
        except _Timeout:
            status = "timeout"
        finally:
            signal.alarm(0)
        return status, time.process_time() - start

    for control, want in (("", "survived"), ("fail", "killed")) if todo else ():
        status, _ = one(control)
        if status != want:
            sys.exit(f"the control {control or 'without a mutant'} gave {status}, not {want}")
    with results.open("a") as out:
        for name in todo:
            status, cpu = one(name)
            out.write(json.dumps({"mutant": name, "status": status, "cpu_s": round(cpu, 2)}) + "\n")
            out.flush()
            print(f"{status:9} {cpu:6.1f} s  {name}", file=sys.stderr)
    _summary(results, names)


def _summary(results: Path, names: list[str]) -> None:
    """The count of each result of `names` (a mutant's last line counts) and the survivors."""
    last: dict[str, dict[str, object]] = {}
    for line in results.read_text().splitlines() if results.exists() else []:
        if line:
            row = json.loads(line)
            last[row["mutant"]] = row
    wanted = set(names)
    rows = [r for n, r in last.items() if n in wanted]
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
    cpu = sum(float(str(r["cpu_s"])) for r in rows)
    print(
        f"{len(names)} matched: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())),
        file=sys.stderr,
    )
    print(f"CPU {cpu:.0f} s in the tests of {len(rows)} mutants", file=sys.stderr)
    for r in rows:
        if r["status"] != "killed":
            print(f"  {r['status']}  {r['mutant']}", file=sys.stderr)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("patterns", nargs="*", help="mutant names or globs (fnmatch)")
    p.add_argument("--copy", type=Path, help="the directory of the copy (made if missing)")
    p.add_argument("--rev", default="HEAD", help="the commit to copy (default HEAD)")
    p.add_argument("--files", nargs="+", help="the source files to mutate (default: pyproject's)")
    p.add_argument("--tests", nargs="+", help="the test files, in order (default: pyproject's)")
    p.add_argument("--timeout", type=int, default=90, help="seconds a mutant may take")
    p.add_argument("--sync-tests", action="store_true", help="copy the working tree's tests/ over")
    p.add_argument("--list", type=Path, help="a file of further patterns, one a line")
    p.add_argument("--again", action="store_true", help="run mutants that already have a result")
    p.add_argument("--generate", nargs="*", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.generate is not None:
        _generate(a.generate)
        return
    if a.copy is None:
        p.error("--copy is required")
    patterns = list(a.patterns)
    if a.list is not None:
        patterns += [line.strip() for line in a.list.read_text().splitlines() if line.strip()]
    settings = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]
    files = a.files if a.files is not None else list(settings["only_mutate"])
    tests = a.tests if a.tests is not None else list(settings["pytest_add_cli_args_test_selection"])
    copy = a.copy.resolve()  # (_run changes the working directory: a relative path would move)
    _prepare(copy, a.rev, files)
    if a.sync_tests:
        shutil.copytree("tests", copy / "mutants" / "tests", dirs_exist_ok=True)
    _run(copy, patterns, tests, a.timeout, a.again)


if __name__ == "__main__":
    main()
