"""The scenario file: a YAML document read into typed, validated settings (docs/scenarios.md).

Keys (Norwegian, ASCII, like the rest of the input formats):

- ``navn`` (text), ``beskrivelse`` (text, optional);
- ``basisaar``: the anchor year the engine computes on the data (default: the last year with
  vedtak in force); ``horisont``: the number of projection years after it (1–50);
- ``parametere``: parameter overrides in the format of ``--overstyring``
  (``path: {YYYY-MM-DD: value}``); ``overstyring``: an override file, relative to the scenario file;
- ``deltakelse``: participation changes, each ``{kommuner: alle | [NNNN, …], modell: A | B |
  ingen, fra: YYYY-MM-DD, til: YYYY-MM-DD?, aktivitet_fra: YYYY-MM-DD?}``;
- ``befolkning``: ``{fil: CSV in SSB's projection format, alternativ: MMMM}``;
- ``tjenestebruk``: the yearly growth of decided volume per user by need level
  (``noe_avgrenset``, ``middels_til_stort``, ``omfattende``, ``ukjent``, or ``alle``);
- ``usikkerhet``: ``{trekk: N, seed: S, inndata: {deflator | tjenestebruk.<nivå>: distribution}}``,
  a distribution being ``{fordeling: normal | lognormal | triangulaer | uniform, …}``.

Every mistake becomes one line ``FILE: key.path: rule`` in Norwegian (`ScenarioInvalid`), all of
them at once; nothing is computed from a file with a mistake in it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sio.i18n import _

__all__ = [
    "NEED_KEYS",
    "Distribution",
    "Participation",
    "Population",
    "Scenario",
    "ScenarioInvalid",
    "Uncertainty",
    "load_scenario",
]

NEED_KEYS: tuple[str, ...] = ("noe_avgrenset", "middels_til_stort", "omfattende", "ukjent")
"""The need levels (bistandsbehov) a service-use assumption can name; `ukjent` = users without
an assessment in the data."""

_CODE = re.compile(r"^\d{4}$")
_ALTERNATIVE = re.compile(r"^[LMHK0]{4}$")


class ScenarioInvalid(ValueError):
    """The scenario file has mistakes; `problems` are the lines ``FILE: key.path: rule``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Distribution(_Strict):
    """An uncertain input: one value per draw from a distribution.

    normal(middel, standardavvik); lognormal(median, sigma): median × exp(sigma × Z);
    triangulaer(min, modus, maks); uniform(min, maks).
    """

    fordeling: Literal["normal", "lognormal", "triangulaer", "uniform"]
    middel: float | None = None
    standardavvik: Annotated[float, Field(gt=0)] | None = None
    median: Annotated[float, Field(gt=0)] | None = None
    sigma: Annotated[float, Field(gt=0)] | None = None
    min: float | None = None
    modus: float | None = None
    maks: float | None = None
    per_aar: bool = False

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Distribution:
        needed = {
            "normal": ("middel", "standardavvik"),
            "lognormal": ("median", "sigma"),
            "triangulaer": ("min", "modus", "maks"),
            "uniform": ("min", "maks"),
        }[self.fordeling]
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            raise ValueError(
                _("the distribution {kind} needs {keys}").format(
                    kind=self.fordeling, keys=", ".join(missing)
                )
            )
        extra = [
            k
            for k in ("middel", "standardavvik", "median", "sigma", "min", "modus", "maks")
            if k not in needed and getattr(self, k) is not None
        ]
        if extra:
            raise ValueError(
                _("the distribution {kind} does not take {keys}").format(
                    kind=self.fordeling, keys=", ".join(extra)
                )
            )
        if self.fordeling == "triangulaer":
            assert self.min is not None and self.modus is not None and self.maks is not None
            if not (self.min <= self.modus <= self.maks and self.min < self.maks):
                raise ValueError(_("must have min ≤ modus ≤ maks and min < maks"))
        if self.fordeling == "uniform":
            assert self.min is not None and self.maks is not None
            if not self.min < self.maks:
                raise ValueError(_("must have min < maks"))
        return self


