"""The casework use cases: application → assessment → recommendation → decision → re-evaluation.

Every function takes the connection of the request's transaction and the principal; every query
of casework data goes through `access.scoped`, and every read or write of a person's data is
written to the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import case as sql_case

from sio.casework import audit, feed
from sio.casework.access import (
    DECISION_READERS,
    SCOPE_PARAM,
    NotFound,
    Principal,
    require,
    scope,
    scoped,
    scoped_forms,
)
from sio.casework.schema import (
    assessment,
    case,
    case_count,
    decision,
    person,
    recommendation,
    reevaluation,
)
from sio.casework.security import masked, pseudonym, valid_identity_number
from sio.criteria import (
    Assessment,
    CriteriaLookupError,
    CriteriaSet,
    CriteriaVersion,
    Recommendation,
    case_deadlines,
    check_decision,
    overdue,
    recommend,
    reevaluation_due,
)
from sio.i18n import _
from sio.parameters import ParameterSet


class Invalid(ValueError):
    """422 on one field of the request (`loc` as FastAPI reports it, a Norwegian message)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- cases ----------------------------------------------------------------------------------------


# The statements of the casework requests are built once (here and beside each function): a
# request then only binds its values, instead of building the statement, its cache key and its
# parameters anew (a tenth of a request's CPU in a profile of the load mix).
_PERSON = select(person.c.id, person.c.pseudonym).where(person.c.fodselsnummer == bindparam("fnr"))
_NEW_PERSON = insert(person).returning(person.c.id)
_NEW_CASE = insert(case).returning(case.c.id)


def _person(conn: Connection, fnr: str) -> tuple[int, str]:
    """The person's id and pseudonym, the person stored first if new."""
    found = conn.execute(_PERSON, {"fnr": fnr}).first()
    if found is not None:
        return int(found.id), str(found.pseudonym)
    alias = pseudonym(fnr)
    values = {"fodselsnummer": fnr, "pseudonym": alias, "opprettet": _now()}
    return int(conn.execute(_NEW_PERSON, values).scalar_one()), alias


def create_case(
    conn: Connection,
    p: Principal,
    fodselsnummer: str,
    mottatt: dt.date,
    henvendelse: str,
    reason: str | None,
) -> dict[str, Any]:
    require(p, "saksbehandler")
    try:
        fnr = valid_identity_number(fodselsnummer)
    except ValueError as exc:
        raise Invalid("fodselsnummer", str(exc)) from None
    pid, alias = _person(conn, fnr)
    values = {
        "kommunenummer": p.kommunenummer,
        "person_id": pid,
        "mottatt": mottatt,
        "henvendelse": henvendelse,
        "opprettet": _now(),
        "opprettet_av": p.konto_id,
    }
    sak_id = int(conn.execute(_NEW_CASE, values).scalar_one())
    audit.record(conn, p, "skriv", "sak", [(sak_id, pid, p.kommunenummer)], reason)
    # the new case as `get_case` reads it, from what was just stored (a caseworker of the
    # case's municipality: identity number and free text shown; no records yet), without
    # reading it and its four empty record tables back
    return {
        "id": sak_id,
        "kommunenummer": p.kommunenummer,
        "mottatt": mottatt,
        "henvendelse": henvendelse,
        "foreloepig_svar": None,
        "status": _status(0, 0, 0),
        "kriterieversjon": None,
        "person": {
            "pseudonym": alias,
            "fodselsnummer": fnr,
            "fodselsdato_maskert": masked(fnr),
        },
        "kartlegginger": [],
        "anbefalinger": [],
        "vedtak": [],
        "revurderinger": [],
    }


# only the columns the requests read: every column of a result is an object the driver makes
# per statement, and a timestamp with time zone a conversion per row
_CASE_ROW = scoped_forms(
    select(
        case.c.id,
        case.c.kommunenummer,
        case.c.person_id,
        case.c.mottatt,
        case.c.henvendelse,
        case.c.foreloepig_svar,
        case.c.kriterieversjon,
        person.c.fodselsnummer,
        person.c.pseudonym,
    )
    .join(person, person.c.id == case.c.person_id)
    .where(case.c.id == bindparam("sak_id")),
    case,
)


