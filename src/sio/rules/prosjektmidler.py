"""Project-cost limit (scheme.md §3.2): in model A, up to `inntektspaaslag.prosjektmidler_maks`
per year of the supplement may be spent on running the project.

The limit of a year is the limit of each model A month (the value in force on its first day) / 12,
summed over the year's model A months — a part year gets a part of the limit, as the supplement
and its cap do — and never more than the year's supplement itself, which is what it is spent from.
This is a check that reports show, not an amount that changes a grant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from sio.parameters import ParameterSet, UsageLog

PATH = "inntektspaaslag.prosjektmidler_maks"


@dataclass(frozen=True)
class ProjectCostCheck:
    """Reported project costs of one municipality and year against the limit."""

    kommunenummer: str
    aar: int
    beloep: int
    grense: Fraction
    innenfor: bool


def project_cost_limit(
    params: ParameterSet,
    year: int,
    model_a_months: list[int],
    supplement: Fraction,
    log: UsageLog | None = None,
) -> Fraction:
    """The exact limit on project costs for a year with these model A months."""
    total = sum(
        (params.number(PATH, dt.date(year, mo, 1), log) / 12 for mo in model_a_months),
        Fraction(0),
    )
    return min(total, supplement)


def check_project_costs(
    code: str,
    year: int,
    beloep: int,
    params: ParameterSet,
    model_a_months: list[int],
    supplement: Fraction,
    log: UsageLog | None = None,
) -> ProjectCostCheck:
    limit = project_cost_limit(params, year, model_a_months, supplement, log)
    return ProjectCostCheck(code, year, beloep, limit, Fraction(beloep) <= limit)
