"""The recommendation: the lowest effective step of the care ladder that meets the need (LEON),
with volume ranges and reasons that cite the criteria (scheme.md §4.3).

A service is indicated when its eligibility condition holds for the assessment. The recommended
step is the highest step with an indicated service: every lower step leaves part of the assessed
need unmet, and no higher step's criteria are met, so it is the lowest step that meets the need.
The services indicated on that step are the main recommendation; indicated services on lower
steps are added as supplements when the step allows it (`combinable_up_to_step`). The volume range
is the service's range for the person's need level.

`check_decision` places a decided service and volume against the recommendation (within, below,
above, other) and says whether a justification is needed and whether the one given is valid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sio.criteria.conditions import Facts, explain, holds
from sio.criteria.iplos import Assessment
from sio.criteria.loader import CriteriaSet
from sio.criteria.model import CriteriaVersion, Evidence, Reference, ServiceCriterion, Unit
from sio.criteria.need_level import NeedLevelResult, need_level
from sio.i18n import _, format_number

Role = Literal["main", "supplement"]
Position = Literal["within", "below", "above", "other"]
WEEKS_PER_MONTH = 365.25 / 12 / 7
HOUR_UNITS: tuple[Unit, ...] = ("timer_per_uke", "timer_per_maaned")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Reason(_Out):
    """A statement given to the person, and the criterion (item path) it cites."""

    criterion: str
    text: str


class ServiceRecommendation(_Out):
    """One recommended service with its volume range, price group and reasons."""

    service: str
    name: str
    step: int
    role: Role
    unit: Unit
    volume_min: float
    volume_max: float
    price_group: str | None
    evidence: Evidence
    reference: tuple[Reference, ...]
    reasons: tuple[Reason, ...]


class Recommendation(_Out):
    """What the criteria recommend for one assessment."""

    criteria_version: str
    criteria_valid_from: dt.date
    assessed_on: dt.date
    need_level: NeedLevelResult
    step: int  # 0 = no service indicated
    services: tuple[ServiceRecommendation, ...]
    reasons: tuple[Reason, ...]
    estimates: tuple[str, ...]  # the criteria items used that rest on estimates

    @property
    def rests_on_estimates(self) -> bool:
        return bool(self.estimates)

    def service(self, code: str) -> ServiceRecommendation | None:
        return next((s for s in self.services if s.service == code), None)


def unit_label(unit: Unit) -> str:
    labels = {
        "timer_per_uke": _("hours per week"),
        "timer_per_maaned": _("hours per month"),
        "doegn": _("days of stay per day of the period"),
        "per_maaned": _("per month"),
    }
    return labels[unit]


def _number(x: float) -> str:
    return format_number(Decimal(repr(x)).normalize())


def indicated(assessment: Assessment, criteria: CriteriaVersion) -> dict[str, ServiceCriterion]:
    """The services whose eligibility conditions hold, by code."""
    level = need_level(assessment.scores, criteria.need_level).level
    facts = Facts(assessment.scores.effective(), level)
    return {
        code: svc
        for code, svc in sorted(criteria.care_ladder.services.items())
        if holds(svc.eligibility, facts)
    }


def recommend(assessment: Assessment, criteria: CriteriaVersion) -> Recommendation:
    """The LEON recommendation for an assessment under one criteria version."""
    level = need_level(assessment.scores, criteria.need_level)
    facts = Facts(assessment.scores.effective(), level.level)
    ladder = criteria.care_ladder
    eligible = {c: s for c, s in sorted(ladder.services.items()) if holds(s.eligibility, facts)}
    step = max((s.step for s in eligible.values()), default=0)
    chosen: list[tuple[str, ServiceCriterion, Role]] = [
        (c, s, "main") for c, s in eligible.items() if s.step == step
    ]
    chosen += sorted(
        (
            (c, s, "supplement")
            for c, s in eligible.items()
            if s.step < step and s.combinable_up_to_step is not None
            if step <= s.combinable_up_to_step
        ),
        key=lambda t: (t[1].step, t[0]),
    )
    services = tuple(_service(c, s, role, facts, level, criteria) for c, s, role in chosen)
    cite = _("criteria version {id}, in force from {date}").format(
        id=criteria.id, date=criteria.valid_from.isoformat()
    )
    if step == 0:
        reasons = (Reason(criterion="care_ladder", text=f"{ladder.no_service_reason} ({cite})"),)
    else:
        names = ", ".join(s.name for _c, s, role in chosen if role == "main")
        text = _(
            "Recommended step {step} of the care ladder ({names}): the lowest level of care that "
            "meets the assessed need (the LEON principle); no service on a higher step meets "
            "its criteria"
        ).format(step=step, names=names)
        reasons = (Reason(criterion="care_ladder", text=f"{text} ({cite})."),)
    used = {"need_level", "care_ladder"} | {f"care_ladder.services.{c}" for c, _s, _r in chosen}
    estimates = tuple(sorted(p for p in criteria.estimates() if p in used))
    if criteria.need_level.evidence == "estimate" and "need_level" not in estimates:
        estimates = ("need_level", *estimates)
    return Recommendation(
        criteria_version=criteria.id,
        criteria_valid_from=criteria.valid_from,
        assessed_on=assessment.assessed_on,
        need_level=level,
        step=step,
        services=services,
        reasons=reasons,
        estimates=estimates,
    )


def _service(
    code: str,
    svc: ServiceCriterion,
    role: Role,
    facts: Facts,
    level: NeedLevelResult,
    criteria: CriteriaVersion,
) -> ServiceRecommendation:
    rng = svc.volume[level.level]
    met = "; ".join(explain(svc.eligibility, facts))
    criterion = f"care_ladder.services.{code}"
    reasons = (
        Reason(criterion=criterion, text=svc.reason),
        Reason(
            criterion=criterion,
            text=_("Criterion {code} is met: {facts}.").format(code=code, facts=met),
        ),
        Reason(
            criterion=criterion,
            text=_("Recommended volume for {level}: {min}–{max} {unit}.").format(
                level=level.label,
                min=_number(rng.min),
                max=_number(rng.max),
                unit=unit_label(svc.unit),
            ),
        ),
    )
    return ServiceRecommendation(
        service=code,
        name=svc.name,
        step=svc.step,
        role=role,
        unit=svc.unit,
        volume_min=rng.min,
        volume_max=rng.max,
        price_group=svc.price_group,
        evidence=svc.evidence,
        reference=svc.reference,
        reasons=reasons,
    )


def recommend_on(
    assessment: Assessment, criteria: CriteriaSet, on: dt.date | None = None
) -> Recommendation:
    """The recommendation under the criteria version in force on `on` (default: the date of
    the assessment)."""
    return recommend(assessment, criteria.at(on or assessment.assessed_on))


# -- decisions against the recommendation -----------------------------------------------------


class FieldProblem(_Out):
    """A problem with one field of a proposed decision (for a field-level error answer)."""

    field: str
    message: str


class DecisionCheck(_Out):
    """Where a decided service and volume lie against the recommendation."""

    position: Position
    needs_justification: bool
    recommended: ServiceRecommendation | None
    problems: tuple[FieldProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def convert_volume(volume: float, unit: Unit, to: Unit) -> float | None:
    """The volume in another unit where the two are both hour units (weeks per month =
    365.25 / 12 / 7); None where they cannot be compared."""
    if unit == to:
        return volume
    if unit == "timer_per_maaned" and to == "timer_per_uke":
        return volume / WEEKS_PER_MONTH
    if unit == "timer_per_uke" and to == "timer_per_maaned":
        return volume * WEEKS_PER_MONTH
    return None


def check_decision(
    recommendation: Recommendation,
    criteria: CriteriaVersion,
    service: str,
    volume: float,
    unit: Unit,
    justification: str | None = None,
    justification_text: str = "",
) -> DecisionCheck:
    """Place a decision against the recommendation and check its justification.

    A decision outside the recommendation (another service, or a volume outside the range) needs
    a justification code from the criteria's fixed list and a free-text explanation."""
    problems: list[FieldProblem] = []
    if not volume > 0:
        problems.append(FieldProblem(field="volume", message=_("the volume must be above 0")))
    ladder = criteria.care_ladder.services
    rec = recommendation.service(service)
    position: Position
    if service not in ladder:
        problems.append(
            FieldProblem(
                field="service",
                message=_("unknown service {code} in criteria version {id}").format(
                    code=service, id=criteria.id
                ),
            )
        )
        position = "other"
    elif rec is None:
        step = ladder[service].step
        position = (
            "above"
            if step > recommendation.step
            else "below"
            if step < recommendation.step
            else "other"
        )
    else:
        comparable = convert_volume(volume, unit, rec.unit)
        if comparable is None:
            problems.append(
                FieldProblem(
                    field="unit",
                    message=_(
                        "the unit {unit} cannot be compared with the criteria's {expected}"
                    ).format(unit=unit, expected=rec.unit),
                )
            )
            position = "other"
        elif comparable < rec.volume_min - 1e-9:
            position = "below"
        elif comparable > rec.volume_max + 1e-9:
            position = "above"
        else:
            position = "within"
    needs = position != "within"
    if needs:
        if not justification:
            problems.append(
                FieldProblem(
                    field="justification",
                    message=_(
                        "a decision outside the recommendation needs a justification from the "
                        "list: {codes}"
                    ).format(codes=", ".join(sorted(criteria.justifications))),
                )
            )
        elif justification not in criteria.justifications:
            problems.append(
                FieldProblem(
                    field="justification",
                    message=_("unknown justification {code}; the list is: {codes}").format(
                        code=justification, codes=", ".join(sorted(criteria.justifications))
                    ),
                )
            )
        if not justification_text.strip():
            problems.append(
                FieldProblem(
                    field="justification_text",
                    message=_("explain the justification in your own words"),
                )
            )
    return DecisionCheck(
        position=position, needs_justification=needs, recommended=rec, problems=tuple(problems)
    )
