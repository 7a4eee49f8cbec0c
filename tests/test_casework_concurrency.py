"""Decisions posted at the same moment from several processes to a running `sio serve --workers
2`, on SQLite and PostgreSQL: every 201 is a decision with its own vedtak_id in the store and in
the activity grant; the same Idempotency-Key at once stores one decision."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select

from casework_server import post_at_once, running_server
from casework_support import SCORES_LOW, Service, identity_number, prepare_store
from sio.casework.schema import decision, idempotency
from sio.engine import Engine
from sio.parameters import ParameterSet
from sio.store.versions import load_version
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)

DECISION = {
    "tjeneste": "PB_DAGL",
    "omfang": "1",
    "enhet": "timer_per_uke",
    "fra": "2016-06-01",
    "maal": "Klare seg hjemme",
    "vedtaksdato": "2016-05-10",
}


@pytest.fixture
def served(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> Iterator[tuple[Service, httpx2.Client]]:
    svc = prepare_store(store_url, tmp_path, params)
    with running_server(store_url) as base, httpx2.Client(base_url=base, timeout=60) as client:
        yield svc, client
    svc.engine.dispose()


def _recommended_case(svc: Service, client: httpx2.Client, n: int = 1) -> int:
    h = svc.as_("sb1")
    r = client.post(
        "/api/saker",
        headers=h,
        json={"fodselsnummer": identity_number(n), "mottatt": "2016-05-02", "henvendelse": "Hjelp"},
    )
    assert r.status_code == 201, r.text
    sak = int(r.json()["id"])
    r = client.post(
        f"/api/saker/{sak}/kartlegginger",
        headers=h,
        json={
            "skaarer": SCORES_LOW,
            "kartlagt_dato": "2016-05-04",
            "kartlagt_av": "Kari Kartlegger",
            "signert_dato": "2016-05-04",
        },
    )
    assert r.status_code == 201, r.text
    assert client.post(f"/api/saker/{sak}/anbefalinger", headers=h).status_code == 201
    return sak


def _activity_2016(svc: Service, params: ParameterSet) -> tuple[int, list[str]]:
    data, _v = load_version(svc.engine, params)
    row = Engine(data, params).compute_year(2016).get("9001")
    assert row is not None
    return row.result.aktivitetstilskudd, sorted(data.vedtak["vedtak_id"].to_list())


def test_eight_decisions_at_once_on_one_case_all_count(
    served: tuple[Service, httpx2.Client], params: ParameterSet
) -> None:
    svc, client = served
    before, ids_before = _activity_2016(svc, params)
    assert before == 176_400  # test_cli.EXPECTED_2016
    sak = _recommended_case(svc, client)
    answers = post_at_once(
        str(client.base_url), f"/api/saker/{sak}/vedtak", [(svc.as_("sb1"), DECISION)] * 8
    )
    assert [s for s, _b in answers] == [201] * 8, answers
    got = sorted(b["vedtak_id"] for _s, b in answers)
    assert got == sorted(f"SAK{sak}-{i}" for i in range(1, 9))
    assert len({b["data_versjon"] for _s, b in answers}) == 8
    after, ids_after = _activity_2016(svc, params)
    assert sorted(set(ids_after) - set(ids_before)) == got
    # each: PB_DAGL 1 h/week from 1 June 2016 at 520 kr/h = 1 589 715 øre (test_casework);
    # 8 × 1 589 715 = 12 717 720 øre; 176 400 kr + 127 177.20 kr = 303 577.20 → 303 577 kr
    assert after == 303_577


def test_the_same_idempotency_key_at_once_stores_one_decision(
    served: tuple[Service, httpx2.Client], params: ParameterSet
) -> None:
    svc, client = served
    sak = _recommended_case(svc, client, n=2)
    headers = {**svc.as_("sb1"), "Idempotency-Key": "9b0c4c8e-vedtak-en"}
    answers = post_at_once(
        str(client.base_url), f"/api/saker/{sak}/vedtak", [(headers, DECISION)] * 6
    )
    assert [s for s, _b in answers] == [201] * 6, answers
    assert len({(b["id"], b["vedtak_id"], b["data_versjon"]) for _s, b in answers}) == 1
    with svc.engine.connect() as c:
        n = c.execute(select(func.count()).where(decision.c.sak_id == sak)).scalar_one()
        keys = c.execute(select(func.count()).select_from(idempotency)).scalar_one()
    assert n == 1 and keys == 1
    # one decision in the grant: 176 400 kr + 15 897.15 kr = 192 297.15 → 192 297 kr
    assert _activity_2016(svc, params)[0] == 192_297
    # a repeat later answers the same and still stores nothing
    r = client.post(f"/api/saker/{sak}/vedtak", headers=headers, json=DECISION)
    assert r.status_code == 201 and r.headers["Idempotent-Replayed"] == "true"
    assert r.json() == answers[0][1]
    # the same key with another body: 422 naming the header, nothing stored
    other: dict[str, Any] = {**DECISION, "omfang": "1.5"}
    r = client.post(f"/api/saker/{sak}/vedtak", headers=headers, json=other)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    with svc.engine.connect() as c:
        assert c.execute(select(func.count()).where(decision.c.sak_id == sak)).scalar_one() == 1
