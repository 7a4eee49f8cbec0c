"""The allocation criteria as typed data: need-level rule, care ladder with service criteria,
justifications for deviating, and process deadlines (scheme.md §4).

These are the shapes one dated version of each part of the criteria files takes after loading
(`sio.criteria.loader`); a `CriteriaVersion` is the four parts in force on a date, with the stable
identifier a case records. Every item carries its `evidence` (confirmed | secondary | estimate) and
its `reference` (title + link), inherited from the enclosing part or version when not its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from sio.criteria.conditions import NEED_LEVELS, Condition, NeedLevel, mentions_need_level
from sio.i18n import _

Evidence = Literal["confirmed", "secondary", "estimate"]
EVIDENCE_LEVELS: tuple[Evidence, ...] = ("confirmed", "secondary", "estimate")
Unit = Literal["timer_per_uke", "doegn", "timer_per_maaned", "per_maaned"]
UNITS: tuple[Unit, ...] = ("timer_per_uke", "doegn", "timer_per_maaned", "per_maaned")
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
PART_NAMES: tuple[str, ...] = ("need_level", "care_ladder", "justifications", "deadlines")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Frozen):
    """Where a criterion comes from."""

    title: Text
    href: str = ""


class Sourced(_Frozen):
    """An item with its evidence level and references."""

    evidence: Evidence
    reference: tuple[Reference, ...] = Field(min_length=1)


class NeedLevelRule(Sourced):
    """How the 17 scores give the aggregate need level: the highest group whose condition holds;
    `noe_avgrenset` when neither holds."""

    description: str = ""
    middels_til_stort: Condition
    omfattende: Condition

    @model_validator(mode="after")
    def _no_circle(self) -> NeedLevelRule:
        if mentions_need_level(self.middels_til_stort) or mentions_need_level(self.omfattende):
            raise PydanticCustomError(
                "circular", _("the need-level rule cannot test the need level itself")
            )
        return self


class VolumeRange(_Frozen):
    """A recommended volume range (inclusive) in the service's unit."""

    min: float = Field(ge=0)
    max: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> VolumeRange:
        if self.min > self.max:
            raise PydanticCustomError(
                "range", _("min {min} is above max {max}"), {"min": self.min, "max": self.max}
            )
        return self

    def contains(self, volume: float) -> bool:
        return self.min <= volume <= self.max


class ServiceCriterion(Sourced):
    """One service on the care ladder: when it is indicated, how much, and what to say."""

    name: Text
    step: int = Field(ge=1)
    eligibility: Condition
    unit: Unit
    volume: dict[NeedLevel, VolumeRange]
    price_group: Code | None = "STANDARD"
    reason: Text
    combinable_up_to_step: int | None = Field(default=None, ge=1)
    reevaluation_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _volume_by_level(self) -> ServiceCriterion:
        missing = [lvl for lvl in NEED_LEVELS if lvl not in self.volume]
        if missing:
            raise PydanticCustomError(
                "volume_levels",
                _("a volume range is needed for every need level; missing: {levels}"),
                {"levels": ", ".join(missing)},
            )
        ranges = [self.volume[lvl] for lvl in NEED_LEVELS]
        for lower, higher, name in zip(ranges, ranges[1:], NEED_LEVELS[1:], strict=False):
            if higher.min < lower.min or higher.max < lower.max:
                raise PydanticCustomError(
                    "volume_order",
                    _("the volume range for {level} is below that of a lower need level"),
                    {"level": name},
                )
        if self.combinable_up_to_step is not None and self.combinable_up_to_step < self.step:
            raise PydanticCustomError(
                "combinable",
                _("combinable_up_to_step {n} is below the service's own step {step}"),
                {"n": self.combinable_up_to_step, "step": self.step},
            )
        return self


class CareLadder(Sourced):
    """The care ladder (omsorgstrappen): the services by code, each with its step."""

    description: str = ""
    no_service_reason: Text
    services: dict[Code, ServiceCriterion] = Field(min_length=1)


class Justification(Sourced):
    """One allowed justification for a decision outside the recommendation."""

    text: Text


class Deadline(Sourced):
    """A process deadline: days from one step of the work process to the next."""

    days: int = Field(ge=0)
    description: Text


class ProcessDeadlines(_Frozen):
    """The deadlines of the work process (arbeidsprosesskriterier)."""

    application_to_assessment: Deadline
    assessment_to_decision: Deadline
    application_to_decision: Deadline
    preliminary_reply: Deadline
    reevaluation: Deadline


class CriteriaVersion(_Frozen):
    """The criteria in force from `valid_from` until the day before `valid_until` (open if None).

    `id` (`k-` + 12 hex digits) is a digest of the content, so the same criteria always have
    the same identifier, wherever they were loaded from."""

    id: str
    valid_from: dt.date
    valid_until: dt.date | None
    source: str
    need_level: NeedLevelRule
    care_ladder: CareLadder
    justifications: dict[Code, Justification] = Field(min_length=1)
    deadlines: ProcessDeadlines

    def covers(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)

    def items(self) -> dict[str, Sourced]:
        """Every sourced item by its path (e.g. `care_ladder.services.HJSPL`)."""
        out: dict[str, Sourced] = {"need_level": self.need_level}
        for code, svc in self.care_ladder.services.items():
            out[f"care_ladder.services.{code}"] = svc
        for code, j in self.justifications.items():
            out[f"justifications.{code}"] = j
        for name in ProcessDeadlines.model_fields:
            out[f"deadlines.{name}"] = getattr(self.deadlines, name)
        return out

    def estimates(self) -> tuple[str, ...]:
        """Paths of the items that rest on the evidence level `estimate`, sorted."""
        return tuple(sorted(p for p, item in self.items().items() if item.evidence == "estimate"))