def _case_row(conn: Connection, p: Principal, sak_id: int) -> Any:
    q, params = scope(_CASE_ROW, p)
    row = conn.execute(q, {"sak_id": sak_id, **params}).first()
    if row is None:
        raise NotFound(_("no case {id}").format(id=sak_id))
    return row


def _status(n_assess: int, n_rec: int, n_dec: int) -> str:
    if n_dec:
        return "vedtatt"
    if n_rec:
        return "anbefalt"
    if n_assess:
        return "kartlagt"
    return "mottatt"


# A case's records, one statement per table, built once (the statement objects keep their
# compiled form between requests; the case itself is found through `scoped` first), each with
# the columns of the answer only (as the case row).
_SHOWN = {
    "kartlegging": (
        "id", "skaarer", "kartlagt_dato", "kartlagt_av", "signert_dato", "hva_er_viktig",
    ),
    "anbefaling": ("id", "kartlegging_id", "kriterieversjon", "resultat"),
    "vedtak": (
        "id", "vedtak_id", "erstatter", "tjeneste", "prisgruppe", "omfang", "enhet", "fra", "til",
        "maal", "revurderes", "vedtaksdato", "plassering", "avviksbegrunnelse", "avvikstekst",
        "kriterieversjon", "data_versjon",
    ),
    "revurdering": ("id", "dato", "vurdering"),
}  # fmt: skip
_CHILDREN = {
    name: select(*(t.c[c] for c in _SHOWN[name]))
    .where(t.c.sak_id == bindparam("sak_id"))
    .order_by(t.c.id)
    for name, t in (
        ("kartlegging", assessment),
        ("anbefaling", recommendation),
        ("vedtak", decision),
        ("revurdering", reevaluation),
    )
}


def get_case(
    conn: Connection, p: Principal, sak_id: int, reason: str | None, log: bool = True
) -> dict[str, Any]:
    """The whole case as `p` may see it (identity numbers only for the municipality's own
    caseworkers; free text only inside the municipality)."""
    row = _case_row(conn, p, sak_id)
    inside = p.rolle in ("saksbehandler", "okonomi")
    assessments = [
        {
            "id": a.id,
            "skaarer": a.skaarer,
            "kartlagt_dato": a.kartlagt_dato,
            "kartlagt_av": a.kartlagt_av,
            "signert_dato": a.signert_dato,
            "hva_er_viktig": a.hva_er_viktig if inside else None,
        }
        for a in conn.execute(_CHILDREN["kartlegging"], {"sak_id": sak_id})
    ]
    recs = [
        {
            "id": r.id,
            "kartlegging_id": r.kartlegging_id,
            "kriterieversjon": r.kriterieversjon,
            "resultat": r.resultat,
        }
        for r in conn.execute(_CHILDREN["anbefaling"], {"sak_id": sak_id})
    ]
    decisions = [
        _decision_out(d, inside) for d in conn.execute(_CHILDREN["vedtak"], {"sak_id": sak_id})
    ]
    reevals = [
        {"id": r.id, "dato": r.dato, "vurdering": r.vurdering if inside else None}
        for r in conn.execute(_CHILDREN["revurdering"], {"sak_id": sak_id})
    ]
    if log:
        audit.record(conn, p, "les", "sak", [(sak_id, row.person_id, row.kommunenummer)], reason)
    return {
        "id": row.id,
        "kommunenummer": row.kommunenummer,
        "mottatt": row.mottatt,
        "henvendelse": row.henvendelse if inside else None,
        "foreloepig_svar": row.foreloepig_svar,
        "status": _status(len(assessments), len(recs), len(decisions)),
        "kriterieversjon": row.kriterieversjon,
        "person": {
            "pseudonym": row.pseudonym,
            "fodselsnummer": row.fodselsnummer if p.sees_identity else None,
            "fodselsdato_maskert": masked(row.fodselsnummer) if p.sees_identity else None,
        },
        "kartlegginger": assessments,
        "anbefalinger": recs,
        "vedtak": decisions,
        "revurderinger": reevals,
    }


