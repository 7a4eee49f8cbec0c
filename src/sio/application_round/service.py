"""The application round in the store: register an application, record a council decision sent
later, assess, offer, and accept or decline — and an accepted offer becomes a `deltakelse` row
in a new data version, validated by the same import rules as any file (overlapping periods, the
municipality's validity …), so that the engine reads it like any other input.

Who may do what: the directorate (`direktorat`) registers, assesses and offers, and can record a
municipality's answer received by letter; a municipality's finance officer (`okonomi`) submits
its own municipality's application, sends its council decision and answers its offer. Every
query is scoped by role and municipality: another municipality's application is not found.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from sio.application_round.rules import (
    DESCRIBED,
    Judgement,
    Offer,
    RoundError,
    assess,
    call_of,
    check_acceptance,
    check_offer,
    participation_row,
)
from sio.application_round.schema import application, event
from sio.casework.access import Forbidden, NotFound, Principal, require
from sio.casework.accounts import municipality_valid
from sio.data.validation import ERROR, InputInvalid
from sio.i18n import _
from sio.parameters import ParameterSet

DIRECTORATE = "direktorat"
MUNICIPALITY = "okonomi"
READERS = (DIRECTORATE, MUNICIPALITY)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Application:
    """An application with its events, as the pages and tests read it."""

    id: int
    kommunenummer: str
    utlysning: str
    mottatt: dt.date
    kommunestyrevedtak: dt.date | None
    modell: str
    oensket_start: dt.date | None
    descriptions: dict[str, str]
    events: list[dict[str, Any]]

    def latest(self, art: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = next(
            (e for e in reversed(self.events) if e["art"] == art), None
        )
        return found

    @property
    def judgements(self) -> list[Judgement] | None:
        e = self.latest("vurdering")
        if e is None:
            return None
        return [Judgement(j["krav"], j["oppfylt"], j["begrunnelse"]) for j in e["innhold"]["krav"]]

    @property
    def offer(self) -> Offer | None:
        e = self.latest("tilbud")
        if e is None:
            return None
        c = e["innhold"]
        return Offer(
            c["modell"],
            dt.date.fromisoformat(c["fra"]),
            dt.date.fromisoformat(c["aktivitet_fra"]) if c["aktivitet_fra"] else None,
            dt.date.fromisoformat(c["svarfrist"]),
        )

    @property
    def answer(self) -> dict[str, Any] | None:
        """The municipality's answer to the latest offer (accept or decline), if any."""
        offer = self.latest("tilbud")
        for e in reversed(self.events):
            if e is offer:
                return None
            if e["art"] in ("aksept", "nei"):
                answer: dict[str, Any] = e
                return answer
        return None

    def status(self, today: dt.date) -> str:
        """mottatt, vurdert, avslaatt, tilbudt, akseptert, takket_nei or utloept."""
        if self.latest("avslag") is not None:
            return "avslaatt"
        answer = self.answer
        if answer is not None:
            return "akseptert" if answer["art"] == "aksept" else "takket_nei"
        offer = self.offer
        if offer is not None:
            return "utloept" if today > offer.svarfrist else "tilbudt"
        return "vurdert" if self.judgements is not None else "mottatt"


def status_label(status: str) -> str:
    labels = {
        "mottatt": _("received"),
        "vurdert": _("assessed"),
        "avslaatt": _("refused"),
        "tilbudt": _("offered"),
        "akseptert": _("accepted"),
        "takket_nei": _("declined"),
        "utloept": _("offer expired"),
    }
    return labels[status]


def _scope(p: Principal, code: str | None = None) -> None:
    require(p, *READERS)
    if p.rolle == MUNICIPALITY and code is not None and code != p.kommunenummer:
        raise Forbidden(_("a municipality can only act for itself"))


