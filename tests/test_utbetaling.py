"""Payment runs on the store (SQLite and PostgreSQL): a year paid month by month, corrected and
finally settled, with figures worked out by hand; the order rules; append-only enforcement; a run
killed halfway; two runs at once; the commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from typer.testing import CliRunner

from conftest import max_examples, write_input
from sio.cli import app
from sio.money import round_half_away
from sio.parameters import ParameterSet
from sio.store import ledger
from sio.store.db import make_engine, migrate
from sio.store.versions import import_path
from sio.utbetaling.run import PaymentError, run_final_settlement, run_month, status
from test_cli import small_world
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)

ORGNR = "998877660"  # weights 3 2 7 6 5 4 3 2 give 242 = 22 × 11, so the check digit is 0
DAY = 72_000  # øre: 1 hour a day (7 h/week) × 720 kr, k = 1 (test_cli.small_world)
DAYS_2016 = {5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _uttrekk_2016() -> Fraction:
    # test_cli.small_world: 100 000 000 × 1.027 × 103 200 000 / 103 000 000
    return Fraction(100_000_000) * Fraction(1027, 1000) * Fraction(103_200_000, 103_000_000)


def _cumulative(month_kr: Fraction, months: list[int]) -> dict[int, int]:
    out, paid = {}, 0
    for i, m in enumerate(months, start=1):
        now = round_half_away(month_kr * i * 100)
        out[m] = now - paid
        paid = now
    return out


def _engine(url: str) -> Any:
    engine = make_engine(url)
    migrate(engine)
    return engine


def _with_orgnr(world: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    world["kommuner"] = [dict(world["kommuner"][0], organisasjonsnummer=ORGNR)]
    return world


def _lines(engine: Any, **kw: Any) -> list[Any]:
    with engine.connect() as conn:
        return ledger.postings(conn, **kw)


def test_a_year_paid_corrected_and_settled(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    engine = _engine(store_url)
    import_path(engine, write_input(tmp_path / "v1", small_world()), params)
    # the ledger starts with a January; before May the municipality does not take part
    for m in range(1, 5):
        out = run_month(engine, params, (2016, m), user="test")
        assert out.new and out.lines == []
    # May has money, but the municipality has no organisation number: refused, nothing posted
    with pytest.raises(PaymentError, match="organisasjonsnummer"):
        run_month(engine, params, (2016, 5), user="test")
    assert _lines(engine) == []
    import_path(engine, write_input(tmp_path / "v2", _with_orgnr(small_world())), params)
    may = run_month(engine, params, (2016, 5), user="test")
    got = {(p.komponent, p.art): p.beloep_oere for p in may.lines}
    uttrekk = _uttrekk_2016()
    rund = _cumulative(uttrekk / 12 / 10, list(DAYS_2016))
    supp = _cumulative(uttrekk / 12 * Fraction(4, 100), list(DAYS_2016))
    # no earlier activity: May's advance is what the decision in force gives for May
    assert got == {
        ("aktivitetstilskudd", "akonto"): 31 * DAY,
        ("rundsumtilskudd", "maanedsandel"): rund[5],
        ("inntektspaaslag", "maanedsandel"): supp[5],
    }
    assert all(p.data_versjon == 2 and p.parameter_versjon == params.version for p in may.lines)
    june = run_month(engine, params, (2016, 6), user="test")
    got = {(p.maaned, p.komponent, p.art): p.beloep_oere for p in june.lines}
    assert got[(5, "aktivitetstilskudd", "avregning")] == 0  # May: actual = advance
    assert got[(6, "aktivitetstilskudd", "akonto")] == 31 * DAY  # May's activity
    july = run_month(engine, params, (2016, 7), user="test")
    got = {(p.maaned, p.komponent, p.art): p.beloep_oere for p in july.lines}
    assert got[(6, "aktivitetstilskudd", "avregning")] == 30 * DAY - 31 * DAY
    assert got[(7, "aktivitetstilskudd", "akonto")] == 30 * DAY
    # the same month again: nothing more, and it says which run it was
    again = run_month(engine, params, (2016, 7), user="test")
    assert not again.new and again.kjoring.id == july.kjoring.id
    assert len(_lines(engine)) == len(may.lines) + len(june.lines) + len(july.lines)
    # order: a month cannot be skipped, and the final settlement needs December
    with pytest.raises(PaymentError, match="2016-08"):
        run_month(engine, params, (2016, 9), user="test")
    with pytest.raises(PaymentError, match="2016-12"):
        run_final_settlement(engine, params, 2016, user="test")
    for m in range(8, 13):
        run_month(engine, params, (2016, m), user="test")
    paid = sum(p.beloep_oere for p in _lines(engine, aar=2016))
    # December is still at its advance (November's 30 days); everything else is as due
    due_so_far = (sum(DAYS_2016.values()) - 31 + 30) * DAY + sum(rund.values()) + sum(supp.values())
    assert paid == due_so_far
    # a correction after December: the decision was 14 hours a week all along
    w = _with_orgnr(small_world())
    w["vedtak"][0]["omfang"] = "14"
    import_path(engine, write_input(tmp_path / "v3", w), params)
    final = run_final_settlement(engine, params, 2016, user="test")
    lines = {(p.maaned, p.komponent): (p.art, p.beloep_oere) for p in final.lines}
    for m, days in DAYS_2016.items():
        before = days * DAY if m < 12 else 30 * DAY
        assert lines[(m, "aktivitetstilskudd")] == ("etteroppgjoer", 2 * days * DAY - before)
    # hand: 9 780 345 kr (test_cli.EXPECTED_2016) + 176 400 kr more activity
    assert sum(p.beloep_oere for p in _lines(engine, aar=2016)) == (9_780_345 + 176_400) * 100
    # every line records run, time, user, versions and a reason
    for p in _lines(engine):
        assert p.kjoring_id and p.begrunnelse and p.data_versjon in (2, 3)
        assert p.parameter_versjon == params.version
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT opprettet, bruker FROM postering")).fetchall()
    assert rows and all(r.opprettet is not None and r.bruker == "test" for r in rows)
    # the status agrees: nothing outstanding, and the lines came from versions 2 and 3
    (row,) = status(engine, params, 2016)
    assert (row.rettighet_oere, row.utbetalt_oere) == ((9_780_345 + 176_400) * 100,) * 2
    assert row.etteroppgjoer and row.months[0].maaned == 5
    assert row.months[-1].data_versjoner == [2, 3]
    # the settlement exists: a second call posts nothing
    assert not run_final_settlement(engine, params, 2016, user="test").new
    engine.dispose()


def test_the_ledger_refuses_update_and_delete(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    engine = _engine(store_url)
    import_path(engine, write_input(tmp_path / "d", _with_orgnr(small_world())), params)
    for m in range(1, 6):
        run_month(engine, params, (2016, m), user="test")
    statements = (
        "UPDATE postering SET beloep_oere = 0",
        "DELETE FROM postering",
        "UPDATE utbetalingskjoring SET periode = '2016-06'",
        "DELETE FROM utbetalingskjoring",
        "DELETE FROM parameter_versjon",
    )
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    # and the database itself refuses a second run of a month
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO utbetalingskjoring (art, periode, startet, bruker, data_versjon, "
                "parameter_versjon) SELECT art, periode, startet, bruker, data_versjon, "
                "parameter_versjon FROM utbetalingskjoring WHERE periode = '2016-05'"
            )
        )
    engine.dispose()


def _run_subprocess(url: str, month: str, hold: float, out: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, SIO_DATABASE_URL=url, SIO_TEST_HOLD_RUN=str(hold))
    return subprocess.Popen(
        [sys.executable, "-m", "sio.cli", "utbetaling", "kjor", "--maaned", month, "--out", out],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _count(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT count(*) FROM utbetalingskjoring")).scalar()
        lines = conn.execute(text("SELECT count(*) FROM postering")).scalar()
    engine.dispose()
    return int(runs or 0), int(lines or 0)


def test_a_run_killed_halfway_posts_nothing(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    engine = _engine(store_url)
    import_path(engine, write_input(tmp_path / "d", _with_orgnr(small_world())), params)
    for m in range(1, 6):
        run_month(engine, params, (2016, m), user="test")
    engine.dispose()
    before = _count(store_url)
    proc = _run_subprocess(store_url, "2016-06", 60, tmp_path / "out")
    deadline = time.monotonic() + 90
    inside = False
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if store_url.startswith("postgresql"):
            eng = make_engine(store_url)
            with eng.connect() as conn:
                inside = bool(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        )
                    ).scalar()
                )
            eng.dispose()
        else:
            inside = (tmp_path / "sio.db-journal").exists()
        if inside:
            time.sleep(1.0)  # the lines are written right after the lock is taken
            break
    assert inside and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _count(store_url) == before
    # and the month can then be run normally
    engine = _engine(store_url)
    assert run_month(engine, params, (2016, 6), user="test").new
    engine.dispose()


def test_two_runs_of_a_month_at_once_make_one(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    engine = _engine(store_url)
    import_path(engine, write_input(tmp_path / "d", _with_orgnr(small_world())), params)
    for m in range(1, 6):
        run_month(engine, params, (2016, m), user="test")
    engine.dispose()
    before = _count(store_url)
    procs = [_run_subprocess(store_url, "2016-06", 1.0, tmp_path / f"o{i}") for i in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    runs, lines = _count(store_url)
    assert runs == before[0] + 1
    assert lines == before[1] + 4  # May settled, June's advance, lump sum and supplement
    said = [o[0] for o in outs]
    assert sum("kjørt før" in s or "made before" in s for s in said) == 1, said


def test_the_commands(store_url: str, tmp_path: Path, params: ParameterSet) -> None:  # noqa: F811
    runner = CliRunner()
    env = {"SIO_DATABASE_URL": store_url, "SIO_LANG": "nb"}
    d = write_input(tmp_path / "d", _with_orgnr(small_world()))
    assert runner.invoke(app, ["import", str(d)], env=env).exit_code == 0
    out_dir = tmp_path / "ut"
    for m in range(1, 7):
        r = runner.invoke(
            app, ["utbetaling", "kjor", "--maaned", f"2016-{m:02d}", "--out", str(out_dir)], env=env
        )
        assert r.exit_code == 0, r.output
    csv_text = (out_dir / "utbetaling-2016-06.csv").read_text(encoding="utf-8")
    header, row = csv_text.splitlines()
    assert header == "kommunenummer,navn,organisasjonsnummer,beloep,periode,referanse"
    june = sum(p.beloep_oere for p in _lines(_engine(store_url), kjoring_id=6))
    assert row.split(",")[:5] == ["9001", "Testby", ORGNR, f"{june / 100:.2f}", "2016-06"]
    letter = (out_dir / "brev" / "9001.html").read_text(encoding="utf-8")
    assert "Testby" in letter and "@media print" in letter
    # a month out of order: exit 2 and a message naming the next month
    r = runner.invoke(app, ["utbetaling", "kjor", "--maaned", "2016-09"], env=env)
    assert r.exit_code == 2 and "2016-07" in r.output
    r = runner.invoke(app, ["utbetaling", "kjor", "--maaned", "2016-13"], env=env)
    assert r.exit_code == 2 and "2016-13" in r.output
    # status as JSON: whole kroner, per month
    r = runner.invoke(app, ["utbetaling", "status", "--aar", "2016", "--format", "json"], env=env)
    assert r.exit_code == 0, r.output
    (obj,) = json.loads(r.stdout)
    assert {k: obj[k] for k in ("kommunenummer", "aar")} == {"kommunenummer": "9001", "aar": 2016}
    assert [m["maaned"] for m in obj["maaneder"]] == [5, 6]
    may = obj["maaneder"][0]
    assert may["utbetalt_oere"] == may["rettighet_oere"]  # May is settled
    june_m = obj["maaneder"][1]
    # June: entitlement 30 days of activity, paid May's 31 days as advance
    assert june_m["rettighet_oere"] - june_m["utbetalt_oere"] == 30 * DAY - 31 * DAY
    assert obj["utestaaende"] == round_half_away(Fraction(-DAY, 100))
    assert obj["rettighet"] - obj["utbetalt"] == obj["utestaaende"]
    # explain the June settlement of May down to the vedtak line
    with _engine(store_url).connect() as conn:
        line = next(p for p in ledger.postings(conn, kjoring_id=6) if p.art == "avregning")
    r = runner.invoke(app, ["explain", "--postering", str(line.id)], env=env)
    assert r.exit_code == 0, r.output
    assert "V1" in r.output and "2016-05" in r.output
    assert "2\xa0232\xa0000" in r.output  # 31 days × 72 000 øre (Norwegian grouping)
    r = runner.invoke(app, ["utbetaling", "kjoringer", "--format", "json"], env=env)
    runs = json.loads(r.stdout)
    assert [x["periode"] for x in runs] == [f"2016-{m:02d}" for m in range(1, 7)]


@settings(
    max_examples=max_examples(8),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    corrections=st.dictionaries(
        st.integers(2, 13),  # before the run of this month (13: before the final settlement)
        st.tuples(st.sampled_from(["3.5", "7", "10.5", "14"]), st.integers(1, 28)),
        max_size=4,
    )
)
def test_any_sequence_of_corrections_ends_paid_to_the_oere(
    corrections: dict[int, tuple[str, int]],
    tmp_path_factory: pytest.TempPathFactory,
    params: ParameterSet,
) -> None:
    """Random corrections (new volume and start day of the decision, a second decision) between
    the runs of a year: after the final settlement the year is paid exactly the entitlement of
    the newest data version, as the engine computes it and as worked out by hand
    (`_tilskudd_2016_by_hand`)."""
    from sio.engine import Engine
    from sio.store.versions import load_version

    tmp = tmp_path_factory.mktemp("seq")
    engine = _engine(f"sqlite:///{tmp / 'sio.db'}")
    import_path(engine, write_input(tmp / "v0", _with_orgnr(small_world())), params)
    for m in range(1, 14):
        if m in corrections:
            omfang, day = corrections[m]
            w = _with_orgnr(small_world())
            w["vedtak"][0]["omfang"] = omfang
            w["vedtak"].append(dict(w["vedtak"][0], vedtak_id="V2", fra=f"2016-06-{day:02d}"))
            import_path(engine, write_input(tmp / f"v{m}", w), params)
        if m <= 12:
            run_month(engine, params, (2016, m), user="test")
    run_final_settlement(engine, params, 2016, user="test")
    data, _v = load_version(engine, params)
    (row,) = Engine(data, params).compute_year(2016).results
    paid = sum(p.beloep_oere for p in _lines(engine, aar=2016))
    assert paid == row.tilskudd * 100
    # … and what that is, worked out without the engine from the newest version's data
    newest = corrections[max(corrections)] if corrections else None
    assert paid == _tilskudd_2016_by_hand(newest) * 100
    engine.dispose()


def _tilskudd_2016_by_hand(correction: tuple[str, int] | None) -> int:
    """tilskudd 2016 of test_cli.small_world, or of its correction (V1 at `omfang` hours a week
    from 2016-01-01 plus V2, the same from 2016-06-`day`), by the hand formula of interfaces.md §2
    with the default parameters: lump sum 10 % and supplement 4 % of uttrekk × 8/12 (May–Dec;
    the cap of 25 mill. does not bind), each rounded once; activity = hours × 720 kr (zone 1, no
    travel index: k = 1). Every omfang drawn is a multiple of 3.5 h/week, so each month's line is
    days × omfang / 7 × 72 000 øre, whole øre, and the year's activity whole kroner."""
    u = _uttrekk_2016()
    lump = round_half_away(Fraction(10, 100) * u * 8 / 12)
    supplement = round_half_away(Fraction(4, 100) * u * 8 / 12)
    assert (lump, supplement) == (6_859_961, 2_743_984)  # test_cli.EXPECTED_2016
    may_to_dec = sum(DAYS_2016.values())  # 245 days
    if correction is None:
        hours = Fraction(7, 7) * may_to_dec
    else:
        omfang, day = correction
        v2_days = (30 - day + 1) + sum(d for m, d in DAYS_2016.items() if m > 6)
        hours = Fraction(omfang) / 7 * (may_to_dec + v2_days)
    activity = hours * 720
    assert activity.denominator == 1
    return int(activity) + lump + supplement


