"""A synthetic *national* input directory (interfaces.md §1) for benchmarks, scale tests and
scenario work (`sio synth national`).

Nothing in it is real. It is shaped to look like the country; the calibration targets and their
public sources are in docs/synthetic-data.md. `write_national` writes 356 synthetic
municipalities (codes `9001`…`9356`, names "Syntetisk kommune NNN"; the 9xxx series is not used
by real Norwegian municipalities) that all take part in model A for the whole of `year`
(participation from `year`-01-01, open-ended), so the base year is `year` − 1.

- **Population** (`befolkning`, 1 January of `year` − 1 and `year`): seven large cities (the
  largest ≈ 700 000) and a lognormal bulk of mostly small municipalities (median ≈ 5 000, about a
  third below 3 000), `TOTAL_POPULATION` in all; older age profiles in small places.
- **Care users**: ≈ `persons` people, each with a municipality, an age group and an IPLOS need
  level (`NEED_LEVELS`: noe/avgrenset, middels til stort, omfattende). Users are drawn over
  municipality × age group in proportion to the population times `PREVALENCE_BY_AGE` (so the
  share of inhabitants who are users rises steeply with age; every municipality has at least one
  user when `persons` ≥ 356); the need level is drawn from `NEED_BY_AGE`.
- **Service mix**: every user has a main service drawn from a table by need level and age group
  (home services and support contact for light needs; home nursing, short stays and housing with
  24-hour staff for medium needs; long-term nursing-home stays, 24-hour housing and, for the young,
  BPA for extensive needs), plus on average `EXTRA_VEDTAK_BY_NEED` further decisions over every
  service of scheme.md §6 and the lump-sum services (safety alarms, meals, day activities).
- **Volumes**: each user gets a total of home nursing and practical assistance hours per week
  from `HOME_HOURS_BY_NEED` (the mean by age group and need level), split over the user's
  decisions for those services; other hour-based services and respite days scale with the need
  level; stays count one `doegn` per day. Hours per week (most), hours per month and
  `per_maaned`; volumes are multiples of ¼ hour (decimal text exact), at most 84 hours a week.
  Price groups for short- and long-term stays; half of the standard-group rows leave
  `prisgruppe` empty (= STANDARD). Decisions start from 1 January of `year` − 2 to the end of
  `year`; many are open-ended, short stays last weeks; some ended before `year`.
- **Extra vedtak columns** (interfaces allow extra columns; the engine ignores them):
  `aldersgruppe` (the user's age group) and `bistandsbehov` (the need level).
- **Employer-tax zones** over 1, 1a, 2, 3, 4, 4a, 5 (large municipalities mostly zone 1) and
  travel indices 0–2 (higher in small municipalities, 0 for some).
- **Organisation numbers** (`kommuner.organisasjonsnummer`): fictional, one per code, with a
  valid mod-11 check digit ("10", the code, "0", a digit, the check digit: 9001 → 109001007;
  `sio.data.demo.fictional_organisasjonsnummer`). Real organisation numbers begin with 8 or 9.
- **Expenditure** (`utgifter`, KOSTRA 234, 253, 254, 261 and an ignored function 120) for
  `year` − 1 and `year`, consistent with the activity: a municipality's care expenditure is its
  activity value at the rough 2016 prices below divided by `CALIBRATION_RATIO` (so the activity
  grant is near that ratio of the extraction), with noise; `toppfinansiering` for `year` (0 for
  some).

With `years` = (first, last) (`sio synth national --fra-aar --til-aar`) the same users enter and
leave care over the years (`_window_dates`), so that decisions are in force on every 31 December
of the window; population, expenditure and toppfinansiering are given for every year.

Everything is vectorised with numpy (no loop per row): a million vedtak take a second or two.
The same arguments give the same frames and files; each table draws from its own child seed, so
the municipalities do not change when only `persons` changes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from sio.data.demo import fictional_organisasjonsnummer
from sio.data.synth_evaluation import (
    CONTROL_AGE_SHARES,
    CONTROL_CODES,
    CONTROL_GROWTH,
    CONTROL_POPULATION_2016,
    Effects,
    assessment_scores,
    control_codes,
    persons_frame,
)

__all__ = [
    "AGE_GROUPS",
    "CALIBRATION_RATIO",
    "EXTRA_VEDTAK_BY_NEED",
    "FIRST_CODE",
    "HOME_HOURS_BY_NEED",
    "NEED_BY_AGE",
    "NEED_LEVELS",
    "N_MUNICIPALITIES",
    "PREVALENCE_BY_AGE",
    "TABLE_NAMES",
    "TOTAL_POPULATION",
    "national_frames",
    "write_national",
]

N_MUNICIPALITIES = 356
TOTAL_POPULATION = 5_400_000
"""≈ the population of Norway on 1 January 2021 (5 391 369)."""
FIRST_CODE = 9001
CALIBRATION_RATIO = 0.9
"""Target ratio of a municipality's activity grant to its extraction (roughly)."""

VALID_FROM = dt.date(2000, 1, 1)
"""A conventional start of validity of the synthetic codes (before any decision)."""

TABLE_NAMES: tuple[str, ...] = (
    "kommuner",
    "deltakelse",
    "utgifter",
    "befolkning",
    "toppfinansiering",
    "vedtak",
    "personer",
    "kartlegging",
)
"""The files `write_national` writes, in order (and `synth.json`, the truth behind them)."""
TRUTH_FILE = "synth.json"

AGE_GROUPS: tuple[str, ...] = ("0-66", "67-79", "80-89", "90+")
NEED_LEVELS: tuple[str, ...] = ("noe_avgrenset", "middels_til_stort", "omfattende")
"""The three IPLOS need levels (bistandsbehov): some/limited, medium to large, extensive."""

PREVALENCE_BY_AGE: tuple[float, ...] = (0.042, 0.12, 0.43, 0.82)
"""Care users during the year per inhabitant, by age group, at the default `persons`. The users
are drawn in proportion to population × these rates; `persons` then scales all of them alike."""

NEED_BY_AGE: tuple[tuple[float, float, float], ...] = (
    (0.50, 0.30, 0.20),  # 0-66
    (0.45, 0.35, 0.20),  # 67-79
    (0.38, 0.37, 0.25),  # 80-89
    (0.28, 0.40, 0.32),  # 90+
)
"""Share of users in each need level (noe/avgrenset, middels til stort, omfattende) by age."""

HOME_HOURS_BY_NEED: tuple[tuple[float, float, float], ...] = (
    (2.0, 9.0, 50.0),  # 0-66
    (1.7, 4.9, 20.1),  # 67-79
    (1.7, 4.5, 13.4),  # 80-89
    (2.0, 5.4, 13.8),  # 90+
)
"""Mean hours per week of home nursing and practical assistance per user, by age and need
(SSB: hours per week by age and need level, docs/synthetic-data.md)."""

