"""The security rules of the casework service (issue 5, "Security and personal data"), on SQLite
and PostgreSQL: cross-municipality access, role escalation, token misuse, sessions and CSRF,
SQL injection attempts, and where national identity numbers may and may not appear.

The expected answers follow from the rules: another municipality's case answers 404 (as if it
did not exist), a role that may not do something gets 403, a caller who is not signed in gets
401 with `WWW-Authenticate`, and bad input gets 422 — never a 500, never someone else's data."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from casework_support import (
    PASSWORD,
    SCORES_LOW,
    Service,
    identity_number,
    make_service,
    walk_case,
)
from sio.casework import security
from sio.casework.api import COOKIE, issue_token
from sio.casework.feed import VEDTAK
from sio.casework.schema import (
    api_token,
    assessment,
    audit_log,
    case,
    decision,
    person,
    recommendation,
    reevaluation,
)
from sio.casework.security import digest
from sio.parameters import ParameterSet
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)

ASSESSMENT = {
    "skaarer": SCORES_LOW,
    "kartlagt_dato": "2016-05-04",
    "kartlagt_av": "Kari Kartlegger",
    "signert_dato": "2016-05-04",
    "hva_er_viktig": "Å bo hjemme",
}
DECISION = {
    "tjeneste": "PB_DAGL",
    "omfang": "1",
    "enhet": "timer_per_uke",
    "fra": "2016-06-01",
    "maal": "Klare seg hjemme",
    "vedtaksdato": "2016-05-10",
}
REEVALUATION = {"dato": "2017-05-01", "vurdering": "Fortsatt behov"}
INJECTIONS = [
    "' OR 1=1 --",
    "1; DROP TABLE sak",
    "1 OR 1=1",
    "'; DROP TABLE logg; --",
    '" OR ""="',
    "1 UNION SELECT fodselsnummer FROM person",
    "9001' OR kommunenummer LIKE '%",
    "\u02bc OR 1=1 --",  # modifier letter apostrophe
    "\uff07 OR 1=1 --",  # full-width apostrophe
    "\u0661\u0662",  # Arabic-Indic digits
    "\uff11",  # full-width 1
    "1\u200b",  # zero-width space
    "%27%20OR%201%3D1",
]
COUNTED = (case, assessment, recommendation, decision, reevaluation, person, VEDTAK)


@pytest.fixture
def svc(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Service]:
    cheap_argon2(monkeypatch)
    yield from make_service(store_url, tmp_path, params)


def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at the lowest cost while testing (the rules tested do not depend on the cost;
    a hash records its own parameters, so verifying works the same)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)


def _counts(svc: Service) -> dict[str, int]:
    with svc.engine.connect() as c:
        return {
            t.name: len(c.execute(select(t.c[next(iter(t.c.keys()))])).fetchall()) for t in COUNTED
        }


def _new_case(svc: Service, who: str = "sb1", n: int = 20, **extra: Any) -> Response:
    body = {"fodselsnummer": identity_number(n), "mottatt": "2016-05-02", "henvendelse": "Hjelp"}
    return svc.client.post("/api/saker", headers=svc.as_(who), json={**body, **extra})


def _signed_in(svc: Service, user: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    """A client of its own with a session cookie, and the session's CSRF token."""
    client = TestClient(svc.client.app)
    r = client.post("/api/innlogging", json={"brukernavn": user, "passord": password})
    assert r.status_code == 200, r.text
    return client, r.json()["csrf_token"]


def _unauthorised(r: Response) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert isinstance(r.json()["detail"], str)


# -- cross-municipality access --------------------------------------------------------------------


