"""The rules of the application round (scheme.md §2): the calls, the requirements an application
is assessed against, and what an offer and its acceptance must satisfy.

A municipality applies to a call (utlysning) by its deadline. The directorate checks the
requirements before selection: a municipal council decision (kommunestyrevedtak) to take part —
which may arrive after the application, by the call's council deadline —, the purchaser function
separated from service production and described in the application, allocation staff with
health/social-care college competence and enough capacity, the ability to buy services from
others, and record and finance systems that can report. Selection gives an offer (model, start,
start of activity financing, answer-by date); an accepted offer becomes the participation record
(`deltakelse`) that the engine reads.

The judgement of the described requirements is the directorate's; the deadlines, the council
decision and the offer's terms are checked here. Every function is pure: the store and the pages
call them (`sio.application_round.service`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sio.i18n import _

# Model B ended in May 2019; from then one common model (scheme.md §1)
MODEL_B_LAST_START = dt.date(2019, 5, 1)

# the requirements judged by the directorate from the application's descriptions, in order
DESCRIBED: tuple[str, ...] = ("bestiller_utfoerer", "kompetanse", "kjoep", "systemer")
REQUIREMENTS: tuple[str, ...] = ("soknadsfrist", "kommunestyrevedtak", *DESCRIBED)


def requirement_label(key: str) -> str:
    """The requirement's name, in the current language."""
    labels = {
        "soknadsfrist": _("Application received by the deadline"),
        "kommunestyrevedtak": _("Municipal council decision to take part"),
        "bestiller_utfoerer": _("Purchaser function separated from service production"),
        "kompetanse": _("Allocation staff with college competence and enough capacity"),
        "kjoep": _("Able to buy services from others"),
        "systemer": _("Record and finance systems can report"),
    }
    return labels[key]


class RoundError(ValueError):
    """A rule of the round broken: the field it concerns and what is wrong (Norwegian)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Call:
    """A call for applications and its dates (per municipality where the call makes exceptions)."""

    id: str
    tittel: str
    soknadsfrist: dt.date
    tidligste_start: dt.date
    kommunestyrefrist: dt.date | None
    svarfrist: dt.date | None
    evidence: str
    reference: str
    exceptions: dict[str, dict[str, dt.date]] = field(default_factory=dict)

    def deadline(self, code: str) -> dt.date:
        """The application deadline for municipality `code`."""
        return self.exceptions.get(code, {}).get("soknadsfrist", self.soknadsfrist)

    def earliest_start(self, code: str) -> dt.date:
        return self.exceptions.get(code, {}).get("tidligste_start", self.tidligste_start)

    def council_deadline(self, code: str) -> dt.date:
        """The last day of the council decision: the call's council deadline, or else the
        application deadline."""
        own = self.exceptions.get(code, {}).get("kommunestyrefrist", self.kommunestyrefrist)
        return own if own is not None else self.deadline(code)


@cache
def calls() -> dict[str, Call]:
    """The calls shipped with the package (`calls.yaml`, each with its source)."""
    text = (resources.files("sio.application_round") / "calls.yaml").read_text(encoding="utf-8")
    out: dict[str, Call] = {}
    for entry in yaml.safe_load(text):
        exceptions: dict[str, dict[str, dt.date]] = {
            str(code): dict(values) for code, values in (entry.get("unntak") or {}).items()
        }
        call = Call(
            id=str(entry["id"]),
            tittel=str(entry["tittel"]),
            soknadsfrist=entry["soknadsfrist"],
            tidligste_start=entry["tidligste_start"],
            kommunestyrefrist=entry.get("kommunestyrefrist"),
            svarfrist=entry.get("svarfrist"),
            evidence=str(entry["evidence"]),
            reference=str(entry["reference"]),
            exceptions=exceptions,
        )
        out[call.id] = call
    return out


def call_of(call_id: str) -> Call:
    found = calls().get(call_id)
    if found is None:
        known = ", ".join(sorted(calls()))
        raise RoundError(
            "utlysning", _("no call {id} (known: {known})").format(id=call_id, known=known)
        )
    return found


@dataclass(frozen=True)
class Judgement:
    """One requirement's outcome: met or not, and why."""

    krav: str
    oppfylt: bool
    begrunnelse: str

    def as_json(self) -> dict[str, Any]:
        return {"krav": self.krav, "oppfylt": self.oppfylt, "begrunnelse": self.begrunnelse}


