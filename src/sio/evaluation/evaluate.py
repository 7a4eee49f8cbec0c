"""All of the evaluation at once: the analysis frame, equal treatment, needs coverage and the trial
against control, as one JSON-ready result (the `sio evaluer` output for programs).

Every figure carries its n and its uncertainty; the result says which figures rest on estimated
parameters (costs: the unit prices; coverage and computed need levels: the criteria) and whether
the data are synthetic. The keys are documented in docs/evaluation.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from sio.evaluation.coverage import coverage_table
from sio.evaluation.did import (
    OUTCOMES as DID_OUTCOMES,
)
from sio.evaluation.did import (
    REGISTER_BREAK_YEARS,
    estimate,
    panel_from_frame,
    unit_year_outcomes,
)
from sio.evaluation.dispersion import dispersion_change
from sio.evaluation.equal_treatment import (
    gini_against_chance,
    icc_anova,
    icc_mixed,
    residualise,
    standardised_rates,
)

if TYPE_CHECKING:
    from sio.evaluation.frame import AnalysisFrame

__all__ = ["EQUAL_TREATMENT_OUTCOMES", "Settings", "evaluate"]

EQUAL_TREATMENT_OUTCOMES: tuple[str, ...] = ("hour_equivalents", "institution", "cost")
"""Allocated services: weekly-hour equivalents, in an institution or not, cost at national
prices."""


@dataclass(frozen=True)
class Settings:
    """The knobs of the estimators (all seeded: the same settings give the same figures)."""

    seed: int = 1
    permutations: int = 999  # randomisation inference of the DiD
    replications: int = 199  # the Gini's null distribution
    alpha: float = 0.05
    mixed_max_rows: int = 250_000


def _clean(value: Any) -> Any:
    """Floats that JSON can hold (NaN and infinities become null), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _records(df: pl.DataFrame) -> list[dict[str, Any]]:
    return [_clean(r) for r in df.to_dicts()]


def _profile_cells(df: pl.DataFrame) -> int:
    return df.select(pl.struct("profile", "aar").n_unique()).item() if df.height else 0


def equal_treatment(frame: AnalysisFrame, settings: Settings) -> dict[str, Any]:
    """ICC (multilevel model over the window; one-way ANOVA per year, for all, trial and control
    municipalities), standardised rates with funnel limits, and the Gini against chance."""
    p = frame.persons
    out: dict[str, Any] = {"outcomes": list(EQUAL_TREATMENT_OUTCOMES)}
    mixed: dict[str, Any] = {}
    by_year: list[dict[str, Any]] = []
    rates: list[pl.DataFrame] = []
    ginis: list[dict[str, Any]] = []
    for outcome in EQUAL_TREATMENT_OUTCOMES:
        resid = residualise(p, outcome)
        icc = icc_mixed(
            p.get_column("kommunenummer").to_numpy(),
            resid.to_numpy(),
            settings.alpha,
            df_used=max(_profile_cells(p) - 1, 0),
        )
        mixed[outcome] = {**icc.to_dict(), "profile_cells": _profile_cells(p)}
        for year in range(frame.first, frame.last + 1):
            rows = p.filter(pl.col("aar") == year)
            for group, sub in (
                ("all", rows),
                ("trial", rows.filter(pl.col("trial"))),
                ("control", rows.filter(~pl.col("trial"))),
            ):
                if sub.height == 0:
                    continue
                r = residualise(sub, outcome)
                a = icc_anova(
                    sub.get_column("kommunenummer").to_numpy(),
                    r.to_numpy(),
                    settings.alpha,
                    df_used=max(_profile_cells(sub) - 1, 0),
                )
                by_year.append({"outcome": outcome, "aar": year, "group": group, **a.to_dict()})
            if rows.height:
                g = gini_against_chance(rows, outcome, settings.replications, settings.seed)
                ginis.append({"outcome": outcome, "aar": year, **g.to_dict()})
        rates.append(standardised_rates(p, outcome).with_columns(pl.lit(outcome).alias("outcome")))
    names = frame.names
    rate_rows = pl.concat(rates) if rates else pl.DataFrame()
    out["icc_mixed"] = _clean(mixed)
    out["icc_by_year"] = [_clean(r) for r in by_year]
    out["rates"] = [{**r, "navn": names.get(r["kommunenummer"], "")} for r in _records(rate_rows)]
    out["gini"] = [_clean(g) for g in ginis]
    out["dispersion"] = _clean(
        dispersion_change(p, settings.replications, settings.seed, settings.alpha)
    )
    return out


def evaluate(
    frame: AnalysisFrame,
    settings: Settings | None = None,
    *,
    source: str = "",
    data_version: int | None = None,
    synthetic: bool = False,
) -> dict[str, Any]:
    """The whole evaluation of `frame` as a JSON-ready dict."""
    settings = settings or Settings()
    p = frame.persons
    outcomes = unit_year_outcomes(frame)
    panel = panel_from_frame(outcomes, frame.first, frame.last)
    did = []
    for outcome in DID_OUTCOMES:
        res = estimate(
            panel,
            outcome,
            settings.permutations,
            settings.seed,
            settings.alpha,
            frame.merger_years,
            person_years=p.height,
        )
        if res is not None:
            did.append(_clean(res.to_dict()))
    names = frame.names
    cov = coverage_table(p)
    coverage = [{**r, "navn": names.get(r["kommunenummer"], "")} for r in _records(cov)]
    units = outcomes.select("unit", "trial").unique("unit").sort("unit")
    unit_rows = [
        {"unit": u, "navn": frame.unit_names.get(u) or names.get(u, ""), "trial": bool(t)}
        for u, t in units.iter_rows()
    ]
    meta = {
        "first": frame.first,
        "last": frame.last,
        "reference_day": "12-31",
        "price_year": frame.price_year,
        "source": source,
        "data_version": data_version,
        "synthetic": synthetic,
        "person_years": p.height,
        "persons": p.get_column("person_id").n_unique() if p.height else 0,
        "municipalities": p.get_column("kommunenummer").n_unique() if p.height else 0,
        "assessed_share": (
            float(p.select((pl.col("need_level") != "ukjent").mean()).item() or 0.0)
            if p.height
            else None
        ),
        "ages_known": frame.has_ages,
        "units": unit_rows,
        "estimated": {
            "cost": list(frame.cost_estimates),
            "coverage": list(frame.coverage_estimates),
            "need_level": list(frame.need_estimates),
        },
        "register_break_years": list(REGISTER_BREAK_YEARS),
        "merger_years": {str(y): list(c) for y, c in frame.merger_years.items()},
        "settings": {
            "seed": settings.seed,
            "permutations": settings.permutations,
            "replications": settings.replications,
            "alpha": settings.alpha,
            "mixed_max_rows": settings.mixed_max_rows,
        },
    }
    return {
        "meta": meta,
        "equal_treatment": equal_treatment(frame, settings),
        "coverage": coverage,
        "did": did,
        "unit_years": _records(outcomes),
    }
