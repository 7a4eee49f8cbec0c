"""A synthetic *national* input directory (interfaces.md §1) for benchmarks and scale tests.

`write_national` writes 356 synthetic municipalities (codes `9001`…`9356`, names
"Syntetisk kommune NNN"; the 9xxx series is not used by real Norwegian municipalities) that all
take part in model A for the whole of `year` (participation from `year`-01-01, open-ended), so the
base year is `year` − 1. Nothing in it is real; it is shaped to look like the country:

- population: a few large cities (the largest ≈ 700 000) and a lognormal bulk of mostly small
  municipalities (median ≈ 5 000), ≈ 5.5 million in all; older age profiles in small places;
  population by age group on 1 January of `year` − 1 and `year`;
- employer-tax zones over 1, 1a, 2, 3, 4, 4a, 5 (large municipalities mostly zone 1) and travel
  indices 0–2 (higher in small municipalities, 0 for some);
- ≈ `persons` care users, spread over municipalities by an age-weighted need, with on average
  2.5 decisions (vedtak) each, drawn independently over every service of scheme.md §6 and the
  lump-sum services: hours per week for home services (some hours per month, and some
  `per_maaned`), `doegn` for institutions and sheltered housing, days per month (`per_maaned`)
  for some respite, and `per_maaned` counts for safety alarms, meals and day activities. Volumes
  are multiples of ¼ hour, so their decimal text is exact. Price groups for short- and long-term
  stays; half of the standard-group rows leave `prisgruppe` empty (= STANDARD). Decisions start
  from 1 January of `year` − 2 to the end of `year`; many are open-ended, short stays last weeks,
  most decisions are in force for much of `year`; some ended before it (history rows);
- expenditure (`utgifter`, KOSTRA 234, 253, 254, 261 and an ignored function 120) for `year` − 1
  and `year`, calibrated so that a municipality's activity grant is near
  `CALIBRATION_RATIO` of its extraction (using the rough 2016 prices below, for calibration only;
  the engine reads its own parameters), and `toppfinansiering` for `year` (0 for some).

Everything is vectorised with numpy (no loop per row): a million vedtak take about a second.
The same arguments give the same frames; each table draws from its own child seed, so the
municipalities do not change when only `persons` changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "CALIBRATION_RATIO",
    "FIRST_CODE",
    "N_MUNICIPALITIES",
    "TOTAL_POPULATION",
    "national_frames",
    "write_national",
]

N_MUNICIPALITIES = 356
TOTAL_POPULATION = 5_500_000
FIRST_CODE = 9001
CALIBRATION_RATIO = 0.9
"""Target ratio of a municipality's activity grant to its extraction (roughly)."""

VALID_FROM = dt.date(2000, 1, 1)
"""A conventional start of validity of the synthetic codes (before any decision)."""

_CITIES = (700_000.0, 290_000.0, 212_000.0, 146_000.0, 128_000.0, 114_000.0, 103_000.0)
_ZONES = ("1", "1a", "2", "3", "4", "4a", "5")
_ZONE_P_LARGE = (0.9, 0.0, 0.06, 0.04, 0.0, 0.0, 0.0)
_ZONE_P_SMALL = (0.48, 0.05, 0.16, 0.06, 0.13, 0.05, 0.07)
_AGE_GROUPS = ("0-66", "67-79", "80-89", "90+")
_NEED_BY_AGE = (0.012, 0.07, 0.3, 0.65)
"""Relative chance of being a care user, by age group (for spreading users over municipalities)."""
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
    """A service: its share of all decisions, its price groups (name, share, rough 2016 price;
    price 0 = not priced, covered by the lump sum) and the ways it is decided."""

    code: str
    share: float
    groups: tuple[tuple[str, float, float], ...]
    options: tuple[_Option, ...]


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