class Uncertainty(_Strict):
    """The draws: how many, the seed, and the uncertain inputs by name."""

    trekk: Annotated[int, Field(ge=1, le=100_000)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    inndata: dict[str, Distribution] = Field(default_factory=dict)

    @field_validator("inndata")
    @classmethod
    def _known_inputs(cls, value: dict[str, Distribution]) -> dict[str, Distribution]:
        allowed = ["deflator", *(f"tjenestebruk.{k}" for k in (*NEED_KEYS, "alle"))]
        for name in value:
            if name not in allowed:
                raise ValueError(
                    _("unknown uncertain input '{name}' (allowed: {allowed})").format(
                        name=name, allowed=", ".join(allowed)
                    )
                )
        return value


class Participation(_Strict):
    """A participation change: these municipalities, in this model, from (and to) these dates."""

    kommuner: Literal["alle"] | list[str]
    modell: Literal["A", "B", "ingen"]
    fra: dt.date
    til: dt.date | None = None
    aktivitet_fra: dt.date | None = None

    @field_validator("kommuner", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        if isinstance(value, list):
            out = []
            for v in value:
                text = f"{v:04d}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
                if not _CODE.match(text):
                    raise ValueError(
                        _("'{value}' is not a municipality code (four digits)").format(value=v)
                    )
                out.append(text)
            if not out:
                raise ValueError(_("the list of municipalities is empty"))
            return out
        return value

    @field_validator("fra", "aktivitet_fra")
    @classmethod
    def _first_of_month(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value.day != 1:
            raise ValueError(_("must be the first day of a month"))
        return value

    @field_validator("til")
    @classmethod
    def _last_of_month(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and (value + dt.timedelta(days=1)).day != 1:
            raise ValueError(_("must be the last day of a month"))
        return value

    @model_validator(mode="after")
    def _order(self) -> Participation:
        if self.til is not None and self.til < self.fra:
            raise ValueError(_("til is before fra"))
        if self.aktivitet_fra is not None:
            if self.modell != "A":
                raise ValueError(_("aktivitet_fra is only for model A"))
            if self.aktivitet_fra < self.fra:
                raise ValueError(_("aktivitet_fra is before fra"))
        if self.modell == "ingen" and self.til is not None:
            raise ValueError(_("modell ingen ends participation: it takes no til"))
        return self


class Population(_Strict):
    """A population projection in SSB's format and the alternative to use."""

    fil: str
    alternativ: str = "MMMM"

    @field_validator("alternativ")
    @classmethod
    def _alternative(cls, value: str) -> str:
        if not _ALTERNATIVE.match(value):
            raise ValueError(
                _("must be an alternative of four letters L, M, H, K or 0 (e.g. MMMM)")
            )
        return value


class Scenario(_Strict):
    """A validated scenario (paths still relative to the file; see `load_scenario`)."""

    navn: str
    beskrivelse: str = ""
    basisaar: Annotated[int, Field(ge=2000, le=2100)] | None = None
    horisont: Annotated[int, Field(ge=1, le=50)]
    parametere: dict[str, dict[dt.date, Any]] = Field(default_factory=dict)
    overstyring: str | None = None
    deltakelse: list[Participation] = Field(default_factory=list)
    befolkning: Population | None = None
    tjenestebruk: dict[str, float] = Field(default_factory=dict)
    usikkerhet: Uncertainty = Field(default_factory=Uncertainty)
    # set by load_scenario: the file and its folder (for relative paths)
    fil: str = ""

    @field_validator("tjenestebruk")
    @classmethod
    def _need_keys(cls, value: dict[str, float]) -> dict[str, float]:
        allowed = (*NEED_KEYS, "alle")
        for name, growth in value.items():
            if name not in allowed:
                raise ValueError(
                    _("unknown need level '{name}' (allowed: {allowed})").format(
                        name=name, allowed=", ".join(allowed)
                    )
                )
            if growth <= -1:
                raise ValueError(_("a yearly growth must be above -1"))
        return value

    @field_validator("parametere", mode="before")
    @classmethod
    def _series(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for path, series in value.items():
                if not isinstance(series, dict) or not series:
                    raise ValueError(
                        _("'{path}': must be a mapping {{YYYY-MM-DD: value}}").format(path=path)
                    )
        return value

    def path(self, relative: str) -> Path:
        """A path named in the file, relative to the file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else Path(self.fil).parent / p

    def growth(self, level: str) -> float:
        """The yearly service-use growth of a need level (`alle` where the level is not named)."""
        return self.tjenestebruk.get(level, self.tjenestebruk.get("alle", 0.0))


_UNION_BRANCHES = ("list[str]", "literal['alle']")


def _rule(error: Any) -> str:
    """The Norwegian rule of one Pydantic error."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("is required")
    if kind == "extra_forbidden":
        return _("unknown key")
    if kind == "literal_error":
        allowed = str(ctx.get("expected", "")).replace(" or ", " " + _("or") + " ")
        return _("must be one of {allowed}").format(allowed=allowed)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("must be a whole number")
    if kind in ("float_parsing", "float_type"):
        return _("must be a number")
    if kind in ("bool_parsing", "bool_type"):
        return _("must be true or false")
    if kind.startswith("date") or kind.startswith("datetime"):
        return _("must be a date YYYY-MM-DD")
    if kind in ("string_type",):
        return _("must be text")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("must be a mapping of keys to values")
    if kind == "list_type":
        return _("must be a list")
    if kind == "greater_than_equal":
        return _("must be at least {limit}").format(limit=ctx.get("ge"))
    if kind == "greater_than":
        return _("must be greater than {limit}").format(limit=ctx.get("gt"))
    if kind == "less_than_equal":
        return _("must be at most {limit}").format(limit=ctx.get("le"))
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "")))
    return str(error.get("msg", kind))


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "."


def problems_of(file: str, exc: ValidationError) -> list[str]:
    """The lines ``FILE: key.path: rule`` of a Pydantic error, one per distinct problem."""
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if loc and loc[-1] in _UNION_BRANCHES:
            # `kommuner: alle | [codes]` reports one error per branch: say it once
            line = f"{file}: {_key_path(loc[:-1])}: " + _(
                "must be 'alle' or a list of municipality codes"
            )
        else:
            line = f"{file}: {_key_path(loc)}: {_rule(error)}"
        if line not in lines:
            lines.append(line)
    return lines


def load_scenario(file: Path) -> Scenario:
    """Read and validate a scenario file; `ScenarioInvalid` lists every mistake."""
    name = str(file)
    if not file.is_file():
        raise ScenarioInvalid([f"{name}: " + _("file not found")])
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise ScenarioInvalid([f"{where}: " + _("not valid YAML")]) from None
    except UnicodeDecodeError:
        raise ScenarioInvalid([f"{name}: " + _("not UTF-8 text")]) from None
    if not isinstance(raw, dict):
        raise ScenarioInvalid([f"{name}: " + _("must be a mapping of keys to values")])
    raw = {str(k): v for k, v in raw.items()}
    if "fil" in raw:
        raise ScenarioInvalid([f"{name}: fil: " + _("unknown key")])
    raw["fil"] = name
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioInvalid(problems_of(name, exc)) from None
    missing = []
    if scenario.overstyring is not None and not scenario.path(scenario.overstyring).is_file():
        missing.append(
            f"{name}: overstyring: " + _("file not found: {path}").format(path=scenario.overstyring)
        )
    if scenario.befolkning is not None and not scenario.path(scenario.befolkning.fil).is_file():
        missing.append(
            f"{name}: befolkning.fil: "
            + _("file not found: {path}").format(path=scenario.befolkning.fil)
        )
    if missing:
        raise ScenarioInvalid(missing)
    return scenario
