"""The draws of a scenario's uncertain inputs (`usikkerhet`): one value per draw (or per draw and
year, `per_aar: true`) from its distribution, all from one seeded NumPy generator in a fixed order
(the inputs sorted by name), so the same file and seed give the same draws on any machine and
with any executor. Draws are made once, in the process that starts the run, and handed to the
tasks: a task never draws.

What the inputs mean:
- ``deflator``: the deflator of each projection year (replacing `uttrekk.deflator` after the anchor
  year) — it drives both the extraction's index and the unit prices' indexing;
- ``tjenestebruk.<nivå>``: the yearly growth of decided volume per user of that need level
  (``alle``: every level not named on its own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sio.scenario.spec import NEED_KEYS, Distribution, Scenario

__all__ = ["DrawTable", "make_draws"]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DrawTable:
    """The draws: `deflator[d, i]` for projection year i (None: the parameter's values), and
    `growth_factor[d, n, i]` = (1 + growth of need level n) ** i for i = 0 … horizon."""

    count: int
    deflator: F64 | None
    growth_factor: F64  # draws × NEED_KEYS × (horizon + 1)

    def block(self, start: int, stop: int) -> DrawTable:
        """Draws start … stop − 1."""
        return DrawTable(
            stop - start,
            None if self.deflator is None else self.deflator[start:stop],
            self.growth_factor[start:stop],
        )


def _sample(rng: np.random.Generator, d: Distribution, shape: tuple[int, ...]) -> F64:
    if d.fordeling == "normal":
        assert d.middel is not None and d.standardavvik is not None
        return rng.normal(d.middel, d.standardavvik, shape)
    if d.fordeling == "lognormal":
        assert d.median is not None and d.sigma is not None
        return rng.lognormal(math.log(d.median), d.sigma, shape)
    if d.fordeling == "triangulaer":
        assert d.min is not None and d.modus is not None and d.maks is not None
        if d.min == d.maks:
            return np.full(shape, d.min)
        return rng.triangular(d.min, d.modus, d.maks, shape)
    assert d.min is not None and d.maks is not None
    return rng.uniform(d.min, d.maks, shape)


def make_draws(scenario: Scenario) -> DrawTable:
    """Every draw of the scenario (one draw, of no uncertainty, when `usikkerhet` is empty)."""
    u = scenario.usikkerhet
    n = u.trekk if u.inndata else 1
    horizon = scenario.horisont
    rng = np.random.default_rng(np.random.SeedSequence(u.seed))
    sampled: dict[str, F64] = {}
    for name in sorted(u.inndata):
        dist = u.inndata[name]
        shape = (n, horizon) if dist.per_aar else (n,)
        values = _sample(rng, dist, shape)
        if values.ndim == 1:
            values = np.repeat(values[:, None], horizon, axis=1)
        sampled[name] = values
    deflator = sampled.get("deflator")
    if deflator is not None and np.any(deflator <= -1):
        raise ValueError("a drawn deflator is -100 % or below")
    years = np.arange(horizon + 1, dtype=np.float64)
    factors = np.empty((n, len(NEED_KEYS), horizon + 1))
    for j, level in enumerate(NEED_KEYS):
        drawn = sampled.get(f"tjenestebruk.{level}", sampled.get("tjenestebruk.alle"))
        g = np.full((n, horizon), scenario.growth(level)) if drawn is None else drawn
        if np.any(g <= -1):
            raise ValueError(f"a drawn service-use growth of {level} is -100 % or below")
        # (1 + g_1)(1 + g_2)… year by year: a per-year draw compounds its own values
        factors[:, j, 0] = 1.0
        factors[:, j, 1:] = np.cumprod(1.0 + g, axis=1)
    del years
    return DrawTable(n, deflator, factors)
