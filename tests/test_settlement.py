"""Settlement rules (scheme.md §3.6): worked examples by hand and properties over random
sequences of corrections, runs and final settlements."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import max_examples
from sio.rules.settlement import (
    RunContext,
    YearEntitlement,
    cumulative_shares,
    ledger_state,
    plan_final_settlement,
    plan_month_run,
    year_entitlement,
)
from sio.utbetaling.model import Postering

K = "3001"
ACT = "aktivitetstilskudd"
RUND = "rundsumtilskudd"


def ent(activity: list[int], rundsum_kr_year: Fraction = Fraction(4000)) -> YearEntitlement:
    act = dict(enumerate(activity, start=1))
    exact = {RUND: {m: rundsum_kr_year / 12 for m in range(1, 13)}}
    total = sum(activity)
    annual = {ACT: (total + 50) // 100, RUND: int(rundsum_kr_year + Fraction(1, 2))}
    return year_entitlement(K, 2020, act, exact, annual)


BASE = [10000, 12000, 9000, 10000, 10000, 10000, 10000, 10000, 10000, 10000, 10000, 10049]


def by_key(lines: list[Postering]) -> dict[tuple[int | None, str], tuple[str, int]]:
    return {(p.maaned, p.komponent): (p.art, p.beloep_oere) for p in lines}


def test_cumulative_shares_of_a_third() -> None:
    # 1000/3 kr a month = 33 333.33… øre: cumulative rounding gives 33333, 33334, 33333, …
    shares = cumulative_shares({m: Fraction(1000, 3) for m in range(1, 13)})
    assert [shares[m] for m in range(1, 7)] == [33333, 33334, 33333, 33333, 33334, 33333]
    assert sum(shares.values()) == 400000


def test_rounding_line_brings_the_year_to_whole_kroner() -> None:
    e = ent(BASE)
    # activity 121 049 øre = 1 210.49 kr → 1 210 kr: the rounding line is −49 øre
    assert e.rounding == {ACT: -49}
    assert e.annual_oere == 121000 + 400000


def test_a_year_by_hand() -> None:
    ledger: list[Postering] = []
    v1 = {(K, 2020): ent(BASE)}
    ctx1 = RunContext(1, "p-a")

    def run(month: int, ents: dict[tuple[str, int], YearEntitlement], ctx: RunContext) -> dict:
        lines = plan_month_run(
            (2020, month), ents, ledger_state(ledger), frozenset(), 1, ctx, (2020, 1)
        )
        ledger.extend(lines)
        return by_key(lines)

    # January: no reported month yet, so the advance is the month's own figure from the
    # decisions in force; the lump sum's first share is 33 333 øre
    assert run(1, v1, ctx1) == {(1, ACT): ("akonto", 10000), (1, RUND): ("maanedsandel", 33333)}
    # February: January is settled (actual = advance: a settlement line of 0), the advance is
    # January's activity
    assert run(2, v1, ctx1) == {
        (1, ACT): ("avregning", 0),
        (2, ACT): ("akonto", 10000),
        (2, RUND): ("maanedsandel", 33334),
    }
    # March: February settles 12 000 − 10 000; the advance is February's 12 000
    assert run(3, v1, ctx1) == {
        (2, ACT): ("avregning", 2000),
        (3, ACT): ("akonto", 12000),
        (3, RUND): ("maanedsandel", 33333),
    }
    # a correction of January (version 2: 11 000 øre) arrives before April's run
    v2 = {(K, 2020): ent([11000, *BASE[1:]])}
    ctx2 = RunContext(2, "p-a")
    lines = plan_month_run((2020, 4), v2, ledger_state(ledger), frozenset(), 1, ctx2, (2020, 1))
    ledger.extend(lines)
    got = by_key(lines)
    assert got == {
        (1, ACT): ("korreksjon", 1000),
        (3, ACT): ("avregning", -3000),
        (4, ACT): ("akonto", 9000),
        (4, RUND): ("maanedsandel", 33333),
    }
    corr = next(p for p in lines if p.art == "korreksjon")
    assert (corr.forrige_data_versjon, corr.data_versjon) == (1, 2)
    # the same run planned again posts nothing
    assert (
        plan_month_run((2020, 4), v2, ledger_state(ledger), frozenset(), 1, ctx2, (2020, 1)) == []
    )
    for month in range(5, 13):
        run(month, v2, ctx2)
    # after December's run: December is still at its advance (November's 10 000)
    paid_dec = sum(p.beloep_oere for p in ledger if p.maaned == 12 and p.komponent == ACT)
    assert paid_dec == 10000
    final = plan_final_settlement(2020, v2, ledger_state(ledger), ctx2)
    assert by_key(final) == {(12, ACT): ("etteroppgjoer", 49), (None, ACT): ("avrunding", -49)}
    ledger.extend(final)
    # the year: activity 122 049 øre → 1 220 kr, lump sum 4 000 kr
    assert sum(p.beloep_oere for p in ledger) == 122000 + 400000
    # January 2021's run settles nothing more for 2020
    nxt = plan_month_run((2021, 1), v2, ledger_state(ledger), frozenset({2020}), 1, ctx2, (2020, 1))
    assert nxt == []


def test_lag_two_keeps_the_advance_until_reported() -> None:
    ledger: list[Postering] = []
    v = {(K, 2020): ent(BASE)}
    ctx = RunContext(1, "p-a")
    for month in (1, 2, 3):
        lines = plan_month_run(
            (2020, month), v, ledger_state(ledger), frozenset(), 2, ctx, (2020, 1)
        )
        ledger.extend(lines)
    got = by_key(lines)
    # March with a lag of 2: January is settled (0), February keeps its advance, and March's
    # advance is January's activity (the latest reported month)
    assert got == {
        (1, ACT): ("avregning", 0),
        (3, ACT): ("akonto", 10000),
        (3, RUND): ("maanedsandel", 33333),
    }


def test_a_month_no_longer_activity_financed_is_taken_back() -> None:
    ledger: list[Postering] = []
    ctx = RunContext(1, "p-a")
    v1 = {(K, 2020): ent(BASE)}
    ledger.extend(plan_month_run((2020, 1), v1, {}, frozenset(), 1, ctx, (2020, 1)))
    # version 2: the municipality does not take part after all
    lines = plan_month_run(
        (2020, 2), {}, ledger_state(ledger), frozenset(), 1, RunContext(2, "p-a"), (2020, 1)
    )
    assert by_key(lines) == {(1, ACT): ("korreksjon", -10000), (1, RUND): ("korreksjon", -33333)}


# -- properties -------------------------------------------------------------------------------

CODES = ("1001", "1002", "1003")


Drawn = dict[tuple[str, int], tuple[int, dict[int, int]]]  # (annual øre, activity øre by month)


@st.composite
def entitlement_versions(
    draw: st.DrawFn,
) -> tuple[list[dict[tuple[str, int], YearEntitlement]], list[Drawn]]:
    """A few data versions of a two-year world: each version redraws some figures. Beside the
    entitlements, what was drawn: each year's annual figures in øre (the sum of the whole-krone
    components, known by construction) and the activity of each month."""
    n_versions = draw(st.integers(1, 4))
    versions = []
    drawn: list[Drawn] = []
    for _v in range(n_versions):
        ents: dict[tuple[str, int], YearEntitlement] = {}
        known: Drawn = {}
        for code in CODES:
            for year in (2020, 2021):
                if not draw(st.booleans()) and code != "1001":
                    continue
                start = draw(st.integers(1, 12))
                act_start = draw(st.integers(start, 13))
                act = {
                    m: draw(st.integers(0, 10**9)) for m in range(act_start, 13)
                }  # activity-financed months
                share = Fraction(draw(st.integers(0, 10**9)), draw(st.integers(1, 1000)))
                exact = {
                    RUND: {m: share for m in range(act_start, 13)},
                    "oeremerket_tilskudd": {m: share * 3 for m in range(start, act_start)},
                    "inntektspaaslag": {m: share / 7 for m in range(start, 13)},
                }
                exact = {k: v for k, v in exact.items() if v}
                annual = {
                    ACT: _round_kr(Fraction(sum(act.values()), 100)),
                    **{k: _round_kr(sum(v.values(), Fraction(0))) for k, v in exact.items()},
                }
                ents[(code, year)] = year_entitlement(code, year, act, exact, annual)
                known[(code, year)] = (100 * sum(annual.values()), act)
        versions.append(ents)
        drawn.append(known)
    return versions, drawn


def _round_kr(x: Fraction) -> int:
    from sio.money import round_half_away

    return round_half_away(x)


@settings(max_examples=max_examples(60), deadline=None)
@given(
    world=entitlement_versions(),
    data=st.data(),
    lag=st.integers(1, 3),
)
def test_after_final_settlement_the_year_is_paid_to_the_oere(
    world: tuple[list[dict[tuple[str, int], YearEntitlement]], list[Drawn]],
    data: st.DataObject,
    lag: int,
) -> None:
    """Whatever the order of advances, late corrections and runs: once a year is finally
    settled, its lines sum to its entitlement, and stay equal after every later run. The
    entitlement is the one drawn (annual figures known by construction), not only what
    `year_entitlement` makes of it; a reported month's activity is paid the drawn øre."""
    versions, drawn = world
    ledger: list[Postering] = []
    settled: set[int] = set()
    version = 0
    months = [(2020, m) for m in range(1, 13)] + [(2021, m) for m in range(1, 13)]
    for month in months:
        if data.draw(st.booleans()):  # a new data version before this run
            version = data.draw(st.integers(0, len(versions) - 1))
        ents = versions[version]
        ctx = RunContext(version + 1, "p-a")
        lines = plan_month_run(
            month, ents, ledger_state(ledger), frozenset(settled), lag, ctx, (2020, 1)
        )
        ledger.extend(lines)
        # planning the same run again posts nothing
        assert not plan_month_run(
            month, ents, ledger_state(ledger), frozenset(settled), lag, ctx, (2020, 1)
        )
        # reported months are paid exactly what the version gives
        reported = (month[0] * 12 + month[1] - 1 - lag) // 12, (month[1] - 1 - lag) % 12 + 1
        for (code, y), e in ents.items():
            for m, figures in e.months.items():
                if (y, m) <= reported:
                    for komp, value in figures.items():
                        paid = sum(
                            p.beloep_oere
                            for p in ledger
                            if (p.kommunenummer, p.aar, p.maaned, p.komponent) == (code, y, m, komp)
                        )
                        assert paid == value
                    if ACT in figures:
                        assert figures[ACT] == drawn[version][(code, y)][1][m]
        due_now = month >= (2021, 1) and 2020 not in settled
        if due_now and (data.draw(st.booleans()) or month == (2021, 12)):
            if data.draw(st.booleans()):
                version = data.draw(st.integers(0, len(versions) - 1))
            ents = versions[version]
            ctx = RunContext(version + 1, "p-a")
            ledger.extend(plan_final_settlement(2020, ents, ledger_state(ledger), ctx))
            settled.add(2020)
        if 2020 in settled:
            due = sum(e.annual_oere for (c, y), e in ents.items() if y == 2020)
            assert sum(p.beloep_oere for p in ledger if p.aar == 2020) == due
            known = sum(a for (c, y), (a, _act) in drawn[version].items() if y == 2020)
            assert sum(p.beloep_oere for p in ledger if p.aar == 2020) == known
    assert 2020 in settled