def _list_total(municipal: bool) -> Select[Any]:
    total = select(func.coalesce(func.sum(case_count.c.antall), 0))
    if municipal:
        return total.where(case_count.c.kommunenummer == bindparam(SCOPE_PARAM))
    return total


def _list_page(municipal: bool) -> Select[Any]:
    cases = (
        select(case.c.id, case.c.kommunenummer, case.c.mottatt, case.c.person_id)
        .order_by(case.c.id.desc())
        .limit(bindparam("lim", type_=Integer))
        .offset(bindparam("off", type_=Integer))
    )
    if municipal:
        cases = cases.where(case.c.kommunenummer == bindparam(SCOPE_PARAM))
    side = cases.subquery("side")
    # each of the page's persons looked up by its key (a subquery per row: no plan can read
    # every person for a page, as a hash join over a small table may)
    alias = select(person.c.pseudonym).where(person.c.id == side.c.person_id)
    return select(
        side.c.id,
        side.c.kommunenummer,
        side.c.mottatt,
        side.c.person_id,
        alias.scalar_subquery().label("pseudonym"),
        _list_total(municipal).scalar_subquery().label("totalt"),
    ).order_by(side.c.id.desc())


# the page of the case list, as every role and as a municipal role sees it (`scope`), and the
# number of cases alone (a page past the end)
_LIST_PAGE = (_list_page(False), _list_page(True))
_LIST_TOTAL = (_list_total(False), _list_total(True))


def list_cases(
    conn: Connection, p: Principal, page: int, per_page: int, reason: str | None
) -> dict[str, Any]:
    # The page and the number of cases in one query: the page is the municipality's newest cases
    # (newest first; only the page's cases look up their persons, each by its key),
    # the number is the municipality's row of `sak_antall` (migration 0011), so that neither
    # grows with the cases stored. (Counting the cases read every case id of the municipality,
    # and on PostgreSQL without a vacuum a heap row per case too.) Only a page past the end,
    # which has no row to carry the number, reads it on its own.
    q, params = scope(_LIST_PAGE, p)
    params |= {"lim": per_page, "off": (page - 1) * per_page}
    rows = conn.execute(q, params).fetchall()
    if rows:
        total = rows[0].totalt
    else:
        count, count_params = scope(_LIST_TOTAL, p)
        total = conn.execute(count, count_params).scalar_one()
    audit.record(
        conn, p, "les", "saksliste", [(r.id, r.person_id, r.kommunenummer) for r in rows], reason
    )
    return {
        "side": page,
        "per_side": per_page,
        "totalt": int(total),
        "saker": [
            {
                "id": r.id,
                "kommunenummer": r.kommunenummer,
                "mottatt": r.mottatt,
                "pseudonym": r.pseudonym,
            }
            for r in rows
        ],
    }


def preliminary_reply(
    conn: Connection, p: Principal, sak_id: int, dato: dt.date, reason: str | None
) -> dict[str, Any]:
    require(p, "saksbehandler")
    row = _case_row(conn, p, sak_id)
    conn.execute(case.update().where(case.c.id == sak_id).values(foreloepig_svar=dato))
    audit.record(
        conn, p, "skriv", "foreloepig_svar", [(sak_id, row.person_id, row.kommunenummer)], reason
    )
    return get_case(conn, p, sak_id, reason, log=False)


# -- assessment and recommendation ----------------------------------------------------------------


_NEW_RECORD = {t.name: insert(t).returning(t.c.id) for t in (assessment, recommendation)}


