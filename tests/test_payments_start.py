"""Payments from where the scheme starts (issue 11): the ledger may begin in the month the first
municipality joins (May 2016 for the first cohort) and the year still settles to its entitlement
to the øre; a start after money was due is refused; `utbetaling kjor --fra --til` runs
consecutive months in order and stops at the first refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_input
from sio.cli import app
from sio.parameters import ParameterSet
from sio.store.versions import import_path
from sio.utbetaling.run import PaymentError, run_final_settlement, run_month
from test_cli import small_world
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)
from test_utbetaling import (
    DAY,
    DAYS_2016,
    ORGNR,
    _cumulative,
    _engine,
    _lines,
    _uttrekk_2016,
    _with_orgnr,
)


def test_the_ledger_starts_in_may_2016_and_settles_to_the_oere(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    engine = _engine(store_url)
    import_path(engine, write_input(tmp_path / "d", _with_orgnr(small_world())), params)
    may = run_month(engine, params, (2016, 5), user="test")
    uttrekk = _uttrekk_2016()
    rund = _cumulative(uttrekk / 12 / 10, list(DAYS_2016))
    supp = _cumulative(uttrekk / 12 * 4 / 100, list(DAYS_2016))
    got = {(p.komponent, p.art): p.beloep_oere for p in may.lines}
    assert got == {  # the same first run as a ledger begun in January (test_utbetaling)
        ("aktivitetstilskudd", "akonto"): 31 * DAY,
        ("rundsumtilskudd", "maanedsandel"): rund[5],
        ("inntektspaaslag", "maanedsandel"): supp[5],
    }
    for m in range(6, 13):
        run_month(engine, params, (2016, m), user="test")
    run_final_settlement(engine, params, 2016, user="test")
    # hand: test_cli.EXPECTED_2016, tilskudd 176 400 + 6 859 961 + 0 + 2 743 984 kr
    assert sum(p.beloep_oere for p in _lines(engine, aar=2016)) == 9_780_345 * 100
    assert {p.maaned for p in _lines(engine, aar=2016)} - {None} == set(DAYS_2016)
    engine.dispose()


def test_a_start_after_money_was_due_is_refused(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    engine = _engine(store_url)
    import_path(engine, write_input(tmp_path / "d", _with_orgnr(small_world())), params)
    with pytest.raises(PaymentError) as exc:
        run_month(engine, params, (2016, 6), user="test")
    assert str(exc.value) == (
        "utbetalingsboken kan ikke starte i 2016-06: 9001 har krav på penger tidligere i 2016, "
        "som etteroppgjøret da ikke kunne betale fullt ut; start i 2016-05 eller tidligere, "
        "eller registrer det som ble utbetalt før med `sio utbetaling inngaende-saldo` "
        "(ingenting ble postert)"
    )
    assert _lines(engine) == []
    engine.dispose()


def test_kjor_fra_til_runs_the_months_in_order_and_stops_at_a_refusal(
    store_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    env = {"SIO_DATABASE_URL": store_url, "SIO_LANG": "nb"}
    d = write_input(tmp_path / "d", _with_orgnr(small_world()))
    assert runner.invoke(app, ["importer", str(d)], env=env).exit_code == 0
    out = tmp_path / "ut"
    args = ["utbetaling", "kjor", "--fra", "2016-05", "--til", "2016-07", "--ut", str(out)]
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    for m in ("2016-05", "2016-06", "2016-07"):
        assert (out / m / f"utbetaling-{m}.csv").is_file()
    engine = _engine(store_url)
    assert sorted({p.maaned for p in _lines(engine)}) == [5, 6, 7]
    # 2016-08 is next: a range from 2016-09 is refused before anything is posted
    r = runner.invoke(app, ["utbetaling", "kjor", "--fra", "2016-09", "--til", "2016-10"], env=env)
    assert r.exit_code == 2
    assert "neste måned som skal kjøres er 2016-08" in r.stderr.replace("\n", " ")
    assert sorted({p.maaned for p in _lines(engine)}) == [5, 6, 7]
    r = runner.invoke(app, ["utbetaling", "kjor", "--fra", "2016-09"], env=env)
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        "oppgi enten --maaned ÅÅÅÅ-MM eller både --fra ÅÅÅÅ-MM og --til ÅÅÅÅ-MM"
    )
    engine.dispose()


def test_the_payment_file_in_the_norwegian_excel_dialect(
    store_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    env = {"SIO_DATABASE_URL": store_url, "SIO_LANG": "nb"}
    d = write_input(tmp_path / "d", _with_orgnr(small_world()))
    assert runner.invoke(app, ["importer", str(d)], env=env).exit_code == 0
    out = tmp_path / "ut"
    args = ["utbetaling", "kjor", "--maaned", "2016-05", "--excel-csv", "--ut", str(out)]
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    uttrekk = _uttrekk_2016()
    may = (
        31 * DAY
        + _cumulative(uttrekk / 12 / 10, list(DAYS_2016))[5]
        + _cumulative(uttrekk / 12 * 4 / 100, list(DAYS_2016))[5]
    )
    kroner = f"{may // 100},{may % 100:02d}"
    raw = (out / "utbetaling-2016-05-excel.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, row = raw[3:].decode("utf-8").split("\r\n")[:2]
    assert header == "kommunenummer;navn;organisasjonsnummer;beloep;periode;referanse"
    assert row.split(";")[:5] == ["9001", "Testby", ORGNR, kroner, "2016-05"]
    # the documented payment file is written as always
    documented = (out / "utbetaling-2016-05.csv").read_text(encoding="utf-8").splitlines()
    assert documented[1].split(",")[3] == kroner.replace(",", ".")
