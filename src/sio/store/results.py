"""Stored results: every computed row with the data version and parameter version behind it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, insert

from sio.engine import YearResult
from sio.store.schema import result


def store_results(engine: Engine, year_result: YearResult, data_version: int) -> int:
    """Store the rows of a computed year; returns how many were stored."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "beregnet": now,
            "data_versjon": data_version,
            "parameter_versjon": year_result.params_version,
            "aar": year_result.year,
            "kommunenummer": r.kommunenummer,
            "rad": r.to_dict(),
        }
        for r in year_result.results
    ]
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(result), rows)
    return len(rows)
