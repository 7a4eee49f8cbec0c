"""Scenario benchmark: 200 draws × 356 municipalities × 15 years on the national synthetic data
(`sio synth national`), in this process against a Dask LocalCluster of 2 workers.

    .venv/bin/python benchmarks/scenario.py [--data DIR] [--draws 200] [--years 15] [--out FILE]

Without --data it writes the national synthetic data set (seed 1, 400 000 users, year 2021) to a
temporary folder. It writes a population projection in SSB's format for the 356 municipalities
(three alternatives, synthetic growth rates by age group from the data's 2021 population) and a
scenario: every municipality stays in model A, the supplement's cap is raised from 2025, the
deflator and the service-use growth are uncertain. Measured, each in a fresh process so that the
peak memory is the run's own:

- in-process: the wall time of `run_scenario` (anchor + worlds + draws), split into its parts,
  and the peak resident memory of the process;
- Dask LocalCluster, 2 worker processes × 1 thread: the wall time with the cluster already
  started (its start is reported apart), the peak memory of the client and of each worker, the
  task count and the measured cost per task; the figures are checked to be identical to the
  in-process run's;
- CPU time beside every wall time (this machine is shared: the load averages before and after
  are recorded);
- the projected time on N workers: anchor + worlds (in the client) + tasks × cost per task / N
  + the measured scheduling overhead per task.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

GROWTH = {
    "Hovedalternativet (MMMM)": {"0-66": 0.002, "67-79": 0.015, "80-89": 0.035, "90+": 0.03},
    "Lav nasjonal vekst (LLML)": {"0-66": -0.002, "67-79": 0.012, "80-89": 0.03, "90+": 0.025},
    "Høy nasjonal vekst (HHMH)": {"0-66": 0.006, "67-79": 0.018, "80-89": 0.04, "90+": 0.036},
}
LABEL = {"0-66": "0-66 år", "67-79": "67-79 år", "80-89": "80-89 år", "90+": "90 år eller eldre"}

SCENARIO = """\
navn: Benchmark, 356 kommuner
basisaar: 2021
horisont: {years}
parametere:
  inntektspaaslag.tak:
    2016-01-01: 25000000
    2020-01-01: 28000000
    2025-01-01: 32000000
befolkning: {{fil: befolkning.csv, alternativ: MMMM}}
tjenestebruk: {{alle: 0.005, omfattende: 0.01}}
usikkerhet:
  trekk: {draws}
  seed: 1
  inndata:
    deflator: {{fordeling: normal, middel: 0.03, standardavvik: 0.006, per_aar: true}}
    tjenestebruk.alle: {{fordeling: triangulaer, min: -0.005, modus: 0.005, maks: 0.02}}
