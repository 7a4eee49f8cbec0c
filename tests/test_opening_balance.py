"""Opening balances (issue 11): a store that takes over the payments in the middle of a year is
given what was paid before, per municipality and year, and the year's final settlement still pays
exactly the year's entitlement — on SQLite and PostgreSQL, with figures worked out by hand; the
file's problems are named per row; the balances are append-only; a correction of a month the
balance covers is paid by the next run.

The world is `test_cli.small_world`: municipality 9001 joins on 1 May 2016 (model A, one
home-nursing decision of 7 h/week), tilskudd 2016 = 9 780 345 kr (worked out by hand there). Here
it was paid for May and June by an earlier system, and the ledger starts with July 2016.

Entitlement of January–June 2016, by hand (interfaces.md §2, test_utbetaling's figures):
- activity: May 31 + June 30 days × 72 000 øre = 4 392 000 øre;
- lump sum: uttrekk × 10 % / 12 × 2 months = 102 899 417.475… / 60 = 1 714 990.291… kr, the
  cumulative month shares of May and June together rounded once: 171 499 029 øre;
- supplement: uttrekk × 4 % / 12 × 2 = 102 899 417.475… / 150 = 685 996.116… kr → 68 599 612 øre;
- together 244 490 641 øre = 2 444 906,41 kr.
"""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from conftest import max_examples, write_input
from sio.cli import app
from sio.parameters import ParameterSet
from sio.store.versions import import_path
from sio.utbetaling.opening import BalanceInvalid, register_balances
from sio.utbetaling.run import PaymentError, run_final_settlement, run_month, status
from test_cli import small_world
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)
from test_utbetaling import DAY, DAYS_2016, _cumulative, _engine, _lines, _uttrekk_2016, _with_orgnr

TILSKUDD_2016 = 9_780_345 * 100  # øre, test_cli.EXPECTED_2016
MAY_JUNE = 244_490_641  # øre, the module docstring
PAID_BEFORE = 3_000_000 * 100  # what the earlier system paid for May and June (any amount)


def _saldo_csv(
    path: Path, rows: list[str], header: str = "kommunenummer,aar,utbetalt_kr,til_og_med_maaned"
) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_may_june_by_hand() -> None:
    """The docstring's figure from the same hand formulas as test_utbetaling."""
    u = _uttrekk_2016()
    rund = _cumulative(u / 12 / 10, list(DAYS_2016))
    supp = _cumulative(u / 12 * Fraction(4, 100), list(DAYS_2016))
    assert (31 + 30) * DAY + rund[5] + rund[6] + supp[5] + supp[6] == MAY_JUNE


