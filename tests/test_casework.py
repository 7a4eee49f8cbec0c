"""The casework service walked as its users walk it, on SQLite and PostgreSQL: application →
assessment → recommendation → decision, the decision in the municipality's activity grant, a
changed decision as a new data version, field errors in Norwegian, deviations, scoping and the
audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from casework_support import SCORES_LOW, Service, identity_number, make_service, walk_case
from sio.engine import Engine
from sio.parameters import ParameterSet
from sio.store.versions import load_version
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)


@pytest.fixture
def svc(store_url: str, tmp_path: Path, params: ParameterSet) -> Iterator[Service]:  # noqa: F811
    yield from make_service(store_url, tmp_path, params)


def _activity_2016(svc: Service, params: ParameterSet, version: int | None = None) -> int:
    data, _v = load_version(svc.engine, params, version)
    row = Engine(data, params).compute_year(2016).get("9001")
    assert row is not None
    return row.result.aktivitetstilskudd


def test_a_case_from_application_to_the_activity_grant(svc: Service, params: ParameterSet) -> None:
    # before: test_cli.EXPECTED_2016, 176 400 kr of home nursing
    assert _activity_2016(svc, params) == 176_400
    d = walk_case(svc)
    assert d["vedtak_id"] == f"SAK{d['sak']}-1" and d["plassering"] == "within"
    case = svc.client.get(f"/api/saker/{d['sak']}", headers=svc.as_("sb1")).json()
    assert case["status"] == "vedtatt" and case["kriterieversjon"] == d["kriterieversjon"]
    assert case["person"]["fodselsnummer"] == identity_number(1)
    rec = case["anbefalinger"][0]["resultat"]
    assert rec["step"] == 2 and rec["services"][0]["service"] == "PB_DAGL"
    # PB_DAGL 1 h/week from 1 June 2016 at 520 kr/h (zone 1, no travel index): lines of
    # 30/7 × 520 kr = 222 857 øre (June, Sep, Nov) and 31/7 × 520 kr = 230 286 øre (Jul, Aug,
    # Oct, Dec): 1 589 715 øre; 176 400 kr + 15 897.15 kr = 192 297.15 → 192 297 kr
    assert _activity_2016(svc, params) == 192_297
    first_version = d["data_versjon"]
    # the decision is changed to 1.5 h/week: the same vedtak_id in a new data version
    r = svc.client.post(
        f"/api/saker/{d['sak']}/vedtak/{d['vedtak_id']}/endringer",
        headers=svc.as_("sb1"),
        json={
            "tjeneste": "PB_DAGL",
            "omfang": "1.5",
            "enhet": "timer_per_uke",
            "fra": "2016-06-01",
            "maal": "Klare seg hjemme",
            "vedtaksdato": "2016-07-01",
        },
    )
    assert r.status_code == 201, r.text
    changed = r.json()
    assert changed["vedtak_id"] == d["vedtak_id"] and changed["erstatter"] == d["id"]
    assert changed["data_versjon"] > first_version
    # 1.5 h/week: 334 286 øre (30 days) and 345 429 øre (31 days): 2 384 574 øre;
    # 176 400 kr + 23 845.74 kr = 200 245.74 → 200 246 kr; the earlier version is unchanged
    assert _activity_2016(svc, params) == 200_246
    assert _activity_2016(svc, params, first_version) == 192_297
    # the vedtak row carries the pseudonym, never the identity number
    data, _v = load_version(svc.engine, params)
    row = data.vedtak.filter(data.vedtak["vedtak_id"] == d["vedtak_id"]).row(0, named=True)
    assert row["person_id"] == case["person"]["pseudonym"] and row["person_id"].startswith("P")
    assert identity_number(1) not in str(data.vedtak.to_dicts())


def test_field_errors_are_in_norwegian(svc: Service) -> None:
    h = svc.as_("sb1")
    r = svc.client.post(
        "/api/saker",
        headers=h,
        json={"fodselsnummer": "01014012345", "mottatt": "2016-05-02", "henvendelse": "hjelp"},
    )
    assert r.status_code == 422
    (e,) = r.json()["detail"]
    assert e["loc"] == ["body", "fodselsnummer"] and "fødselsnummer" in e["msg"]
    assert "01014012345" not in r.text  # the number is never repeated
    r = svc.client.post("/api/saker", headers=h, json={"mottatt": "2016-13-02"})
    locs = {tuple(e["loc"]): e["msg"] for e in r.json()["detail"]}
    assert locs[("body", "fodselsnummer")] == "påkrevd felt mangler"
    assert locs[("body", "mottatt")] == "må være en dato ÅÅÅÅ-MM-DD"
    sak = svc.client.post(
        "/api/saker",
        headers=h,
        json={"fodselsnummer": identity_number(3), "mottatt": "2016-05-02", "henvendelse": "hjelp"},
    ).json()["id"]
    bad = dict(SCORES_LOW, hukommelse=6)
    r = svc.client.post(
        f"/api/saker/{sak}/kartlegginger",
        headers=h,
        json={
            "skaarer": bad,
            "kartlagt_dato": "2016-05-04",
            "kartlagt_av": "Kari",
            "signert_dato": "2016-05-03",
        },
    )
    assert r.status_code == 422
    locs = {tuple(e["loc"]): e["msg"] for e in r.json()["detail"]}
    assert ("body", "skaarer", "hukommelse") in locs
    assert ("body", "signert_dato") in locs


def test_a_decision_outside_the_recommendation_needs_a_justification(svc: Service) -> None:
    h = svc.as_("sb1")
    with pytest.raises(AssertionError, match="avviksbegrunnelse"):
        walk_case(svc, n=4, omfang="5")  # 5 h/week: above the range 0.5–1.5
    crit = svc.client.get("/api/kriterier?dato=2016-05-04", headers=h).json()
    code = crit["avviksbegrunnelser"][0]["kode"]
    d = walk_case(
        svc,
        n=5,
        omfang="5",
        avviksbegrunnelse=code,
        avvikstekst="Ektefellen er innlagt; behovet er midlertidig større",
    )
    assert d["plassering"] == "above" and d["avviksbegrunnelse"] == code
    walk_case(svc, n=6)  # within
    r = svc.client.get("/api/statistikk/avvik", headers=svc.as_("dir"))
    (row,) = r.json()
    assert (row["kommunenummer"], row["vedtak"], row["avvik"]) == ("9001", 2, 1)
    assert row["andel_avvik"] == 0.5


def test_another_municipalitys_case_is_not_found(svc: Service) -> None:
    d = walk_case(svc)
    assert svc.client.get(f"/api/saker/{d['sak']}", headers=svc.as_("sb2")).status_code == 404
    r = svc.client.post(
        f"/api/saker/{d['sak']}/kartlegginger",
        headers=svc.as_("sb2"),
        json={
            "skaarer": SCORES_LOW,
            "kartlagt_dato": "2016-05-04",
            "kartlagt_av": "X",
            "signert_dato": "2016-05-04",
        },
    )
    assert r.status_code == 404
    assert svc.client.get("/api/saker", headers=svc.as_("sb2")).json()["totalt"] == 0
    # the finance officer of 9001 sees the case, pseudonymised and without free text
    case = svc.client.get(f"/api/saker/{d['sak']}", headers=svc.as_("ok1")).json()
    assert case["person"]["fodselsnummer"] is None and case["henvendelse"] is not None
    case = svc.client.get(f"/api/saker/{d['sak']}", headers=svc.as_("dir")).json()
    assert case["person"]["fodselsnummer"] is None and case["henvendelse"] is None
    assert case["kartlegginger"][0]["hva_er_viktig"] is None
    assert svc.client.get(f"/api/saker/{d['sak']}", headers=svc.as_("eval")).status_code == 403
    assert svc.client.get(f"/api/saker/{d['sak']}", headers=svc.as_("admin")).status_code == 403


def test_the_case_list_pages_through_the_municipalitys_cases_newest_first(svc: Service) -> None:
    h = svc.as_("sb1")
    ids = [
        int(
            svc.client.post(
                "/api/saker",
                headers=h,
                json={
                    "fodselsnummer": identity_number(n),
                    "mottatt": "2016-05-02",
                    "henvendelse": "x",
                },
            ).json()["id"]
        )
        for n in range(20, 25)
    ]
    other = svc.client.post(  # another municipality's case is neither listed nor counted
        "/api/saker",
        headers=svc.as_("sb2"),
        json={"fodselsnummer": identity_number(30), "mottatt": "2016-05-02", "henvendelse": "x"},
    )
    assert other.status_code == 201

    def page(n: int) -> tuple[int, list[int]]:
        body = svc.client.get(f"/api/saker?side={n}&per_side=2", headers=h).json()
        return body["totalt"], [c["id"] for c in body["saker"]]

    newest_first = sorted(ids, reverse=True)
    assert page(1) == (5, newest_first[0:2])
    assert page(2) == (5, newest_first[2:4])
    assert page(3) == (5, newest_first[4:5])
    assert page(4) == (5, [])  # past the end: still the number of cases
    # the list shown is in the access log: one row per case on the page
    log = svc.client.post(
        "/api/innsyn/logg", headers=h, json={"fodselsnummer": identity_number(24)}
    ).json()
    assert [(r["ressurs"], r["sak_id"]) for r in log if r["handling"] == "les"] == [
        ("saksliste", ids[4])
    ]


def test_every_read_and_write_is_in_the_persons_access_log(svc: Service) -> None:
    d = walk_case(svc)
    svc.client.get(f"/api/saker/{d['sak']}", headers={**svc.as_("dir"), "X-Begrunnelse": "tilsyn"})
    r = svc.client.post(
        "/api/innsyn/logg", headers=svc.as_("sb1"), json={"fodselsnummer": identity_number(1)}
    )
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [(x["ressurs"], x["handling"], x["brukernavn"]) for x in rows] == [
        ("sak", "skriv", "sb1"),
        ("kartlegging", "skriv", "sb1"),
        ("anbefaling", "skriv", "sb1"),
        ("vedtak", "skriv", "sb1"),
        ("sak", "les", "dir"),
    ]
    assert rows[-1]["begrunnelse"] == "tilsyn" and rows[-1]["rolle"] == "direktorat"


def test_overdue_steps_are_listed(svc: Service) -> None:
    """Deadlines (criteria defaults): assessment 14 days after receipt, preliminary reply and
    decision 30 days after receipt (the decision also 14 days after the assessment), re-evaluation
    365 days after the decision for PB_DAGL. Only open steps are listed."""
    h = svc.as_("sb1")

    def new_case(n: int) -> int:
        r = svc.client.post(
            "/api/saker",
            headers=h,
            json={
                "fodselsnummer": identity_number(n),
                "mottatt": "2016-05-02",
                "henvendelse": "hjelp",
            },
        )
        return int(r.json()["id"])

    a = new_case(10)  # nothing done
    b = walk_case(svc, n=11)["sak"]  # assessed 2016-05-04, decided 2016-05-10
    c = new_case(12)  # assessed late (2016-05-20), not decided
    r = svc.client.post(
        f"/api/saker/{c}/kartlegginger",
        headers=h,
        json={
            "skaarer": SCORES_LOW,
            "kartlagt_dato": "2016-05-20",
            "kartlagt_av": "Kari",
            "signert_dato": "2016-05-20",
        },
    )
    assert r.status_code == 201

    def listed(day: str) -> list[tuple[int, str, str, int]]:
        r = svc.client.get(f"/api/frister/forfalte?dato={day}", headers=h)
        assert r.status_code == 200, r.text
        return [(x["sak_id"], x["steg"], x["frist"], x["dager_over"]) for x in r.json()]

    assert listed("2016-06-10") == [
        (a, "assessment", "2016-05-16", 25),
        (a, "preliminary_reply", "2016-06-01", 9),
        (a, "decision", "2016-06-01", 9),
        (c, "preliminary_reply", "2016-06-01", 9),
        (c, "decision", "2016-06-01", 9),
    ]
    assert (b, "reevaluation", "2017-05-10", 22) in listed("2017-06-01")
    # another municipality sees none of them
    assert (
        svc.client.get("/api/frister/forfalte?dato=2017-06-01", headers=svc.as_("sb2")).json() == []
    )


def test_pseudonymised_decision_reads_are_logged_too(svc: Service) -> None:
    walk_case(svc)
    r = svc.client.get("/api/vedtak", headers={**svc.as_("eval"), "X-Begrunnelse": "evaluering"})
    assert r.status_code == 200 and len(r.json()) == 1
    assert r.json()[0]["maal"] is None and "fodselsnummer" not in r.json()[0]
    rows = svc.client.post(
        "/api/innsyn/logg", headers=svc.as_("sb1"), json={"fodselsnummer": identity_number(1)}
    ).json()
    assert (rows[-1]["ressurs"], rows[-1]["rolle"], rows[-1]["begrunnelse"]) == (
        "vedtaksliste",
        "evaluator",
        "evaluering",
    )


def test_a_decision_is_held_to_the_import_rules_for_vedtak(svc: Service) -> None:
    """The vedtak row of a decision passes the same rules as an imported one (interfaces.md §1)."""
    with pytest.raises(AssertionError, match=r'"loc":\["body","til"\]'):
        walk_case(svc, n=7, til="2016-05-01")  # ends before it begins
    with pytest.raises(AssertionError, match=r'"loc":\["body","prisgruppe"\]'):
        walk_case(svc, n=8, prisgruppe="LUKSUS")  # no such price group for PB_DAGL
