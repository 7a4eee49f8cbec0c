"""Tests for the mutants that survived the mutation run of the engine and the activity kernel of
commit d4b6be2 (docs/mutation-testing.md, "The engine and the kernel of d4b6be2"). Expected
figures are worked out by hand from scheme.md §3.3, interfaces.md §2, decision 0025 and the
default parameters in src/sio/params."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from fractions import Fraction
from pathlib import Path

from sio.engine import Engine
from sio.parameters import DatedValue, ParameterSet
from test_mutation_gaps_engine import _world_2018

REF = "aktivitetstilskudd.aga.referansesats"
ZONE_1 = "aktivitetstilskudd.aga.sats.sone_1"


def test_the_collector_runs_again_after_a_year(tmp_path: Path) -> None:
    """Decision 0025: `compute_year` pauses the cyclic garbage collector for its own duration and
    leaves it as it found it — enabled again when it was enabled, still disabled when the caller
    had disabled it. The year is the one of `_world_2018` with one price of 800 kr from
    2018-01-01: 365 days × 1 hour × 800 kr = 292 000 kr."""
    data, params = _world_2018(tmp_path, {dt.date(2018, 1, 1): 800})
    engine = Engine(data, params)
    was = gc.isenabled()
    try:
        gc.enable()
        row = engine.compute_year(2018).get("9001")
        assert row is not None and row.result.aktivitetstilskudd == 292_000
        assert gc.isenabled()
        gc.disable()
        engine.compute_year(2018)
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def _with_values(params: ParameterSet, changes: dict[str, list[DatedValue]]) -> ParameterSet:
    """`params` with the dated values of some paths replaced (evidence levels included, which an
    override file cannot set: its values are all of the level `override`)."""
    tree = {p: params.get(p) for p in params.paths()}
    for path, values in changes.items():
        tree[path] = dataclasses.replace(tree[path], values=tuple(values))
    return ParameterSet(tree, source=f"{params.source}+test")


def test_an_estimate_of_january_only_behind_a_zone_s_employer_tax(tmp_path: Path) -> None:
    """interfaces.md §2: a row lists the estimated parameters its figures rest on. The reference
    rate of the employer tax (0.141, an estimate in the default tree) and zone 1's rate (0.141,
    confirmed) are given new values from 1 February 2018, equal but confirmed: k_aga of zone 1
    rests on an estimate in January 2018 only. The vedtak of `_world_2018` from 2018-02-01 has
    lines February–December only, so the row's activity does not rest on the estimate. k_aga =
    1 (the rate equals the reference rate) in every month: 334 days × 1 hour × 800 kr = 267 200
    kr. In the default tree the reference rate is an estimate all year, and is listed."""
    data, params = _world_2018(tmp_path / "default", {dt.date(2018, 1, 1): 800}, "2018-02-01")
    row = Engine(data, params).compute_year(2018).get("9001")
    assert row is not None and row.result.aktivitetstilskudd == 267_200
    assert REF in row.result.estimerte_parametere

    rate = Fraction(141, 1000)
    refs = params.get(REF).values[0].references
    changed = _with_values(
        params,
        {
            REF: [
                DatedValue(dt.date(2015, 1, 1), rate, "estimate", refs),
                DatedValue(dt.date(2018, 2, 1), rate, "confirmed", refs),
            ],
            ZONE_1: [
                DatedValue(dt.date(2015, 1, 1), rate, "confirmed", refs),
                DatedValue(dt.date(2018, 2, 1), rate, "confirmed", refs),
            ],
        },
    )
    row = Engine(data, changed).compute_year(2018).get("9001")
    assert row is not None and row.result.aktivitetstilskudd == 267_200
    assert REF not in row.result.estimerte_parametere
    assert ZONE_1 not in row.result.estimerte_parametere