def test_a_ledger_taking_over_in_july_2016_settles_the_year_to_the_oere(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    engine = _engine(store_url)
    import_path(engine, write_input(tmp_path / "d", _with_orgnr(small_world())), params)
    # without the balance, a ledger starting in July is refused: May and June would be unpaid
    with pytest.raises(PaymentError, match="inngaende-saldo"):
        run_month(engine, params, (2016, 7), user="test")
    (stored,) = register_balances(
        engine, _saldo_csv(tmp_path / "saldo.csv", ["9001,2016,3000000.00,6"]), user="test"
    )
    assert (stored.utbetalt_oere, stored.til_og_med_maaned, stored.kilde) == (
        PAID_BEFORE,
        6,
        "saldo.csv:2",
    )
    july = run_month(engine, params, (2016, 7), user="test")
    u = _uttrekk_2016()
    rund = _cumulative(u / 12 / 10, list(DAYS_2016))
    supp = _cumulative(u / 12 * Fraction(4, 100), list(DAYS_2016))
    got = {(p.maaned, p.komponent, p.art): p.beloep_oere for p in july.lines}
    assert got == {
        # June's activity is reported in July's run (lag 1): the balance is settled at once
        (None, "inngaende_saldo", "avregning"): MAY_JUNE - PAID_BEFORE,
        (7, "aktivitetstilskudd", "akonto"): 30 * DAY,  # June's activity as July's advance
        (7, "rundsumtilskudd", "maanedsandel"): rund[7],
        (7, "inntektspaaslag", "maanedsandel"): supp[7],
    }
    (letter,) = july.brever
    (ytd,) = letter.hittil
    # so far: entitlement January–July, paid: the balance and July's run
    assert ytd.rettighet_oere == MAY_JUNE + 31 * DAY + rund[7] + supp[7]
    assert ytd.utbetalt_oere == PAID_BEFORE + sum(got.values())
    assert (ytd.inngaende_saldo_oere, ytd.saldo_til_maaned) == (PAID_BEFORE, 6)
    from sio.report.statement import render_statement

    page = render_statement(letter, lang="nb")
    assert "Utbetalt hittil for 2016 omfatter inngående saldo: 3\xa0000\xa0000,00\xa0kr" in page
    for m in range(8, 13):
        run_month(engine, params, (2016, m), user="test")
    run_final_settlement(engine, params, 2016, user="test")
    lines = _lines(engine, aar=2016)
    assert {p.maaned for p in lines} == {None, 7, 8, 9, 10, 11, 12}  # May, June: the balance's
    assert PAID_BEFORE + sum(p.beloep_oere for p in lines) == TILSKUDD_2016
    (row,) = status(engine, params, 2016)
    assert (row.rettighet_oere, row.utbetalt_oere) == (TILSKUDD_2016, TILSKUDD_2016)
    assert (row.saldo_til_maaned, row.saldo_rettighet_oere) == (6, MAY_JUNE)
    assert row.saldo_utbetalt_oere == MAY_JUNE
    assert [m.maaned for m in row.months] == [7, 8, 9, 10, 11, 12]
    engine.dispose()


def test_a_correction_of_a_covered_month_is_paid_by_the_next_run(
    tmp_path: Path, params: ParameterSet
) -> None:
    """The decision was 14 hours a week all along (data version 2 after July's run): August's
    run corrects May and June on the balance's line by 61 days × 72 000 øre, and the months of
    the ledger as usual; the year then settles to the corrected entitlement."""
    engine = _engine(f"sqlite:///{tmp_path / 'sio.db'}")
    import_path(engine, write_input(tmp_path / "v1", _with_orgnr(small_world())), params)
    register_balances(engine, _saldo_csv(tmp_path / "s.csv", ["9001,2016,3000000,"]), user="t")
    run_month(engine, params, (2016, 7), user="test")
    w = _with_orgnr(small_world())
    w["vedtak"][0]["omfang"] = "14"
    import_path(engine, write_input(tmp_path / "v2", w), params)
    august = run_month(engine, params, (2016, 8), user="test")
    saldo = [p for p in august.lines if p.komponent == "inngaende_saldo"]
    assert [(p.art, p.beloep_oere, p.forrige_data_versjon) for p in saldo] == [
        ("korreksjon", 61 * DAY, 1)
    ]
    for m in range(9, 13):
        run_month(engine, params, (2016, m), user="test")
    run_final_settlement(engine, params, 2016, user="test")
    paid = PAID_BEFORE + sum(p.beloep_oere for p in _lines(engine, aar=2016))
    assert paid == TILSKUDD_2016 + 176_400 * 100  # twice the activity: 245 days × 7 h × 720 kr
    engine.dispose()


@settings(
    max_examples=max_examples(4),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    last=st.integers(5, 10),  # the last month the earlier system paid
    paid=st.integers(0, 8_000_000_00),  # what it paid, in øre
    lag=st.sampled_from([1, 2]),
)
def test_any_takeover_month_and_balance_settle_the_year_to_the_oere(
    last: int,
    paid: int,
    lag: int,
    tmp_path_factory: pytest.TempPathFactory,
    params: ParameterSet,
) -> None:
    """Whatever month the ledger takes over in, whatever was paid before and whichever
    settlement lag: the balance plus the year's lines after the final settlement is 9 780 345 kr
    (test_cli's hand figure)."""
    tmp = tmp_path_factory.mktemp("takeover")
    engine = _engine(f"sqlite:///{tmp / 'sio.db'}")
    import_path(engine, write_input(tmp / "d", _with_orgnr(small_world())), params)
    p = params.with_overrides({"utbetaling.avregning_forsinkelse": {dt.date(2015, 1, 1): lag}})
    rows = [f"9001,2016,{paid // 100}.{paid % 100:02d},2016-{last:02d}"]
    register_balances(engine, _saldo_csv(tmp / "s.csv", rows), user="t")
    for m in range(last + 1, 13):
        run_month(engine, p, (2016, m), user="test")
    run_final_settlement(engine, p, 2016, user="test")
    assert paid + sum(x.beloep_oere for x in _lines(engine, aar=2016)) == TILSKUDD_2016
    engine.dispose()


def test_the_command_names_every_problem_per_row_and_stores_nothing(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'sio.db'}"
    env = {"SIO_DATABASE_URL": url, "SIO_LANG": "nb"}
    d = write_input(tmp_path / "d", _with_orgnr(small_world()))
    assert runner.invoke(app, ["importer", str(d)], env=env).exit_code == 0
    bad = _saldo_csv(
        tmp_path / "saldo.csv",
        [
            "9001,2016,3000000.001,6",
            "901,16,tre millioner,13",
            "9001,2016,1000,2017-05",
            "9002,2016,5,",
        ],
    )
    r = runner.invoke(app, ["utbetaling", "inngaende-saldo", str(bad)], env=env)
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        "saldo.csv:2: utbetalt_kr: ikke et beløp i kroner med høyst to desimaler: '3000000.001'",
        "saldo.csv:3: kommunenummer: ikke et kommunenummer (fire sifre): '901'",
        "saldo.csv:3: aar: ikke et år (ÅÅÅÅ): '16'",
        "saldo.csv:3: utbetalt_kr: ikke et beløp i kroner med høyst to desimaler: 'tre millioner'",
        "saldo.csv:3: til_og_med_maaned: må være en måned fra 1 til 11 (et helt år utbetalt før "
        "utbetalingsboken gjøres opp av systemet som betalte det): '13'",
        "saldo.csv:4: til_og_med_maaned: måneden '2017-05' er ikke i radens år 2016",
        "saldo.csv:4: 9001 2016 er oppgitt to ganger (også på rad 2)",
        "Ingenting ble lagret.",
    ]
    # the rows are well-formed, but 9002 is no municipality of the store: still nothing stored
    _saldo_csv(bad, ["9001,2016,3000000,6", "9002,2016,5,6"])
    r = runner.invoke(app, ["utbetaling", "opening-balance", str(bad)], env=env)  # English alias
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        "saldo.csv:3: kommunenummer: ingen kommune 9002 i databasens data",
        "Ingenting ble lagret.",
    ]
    # a missing amount column names the header line
    _saldo_csv(bad, ["9001,2016,6"], header="kommunenummer,aar,til_og_med_maaned")
    r = runner.invoke(app, ["utbetaling", "inngaende-saldo", str(bad)], env=env)
    assert r.stderr.splitlines()[0] == (
        "saldo.csv:1: utbetalt_kr: påkrevd kolonne mangler (utbetalt_kr i kroner eller "
        "utbetalt_oere i øre)"
    )
    r = runner.invoke(app, ["utbetaling", "status", "--aar", "2016"], env=env)
    assert r.exit_code == 2  # no run, no balance: nothing covers 2016
    engine = _engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inngaende_saldo")).scalar() == 0
    engine.dispose()


