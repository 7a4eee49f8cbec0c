"""Property: phase-outs paid plus phase-outs reported as not paid = phase-outs owed.

For random worlds of one municipality taking part in one to three spells between 2016 and 2024
(with gaps between them, the last one possibly open), the phase-outs the engine pays in a year
(exactly, before rounding) plus those it reports as ended equal the phase-outs owed by the
settled rules of interfaces.md §2 "Phase-out and output rows", computed here independently:
one exit per closed spell; in each of the three years after the exit year, the share of that year
× the supplement of the last calendar year up to the exit year with 12 participating months, else
the exit year's supplement × 12 / its participating months up to the exit. With the population
constant, uttrekk(y) = grunnlag × Π over t = base year + 1 … y of (1 + deflator(t)).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import max_examples, write_input
from sio.data.validation import load_input
from sio.engine import Engine
from sio.money import round_half_away
from sio.parameters import load_parameters

PARAMS = load_parameters()
FIRST, LAST = 2016, 2024  # participation lies within these years
YEARS = range(FIRST, LAST + 4)


def _month_index(y: int, m: int) -> int:
    return y * 12 + m - 1


@st.composite
def spell_worlds(draw: st.DrawFn) -> dict[str, Any]:
    """Spells as month indices [start, end] (end None = open), separated by ≥ 1 month."""
    cursor = _month_index(FIRST, 1) + draw(st.integers(0, 24))
    spells: list[tuple[int, int | None]] = []
    for _ in range(draw(st.integers(1, 3))):
        start = cursor
        end = start + draw(st.integers(0, 30))
        if end > _month_index(LAST, 12):
            break
        spells.append((start, end))
        cursor = end + 1 + draw(st.integers(1, 20))
        if cursor > _month_index(LAST, 12):
            break
    if spells and draw(st.booleans()):
        spells[-1] = (spells[-1][0], None)
    if not spells:
        spells = [(_month_index(FIRST, 5), _month_index(FIRST + 1, 6))]
    grunnlag = draw(st.integers(5_000_000, 2_000_000_000))
    return {"spells": spells, "grunnlag": grunnlag}


def _input(world: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for start, end in world["spells"]:
        fra = dt.date(start // 12, start % 12 + 1, 1)
        til = None
        if end is not None:
            nxt = end + 1
            til = dt.date(nxt // 12, nxt % 12 + 1, 1) - dt.timedelta(days=1)
        rows.append({"kommunenummer": "9001", "modell": "A", "fra": fra, "til": til})
    base_year = world["spells"][0][0] // 12 - 1
    pop = {"0-66": 8000, "67-79": 1200, "80-89": 500, "90+": 100}
    return {
        "kommuner": [
            {
                "kommunenummer": "9001",
                "navn": "Testby",
                "gyldig_fra": "1900-01-01",
                "aga_sone": "1",
                "reiseindeks": "0",
            }
        ],
        "deltakelse": rows,
        "utgifter": [
            {
                "kommunenummer": "9001",
                "aar": base_year,
                "kostra_funksjon": "253",
                "netto_driftsutgifter": world["grunnlag"],
            }
        ],
        "befolkning": [
            {"kommunenummer": "9001", "aar": y, "aldersgruppe": g, "antall": n}
            for y in range(base_year, LAST + 4)
            for g, n in pop.items()
        ],
        "vedtak": [],
        "toppfinansiering": [],
    }


def _owed(world: dict[str, Any]) -> dict[int, Fraction]:
    """The phase-outs owed per year, by the settled rules (independent of the engine)."""
    spells = world["spells"]
    months = {i for s, e in spells for i in range(s, (e if e is not None else 10**6) + 1)}
    base_year = spells[0][0] // 12 - 1

    def uttrekk(y: int) -> Fraction:
        u = Fraction(world["grunnlag"])
        for t in range(base_year + 1, y + 1):
            u *= 1 + PARAMS.number("uttrekk.deflator", dt.date(t, 1, 1))
        return u

    def supplement(y: int, upto: int = 12) -> tuple[Fraction, int]:
        total, n = Fraction(0), 0
        for mo in range(1, upto + 1):
            if _month_index(y, mo) in months:
                on = dt.date(y, mo, 1)
                sats = PARAMS.number("inntektspaaslag.sats", on)
                tak = PARAMS.number("inntektspaaslag.tak", on)
                total += min(sats * uttrekk(y), tak) / 12
                n += 1
        return total, n

    owed: dict[int, Fraction] = {}
    for _start, end in spells:
        if end is None:
            continue
        ey, em = end // 12, end % 12 + 1
        base = None
        for y in range(ey, FIRST - 1, -1):
            s, n = supplement(y)
            if n == 12:
                base = s
                break
        if base is None:
            s, n = supplement(ey, em)
            base = s * 12 / n
        for k in (1, 2, 3):
            share = PARAMS.number(f"inntektspaaslag.nedtrapping.aar_{k}", dt.date(ey + k, 1, 1))
            owed[ey + k] = owed.get(ey + k, Fraction(0)) + share * base
    return owed


@settings(
    max_examples=max_examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spell_worlds())
def test_phase_outs_paid_plus_ended_equal_owed(
    tmp_path_factory: Any, world: dict[str, Any]
) -> None:
    tmp: Path = tmp_path_factory.mktemp("w")
    data, _ = load_input(write_input(tmp, _input(world)), PARAMS)
    engine = Engine(data, PARAMS)
    owed = _owed(world)
    open_end = _month_index(YEARS[-1], 12)
    months = {
        i for s, e in world["spells"] for i in range(s, (e if e is not None else open_end) + 1)
    }
    participating = {i // 12 for i in months}
    for year in YEARS:
        result = engine.compute_year(year)
        paid = Fraction(0)
        for row in result.rows:
            if row.result.modell == "utfasing":
                assert year not in participating or row.result.kommunenummer != "9001"
                paid += row.exact["inntektspaaslag"]
                assert row.result.inntektspaaslag == round_half_away(row.exact["inntektspaaslag"])
        ended = sum((e.amount for e in result.ended_phase_outs), Fraction(0))
        assert paid + ended == owed.get(year, Fraction(0)), (year, world)
        for e in result.ended_phase_outs:  # ended: it took part again after the exit, by now
            assert e.aar == year  # (re-entry later in the exit year ends it too: decision 0012)
            after_exit = range(_month_index(*e.exit) + 1, _month_index(year, 12) + 1)
            assert any(m in months for m in after_exit), (e, world)
