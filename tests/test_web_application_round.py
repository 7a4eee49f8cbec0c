"""The application round's pages in a real browser (Debian's Chromium through Playwright) against
its own `sio serve` (the round adds a participant, so the shared server's demo figures stay as
they are): the directorate registers an application, assesses it, offers, records the
acceptance — and the municipality's page then shows the extraction worked out by hand in
`test_cli.small_world`'s docstring. A bad application is refused next to its field with nothing
stored; roles that do not take part in the round are refused; axe-core finds nothing serious."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import write_input
from test_cli import small_world
from web_support import Server, browser, screenshot, serious_violations, serve, sign_in

__all__ = ["browser"]  # the fixture


def _applicant_world() -> dict[str, list[dict[str, Any]]]:
    """9003 Søkerbygd: small_world's municipality under another code, not taking part, with its
    population held at the 2016 figures for the later years the demo data compute."""
    w = small_world()
    k = dict(w["kommuner"][0], kommunenummer="9003", navn="Søkerbygd")
    pop = [dict(r, kommunenummer="9003") for r in w["befolkning"]]
    pop += [dict(r, aar=y) for y in range(2017, 2025) for r in pop if r["aar"] == 2016]
    return {
        "kommuner": [k],
        "utgifter": [dict(r, kommunenummer="9003") for r in w["utgifter"]],
        "befolkning": pop,
    }


@pytest.fixture(scope="module")
def round_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("sio-round")
    with serve(home) as srv:
        folder = write_input(home / "applicant", _applicant_world())
        env = {**os.environ, "SIO_DATABASE_URL": srv.database_url, "XDG_DATA_HOME": str(home)}
        sio = Path(sys.executable).with_name("sio")
        done = subprocess.run(
            [str(sio), "importer", str(folder)], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield srv


def _fill_application(page: Any, code: str) -> None:
    page.get_by_label("Kommunenummer").fill(code)
    page.get_by_label("Utlysning").select_option("2015")
    page.get_by_label("Mottatt").fill("2015-11-20")
    page.get_by_label("Dato for kommunestyrevedtaket (kan ettersendes)").fill("2015-11-12")
    page.get_by_label("Ønsket oppstart (første dag i en måned)").fill("2016-05-01")
    page.get_by_label("Bestillerfunksjonen skilt fra tjenesteproduksjonen").fill(
        "Tildelingskontoret er egen enhet under kommunalsjefen."
    )
    page.get_by_label("Saksbehandlere med høgskolekompetanse og nok kapasitet").fill(
        "Fem saksbehandlere med høgskoleutdanning."
    )
    page.get_by_label("Kan kjøpe tjenester fra andre").fill("Rammeavtaler med private.")
    page.get_by_label("Fag- og økonomisystemer kan rapportere").fill("Fagsystemet rapporterer.")
    page.get_by_role("button", name="Registrer søknaden").click()
    page.wait_for_load_state("networkidle")


def test_an_application_walks_to_a_participant_with_its_extraction(
    browser: Any, round_server: Server
) -> None:
    page = sign_in(browser, round_server, "direktorat")
    page.get_by_role("link", name="Søknadsrunde").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Søknadsrunde"
    found = serious_violations(page)
    assert not found, found
    screenshot(page, "soknadsrunde")

    # a code that is no municipality: refused next to the field, nothing stored
    _fill_application(page, "9999")
    error = page.locator("#kommunenummer-feil")
    assert error.inner_text() == "9999 er ikke et kommunenummer som gjelder 2015-11-20"
    assert page.get_by_label("Kommunenummer").get_attribute("aria-describedby") == (
        "kommunenummer-feil"
    )
    assert page.locator("#applications").count() == 0  # still no application

    _fill_application(page, "9003")
    assert page.locator("#status").inner_text() == "mottatt"
    assert "20. november 2015" in page.locator("dl.facts").inner_text()

    page.get_by_role("button", name="Lagre vurderingen").click()
    page.wait_for_load_state("networkidle")
    rows = page.locator("#requirements tbody tr")
    assert rows.count() == 6
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(6)] == ["ja"] * 6
    assert "mottatt 2015-11-20, frist 2015-12-01" in rows.nth(0).inner_text()
    found = serious_violations(page)
    assert not found, found
    screenshot(page, "soknadsrunde-vurdert")

    # the offer as the 2015 call made it: dated 15 January 2016, answer by 1 February 2016
    assert page.get_by_label("Svarfrist").input_value() == "2016-02-01"
    assert page.get_by_label("Oppstart (første dag i en måned)").input_value() == "2016-05-01"
    page.get_by_label("Dato for tilbudet").fill("2016-01-15")
    page.get_by_role("button", name="Gi tilbud").click()
    page.wait_for_load_state("networkidle")
    assert "1. mai 2016" in page.locator("#offer").inner_text()
    assert (
        "tilbud av 15. januar 2016: modell A fra 1. mai 2016"
        in page.locator("#history").inner_text()
    )

    # the acceptance, received by letter, dated 28 January 2016
    page.get_by_label("aksepter tilbudet").check()
    page.get_by_label("Dato for svaret").fill("2016-01-28")
    page.get_by_role("button", name="Send svaret").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#status").inner_text() == "akseptert"
    history = page.locator("#history").inner_text()
    assert "akseptert 28. januar 2016: deltakelsen lagret som dataversjon" in history
    screenshot(page, "soknadsrunde-akseptert")

    # the engine reads the new participation: small_world's hand-computed extraction for 2016
    page.goto(round_server.url + "/kommune/9003?aar=2016")
    page.wait_for_load_state("networkidle")
    year = page.locator('#years tr[data-year="2016"]').inner_text()
    assert "68 599 612" in year.replace("\u00a0", " ")


def test_roles_outside_the_round_are_refused(browser: Any, round_server: Server) -> None:
    page = sign_in(browser, round_server, "saksbehandler")
    answer = page.goto(round_server.url + "/soknadsrunde")
    assert answer is not None and answer.status == 403
    assert page.get_by_role("link", name="Søknadsrunde").count() == 0