def test_an_xlsx_with_a_title_and_a_norwegian_csv_are_read(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'sio.db'}"
    env = {"SIO_DATABASE_URL": url, "SIO_LANG": "nb", "COLUMNS": "80"}
    w = _with_orgnr(small_world())
    d = write_input(tmp_path / "d", w)
    assert runner.invoke(app, ["importer", str(d)], env=env).exit_code == 0
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Utbetalt før"
    sheet.cell(1, 1, "Utbetalt av det gamle systemet")
    for j, v in enumerate(["kommunenummer", "aar", "utbetalt_oere", "til_og_med_maaned"], 1):
        sheet.cell(3, j, v)
    sheet.cell(4, 1, 9001)  # Excel keeps codes as numbers
    sheet.cell(4, 2, 2016)
    sheet.cell(4, 3, "x")
    sheet.cell(4, 4, 6)
    book.save(tmp_path / "saldo.xlsx")
    r = runner.invoke(app, ["utbetaling", "inngaende-saldo", str(tmp_path / "saldo.xlsx")], env=env)
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == (
        "saldo.xlsx[Utbetalt før]:4: utbetalt_oere: ikke et helt antall øre: 'x'"
    )
    # the same in the Norwegian Excel dialect: semicolons, decimal comma, grouped thousands
    raw = "kommunenummer;aar;utbetalt_kr;til_og_med_maaned\r\n9001;2016;3 000 000,00;06\r\n"
    (tmp_path / "saldo.csv").write_bytes(raw.encode("cp1252"))
    r = runner.invoke(app, ["utbetaling", "inngaende-saldo", str(tmp_path / "saldo.csv")], env=env)
    assert r.exit_code == 0, r.output
    assert "│ 9001    │ 2016 │ 01 til 06 │      3 000 000,00 │" in r.stdout.replace("\xa0", " ")
    # stored once: a second file for the same year is refused, naming the stored one
    r = runner.invoke(app, ["utbetaling", "inngaende-saldo", str(tmp_path / "saldo.csv")], env=env)
    assert r.exit_code == 2
    said = r.stderr.replace("\xa0", " ").splitlines()
    assert said[0] == "saldo.csv: lest som semikolonseparert, UTF-8, CRLF"
    assert said[1].startswith(
        "saldo.csv:2: inngående saldo for 9001 i 2016 er lagret allerede (3 000 000,00 kr, "
        "fra saldo.csv:2, "
    )
    assert said[1].endswith("); lagret saldo endres aldri")
    # after the runs, status shows it beside the months (and as JSON)
    assert (
        runner.invoke(
            app,
            [
                "utbetaling",
                "kjor",
                "--fra",
                "2016-07",
                "--til",
                "2016-08",
                "--ut",
                str(tmp_path / "ut"),
            ],
            env=env,
        ).exit_code
        == 0
    )
    r = runner.invoke(app, ["utbetaling", "status", "--aar", "2016", "--format", "json"], env=env)
    (obj,) = json.loads(r.stdout)
    assert obj["inngaende_saldo"] == {
        "utbetalt_oere": PAID_BEFORE,
        "til_og_med_maaned": 6,
        "kilde": "saldo.csv:2",
        "rettighet_oere": MAY_JUNE,
        "utbetalt_med_avregning_oere": MAY_JUNE,
    }
    r = runner.invoke(app, ["utbetaling", "status", "--aar", "2016"], env=env)
    assert "│ saldo –06 │   2 444 906,41 │  2 444 906,41 │            0,00 │" in r.stdout.replace(
        "\xa0", " "
    )


def test_balances_are_append_only_and_cover_only_months_before_the_ledger(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    engine = _engine(store_url)
    import_path(engine, write_input(tmp_path / "d", _with_orgnr(small_world())), params)
    for m in (5, 6):
        run_month(engine, params, (2016, m), user="test")
    # the ledger pays May and June itself: a balance covering June is refused
    with pytest.raises(BalanceInvalid) as exc:
        register_balances(engine, _saldo_csv(tmp_path / "s.csv", ["9001,2016,1,6"]), user="t")
    assert str(exc.value) == (
        "s.csv:2: til_og_med_maaned: 2016-05 er allerede betalt av utbetalingsboken (kjøringen er "
        "gjort): inngående saldo dekker bare måneder før utbetalingsbokens første kjøring i 2016"
    )
    # a later year the ledger has not reached may still be taken over from elsewhere
    (b,) = register_balances(engine, _saldo_csv(tmp_path / "s.csv", ["9001,2017,1,2"]), user="t")
    assert (b.aar, b.til_og_med_maaned, b.utbetalt_oere) == (2017, 2, 100)
    for sql in ("UPDATE inngaende_saldo SET utbetalt_oere = 0", "DELETE FROM inngaende_saldo"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    engine.dispose()
