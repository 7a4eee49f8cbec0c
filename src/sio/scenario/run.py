"""A scenario run from start to end: read the file, apply its overrides, compute the anchor year
with the engine, build both worlds, draw, project (in-process or on Dask) — the function the
command line and the tests call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sio.data.model import InputData
from sio.i18n import _
from sio.parameters import ParameterSet, read_override_file
from sio.scenario.anchor import (
    Anchor,
    ScenarioDataError,
    anchor_year_of,
    build_anchor,
    build_world,
    scenario_participation,
)
from sio.scenario.draws import DrawTable, make_draws
from sio.scenario.executors import DEFAULT_BINS, make_bins, run_dask, run_inprocess
from sio.scenario.population import ProjectionInvalid, read_projection
from sio.scenario.spec import Scenario

__all__ = ["ScenarioResult", "run_scenario", "scenario_params"]

I64 = npt.NDArray[np.int64]


@dataclass
class ScenarioResult:
    """The figures of every draw: `figures[world, draw, unit, i, component]` in whole kroner
    (world 0 the scenario, 1 the baseline; i = 0 the anchor year)."""

    scenario: Scenario
    anchor: Anchor
    draws: DrawTable
    figures: I64
    months: I64  # [world, unit, i]: participating months
    params_version: str
    estimates: tuple[str, ...]
    executor: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def years(self) -> list[int]:
        return [self.anchor.year + i for i in range(self.anchor.horizon + 1)]


def scenario_params(scenario: Scenario, params: ParameterSet) -> ParameterSet:
    """The default parameters with the scenario's override file, then its own `parametere`
    (the format of ``--overstyring``; the same loader and checks)."""
    out = params
    if scenario.overstyring is not None:
        out = out.with_overrides(
            read_override_file(scenario.path(scenario.overstyring)),
            source=str(scenario.path(scenario.overstyring)),
        )
    if scenario.parametere:
        out = out.with_overrides(scenario.parametere, source=f"{scenario.fil}: parametere")
    return out


def run_scenario(
    scenario: Scenario,
    data: InputData,
    params: ParameterSet,
    executor: str = "inprocess",
    scheduler: str | None = None,
    workers: int = 2,
    bins: int = DEFAULT_BINS,
    client: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScenarioResult:
    """Run a scenario on validated data; raises `ScenarioDataError`, `ProjectionInvalid` or
    `ParameterError` with messages naming the file, key and rule."""
    t0, c0 = time.perf_counter(), time.process_time()
    scn_params = scenario_params(scenario, params)
    year = scenario.basisaar if scenario.basisaar is not None else anchor_year_of(data)
    projection = None
    source = ""
    if scenario.befolkning is not None:
        file = scenario.path(scenario.befolkning.fil)
        source = f"{file}: "
        projection = read_projection(file, scenario.befolkning.alternativ)
    else:
        source = f"{scenario.fil}: befolkning: "
    anchor = build_anchor(data, params, year, scenario.horisont, projection, source)
    t1, c1 = time.perf_counter(), time.process_time()
    frame = scenario_participation(anchor, scenario.deltakelse, scenario.fil)
    worlds = [
        build_world("scenario", anchor, scn_params, frame),
        build_world("basis", anchor, params, data.deltakelse),
    ]
    no_volume = [
        anchor.units[u]
        for u in range(len(anchor.units))
        if worlds[0].act[u].any() and not anchor.anchor_oere[u].any()
    ]
    if no_volume:
        anchor.warnings.append(
            _(
                "no vedtak in the anchor year {year} for {codes}: their activity grant is "
                "projected as 0"
            ).format(year=year, codes=", ".join(no_volume))
        )
    draws = make_draws(scenario)
    t2, c2 = time.perf_counter(), time.process_time()
    units = len(anchor.units)
    cut = make_bins(anchor, worlds, bins)
    if executor == "dask":
        figures = run_dask(cut, draws, units, scheduler, workers, progress=progress, client=client)
    else:
        figures = run_inprocess(cut, draws, units, progress=progress)
    t3, c3 = time.perf_counter(), time.process_time()
    months = np.stack([w.part.sum(axis=2).astype(np.int64) for w in worlds])
    estimates = sorted({p for r in anchor.baseline.results for p in r.estimerte_parametere})
    return ScenarioResult(
        scenario,
        anchor,
        draws,
        figures,
        months,
        scn_params.version,
        tuple(estimates),
        executor,
        {
            "anker": t1 - t0,
            "verdener": t2 - t1,
            "trekk": t3 - t2,
            "anker_cpu": c1 - c0,
            "verdener_cpu": c2 - c1,
            "trekk_cpu": c3 - c2,  # this process only: not the Dask workers'
        },
    )


__all__ += ["ProjectionInvalid", "ScenarioDataError"]
