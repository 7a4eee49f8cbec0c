"""The casework API as a contract, on SQLite and PostgreSQL: authentication before the body is
read, every answer's status in /openapi.json, a case walked from the document's examples and
links alone, one argon2 verify per sign-in whether the user exists or not, accounts bound only
to real municipalities, no lock-out of the administrators, and the audit log written in one
statement per request and pruned by its retention run."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, event, func, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from casework_support import PASSWORD, Service, make_service, walk_case
from sio.casework import security
from sio.casework.schema import audit_log
from sio.parameters import ParameterSet
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)


@pytest.fixture
def svc(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Service]:
    monkeypatch.setattr(security, "_hasher", CountingHasher(time_cost=1, memory_cost=1024))
    yield from make_service(store_url, tmp_path, params)


class CountingHasher(PasswordHasher):
    """A real argon2id hasher (cheap parameters) that counts its verify and hash calls."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verified = 0
        self.hashed = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        return super().hash(password, salt=salt)


def _operations(svc: Service) -> list[tuple[str, str, dict[str, Any]]]:
    doc = svc.client.get("/openapi.json").json()
    return [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def _concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda g: "SAK1-1" if g[0] == "{vedtak_id}" else "1", path)


# -- C: authentication first; every status documented -------------------------------------------


def test_a_body_that_is_not_utf8_answers_401_without_a_token_and_400_with_one(
    svc: Service,
) -> None:
    walk_case(svc)
    bad = b'{"navn": "\xff\xfe"}'
    with_body = [(m, p, op) for m, p, op in _operations(svc) if "requestBody" in op]
    assert len(with_body) == 11
    for method, path, op in with_body:
        url = _concrete(path)
        r = svc.client.request(
            method, url, content=bad, headers={"content-type": "application/json"}
        )
        signed_in = path != "/api/innlogging"
        assert r.status_code == (401 if signed_in else 400), (method, path, r.text)
        assert str(r.status_code) in op["responses"], (method, path)
        if signed_in:
            who = "admin" if path.startswith(("/api/kontoer", "/api/tokens")) else "sb1"
            headers = {**svc.as_(who), "content-type": "application/json"}
            r = svc.client.request(method, url, content=bad, headers=headers)
            assert r.status_code == 400, (method, path, r.text)
            assert r.json() == {"detail": "innholdet i forespørselen kunne ikke leses"}
            assert "400" in op["responses"] and "401" in op["responses"]


def test_every_error_status_is_documented_with_its_body(svc: Service) -> None:
    for method, path, op in _operations(svc):
        responses = op["responses"]
        assert "503" in responses, (method, path)  # load shedding, with Retry-After
        assert "Retry-After" in responses["503"]["headers"]
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                schema = answer["content"]["application/json"]["schema"]["$ref"]
                assert schema.endswith("/Feltfeil" if status == "422" else "/Feil"), (path, status)
        if path not in ("/api/innlogging", "/api/innlogging/oidc/{leverandor}"):
            assert {"401", "403"} <= set(responses), (method, path)
    ops = {(m, p): op for m, p, op in _operations(svc)}
    assert "409" in ops[("PATCH", "/api/kontoer/{konto_id}")]["responses"]
    assert "429" in ops[("POST", "/api/innlogging")]["responses"]


# -- D: a case walked from the document alone ---------------------------------------------------


def test_a_client_walks_a_case_from_the_documents_examples_and_links(svc: Service) -> None:
    doc = svc.client.get("/openapi.json").json()
    by_id = {
        op["operationId"]: (m, p, op) for p, ops in doc["paths"].items() for m, op in ops.items()
    }
    schemas = doc["components"]["schemas"]

    def example(op: dict[str, Any]) -> Any:
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[1]]["examples"][0]

    for _m, _p, op in by_id.values():
        if "requestBody" in op:
            assert example(op), op["operationId"]
    h = svc.as_("sb1")

    # the examples are of 2020 in Stjørdal; the test world has 2016 in 9001: the dates move
    # back four years (the municipality is the caseworker's own)
    def shifted(body: dict[str, Any]) -> dict[str, Any]:
        return {
            k: re.sub(r"^2020", "2016", v) if isinstance(v, str) else v for k, v in body.items()
        }

    method, path, op = by_id["opprett_sak"]
    r = svc.client.request(method, path, headers=h, json=shifted(example(op)))
    assert r.status_code == 201, r.text
    answer, request_path = r.json(), {"sak_id": None}
    for step, link_name, target in (
        ("opprett_sak", "Kartlegging", "ny_kartlegging"),
        ("ny_kartlegging", "Anbefaling", "ny_anbefaling"),
        ("ny_anbefaling", "Vedtak", "nytt_vedtak"),
        ("nytt_vedtak", "Endring", "endre_vedtak"),
    ):
        link = by_id[step][2]["responses"]["201"]["links"][link_name]
        assert link["operationId"] == target
        values: dict[str, Any] = {}
        for name, expr in link["parameters"].items():
            if expr.startswith("$response.body#/"):
                values[name] = answer[expr.removeprefix("$response.body#/")]
            else:
                values[name] = request_path[expr.removeprefix("$request.path.")]
        method, path, op = by_id[target]
        body = shifted(example(op)) if "requestBody" in op else None
        r = svc.client.request(method, path.format(**values), headers=h, json=body)
        assert r.status_code == 201, (target, r.text)
        answer, request_path = r.json(), values
    assert answer["vedtak_id"] == f"SAK{request_path['sak_id']}-1"
    assert answer["erstatter"] is not None and answer["omfang"] == "1"