"""


def write_projection(data: Path, out: Path, first: int, last: int) -> int:
    """A projection in SSB's CSV format from the data's last population year."""
    import polars as pl

    pop = pl.read_parquet(data / "befolkning.parquet")
    names = dict(pl.read_parquet(data / "kommuner.parquet").select("kommunenummer", "navn").rows())
    base_year = int(pop.get_column("aar").max())  # type: ignore[arg-type]
    base = {
        (k, g): n
        for k, y, g, n in pop.select("kommunenummer", "aar", "aldersgruppe", "antall").rows()
        if y == base_year
    }
    rows = 0
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";", quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        w.writerow(["region", "alder", "statistikkvariabel", "år", "Framskrevet folkemengde"])
        for k in sorted({k for k, _g in base}):
            for alt, growth in GROWTH.items():
                for g, label in LABEL.items():
                    for y in range(first, last + 1):
                        n = round(base[(k, g)] * (1 + growth[g]) ** (y - base_year))
                        w.writerow([f"{k} {names[k]}", label, alt, str(y), n])
                        rows += 1
    return rows


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, data: Path, scenario: Path, result_file: Path) -> None:
    """One measured run (in a fresh process)."""
    import numpy as np

    from sio.data.validation import load_input
    from sio.parameters import load_parameters
    from sio.scenario.run import run_scenario
    from sio.scenario.spec import load_scenario

    params = load_parameters()
    t0 = time.perf_counter()
    inp, _problems = load_input(data, params)
    load_s = time.perf_counter() - t0
    sc = load_scenario(scenario)
    info: dict[str, Any] = {"mode": mode, "load_s": load_s}
    if mode == "inprocess":
        t0, c0 = time.perf_counter(), time.process_time()
        r = run_scenario(sc, inp, params)
        info["wall_s"] = time.perf_counter() - t0
        info["cpu_s"] = time.process_time() - c0
    else:
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
        client.run(lambda: __import__("sio.scenario.project"))  # workers import the code once
        info["cluster_start_s"] = time.perf_counter() - t0
        from distributed import get_task_stream

        def worker_cpu() -> float:
            usage = client.run(lambda: __import__("time").process_time())
            return float(sum(usage.values()))

        w0 = worker_cpu()
        t0, c0 = time.perf_counter(), time.process_time()
        with get_task_stream(client) as stream:
            r = run_scenario(sc, inp, params, executor="dask", client=client)
        info["wall_s"] = time.perf_counter() - t0
        info["client_cpu_s"] = time.process_time() - c0
        info["worker_cpu_s"] = worker_cpu() - w0
        durations = [
            sum(s["stop"] - s["start"] for s in t["startstops"] if s["action"] == "compute")
            for t in stream.data
        ]
        info["tasks"] = len(durations)
        info["task_s_total"] = sum(durations)
        info["task_s_mean"] = sum(durations) / max(len(durations), 1)
        info["worker_peak_mib"] = [
            v / 2**20
            for v in client.run(
                lambda: __import__("resource").getrusage(0).ru_maxrss * 1024
            ).values()
        ]
        client.close()
        cluster.close()
    info["timings"] = r.timings
    info["peak_mib"] = _peak_mib()
    info["shape"] = list(r.figures.shape)
    np.save(result_file.with_suffix(".npy"), r.figures)
    nat = r.figures.sum(axis=2)[0]  # [draw, i, component]
    info["national_2036_netto_p50"] = int(np.median(nat[:, -1, 7]))
    result_file.write_text(json.dumps(info))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results-scenario.json")
    ap.add_argument("--child", nargs=4)
    args = ap.parse_args()
    if args.child:
        mode, data, scenario, result = args.child
        child(mode, Path(data), Path(scenario), Path(result))
        return
    import numpy as np

    work = Path(tempfile.mkdtemp(prefix="sio-scenario-bench-"))
    data = args.data
    if data is None:
        from sio.data.synth import write_national

        data = work / "data"
        write_national(data, seed=1, persons=400_000, year=2021, fmt="parquet")
    rows = write_projection(data, work / "befolkning.csv", 2022, 2021 + args.years)
    scenario = work / "scenario.yaml"
    scenario.write_text(SCENARIO.format(years=args.years, draws=args.draws), encoding="utf-8")
    results: dict[str, Any] = {
        "draws": args.draws,
        "years": args.years,
        "projection_rows": rows,
        "cpus": os.cpu_count(),
        "load_average_before": list(os.getloadavg()),
    }
    for mode in ("inprocess", "dask"):
        out = work / f"{mode}.json"
        cmd = [sys.executable, __file__, "--child", mode, str(data), str(scenario), str(out)]
        subprocess.run(cmd, check=True)
        results[mode] = json.loads(out.read_text())
    a = np.load(work / "inprocess.npy")
    b = np.load(work / "dask.npy")
    results["identical"] = bool(np.array_equal(a, b))
    ip, dk = results["inprocess"], results["dask"]
    results["speedup"] = ip["wall_s"] / dk["wall_s"]
    # On N workers: the client's part (anchor and worlds, which do not spread), then the tasks'
    # work shared by N (measured as the workers' CPU time, which the machine's load does not
    # inflate), plus the scheduling cost per task that the 2-worker run showed beyond its work.
    client_part = dk["timings"]["anker_cpu"] + dk["timings"]["verdener_cpu"]
    per_task = dk["worker_cpu_s"] / max(dk["tasks"], 1)
    overhead = max(dk["timings"]["trekk"] - dk["task_s_total"] / 2, 0.0) / max(dk["tasks"], 1)
    results["cpu_per_task_s"] = per_task
    results["projected_s"] = {
        str(n): client_part + dk["tasks"] * per_task / n + overhead * dk["tasks"] / n
        for n in (1, 2, 4, 8, 16, 32)
    }
    results["load_average_after"] = list(os.getloadavg())
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