SERVICES: tuple[_Service, ...] = (
    _Service("HJSPL", 0.28, _std(720), _hours(0.92, 3.5, 0.8, 60, 0.4, 330)),
    _Service("PB_DAGL", 0.18, _std(520), _hours(0.9, 2.0, 0.7, 40, 0.4, 360)),
    _Service("PB_OPPL", 0.02, _std(560), _hours(0.85, 3.0, 0.6, 30, 0.2, 180)),
    _Service("BPA", 0.025, _std(390), _hours(0.95, 22.0, 0.7, 84, 0.5, 540)),
    _Service("OMSORGSSTOENAD", 0.03, _std(210), _hours(0.6, 8.0, 0.6, 60, 0.4, 540)),
    _Service("STOETTEKONTAKT", 0.05, _std(260), _hours(0.4, 3.0, 0.5, 20, 0.3, 365)),
    _Service(
        "AVLASTNING_INST",
        0.025,
        _std(3100),
        (
            _Option("doegn", 0.6, 1, 0, 1, 1, 1, 0.0, 10, 0.7),
            _Option("per_maaned", 0.4, 4, 0.5, 1, 1, 14, 0.3, 365, 0.6),
        ),
    ),
    _Service(
        "AVLASTNING_UTENFOR",
        0.015,
        _std(2600),
        (
            _Option("doegn", 0.5, 1, 0, 1, 1, 1, 0.0, 7, 0.7),
            _Option("per_maaned", 0.5, 3, 0.5, 1, 1, 12, 0.3, 365, 0.6),
        ),
    ),
    _Service("BOLIG_HELDOEGN", 0.04, _std(2500), _stay(0.7, 700, 0.6)),
    _Service(
        "INST_KORT",
        0.05,
        (
            ("STANDARD", 0.55, 3400),
            ("UTREDNING", 0.15, 3500),
            ("REHABILITERING", 0.2, 3800),
            ("LINDRENDE", 0.1, 4200),
        ),
        _stay(0.0, 21, 0.7),
    ),
    _Service(
        "INST_LANG",
        0.08,
        (("STANDARD", 0.6, 3100), ("SKJERMET", 0.3, 3500), ("FORSTERKET", 0.1, 4300)),
        _stay(0.65, 600, 0.6),
    ),
    _Service(
        "TRYGGHETSALARM",
        0.12,
        _std(0),
        (_Option("per_maaned", 1.0, 1, 0, 1, 1, 1, 0.6, 500, 0.7),),
    ),
    _Service(
        "DAGAKTIVITET",
        0.04,
        _std(0),
        (_Option("per_maaned", 1.0, 8, 0.4, 1, 1, 22, 0.4, 365, 0.6),),
    ),
    _Service(
        "MATOMBRINGING",
        0.045,
        _std(0),
        (_Option("per_maaned", 1.0, 20, 0.4, 1, 4, 62, 0.4, 365, 0.6),),
    ),
)


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _choice(rng: np.random.Generator, p: npt.ArrayLike, size: int) -> IntArray:
    probs = np.asarray(p, dtype=np.float64)
    return rng.choice(len(probs), size=size, p=probs / probs.sum()).astype(np.int64)


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
    bulk = np.sort(rng.lognormal(np.log(5_000.0), 1.15, n_bulk))
    for _ in range(4):  # scale the bulk to the national total, keeping it below the cities
        bulk = np.clip(
            bulk * (TOTAL_POPULATION - cities.sum()) / bulk.sum(), 200.0, 0.9 * cities.min()
        )
    total = rng.permutation(np.concatenate([cities, bulk]))
    small = np.clip((np.log(30_000.0) - np.log(total)) / 3.0, 0.0, 1.0)

    shares = np.zeros((n, 4))
    shares[:, 1] = (0.11 + 0.05 * small) * rng.lognormal(0, 0.08, n)
    shares[:, 2] = (0.035 + 0.025 * small) * rng.lognormal(0, 0.1, n)
    shares[:, 3] = (0.008 + 0.008 * small) * rng.lognormal(0, 0.15, n)
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
    service: IntArray
    group: IntArray  # index into the service's groups
    option: IntArray  # index into the service's options
    omfang: FloatArray
    fra: IntArray  # days since epoch
    til: IntArray
    open_: BoolArray
    blank_group: BoolArray