def add_assessment(
    conn: Connection, p: Principal, sak_id: int, a: Assessment, reason: str | None
) -> dict[str, Any]:
    require(p, "saksbehandler")
    row = _case_row(conn, p, sak_id)
    if a.assessed_on < row.mottatt:
        raise Invalid(
            "kartlagt_dato",
            _(
                "the assessment ({day}) is dated before the application was received ({received})"
            ).format(day=a.assessed_on.isoformat(), received=row.mottatt.isoformat()),
        )
    # the assessment becomes a kartlegging row of the data store (docs/evaluation-data.md)
    krow = feed.KartleggingRow(row.pseudonym, row.kommunenummer, a.assessed_on, a.scores.as_dict())
    try:
        feed.check_assessment(conn, krow)
    except feed.NotFinanceable as exc:
        raise Invalid(exc.field, str(exc)) from None
    aid = conn.execute(
        _NEW_RECORD["kartlegging"],
        {
            "sak_id": sak_id,
            "kommunenummer": row.kommunenummer,
            "skaarer": a.scores.model_dump(),
            "kartlagt_dato": a.assessed_on,
            "kartlagt_av": a.assessor,
            "signert_dato": a.signed_on,
            "hva_er_viktig": a.what_matters,
            "opprettet": _now(),
            "opprettet_av": p.konto_id,
        },
    ).scalar_one()
    source = f"saksbehandling: sak {sak_id}, kartlegging {aid}"
    person = feed.person_cells(row.pseudonym, row.fodselsnummer)
    feed.append_assessment_version(conn, krow, person, source, p.brukernavn)
    audit.record(
        conn, p, "skriv", "kartlegging", [(sak_id, row.person_id, row.kommunenummer)], reason
    )
    return {"id": int(aid), "sak_id": sak_id, "kartlagt_dato": a.assessed_on}


def _latest_of(table: Table) -> Select[Any]:
    """The case's latest record in `table`: one entry of the index `(sak_id, id)` (migration
    0010), however many records other cases got since."""
    return (
        select(table)
        .where(table.c.sak_id == bindparam("sak_id"))
        .order_by(table.c.id.desc())
        .limit(1)
    )


_LATEST = {t.name: _latest_of(t) for t in (assessment, recommendation)}


def _latest(conn: Connection, table: Table, sak_id: int) -> Any:
    return conn.execute(_LATEST[table.name], {"sak_id": sak_id}).first()


def _latest_assessment(conn: Connection, sak_id: int) -> Any:
    return _latest(conn, assessment, sak_id)


def _as_assessment(a: Any) -> Assessment:
    return Assessment.model_validate(
        {
            "scores": a.skaarer,
            "assessed_on": a.kartlagt_dato,
            "assessor": a.kartlagt_av,
            "signed_on": a.signert_dato,
            "what_matters": a.hva_er_viktig,
        }
    )


def make_recommendation(
    conn: Connection, p: Principal, sak_id: int, criteria: CriteriaSet, reason: str | None
) -> dict[str, Any]:
    """The LEON recommendation for the case's latest assessment, under the criteria version in
    force on the assessment's date."""
    require(p, "saksbehandler")
    row = _case_row(conn, p, sak_id)
    a = _latest_assessment(conn, sak_id)
    if a is None:
        raise Invalid("sak_id", _("the case has no assessment yet"))
    try:
        version = criteria.at(a.kartlagt_dato)
    except CriteriaLookupError as exc:
        raise Invalid("sak_id", str(exc)) from None
    rec = recommend(_as_assessment(a), version)
    result = rec.model_dump(mode="json")
    rid = conn.execute(
        _NEW_RECORD["anbefaling"],
        {
            "sak_id": sak_id,
            "kommunenummer": row.kommunenummer,
            "kartlegging_id": a.id,
            "kriterieversjon": version.id,
            "resultat": result,
            "opprettet": _now(),
            "opprettet_av": p.konto_id,
        },
    ).scalar_one()
    audit.record(
        conn, p, "skriv", "anbefaling", [(sak_id, row.person_id, row.kommunenummer)], reason
    )
    return {
        "id": int(rid),
        "sak_id": sak_id,
        "kartlegging_id": a.id,
        "kriterieversjon": version.id,
        "resultat": result,
    }


# -- decisions -------------------------------------------------------------------------------------


