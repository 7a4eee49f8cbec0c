"""Benchmark of the `sio` command line as the user runs it: whole processes, timed from the
outside like hyperfine, with the peak memory of each.

    .venv/bin/python benchmarks/cli.py [--repeat 7] [--year 2022] [--scale 1,2,4]

Measured, each as a fresh `sio` process (one untimed warm-up run whose output is checked, then
`--repeat` timed runs; median, min, max; the child's own peak RSS from `os.wait4`):

- `sio --help`;
- `sio compute --data DIR --year 2022 --format json` on the national synthetic data set in
  Parquet (`sio.data.synth.write_national`, 400 000 persons) and on the same data set written as
  CSV (written once next to it under benchmarks/data/);
- `sio compute --db --year 2022 --format json` on SQLite and on PostgreSQL: the data set is first
  imported once with `sio import` (timed, reported apart) into a fresh SQLite file under
  benchmarks/data/ and a fresh PostgreSQL database on 127.0.0.1:5432 (trust authentication, user
  postgres or the current user), both removed afterwards;
- with `--scale 1,2,4`: `sio compute --data` from Parquet on 1×, 2×, 4× the national data set
  (persons = 400 000 × scale), its time and peak memory per scale and the ratios to 1×.

The `sio` package is compiled to bytecode before the runs, as `pip install` does for a user
(PYTHONDONTWRITEBYTECODE, set on these machines, would make every process compile it again).
Every compute's JSON output must list the same figures as the one from Parquet. The load average
is recorded before and after each measurement. Results go to benchmarks/results-cli.json and a
markdown table is printed.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from benchdata import data_set_name  # noqa: E402

SIO = Path(sys.executable).with_name("sio")
MIB = 1024 * 1024
PG_HOST, PG_PORT = "127.0.0.1", 5432
MEASUREMENTS = ("help", "parquet", "csv", "sqlite", "postgresql")

# target: median seconds of each measurement (the figures)
TARGET_S = {"help": 0.25, "parquet": 0.7, "csv": 1.0, "sqlite": 1.5, "postgresql": 1.5}
TARGET_PEAK_BYTES = 600 * MIB


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# The spawner of every measured child: a bare Python (no site, no imports beyond os, sys, time)
# that starts the command with posix_spawn, reaps it with os.wait4 and writes "wall maxrss exit"
# to the file named by its first argument. On Linux a child's ru_maxrss also counts the memory
# of the process it was spawned from (exec keeps the old image's high-water mark, and
# posix_spawn/vfork share the spawner's memory until then), so spawning from this benchmark's
# own process (≈ 80 MiB with Polars loaded) would inflate small figures; the bare spawner's
# floor is ≈ 8 MiB.
SPAWNER = r"""
import os, sys, time
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as f:
    f.write(f"{wall!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


class Failed(Exception):
    """A measured command exited with a non-zero status."""


def run_once(
    argv: list[str], env: dict[str, str], capture: bool = False
) -> tuple[float, int, int, bytes, bytes]:
    """Run `argv` once: (wall seconds, the child's peak RSS in bytes, exit code, stdout, stderr).

    Wall time from just before the spawn to the child reaped, measured in the spawner; the peak
    RSS is that child's own (`os.wait4` on it — unlike RUSAGE_CHILDREN, a maximum over every child
    ever waited for). Output goes to temporary files (stdout to /dev/null unless `capture`), so a
    full pipe can never stall the child.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", encoding="ascii") as res,
    ):
        subprocess.run(
            [sys.executable, "-S", "-c", SPAWNER, res.name, *argv],
            stdout=out if capture else subprocess.DEVNULL,
            stderr=err,
            env=env,
            check=True,
        )
        wall, maxrss_kib, code = res.read().split()
        out.seek(0)
        err.seek(0)
        return float(wall), int(maxrss_kib) * 1024, int(code), out.read(), err.read()


def measure(name: str, argv: list[str], env: dict[str, str], repeat: int) -> dict[str, Any]:
    """One warm-up run (output kept, exit code checked), then `repeat` timed runs."""
    print(f"{name}: {' '.join(shown(a) for a in argv)}", flush=True)
    load0 = loadavg()
    wall, peak, rc, out, err = run_once(argv, env, capture=True)
    if rc != 0:
        raise Failed(f"{name} failed (exit {rc}):\n{err.decode(errors='replace')}")
    walls: list[float] = []
    peaks: list[int] = []
    for _ in range(repeat):
        wall, peak, rc, _, err = run_once(argv, env)
        if rc != 0:
            raise Failed(f"{name} failed (exit {rc}):\n{err.decode(errors='replace')}")
        walls.append(wall)
        peaks.append(peak)
    result: dict[str, Any] = {
        "command": [shown(a) for a in argv],
        "runs": repeat,
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "max_s": max(walls),
        "runs_s": walls,
        "peak_rss_max_bytes": max(peaks),
        "peak_rss_median_bytes": statistics.median(peaks),
        "loadavg_before": load0,
        "loadavg_after": loadavg(),
    }
    print(
        f"  median {result['median_s']:.3f} s (min {result['min_s']:.3f}, max "
        f"{result['max_s']:.3f}); peak {max(peaks) / MIB:.0f} MiB; load {load0} → "
        f"{result['loadavg_after']}",
        flush=True,
    )
    result["_stdout"] = out
    return result


def shown(arg: str) -> str:
    """An argument as recorded: paths inside the repository relative to it."""
    root = str(HERE.parent) + os.sep
    return arg.replace(root, "") if arg.startswith(root) else arg


def output_digest(out: bytes) -> tuple[int, str]:
    """(rows, digest of the rows) of a `compute --format json` output."""
    rows = json.loads(out)
    canon = json.dumps(sorted(rows, key=lambda r: r["kommunenummer"]), sort_keys=True)
    return len(rows), hashlib.sha256(canon.encode()).hexdigest()[:16]


def ensure_data(persons: int, year: int, seed: int, fmt: str) -> Path:
    """The national data set of `persons` under benchmarks/data/ (written once per format)."""
    from sio.data.synth import write_national

    name = data_set_name(persons, year, seed) + ("-csv" if fmt == "csv" else "")
    directory = HERE / "data" / name
    if not (directory / f"vedtak.{fmt}").exists():
        print(f"writing {shown(str(directory))} …", flush=True)
        write_national(directory, seed=seed, persons=persons, year=year, fmt=fmt)
    return directory


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SIO_DATABASE_URL", None)
    return env


def compile_bytecode(env: dict[str, str]) -> str:
    """Compile the `sio` package the commands will import to bytecode first, as `pip install`
    does for a user's installation: where PYTHONDONTWRITEBYTECODE is set (as on these machines),
    an editable checkout would otherwise compile every module again in every timed process.
    Returns the package's directory."""
    where = subprocess.run(
        [sys.executable, "-c", "import os, sio; print(os.path.dirname(sio.__file__))"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", where], env=env, check=True)
    return where


def pg_connect(user: str, dbname: str) -> Any:
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=user, dbname=dbname, autocommit=True, connect_timeout=5
    )


def pg_user() -> str:
    """The PostgreSQL role to use: postgres, else the current user (trust authentication)."""
    import psycopg

    errors = []
    for user in dict.fromkeys(("postgres", getpass.getuser())):
        try:
            with pg_connect(user, "postgres"):
                return user
        except psycopg.Error as exc:
            errors.append(f"{user}: {exc}")
    raise Failed("no PostgreSQL on 127.0.0.1:5432 to connect to:\n" + "\n".join(errors))


def timed_import(url: str, data_dir: Path) -> dict[str, Any]:
    env = base_env() | {"SIO_DATABASE_URL": url}
    print(f"import: sio import {shown(str(data_dir))}", flush=True)
    wall, peak, rc, _, err = run_once([str(SIO), "import", str(data_dir)], env)
    if rc != 0:
        raise Failed(f"sio import failed (exit {rc}):\n{err.decode(errors='replace')}")
    print(f"  {wall:.2f} s, peak {peak / MIB:.0f} MiB", flush=True)
    return {"seconds": wall, "peak_rss_bytes": peak}


def compute_argv(year: int, data_dir: Path | None) -> list[str]:
    src = ["--data", str(data_dir)] if data_dir is not None else ["--db"]
    return [str(SIO), "compute", *src, "--year", str(year), "--format", "json"]


def failure(exc: Failed) -> dict[str, Any]:
    """A failed measurement as recorded: the last lines of its error output."""
    lines = [shown(x) for x in str(exc).splitlines() if x.strip()]
    print("  FAILED: " + "\n  ".join(lines[-6:]), flush=True)
    return {"failed": "\n".join(lines[-20:])}


def import_and_measure(
    backend: str, url: str, data_dir: Path, year: int, repeat: int
) -> dict[str, Any]:
    try:
        imp = timed_import(url, data_dir)
        env = base_env() | {"SIO_DATABASE_URL": url}
        return measure(backend, compute_argv(year, None), env, repeat) | {"import": imp}
    except Failed as exc:
        return failure(exc)


def measure_db(
    backend: str, data_dir: Path, year: int, repeat: int, results: dict[str, Any]
) -> None:
    """Import the data set into a fresh store of `backend`, then time `compute --db` on it."""
    if backend == "sqlite":
        db_file = HERE / "data" / f"cli-{data_dir.name}.sqlite"
        files = [db_file, *(db_file.with_name(db_file.name + x) for x in ("-wal", "-shm"))]
        for f in files:
            f.unlink(missing_ok=True)
        url = f"sqlite:///{db_file}"
        try:
            results[backend] = import_and_measure(backend, url, data_dir, year, repeat)
        finally:
            for f in files:
                f.unlink(missing_ok=True)
        return
    try:
        user = pg_user()
    except Failed as exc:
        results[backend] = failure(exc)
        return
    name = f"sio_bench_cli_{uuid.uuid4().hex[:10]}"
    with pg_connect(user, "postgres") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        results[backend] = import_and_measure(backend, url, data_dir, year, repeat)
    finally:
        with pg_connect(user, "postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vedtak_rows(data_dir: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(data_dir / "vedtak.parquet").num_rows)


def growth(args: argparse.Namespace, scales: list[int]) -> dict[str, Any]:
    rows = []
    for s in scales:
        data_dir = ensure_data(args.persons * s, args.year, args.seed, "parquet")
        row = {"scale": s, "persons": args.persons * s, "vedtak": vedtak_rows(data_dir)}
        try:
            m = measure(f"scale {s}×", compute_argv(args.year, data_dir), base_env(), args.repeat)
            m["rows"], m["digest"] = output_digest(m.pop("_stdout"))
        except Failed as exc:
            m = failure(exc)
        rows.append(row | m)
    base = rows[0]
    ok = all("failed" not in r for r in rows)
    if ok:
        for r in rows:
            r["time_ratio"] = r["median_s"] / base["median_s"]
            r["memory_ratio"] = r["peak_rss_max_bytes"] / base["peak_rss_max_bytes"]
            r["size_ratio"] = r["scale"] / base["scale"]
    return {
        "rows": rows,
        "time_no_worse_than_linear": ok and all(r["time_ratio"] <= r["size_ratio"] for r in rows),
        "memory_no_worse_than_linear": ok
        and all(r["memory_ratio"] <= r["size_ratio"] for r in rows),
    }


def git_state() -> dict[str, Any]:
    def git(*cmd: str) -> str:
        try:
            out = subprocess.run(
                ["git", *cmd], cwd=HERE.parent, capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return ""
        return out.stdout.strip()

    dirty = git("status", "--porcelain", "--", "src")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "src_uncommitted": dirty.splitlines() if dirty else [],
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=400_000, help="care users at 1× (400000)")
    ap.add_argument("--year", type=int, default=2022, help="the year computed (default 2022)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the synthetic data (default 1)")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs of each (default 7)")
    ap.add_argument(
        "--only",
        default=",".join(MEASUREMENTS),
        help=f"comma list of {','.join(MEASUREMENTS)} (default all), or 'none'",
    )
    ap.add_argument("--scale", default="", help="growth table over these scales, e.g. 1,2,4")
    ap.add_argument("--out", type=Path, default=HERE / "results-cli.json", help="results (JSON)")
    args = ap.parse_args(argv)
    only = [] if args.only == "none" else [m for m in args.only.split(",") if m]
    unknown = set(only) - set(MEASUREMENTS)
    if unknown:
        ap.error(f"unknown measurement(s): {', '.join(sorted(unknown))}")
    scales = [int(s) for s in args.scale.split(",") if s]

    results: dict[str, Any] = {
        "git": git_state(),
        "machine": {
            "nproc": len(os.sched_getaffinity(0)),
            "cpu_model": cpu_model(),
            "python": platform.python_version(),
            "loadavg_at_start": loadavg(),
        },
        "year": args.year,
        "persons": args.persons,
        "repeat": args.repeat,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    compile_bytecode(base_env())
    results["bytecode"] = "compiled before the runs (as pip install does)"
    parquet = ensure_data(args.persons, args.year, args.seed, "parquet")
    measured: dict[str, Any] = {}

    def attempt(name: str, argv: list[str]) -> None:
        try:
            measured[name] = measure(name, argv, base_env(), args.repeat)
        except Failed as exc:
            measured[name] = failure(exc)

    if "help" in only:
        attempt("help", [str(SIO), "--help"])
    if "parquet" in only or "csv" in only:  # the Parquet run's output is the others' reference
        attempt("parquet", compute_argv(args.year, parquet))
    if "csv" in only:
        attempt(
            "csv", compute_argv(args.year, ensure_data(args.persons, args.year, args.seed, "csv"))
        )
    for backend in ("sqlite", "postgresql"):
        if backend in only:
            measure_db(backend, parquet, args.year, args.repeat, measured)

    for name, m in measured.items():
        out = m.pop("_stdout", None)
        if name != "help" and out is not None:
            m["rows"], m["digest"] = output_digest(out)
    reference = measured.get("parquet", {}).get("digest")
    for name, m in measured.items():
        if name != "help" and reference is not None and "digest" in m:
            m["same_output_as_parquet"] = m["digest"] == reference
    results["measurements"] = measured
    if scales:
        results["growth"] = growth(args, scales)

    def peak_ok(m: dict[str, Any]) -> bool:
        return "failed" not in m and m["peak_rss_max_bytes"] <= TARGET_PEAK_BYTES

    targets: dict[str, bool] = {}
    for name, m in measured.items():
        limit = TARGET_S[name]
        targets[f"{name}_median_le_{limit}_s"] = "failed" not in m and m["median_s"] <= limit
    compute_data = [m for n, m in measured.items() if n in ("parquet", "csv")]
    if compute_data:
        targets["peak_memory_le_600_mib_compute_data"] = all(peak_ok(m) for m in compute_data)
    compute_db = [m for n, m in measured.items() if n in ("sqlite", "postgresql")]
    if compute_db:
        targets["peak_memory_le_600_mib_compute_db"] = all(peak_ok(m) for m in compute_db)
    same = [m.get("same_output_as_parquet", False) for n, m in measured.items() if n != "help"]
    if len(same) > 1:
        targets["same_figures_from_every_source"] = all(same)
    if scales:
        targets["growth_time_no_worse_than_linear"] = results["growth"]["time_no_worse_than_linear"]
        targets["growth_memory_no_worse_than_linear"] = results["growth"][
            "memory_no_worse_than_linear"
        ]
    results["targets"] = targets
    results["machine"]["loadavg_at_end"] = loadavg()

    print_tables(results)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {shown(str(args.out))}")
    return 0


LABELS = {
    "help": "`sio --help`",
    "parquet": "`sio compute --data` (Parquet) `--year {y} --format json`",
    "csv": "`sio compute --data` (CSV) `--year {y} --format json`",
    "sqlite": "`sio compute --db` (SQLite) `--year {y} --format json`",
    "postgresql": "`sio compute --db` (PostgreSQL) `--year {y} --format json`",
}


def print_tables(r: dict[str, Any]) -> None:
    m, g = r["machine"], r["git"]
    dirty = " (uncommitted changes in src)" if g["src_uncommitted"] else ""
    print()
    print(f"commit {g['commit']} {g['subject']}{dirty}")
    print(
        f"{m['nproc']} CPUs ({m['cpu_model']}), Python {m['python']}; load average at start "
        f"{m['loadavg_at_start']}, at end {m['loadavg_at_end']}; {r['repeat']} runs each"
    )
    if r["measurements"]:
        print()
        print("| command | median s | min s | max s | peak MiB | target | load before → after |")
        print("|---|---:|---:|---:|---:|---|---|")
        for name, x in r["measurements"].items():
            limit = TARGET_S[name]
            if "failed" in x:
                print(f"| {LABELS[name].format(y=r['year'])} | failed | | | | ≤ {limit} s | |")
                continue
            ok = "met" if x["median_s"] <= limit else "**missed**"
            extra = ""
            if "import" in x:
                imp = x["import"]
                extra = f" (import {imp['seconds']:.1f} s, {imp['peak_rss_bytes'] / MIB:.0f} MiB)"
            print(
                f"| {LABELS[name].format(y=r['year'])}{extra} | {x['median_s']:.3f} | "
                f"{x['min_s']:.3f} | {x['max_s']:.3f} | {x['peak_rss_max_bytes'] / MIB:.0f} | "
                f"≤ {limit} s: {ok} | {x['loadavg_before'][0]} → {x['loadavg_after'][0]} |"
            )
    if "growth" in r:
        print()
        print(
            "| scale | persons | vedtak | median s | min s | peak MiB | time ratio | memory ratio |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for x in r["growth"]["rows"]:
            if "failed" in x or "time_ratio" not in x:
                state = "failed" if "failed" in x else f"{x['median_s']:.3f}"
                print(f"| {x['scale']}× | {x['persons']:,} | {x['vedtak']:,} | {state} | | | | |")
                continue
            print(
                f"| {x['scale']}× | {x['persons']:,} | {x['vedtak']:,} | {x['median_s']:.3f} | "
                f"{x['min_s']:.3f} | {x['peak_rss_max_bytes'] / MIB:.0f} | "
                f"{x['time_ratio']:.2f} | {x['memory_ratio']:.2f} |"
            )
    print()
    for name, ok in r["targets"].items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    raise SystemExit(main())
