"""The percentiles of a scenario run: national and per-municipality figures per year, for the
scenario, the baseline and their difference (scenario − baseline, draw by draw), as p10, p50 and
p90 over the draws.

A percentile is one of the draws' own values (NumPy's ``inverted_cdf``: the smallest value with at
least that share of draws at or below it), so every figure stays whole kroner. National figures
are sums of the municipalities' rounded figures (integers: exact). `statens_kostnad` is the
state's net cost of the scheme in a year: the grants paid less the extraction and the
toppfinansiering withheld from the block grant (= Σ netto).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sio.scenario.project import COMPONENTS
from sio.scenario.run import ScenarioResult

__all__ = ["NATIONAL", "PERCENTILES", "Summary", "summarise"]

I64 = npt.NDArray[np.int64]
PERCENTILES: tuple[int, ...] = (10, 50, 90)
NATIONAL: tuple[str, ...] = (*COMPONENTS, "statens_kostnad")


def _pct(values: I64, axis: int) -> I64:
    """p10, p50, p90 along `axis` (a new last axis), each one of the values."""
    out = np.percentile(values, PERCENTILES, axis=axis, method="inverted_cdf")
    return np.moveaxis(np.asarray(out).astype(np.int64), 0, -1)


@dataclass(frozen=True)
class Summary:
    """`national[kind][i, figure, p]` and `municipal[kind][unit, i, component, p]`, kind in
    scenario / basis / differanse; `draws_national[world, draw, i, figure]`."""

    years: list[int]
    national: dict[str, I64]
    municipal: dict[str, I64]
    draws_national: I64


def summarise(result: ScenarioResult) -> Summary:
    f = result.figures  # [world, draw, unit, i, component]
    nat = f.sum(axis=2)  # [world, draw, i, component]
    nat = np.concatenate([nat, nat[..., 7:8]], axis=-1)  # statens_kostnad = Σ netto
    diff = nat[0] - nat[1]
    national = {
        "scenario": _pct(nat[0], 0),
        "basis": _pct(nat[1], 0),
        "differanse": _pct(diff, 0),
    }
    municipal = {
        "scenario": _pct(f[0], 0),
        "basis": _pct(f[1], 0),
        "differanse": _pct(f[0] - f[1], 0),
    }
    return Summary(result.years, national, municipal, nat)
