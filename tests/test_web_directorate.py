"""The directorate's and the finance officer's pages in a real browser (Debian's Chromium
through Playwright) against `sio serve` on an empty store of its own (this module imports data
and makes payment runs, so it does not share the session's server): imports with their
validation report and confirmation, a payment run and its letter, "Bør vi delta?" for a
municipality that never took part, the cap's history as a step chart, role and municipality
boundaries, and axe-core on every page."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from web_support import Server, browser, screenshot, serious_violations, serve, sign_in

__all__ = ["browser"]  # the fixture

GOOD_VEDTAK = (
    "vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til\n"
    "VNY-000001,Pny0000001,5035,HJSPL,,5.0,timer_per_uke,2023-01-01,2023-06-30\n"
)
BAD_VEDTAK = (
    "vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til\n"
    "VFEIL-1,Pfeil00001,5035,HJSPL,,fem,timer_per_uke,2021-01-01,\n"
    "VFEIL-2,Pfeil00002,5035,HJSPL,,3.0,timer_per_uke,2021-13-01,\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`sio serve` on a temporary SQLite store of this module's own (staged uploads under it)."""
    home = tmp_path_factory.mktemp("sio-serve-direktorat")
    with serve(home, TMPDIR=str(home)) as srv:
        yield srv


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data as files (what `sio serve` imported on its empty store)."""
    from sio.data.demo import write_demo_data

    folder: Path = tmp_path_factory.mktemp("demo") / "inndata"
    write_demo_data(folder)
    return folder


def _versions(server: Server) -> list[int]:
    """The data versions in the store, read straight from its database."""
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as c:
            rows = c.execute(sa.text("SELECT id FROM data_versjon ORDER BY id"))
            return [int(r[0]) for r in rows]
    finally:
        engine.dispose()


def _accessible(page: Any, name: str) -> None:
    screenshot(page, name)
    found = serious_violations(page)
    assert not found, f"{name}: {found}"


def _kr(text: str) -> int:
    """`1 234 567 kr` / `−1 234 kr` as an integer."""
    clean = text.replace("\u00a0", "").replace(" ", "").replace("kr", "").replace("\u2212", "-")
    return int(clean)


def _half_away(x: Fraction) -> int:
    """Rounding half away from zero (interfaces.md §2), written out for the test."""
    n = abs(x)
    whole = int(n)
    if n - whole >= Fraction(1, 2):
        whole += 1
    return whole if x >= 0 else -whole


def test_a_bad_upload_names_file_row_and_field_and_stores_nothing(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    bad = tmp_path / "vedtak.csv"
    bad.write_text(BAD_VEDTAK, encoding="utf-8")
    page = sign_in(browser, server, "direktorat")
    page.get_by_role("link", name="Import").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Import og dataversjoner"
    expect(page.locator("#versions tbody tr")).to_have_count(1)
    _accessible(page, "direktorat-import")
    page.get_by_label("Filer (CSV, Parquet eller Excel)").set_input_files(str(bad))
    page.get_by_role("button", name="Kontroller filene").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Filene har feil"
    assert page.locator("#nothing-stored").inner_text() == (
        "Inndataene har 2 feil; ingenting ble lagret."
    )
    omfang = page.locator('#problems tr[data-file="vedtak.csv"][data-row="2"][data-field="omfang"]')
    assert omfang.count() == 1
    assert omfang.locator("td").nth(3).inner_text() == "fem"  # the value in the file
    fra = page.locator('#problems tr[data-file="vedtak.csv"][data-row="3"][data-field="fra"]')
    assert fra.count() == 1
    assert fra.locator("td").nth(3).inner_text() == "2021-13-01"
    _accessible(page, "direktorat-import-feil")
    assert _versions(server) == [1]  # nothing was stored
    page.close()


def test_a_good_upload_is_stored_only_when_confirmed(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    good = tmp_path / "vedtak.csv"
    good.write_text(GOOD_VEDTAK, encoding="utf-8")
    page = sign_in(browser, server, "direktorat")
    page.goto(server.url + "/direktorat/import")
    page.get_by_label("Filer (CSV, Parquet eller Excel)").set_input_files(str(good))
    page.get_by_role("button", name="Kontroller filene").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Bekreft importen"
    assert page.locator("#to-store tbody tr").inner_text().split() == ["vedtak", "1"]
    _accessible(page, "direktorat-import-bekreft")
    assert _versions(server) == [1]  # checked, not stored
    page.get_by_role("button", name="Lagre som ny dataversjon").click()
    assert page.locator("#stored").inner_text() == "Lagret som dataversjon 2."
    row = page.locator('#versions tr[data-version="2"]')
    assert row.locator("td.source").inner_text() == "opplasting: vedtak.csv"
    assert "demo-direktorat" in row.inner_text()
    assert _versions(server) == [1, 2]
    # what changed from version 1 to 2: one vedtak row added for 5035
    page.get_by_label("Fra versjon").fill("1")
    page.get_by_label("Til versjon").fill("2")
    page.get_by_role("button", name="Sammenlign").click()
    cells = page.locator("#diff tbody tr").all_inner_texts()
    assert [c.split("\t") for c in cells] == [["vedtak", "5035", "lagt til", "1"]]
    _accessible(page, "direktorat-import-versjoner")
    page.close()


def test_a_month_run_and_its_letter_pay_the_engine_s_month(
    browser: Any, server: Server, demo: Path
) -> None:
    """The May 2016 run pays Selbu (model B) its month's earmarked grant and supplement: the
    engine's exact May amounts straight from the demo files, each rounded to øre."""
    from sio.data.validation import load_input
    from sio.engine import Engine
    from sio.parameters import load_parameters

    params = load_parameters()
    data, _problems = load_input(demo, params)
    may = next(
        m for m in Engine(data, params).compute_year(2016).get("1664").months if m.maaned == 5
    )  # type: ignore[union-attr]
    expected = _half_away(may.oeremerket_tilskudd * 100) + _half_away(may.inntektspaaslag * 100)

    page = sign_in(browser, server, "direktorat")
    page.get_by_role("link", name="Utbetalinger").click()
    _accessible(page, "direktorat-utbetaling")
    page.get_by_label("Måned (ÅÅÅÅ-MM)").fill("2016-05")
    page.get_by_role("button", name="Kjør utbetalingen").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Kjøring 1")
    selbu = page.locator('#letters tr[data-kommune="1664"]')
    assert int(selbu.locator("td[data-oere]").get_attribute("data-oere")) == expected
    kroner = f"{expected // 100:,}".replace(",", " ") + f",{expected % 100:02d} kr"
    assert selbu.locator("td[data-oere]").inner_text().replace("\u00a0", " ") == kroner
    _accessible(page, "direktorat-kjoring")
    selbu.get_by_role("link").click()
    letter = page.locator("body").inner_text().replace("\u00a0", " ")
    assert "Selbu" in letter and kroner in letter
    screenshot(page, "direktorat-brev-1664")
    # a month out of order is refused on the page, naming the month, nothing posted
    page.goto(server.url + "/utbetaling")
    page.get_by_label("Måned (ÅÅÅÅ-MM)").fill("2016-08")
    page.get_by_role("button", name="Kjør utbetalingen").click()
    assert "2016-06" in page.get_by_role("alert").inner_text()
    assert page.locator("#maaned").get_attribute("aria-invalid") == "true"
    assert page.locator("#runs tbody tr").count() == 1
    page.get_by_role("link", name="Utbetalingsstatus per kommune").click()
    expect(page.locator('#status tr[data-kommune="1664"]')).to_have_count(1)
    _accessible(page, "direktorat-utbetalingsstatus")
    page.close()

    # the finance officer of 5035 sees its own letter and lines only
    finance = sign_in(browser, server, "okonomi")
    finance.get_by_role("link", name="Utbetalinger").click()
    expect(finance.locator("#runs tbody tr")).to_have_count(1)
    assert finance.get_by_role("button", name="Kjør utbetalingen").count() == 0
    _accessible(finance, "okonomi-utbetaling")
    finance.get_by_role("link", name="Kjøring 1").click()
    # May 2016 paid Stjørdal under its code then, 1714, which 5035 continues
    expect(finance.locator("#letters tbody tr")).to_have_count(1)
    assert finance.locator('#letters tr[data-kommune="1714"]').count() == 1
    assert set(finance.locator("#lines tbody tr td:nth-child(2)").all_inner_texts()) <= {
        "5035",
        "1714",  # Stjørdal's code before 2018: its lines are paid to 5035
    }
    _accessible(finance, "okonomi-kjoring")
    answer = finance.goto(server.url + "/utbetaling/kjoring/1/brev/1664")
    assert answer is not None and answer.status == 404
    finance.goto(server.url + "/utbetaling/status?aar=2016")
    shown = {r.get_attribute("data-kommune") for r in finance.locator("#status > tbody > tr").all()}
    assert shown and shown <= {"5035", "1714"}
    finance.close()


