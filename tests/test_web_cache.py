"""The pages read what is computed from a data version and a parameter version from the store
(`sio.store.cache`, table `beregnet`) instead of computing it per request: computed once, read
by a second request, a second worker (another app on the same database) and after a restart,
and computed again for a new data version or a new parameter version. Counted through the
store's own hook (`sio.store.cache.computations`), on SQLite and PostgreSQL.

Figures are test_cli.small_world's, worked out by hand there (netto 2016 −58 819 267 kr; the
activity grant 245 days × 72 000 øre = 17 640 000 øre of home nursing)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import write_input
from sio.casework.api import create_account, create_app
from sio.parameters import ParameterSet
from sio.store import cache
from sio.store.db import make_engine, migrate
from sio.store.versions import import_path
from test_cli import EXPECTED_2016, small_world
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)
from test_utbetaling import ORGNR

PASSWORD = "et langt passord 1"
PAGES = "sider"  # sio.web.figures.ART
STATUS = "utbetalingsstatus"  # sio.web.payments_pages.STATUS_ART
DIFF = "versjonsdiff"  # sio.web.imports_pages.DIFF_ART
HJSPL_OERE = 245 * 72_000  # May–December 2016, 1 hour a day at 720 kr


def _world(omfang: str = "7") -> dict[str, list[dict[str, Any]]]:
    w = small_world()
    w["kommuner"] = [dict(w["kommuner"][0], organisasjonsnummer=ORGNR)]
    w["vedtak"] = [dict(w["vedtak"][0], omfang=omfang)]
    return w


@pytest.fixture
def store(store_url: str, tmp_path: Path, params: ParameterSet) -> Iterator[Any]:  # noqa: F811
    engine = make_engine(store_url)
    migrate(engine)
    import_path(engine, write_input(tmp_path / "v1", _world()), params)
    create_account(engine, "dir", PASSWORD, "direktorat", None)
    yield engine
    engine.dispose()


def _client(engine: Any, params: ParameterSet) -> TestClient:
    """A signed-in directorate user of a new app (a new worker) on `engine`'s database."""
    client = TestClient(create_app(engine, params=params, secure_cookies=False))
    r = client.post(
        "/innlogging",
        data={"brukernavn": "dir", "passord": PASSWORD, "neste": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client


def _netto(html: str, year: int) -> int:
    m = re.search(rf'<tr[^>]*data-year="{year}"[^>]*>.*?data-netto="(-?\d+)"', html, re.S)
    assert m is not None, html[:2000]
    return int(m.group(1))


def _same(html: str) -> str:
    """The page without its session's CSRF token (each signed-in client has its own)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def _count(art: str) -> int:
    return cache.computations[art]


def test_the_figures_are_computed_once_per_data_and_parameter_version(
    store: Any, params: ParameterSet, tmp_path: Path
) -> None:
    before = _count(PAGES)
    first = _client(store, params)
    page = first.get("/direktorat")
    assert page.status_code == 200
    assert _netto(page.text, 2016) == EXPECTED_2016["netto"]
    assert _count(PAGES) == before + 1  # computed (nothing was stored) and stored
    # the same worker again, the municipality page, a second worker and a restart: all read
    assert _netto(first.get("/direktorat").text, 2016) == EXPECTED_2016["netto"]
    town = first.get("/kommune/9001")
    assert town.status_code == 200
    services = re.search(r'id="services".*?</table>', town.text, re.S)
    assert services is not None and "HJSPL" in services.group(0)
    second = _client(store, params)
    assert _netto(second.get("/direktorat").text, 2016) == EXPECTED_2016["netto"]
    assert second.get("/kommune/9001").status_code == 200
    assert _count(PAGES) == before + 1

    # a new data version (14 hours a week: the activity grant doubles to 352 800 kr)
    import_path(store, write_input(tmp_path / "v2", _world("14")), params)
    netto_v2 = EXPECTED_2016["netto"] + 176_400
    assert _netto(second.get("/direktorat").text, 2016) == netto_v2
    assert _count(PAGES) == before + 2
    assert _netto(first.get("/direktorat").text, 2016) == netto_v2
    assert _count(PAGES) == before + 2

    # a new parameter version (home nursing at 800 kr: 245 hours × 1 600 kr for 14 h/week)
    dearer = params.with_overrides(
        {"aktivitetstilskudd.enhetspris.HJSPL.STANDARD": {dt.date(2016, 1, 1): 800}}
    )
    assert dearer.version != params.version
    third = _client(store, dearer)
    assert _netto(third.get("/direktorat").text, 2016) == EXPECTED_2016["netto"] - 176_400 + (
        245 * 1_600
    )
    assert _count(PAGES) == before + 3
    # the default parameters' figures of that version are still stored
    assert _netto(_client(store, params).get("/direktorat").text, 2016) == netto_v2
    assert _count(PAGES) == before + 3


def test_services_are_the_vedtak_lines_summed_per_service(store: Any, params: ParameterSet) -> None:
    from sio.web.figures import FigureCache, service_totals

    figures = FigureCache(store, params)
    fig = figures.of(1)
    assert service_totals(fig, 2016, "9001") == {"HJSPL": HJSPL_OERE}
    summary = figures.summary_of(1)
    with store.connect() as conn:
        shown = figures.municipality(conn, summary, 2016, "9001")
    assert shown.services == {"HJSPL": HJSPL_OERE}
    may = next(m for m in shown.months if m.maaned == 5)
    assert may.aktivitetstilskudd * 100 == 31 * 72_000
    assert [r.netto for r in summary.years[2016]] == [EXPECTED_2016["netto"]]


def test_the_payment_status_is_computed_once_per_state_of_the_ledger(
    store: Any, params: ParameterSet
) -> None:
    from sio.utbetaling.run import run_month, status
    from sio.web.payments_pages import status_from_json, status_json

    for m in range(1, 6):  # the ledger starts with a January; the municipality from May
        run_month(store, params, (2016, m), user="test")
    before = _count(STATUS)
    first = _client(store, params)
    page = first.get("/utbetaling/status?aar=2016")
    assert page.status_code == 200
    assert _count(STATUS) == before + 1
    again = _client(store, params).get("/utbetaling/status?aar=2016")
    assert _same(again.text) == _same(page.text)
    assert first.get("/utbetaling/status?aar=2016").text == page.text
    assert _count(STATUS) == before + 1
    # what is stored reads back as the service's own rows
    rows = status(store, params, 2016)
    assert [status_from_json(status_json(r)) for r in rows] == rows
    assert rows[0].utbetalt_oere == rows[0].rettighet_oere  # May paid as entitled
    # a new run changes the status: computed again
    run_month(store, params, (2016, 6), user="test")
    assert first.get("/utbetaling/status?aar=2016").status_code == 200
    assert _count(STATUS) == before + 2
    # a run made on the payments page computes its year's status once, and the page reads it
    token = re.search(r'name="csrf_token" value="([^"]+)"', first.get("/utbetaling").text)
    assert token is not None
    made = first.post(
        "/utbetaling/kjor",
        data={"csrf_token": token.group(1), "maaned": "2016-07"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert _count(STATUS) == before + 3
    july = first.get("/utbetaling/status?aar=2016")
    assert july.status_code == 200 and _count(STATUS) == before + 3
    assert _same(july.text) != _same(page.text)  # July is in it now


def test_the_version_diff_is_computed_once_per_pair(
    store: Any, params: ParameterSet, tmp_path: Path
) -> None:
    import_path(store, write_input(tmp_path / "v2", _world("14")), params)
    before = _count(DIFF)
    first = _client(store, params)
    page = first.get("/direktorat/import/diff?fra=1&til=2")
    assert page.status_code == 200
    # one vedtak of 9001 superseded
    table = re.search(r'id="diff".*?</table>', page.text, re.S)
    assert table is not None and "vedtak" in table.group(0)
    assert _count(DIFF) == before + 1
    second = _client(store, params).get("/direktorat/import/diff?fra=1&til=2")
    assert _same(second.text) == _same(page.text)
    assert _count(DIFF) == before + 1
    # a version with itself has no differences: nothing to compute
    same = first.get("/direktorat/import/diff?fra=2&til=2")
    assert same.status_code == 200
    assert _count(DIFF) == before + 1