def _decision_out(d: Any, inside: bool = True) -> dict[str, Any]:
    return {
        "id": d.id,
        "vedtak_id": d.vedtak_id,
        "erstatter": d.erstatter,
        "tjeneste": d.tjeneste,
        "prisgruppe": d.prisgruppe,
        "omfang": d.omfang,
        "enhet": d.enhet,
        "fra": d.fra,
        "til": d.til,
        "maal": d.maal if inside else None,
        "revurderes": d.revurderes,
        "vedtaksdato": d.vedtaksdato,
        "plassering": d.plassering,
        "avviksbegrunnelse": d.avviksbegrunnelse,
        "avvikstekst": d.avvikstekst if inside else None,
        "kriterieversjon": d.kriterieversjon,
        "data_versjon": d.data_versjon,
    }


def _decimal_text(x: Decimal) -> str:
    """The decimal text of a volume as the vedtak file has it: 1.5, not 1.50 or 1.5E+0."""
    return format(x.normalize(), "f")


# the case's decision counter raised by one (a new decision) or read under the same lock (a
# change); a new decision row answered as a read gives it, without reading it again
_COUNT_DECISION = {
    new: update(case)
    .where(case.c.id == bindparam("sak_id"))
    .values(vedtak_teller=case.c.vedtak_teller + (1 if new else 0))
    .returning(case.c.vedtak_teller)
    for new in (False, True)
}
_NEW_DECISION = insert(decision).returning(*decision.c)


def decide(
    conn: Connection,
    p: Principal,
    sak_id: int,
    body: dict[str, Any],
    criteria: CriteriaSet,
    params: ParameterSet,
    reason: str | None,
    supersedes: str | None = None,
) -> dict[str, Any]:
    """A decision (or, with `supersedes`, a change of the decision with that vedtak_id): checked
    against the case's latest recommendation, stored, and fed to the data store as a vedtak row.
    """
    require(p, "saksbehandler")
    row = _case_row(conn, p, sak_id)
    rec_row = _latest(conn, recommendation, sak_id)
    if rec_row is None:
        raise Invalid("sak_id", _("the case has no recommendation yet: make one first"))
    version: CriteriaVersion = criteria.by_id(rec_row.kriterieversjon)
    rec = Recommendation.model_validate(rec_row.resultat)
    omfang: Decimal = body["omfang"]
    check = check_decision(
        rec,
        version,
        body["tjeneste"],
        float(omfang),
        body["enhet"],
        body.get("avviksbegrunnelse"),
        body.get("avvikstekst") or "",
    )
    if check.problems:
        first = check.problems[0]
        field = {
            "service": "tjeneste",
            "volume": "omfang",
            "unit": "enhet",
            "justification": "avviksbegrunnelse",
            "justification_text": "avvikstekst",
        }.get(first.field, first.field)
        raise Invalid(field, first.message)
    # The case's decision counter, raised in one atomic statement. It also locks the case row
    # until the transaction ends, so decisions on one case are stored one after the other: each
    # new decision gets its own number, and a change supersedes the latest row of its vedtak.
    counter = conn.execute(_COUNT_DECISION[supersedes is None], {"sak_id": sak_id}).scalar_one()
    previous = None
    if supersedes is not None:
        previous = conn.execute(
            select(decision)
            .where(decision.c.sak_id == sak_id, decision.c.vedtak_id == supersedes)
            .order_by(decision.c.id.desc())
            .limit(1)
        ).first()
        if previous is None:
            raise NotFound(_("no decision {id} in case {case}").format(id=supersedes, case=sak_id))
        vedtak_id = supersedes
    else:
        vedtak_id = f"SAK{sak_id}-{int(counter)}"
    today = body.get("vedtaksdato") or dt.date.today()
    revurderes = body.get("revurderes") or reevaluation_due(today, body["tjeneste"], version)
    vrow = feed.VedtakRow(
        vedtak_id=vedtak_id,
        person_id=row.pseudonym,
        kommunenummer=row.kommunenummer,
        tjeneste=body["tjeneste"],
        prisgruppe=body.get("prisgruppe"),
        omfang=_decimal_text(omfang),
        enhet=body["enhet"],
        fra=body["fra"],
        til=body.get("til"),
    )
    try:
        feed.check_row(conn, params, vrow)
    except feed.NotFinanceable as exc:
        raise Invalid(exc.field, str(exc)) from None
    dv = feed.append_version(
        conn, vrow, f"saksbehandling: sak {sak_id}, vedtak {vedtak_id}", p.brukernavn
    )
    values = {
        "sak_id": sak_id,
        "kommunenummer": row.kommunenummer,
        "vedtak_id": vedtak_id,
        "erstatter": previous.id if previous is not None else None,
        "tjeneste": vrow.tjeneste,
        "prisgruppe": vrow.prisgruppe,
        "omfang": vrow.omfang,
        "enhet": vrow.enhet,
        "fra": vrow.fra,
        "til": vrow.til,
        "maal": body.get("maal") or "",
        "revurderes": revurderes,
        "vedtaksdato": today,
        "anbefaling_id": rec_row.id,
        "plassering": check.position,
        "avviksbegrunnelse": body.get("avviksbegrunnelse") if check.needs_justification else None,
        "avvikstekst": (body.get("avvikstekst") or "") if check.needs_justification else "",
        "kriterieversjon": version.id,
        "data_versjon": dv,
        "opprettet": _now(),
        "opprettet_av": p.konto_id,
    }
    d = conn.execute(_NEW_DECISION, values).one()
    if row.kriterieversjon is None:
        conn.execute(case.update().where(case.c.id == sak_id).values(kriterieversjon=version.id))
    audit.record(conn, p, "skriv", "vedtak", [(sak_id, row.person_id, row.kommunenummer)], reason)
    return _decision_out(d)


