"""What the synthetic data sets give the evaluation (docs/synthetic-data.md, "For the
evaluation"): the persons (`personer`) and their IPLOS assessments (`kartlegging`) of every care
user, the trial's six control municipalities with their real codes over time, and planted
effects with a seed.

- **Persons.** A year of birth from the user's age group (age = the data year − `foedselsaar`),
  sex and living alone drawn with shares that rise with age (`WOMEN_BY_AGE`, `ALONE_BY_AGE`).
- **Assessments.** One per user, dated 0–60 days before the user's first decision, in the
  municipality whose code is valid on that day, with 17 scores drawn around a severity for the
  user's need level and redrawn until the criteria's need-level rule (`sio.data.
  evaluation_tables.need_level_expr`) gives exactly that level: the computed `behovsniva` of
  every assessment is the user's need level, which drives the hours.
- **Control municipalities** (`CONTROL_CODES`, scheme.md §1): their codes, names and successors
  come from the shipped municipality history (`src/sio/data/kommunehistorikk.yaml`). A control
  follows its renumberings (Østre Toten 0528 → 3442, Oppdal 1634 → 5021, Våler 0137 → 3018 →
  3114) and ends at a merger (Søgne, Fjell and Trøgstad on 2019-12-31: from 2020 they are parts
  of Kristiansand, Øygarden and Indre Østfold, whose codes are in `kommuner` only because the
  successor links need them). They never participate.
- **Planted effects** (`Effects`): `likebehandling` narrows the between-municipality spread of
  home hours for the same need in participating municipalities after they join; `institusjon`
  moves a share of the long-term institution users who start after joining to home nursing. The
  exact definitions are in docs/synthetic-data.md; `truth` gives what was planted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

from sio.data.tables import IPLOS_COLUMNS

__all__ = [
    "ALONE_BY_AGE",
    "CONTROL_CODES",
    "CONTROL_POPULATION_2016",
    "DEFAULT_SPREAD",
    "WOMEN_BY_AGE",
    "ControlCode",
    "Effects",
    "assessment_scores",
    "control_codes",
    "persons_frame",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CONTROL_CODES: tuple[str, ...] = ("0528", "1634", "1018", "1246", "0122", "0137")
"""The trial's control municipalities by their codes of 2016: Østre Toten, Oppdal, Søgne, Fjell,
Trøgstad and Våler (Østfold) (scheme.md §1)."""

CONTROL_POPULATION_2016: dict[str, int] = {
    "0528": 14_900,
    "1634": 6_900,
    "1018": 11_300,
    "1246": 25_600,
    "0122": 5_300,
    "0137": 5_400,
}
"""Inhabitants on 1 January 2016, rounded to hundreds (approximate, SSB table 07459)."""

CONTROL_GROWTH = 0.006
"""Yearly population growth of the synthetic control municipalities."""

CONTROL_AGE_SHARES: tuple[float, float, float, float] = (0.80, 0.135, 0.05, 0.015)
"""Shares of 0–66, 67–79, 80–89 and 90+ in the control municipalities (small, rural-ish places:
slightly older than the country)."""

WOMEN_BY_AGE: tuple[float, float, float, float] = (0.48, 0.55, 0.63, 0.73)
"""Share of women among care users by age group (IPLOS: women are about 60 % of users, more among
the oldest; approximate)."""

ALONE_BY_AGE: tuple[float, float, float, float] = (0.40, 0.48, 0.62, 0.72)
"""Share of care users living alone by age group (approximate; assumption)."""

AGE_RANGES: tuple[tuple[int, int], ...] = ((5, 66), (67, 79), (80, 89), (90, 103))
"""Ages (the data year − year of birth) drawn within each age group; the youngest synthetic
user is 5, so that no assessment two years before the data year predates a birth."""

DEFAULT_SPREAD = 0.25
"""Between-municipality standard deviation of the log factor on home hours when the
`likebehandling` effect is planted and no spread is given (assumption: municipal hours per user
for the same need differ by a factor of about 1.3 up or down)."""


@dataclass(frozen=True)
class Effects:
    """Planted effects (docs/synthetic-data.md, "Planted effects"): `likebehandling` θ in [0, 1),
    `institusjon` ψ in [0, 1], `spread` τ ≥ 0 (the between-municipality SD of the log factor on
    home hours, in every municipality and period before θ acts)."""

    likebehandling: float = 0.0
    institusjon: float = 0.0
    spread: float = 0.0

    @property
    def planted(self) -> bool:
        return self.likebehandling > 0 or self.institusjon > 0

    def describe(self) -> dict[str, float]:
        return {
            "likebehandling": self.likebehandling,
            "institusjon": self.institusjon,
            "kommunevariasjon": self.spread,
        }


def parse_effects(items: list[str], spread: float | None) -> Effects:
    """`likebehandling=0.3`, `institusjon=0.1` (each at most once) and the spread into `Effects`;
    raises ValueError with a message in the user's language."""
    from sio.i18n import _

    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in ("likebehandling", "institusjon"):
            raise ValueError(
                _("unknown effect {item}: use likebehandling=X or institusjon=Y").format(
                    item=repr(item)
                )
            )
        if name in values:
            raise ValueError(_("the effect {name} is given twice").format(name=name))
        try:
            x = float(text)
        except ValueError:
            raise ValueError(_("not a number: {value}").format(value=repr(text))) from None
        if not (x >= 0 and (x < 1 if name == "likebehandling" else x <= 1)):
            interval = "[0, 1)" if name == "likebehandling" else "[0, 1]"
            raise ValueError(
                _("{name} must lie in {interval}").format(name=name, interval=interval)
            )
        values[name] = x
    if spread is not None and spread < 0:
        raise ValueError(_("the spread between municipalities must be 0 or more"))
    tau = spread if spread is not None else (DEFAULT_SPREAD if "likebehandling" in values else 0.0)
    return Effects(values.get("likebehandling", 0.0), values.get("institusjon", 0.0), tau)