EXTRA_VEDTAK_BY_NEED: tuple[float, float, float] = (0.95, 1.65, 2.25)
"""Mean number of decisions besides the main one, by need level (Poisson)."""

_HOME_HOURS_SIGMA = 0.7
_NEED_VOLUME = (0.6, 1.0, 1.7)
"""Volume multiplier by need level for hour- and day-counted services other than home nursing
and practical assistance (BPA, care benefit, support contact, respite days, meals …)."""

_CITIES = (700_000.0, 290_000.0, 212_000.0, 146_000.0, 128_000.0, 114_000.0, 103_000.0)
_ZONES = ("1", "1a", "2", "3", "4", "4a", "5")
_ZONE_P_LARGE = (0.9, 0.0, 0.06, 0.04, 0.0, 0.0, 0.0)
_ZONE_P_SMALL = (0.48, 0.05, 0.16, 0.06, 0.13, 0.05, 0.07)
_CARE_FUNCTIONS = (("234", 0.07), ("253", 0.52), ("254", 0.39), ("261", 0.02))
_OTHER_FUNCTION = "120"
_OTHER_PER_INHABITANT = 3_000.0
_FLOOR_PER_INHABITANT = 100.0
"""Least care expenditure per inhabitant (kroner), for municipalities with few or no decisions."""
_ROUGH_GROWTH = 1.03
"""Rough yearly price growth since 2016, for calibrating expenditure only."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class _Option:
    """One way a service is decided: its unit, its share among the service's decisions, the volume
    (lognormal median and sigma, rounded to `step`, clipped to [lo, hi]) and the duration
    (share left open-ended; lognormal median and sigma in days for the others)."""

    enhet: str
    share: float
    median: float
    sigma: float
    step: float
    lo: float
    hi: float
    open_share: float
    days_median: float
    days_sigma: float


@dataclass(frozen=True)
class _Service:
    """A service: its price groups (name, share, rough 2016 price; price 0 = not priced, covered
    by the lump sum), the ways it is decided, whether its hours are part of a user's home hours
    (home nursing and practical assistance: `HOME_HOURS_BY_NEED`) and its weight when splitting
    them, and how likely it is, as a relative weight: as a user's main service by need level, as
    a further service by need level, and by age group."""

    code: str
    groups: tuple[tuple[str, float, float], ...]
    options: tuple[_Option, ...]
    main: tuple[float, float, float]
    extra: tuple[float, float, float]
    age: tuple[float, float, float, float]
    home_weight: float = 0.0


def _hours(
    share: float, weekly: float, sigma: float, hi: float, open_share: float, days: float
) -> tuple[_Option, ...]:
    """Hours per week (most), hours per month and `per_maaned` for an hour-priced service."""
    monthly = weekly * 365.25 / 12 / 7
    return (
        _Option("timer_per_uke", share, weekly, sigma, 0.25, 0.25, hi, open_share, days, 0.8),
        _Option(
            "timer_per_maaned",
            (1 - share) * 0.7,
            monthly,
            sigma,
            0.5,
            0.5,
            hi * 4,
            open_share,
            days,
            0.8,
        ),
        _Option(
            "per_maaned", (1 - share) * 0.3, monthly, sigma, 0.5, 0.5, hi * 4, open_share, days, 0.8
        ),
    )


def _stay(open_share: float, days: float, sigma: float) -> tuple[_Option, ...]:
    """One day per day in force (`doegn`)."""
    return (_Option("doegn", 1.0, 1, 0, 1, 1, 1, open_share, days, sigma),)


def _std(price: float) -> tuple[tuple[str, float, float], ...]:
    return (("STANDARD", 1.0, price),)


# Weights: main (noe, middels, omfattende), extra (same), age (0-66, 67-79, 80-89, 90+).
SERVICES: tuple[_Service, ...] = (
    _Service(
        "HJSPL",
        _std(720),
        _hours(0.92, 3.5, 0.8, 84, 0.4, 330),
        main=(1.5, 1.8, 0.9),
        extra=(0.7, 1.1, 0.8),
        age=(0.5, 1.0, 1.0, 1.0),
        home_weight=1.4,
    ),
    _Service(
        "PB_DAGL",
        _std(520),
        _hours(0.9, 2.0, 0.7, 84, 0.4, 360),
        main=(0.8, 0.5, 0.2),
        extra=(0.5, 0.6, 0.4),
        age=(0.4, 1.0, 1.1, 1.1),
        home_weight=1.0,
    ),
    _Service(
        "PB_OPPL",
        _std(560),
        _hours(0.85, 3.0, 0.6, 84, 0.2, 180),
        main=(0.25, 0.2, 0.1),
        extra=(0.1, 0.1, 0.08),
        age=(1.0, 0.1, 0.04, 0.02),
        home_weight=0.8,
    ),
    _Service(
        "BPA",
        _std(390),
        _hours(0.95, 18.0, 0.7, 84, 0.5, 540),
        main=(0.0, 0.02, 0.12),
        extra=(0.0, 0.01, 0.04),
        age=(1.0, 0.25, 0.08, 0.03),
    ),
    _Service(
        "OMSORGSSTOENAD",
        _std(210),
        _hours(0.6, 8.0, 0.6, 84, 0.4, 540),
        main=(0.01, 0.07, 0.15),
        extra=(0.02, 0.05, 0.07),
        age=(1.0, 0.4, 0.3, 0.2),
    ),
    _Service(
        "STOETTEKONTAKT",
        _std(260),
        _hours(0.4, 3.0, 0.5, 20, 0.3, 365),
        main=(0.55, 0.35, 0.15),
        extra=(0.2, 0.15, 0.1),
        age=(1.0, 0.08, 0.03, 0.01),
    ),
    _Service(
        "AVLASTNING_INST",
        _std(3100),
        (
            _Option("doegn", 0.6, 1, 0, 1, 1, 1, 0.0, 10, 0.7),
            _Option("per_maaned", 0.4, 4, 0.5, 1, 1, 14, 0.3, 365, 0.6),
        ),
        main=(0.0, 0.05, 0.15),
        extra=(0.02, 0.1, 0.2),
        age=(1.0, 0.4, 0.5, 0.4),
    ),
    _Service(
        "AVLASTNING_UTENFOR",
        _std(2600),
        (
            _Option("doegn", 0.5, 1, 0, 1, 1, 1, 0.0, 7, 0.7),
            _Option("per_maaned", 0.5, 3, 0.5, 1, 1, 12, 0.3, 365, 0.6),
        ),
        main=(0.0, 0.05, 0.12),
        extra=(0.02, 0.08, 0.15),
        age=(1.0, 0.2, 0.1, 0.05),
    ),
    _Service(
        "BOLIG_HELDOEGN",
        _std(2500),
        _stay(0.7, 700, 0.6),
        main=(0.0, 0.08, 0.4),
        extra=(0.0, 0.03, 0.06),
        age=(1.0, 0.6, 0.8, 0.9),
    ),
    _Service(
        "INST_KORT",
        (
            ("STANDARD", 0.55, 3400),
            ("UTREDNING", 0.15, 3500),
            ("REHABILITERING", 0.2, 3800),
            ("LINDRENDE", 0.1, 4200),
        ),
        _stay(0.0, 28, 0.7),
        main=(0.02, 0.15, 0.25),
        extra=(0.05, 0.4, 0.7),
        age=(0.1, 0.8, 1.0, 1.0),
    ),
    _Service(
        "INST_LANG",
        (("STANDARD", 0.6, 3100), ("SKJERMET", 0.3, 3500), ("FORSTERKET", 0.1, 4300)),
        _stay(0.65, 600, 0.6),
        main=(0.0, 0.22, 2.6),
        extra=(0.0, 0.02, 0.15),
        age=(0.03, 0.5, 1.0, 1.3),
    ),
    _Service(
        "TRYGGHETSALARM",
        _std(0),
        (_Option("per_maaned", 1.0, 1, 0, 1, 1, 1, 0.6, 500, 0.7),),
        main=(0.6, 0.2, 0.0),
        extra=(1.0, 1.0, 0.3),
        age=(0.1, 1.0, 1.2, 1.2),
    ),
    _Service(
        "DAGAKTIVITET",
        _std(0),
        (_Option("per_maaned", 1.0, 8, 0.4, 1, 1, 22, 0.4, 365, 0.6),),
        main=(0.1, 0.1, 0.05),
        extra=(0.2, 0.3, 0.2),
        age=(0.8, 0.8, 1.0, 0.8),
    ),
    _Service(
        "MATOMBRINGING",
        _std(0),
        (_Option("per_maaned", 1.0, 20, 0.4, 1, 4, 62, 0.4, 365, 0.6),),
        main=(0.1, 0.05, 0.0),
        extra=(0.4, 0.5, 0.2),
        age=(0.1, 1.0, 1.3, 1.4),
    ),
)


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _choice(rng: np.random.Generator, p: npt.ArrayLike, size: int) -> IntArray:
    probs = np.asarray(p, dtype=np.float64)
    return rng.choice(len(probs), size=size, p=probs / probs.sum()).astype(np.int64)


def _choice_by_row(rng: np.random.Generator, table: FloatArray, rows: IntArray) -> IntArray:
    """For each element of `rows`, an index drawn from that row of `table` (weights, one row per
    case): inverse CDF, vectorised."""
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int64)
    for case in range(table.shape[0]):  # one pass per case (a dozen), not per row
        m = rows == case
        out[m] = np.searchsorted(cdf[case], u[m], side="right")
    return np.asarray(np.minimum(out, table.shape[1] - 1), dtype=np.int64)


def _dates(days: IntArray, missing: BoolArray | None = None) -> pl.Series:
    s = pl.Series("d", days.astype(np.int32)).cast(pl.Date)
    if missing is None:
        return s
    frame = pl.DataFrame({"d": s, "m": missing})
    return frame.select(pl.when(~pl.col("m")).then(pl.col("d")).alias("d")).to_series()


@dataclass
class _Municipalities:
    codes: list[str]
    population: IntArray  # (n, 4) on 1 January of year − 1
    population_next: IntArray  # (n, 4) on 1 January of year
    zones: IntArray
    reiseindeks: IntArray  # hundredths


def _municipalities(rng: np.random.Generator, n: int) -> _Municipalities:
    n_bulk = n - len(_CITIES)
    cities = np.array(_CITIES) * rng.uniform(0.97, 1.03, len(_CITIES))
    bulk = np.sort(rng.lognormal(np.log(5_000.0), 1.25, n_bulk))
    for _ in range(4):  # scale the bulk to the national total, keeping it below the cities
        bulk = np.clip(
            bulk * (TOTAL_POPULATION - cities.sum()) / bulk.sum(), 190.0, 0.9 * cities.min()
        )
    total = rng.permutation(np.concatenate([cities, bulk]))
    small = np.clip((np.log(30_000.0) - np.log(total)) / 3.0, 0.0, 1.0)

    shares = np.zeros((n, 4))
    shares[:, 1] = (0.11 + 0.05 * small) * rng.lognormal(0, 0.08, n)
    shares[:, 2] = (0.03 + 0.025 * small) * rng.lognormal(0, 0.1, n)
    shares[:, 3] = (0.0072 + 0.007 * small) * rng.lognormal(0, 0.15, n)
    pop = np.rint(total[:, None] * shares).astype(np.int64)
    pop[:, 0] = np.rint(total).astype(np.int64) - pop[:, 1:].sum(axis=1)
    growth = np.column_stack(
        [
            rng.normal(0.002, 0.008, n),
            rng.normal(0.03, 0.01, n),
            rng.normal(0.02, 0.015, n),
            rng.normal(0.01, 0.03, n),
        ]
    )
    nxt = np.maximum(np.rint(pop * (1 + growth)).astype(np.int64), 0)

    large = total > 30_000
    zones = np.where(
        large,
        _choice(rng, _ZONE_P_LARGE, n),
        _choice(rng, _ZONE_P_SMALL, n),
    )
    ri = np.clip(0.15 + 1.3 * small + rng.normal(0, 0.3, n), 0.01, 2.0)
    ri = np.where(rng.random(n) < 0.12, 0.0, ri)
    ri = np.where(total > 100_000, 0.0, ri)
    codes = [f"{FIRST_CODE + i:04d}" for i in range(n)]
    return _Municipalities(codes, pop, nxt, zones, np.rint(ri * 100).astype(np.int64))


@dataclass
class _Vedtak:
    kommune: IntArray
    person: IntArray
    age: IntArray  # the user's age group (index into AGE_GROUPS)
    need: IntArray  # the user's need level (index into NEED_LEVELS)
    service: IntArray
    group: IntArray  # index into the service's groups
    option: IntArray  # index into the service's options
    omfang: FloatArray
    fra: IntArray  # days since epoch
    til: IntArray
    open_: BoolArray
    blank_group: BoolArray
    home_raw: FloatArray  # home hours before rounding, in the row's unit (0 for other rows)
    user_hours: FloatArray  # per user: weekly home hours (`HOME_HOURS_BY_NEED` × noise)


ROW_FIELDS: tuple[str, ...] = tuple(f for f in _Vedtak.__dataclass_fields__ if f != "user_hours")
"""The fields of `_Vedtak` with one value per row."""


@dataclass
class _Users:
    kommune: IntArray
    age: IntArray
    need: IntArray


def _users(rng: np.random.Generator, k: _Municipalities, persons: int) -> _Users:
    """Care users over municipality × age group (population × prevalence, with a municipal
    factor), then a need level by age group."""
    n = len(k.codes)
    weight = k.population * np.array(PREVALENCE_BY_AGE) * rng.lognormal(0, 0.15, n)[:, None]
    # every municipality has at least one user (when there are enough), the rest by weight
    floor = n if persons >= n else 0
    per_cell = rng.multinomial(persons - floor, (weight / weight.sum()).reshape(-1))
    if floor:
        own_age = _choice_by_row(rng, weight, np.arange(n, dtype=np.int64))
        per_cell += np.bincount(np.arange(n) * 4 + own_age, minlength=4 * n)
    cell = np.repeat(np.arange(4 * n, dtype=np.int64), per_cell)
    kommune, age = cell // 4, cell % 4
    need = _choice_by_row(rng, np.array(NEED_BY_AGE), age)
    return _Users(kommune, age, need)


def _first_per_user(person: IntArray, mask: BoolArray) -> IntArray:
    """For every row, the index of the first row of the same user where `mask` holds (rows are
    sorted by user); rows outside `mask` map to themselves."""
    idx = np.flatnonzero(mask)
    users, first = np.unique(person[idx], return_index=True)
    out = np.arange(len(person), dtype=np.int64)
    out[idx] = idx[first[np.searchsorted(users, person[idx])]]
    return out


def _service_table(field: str) -> FloatArray:
    """(age × need) × service weights for the main (`field`="main") or further services."""
    age = np.array([s.age for s in SERVICES]).T  # (4, S)
    by_need = np.array([getattr(s, field) for s in SERVICES]).T  # (3, S)
    table: FloatArray = (age[:, None, :] * by_need[None, :, :]).reshape(12, len(SERVICES))
    return table


def _vedtak(
    rng: np.random.Generator,
    k: _Municipalities,
    persons: int,
    year: int,
    window: _Window | None = None,
) -> _Vedtak:
    users = _users(rng, k, persons)
    extra = rng.poisson(np.array(EXTRA_VEDTAK_BY_NEED)[users.need])
    person = np.repeat(np.arange(persons, dtype=np.int64), 1 + extra)
    v = len(person)
    first = np.ones(v, dtype=np.bool_)
    first[1:] = person[1:] != person[:-1]
    age, need = users.age[person], users.need[person]
    cell = age * 3 + need

    service = np.where(
        first,
        _choice_by_row(rng, _service_table("main"), cell),
        _choice_by_row(rng, _service_table("extra"), cell),
    )
    group = np.zeros(v, dtype=np.int64)
    option = np.zeros(v, dtype=np.int64)
    omfang = np.zeros(v)
    home_raw = np.zeros(v)
    open_ = np.zeros(v, dtype=np.bool_)
    length = np.ones(v, dtype=np.int64)
    need_volume = np.array(_NEED_VOLUME)[need]

    # home nursing and practical assistance: the user's hours per week, split over the decisions
    home_weight = np.array([s.home_weight for s in SERVICES])[service]
    home = home_weight > 0
    mean_hours = np.array(HOME_HOURS_BY_NEED)[users.age, users.need]
    user_hours = mean_hours * rng.lognormal(-(_HOME_HOURS_SIGMA**2) / 2, _HOME_HOURS_SIGMA, persons)
    share = np.where(home, home_weight * rng.uniform(0.5, 1.5, v), 0.0)
    total_share = np.bincount(person, weights=share, minlength=persons)
    weekly = np.where(home, user_hours[person] * share / np.maximum(total_share[person], 1e-9), 0.0)

    for si, s in enumerate(SERVICES):
        m = np.flatnonzero(service == si)
        if len(s.groups) > 1:
            group[m] = _choice(rng, [g[1] for g in s.groups], len(m))
        opt = _choice(rng, [o.share for o in s.options], len(m))
        option[m] = opt
        for oi, o in enumerate(s.options):
            mo = m[opt == oi]
            if s.home_weight > 0:
                raw = weekly[mo] if o.enhet == "timer_per_uke" else weekly[mo] * 365.25 / 12 / 7
                home_raw[mo] = raw
            else:
                raw = o.median * need_volume[mo] * rng.lognormal(0, o.sigma, len(mo))
            omfang[mo] = np.clip(np.rint(raw / o.step) * o.step, o.lo, o.hi)
            open_[mo] = rng.random(len(mo)) < o.open_share
            length[mo] = np.maximum(
                np.rint(o.days_median * rng.lognormal(0, o.days_sigma, len(mo))), 1
            ).astype(np.int64)

    # a user's home nursing and practical assistance decisions share one period
    lead = _first_per_user(person, home)
    length, open_ = length[lead], open_[lead]

    first_day = _days(dt.date(year - 2, 1, 1))
    start = _days(dt.date(year, 1, 1))
    end = _days(dt.date(year, 12, 31))
    in_year = rng.random(v) < 0.4
    before = start - 1 - np.floor(rng.exponential(300.0, v)).astype(np.int64)
    before = np.where(
        before < first_day, first_day + (start - before) % (start - first_day), before
    )
    fra = np.where(in_year, rng.integers(start, end + 1, v), before)
    fra = fra[lead]
    til = fra + length - 1
    blank = rng.random(v) < 0.5
    keep = None
    if window is not None:  # the years of the window, from its own seed (the draws above kept)
        fra, til, open_, keep = _window_dates(window, person, first, lead, length, open_, persons)
    out = _Vedtak(
        users.kommune[person],
        person,
        age,
        need,
        service,
        group,
        option,
        omfang,
        fra,
        til,
        open_,
        blank,
        home_raw,
        user_hours,
    )
    if keep is not None:  # decisions not yet made at the window's end are not in the data
        for name in ROW_FIELDS:
            setattr(out, name, getattr(out, name)[keep])
    return out


EPISODE_YEARS = 3.0
"""Mean length of a user's time with services in a multi-year data set (exponential): the user's
decisions all lie within it (assumption; with 400 000 users over 2016–2024 about 100 000 have a
decision in force on each 31 December)."""
_EPISODE_BACK_YEARS = 5
"""At most this many years before the window does a user already in care at its start begin."""


@dataclass(frozen=True)
class _Window:
    """The years a multi-year data set covers (`first`…`last`), and the generator of its dates."""

    first: int
    last: int
    rng: np.random.Generator


def _window_dates(
    w: _Window,
    person: IntArray,
    first: BoolArray,
    lead: IntArray,
    length: IntArray,
    open_: BoolArray,
    persons: int,
) -> tuple[IntArray, IntArray, BoolArray, BoolArray]:
    """fra, til, open-endedness and whether the row is in the data, for every row of a multi-year
    data set. Each user has a time in
    care from entry E to exit X (exponential, mean `EPISODE_YEARS`); the users already in care on
    the window's first day (the stationary share m / (m + L) of a window of L years) entered up
    to `_EPISODE_BACK_YEARS` before it, the others enter uniformly over the window. The user's
    first decision starts at E, the others at a uniform day from E to X, and those starting after
    the window are left out (not yet made); the home services keep their shared period. A
    decision ends at its own length or at X, whichever comes first; an open-ended one stays open
    when X is after the window."""
    rng = w.rng
    w0, w1 = _days(dt.date(w.first, 1, 1)), _days(dt.date(w.last, 12, 31))
    mean = EPISODE_YEARS * 365.25
    span = (w1 - w0 + 1) / 365.25
    prevalent = rng.random(persons) < EPISODE_YEARS / (EPISODE_YEARS + span)
    back = np.minimum(rng.exponential(mean, persons), _EPISODE_BACK_YEARS * 365.25)
    entry = np.where(prevalent, w0 - np.floor(back), rng.integers(w0, w1 + 1, persons))
    entry = entry.astype(np.int64)
    stay = np.floor(rng.exponential(mean, persons)).astype(np.int64)
    exit_ = np.where(prevalent, w0 + stay, entry + stay)
    e, x = entry[person], exit_[person]
    later = e + np.floor(rng.random(len(person)) * (x - e + 1)).astype(np.int64)
    fra = np.where(first, e, later)
    fra = fra[lead]
    til = np.where(open_, x, np.minimum(fra + length - 1, x))
    return fra, til, open_ & (x > w1), fra <= w1


def _rounding(v: _Vedtak) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each row's volume step and bounds (its service's way of deciding it)."""
    width = max(len(s.options) for s in SERVICES)
    lut = np.zeros((3, len(SERVICES), width))
    for si, s in enumerate(SERVICES):
        for oi, o in enumerate(s.options):
            lut[:, si, oi] = (o.step, o.lo, o.hi)
    step, lo, hi = (lut[i, v.service, v.option] for i in range(3))
    return step, lo, hi