def add_reevaluation(
    conn: Connection,
    p: Principal,
    sak_id: int,
    dato: dt.date,
    vurdering: str,
    reason: str | None,
) -> dict[str, Any]:
    require(p, "saksbehandler")
    row = _case_row(conn, p, sak_id)
    rid = conn.execute(
        insert(reevaluation)
        .values(
            sak_id=sak_id,
            kommunenummer=row.kommunenummer,
            dato=dato,
            vurdering=vurdering,
            opprettet=_now(),
            opprettet_av=p.konto_id,
        )
        .returning(reevaluation.c.id)
    ).scalar_one()
    audit.record(
        conn, p, "skriv", "revurdering", [(sak_id, row.person_id, row.kommunenummer)], reason
    )
    return {"id": int(rid), "sak_id": sak_id, "dato": dato}


# -- lists and statistics ------------------------------------------------------------------------


def overdue_cases(
    conn: Connection, p: Principal, criteria: CriteriaSet, today: dt.date
) -> list[dict[str, Any]]:
    """Every open step past its deadline: the assessment, the preliminary reply and the decision
    of cases not yet decided, and the re-evaluation of decisions in force. Once a case is
    decided, its earlier steps are closed (a late one is no longer something to act on)."""
    first_assessment = (
        select(func.min(assessment.c.kartlagt_dato))
        .where(assessment.c.sak_id == case.c.id)
        .scalar_subquery()
    )
    decided = select(decision.c.id).where(decision.c.sak_id == case.c.id).exists()
    undecided = conn.execute(
        scoped(
            select(
                case.c.id,
                case.c.kommunenummer,
                case.c.mottatt,
                case.c.foreloepig_svar,
                first_assessment.label("first_assessed"),
            ).where(~decided),
            case,
            p,
        ).order_by(case.c.id)
    ).fetchall()
    out: list[dict[str, Any]] = []
    for c in undecided:
        try:
            version = criteria.at(c.mottatt)
        except CriteriaLookupError:
            continue  # received before any criteria were in force: no deadlines to miss
        for s in overdue(
            case_deadlines(
                version.deadlines,
                c.mottatt,
                today,
                assessed_on=c.first_assessed,
                preliminary_reply_on=c.foreloepig_svar,
            )
        ):
            out.append(
                {
                    "sak_id": c.id,
                    "kommunenummer": c.kommunenummer,
                    "steg": s.step,
                    "frist": s.due,
                    "dager_over": s.days_over,
                }
            )
    # decisions in force whose re-evaluation is due and not done since
    reevaluated = select(reevaluation.c.id).where(
        reevaluation.c.sak_id == decision.c.sak_id,
        reevaluation.c.dato >= decision.c.revurderes,
    )
    latest = select(func.max(decision.c.id)).group_by(decision.c.vedtak_id)
    for d in conn.execute(
        scoped(
            select(
                decision.c.sak_id,
                decision.c.kommunenummer,
                decision.c.vedtak_id,
                decision.c.revurderes,
            )
            .where(
                decision.c.id.in_(latest),
                decision.c.revurderes < today,
                decision.c.til.is_(None) | (decision.c.til >= today),
                ~reevaluated.exists(),
            )
            .order_by(decision.c.sak_id, decision.c.id),
            decision,
            p,
        )
    ):
        out.append(
            {
                "sak_id": d.sak_id,
                "kommunenummer": d.kommunenummer,
                "steg": "reevaluation",
                "frist": d.revurderes,
                "dager_over": (today - d.revurderes).days,
                "vedtak_id": d.vedtak_id,
            }
        )
    out.sort(key=lambda r: (r["sak_id"], r["steg"] == "reevaluation"))
    return out


