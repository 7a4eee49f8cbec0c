"""The payment status page keeps its table rendered per state of the ledger, data version,
parameter version and language (`sio.web.payments_pages.status_table`), and shows a new run,
a new data version and the other language as soon as they are there, on SQLite and
PostgreSQL; a run or an import made on the pages computes the status with it; the amounts in
øre as the pages write them (`Formatter.oere`); and the server's garbage collector set up at
start (`sio.web.warm_up`).

The figures are test_cli.small_world's (9001, model A from May 2016, home nursing 7 hours a
week at 720 kr in 2016: every day of an activity month is 1 hour, 72 000 øre), worked out by
hand: the run of May pays May as entitled (outstanding 0); the run of June pays June's activity
a konto as May's, 31 days, against an entitlement of 30 (settled a month later), so −72 000
øre is outstanding; with 14 hours a week instead of 7 the activity grant of May and June
doubles to 2 × 61 × 72 000 øre against 2 × 31 × 72 000 paid on the old data, so 60 × 72 000 =
4 320 000 øre is outstanding (the lump sum and the supplement do not depend on activity).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from conftest import write_input
from sio.casework.api import create_account, create_app
from sio.parameters import ParameterSet
from sio.store.db import make_engine, migrate
from sio.store.versions import import_path
from sio.web.fmt import Formatter
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)
from test_web_cache import PASSWORD, _client, _world

STATUS = "/utbetaling/status?aar=2016"


@pytest.fixture
def store(store_url: str, tmp_path: Path, params: ParameterSet) -> Iterator[Any]:  # noqa: F811
    engine = make_engine(store_url)
    migrate(engine)
    import_path(engine, write_input(tmp_path / "v1", _world()), params)
    create_account(engine, "dir", PASSWORD, "direktorat", None)
    yield engine
    engine.dispose()


def _row(html: str, code: str = "9001") -> str:
    m = re.search(rf'<tr data-kommune="{code}">.*?</details></td></tr>', html, re.S)
    assert m is not None, html[:3000]
    return m.group(0)


def _outstanding(html: str) -> int:
    m = re.search(r'data-oere="(-?\d+)"', _row(html))
    assert m is not None
    return int(m.group(1))


def _months(html: str) -> list[str]:
    return re.findall(r'<tr><th scope="row">([^<]+)</th>', _row(html))


def test_the_status_table_follows_runs_data_versions_and_the_language(
    store: Any, params: ParameterSet, tmp_path: Path
) -> None:
    from sio.utbetaling.run import run_month

    for m in range(1, 6):  # the ledger starts with a January; 9001 is financed from May
        run_month(store, params, (2016, m), user="test")
    client = _client(store, params)
    page = client.get(STATUS)
    assert page.status_code == 200
    assert _outstanding(page.text) == 0  # May paid as entitled
    assert _months(page.text) == ["mai"]
    assert "1 måneder" in _row(page.text) and "Rettighet" in page.text
    assert client.get(STATUS).text == page.text  # the same table, kept

    # the other language: its own table, not the Norwegian one
    client.cookies.set("sio_spraak", "en")
    english = client.get(STATUS)
    assert english.status_code == 200
    assert _months(english.text) == ["May"] and "1 months" in _row(english.text)
    assert ">Entitlement<" in english.text and "Rettighet" not in english.text
    client.cookies.set("sio_spraak", "nb")

    # a run made by another process (the command line): the page shows it at once
    run_month(store, params, (2016, 6), user="test")
    june = client.get(STATUS)
    assert _months(june.text) == ["mai", "juni"] and _outstanding(june.text) == -72_000

    # a new data version: 14 hours a week, so May's and June's activity grant doubles
    import_path(store, write_input(tmp_path / "v2", _world("14")), params)
    newer = client.get(STATUS)
    assert newer.status_code == 200
    assert _outstanding(newer.text) == 60 * 72_000
    assert "Utestående" in newer.text
    outstanding_cell = re.search(r'data-oere="4320000">([^<]+)<', _row(newer.text))
    assert outstanding_cell is not None and outstanding_cell.group(1) == "43\u00a0200,00\u00a0kr"

    # a second worker on the same database reads the same figures
    assert _outstanding(_client(store, params).get(STATUS).text) == 4_320_000


def test_a_run_made_on_the_page_has_its_status_table_ready_in_both_languages(
    store: Any, params: ParameterSet
) -> None:
    from sio.utbetaling.run import run_month

    for m in range(1, 5):
        run_month(store, params, (2016, m), user="test")
    client = _client(store, params)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/utbetaling").text)
    assert token is not None
    made = client.post(
        "/utbetaling/kjor",
        data={"csrf_token": token.group(1), "maaned": "2016-05"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    # the table of each language was made with the run: the store holds the status once, and
    # neither page computes or stores anything now
    from sio.store import cache

    before = cache.computations["utbetalingsstatus"]
    assert _months(client.get(STATUS).text) == ["mai"]
    client.cookies.set("sio_spraak", "en")
    assert _months(client.get(STATUS).text) == ["May"]
    assert cache.computations["utbetalingsstatus"] == before


def test_an_import_on_the_page_computes_the_status_of_the_newest_run_s_year_with_it(
    store: Any, params: ParameterSet, tmp_path: Path
) -> None:
    from sio.store import cache
    from sio.utbetaling.run import run_month

    for m in range(1, 7):
        run_month(store, params, (2016, m), user="test")
    client = _client(store, params)
    assert _outstanding(client.get(STATUS).text) == -72_000
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/direktorat/import").text)
    assert token is not None
    folder = write_input(tmp_path / "v2", _world("14"))  # 14 hours a week
    files = [("filer", (f.name, f.read_bytes(), "text/csv")) for f in sorted(folder.iterdir())]
    checked = client.post("/direktorat/import", data={"csrf_token": token.group(1)}, files=files)
    assert checked.status_code == 200, checked.text[:2000]
    staged = re.search(r'name="token" value="([^"]+)"', checked.text)
    assert staged is not None
    before = cache.computations["utbetalingsstatus"]
    done = client.post(
        "/direktorat/import/bekreft",
        data={"csrf_token": token.group(1), "token": staged.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:2000]
    assert cache.computations["utbetalingsstatus"] == before + 1  # with the new figures
    newer = client.get(STATUS)
    assert _outstanding(newer.text) == 60 * 72_000
    assert "Rettighet etter dataversjon 2 " in newer.text
    assert cache.computations["utbetalingsstatus"] == before + 1  # read, not computed


def test_oere_by_hand() -> None:
    nb, en = Formatter("nb"), Formatter("en")
    assert nb.oere(123_456_789) == "1\u00a0234\u00a0567,89\u00a0kr"
    assert nb.oere(4_320_000) == "43\u00a0200,00\u00a0kr"
    assert nb.oere(-5) == "-0,05\u00a0kr"
    assert nb.oere(0) == "0,00\u00a0kr"
    assert en.oere(100_000_001) == "1,000,000.01\u00a0kr"


@given(st.integers(-(10**15), 10**15), st.sampled_from(["nb", "en"]))
def test_oere_is_the_number_of_kroner_with_two_decimals(amount: int, lang: str) -> None:
    f = Formatter(lang)
    assert f.oere(amount) == f.number(Fraction(amount, 100), 2) + "\u00a0kr"


def test_the_server_s_start_takes_what_it_made_out_of_the_collector_s_reach(
    tmp_path: Path, params: ParameterSet
) -> None:
    from sio.web import GC_YOUNG, warm_up

    engine = make_engine(f"sqlite:///{tmp_path / 'sio.db'}")
    migrate(engine)
    app = create_app(engine, params=params, secure_cookies=False)
    threshold = gc.get_threshold()
    try:
        warm_up(app)
        assert gc.get_freeze_count() > 10_000  # the modules, templates and catalogs
        assert gc.get_threshold() == (GC_YOUNG, *threshold[1:])
        # a page answers as before
        assert TestClient(app).get("/tilgjengelighet").status_code == 200
    finally:  # the test process's own objects are collected as before
        gc.unfreeze()
        gc.set_threshold(*threshold)
        engine.dispose()
