"""A vedtak line in an activity-financed month needs a unit price in force on the month's first
day (interfaces.md §2, "Validation that the output depends on"): checked on its own frames, and
again when a stored version is computed under other parameters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import yaml
from typer.testing import CliRunner

from conftest import write_input
from sio.cli import app
from sio.data.price_check import unpriced_vedtak
from sio.parameters import load_parameters
from test_cli import small_world

D = dt.date
PATH = "aktivitetstilskudd.enhetspris.HJSPL.STANDARD"


def _deltakelse(rows: list[tuple[str, str, dt.date, dt.date | None, dt.date]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "kommunenummer": pl.Utf8,
            "modell": pl.Utf8,
            "fra": pl.Date,
            "til": pl.Date,
            "aktivitet_fra": pl.Date,
        },
        orient="row",
    )


def _vedtak(rows: list[tuple[int, str, dt.date, dt.date | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(line, k, "HJSPL", "STANDARD", fra, til) for line, k, fra, til in rows],
        schema={
            "line": pl.Int64,
            "kommunenummer": pl.Utf8,
            "tjeneste": pl.Utf8,
            "prisgruppe": pl.Utf8,
            "fra": pl.Date,
            "til": pl.Date,
        },
        orient="row",
    )


DELTAKELSE = _deltakelse(
    [
        ("9001", "A", D(2017, 1, 1), None, D(2017, 1, 1)),
        ("9002", "B", D(2017, 1, 1), None, D(2017, 1, 1)),  # model B: no activity financing
        ("9003", "A", D(2017, 1, 1), None, D(2017, 9, 1)),  # activity financed from September
    ]
)


def test_months_before_the_first_price_are_errors_and_the_month_is_named() -> None:
    params = load_parameters().with_overrides({PATH: {D(2017, 7, 1): 700}})
    vedtak = _vedtak(
        [
            (2, "9001", D(2017, 3, 10), D(2017, 3, 20)),  # March: no price on 1 March
            (3, "9001", D(2017, 8, 1), None),  # from August: priced
            (4, "9001", D(2017, 6, 20), D(2017, 7, 5)),  # June has a line, no price on 1 June
            (5, "9002", D(2017, 2, 1), D(2017, 3, 1)),  # model B: no line, no rule
            (6, "9003", D(2017, 5, 1), D(2017, 10, 31)),  # financed Sep–Oct only: priced
            (7, "9001", D(2016, 1, 1), D(2016, 12, 31)),  # before participation: no line
        ]
    )
    bad = unpriced_vedtak(vedtak, DELTAKELSE, params)
    assert bad.select("line", "_maaned").rows() == [(2, D(2017, 3, 1)), (4, D(2017, 6, 1))]


def test_a_price_series_that_ends_is_an_error_from_its_end() -> None:
    params = load_parameters().with_overrides({PATH: {D(2016, 1, 1): 720, D(2018, 1, 1): None}})
    vedtak = _vedtak(
        [(2, "9001", D(2017, 8, 1), None), (3, "9001", D(2017, 2, 1), D(2017, 12, 31))]
    )
    bad = unpriced_vedtak(vedtak, DELTAKELSE, params)
    assert bad.select("line", "_maaned").rows() == [(2, D(2018, 1, 1))]


def test_the_default_prices_need_no_join_and_find_nothing() -> None:
    vedtak = _vedtak([(2, "9001", D(2017, 3, 10), None)])
    assert unpriced_vedtak(vedtak, DELTAKELSE, load_parameters()).is_empty()


def test_a_stored_version_is_checked_again_under_other_prices(tmp_path: Path) -> None:
    """small_world: model A from 2016-05, HJSPL 7 h/week from 2016-01-01 (vedtak.csv line 2).
    Stored, it computes; with HJSPL priced only from 2016-07-01 its May and June lines have no
    price, so compute --db refuses it, naming the stored version's row, the field and the first
    month."""
    env = {"SIO_DATABASE_URL": f"sqlite:///{tmp_path / 'sio.db'}"}
    runner = CliRunner()
    d = write_input(tmp_path / "d", small_world())
    assert runner.invoke(app, ["import", str(d)], env=env).exit_code == 0
    args = ["compute", "--db", "--year", "2016", "--format", "json"]
    assert runner.invoke(app, args, env=env).exit_code == 0
    override = tmp_path / "later.yaml"
    override.write_text(yaml.safe_dump({PATH: {"2016-07-01": 720}}), encoding="utf-8")
    res = runner.invoke(app, [*args, "--override", str(override)], env=env)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "versjon 1:2: prisgruppe: ingen enhetspris for HJSPL STANDARD i kraft 2016-05-01" in text