# -- control municipalities ----------------------------------------------------------------------


@dataclass(frozen=True)
class ControlCode:
    """One code of a control municipality's history: valid from `fra` to `til` (None = open);
    `area` is the control it belongs to (its 2016 code) or None for a successor that is only
    there for the links; `etterfolger` its successor per the history."""

    code: str
    name: str
    fra: dt.date
    til: dt.date | None
    etterfolger: str | None
    area: str | None


@dataclass(frozen=True)
class ControlHistory:
    codes: list[ControlCode] = field(default_factory=list)

    def segments(self, area: str) -> list[ControlCode]:
        return [c for c in self.codes if c.area == area]

    def end(self, area: str) -> dt.date | None:
        """The last day of the control as a municipality of its own (None: still one)."""
        return self.segments(area)[-1].til


def control_codes() -> ControlHistory:
    """The control municipalities' codes from the shipped history: each follows its renumberings
    (a new code with this one predecessor) and ends at a merger; the successors a code names are
    listed too, down to an open code, so that every `etterfolger` is in the list."""
    from sio.data.kommunehistorikk import KommuneHistorikk

    hist = KommuneHistorikk.shipped()
    out: list[ControlCode] = []
    seen: set[str] = set()

    def add(code: str, area: str | None) -> None:
        while code not in seen:
            seen.add(code)
            version = hist.versions(code)[-1]
            nxt = sorted({ch.new_code for ch in hist.outgoing(code)})
            succ = nxt[0] if nxt else None
            out.append(
                ControlCode(code, version.name, version.valid_from, version.valid_to, succ, area)
            )
            if succ is None:
                return
            if area is not None and len(hist.predecessors(succ)) > 1:
                area = None  # a merger: the control ends here, the successor is only a link
            code = succ

    for code in CONTROL_CODES:
        add(code, code)
    return ControlHistory(out)


# -- persons and assessments -----------------------------------------------------------------------


def persons_frame(
    rng: np.random.Generator, person_ids: pl.Series, age: IntArray, year: int | IntArray
) -> pl.DataFrame:
    """`personer` of users with the given age groups (index into AGE_GROUPS) in `year` (one for
    all, or one per user)."""
    n = len(age)
    lo = np.array([r[0] for r in AGE_RANGES])[age]
    hi = np.array([r[1] for r in AGE_RANGES])[age]
    u = rng.random(n)
    # within 90+ most users are in their early nineties: a squared uniform leans to the low end
    u = np.where(age == 3, u**2, u)
    years_old = lo + np.floor(u * (hi - lo + 1)).astype(np.int64)
    women = rng.random(n) < np.array(WOMEN_BY_AGE)[age]
    alone = rng.random(n) < np.array(ALONE_BY_AGE)[age]
    return pl.DataFrame(
        {
            "person_id": person_ids,
            "foedselsaar": (year - years_old).astype(np.int32),
            "kjoenn": np.where(women, "K", "M"),
            "bor_alene": alone,
        }
    )


_SEVERITY: tuple[float, float, float] = (1.25, 2.5, 3.7)
"""Mean score around which a user's 17 scores are drawn, by need level."""
_NOT_RELEVANT_SHARE = 0.04
"""Share of scores given as 9 (not relevant)."""


def assessment_scores(
    rng: np.random.Generator, need: IntArray, dates: pl.Series, tries: int = 12
) -> pl.DataFrame:
    """17 IPLOS scores per user whose need level under the criteria in force on the date is
    exactly `need` (0, 1, 2: noe_avgrenset, middels_til_stort, omfattende)."""
    from sio.criteria import NEED_LEVELS, load_criteria
    from sio.data.evaluation_tables import need_level_expr

    criteria = load_criteria()
    n = len(need)
    target = pl.Series(np.array(NEED_LEVELS)[need])
    scores = np.ones((n, len(IPLOS_COLUMNS)), dtype=np.int8)
    todo = np.arange(n)
    level = need_level_expr(criteria, "dato")
    variable_shift = rng.normal(0.0, 0.35, len(IPLOS_COLUMNS))  # some variables harder
    for _ in range(tries):
        if not len(todo):
            break
        m = len(todo)
        person = rng.normal(0.0, 0.35, m)
        raw = (
            np.array(_SEVERITY)[need[todo]][:, None]
            + person[:, None]
            + variable_shift[None, :]
            + rng.normal(0.0, 0.7, (m, len(IPLOS_COLUMNS)))
        )
        drawn = np.clip(np.rint(raw), 1, 5).astype(np.int8)
        drawn = np.where(
            (drawn == 1) & (rng.random(drawn.shape) < _NOT_RELEVANT_SHARE * 4), 9, drawn
        ).astype(np.int8)
        frame = pl.DataFrame(
            {v: drawn[:, j] for j, v in enumerate(IPLOS_COLUMNS)} | {"dato": dates[todo]}
        )
        got = frame.select(level).to_series()
        ok = (got == target[todo]).to_numpy()
        scores[todo[ok]] = drawn[ok]
        todo = todo[~ok]
    if len(todo):  # the few left: the smallest profile of each level
        fallback = {
            0: np.ones(len(IPLOS_COLUMNS)),
            1: np.array([3, 3, 3, 3] + [1] * 13),
            2: np.array([4] * 6 + [1] * 11),
        }
        for i in todo:
            scores[i] = fallback[int(need[i])]
    return pl.DataFrame({v: scores[:, j] for j, v in enumerate(IPLOS_COLUMNS)})