def _vedtak(rng: np.random.Generator, k: _Municipalities, persons: int, year: int) -> _Vedtak:
    n = len(k.codes)
    need = (k.population * np.array(_NEED_BY_AGE)).sum(axis=1) * rng.lognormal(0, 0.15, n)
    per_k = rng.multinomial(persons, need / need.sum())
    person_k = np.repeat(np.arange(n, dtype=np.int64), per_k)
    per_person = 1 + rng.poisson(1.5, persons)
    person = np.repeat(np.arange(persons, dtype=np.int64), per_person)
    kommune = person_k[person]
    v = len(person)

    service = _choice(rng, [s.share for s in SERVICES], v)
    group = np.zeros(v, dtype=np.int64)
    option = np.zeros(v, dtype=np.int64)
    omfang = np.zeros(v)
    open_ = np.zeros(v, dtype=np.bool_)
    length = np.ones(v, dtype=np.int64)
    for si, s in enumerate(SERVICES):
        m = np.flatnonzero(service == si)
        if len(s.groups) > 1:
            group[m] = _choice(rng, [g[1] for g in s.groups], len(m))
        opt = _choice(rng, [o.share for o in s.options], len(m))
        option[m] = opt
        for oi, o in enumerate(s.options):
            mo = m[opt == oi]
            raw = o.median * rng.lognormal(0, o.sigma, len(mo))
            omfang[mo] = np.clip(np.rint(raw / o.step) * o.step, o.lo, o.hi)
            open_[mo] = rng.random(len(mo)) < o.open_share
            length[mo] = np.maximum(
                np.rint(o.days_median * rng.lognormal(0, o.days_sigma, len(mo))), 1
            ).astype(np.int64)

    first = _days(dt.date(year - 2, 1, 1))
    start = _days(dt.date(year, 1, 1))
    end = _days(dt.date(year, 12, 31))
    in_year = rng.random(v) < 0.4
    before = start - 1 - np.floor(rng.exponential(300.0, v)).astype(np.int64)
    before = np.where(before < first, first + (start - before) % (start - first), before)
    fra = np.where(in_year, rng.integers(start, end + 1, v), before)
    til = fra + length - 1
    blank = rng.random(v) < 0.5
    return _Vedtak(kommune, person, service, group, option, omfang, fra, til, open_, blank)


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
    *, seed: int = 1, persons: int = 400_000, year: int = 2021
) -> dict[str, pl.DataFrame]:
    """The tables of a synthetic national input directory, as frames (see the module doc)."""
    if year < 2017:
        raise ValueError("year must be 2017 or later (prices are dated 2016, base year = year − 1)")
    if persons < 1:
        raise ValueError("persons must be at least 1")
    seeds = np.random.SeedSequence(seed).spawn(4)
    rng_k, rng_v, rng_e, rng_t = (np.random.default_rng(s) for s in seeds)
    k = _municipalities(rng_k, N_MUNICIPALITIES)
    n = len(k.codes)
    v = _vedtak(rng_v, k, persons, year)

    kommuner = pl.DataFrame(
        {
            "kommunenummer": k.codes,
            "navn": [f"Syntetisk kommune {i + 1:03d}" for i in range(n)],
            "gyldig_fra": [VALID_FROM] * n,
            "gyldig_til": pl.Series([None] * n, dtype=pl.Date),
            "aga_sone": [_ZONES[z] for z in k.zones],
            "reiseindeks": [f"{r // 100}.{r % 100:02d}" for r in k.reiseindeks.tolist()],
            "etterfolger": pl.Series([None] * n, dtype=pl.Utf8),
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
    befolkning = pl.concat(
        [
            pl.DataFrame(
                {
                    "kommunenummer": np.repeat(np.array(k.codes), 4),
                    "aar": np.full(4 * n, y, dtype=np.int32),
                    "aldersgruppe": np.tile(np.array(_AGE_GROUPS), n),
                    "antall": pop.reshape(-1),
                }
            )
            for y, pop in ((year - 1, k.population), (year, k.population_next))
        ]
    )

    value = _value_in_year(v, n, year) / _ROUGH_GROWTH
    total_pop = k.population.sum(axis=1).astype(np.float64)
    care = np.maximum(value / CALIBRATION_RATIO, _FLOOR_PER_INHABITANT * total_pop)
    care = care * rng_e.lognormal(0, 0.05, n)
    care_next = care * (1 + rng_e.normal(0.045, 0.02, n))
    rows: list[pl.DataFrame] = []
    for y, amount in ((year - 1, care), (year, care_next)):
        for f, share in _CARE_FUNCTIONS:
            part = np.rint(amount * share * rng_e.lognormal(0, 0.05, n)).astype(np.int64)
            rows.append(_amounts(k.codes, y, f, part))
        other = np.rint(total_pop * _OTHER_PER_INHABITANT * rng_e.lognormal(0, 0.1, n))
        rows.append(_amounts(k.codes, y, _OTHER_FUNCTION, other.astype(np.int64)))
    utgifter = pl.concat(rows).sort("kommunenummer", "aar", "kostra_funksjon")

    topp = np.rint(care * rng_t.uniform(0.004, 0.025, n)).astype(np.int64)
    topp = np.where(rng_t.random(n) < 0.25, 0, topp)
    toppfinansiering = pl.DataFrame(
        {"kommunenummer": k.codes, "aar": np.full(n, year, dtype=np.int32), "beloep": topp}
    )
    return {
        "kommuner": kommuner,
        "deltakelse": deltakelse,
        "utgifter": utgifter,
        "befolkning": befolkning,
        "toppfinansiering": toppfinansiering,
        "vedtak": _vedtak_frame(v, k.codes),
    }


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


def _vedtak_frame(v: _Vedtak, codes: list[str]) -> pl.DataFrame:
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
    idx = pl.Series("i", np.arange(1, n + 1, dtype=np.int64))
    frame = pl.DataFrame(
        {
            "vedtak_id": idx,
            "person_id": pl.Series(v.person + 1),
            "kommunenummer": pl.Series(v.kommune).cast(pl.UInt32),
            "tjeneste": pl.Series(v.service).cast(pl.UInt32),
            "prisgruppe": pl.Series(grp).cast(pl.UInt32),
            "blank": pl.Series(blank),
            "omfang": v.omfang,
            "enhet": pl.Series(unit_lut[v.service, v.option]).cast(pl.UInt32),
            "fra": _dates(v.fra),
            "til": _dates(v.til, v.open_),
        }
    )
    return frame.select(
        pl.format("V{}", pl.col("vedtak_id").cast(pl.Utf8).str.zfill(8)).alias("vedtak_id"),
        pl.format("P{}", pl.col("person_id").cast(pl.Utf8).str.zfill(7)).alias("person_id"),
        pl.col("kommunenummer").replace_strict(
            list(range(len(codes))), codes, return_dtype=pl.Utf8
        ),
        pl.col("tjeneste").replace_strict(list(range(len(names))), names, return_dtype=pl.Utf8),
        pl.when(pl.col("blank"))
        .then(pl.lit(None, dtype=pl.Utf8))
        .otherwise(
            pl.col("prisgruppe").replace_strict(
                list(range(len(group_names))), group_names, return_dtype=pl.Utf8
            )
        )
        .alias("prisgruppe"),
        "omfang",
        pl.col("enhet").replace_strict(list(range(len(units))), units, return_dtype=pl.Utf8),
        "fra",
        "til",
    )


def write_national(
    out_dir: Path,
    *,
    seed: int = 1,
    persons: int = 400_000,
    year: int = 2021,
    fmt: str = "parquet",
) -> dict[str, int]:
    """Write a synthetic national input directory (Parquet, or CSV with `fmt="csv"`).

    Returns the number of rows written per table. The same arguments give the same files.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError("fmt must be 'parquet' or 'csv'")
    frames = national_frames(seed=seed, persons=persons, year=year)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, frame in frames.items():
        path = out_dir / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.write_parquet(path, statistics=False)
        else:
            frame.write_csv(path, null_value="")
        counts[name] = frame.height
    return counts