def register(
    conn: Connection,
    p: Principal,
    *,
    kommunenummer: str,
    utlysning: str,
    mottatt: dt.date,
    kommunestyrevedtak: dt.date | None,
    modell: str,
    oensket_start: dt.date | None,
    descriptions: dict[str, str],
) -> int:
    """Store a new application; returns its id. The municipality must exist on the day it
    applies or on the start it wishes (a municipality formed by a merger applies before it
    exists: Indre Østfold in 2019)."""
    _scope(p, kommunenummer)
    call = call_of(utlysning)
    start = oensket_start or call.earliest_start(kommunenummer)
    if not (
        municipality_valid(conn, kommunenummer, mottatt)
        or municipality_valid(conn, kommunenummer, start)
    ):
        raise RoundError(
            "kommunenummer",
            _("{code} is not a municipality on {day}").format(
                code=kommunenummer, day=mottatt.isoformat()
            ),
        )
    if modell not in ("A", "B"):
        raise RoundError("modell", _("model must be A or B"))
    if oensket_start is not None and oensket_start.day != 1:
        raise RoundError("oensket_start", _("must be the first day of a month"))
    texts = {k: descriptions.get(k, "").strip() for k in DESCRIBED}
    for k, v in texts.items():
        if "\x00" in v:
            raise RoundError(k, _("text fields cannot contain NUL bytes"))
    new_id = conn.execute(
        insert(application)
        .values(
            kommunenummer=kommunenummer,
            utlysning=utlysning,
            mottatt=mottatt,
            kommunestyrevedtak=kommunestyrevedtak,
            modell=modell,
            oensket_start=oensket_start,
            opprettet=_now(),
            opprettet_av=p.konto_id,
            **texts,
        )
        .returning(application.c.id)
    ).scalar_one()
    return int(new_id)


def _add_event(
    conn: Connection,
    p: Principal,
    soknad_id: int,
    art: str,
    innhold: dict[str, Any],
    versjon: int | None = None,
) -> None:
    conn.execute(
        insert(event).values(
            soknad_id=soknad_id,
            art=art,
            innhold=innhold,
            tidspunkt=_now(),
            konto_id=p.konto_id,
            versjon=versjon,
        )
    )


def get(conn: Connection, p: Principal, soknad_id: int) -> Application:
    """The application `soknad_id` as `p` may see it (NotFound otherwise)."""
    require(p, *READERS)
    q = select(application).where(application.c.id == soknad_id)
    if p.rolle == MUNICIPALITY:
        q = q.where(application.c.kommunenummer == p.kommunenummer)
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(_("no application {id}").format(id=soknad_id))
    events = [
        {
            "art": e.art,
            "innhold": e.innhold,
            "tidspunkt": e.tidspunkt,
            "versjon": e.versjon,
        }
        for e in conn.execute(
            select(event).where(event.c.soknad_id == soknad_id).order_by(event.c.id)
        )
    ]
    council = row.kommunestyrevedtak
    for e in events:
        if e["art"] == "kommunestyrevedtak":
            council = dt.date.fromisoformat(e["innhold"]["dato"])
    return Application(
        id=int(row.id),
        kommunenummer=row.kommunenummer,
        utlysning=row.utlysning,
        mottatt=row.mottatt,
        kommunestyrevedtak=council,
        modell=row.modell,
        oensket_start=row.oensket_start,
        descriptions={k: getattr(row, k) for k in DESCRIBED},
        events=events,
    )


def list_applications(conn: Connection, p: Principal) -> list[Application]:
    """The applications `p` may see, newest first."""
    require(p, *READERS)
    q = select(application.c.id).order_by(application.c.id.desc())
    if p.rolle == MUNICIPALITY:
        q = q.where(application.c.kommunenummer == p.kommunenummer)
    return [get(conn, p, int(i)) for i in conn.execute(q).scalars()]


def _open(a: Application, today: dt.date) -> None:
    """Refuse a change to an application that the round has closed."""
    status = a.status(today)
    if status in ("avslaatt", "akseptert", "takket_nei"):
        raise RoundError(
            "status",
            _("the application is closed ({status})").format(status=status_label(status)),
        )


def record_council_decision(
    conn: Connection, p: Principal, soknad_id: int, dato: dt.date, today: dt.date
) -> None:
    """A council decision sent after the application (assessed again afterwards)."""
    a = get(conn, p, soknad_id)
    _scope(p, a.kommunenummer)
    _open(a, today)
    if dato > today:
        raise RoundError("dato", _("the council decision cannot be dated in the future"))
    _add_event(conn, p, soknad_id, "kommunestyrevedtak", {"dato": dato.isoformat()})