def deviation_counts(conn: Connection, p: Principal) -> list[dict[str, Any]]:
    """Decisions outside the recommendation, per municipality and criteria version (the
    equal-treatment monitoring of scheme.md §4.3). Only the latest decision of each vedtak."""
    latest = select(func.max(decision.c.id).label("id")).group_by(decision.c.vedtak_id).subquery()
    q = scoped(
        select(
            decision.c.kommunenummer,
            decision.c.kriterieversjon,
            func.count().label("vedtak"),
            func.sum(sql_case((decision.c.plassering != "within", 1), else_=0)).label("avvik"),
        )
        .join(latest, latest.c.id == decision.c.id)
        .group_by(decision.c.kommunenummer, decision.c.kriterieversjon)
        .order_by(decision.c.kommunenummer, decision.c.kriterieversjon),
        decision,
        p,
        DECISION_READERS,
    )
    out = []
    for r in conn.execute(q):
        n, avvik = int(r.vedtak), int(r.avvik or 0)
        out.append(
            {
                "kommunenummer": r.kommunenummer,
                "kriterieversjon": r.kriterieversjon,
                "vedtak": n,
                "avvik": avvik,
                "andel_avvik": round(avvik / n, 4) if n else 0.0,
            }
        )
    return out


def pseudonymous_decisions(
    conn: Connection,
    p: Principal,
    kommunenummer: str | None,
    limit: int,
    offset: int,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """Decisions with the person's pseudonym only (for evaluation and finance). Pseudonymised
    data are still personal data: each decision read is in the person's access log."""
    q = scoped(
        select(decision, person.c.pseudonym, case.c.person_id)
        .join(case, case.c.id == decision.c.sak_id)
        .join(person, person.c.id == case.c.person_id)
        .order_by(decision.c.id)
        .limit(limit)
        .offset(offset),
        decision,
        p,
        DECISION_READERS,
    )
    if kommunenummer is not None:
        q = q.where(decision.c.kommunenummer == kommunenummer)
    rows = conn.execute(q).fetchall()
    audit.record(
        conn,
        p,
        "les",
        "vedtaksliste",
        [(r.sak_id, r.person_id, r.kommunenummer) for r in rows],
        reason,
    )
    return [
        {
            **_decision_out(r, inside=False),
            "kommunenummer": r.kommunenummer,
            "pseudonym": r.pseudonym,
        }
        for r in rows
    ]


def person_access_log(
    conn: Connection, p: Principal, fodselsnummer: str, reason: str | None
) -> list[dict[str, Any]]:
    """A person's own access log, as the municipality (data controller) produces it."""
    require(p, "saksbehandler")
    try:
        fnr = valid_identity_number(fodselsnummer)
    except ValueError as exc:
        raise Invalid("fodselsnummer", str(exc)) from None
    pid = conn.execute(select(person.c.id).where(person.c.fodselsnummer == fnr)).scalar()
    if pid is None:
        return []
    rows = audit.access_log(conn, int(pid), p.kommunenummer)
    audit.record(conn, p, "les", "innsyn_logg", [(None, int(pid), p.kommunenummer)], reason)
    return [
        {
            # SQLite gives the stored UTC time back without its zone
            "tidspunkt": r["tidspunkt"]
            if r["tidspunkt"].tzinfo
            else r["tidspunkt"].replace(tzinfo=dt.UTC),
            "brukernavn": r["brukernavn"],
            "rolle": r["rolle"],
            "handling": r["handling"],
            "ressurs": r["ressurs"],
            "sak_id": r["sak_id"],
            "begrunnelse": r["begrunnelse"],
        }
        for r in rows
    ]


def person_history(
    conn: Connection, p: Principal, sak_id: int, reason: str | None
) -> list[dict[str, Any]]:
    """Every case of the person of case `sak_id` that `p` may see (own municipality for the
    municipal roles), oldest first, each as `get_case` gives it; one read per case in the log."""
    row = _case_row(conn, p, sak_id)
    rows = conn.execute(
        scoped(
            select(case.c.id, case.c.kommunenummer)
            .where(case.c.person_id == row.person_id)
            .order_by(case.c.mottatt, case.c.id),
            case,
            p,
        )
    ).fetchall()
    out = [get_case(conn, p, int(r.id), reason, log=False) for r in rows]
    audit.record(
        conn, p, "les", "historikk", [(r.id, row.person_id, r.kommunenummer) for r in rows], reason
    )
    return out


def case_summaries(conn: Connection, p: Principal, ids: list[int]) -> dict[int, dict[str, Any]]:
    """What a case list shows of each case in `ids` (a page of `list_cases`, which logged the
    read): its status and the dates its deadlines are computed from — the first assessment, the
    first decision, the preliminary reply and the re-evaluation date of each vedtak's latest
    row — in four queries, scoped as every casework query."""
    if not ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    counts: dict[int, list[int]] = {}
    for r in conn.execute(
        scoped(
            select(case.c.id, case.c.mottatt, case.c.foreloepig_svar).where(case.c.id.in_(ids)),
            case,
            p,
        )
    ):
        out[r.id] = {
            "id": r.id,
            "mottatt": r.mottatt,
            "foreloepig_svar": r.foreloepig_svar,
            "first_assessed": None,
            "first_decided": None,
            "revurderes": {},
        }
        counts[r.id] = [0, 0, 0]
    for a in conn.execute(
        scoped(
            select(assessment.c.sak_id, func.min(assessment.c.kartlagt_dato), func.count())
            .where(assessment.c.sak_id.in_(ids))
            .group_by(assessment.c.sak_id),
            assessment,
            p,
        )
    ):
        if a[0] in out:
            out[a[0]]["first_assessed"], counts[a[0]][0] = a[1], int(a[2])
    for n in conn.execute(
        scoped(
            select(recommendation.c.sak_id, func.count())
            .where(recommendation.c.sak_id.in_(ids))
            .group_by(recommendation.c.sak_id),
            recommendation,
            p,
        )
    ):
        if n[0] in out:
            counts[n[0]][1] = int(n[1])
    for d in conn.execute(
        scoped(
            select(
                decision.c.sak_id,
                decision.c.vedtak_id,
                decision.c.vedtaksdato,
                decision.c.revurderes,
            )
            .where(decision.c.sak_id.in_(ids))
            .order_by(decision.c.id),
            decision,
            p,
        )
    ):
        if d.sak_id in out:
            one = out[d.sak_id]
            first = one["first_decided"]
            one["first_decided"] = d.vedtaksdato if first is None else min(first, d.vedtaksdato)
            one["revurderes"][d.vedtak_id] = d.revurderes  # ordered by id: the latest row wins
            counts[d.sak_id][2] += 1
    for sak_id, (n_assess, n_rec, n_dec) in counts.items():
        out[sak_id]["status"] = _status(n_assess, n_rec, n_dec)
    return out
