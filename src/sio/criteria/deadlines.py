"""Process deadlines (arbeidsprosesskriterier): when each step of a case is due, and which are
overdue (scheme.md §4.1).

Application (henvendelse) → assessment within `application_to_assessment` days; → decision within
`assessment_to_decision` days of the assessment and at most `application_to_decision` days after
the application; a preliminary reply (foreløpig svar) is due `preliminary_reply` days after the
application unless the decision came first; a decision is re-evaluated after the service's own
`reevaluation_days`, or the general `reevaluation` deadline. Days are calendar days.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sio.criteria.model import CriteriaVersion, ProcessDeadlines

Step = Literal["assessment", "decision", "preliminary_reply", "reevaluation"]


class DeadlineStatus(BaseModel):
    """One step of a case against its deadline on a given day."""

    model_config = ConfigDict(frozen=True)

    step: Step
    due: dt.date
    done_on: dt.date | None
    overdue: bool  # not done and the due date has passed
    late: bool  # done, but after the due date

    days_over: int  # days past the due date (today if open, the done date if late)


def _days(start: dt.date, n: int) -> dt.date:
    return start + dt.timedelta(days=n)


def _status(step: Step, due: dt.date, done: dt.date | None, today: dt.date) -> DeadlineStatus:
    return DeadlineStatus(
        step=step,
        due=due,
        done_on=done,
        overdue=done is None and today > due,
        late=done is not None and done > due,
        days_over=max(0, ((done or today) - due).days),
    )


def assessment_due(received: dt.date, deadlines: ProcessDeadlines) -> dt.date:
    return _days(received, deadlines.application_to_assessment.days)


def decision_due(
    received: dt.date, deadlines: ProcessDeadlines, assessed_on: dt.date | None = None
) -> dt.date:
    latest = _days(received, deadlines.application_to_decision.days)
    if assessed_on is None:
        return latest
    return min(latest, _days(assessed_on, deadlines.assessment_to_decision.days))


def reevaluation_due(decided_on: dt.date, service: str, criteria: CriteriaVersion) -> dt.date:
    """The re-evaluation date of a decision: the service's own interval, else the general one."""
    svc = criteria.care_ladder.services.get(service)
    days = svc.reevaluation_days if svc is not None else None
    return _days(decided_on, days if days is not None else criteria.deadlines.reevaluation.days)


def case_deadlines(
    deadlines: ProcessDeadlines,
    received: dt.date,
    today: dt.date,
    assessed_on: dt.date | None = None,
    decided_on: dt.date | None = None,
    preliminary_reply_on: dt.date | None = None,
) -> tuple[DeadlineStatus, ...]:
    """The status of the assessment, preliminary reply and decision of one case on `today`."""
    out = [
        _status("assessment", assessment_due(received, deadlines), assessed_on, today),
    ]
    reply_due = _days(received, deadlines.preliminary_reply.days)
    if decided_on is None or decided_on > reply_due:
        out.append(_status("preliminary_reply", reply_due, preliminary_reply_on, today))
    out.append(
        _status("decision", decision_due(received, deadlines, assessed_on), decided_on, today)
    )
    return tuple(out)


def overdue(statuses: tuple[DeadlineStatus, ...]) -> tuple[DeadlineStatus, ...]:
    """The steps that are past due and not done."""
    return tuple(s for s in statuses if s.overdue)