def assess(
    call: Call,
    code: str,
    received: dt.date,
    council_decision: dt.date | None,
    descriptions: dict[str, str],
    judged: dict[str, tuple[bool, str]],
) -> list[Judgement]:
    """The application's requirements, in the order of `REQUIREMENTS`.

    The deadline and the council decision are checked against the call; each described
    requirement is what the directorate judged (`judged[krav] = (met, reason)`), and cannot be
    met when the application does not describe it. A described requirement not judged is an
    error, as is a judgement "not met" without a reason.
    """
    out: list[Judgement] = []
    deadline = call.deadline(code)
    out.append(
        Judgement(
            "soknadsfrist",
            received <= deadline,
            _("received {received}, deadline {deadline}").format(
                received=received.isoformat(), deadline=deadline.isoformat()
            ),
        )
    )
    council = call.council_deadline(code)
    if council_decision is None:
        reason = _("no council decision recorded (due by {deadline})").format(
            deadline=council.isoformat()
        )
        out.append(Judgement("kommunestyrevedtak", False, reason))
    else:
        out.append(
            Judgement(
                "kommunestyrevedtak",
                council_decision <= council,
                _("council decision {day}, due by {deadline}").format(
                    day=council_decision.isoformat(), deadline=council.isoformat()
                ),
            )
        )
    for krav in DESCRIBED:
        if krav not in judged:
            raise RoundError(krav, _("the requirement is not judged"))
        met, reason = judged[krav]
        reason = reason.strip()
        if met and not descriptions.get(krav, "").strip():
            raise RoundError(krav, _("cannot be met: the application does not describe it"))
        if not met and not reason:
            raise RoundError(krav, _("a requirement that is not met needs a reason"))
        out.append(Judgement(krav, met, reason or _("met")))
    return out


@dataclass(frozen=True)
class Offer:
    """An offer to take part: the participation record it would become, and its answer-by date."""

    modell: str
    fra: dt.date
    aktivitet_fra: dt.date | None
    svarfrist: dt.date


def check_offer(
    call: Call,
    code: str,
    judgements: list[Judgement] | None,
    offer: Offer,
    today: dt.date,
) -> None:
    """Refuse an offer that the round does not allow (RoundError naming the field)."""
    if judgements is None:
        raise RoundError("vurdering", _("the application has not been assessed"))
    failed = [j.krav for j in judgements if not j.oppfylt]
    if failed:
        names = ", ".join(requirement_label(k) for k in failed)
        raise RoundError("vurdering", _("requirements not met: {names}").format(names=names))
    if offer.modell not in ("A", "B"):
        raise RoundError("modell", _("model must be A or B"))
    if offer.fra.day != 1:
        raise RoundError("fra", _("must be the first day of a month"))
    earliest = call.earliest_start(code)
    if offer.fra < earliest:
        raise RoundError(
            "fra",
            _("the call's earliest start is {day}").format(day=earliest.isoformat()),
        )
    if offer.modell == "B" and offer.fra > MODEL_B_LAST_START:
        raise RoundError("modell", _("model B ended in May 2019: only model A can start after it"))
    if offer.aktivitet_fra is not None:
        if offer.modell != "A":
            raise RoundError("aktivitet_fra", _("'aktivitet_fra' applies to model A only"))
        if offer.aktivitet_fra.day != 1:
            raise RoundError("aktivitet_fra", _("must be the first day of a month"))
        if offer.aktivitet_fra < offer.fra:
            raise RoundError("aktivitet_fra", _("'aktivitet_fra' must lie within the period"))
    if offer.svarfrist < today:
        raise RoundError(
            "svarfrist",
            _("the answer-by date {day} has passed").format(day=offer.svarfrist.isoformat()),
        )
    if offer.svarfrist >= offer.fra:
        raise RoundError(
            "svarfrist",
            _("the answer must come before the start {day}").format(day=offer.fra.isoformat()),
        )


def check_acceptance(offer: Offer, accepted: dt.date) -> None:
    """An offer can be accepted up to and including its answer-by date."""
    if accepted > offer.svarfrist:
        raise RoundError(
            "dato",
            _("the offer expired on {day}: it was not accepted in time").format(
                day=offer.svarfrist.isoformat()
            ),
        )


def participation_row(code: str, offer: Offer) -> dict[str, str]:
    """The `deltakelse` row (interfaces.md §1) an accepted offer becomes: open-ended."""
    return {
        "kommunenummer": code,
        "modell": offer.modell,
        "fra": offer.fra.isoformat(),
        "til": "",
        "aktivitet_fra": offer.aktivitet_fra.isoformat() if offer.aktivitet_fra else "",
        "covid_saerordning": "",
    }