def _scale_home(v: _Vedtak, rows: IntArray, factor: FloatArray) -> None:
    """The home hours of `rows` rounded again after scaling their raw hours by `factor` (one per
    row), as `_vedtak` rounds them."""
    step, lo, hi = (a[rows] for a in _rounding(v))
    v.omfang[rows] = np.clip(np.rint(v.home_raw[rows] * factor / step) * step, lo, hi)


def _value_in_year(v: _Vedtak, n: int, year: int) -> FloatArray:
    """A rough activity value per municipality in `year` (kroner), for calibration only."""
    ys, ye = _days(dt.date(year, 1, 1)), _days(dt.date(year, 12, 31))
    til = np.where(v.open_, ye, v.til)
    days = np.clip(np.minimum(til, ye) - np.maximum(v.fra, ys) + 1, 0, None)
    price = np.zeros(len(v.service))
    per_day = np.zeros(len(v.service))
    for si, s in enumerate(SERVICES):
        m = v.service == si
        for gi, g in enumerate(s.groups):
            price[m & (v.group == gi)] = g[2]
        for oi, o in enumerate(s.options):
            mo = m & (v.option == oi)
            if o.enhet == "timer_per_uke":
                per_day[mo] = v.omfang[mo] / 7
            elif o.enhet == "doegn":
                per_day[mo] = v.omfang[mo]
            else:
                per_day[mo] = v.omfang[mo] * 12 / 365.25
    value = per_day * days * price * _ROUGH_GROWTH ** (year - 2016)
    return np.asarray(np.bincount(v.kommune, weights=value, minlength=n), dtype=np.float64)