def test_a_parameter_change_is_corrected_and_explained(
    tmp_path: Path, params: ParameterSet
) -> None:
    """A run with an override (lump-sum share 12 % instead of 10 %) corrects the months already
    paid, names both parameter versions, and its lines can be explained with the stored
    override."""
    url = f"sqlite:///{tmp_path / 'sio.db'}"
    engine = _engine(url)
    import_path(engine, write_input(tmp_path / "d", _with_orgnr(small_world())), params)
    for m in range(1, 7):
        run_month(engine, params, (2016, m), user="test")
    override = tmp_path / "andel.yaml"
    override.write_text("rundsumtilskudd.andel:\n  2015-01-01: 0.12\n", encoding="utf-8")
    from sio.parameters import apply_override_file, read_override_file
    from sio.utbetaling.run import overrides_json

    changed = apply_override_file(params, override)
    july = run_month(
        engine,
        changed,
        (2016, 7),
        user="test",
        overrides=overrides_json(read_override_file(override)),
    )
    corr = {p.maaned: p for p in july.lines if p.art == "korreksjon"}
    assert sorted(corr) == [5, 6]
    uttrekk = _uttrekk_2016()
    before = _cumulative(uttrekk / 12 / 10, [5, 6])
    after = _cumulative(uttrekk / 12 * Fraction(12, 100), [5, 6])
    for m in (5, 6):
        assert corr[m].komponent == "rundsumtilskudd"
        assert corr[m].beloep_oere == after[m] - before[m]
        assert (corr[m].forrige_parameter_versjon, corr[m].parameter_versjon) == (
            params.version,
            changed.version,
        )
    r = CliRunner().invoke(
        app,
        ["explain", "--postering", str(corr[5].id)],
        env={"SIO_DATABASE_URL": url, "SIO_LANG": "nb"},
    )
    assert r.exit_code == 0, r.output
    assert changed.version in r.output and "rundsumtilskudd" in r.output
    engine.dispose()
