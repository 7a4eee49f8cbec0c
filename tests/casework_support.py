"""Shared set-up of the casework tests: a store with the small world imported, accounts of every
role, tokens, valid national identity numbers and a client of the app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from stdnum.no import fodselsnummer

from conftest import write_input
from sio.casework.api import create_account, create_app, issue_token
from sio.parameters import ParameterSet
from sio.store.db import make_engine, migrate
from sio.store.versions import import_path
from test_cli import small_world

PASSWORD = "riktig-hest-batteri-stift"
SCORES_LOW = {
    "sosial_deltakelse": 1,
    "beslutninger_dagliglivet": 1,
    "styre_atferd": 1,
    "alminnelig_husarbeid": 3,
    "skaffe_varer": 3,
    "personlig_hygiene": 2,
    "av_og_paakledning": 1,
    "spise": 1,
    "lage_mat": 2,
    "ivareta_egen_helse": 2,
    "bevege_seg_innendoers": 1,
    "bevege_seg_utendoers": 2,
    "toalett": 1,
    "hukommelse": 1,
    "kommunikasjon": 1,
    "syn": 1,
    "hoersel": 9,
}


def identity_number(n: int) -> str:
    """A valid fødselsnummer (born 1 January 1940 + n days mod 28, individual number from n)."""
    for ind in range(100 + n % 400, 500):
        base = f"{1 + n % 28:02d}0140{ind:03d}"
        try:
            k1 = fodselsnummer.calc_check_digit1(base)
            k2 = fodselsnummer.calc_check_digit2(base + k1)
            return str(fodselsnummer.validate(base + k1 + k2))
        except Exception:
            continue
    raise AssertionError("no valid number")


def two_municipalities() -> dict[str, list[dict[str, Any]]]:
    """test_cli.small_world plus a second model A municipality 9002 with organisation numbers."""
    w = small_world()
    k = dict(w["kommuner"][0])
    w["kommuner"].append(dict(k, kommunenummer="9002", navn="Nabobygd"))
    w["deltakelse"].append(dict(w["deltakelse"][0], kommunenummer="9002"))
    w["utgifter"] += [dict(r, kommunenummer="9002") for r in w["utgifter"]]
    w["befolkning"] += [dict(r, kommunenummer="9002") for r in w["befolkning"]]
    for y in (2017,):
        for r in [r for r in w["befolkning"] if r["aar"] == 2016]:
            w["befolkning"].append(dict(r, aar=y))
    return w


@dataclass
class Service:
    engine: Engine
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


ACCOUNTS = {
    "sb1": ("saksbehandler", "9001"),
    "sb2": ("saksbehandler", "9002"),
    "ok1": ("okonomi", "9001"),
    "dir": ("direktorat", None),
    "eval": ("evaluator", None),
    "admin": ("admin", None),
}


def prepare_store(url: str, tmp: Path, params: ParameterSet) -> Service:
    """A migrated store with the two municipalities imported and an account with a bearer
    token for every role of ACCOUNTS (the service's client is not made yet)."""
    engine = make_engine(url)
    migrate(engine)
    import_path(engine, write_input(tmp / "world", two_municipalities()), params)
    svc = Service(engine, None)  # type: ignore[arg-type]
    for name, (role, kommune) in ACCOUNTS.items():
        kid = create_account(engine, name, PASSWORD, role, kommune)
        svc.accounts[name] = kid
        svc.tokens[name] = issue_token(engine, kid)
    return svc


def make_service(url: str, tmp: Path, params: ParameterSet) -> Iterator[Service]:
    svc = prepare_store(url, tmp, params)
    engine = svc.engine
    svc.client = TestClient(create_app(engine, params=params, secure_cookies=False))
    yield svc
    svc.client.close()
    engine.dispose()


def walk_case(svc: Service, who: str = "sb1", n: int = 1, **decision: Any) -> dict[str, Any]:
    """Application → assessment → recommendation → decision; returns the decision."""
    h = svc.as_(who)
    r = svc.client.post(
        "/api/saker",
        headers=h,
        json={
            "fodselsnummer": identity_number(n),
            "mottatt": "2016-05-02",
            "henvendelse": "Søker hjelp til husarbeid og innkjøp",
        },
    )
    assert r.status_code == 201, r.text
    sak = r.json()["id"]
    r = svc.client.post(
        f"/api/saker/{sak}/kartlegginger",
        headers=h,
        json={
            "skaarer": SCORES_LOW,
            "kartlagt_dato": "2016-05-04",
            "kartlagt_av": "Kari Kartlegger",
            "signert_dato": "2016-05-04",
            "hva_er_viktig": "Å bo hjemme og gå tur med hunden",
        },
    )
    assert r.status_code == 201, r.text
    r = svc.client.post(f"/api/saker/{sak}/anbefalinger", headers=h)
    assert r.status_code == 201, r.text
    body = {
        "tjeneste": "PB_DAGL",
        "omfang": "1",
        "enhet": "timer_per_uke",
        "fra": "2016-06-01",
        "maal": "Klare seg hjemme",
        "vedtaksdato": "2016-05-10",
    }
    body.update(decision)
    r = svc.client.post(f"/api/saker/{sak}/vedtak", headers=h, json=body)
    assert r.status_code == 201, r.text
    return {"sak": sak, **r.json()}
