"""Benchmark: the engine's full national year against DuckDB, Polars, pandas and OpenFisca peers.

    .venv/bin/python benchmarks/run.py [--persons 400000] [--repeat 7] [--year 2022]

1. generates the synthetic national data set (`sio.data.synth`) into benchmarks/data/ if missing;
2. loads it with `load_input` (read + validate), timed once;
3. measures the peak memory of a fresh process that loads the data and runs the engine once
   (ru_maxrss), and the sampled RSS of one engine run in this process;
4. times `Engine(data, params).compute_year(year)` — a fresh Engine each run — `--repeat` times,
   each run on a fresh copy of the loaded data (new objects, the same column buffers), so that
   nothing the engine keeps per data set is carried from one timed run to the next: each run
   pays what one `sio compute` of one year pays; the same year on the same data again (what
   payment runs and scenarios do, the engine's per-data tables kept) is timed too, as information;
5. times the activity grant as a DuckDB SQL query, a lazy Polars query and pandas code, all fed
   the same exact factor table (peers.DuckDBPeer, PolarsPeer, PandasPeer), side by side;
6. times the same rules as an OpenFisca-core model in float64 (peers.OpenFiscaPeer);
7. checks that all of them give the engine's activity grant per municipality to the øre;
8. prints a table, the speed-ups against each peer and the targets; writes benchmarks/results.json.

Targets: the engine ≥ 2× faster than the fastest of DuckDB, Polars and pandas, ≥ 6× faster than
OpenFisca, identical to the øre, and the whole process (load + engine) ≤ 600 MiB at its peak.
If the engine misses a speed target (or with --profile) one engine run is profiled with cProfile
and the top lines by cumulative time are printed and stored in the results.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl
import psutil
from benchdata import data_set_name  # benchmarks/ is on sys.path when run as a script

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from cli import run_once  # noqa: E402
from peers import (  # noqa: E402
    DuckDBPeer,
    OpenFiscaPeer,
    PandasPeer,
    PolarsPeer,
    financed_months,
    year_months,
)

from sio.data.model import InputData  # noqa: E402
from sio.data.synth import write_national  # noqa: E402
from sio.data.validation import load_input  # noqa: E402
from sio.engine import Engine, YearResult  # noqa: E402
from sio.parameters import load_parameters  # noqa: E402

TARGET_PEER_RATIO = 2.0  # engine ≥ 2× faster than the fastest of DuckDB, Polars, pandas
TARGET_OPENFISCA_RATIO = 6.0
MIB = 1024 * 1024
TARGET_PEAK_BYTES = 600 * MIB
MB = 1e6
DATAFRAME_PEERS: dict[str, Any] = {"duckdb": DuckDBPeer, "polars": PolarsPeer, "pandas": PandasPeer}

# A fresh process that loads the data set and runs the engine once; prints its ru_maxrss.
MEMORY_CHILD = r"""
import json, resource, sys
from pathlib import Path
from sio.data.validation import load_input
from sio.engine import Engine
from sio.parameters import load_parameters
params = load_parameters()
data, _ = load_input(Path(sys.argv[1]), params)
after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
Engine(data, params).compute_year(int(sys.argv[2]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"after_load_bytes": after_load, "peak_rss_bytes": peak}))
"""


class PeakRSS:
    """Samples this process's resident set size in a thread; `peak` is the largest seen."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def busy_cpu_seconds() -> tuple[float, float]:
    """(CPU seconds used by the whole machine, by this process) so far."""
    t = psutil.cpu_times()
    machine_busy = t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0)
    machine_busy += getattr(t, "softirq", 0.0) + getattr(t, "steal", 0.0)
    own = psutil.Process().cpu_times()
    return machine_busy, own.user + own.system


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def max_rss() -> int:
    """Peak RSS of the process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    versions = {}
    for dist in ("polars", "duckdb", "pandas", "OpenFisca-Core", "numpy", "pyarrow", "psutil"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "memory_total_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "loadavg_at_start": list(os.getloadavg()),
    }


def git_state() -> dict[str, Any]:
    """The commit measured, and any uncommitted changes under src/."""

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


def stats(times: list[float]) -> dict[str, Any]:
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs_s": times,
    }


def repeat_timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times: list[float] = []
    result: Any = None
    for _ in range(repeat):
        result = None
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def engine_oere(result: YearResult) -> dict[str, int]:
    """The activity grant per municipality in øre (sum of the monthly sums of rounded lines)."""
    return {
        r.result.kommunenummer: sum(m.aktivitetstilskudd_oere for m in r.months)
        for r in result.rows
        if any(m.aktivitet for m in r.months)
    }


def compare(reference: dict[str, int], other: dict[str, int]) -> dict[str, Any]:
    codes = sorted(set(reference) | set(other))
    diffs = {
        c: other.get(c, 0) - reference.get(c, 0)
        for c in codes
        if other.get(c, 0) != reference.get(c, 0)
    }
    return {
        "municipalities": len(codes),
        "differing": len(diffs),
        "max_abs_diff_oere": max((abs(d) for d in diffs.values()), default=0),
        "total_diff_oere": sum(diffs.values()),
        "diffs_oere": diffs,
    }


def memory_child(data_dir: Path, year: int) -> dict[str, Any]:
    """Peak memory of a fresh process that loads `data_dir` and computes `year` once.

    Started through cli.py's bare spawner: an exec'd child's ru_maxrss also counts the high-water
    mark of the process it was spawned from, which here holds the loaded data set.
    """
    _, _, code, out, err = run_once(
        [sys.executable, "-c", MEMORY_CHILD, str(data_dir), str(year)], dict(os.environ), True
    )
    if code != 0:
        raise SystemExit(f"memory child failed:\n{err.decode(errors='replace')}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def kernel_info(data: Any, params: Any, year: int, repeat: int) -> dict[str, Any]:
    """Timings of the engine's activity kernel alone and of the derived vedtak columns, for
    information. They use the engine's internals (`sio.rules.aktivitetstilskudd`), which may
    change: if they are not there as expected, the figures are left out."""
    try:
        from sio.rules.aktivitetstilskudd import DERIVED, compute_activity, with_derived

        fin = financed_months(data, year)
        financed = {(c, (year, m)) for c, ms in fin.items() for m in ms}
        registry = Engine(data, params).registry
        out: dict[str, Any] = {}
        kernel_times, _ = repeat_timed(
            lambda: compute_activity(data.vedtak, params, registry, year_months(year), financed),
            repeat,
        )
        out["engine_kernel"] = stats(kernel_times)
        if all(c in data.vedtak.columns for c in (*DERIVED, "gid")):
            # the kernel's derived columns are computed by load_input (not in the engine's time)
            plain = data.vedtak.drop(*DERIVED, "gid")
            derived_times, _ = repeat_timed(lambda: with_derived(plain), repeat)
            out["derived_columns_in_load"] = stats(derived_times)
        return out
    except (ImportError, AttributeError, TypeError, KeyError) as exc:
        return {"engine_kernel": None, "engine_kernel_skipped": repr(exc)}


def repo_relative(path: Path) -> str:
    """`path` relative to the repository when inside it (results name no machine's paths)."""
    try:
        return str(path.resolve().relative_to(HERE.parent))
    except ValueError:
        return str(path)


def fmt_load(load: list[float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def profile_engine(run: Callable[[], Any], top: int = 15) -> str:
    prof = cProfile.Profile()
    prof.runcall(run)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    text = out.getvalue().replace(str(HERE.parent) + "/", "")
    for prefix in {p for p in sys.path if p.endswith("site-packages")}:
        text = text.replace(prefix + "/", "")
    return text.replace(sys.base_prefix + "/lib/", "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=400_000, help="care users (default 400000)")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs of each (default 7)")
    ap.add_argument("--year", type=int, default=2022, help="the year computed (default 2022)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the synthetic data (default 1)")
    ap.add_argument("--data", type=Path, default=None, help="data directory (default: generated)")
    ap.add_argument(
        "--regenerate", action="store_true", help="write the data set again even if present"
    )
    ap.add_argument("--profile", action="store_true", help="profile an engine run even if fast")
    ap.add_argument("--out", type=Path, default=HERE / "results.json", help="results file (JSON)")
    args = ap.parse_args(argv)
    year, repeat = args.year, args.repeat
    wall0, (busy0, own0) = time.perf_counter(), busy_cpu_seconds()
    results: dict[str, Any] = {
        "machine": machine(),
        "git": git_state(),
        "year": year,
        "repeat": repeat,
    }

    # 1. data
    data_dir = args.data or HERE / "data" / data_set_name(args.persons, year, args.seed)
    generated = None
    present = (data_dir / "vedtak.parquet").exists() or (data_dir / "vedtak.csv").exists()
    if args.regenerate or not present:
        print(f"generating {data_dir} …", flush=True)
        t0 = time.perf_counter()
        write_national(data_dir, seed=args.seed, persons=args.persons, year=year)
        generated = time.perf_counter() - t0
    results["data"] = {"directory": repo_relative(data_dir), "generate_s": generated}

    # 2. load
    params = load_parameters()
    gc.collect()
    t0 = time.perf_counter()
    data, problems = load_input(data_dir, params)
    load_s = time.perf_counter() - t0
    results["data"].update(
        {
            "persons": data.vedtak.get_column("person_id").n_unique(),
            "vedtak_rows": data.vedtak.height,
            "municipalities": data.kommuner.height,
            "warnings": len(problems),
            "load_s": load_s,
        }
    )
    print(
        f"loaded {data.vedtak.height:,} vedtak, {data.kommuner.height} municipalities "
        f"in {load_s:.2f} s",
        flush=True,
    )

    # 3. engine
    def engine_run() -> YearResult:
        return Engine(data, params).compute_year(year)

    def fresh_copies(n: int) -> list[InputData]:
        """n copies of the loaded data with new identities: the same column buffers in new
        frame objects, so that the engine's per-data tables (kept by the data's identity) are
        built again in each timed run, as in one `sio compute` of one year."""
        return [
            dataclasses.replace(
                data,
                **{
                    f.name: v.clone()
                    for f in dataclasses.fields(data)
                    if isinstance(v := getattr(data, f.name), pl.DataFrame)
                },
            )
            for _ in range(n)
        ]

    # 7. memory: a fresh process that only loads the data and runs the engine once (whole process,
    # ru_maxrss), and the sampled RSS of one engine run in this process (which also holds the
    # peer libraries)
    print("memory (fresh process) …", flush=True)
    results["memory_process"] = memory_child(data_dir, year)
    gc.collect()
    before, load_peak = rss(), max_rss()
    with PeakRSS() as peak:
        engine_run()
    results["memory"] = {
        "rss_after_load_mb": before / MB,
        "ru_maxrss_after_load_mb": load_peak / MB,
        "peak_rss_during_engine_mb": peak.peak / MB,
        "engine_increase_mb": (peak.peak - before) / MB,
        "ru_maxrss_after_engine_mb": max_rss() / MB,
    }

    print("engine …", flush=True)
    copies = fresh_copies(repeat)

    def engine_cold_run() -> YearResult:
        return Engine(copies.pop(), params).compute_year(year)

    engine_times, result = repeat_timed(engine_cold_run, repeat)
    reference = engine_oere(result)
    rows = len(result.rows)
    del result
    results["engine"] = stats(engine_times) | {"rows": rows, "fresh_data_each_run": True}
    engine_run()  # the per-data tables of `data` built once, then the same year again
    warm_times, result = repeat_timed(engine_run, repeat)
    if engine_oere(result) != reference:
        raise SystemExit("the engine's second run on the same data differs from the first")
    del result
    results["engine_same_data_again"] = stats(warm_times)
    results.update(kernel_info(data, params, year, repeat))

    # 4. the dataframe peers: DuckDB, Polars, pandas (same factor table, same rounding)
    answers: dict[str, dict[str, int]] = {}
    for name, cls in DATAFRAME_PEERS.items():
        print(f"{name} …", flush=True)
        gc.collect()
        t0 = time.perf_counter()
        peer = cls(data, params, year)
        setup = time.perf_counter() - t0
        parts: list[dict[str, float]] = []

        def peer_run(peer: Any = peer, parts: list[dict[str, float]] = parts) -> dict[str, int]:
            out: dict[str, int] = peer.run()
            parts.append(peer.timings)
            return out

        times, answers[name] = repeat_timed(peer_run, repeat)
        results[name] = stats(times) | {
            "setup_s": setup,
            "factor_table_per_year": peer.per_year,
            "factors_median_s": statistics.median(p["factors"] for p in parts),
            "query_median_s": statistics.median(p["query"] for p in parts),
            "query_min_s": min(p["query"] for p in parts),
        }
        if hasattr(peer, "close"):
            peer.close()
        del peer

    # 5. OpenFisca
    print("openfisca …", flush=True)
    t0 = time.perf_counter()
    of = OpenFiscaPeer(data, params, year)
    of_setup = time.perf_counter() - t0
    of_parts: list[dict[str, float]] = []

    def of_run() -> dict[str, int]:
        out = of.run()
        of_parts.append(of.timings)
        return out

    of_times, answers["openfisca"] = repeat_timed(of_run, repeat)
    results["openfisca"] = stats(of_times) | {
        "tax_benefit_system_s": of_setup,
        "build_median_s": statistics.median(p["build"] for p in of_parts),
        "calculate_median_s": statistics.median(p["calculate"] for p in of_parts),
    }

    # 6. agreement
    results["agreement"] = {
        f"{name}_vs_engine": compare(reference, a) for name, a in answers.items()
    }
    results["agreement"]["engine_total_oere"] = sum(reference.values())

    # targets
    e_med = results["engine"]["median_s"]
    fastest = min(DATAFRAME_PEERS, key=lambda n: results[n]["median_s"])
    results["speedup"] = {
        n: results[n]["median_s"] / e_med for n in (*DATAFRAME_PEERS, "openfisca")
    }
    results["fastest_dataframe_peer"] = fastest
    peak_b = results["memory_process"]["peak_rss_bytes"]
    targets = {
        "engine_2x_faster_than_fastest_of_duckdb_polars_pandas": (
            results["speedup"][fastest] >= TARGET_PEER_RATIO
        ),
        "engine_6x_faster_than_openfisca": results["speedup"]["openfisca"]
        >= TARGET_OPENFISCA_RATIO,
        "identical_to_the_oere": all(
            c["differing"] == 0 for k, c in results["agreement"].items() if k.endswith("_engine")
        ),
        "peak_memory_le_600_mib": peak_b <= TARGET_PEAK_BYTES,
    }
    results["targets"] = targets
    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    busy1, own1 = busy_cpu_seconds()
    results["machine"]["other_processes_cpu_s"] = max(0.0, (busy1 - busy0) - (own1 - own0))
    results["machine"]["benchmark_wall_s"] = time.perf_counter() - wall0

    speed_targets = (
        "engine_2x_faster_than_fastest_of_duckdb_polars_pandas",
        "engine_6x_faster_than_openfisca",
    )
    if args.profile or not all(targets[t] for t in speed_targets):
        print("profiling one engine run (cProfile) …", flush=True)
        results["engine_profile_top15_cumulative"] = profile_engine(engine_run)

    print_table(results)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


def print_table(r: dict[str, Any]) -> None:
    m, d = r["machine"], r["data"]
    print()
    print(
        f"machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_total_gb']} GB, "
        f"Python {m['python']}, polars {m['versions']['polars']}, duckdb "
        f"{m['versions']['duckdb']}, pandas {m['versions']['pandas']}, OpenFisca-Core "
        f"{m['versions']['OpenFisca-Core']}"
    )
    print(
        f"load average at start {fmt_load(m['loadavg_at_start'])}, at end "
        f"{fmt_load(m['loadavg_at_end'])}; other processes used "
        f"{m['other_processes_cpu_s']:.1f} CPU-s during the {m['benchmark_wall_s']:.0f} s run"
    )
    gen = f"generated in {d['generate_s']:.2f} s; " if d["generate_s"] is not None else ""
    print(
        f"data: {d['municipalities']} municipalities, {d['persons']:,} persons, "
        f"{d['vedtak_rows']:,} vedtak; {gen}load_input {d['load_s']:.2f} s; year {r['year']}, "
        f"{r['repeat']} runs each"
    )
    print()
    e, of = r["engine"], r["openfisca"]
    rows: list[tuple[str, dict[str, Any], str]] = [
        (
            "engine: Engine(data, params).compute_year",
            e,
            "full year, all annual figures; fresh data each run",
        ),
    ]
    if r.get("engine_same_data_again"):
        rows.append(
            (
                "  the same year on the same data again",
                r["engine_same_data_again"],
                "per-data tables kept (payments, scenarios; info)",
            )
        )
    if r.get("engine_kernel"):
        rows.append(
            ("  of which compute_activity alone", r["engine_kernel"], "activity kernel (info)")
        )
    if r.get("derived_columns_in_load"):
        rows.append(
            (
                "  + derived vedtak columns (in load_input)",
                r["derived_columns_in_load"],
                "with_derived: not in the engine's time",
            )
        )
    labels = {
        "duckdb": "DuckDB: factor table + SQL query",
        "polars": "Polars: factor table + lazy query",
        "pandas": "pandas: factor table + merge/NumPy",
    }
    for name in DATAFRAME_PEERS:
        p = r[name]
        rows.append(
            (
                labels[name],
                p,
                f"query alone median {p['query_median_s']:.3f} s; factors "
                f"{p['factors_median_s']:.3f} s; {r['speedup'][name]:.2f}× the engine's time",
            )
        )
    rows.append(
        (
            "OpenFisca-core model (float64)",
            of,
            f"build {of['build_median_s']:.3f} s + calculate {of['calculate_median_s']:.3f} s; "
            f"{r['speedup']['openfisca']:.2f}× the engine's time",
        )
    )
    g = r["git"]
    dirty = " (uncommitted changes in src)" if g["src_uncommitted"] else ""
    print(f"commit {g['commit']} {g['subject']}{dirty}")
    print()
    print(f"| {'what':<44} | {'median s':>8} | {'min s':>7} | notes")
    print(f"|{'-' * 46}|{'-' * 10}:|{'-' * 8}:|{'-' * 50}")
    for name, s, note in rows:
        print(f"| {name:<44} | {s['median_s']:>8.3f} | {s['min_s']:>7.3f} | {note}")
    mem, proc = r["memory"], r["memory_process"]
    print()
    print(
        f"memory: a fresh process loading the data and running the engine once peaks at "
        f"{proc['peak_rss_bytes'] / MIB:.0f} MiB (after load_input "
        f"{proc['after_load_bytes'] / MIB:.0f} MiB); in this process (peer libraries "
        f"imported) RSS after load "
        f"{mem['rss_after_load_mb'] * MB / MIB:.0f} MiB, peak during an engine run "
        f"{mem['peak_rss_during_engine_mb'] * MB / MIB:.0f} MiB"
    )
    a = r["agreement"]
    for name, c in a.items():
        if not name.endswith("_vs_engine"):
            continue
        print(
            f"{name}: {c['municipalities']} municipalities, {c['differing']} differ"
            + (
                f" (max {c['max_abs_diff_oere']} øre, total {c['total_diff_oere']} øre)"
                if c["differing"]
                else " — identical to the øre"
            )
        )
    print(f"national activity grant: {a['engine_total_oere'] / 100:,.2f} kr")
    print()
    sp = r["speedup"]
    print(
        "engine speed-up (peer median / engine median): "
        + ", ".join(f"{n} {sp[n]:.2f}×" for n in (*DATAFRAME_PEERS, "openfisca"))
        + f"; fastest dataframe peer: {r['fastest_dataframe_peer']}"
    )
    for name, ok in r["targets"].items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    if "engine_profile_top15_cumulative" in r:
        print()
        print(r["engine_profile_top15_cumulative"])


if __name__ == "__main__":
    raise SystemExit(main())