def test_should_we_join_for_a_municipality_that_never_took_part(
    browser: Any, server: Server, demo: Path
) -> None:
    """Oppdal (5021, an evaluation control) from 2021, worked out by hand from scheme.md: base
    100 mill. kr in 2020, the same population every year (demography index 1), home nursing
    10 hours a week all year, zone 1 and no travel index."""
    assert "5021" not in (demo / "deltakelse.csv").read_text(encoding="utf-8")
    deflator = {2017: "0.025", 2018: "0.03", 2019: "0.03", 2020: "0.031", 2021: "0.03"}
    uttrekk = 100_000_000 * (1 + Fraction(deflator[2021]))  # × demography index 1
    supplement = min(Fraction(4, 100) * uttrekk, 28_000_000)
    lump_sum = Fraction(10, 100) * uttrekk
    price = Fraction(720)  # HJSPL, 2016 kroner; later years × (1 + deflator)
    for year in range(2017, 2022):
        price *= 1 + Fraction(deflator[year])
    oere = sum(
        _half_away(Fraction(10) * calendar.monthrange(2021, m)[1] / 7 * price * 100)
        for m in range(1, 13)
    )
    activity = _half_away(Fraction(oere, 100))
    grant = activity + _half_away(lump_sum) + _half_away(supplement)
    netto = grant - _half_away(uttrekk)

    page = sign_in(browser, server, "direktorat")
    page.get_by_role("link", name="Bør vi delta?").click()
    _accessible(page, "bor-vi-delta-skjema")
    page.get_by_label("Kommune (SSBs kommunehistorikk)").select_option("5021")
    page.get_by_label("Oppstartsår (fra 1. januar)").fill("2021")
    page.get_by_label("Antall år").fill("1")
    for field, value in {"Funksjon 234": "10000000", "Funksjon 253": "60000000"}.items():
        page.get_by_label(field, exact=True).fill(value)
    page.get_by_label("Funksjon 254", exact=True).fill("30 000 000")
    for i, n in enumerate(("5000", "800", "300", "60")):
        page.locator(f"#bef_{i}").fill(n)
    page.locator("#volum_HJSPL").fill("10")
    page.get_by_role("button", name="Beregn anslag").click()

    def cell(component: str) -> int:
        return int(
            page.locator(f'#estimate tr[data-komponent="{component}"] td').get_attribute(
                "data-value"
            )
        )

    assert page.get_by_role("heading", level=2).first.inner_text() == (
        "Anslag for Oppdal (5021) fra 2021"
    )
    assert cell("uttrekk") == 103_000_000 == _half_away(uttrekk)
    assert cell("inntektspaaslag") == _half_away(supplement)
    assert cell("rundsumtilskudd") == _half_away(lump_sum)
    assert cell("aktivitetstilskudd") == activity
    assert cell("netto") == netto
    shown = page.locator('#estimate tr[data-komponent="netto"] td').inner_text()
    assert _kr(shown) == netto
    estimates = page.locator("#estimates").inner_text()
    assert "aktivitetstilskudd.enhetspris.HJSPL.STANDARD" in estimates
    _accessible(page, "bor-vi-delta")

    # an assumption changed on the page: a 5 % supplement rate from the start year
    page.get_by_label("Egen verdi for inntektspaaslag.sats").fill("0,05")
    page.get_by_role("button", name="Beregn anslag").click()
    assert cell("inntektspaaslag") == _half_away(Fraction(5, 100) * uttrekk)
    # a volume that is not a number is named at its field
    page.locator("#volum_HJSPL").fill("ti")
    page.get_by_role("button", name="Beregn anslag").click()
    assert page.locator("#volum_HJSPL").get_attribute("aria-invalid") == "true"
    assert page.locator('#feil a[href="#volum_HJSPL"]').count() == 1
    page.close()