def test_another_municipalitys_case_answers_404_on_every_route(svc: Service) -> None:
    d = walk_case(svc)
    sak, vid = d["sak"], d["vedtak_id"]
    missing = 999_999
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/saker/{id}", None),
        ("POST", "/api/saker/{id}/foreloepig-svar", {"dato": "2016-05-05"}),
        ("POST", "/api/saker/{id}/kartlegginger", ASSESSMENT),
        ("POST", "/api/saker/{id}/anbefalinger", None),
        ("POST", "/api/saker/{id}/vedtak", DECISION),
        ("POST", "/api/saker/{id}/vedtak/" + vid + "/endringer", DECISION),
        ("POST", "/api/saker/{id}/revurderinger", REEVALUATION),
    ]
    before = _counts(svc)
    fnr = identity_number(1)
    h = svc.as_("sb2")
    for method, path, body in routes:
        r = svc.client.request(method, path.format(id=sak), headers=h, json=body)
        assert r.status_code == 404, (path, r.text)
        # the same answer as for a case that does not exist at all
        r0 = svc.client.request(method, path.format(id=missing), headers=h, json=body)
        assert r0.status_code == 404
        assert r.json()["detail"] == r0.json()["detail"].replace(str(missing), str(sak))
        assert fnr not in r.text
    assert _counts(svc) == before
    case_now = svc.client.get(f"/api/saker/{sak}", headers=svc.as_("sb1")).json()
    assert case_now["foreloepig_svar"] is None and len(case_now["revurderinger"]) == 0
    assert len(case_now["vedtak"]) == 1 and len(case_now["kartlegginger"]) == 1
    # the person's access log, asked for in 9002, holds nothing of 9001 and answers as it
    # does for a person never seen
    r = svc.client.post("/api/innsyn/logg", headers=svc.as_("sb2"), json={"fodselsnummer": fnr})
    r0 = svc.client.post(
        "/api/innsyn/logg", headers=svc.as_("sb2"), json={"fodselsnummer": identity_number(99)}
    )
    assert (r.status_code, r.json()) == (200, []) == (r0.status_code, r0.json())


def test_lists_and_statistics_of_a_municipal_role_hold_only_its_municipality(
    svc: Service,
) -> None:
    mine = walk_case(svc, who="sb1", n=1)
    theirs = walk_case(svc, who="sb2", n=2)
    _new_case(svc, "sb1", n=3)  # received long ago and never assessed: overdue
    _new_case(svc, "sb2", n=4)
    views = {
        "sb1": ("9001", mine["sak"]),
        "ok1": ("9001", mine["sak"]),
        "sb2": ("9002", theirs["sak"]),
    }
    for who, (kommune, sak) in views.items():
        h = svc.as_(who)
        cases = svc.client.get("/api/saker?per_side=100", headers=h).json()
        assert cases["totalt"] == 2 and {c["kommunenummer"] for c in cases["saker"]} == {kommune}
        decisions = svc.client.get("/api/vedtak", headers=h).json()
        assert [(x["kommunenummer"], x["vedtak_id"]) for x in decisions] == [
            (kommune, f"SAK{sak}-1")
        ]
        other = "9002" if kommune == "9001" else "9001"
        assert svc.client.get(f"/api/vedtak?kommunenummer={other}", headers=h).json() == []
        stats = svc.client.get("/api/statistikk/avvik", headers=h).json()
        assert [s["kommunenummer"] for s in stats] == [kommune]
        overdue = svc.client.get("/api/frister/forfalte?dato=2020-01-01", headers=h).json()
        assert overdue and {o["kommunenummer"] for o in overdue} == {kommune}
    # the directorate reads across municipalities (so the lists above were not just empty)
    h = svc.as_("dir")
    assert svc.client.get("/api/saker", headers=h).json()["totalt"] == 4
    stats = svc.client.get("/api/statistikk/avvik", headers=h).json()
    assert [s["kommunenummer"] for s in stats] == ["9001", "9002"]


def test_the_finance_officer_cannot_write(svc: Service) -> None:
    d = walk_case(svc)
    sak = d["sak"]
    h = svc.as_("ok1")
    before = _counts(svc)
    writes: list[tuple[str, dict[str, Any] | None]] = [
        (
            "/api/saker",
            {"fodselsnummer": identity_number(5), "mottatt": "2016-05-02", "henvendelse": "x"},
        ),
        (f"/api/saker/{sak}/foreloepig-svar", {"dato": "2016-05-05"}),
        (f"/api/saker/{sak}/kartlegginger", ASSESSMENT),
        (f"/api/saker/{sak}/anbefalinger", None),
        (f"/api/saker/{sak}/vedtak", DECISION),
        (f"/api/saker/{sak}/vedtak/{d['vedtak_id']}/endringer", DECISION),
        (f"/api/saker/{sak}/revurderinger", REEVALUATION),
        ("/api/innsyn/logg", {"fodselsnummer": identity_number(1)}),
    ]
    for path, body in writes:
        r = svc.client.post(path, headers=h, json=body)
        assert r.status_code == 403, (path, r.text)
    assert _counts(svc) == before
    assert svc.client.get(f"/api/saker/{sak}", headers=h).status_code == 200


# -- role escalation ------------------------------------------------------------------------------