# -- B: one argon2 verify per sign-in ------------------------------------------------------------


def test_a_sign_in_verifies_one_hash_whether_the_user_exists_or_not(svc: Service) -> None:
    hasher = security._hasher
    assert isinstance(hasher, CountingHasher)
    with svc.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO konto (brukernavn, passord_hash, rolle, aktiv, opprettet) "
                "VALUES ('ekstern', NULL, 'direktorat', true, CURRENT_TIMESTAMP)"
            )
        )
    for name, password, status in (
        ("sb1", PASSWORD, 200),  # known, right password
        ("sb1", "feil-passord-helt", 401),  # known, wrong password
        ("finnes.ikke", PASSWORD, 401),  # unknown user name
        ("ekstern", PASSWORD, 401),  # an account without a password (external sign-in only)
    ):
        before_v, before_h = hasher.verified, hasher.hashed
        r = svc.client.post("/api/innlogging", json={"brukernavn": name, "passord": password})
        assert r.status_code == status, (name, r.text)
        assert (hasher.verified - before_v, hasher.hashed - before_h) == (1, 0), name


# -- F: a municipality valid on the day ----------------------------------------------------------


@pytest.mark.parametrize("code", ["9999", "0000", "1714"])
def test_an_account_bound_to_no_municipality_of_today_is_refused(svc: Service, code: str) -> None:
    # 9999, 0000: never municipalities; 1714 Stjørdal became 5035 on 2018-01-01
    for body in (
        {
            "brukernavn": f"sb.{code}",
            "passord": PASSWORD,
            "rolle": "saksbehandler",
            "kommunenummer": code,
        },
    ):
        r = svc.client.post("/api/kontoer", headers=svc.as_("admin"), json=body)
        assert r.status_code == 422, r.text
        (err,) = r.json()["detail"]
        assert err["loc"] == ["body", "kommunenummer"] and code in err["msg"]
    r = svc.client.patch(
        f"/api/kontoer/{svc.accounts['sb1']}",
        headers=svc.as_("admin"),
        json={"kommunenummer": code},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "kommunenummer"]


@pytest.mark.parametrize("code", ["9001", "5035", "4624"])
def test_an_account_bound_to_a_municipality_of_today_is_accepted(svc: Service, code: str) -> None:
    # 9001 from the store; 5035 Stjørdal and 4624 Bjørnafjorden from the shipped history
    body = {
        "brukernavn": f"sb.{code}",
        "passord": PASSWORD,
        "rolle": "okonomi",
        "kommunenummer": code,
    }
    r = svc.client.post("/api/kontoer", headers=svc.as_("admin"), json=body)
    assert r.status_code == 201, r.text