def test_the_cap_history_as_a_step_chart_and_what_changed(browser: Any, server: Server) -> None:
    page = sign_in(browser, server, "direktorat")
    page.get_by_role("link", name="Parametere").click()
    # search by the Norwegian description
    page.get_by_label("Søk på sti eller beskrivelse").fill("tak per kommune")
    page.wait_for_function("document.querySelectorAll('#params tbody tr').length < 5")
    page.get_by_role("link", name="inntektspaaslag.tak").click()
    steps = page.locator("#step-chart path.step")
    seen = [
        (s.get_attribute("data-from"), s.get_attribute("data-value"), s.get_attribute("class"))
        for s in steps.all()
    ]
    assert seen == [
        ("2015-01-01", "25000000", "step"),
        ("2020-01-01", "28000000", "step"),
        ("2021-01-01", "28000000", "step estimate"),  # 2021 on: an estimate (scheme.md §6)
    ]
    assert page.locator("#step-chart-t").text_content() == ("Historikken til inntektspaaslag.tak")
    _accessible(page, "parameter-tak-historikk")
    page.goto(server.url + "/parametere?fra=2019-06-30&til=2020-06-30")
    row = page.locator('#changes tr[data-path="inntektspaaslag.tak"]')
    values = [v.replace("\u00a0", " ") for v in row.locator("td").all_inner_texts()]
    assert values[:2] == ["25 000 000 kr", "28 000 000 kr"]
    assert page.locator('#changes tr[data-path="inntektspaaslag.sats"]').count() == 0
    _accessible(page, "parametere-endringer")
    page.close()