def national_frames(
    *,
    seed: int = 1,
    persons: int = 400_000,
    year: int = 2021,
    effects: Effects | None = None,
    years: tuple[int, int] | None = None,
) -> dict[str, pl.DataFrame]:
    """The tables of a synthetic national input directory, as frames (see the module doc)."""
    return national_data(seed=seed, persons=persons, year=year, effects=effects, years=years)[0]


def data_years(year: int, years: tuple[int, int] | None) -> list[int]:
    """The years with population (and, but for the first, expenditure) in a data set: `year` − 2
    to `year` by default, or the year before `years` to its last."""
    if years is None:
        return [year - 2, year - 1, year]
    return list(range(years[0] - 1, years[1] + 1))


def national_data(
    *,
    seed: int = 1,
    persons: int = 400_000,
    year: int = 2021,
    effects: Effects | None = None,
    years: tuple[int, int] | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """The tables of a synthetic national input directory and the truth behind them (what
    `synth.json` holds: the planted effects, the control municipalities, the municipal factors).

    Each table draws from its own child seed of `seed`; the evaluation's additions (persons,
    assessments, control municipalities, effects) from further children, so that the
    participating municipalities' vedtak, population and expenditure are those of a data set
    without them unless an effect or a municipal spread is asked for.

    `years` = (first, last) makes a multi-year data set: decisions in force on 31 December of
    every year from `first` to `last` (users enter and leave over the window, `_window_dates`),
    population from `first` − 1 to `last`, expenditure and toppfinansiering for every year from
    the base year `year` − 1 (or `first`) to `last`; participation still starts on 1 January of
    `year`, so `first` < `year` ≤ `last`. Without it the data set is the one-year set above."""
    if years is not None and not (2016 <= years[0] < year <= years[1] <= 2050):
        raise ValueError("the years must satisfy 2016 ≤ first < year ≤ last ≤ 2050")
    if year < 2017:
        raise ValueError("year must be 2017 or later (prices are dated 2016, base year = year − 1)")
    if persons < 1:
        raise ValueError("persons must be at least 1")
    effects = effects or Effects()
    seeds = np.random.SeedSequence(seed).spawn(11)  # the first nine as before the window came
    rng_k, rng_v, rng_e, rng_t = (np.random.default_rng(s) for s in seeds[:4])
    rng_u, rng_c, rng_p, rng_s, rng_x = (np.random.default_rng(s) for s in seeds[4:9])
    window = control_window = None
    if years is not None:
        window = _Window(*years, np.random.default_rng(seeds[9]))
        control_window = _Window(*years, np.random.default_rng(seeds[10]))
    k = _municipalities(rng_k, N_MUNICIPALITIES)
    n = len(k.codes)
    v = _vedtak(rng_v, k, persons, year, window)
    draws = rng_u.standard_normal(n + len(CONTROL_CODES))  # the municipal factors' draws
    tau = effects.spread
    home = np.flatnonzero(v.home_raw > 0)
    if tau > 0:  # every municipality's own level of home hours for the same need
        _scale_home(v, home, np.exp(tau * draws[v.kommune[home]] - tau**2 / 2))

    kommuner = pl.DataFrame(
        {
            "kommunenummer": k.codes,
            "navn": [f"Syntetisk kommune {i + 1:03d}" for i in range(n)],
            "gyldig_fra": [VALID_FROM] * n,
            "gyldig_til": pl.Series([None] * n, dtype=pl.Date),
            "aga_sone": [_ZONES[z] for z in k.zones],
            "reiseindeks": [f"{r // 100}.{r % 100:02d}" for r in k.reiseindeks.tolist()],
            "etterfolger": pl.Series([None] * n, dtype=pl.Utf8),
            # fictional numbers (never a real one: those begin with 8 or 9)
            "organisasjonsnummer": [fictional_organisasjonsnummer(c) for c in k.codes],
        }
    )
    deltakelse = pl.DataFrame(
        {
            "kommunenummer": k.codes,
            "modell": ["A"] * n,
            "fra": [dt.date(year, 1, 1)] * n,
            "til": pl.Series([None] * n, dtype=pl.Date),
            "aktivitet_fra": pl.Series([None] * n, dtype=pl.Date),
            "covid_saerordning": [True] * n,
        }
    )
    # the year before the base year too (for the evaluation's before-period), grown backwards
    population_before = np.rint(k.population**2 / np.maximum(k.population_next, 1)).astype(np.int64)
    befolkning = pl.concat(
        [
            pl.DataFrame(
                {
                    "kommunenummer": np.repeat(np.array(k.codes), 4),
                    "aar": np.full(4 * n, y, dtype=np.int32),
                    "aldersgruppe": np.tile(np.array(AGE_GROUPS), n),
                    "antall": pop.reshape(-1),
                }
            )
            for y, pop in _population_years(k, population_before, year, years)
        ]
    )

    value = _value_in_year(v, n, year) / _ROUGH_GROWTH
    total_pop = k.population.sum(axis=1).astype(np.float64)
    care = np.maximum(value / CALIBRATION_RATIO, _FLOOR_PER_INHABITANT * total_pop)
    care = care * rng_e.lognormal(0, 0.05, n)
    care_next = care * (1 + rng_e.normal(0.045, 0.02, n))
    spending = [(year - 1, care), (year, care_next)]
    if years is not None:  # every year's own activity, the same municipal noise
        noise = care / np.maximum(value / CALIBRATION_RATIO, _FLOOR_PER_INHABITANT * total_pop)
        spending = []
        for y in range(years[0], years[1] + 1):
            act = _value_in_year(v, n, y) / CALIBRATION_RATIO
            floor = _FLOOR_PER_INHABITANT * total_pop
            spending.append((y, np.maximum(act, floor) * noise * rng_e.lognormal(0, 0.02, n)))
    rows: list[pl.DataFrame] = []
    for y, amount in spending:
        for f, share in _CARE_FUNCTIONS:
            part = np.rint(amount * share * rng_e.lognormal(0, 0.05, n)).astype(np.int64)
            rows.append(_amounts(k.codes, y, f, part))
        other = np.rint(total_pop * _OTHER_PER_INHABITANT * rng_e.lognormal(0, 0.1, n))
        rows.append(_amounts(k.codes, y, _OTHER_FUNCTION, other.astype(np.int64)))
    utgifter = pl.concat(rows).sort("kommunenummer", "aar", "kostra_funksjon")

    topp = np.rint(care * rng_t.uniform(0.004, 0.025, n)).astype(np.int64)
    topp = np.where(rng_t.random(n) < 0.25, 0, topp)
    topp_years = [year] if years is None else list(range(year, years[1] + 1))
    toppfinansiering = pl.concat(
        [
            pl.DataFrame(
                {"kommunenummer": k.codes, "aar": np.full(n, y, dtype=np.int32), "beloep": topp}
            )
            for y in topp_years
        ]
    )
    # the planted effects: after joining (1 January of `year`), on the participants only
    joined = _days(dt.date(year, 1, 1))
    truth = _plant(v, effects, draws, joined, rng_x)
    control = _control_world(rng_c, persons, year, tau, draws[n:], len(v.person), control_window)
    frames = {
        "kommuner": pl.concat([kommuner, control.kommuner]),
        "deltakelse": deltakelse,
        "utgifter": utgifter,
        "befolkning": pl.concat([befolkning, control.befolkning]),
        "toppfinansiering": toppfinansiering,
        "vedtak": pl.concat([_vedtak_frame(v, k.codes), control.vedtak]),
    }
    personer, kartlegging = _persons_and_assessments(
        pl.concat([_first_decisions(v, k.codes), control.first]),
        year,
        rng_p,
        rng_s,
        frames["kommuner"],
        entry_year=years is not None,
    )
    frames["personer"] = personer
    frames["kartlegging"] = kartlegging
    truth = {
        "seed": seed,
        "personer": persons,
        "aar": year,
        "deltakere": {"kommuner": k.codes, "fra": dt.date(year, 1, 1).isoformat()},
        "kontrollkommuner": control.truth,
        "effekter": effects.describe(),
        **truth,
        "kommunefaktor": {
            "sd": tau,
            "u": dict(
                zip(
                    [*k.codes, *CONTROL_CODES],
                    [round(float(tau * x), 6) for x in draws],
                    strict=True,
                )
            ),
        },
        "rader": {name: frame.height for name, frame in frames.items()},
    }
    if years is not None:
        truth["aar_fra"], truth["aar_til"] = years
        truth["tid_i_omsorg_aar"] = EPISODE_YEARS
    return frames, truth


def _plant(
    v: _Vedtak, effects: Effects, z: FloatArray, joined: int, rng: np.random.Generator
) -> dict[str, Any]:
    """Plant the effects in the participants' vedtak `v` (in place): see docs/synthetic-data.md,
    "Planted effects". Returns what was planted."""
    out: dict[str, Any] = {}
    tau, theta = effects.spread, effects.likebehandling
    after_tau = (1 - theta) * tau
    home = np.flatnonzero((v.home_raw > 0) & (v.fra >= joined))
    if theta > 0 and tau > 0:
        _scale_home(v, home, np.exp(after_tau * z[v.kommune[home]] - after_tau**2 / 2))
    out["likebehandling"] = {
        "theta": theta,
        "sd_foer": tau,
        "sd_etter": after_tau,
        "vedtak_etter": len(home),
    }
    first = np.ones(len(v.person), dtype=np.bool_)
    first[1:] = v.person[1:] != v.person[:-1]
    inst = _SERVICE_INDEX["INST_LANG"]
    eligible = np.flatnonzero(first & (v.service == inst) & (v.fra >= joined))
    draw = rng.random(len(eligible))
    moved = eligible[draw < effects.institusjon]
    if len(moved):
        hours = v.user_hours[v.person[moved]]
        if tau > 0:
            hours = hours * np.exp(after_tau * z[v.kommune[moved]] - after_tau**2 / 2)
        v.service[moved] = _SERVICE_INDEX["HJSPL"]
        v.option[moved] = 0  # timer_per_uke
        v.group[moved] = 0
        v.home_raw[moved] = hours
        v.omfang[moved] = np.clip(np.rint(hours / 0.25) * 0.25, 0.25, 84.0)
    out["institusjon"] = {
        "psi": effects.institusjon,
        "aktuelle": len(eligible),
        "flyttet": len(moved),
    }
    return out


_SERVICE_INDEX: dict[str, int] = {s.code: i for i, s in enumerate(SERVICES)}


def _first_decisions(v: _Vedtak, codes: list[str], offset: int = 0) -> pl.DataFrame:
    """One row per user of `v` (rows sorted by user): person_id, the first day of the user's
    first decision and its municipality, the user's age group and need level (indices)."""
    starts = np.flatnonzero(np.r_[True, v.person[1:] != v.person[:-1]])
    return pl.DataFrame(
        {
            "person_id": pl.Series(v.person[starts] + offset + 1).cast(pl.Utf8).str.zfill(7),
            "fra": _dates(np.minimum.reduceat(v.fra, starts)),
            "kommunenummer": pl.Series(v.kommune[starts]).cast(pl.UInt32),
            "_age": v.age[starts],
            "_need": v.need[starts],
        }
    ).with_columns(("P" + pl.col("person_id")).alias("person_id"), _lookup("kommunenummer", codes))


@dataclass
class _Control:
    kommuner: pl.DataFrame
    befolkning: pl.DataFrame
    vedtak: pl.DataFrame
    first: pl.DataFrame  # `_first_decisions` of the users who kept a vedtak
    truth: list[dict[str, Any]]


def _control_world(
    rng: np.random.Generator,
    persons: int,
    year: int,
    tau: float,
    draws: FloatArray,
    id_offset: int,
    window: _Window | None = None,
) -> _Control:
    """The six control municipalities (`sio.data.synth_evaluation`), drawn by the same process
    as the participants (users, services, volumes, the municipal factor on home hours) but never
    participating; their vedtak split at every code change and cut where the control ends."""
    history = control_codes()
    areas = list(CONTROL_CODES)
    shares = np.array(CONTROL_AGE_SHARES)

    def population(area: str, y: int) -> IntArray:
        total = CONTROL_POPULATION_2016[area] * (1 + CONTROL_GROWTH) ** (y - 2016)
        return np.asarray(np.rint(total * shares), dtype=np.int64)

    pop = np.array([population(a, year - 1) for a in areas])
    world = _Municipalities(
        areas,
        pop,
        np.array([population(a, year) for a in areas]),
        np.zeros(len(areas), dtype=np.int64),
        np.full(len(areas), 50, dtype=np.int64),
    )
    users = max(len(areas), round(persons * pop.sum() / TOTAL_POPULATION))
    v = _vedtak(rng, world, users, year, window)
    home = np.flatnonzero(v.home_raw > 0)
    if tau > 0:
        _scale_home(v, home, np.exp(tau * draws[v.kommune[home]] - tau**2 / 2))
    segments = pl.DataFrame(
        [(c.area, c.code, c.fra, c.til) for c in history.codes if c.area is not None],
        schema={"_area": pl.Utf8, "_code": pl.Utf8, "_s_fra": pl.Date, "_s_til": pl.Date},
        orient="row",
    )
    frame = _vedtak_frame(v, areas, person_offset=persons).rename({"kommunenummer": "_area"})
    til = pl.col("til")
    split = (
        frame.with_row_index("_n")
        .join(segments, on="_area")
        .with_columns(
            pl.max_horizontal("fra", "_s_fra").alias("fra"),
            pl.when(til.is_null())
            .then(pl.col("_s_til"))
            .when(pl.col("_s_til").is_null())
            .then(til)
            .otherwise(pl.min_horizontal(til, pl.col("_s_til")))
            .alias("til"),
        )
        .filter(pl.col("til").is_null() | (pl.col("fra") <= pl.col("til")))
        .sort("_n", "fra")
    )
    ids = pl.Series("_id", np.arange(id_offset + 1, id_offset + split.height + 1))
    vedtak = split.with_columns(
        ("V" + ids.cast(pl.Utf8).str.zfill(8)).alias("vedtak_id"),
        pl.col("_code").alias("kommunenummer"),
    ).select("kommunenummer" if c == "_area" else c for c in frame.columns)
    kommuner = pl.DataFrame(
        {
            "kommunenummer": [c.code for c in history.codes],
            "navn": [c.name for c in history.codes],
            "gyldig_fra": [c.fra for c in history.codes],
            "gyldig_til": pl.Series([c.til for c in history.codes], dtype=pl.Date),
            "aga_sone": ["1"] * len(history.codes),
            "reiseindeks": ["0.50"] * len(history.codes),
            "etterfolger": pl.Series([c.etterfolger for c in history.codes], dtype=pl.Utf8),
            "organisasjonsnummer": [fictional_organisasjonsnummer(c.code) for c in history.codes],
        }
    )
    rows = []
    for y in data_years(year, None if window is None else (window.first, window.last)):
        jan1 = dt.date(y, 1, 1)
        for area in areas:
            code = next(
                (
                    c.code
                    for c in history.segments(area)
                    if c.fra <= jan1 and (c.til is None or jan1 <= c.til)
                ),
                None,
            )
            if code is None:
                continue  # merged into a larger municipality: no longer a control
            for group, count in zip(AGE_GROUPS, population(area, y).tolist(), strict=True):
                rows.append((code, y, group, count))
    befolkning = pl.DataFrame(
        rows,
        schema={
            "kommunenummer": pl.Utf8,
            "aar": pl.Int32,
            "aldersgruppe": pl.Utf8,
            "antall": pl.Int64,
        },
        orient="row",
    )
    truth = [
        {
            "kode_2016": area,
            "navn": history.segments(area)[0].name,
            "koder": [
                {
                    "kode": c.code,
                    "fra": c.fra.isoformat(),
                    "til": c.til.isoformat() if c.til else None,
                }
                for c in history.segments(area)
            ],
            "slutt": (end.isoformat() if (end := history.end(area)) else None),
        }
        for area in areas
    ]
    users = _first_decisions(v, areas, persons).drop("fra", "kommunenummer")
    first = (
        vedtak.group_by("person_id")
        .agg(pl.col("fra", "kommunenummer").sort_by("fra").first())
        .join(users, on="person_id")
        .select("person_id", "fra", "kommunenummer", "_age", "_need")
    )
    return _Control(kommuner, befolkning, vedtak, first, truth)


def _persons_and_assessments(
    first: pl.DataFrame,
    year: int,
    rng_p: np.random.Generator,
    rng_s: np.random.Generator,
    kommuner: pl.DataFrame,
    *,
    entry_year: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`personer` and `kartlegging` of the users in `first` (`_first_decisions`): one assessment
    0–60 days before the user's first decision (not before the code of that decision was
    valid). The age group is the user's in `year`, or with `entry_year` in the year of the first
    decision (a multi-year data set: the user grows older over it)."""
    from sio.criteria import NEED_LEVELS

    first = first.join(
        kommuner.select("kommunenummer", pl.col("gyldig_fra").alias("_k_fra")),
        on="kommunenummer",
        maintain_order="left",
    ).sort("person_id")
    n = first.height
    first = first.with_columns(pl.Series("_back", rng_s.integers(0, 61, n)))
    first = first.with_columns(
        pl.max_horizontal(pl.col("fra") - pl.duration(days=pl.col("_back")), "_k_fra").alias("dato")
    )
    need = first.get_column("_need").to_numpy().astype(np.int64)
    scores = assessment_scores(rng_s, need, first.get_column("dato"))
    kartlegging = pl.concat(
        [
            first.select("person_id", "kommunenummer", "dato"),
            scores,
            pl.DataFrame({"behovsniva": np.array(NEED_LEVELS)[need]}),
        ],
        how="horizontal",
    )
    age = first.get_column("_age").to_numpy().astype(np.int64)
    ref: int | IntArray = year
    if entry_year:
        ref = first.get_column("fra").dt.year().to_numpy().astype(np.int64)
    personer = persons_frame(rng_p, first.get_column("person_id"), age, ref)
    return personer, kartlegging


def _population_years(
    k: _Municipalities, before: IntArray, year: int, years: tuple[int, int] | None
) -> list[tuple[int, IntArray]]:
    """(year, population by municipality × age group) of every year of `data_years`: `year` − 2
    grown backwards (`before`), `year` − 1 and `year` as drawn, other years at the same rate."""
    known = {year - 2: before, year - 1: k.population, year: k.population_next}
    rate = k.population_next / np.maximum(k.population, 1)
    out = []
    for y in data_years(year, years):
        pop = known.get(y)
        if pop is None:
            pop = np.rint(k.population * rate ** (y - year + 1)).astype(np.int64)
        out.append((y, pop))
    return out


def _amounts(codes: list[str], year: int, function: str, amount: IntArray) -> pl.DataFrame:
    n = len(codes)
    return pl.DataFrame(
        {
            "kommunenummer": codes,
            "aar": np.full(n, year, dtype=np.int32),
            "kostra_funksjon": [function] * n,
            "netto_driftsutgifter": amount,
        }
    )


def _lookup(name: str, values: list[str] | tuple[str, ...]) -> pl.Expr:
    """Column `name` of small integer codes as the strings `values[code]`."""
    return pl.col(name).replace_strict(list(range(len(values))), list(values), return_dtype=pl.Utf8)


def _vedtak_frame(
    v: _Vedtak, codes: list[str], person_offset: int = 0, id_offset: int = 0
) -> pl.DataFrame:
    names = [s.code for s in SERVICES]
    group_names = sorted({g[0] for s in SERVICES for g in s.groups})
    units = sorted({o.enhet for s in SERVICES for o in s.options})
    width = max(len(s.groups) for s in SERVICES)
    opt_width = max(len(s.options) for s in SERVICES)
    # (service, group) → group name index; (service, option) → unit index; blank where STANDARD
    grp_lut = np.zeros((len(SERVICES), width), dtype=np.int64)
    unit_lut = np.zeros((len(SERVICES), opt_width), dtype=np.int64)
    for si, s in enumerate(SERVICES):
        for gi, g in enumerate(s.groups):
            grp_lut[si, gi] = group_names.index(g[0])
        for oi, o in enumerate(s.options):
            unit_lut[si, oi] = units.index(o.enhet)
    grp = grp_lut[v.service, v.group]
    priced = np.array([s.groups[0][2] > 0 for s in SERVICES])[v.service]
    blank = (v.blank_group & (grp == group_names.index("STANDARD"))) | ~priced
    n = len(v.service)
    idx = pl.Series("i", np.arange(id_offset + 1, id_offset + n + 1, dtype=np.int64))
    frame = pl.DataFrame(
        {
            "vedtak_id": idx,
            "person_id": pl.Series(v.person + person_offset + 1),
            "kommunenummer": pl.Series(v.kommune).cast(pl.UInt32),
            "tjeneste": pl.Series(v.service).cast(pl.UInt32),
            "prisgruppe": pl.Series(grp).cast(pl.UInt32),
            "blank": pl.Series(blank),
            "omfang": v.omfang,
            "enhet": pl.Series(unit_lut[v.service, v.option]).cast(pl.UInt32),
            "fra": _dates(v.fra),
            "til": _dates(v.til, v.open_),
            "aldersgruppe": pl.Series(v.age).cast(pl.UInt32),
            "bistandsbehov": pl.Series(v.need).cast(pl.UInt32),
        }
    )
    return frame.select(
        pl.format("V{}", pl.col("vedtak_id").cast(pl.Utf8).str.zfill(8)).alias("vedtak_id"),
        pl.format("P{}", pl.col("person_id").cast(pl.Utf8).str.zfill(7)).alias("person_id"),
        _lookup("kommunenummer", codes),
        _lookup("tjeneste", names),
        pl.when(pl.col("blank"))
        .then(pl.lit(None, dtype=pl.Utf8))
        .otherwise(_lookup("prisgruppe", group_names))
        .alias("prisgruppe"),
        "omfang",
        _lookup("enhet", units),
        "fra",
        "til",
        _lookup("aldersgruppe", AGE_GROUPS),
        _lookup("bistandsbehov", NEED_LEVELS),
    )


def write_national(
    out_dir: Path,
    *,
    seed: int = 1,
    persons: int = 400_000,
    year: int = 2021,
    fmt: str = "parquet",
    progress: Callable[[str], None] | None = None,
    effects: Effects | None = None,
    years: tuple[int, int] | None = None,
) -> dict[str, int]:
    """Write a synthetic national input directory (Parquet, or CSV with `fmt="csv"`).

    Returns the number of rows written per table (in `TABLE_NAMES` order). The same arguments
    give the same files; `years` = (first, last) writes a multi-year data set (`national_data`).
    `progress`, if given, is called with "generate" before the data are
    drawn and with each table's name before it is written.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError("fmt must be 'parquet' or 'csv'")
    if progress is not None:
        progress("generate")
    frames, truth = national_data(
        seed=seed, persons=persons, year=year, effects=effects, years=years
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in TABLE_NAMES:
        frame = frames[name]
        if progress is not None:
            progress(name)
        path = out_dir / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.write_parquet(path, statistics=False)
        else:
            frame.write_csv(path, null_value="")
        counts[name] = frame.height
    truth["format"] = fmt
    text = json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    (out_dir / TRUTH_FILE).write_text(text, encoding="utf-8")
    return counts
