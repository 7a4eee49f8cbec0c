"""Benchmark of `sio evaluer` on the national synthetic data set, as the user runs it: a fresh
process, timed from the outside, with its peak memory.

    .venv/bin/python benchmarks/evaluation.py [--data DIR] [--fra 2016] [--til 2024] [--repeat 1]

Without `--data` the national data set over 2016–2024 is written once with `sio synth nasjonal
--fra-aar 2016 --til-aar 2024 --aar 2020 --effekt likebehandling=0.3 --effekt institusjon=0.3`
(seed 1, 400 000 persons) under benchmarks/data/evaluation-national-2016-2024. Then `sio evaluer
--data DIR --fra Y --til Y --ut OUT` runs `--repeat` times (after one untimed warm-up whose report
is checked); the median, min and max wall time, the CPU time and the child's peak RSS
(`os.wait4`) are recorded with the load average before and after, the person-years and
municipalities of the report, and the wall and CPU time (all threads) of each stage measured
inside one process (loading, the analysis frame, the estimators, the report). Results go to
benchmarks/results-evaluation.json.

Target (issue 10): at most 60 s for `sio evaluer` on the national data (~1 M vedtak, ~400 k
persons, 2016–2024).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SIO = Path(sys.executable).with_name("sio")
MIB = 1024 * 1024
TARGET_S = 60.0


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(args: list[str]) -> tuple[float, float, int, str]:
    """(wall s, CPU s of the child, peak RSS bytes, stderr) of one `sio` process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(SIO), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sio {' '.join(args)} failed:\n{stderr}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, stderr


NATIONAL_2016_2024 = [
    "--fra-aar",
    "2016",
    "--til-aar",
    "2024",
    "--aar",
    "2020",
    "--effekt",
    "likebehandling=0.3",
    "--effekt",
    "institusjon=0.3",
]


def stages(data: Path, first: int, last: int, out: Path) -> dict[str, dict[str, float]]:
    """Wall and CPU seconds of each stage inside this process (after the imports)."""
    from sio.data.validation import load_input
    from sio.evaluation.evaluate import Settings, evaluate
    from sio.evaluation.frame import build_frame
    from sio.evaluation.report import write_evaluation
    from sio.parameters import load_parameters

    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def clock(name: str, t0: float, c0: float) -> tuple[float, float]:
        wall[name] = round(time.perf_counter() - t0, 2)
        cpu[name] = round(time.process_time() - c0, 2)
        return time.perf_counter(), time.process_time()

    t0, c0 = time.perf_counter(), time.process_time()
    params = load_parameters()
    inp, _problems = load_input(data, params)
    t0, c0 = clock("load", t0, c0)
    frame = build_frame(inp, params, first, last)
    t0, c0 = clock("frame", t0, c0)
    result = evaluate(frame, Settings(), source=str(data), synthetic=True)
    t0, c0 = clock("estimators", t0, c0)
    write_evaluation(result, out)
    clock("report", t0, c0)
    return {"wall": wall, "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path)
    ap.add_argument("--fra", type=int, default=2016)
    ap.add_argument("--til", type=int, default=2024)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "results-evaluation.json")
    opts = ap.parse_args()
    data = opts.data
    if data is None:
        data = HERE / "data" / "evaluation-national-2016-2024"
        if not (data / "vedtak.parquet").exists():
            run(["syntetisk", "nasjonal", "--ut", str(data), *NATIONAL_2016_2024])
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report"
        args = [
            "evaluer",
            "--data",
            str(data),
            "--fra",
            str(opts.fra),
            "--til",
            str(opts.til),
            "--ut",
            str(report),
        ]
        run(args)  # warm-up, checked below
        result = json.loads((report / "evaluering.json").read_text(encoding="utf-8"))
        walls, cpus, peaks = [], [], []
        load_before = loadavg()
        for _ in range(opts.repeat):
            wall, cpu, peak, _err = run(args)
            walls.append(wall)
            cpus.append(cpu)
            peaks.append(peak)
        load_after = loadavg()
        inside = stages(data, opts.fra, opts.til, Path(tmp) / "inside")
    meta = result["meta"]
    record: dict[str, Any] = {
        "command": "sio " + " ".join(a if not a.startswith("/") else Path(a).name for a in args),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_before": load_before,
        "load_after": load_after,
        "wall_s": {
            "median": round(statistics.median(walls), 2),
            "min": round(min(walls), 2),
            "max": round(max(walls), 2),
        },
        "cpu_s_median": round(statistics.median(cpus), 2),
        "peak_rss_mib": round(max(peaks) / MIB),
        "stages_s": inside["wall"],
        "stages_cpu_s": inside["cpu"],
        "person_years": meta["person_years"],
        "persons": meta["persons"],
        "municipalities": meta["municipalities"],
        "did_outcomes": len(result["did"]),
        "target_s": TARGET_S,
        "within_target": statistics.median(walls) <= TARGET_S,
    }
    opts.out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