def test_only_the_administrator_manages_accounts(svc: Service) -> None:
    new = {"brukernavn": "ny.bruker", "passord": "x" * 12, "rolle": "admin"}
    sb1 = svc.accounts["sb1"]
    for who in ("sb1", "sb2", "ok1", "dir", "eval"):
        h = svc.as_(who)
        own = svc.accounts[who]
        assert svc.client.post("/api/kontoer", headers=h, json=new).status_code == 403
        assert svc.client.get("/api/kontoer", headers=h).status_code == 403
        for change in ({"rolle": "admin"}, {"kommunenummer": "9002"}, {"aktiv": True}):
            r = svc.client.patch(f"/api/kontoer/{own}", headers=h, json=change)
            assert r.status_code == 403, (who, change, r.text)
        r = svc.client.patch(f"/api/kontoer/{sb1}", headers=h, json={"passord": "y" * 12})
        assert r.status_code == 403
    accounts = {
        a["brukernavn"]: a for a in svc.client.get("/api/kontoer", headers=svc.as_("admin")).json()
    }
    assert "ny.bruker" not in accounts
    assert (accounts["sb1"]["rolle"], accounts["sb1"]["kommunenummer"]) == ("saksbehandler", "9001")
    # sb1 still signs in with the old password and is still bound to 9001
    client, _csrf = _signed_in(svc, "sb1")
    me = client.get("/api/meg").json()
    assert (me["rolle"], me["kommunenummer"]) == ("saksbehandler", "9001")


def test_the_administrator_reads_no_casework_data(svc: Service) -> None:
    d = walk_case(svc)
    h = svc.as_("admin")
    for path in (
        "/api/saker",
        f"/api/saker/{d['sak']}",
        "/api/vedtak",
        "/api/statistikk/avvik",
        "/api/frister/forfalte",
    ):
        assert svc.client.get(path, headers=h).status_code == 403, path
    r = svc.client.post("/api/innsyn/logg", headers=h, json={"fodselsnummer": identity_number(1)})
    assert r.status_code == 403
    assert _new_case(svc, "admin").status_code == 403


def test_roles_are_bound_to_a_municipality_or_not(svc: Service) -> None:
    h = svc.as_("admin")
    for body in (
        {"brukernavn": "sb3", "passord": "x" * 12, "rolle": "saksbehandler"},
        {"brukernavn": "ok3", "passord": "x" * 12, "rolle": "okonomi"},
        {"brukernavn": "dir3", "passord": "x" * 12, "rolle": "direktorat", "kommunenummer": "9001"},
        {"brukernavn": "adm3", "passord": "x" * 12, "rolle": "admin", "kommunenummer": "9001"},
    ):
        r = svc.client.post("/api/kontoer", headers=h, json=body)
        assert r.status_code == 422, r.text
        assert [e["loc"] for e in r.json()["detail"]] == [["body", "kommunenummer"]]
    sb1 = svc.accounts["sb1"]
    # sb1 cannot be made directorate while still bound to 9001, nor unbound as a caseworker
    for change in ({"rolle": "direktorat"}, {"kommunenummer": None}):
        r = svc.client.patch(f"/api/kontoer/{sb1}", headers=h, json=change)
        assert r.status_code == 422, (change, r.text)
    r = svc.client.post(
        "/api/kontoer",
        headers=h,
        json={
            "brukernavn": "sb3",
            "passord": "x" * 12,
            "rolle": "saksbehandler",
            "kommunenummer": "9002",
        },
    )
    assert r.status_code == 201 and r.json()["kommunenummer"] == "9002"


def test_deactivation_and_a_new_password_end_sessions_and_tokens(svc: Service) -> None:
    admin = svc.as_("admin")
    sb1, sb2 = svc.accounts["sb1"], svc.accounts["sb2"]
    client, _csrf = _signed_in(svc, "sb1")
    assert client.get("/api/meg").status_code == 200
    r = svc.client.patch(f"/api/kontoer/{sb1}", headers=admin, json={"aktiv": False})
    assert r.status_code == 200 and r.json()["aktiv"] is False
    _unauthorised(client.get("/api/meg"))
    _unauthorised(svc.client.get("/api/meg", headers=svc.as_("sb1")))  # its token too
    _unauthorised(svc.client.get("/api/saker", headers=svc.as_("sb1")))
    r = svc.client.post("/api/innlogging", json={"brukernavn": "sb1", "passord": PASSWORD})
    _unauthorised(r)
    # a new password ends the sessions; the old password no longer signs in
    client2, _csrf = _signed_in(svc, "sb2")
    new_password = "nytt-passord-som-er-langt"
    r = svc.client.patch(f"/api/kontoer/{sb2}", headers=admin, json={"passord": new_password})
    assert r.status_code == 200
    _unauthorised(client2.get("/api/meg"))
    r = svc.client.post("/api/innlogging", json={"brukernavn": "sb2", "passord": PASSWORD})
    _unauthorised(r)
    client3, _csrf = _signed_in(svc, "sb2", new_password)
    assert client3.get("/api/meg").json()["brukernavn"] == "sb2"