def test_sio_konto_opprett_refuses_a_municipality_that_does_not_exist(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sio.cli import app

    monkeypatch.setenv("SIO_DATABASE_URL", svc.engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": PASSWORD)
    r = CliRunner().invoke(
        app,
        [
            "konto",
            "opprett",
            "--brukernavn",
            "x.y",
            "--rolle",
            "saksbehandler",
            "--kommune",
            "9999",
        ],
    )
    assert r.exit_code != 0 and "9999" in r.output


# -- G: no lock-out ------------------------------------------------------------------------------


def test_no_change_leaves_the_service_without_an_active_administrator(svc: Service) -> None:
    a = svc.as_("admin")
    me = svc.accounts["admin"]
    for change in ({"aktiv": False}, {"rolle": "direktorat"}):
        r = svc.client.patch(f"/api/kontoer/{me}", headers=a, json=change)
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert detail.endswith(".") and detail.count(".") == 1  # one sentence, Norwegian
        assert "administrator" in detail
    # a second administrator may be deactivated while the first stays
    body = {"brukernavn": "admin2", "passord": PASSWORD, "rolle": "admin"}
    second = svc.client.post("/api/kontoer", headers=a, json=body).json()["id"]
    r = svc.client.patch(f"/api/kontoer/{second}", headers=a, json={"aktiv": False})
    assert r.status_code == 200 and r.json()["aktiv"] is False
    # the first still cannot leave: it is the last active one
    assert (
        svc.client.patch(f"/api/kontoer/{me}", headers=a, json={"aktiv": False}).status_code == 409
    )
    listed = svc.client.get("/api/kontoer", headers=a).json()
    assert [k["brukernavn"] for k in listed if k["rolle"] == "admin" and k["aktiv"]] == ["admin"]


# -- H: the audit log in one statement; retention ------------------------------------------------


def _log_inserts(engine: Engine) -> list[int]:
    """Rows per INSERT INTO logg statement, as the database receives them."""
    seen: list[int] = []

    def count(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO LOGG"):
            seen.append(len(parameters) if many else statement.count("(") - 1)

    event.listen(engine, "before_cursor_execute", count)
    return seen


def test_a_list_of_20_cases_is_20_log_rows_in_one_statement(svc: Service) -> None:
    for n in range(1, 21):
        r = svc.client.post(
            "/api/saker",
            headers=svc.as_("sb1"),
            json={"fodselsnummer": walk_identity(n), "mottatt": "2016-05-02", "henvendelse": "x"},
        )
        assert r.status_code == 201
    with svc.engine.connect() as c:
        before = c.execute(select(func.count()).select_from(audit_log)).scalar_one()
    seen = _log_inserts(svc.engine)
    r = svc.client.get("/api/saker", headers=svc.as_("sb1"))
    assert r.status_code == 200 and len(r.json()["saker"]) == 20
    assert len(seen) == 1  # one statement
    with svc.engine.connect() as c:
        after = c.execute(select(func.count()).select_from(audit_log)).scalar_one()
        persons = c.execute(
            select(func.count(func.distinct(audit_log.c.person_id))).where(
                audit_log.c.ressurs == "saksliste"
            )
        ).scalar_one()
    assert after - before == 20 and persons == 20
    indexes = {i["name"]: i["column_names"] for i in inspect(svc.engine).get_indexes("logg")}
    assert indexes["ix_logg_person"] == ["person_id", "tidspunkt"]
    assert indexes["ix_logg_konto"] == ["konto_id", "tidspunkt"]


def walk_identity(n: int) -> str:
    from casework_support import identity_number

    return identity_number(n)


def test_the_retention_run_removes_only_old_entries_and_logs_itself(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sio.cli import app

    walk_case(svc)  # today's entries
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    row = dict(
        konto_id=1,
        brukernavn="sb1",
        rolle="saksbehandler",
        handling="les",
        ressurs="sak",
        sak_id=1,
        person_id=1,
        kommunenummer="9001",
        begrunnelse="x",
    )
    with svc.engine.begin() as c:
        c.execute(
            insert(audit_log), [dict(row, tidspunkt=old - dt.timedelta(days=i)) for i in range(5)]
        )
        today = c.execute(select(func.count()).where(audit_log.c.tidspunkt > old)).scalar_one()
    assert today > 0
    # outside the retention run, the log still refuses DELETE
    with pytest.raises(DBAPIError), svc.engine.begin() as c:
        c.execute(text("DELETE FROM logg WHERE id = (SELECT MIN(id) FROM logg)"))
    monkeypatch.setenv("SIO_DATABASE_URL", svc.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SIO_USER", "drift.person")
    r = CliRunner().invoke(app, ["konto", "rydd-logg", "--dager", "365"])
    assert r.exit_code == 0, r.output
    with svc.engine.connect() as c:
        left_old = c.execute(select(func.count()).where(audit_log.c.tidspunkt <= old)).scalar_one()
        kept = c.execute(
            select(func.count()).where(audit_log.c.tidspunkt > old, audit_log.c.handling != "slett")
        ).scalar_one()
        run = c.execute(select(audit_log).where(audit_log.c.handling == "slett")).one()
    assert left_old == 0 and kept == today
    assert run.brukernavn == "drift.person" and "5 rader" in run.begrunnelse
    with pytest.raises(DBAPIError), svc.engine.begin() as c:
        c.execute(text("DELETE FROM logg WHERE id = (SELECT MIN(id) FROM logg)"))


# -- found by the long schemathesis run (benchmarks/casework_schemathesis.py) ---------------------


@pytest.mark.parametrize("day", ["0", "1700000000", "2016-12-31T00:00", "20161231", "2016-1-1"])
def test_a_date_in_another_form_than_the_documents_is_refused(svc: Service, day: str) -> None:
    """`format: date` is YYYY-MM-DD: the other forms pydantic would read as a date (seconds
    since 1970 such as `0`, a time of day) are refused with 422 naming the field, in a query
    parameter and in a body alike; the documented form is still taken."""
    h = svc.as_("sb1")
    wrong = [
        {"loc": ["query", "dato"], "msg": "må være en dato ÅÅÅÅ-MM-DD", "type": "date_parsing"}
    ]
    r = svc.client.get("/api/frister/forfalte", params={"dato": day}, headers=h)
    assert (r.status_code, r.json()["detail"]) == (422, wrong)
    r = svc.client.get("/api/kriterier", params={"dato": day}, headers=h)
    assert (r.status_code, r.json()["detail"]) == (422, wrong)
    body: dict[str, Any] = {
        "fodselsnummer": "01014012345",
        "mottatt": day,
        "henvendelse": "Hjelp",
    }
    for mottatt in (day, 0):
        r = svc.client.post("/api/saker", headers=h, json={**body, "mottatt": mottatt})
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["detail"]] == [["body", "mottatt"]]
    assert svc.client.get("/api/frister/forfalte?dato=2016-12-31", headers=h).status_code == 200
    assert svc.client.get("/api/kriterier?dato=2016-12-31", headers=h).status_code == 200