def test_roles_and_municipalities_hold_on_these_pages(browser: Any, server: Server) -> None:
    evaluator = sign_in(browser, server, "evaluator")
    for path in ("/direktorat/import", "/utbetaling", "/utbetaling/kjoring/1"):
        answer = evaluator.goto(server.url + path)
        assert answer is not None and answer.status == 403, path
    evaluator.close()
    caseworker = sign_in(browser, server, "saksbehandler")
    for path in ("/direktorat/import", "/utbetaling", "/bor-vi-delta"):
        answer = caseworker.goto(server.url + path)
        assert answer is not None and answer.status == 403, path
    caseworker.close()
    finance = sign_in(browser, server, "okonomi")
    answer = finance.goto(server.url + "/direktorat/import")
    assert answer is not None and answer.status == 403
    finance.goto(server.url + "/bor-vi-delta")
    options = finance.locator("#kommune option").all_inner_texts()
    assert [o for o in options if o[:4].isdigit()] == ["5035 Stjørdal"]
    token = finance.locator('input[name="csrf_token"]').first.get_attribute("value")
    # a run posted by hand with the session's token: refused for the role
    answer = finance.request.post(
        server.url + "/utbetaling/kjor", form={"csrf_token": token, "maaned": "2016-06"}
    )
    assert answer.status == 403
    # another municipality typed into the estimate form: refused at its field
    answer = finance.request.post(
        server.url + "/bor-vi-delta",
        multipart={"csrf_token": token, "kommune": "5021", "startaar": "2021", "aar": "1"},
    )
    assert answer.status == 422 and "bare på egen kommune" in answer.text()
    finance.close()
    director = sign_in(browser, server, "direktorat")
    # a form without the session's CSRF token is refused
    answer = director.request.post(server.url + "/utbetaling/kjor", form={"maaned": "2016-06"})
    assert answer.status == 403
    director.close()