# -- token misuse ---------------------------------------------------------------------------------


def test_bad_tokens_answer_401(svc: Service) -> None:
    expired = issue_token(svc.engine, svc.accounts["sb1"], "utløpt")
    with svc.engine.begin() as c:
        c.execute(
            update(api_token)
            .where(api_token.c.token_hash == digest(expired))
            .values(utloper=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    good = svc.tokens["sb1"]
    for header in (
        "Bearer sio_" + "A" * 43,  # well-formed, unknown
        "Bearer " + good[:-1],  # one character short
        "Bearer " + good + "x",
        "Bearer " + good.upper(),
        "Bearer !!!",
        "Bearer ' OR 1=1 --",
        "Bearer",
        "Bearer ",
        "Token " + good,
        good,
        "Basic c2IxOnJpa3RpZy1oZXN0LWJhdHRlcmktc3RpZnQ=",  # sb1 and the right password
        "Bearer " + expired,
        "Bearer " + digest(good),  # what the store keeps is not a token
    ):
        _unauthorised(svc.client.get("/api/saker", headers={"Authorization": header}))
    _unauthorised(svc.client.get("/api/saker"))  # no credentials at all


def test_a_revoked_token_stops_working_and_only_its_owner_or_the_admin_revokes(
    svc: Service,
) -> None:
    client, csrf = _signed_in(svc, "sb1")
    r = client.post("/api/tokens", json={"navn": "integrasjon"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    token, tid = r.json()["token"], r.json()["id"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert svc.client.get("/api/meg", headers=bearer).json()["innlogget_med"] == "token"
    # the secret is shown once: neither listed again nor stored
    assert token not in client.get("/api/tokens").text
    with svc.engine.connect() as c:
        assert token not in str(c.execute(select(api_token)).fetchall())
    # a token cannot make tokens
    r = svc.client.post("/api/tokens", headers=bearer, json={"navn": "mer"})
    assert r.status_code == 403
    r = svc.client.post("/api/tokens", headers=svc.as_("admin"), json={"navn": "mer"})
    assert r.status_code == 403
    # someone else's token is not found, for any role but the admin
    for who in ("sb2", "ok1", "dir", "eval"):
        assert svc.client.delete(f"/api/tokens/{tid}", headers=svc.as_(who)).status_code == 404
    assert svc.client.get("/api/meg", headers=bearer).status_code == 200
    assert svc.client.delete(f"/api/tokens/{tid}", headers=svc.as_("admin")).status_code == 204
    _unauthorised(svc.client.get("/api/meg", headers=bearer))
    assert svc.client.delete(f"/api/tokens/{tid}", headers=svc.as_("admin")).status_code == 404
    # its owner revokes its own token
    r = client.post("/api/tokens", json={"navn": "to"}, headers={"X-CSRF-Token": csrf})
    token2, tid2 = r.json()["token"], r.json()["id"]
    r = client.delete(f"/api/tokens/{tid2}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    _unauthorised(svc.client.get("/api/meg", headers={"Authorization": f"Bearer {token2}"}))


def test_a_token_of_one_municipality_does_not_reach_the_other(svc: Service) -> None:
    theirs = walk_case(svc, who="sb2", n=2)
    client, csrf = _signed_in(svc, "sb1")
    token = client.post("/api/tokens", json={"navn": "x"}, headers={"X-CSRF-Token": csrf}).json()[
        "token"
    ]
    bearer = {"Authorization": f"Bearer {token}"}
    assert svc.client.get(f"/api/saker/{theirs['sak']}", headers=bearer).status_code == 404
    assert svc.client.get("/api/saker", headers=bearer).json()["totalt"] == 0
    assert svc.client.get("/api/vedtak?kommunenummer=9002", headers=bearer).json() == []


# -- sessions and CSRF ----------------------------------------------------------------------------


def test_a_session_cookie_is_httponly_and_samesite_strict(svc: Service) -> None:
    client = TestClient(svc.client.app)
    r = client.post("/api/innlogging", json={"brukernavn": "sb1", "passord": PASSWORD})
    assert r.status_code == 200
    (cookie,) = [c for c in r.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=strict"
    assert attributes["path"] == "Path=/"
    assert len(r.json()["csrf_token"]) >= 32 and r.json()["innlogget_med"] == "okt"
    assert r.json()["csrf_token"] not in cookie
    assert client.get("/api/meg").json()["brukernavn"] == "sb1"
    assert client.get("/api/saker").status_code == 200


def test_a_write_with_the_cookie_needs_the_csrf_token(svc: Service) -> None:
    client, csrf = _signed_in(svc, "sb1")
    _other, csrf2 = _signed_in(svc, "sb2")
    body = {"fodselsnummer": identity_number(7), "mottatt": "2016-05-02", "henvendelse": "x"}
    before = _counts(svc)
    tokens = client.get("/api/tokens").json()
    for headers in (
        {},
        {"X-CSRF-Token": ""},
        {"X-CSRF-Token": "feil"},
        {"X-CSRF-Token": csrf2},
        {"X-CSRF-Token": csrf[:-1]},
    ):
        r = client.post("/api/saker", json=body, headers=headers)
        assert r.status_code == 403, (headers, r.text)
        assert "X-CSRF-Token" in r.json()["detail"]
    for path, method in (("/api/tokens", "POST"), ("/api/utlogging", "POST")):
        r = client.request(method, path, json={"navn": "x"})
        assert r.status_code == 403, path
    assert client.get("/api/saker").json()["totalt"] == 0
    assert client.get("/api/tokens").json() == tokens
    assert _counts(svc) == before
    r = client.post("/api/saker", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    assert client.get("/api/saker").json()["totalt"] == 1
    # the admin's writes are protected the same way
    admin, admin_csrf = _signed_in(svc, "admin")
    r = admin.patch(f"/api/kontoer/{svc.accounts['sb1']}", json={"aktiv": False})
    assert r.status_code == 403
    assert client.get("/api/meg").status_code == 200
    r = admin.patch(
        f"/api/kontoer/{svc.accounts['sb1']}",
        json={"aktiv": False},
        headers={"X-CSRF-Token": admin_csrf},
    )
    assert r.status_code == 200
    _unauthorised(client.get("/api/meg"))


def test_logout_ends_the_session(svc: Service) -> None:
    client, csrf = _signed_in(svc, "sb1")
    secret = client.cookies[COOKIE]
    r = client.post("/api/utlogging", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    _unauthorised(client.get("/api/meg"))
    # the old cookie value, sent again, is dead
    _unauthorised(svc.client.get("/api/meg", headers={"Cookie": f"{COOKIE}={secret}"}))
    _unauthorised(svc.client.get("/api/meg", headers={"Cookie": f"{COOKIE}=x{secret}"}))


def test_sign_ins_are_rate_limited_per_user(svc: Service) -> None:
    for _i in range(5):
        r = svc.client.post("/api/innlogging", json={"brukernavn": "sb1", "passord": "feil"})
        _unauthorised(r)
    r = svc.client.post("/api/innlogging", json={"brukernavn": "sb1", "passord": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert COOKIE not in r.headers.get("set-cookie", "")
    # the same for a user name that does not exist
    for _i in range(5):
        svc.client.post("/api/innlogging", json={"brukernavn": "finnes.ikke", "passord": "x"})
    r2 = svc.client.post("/api/innlogging", json={"brukernavn": "finnes.ikke", "passord": "x"})
    assert (r2.status_code, r2.json(), r2.headers["Retry-After"]) == (
        429,
        r.json(),
        r.headers["Retry-After"],
    )
    # another user is not locked out
    _signed_in(svc, "sb2")


def test_wrong_user_and_wrong_password_answer_the_same(svc: Service) -> None:
    svc.client.patch(
        f"/api/kontoer/{svc.accounts['eval']}", headers=svc.as_("admin"), json={"aktiv": False}
    )
    answers = [
        svc.client.post("/api/innlogging", json={"brukernavn": user, "passord": password})
        for user, password in (
            ("sb1", "feil-passord"),
            ("finnes.ikke", "feil-passord"),
            ("finnes.ikke", PASSWORD),
            ("SB1", PASSWORD),
            ("eval", PASSWORD),  # deactivated
        )
    ]
    for r in answers:
        _unauthorised(r)
    shapes = {
        (
            r.status_code,
            r.text,
            tuple(sorted((k, v) for k, v in r.headers.items() if k != "content-length")),
        )
        for r in answers
    }
    assert len(shapes) == 1


# -- SQL injection attempts -----------------------------------------------------------------------


def test_injection_attempts_find_nothing_and_break_nothing(svc: Service) -> None:
    mine = walk_case(svc, who="sb1", n=1)
    theirs = walk_case(svc, who="sb2", n=2)
    secrets_of_9001 = {identity_number(1), mine["vedtak_id"]}
    case_9001 = svc.client.get(f"/api/saker/{mine['sak']}", headers=svc.as_("sb1")).json()
    secrets_of_9001.add(case_9001["person"]["pseudonym"])
    h2 = svc.as_("sb2")

    def safe(r: Response, *allowed: int) -> None:
        assert r.status_code in allowed, (r.request.url, r.status_code, r.text)
        assert not any(s in r.text for s in secrets_of_9001), r.text

    sak2 = theirs["sak"]
    for p in INJECTIONS:
        q = quote(p, safe="")
        # path ids
        safe(svc.client.get(f"/api/saker/{q}", headers=h2), 404, 422)
        safe(svc.client.get(f"/api/saker/{mine['sak']}{q}", headers=h2), 404, 422)
        safe(svc.client.post(f"/api/saker/{q}/anbefalinger", headers=h2), 404, 422)
        safe(
            svc.client.post(f"/api/saker/{sak2}/vedtak/{q}/endringer", headers=h2, json=DECISION),
            404,
            422,
        )
        safe(svc.client.delete(f"/api/tokens/{q}", headers=h2), 404, 422)
        safe(svc.client.patch(f"/api/kontoer/{q}", headers=svc.as_("admin"), json={}), 404, 422)
        # query parameters
        for path in (
            f"/api/saker?side={q}",
            f"/api/saker?per_side={q}",
            f"/api/vedtak?kommunenummer={q}",
            f"/api/vedtak?grense={q}",
            f"/api/vedtak?fra_rad={q}",
            f"/api/frister/forfalte?dato={q}",
            f"/api/kriterier?dato={q}",
        ):
            safe(svc.client.get(path, headers=h2), 422)
        # identity numbers and service codes
        safe(_new_case(svc, "sb2", fodselsnummer=p), 422)
        r = svc.client.post("/api/innsyn/logg", headers=h2, json={"fodselsnummer": p})
        safe(r, 422)
        assert p not in r.text
        for field in ("tjeneste", "prisgruppe"):
            body = {**DECISION, field: p}
            safe(svc.client.post(f"/api/saker/{sak2}/vedtak", headers=h2, json=body), 422)
        body = {**DECISION, "omfang": "5", "avviksbegrunnelse": p, "avvikstekst": p}
        safe(svc.client.post(f"/api/saker/{sak2}/vedtak", headers=h2, json=body), 422)
        # user names and passwords at sign-in (the address limit may set in: 429)
        for login in ({"brukernavn": p, "passord": p}, {"brukernavn": "sb2", "passord": p}):
            safe(svc.client.post("/api/innlogging", json=login), 401, 429)
    # free text is stored and given back as written, and finds nothing
    for i, p in enumerate(INJECTIONS):
        r = _new_case(svc, "sb2", n=30 + i, henvendelse=p)
        safe(r, 201)
        sak = r.json()["id"]
        assert r.json()["henvendelse"] == p.strip()
        body = {**ASSESSMENT, "kartlagt_av": p, "hva_er_viktig": p}
        safe(svc.client.post(f"/api/saker/{sak}/kartlegginger", headers=h2, json=body), 201)
        body = {"dato": "2017-01-01", "vurdering": p}
        safe(svc.client.post(f"/api/saker/{sak}/revurderinger", headers=h2, json=body), 201)
        reason = {**h2, "X-Begrunnelse": p.encode()}  # type: ignore[dict-item]
        got = svc.client.get(f"/api/saker/{sak}", headers=reason)
        safe(got, 200)
        assert got.json()["kartlegginger"][0]["hva_er_viktig"] == p.strip()
        assert got.json()["revurderinger"][0]["vurdering"] == p.strip()
    # NUL cannot be stored (PostgreSQL refuses it): 422, never a crash
    for body in (
        {"fodselsnummer": identity_number(50), "mottatt": "2016-05-02", "henvendelse": "a\x00"},
        {
            "fodselsnummer": identity_number(50) + "\x00",
            "mottatt": "2016-05-02",
            "henvendelse": "a",
        },
    ):
        safe(svc.client.post("/api/saker", headers=h2, json=body), 422)
    safe(svc.client.post("/api/innlogging", json={"brukernavn": "sb1\x00", "passord": "x"}), 422)
    # the tables are intact and 9001's case is as it was
    names = set(inspect(svc.engine).get_table_names())
    assert {"sak", "person", "logg", "konto", "inn_vedtak"} <= names
    again = svc.client.get(f"/api/saker/{mine['sak']}", headers=svc.as_("sb1")).json()
    assert again == case_9001
    assert svc.client.get("/api/saker", headers=svc.as_("sb1")).json()["totalt"] == 1
    assert _signed_in(svc, "sb1")[0].get("/api/meg").status_code == 200


# -- personal data --------------------------------------------------------------------------------


def test_the_identity_number_appears_only_where_it_may(
    svc: Service, caplog: pytest.LogCaptureFixture
) -> None:
    fnr = identity_number(1)
    caplog.set_level(logging.DEBUG)
    d = walk_case(svc, n=1)
    sak = d["sak"]
    # the caseworker of the municipality sees it; nobody else does, in any answer
    assert (
        svc.client.get(f"/api/saker/{sak}", headers=svc.as_("sb1")).json()["person"][
            "fodselsnummer"
        ]
        == fnr
    )
    answers: list[Response] = []
    for who in ("ok1", "dir", "eval", "admin", "sb2"):
        h = svc.as_(who)
        for path in (
            f"/api/saker/{sak}",
            "/api/saker",
            "/api/vedtak",
            "/api/statistikk/avvik",
            "/api/frister/forfalte",
        ):
            answers.append(svc.client.get(path, headers=h))
    for who in ("ok1", "dir"):
        person_out = svc.client.get(f"/api/saker/{sak}", headers=svc.as_(who)).json()["person"]
        assert person_out["fodselsnummer"] is None and person_out["fodselsdato_maskert"] is None
    # error answers do not repeat it
    answers.append(_new_case(svc, "sb1", fodselsnummer=fnr[:-1] + str((int(fnr[-1]) + 1) % 10)))
    answers.append(_new_case(svc, "ok1", fodselsnummer=fnr))
    answers.append(_new_case(svc, "sb1", fodselsnummer=fnr, mottatt="1800-01-01"))
    answers.append(
        svc.client.post("/api/innsyn/logg", headers=svc.as_("ok1"), json={"fodselsnummer": fnr})
    )
    answers.append(
        svc.client.post(
            "/api/innsyn/logg", headers=svc.as_("sb1"), json={"fodselsnummer": fnr + "0"}
        )
    )
    for r in answers:
        assert fnr not in r.text and fnr[:6] + "*" not in r.text, (r.request.url, r.text)
    # the vedtak row of the data store carries the pseudonym
    with svc.engine.connect() as c:
        rows = [dict(r._mapping) for r in c.execute(select(VEDTAK))]
        mine = [r for r in rows if r["vedtak_id"] == d["vedtak_id"]]
        pseudo = c.execute(select(person.c.pseudonym)).scalar_one()
        assert [r["person_id"] for r in mine] == [pseudo]
        assert fnr not in str(rows)
        # no table but `person` holds the number, the audit log included
        holders = set()
        for name in inspect(c).get_table_names():
            content = str(c.execute(text(f'SELECT * FROM "{name}"')).fetchall())
            if fnr in content:
                holders.add(name)
        assert holders == {"person"}
        assert c.execute(select(audit_log)).fetchall()
    # nothing the app logged holds it
    assert caplog.records
    assert fnr not in caplog.text
    for rec in caplog.records:
        assert fnr not in rec.getMessage() and fnr not in str(rec.args)


def test_the_pseudonym_is_stable_per_person_and_differs_between_persons(svc: Service) -> None:
    fnr = identity_number(1)
    spaced = fnr[:6] + " " + fnr[6:]
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in fnr)
    pseudonyms = []
    for who, number in (("sb1", fnr), ("sb1", spaced), ("sb2", full_width), ("sb1", fnr)):
        r = svc.client.post(
            "/api/saker",
            headers=svc.as_(who),
            json={"fodselsnummer": number, "mottatt": "2016-05-02", "henvendelse": "x"},
        )
        assert r.status_code == 201, r.text
        pseudonyms.append(r.json()["person"]["pseudonym"])
    other = _new_case(svc, "sb1", n=2).json()["person"]["pseudonym"]
    assert len(set(pseudonyms)) == 1 and other != pseudonyms[0]
    for p in (*pseudonyms, other):
        assert p.startswith("P") and len(p) == 25 and int(p[1:], 16) >= 0
    with svc.engine.connect() as c:
        assert c.execute(select(person.c.fodselsnummer)).scalars().all() == [
            fnr,
            identity_number(2),
        ]


def test_the_audit_log_refuses_update_and_delete(svc: Service) -> None:
    walk_case(svc)
    with svc.engine.connect() as c:
        before = c.execute(select(audit_log).order_by(audit_log.c.id)).fetchall()
    assert before
    for statement in (
        "UPDATE logg SET brukernavn = 'someone else'",
        "UPDATE logg SET begrunnelse = 'x' WHERE id = 1",
        "DELETE FROM logg",
        "DELETE FROM logg WHERE id = 1",
    ):
        with pytest.raises(DBAPIError), svc.engine.begin() as c:
            c.execute(text(statement))
    with svc.engine.connect() as c:
        assert c.execute(select(audit_log).order_by(audit_log.c.id)).fetchall() == before


def test_values_at_the_edges_answer_422_and_never_crash(svc: Service) -> None:
    """Ids beyond the databases' integers, dates at the ends of the calendar, text PostgreSQL
    cannot store, digits of other scripts: 422 with the field named, never a 500."""
    d = walk_case(svc)
    sak, h, admin = d["sak"], svc.as_("sb1"), svc.as_("admin")

    def bad(r: Response, *loc: str) -> None:
        assert r.status_code == 422, (r.request.url, r.text)
        assert list(loc) in [e["loc"] for e in r.json()["detail"]], r.text

    for big in (2**31, 2**63, 10**30):
        bad(svc.client.get(f"/api/saker/{big}", headers=h), "path", "sak_id")
        bad(svc.client.delete(f"/api/tokens/{big}", headers=h), "path", "token_id")
        bad(svc.client.patch(f"/api/kontoer/{big}", headers=admin, json={}), "path", "konto_id")
    bad(svc.client.get("/api/saker/0", headers=h), "path", "sak_id")
    for day in ("0001-01-01", "9999-12-31"):
        bad(_new_case(svc, mottatt=day), "body", "mottatt")
        body = {**DECISION, "vedtaksdato": day}
        bad(
            svc.client.post(f"/api/saker/{sak}/vedtak", headers=h, json=body), "body", "vedtaksdato"
        )
        body = {**DECISION, "fra": day}
        bad(svc.client.post(f"/api/saker/{sak}/vedtak", headers=h, json=body), "body", "fra")
        body = {**REEVALUATION, "dato": day}
        r = svc.client.post(f"/api/saker/{sak}/revurderinger", headers=h, json=body)
        bad(r, "body", "dato")
        bad(svc.client.get(f"/api/frister/forfalte?dato={day}", headers=h), "query", "dato")
        bad(svc.client.get(f"/api/kriterier?dato={day}", headers=h), "query", "dato")
    # a case received before any criteria were in force: no deadlines, no recommendation
    old = _new_case(svc, n=40, mottatt="2000-01-03").json()["id"]
    body = {**ASSESSMENT, "kartlagt_dato": "2000-01-04", "signert_dato": "2000-01-04"}
    assert svc.client.post(f"/api/saker/{old}/kartlegginger", headers=h, json=body).is_success
    bad(svc.client.post(f"/api/saker/{old}/anbefalinger", headers=h), "body", "sak_id")
    overdue = svc.client.get("/api/frister/forfalte?dato=2020-01-01", headers=h)
    assert overdue.status_code == 200 and old not in {o["sak_id"] for o in overdue.json()}
    # digits of other scripts are not a municipality number
    bad(
        svc.client.get("/api/vedtak?kommunenummer=\u0669\u0660\u0660\u0661", headers=h),
        "query",
        "kommunenummer",
    )
    r = svc.client.post(
        "/api/kontoer",
        headers=admin,
        json={
            "brukernavn": "sb9",
            "passord": "x" * 12,
            "rolle": "saksbehandler",
            "kommunenummer": "\uff19\uff10\uff10\uff11",
        },
    )
    bad(r, "body", "kommunenummer")
    # NUL in any text field, and a lone surrogate
    bad(svc.client.post("/api/tokens", headers=h, json={"navn": "a\x00"}), "body", "navn")
    body = {**ASSESSMENT, "kartlagt_av": "\x00"}
    r = svc.client.post(f"/api/saker/{sak}/kartlegginger", headers=h, json=body)
    bad(r, "body", "kartlagt_av")
    r = svc.client.post(
        "/api/saker",
        headers={**h, "Content-Type": "application/json"},
        content=b'{"fodselsnummer": "%s", "mottatt": "2016-05-02", "henvendelse": "\\ud800"}'
        % identity_number(41).encode(),
    )
    bad(r, "body", "henvendelse")
    assert r.json()["detail"][0]["msg"] == "inneholder tegn som ikke er tillatt (som NUL)"
    # the framework's own answers are in Norwegian too
    r = svc.client.post(
        "/api/saker", headers={**h, "Content-Type": "application/json"}, content=b"\xff{"
    )
    assert (r.status_code, r.json()) == (
        400,
        {"detail": "innholdet i forespørselen kunne ikke leses"},
    )
    assert svc.client.get("/api/finnes-ikke", headers=h).json() == {"detail": "finnes ikke"}