def record_assessment(
    conn: Connection,
    p: Principal,
    soknad_id: int,
    judged: dict[str, tuple[bool, str]],
    today: dt.date,
) -> list[Judgement]:
    """The directorate's assessment against the requirements (`rules.assess`)."""
    require(p, DIRECTORATE)
    a = get(conn, p, soknad_id)
    _open(a, today)
    if a.offer is not None:
        raise RoundError("status", _("the application has an offer already"))
    call = call_of(a.utlysning)
    result = assess(call, a.kommunenummer, a.mottatt, a.kommunestyrevedtak, a.descriptions, judged)
    _add_event(conn, p, soknad_id, "vurdering", {"krav": [j.as_json() for j in result]})
    return result


def refuse(conn: Connection, p: Principal, soknad_id: int, reason: str, today: dt.date) -> None:
    """The directorate refuses the application (with a reason)."""
    require(p, DIRECTORATE)
    a = get(conn, p, soknad_id)
    _open(a, today)
    if not reason.strip():
        raise RoundError("begrunnelse", _("a refusal needs a reason"))
    _add_event(conn, p, soknad_id, "avslag", {"begrunnelse": reason.strip()})


def make_offer(
    conn: Connection, p: Principal, soknad_id: int, offer: Offer, today: dt.date
) -> None:
    """The directorate's offer (`rules.check_offer`)."""
    require(p, DIRECTORATE)
    a = get(conn, p, soknad_id)
    _open(a, today)
    if a.offer is not None and a.status(today) == "tilbudt":
        raise RoundError("status", _("the application has an open offer already"))
    check_offer(call_of(a.utlysning), a.kommunenummer, a.judgements, offer, today)
    if not municipality_valid(conn, a.kommunenummer, offer.fra):
        raise RoundError(
            "fra",
            _("{code} is not a municipality on {day}").format(
                code=a.kommunenummer, day=offer.fra.isoformat()
            ),
        )
    _add_event(
        conn,
        p,
        soknad_id,
        "tilbud",
        {
            "modell": offer.modell,
            "fra": offer.fra.isoformat(),
            "aktivitet_fra": offer.aktivitet_fra.isoformat() if offer.aktivitet_fra else "",
            "svarfrist": offer.svarfrist.isoformat(),
            "dato": today.isoformat(),
        },
    )


def decline(conn: Connection, p: Principal, soknad_id: int, dato: dt.date, today: dt.date) -> None:
    """The municipality says no to its offer."""
    a = get(conn, p, soknad_id)
    _scope(p, a.kommunenummer)
    if a.offer is None:
        raise RoundError("status", _("there is no offer to answer"))
    _open(a, today)
    _add_event(conn, p, soknad_id, "nei", {"dato": dato.isoformat()})


def accept(
    engine: Engine,
    p: Principal,
    soknad_id: int,
    dato: dt.date,
    today: dt.date,
    params: ParameterSet,
) -> int:
    """Accept the offer: its participation record is imported as a new data version (the same
    validation as a file); the acceptance event names that version. Returns the version.

    The import runs first, in its own transaction; an acceptance that fails after it is repeated
    safely: importing the same row again finds the version already stored."""
    from sio.store.versions import import_path

    with engine.connect() as conn:
        a = get(conn, p, soknad_id)
    _scope(p, a.kommunenummer)
    offer = a.offer
    if offer is None:
        raise RoundError("status", _("there is no offer to answer"))
    _open(a, today)
    if dato > today:
        raise RoundError("dato", _("the acceptance cannot be dated in the future"))
    check_acceptance(offer, dato)
    if a.kommunestyrevedtak is None:
        raise RoundError(
            "kommunestyrevedtak", _("an offer is accepted only with a council decision")
        )
    row = participation_row(a.kommunenummer, offer)
    with tempfile.TemporaryDirectory(prefix="sio-soknad-") as tmp:
        path = Path(tmp) / "deltakelse.csv"
        header = ",".join(row)
        path.write_text(header + "\n" + ",".join(row.values()) + "\n", encoding="utf-8")
        try:
            result = import_path(
                engine,
                Path(tmp),
                params,
                user=p.brukernavn,
                source=_("application round: application {id} accepted").format(id=soknad_id),
            )
        except InputInvalid as exc:
            errors = [e for e in exc.problems if e.severity == ERROR]
            field = errors[0].field if errors and errors[0].field else "fra"
            text = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
            raise RoundError(
                "fra" if field in ("kommunenummer", "fra", "til") else field,
                _("the participation record is refused: {problems}").format(problems=text),
            ) from None
    with engine.begin() as conn:
        _add_event(conn, p, soknad_id, "aksept", {"dato": dato.isoformat()}, versjon=result.versjon)
    return result.versjon
