"""The pages in a real browser (Debian's Chromium through Playwright) against `sio serve`
started as a process on an empty store: the demo start-up, sign-in per role, the directorate's
figures against the engine on the demo files, the explain tree, the parameter explorer, the
role and municipality boundaries, the language switch and axe-core on every main page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from web_support import Server, browser, screenshot, serious_violations, server, sign_in

__all__ = ["browser", "server"]  # the fixtures


@pytest.fixture(scope="module")
def national_netto(tmp_path_factory: pytest.TempPathFactory) -> dict[int, int]:
    """The demo data's national netto per year, computed by the engine straight from the demo
    files (not through the store or the pages)."""
    from sio.data.demo import write_demo_data
    from sio.data.validation import load_input
    from sio.engine import Engine
    from sio.parameters import load_parameters

    folder: Path = tmp_path_factory.mktemp("demo")
    write_demo_data(folder)
    params = load_parameters()
    data, _problems = load_input(folder, params)
    engine = Engine(data, params)
    out = {y: sum(r.netto for r in engine.compute_year(y).results) for y in (2019, 2022)}
    stjordal = engine.compute_year(2019).get("5035")
    assert stjordal is not None
    out[5035] = stjordal.result.netto  # Stjørdal's own netto of 2019
    return out


def _assert_accessible(page: Any, name: str) -> None:
    screenshot(page, name)
    found = serious_violations(page)
    assert not found, f"{name}: {found}"


def test_serve_on_an_empty_store_loads_the_demo_and_prints_one_account_per_role(
    server: Server,
) -> None:
    assert set(server.accounts) == {"saksbehandler", "okonomi", "direktorat", "evaluator", "admin"}
    text = "\n".join(server.console)
    assert "dataversjon 1" in text
    assert server.url + "/" in text


def test_directorate_sees_the_national_figures_of_the_engine(
    browser: Any, server: Server, national_netto: dict[int, int]
) -> None:
    page = sign_in(browser, server, "direktorat")
    assert page.url == server.url + "/direktorat"
    assert page.locator("html").get_attribute("lang") == "nb"
    assert page.get_by_role("heading", level=1).inner_text() == "Alle deltakende kommuner"
    for year, netto in national_netto.items():
        if year == 5035:
            continue
        cell = page.locator(f'#national tr[data-year="{year}"] td[data-netto]')
        assert int(cell.get_attribute("data-netto")) == netto
        # shown as "1 234 567 kr" with no-break spaces (a minus sign for negative figures)
        shown = cell.inner_text().replace("\u00a0", " ").replace("\u2212", "-")
        assert shown == f"{netto:,} kr".replace(",", " ")
        bar = page.locator(f'#netto-chart rect.bar[data-key="{year}"]')
        assert int(bar.get_attribute("data-value")) == netto
    _assert_accessible(page, "direktorat-oversikt")

    # the municipalities of 2019 add up to the national netto of the table
    page.goto(server.url + "/direktorat?aar=2019")
    cells = page.locator("#municipalities tbody tr td:nth-child(6)").all_inner_texts()
    total = sum(
        int(c.replace("\u00a0", "").replace("kr", "").replace("\u2212", "-")) for c in cells
    )
    assert total == national_netto[2019]

    # a municipality, then "explain this figure" down to the vedtak lines of a month
    page.locator('#municipalities tr[data-kommune="5035"] th a').click()
    assert page.get_by_role("heading", level=1).inner_text() == "5035 Stjørdal"
    expect(page.locator("#months tbody tr")).to_have_count(12)
    _assert_accessible(page, "kommune-5035")
    page.get_by_role("link", name="Forklar 2019").click()
    netto_2019 = int(page.locator("#netto").get_attribute("data-value"))
    year_row = page.locator("#tree > details > summary").inner_text()
    assert year_row.startswith("Stjørdal (5035) 2019")
    assert netto_2019 == national_netto[5035]
    shown = year_row.split("= ")[-1].replace("\u00a0", " ").replace("\u2212", "-")
    assert shown == f"{national_netto[5035]:,} kr".replace(",", " ")
    first = page.locator("#tree > details > div > details").first
    assert first.get_attribute("open") is None
    first.locator("summary").first.click()
    assert first.get_attribute("open") == ""
    page.get_by_role("link", name="mars").first.click()
    # the click returns once the new page starts loading: wait for its lines before counting
    expect(page.locator("#lines tbody tr").first).to_be_attached()
    page.wait_for_load_state()
    assert page.locator("#lines tbody tr").count() > 0
    summed = page.locator("#line-sum").inner_text()
    total, reported = [
        s.split(" øre")[0].split(": ")[-1].replace("\u00a0", "") for s in summed.split(";")[:2]
    ]
    assert total == reported  # the lines add up to the month's activity grant
    _assert_accessible(page, "forklaring-5035-2019")


def test_the_cap_history_in_the_parameter_explorer(browser: Any, server: Server) -> None:
    page = sign_in(browser, server, "evaluator")
    page.get_by_role("link", name="Parametere").click()
    page.get_by_label("Søk på sti eller beskrivelse").fill("tak")
    page.wait_for_function("document.querySelectorAll('#params tbody tr').length < 20")
    page.get_by_role("link", name="inntektspaaslag.tak").click()
    history = page.locator("#history tbody tr")
    assert history.first.locator("th").inner_text() == "1. januar 2015"
    assert history.first.locator("td").first.inner_text().replace("\u00a0", " ") == "25 000 000 kr"
    assert page.locator("#history tr.estimate").count() >= 1
    page.get_by_label("Verdi som gjelder").fill("2020-06-30")
    page.get_by_role("button", name="Vis").click()
    assert "28\u00a0000\u00a0000" in page.locator("#in-force").inner_text()
    _assert_accessible(page, "parameter-tak")
    page.goto(server.url + "/parametere")
    _assert_accessible(page, "parametere")


def test_municipal_roles_see_only_their_own_municipality(browser: Any, server: Server) -> None:
    page = sign_in(browser, server, "okonomi")
    assert page.url == server.url + "/kommune/5035"
    answer = page.goto(server.url + "/kommune/4627")
    assert answer is not None and answer.status == 404
    answer = page.goto(server.url + "/kommune/4627/forklaring?aar=2019")
    assert answer is not None and answer.status == 404
    page.goto(server.url + "/direktorat")
    assert page.url == server.url + "/kommune/5035"
    admin = sign_in(browser, server, "admin")
    answer = admin.goto(server.url + "/direktorat")
    assert answer is not None and answer.status == 403


def test_sign_in_refuses_a_wrong_password_and_pages_need_sign_in(
    browser: Any, server: Server
) -> None:
    page = browser.new_page()
    page.goto(server.url + "/direktorat")
    assert page.url.startswith(server.url + "/innlogging")
    _assert_accessible(page, "innlogging")
    page.get_by_label("Brukernavn").fill("demo-direktorat")
    page.get_by_label("Passord").fill("feil-passord-123")
    page.get_by_role("button", name="Logg inn").click()
    assert page.get_by_role("alert").inner_text() == "feil brukernavn eller passord"
    page.goto(server.url + "/tilgjengelighet")
    assert page.get_by_role("heading", level=1).inner_text() == "Tilgjengelighetserklæring"
    _assert_accessible(page, "tilgjengelighet")
    page.goto(server.url + "/docs")
    assert page.locator("td code", has_text="/api/saker/{sak_id}/vedtak").count() >= 1
    _assert_accessible(page, "docs")
    page.close()


def test_english_switch_and_keyboard_skip_link(browser: Any, server: Server) -> None:
    page = sign_in(browser, server, "direktorat")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Hopp til hovedinnholdet"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "innhold"
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "All participating municipalities"
    assert "," in page.locator("#national td[data-netto]").first.inner_text()
    page.get_by_role("button", name="Sign out").click()
    assert page.url.startswith(server.url + "/innlogging")
    page.goto(server.url + "/direktorat")
    assert page.url.startswith(server.url + "/innlogging")
