"""A file imported again after later corrections (a correction taken back): its rows become the
newest state in a new data version, on SQLite and PostgreSQL; the same file once more on top
of itself stores nothing."""

from __future__ import annotations

from pathlib import Path

from conftest import write_input
from sio.parameters import ParameterSet
from sio.store.db import make_engine, migrate
from sio.store.versions import import_path, list_versions, load_version
from test_cli import small_world
from test_store import store_url  # noqa: F401  (fixture: SQLite and PostgreSQL)


def _world(omfang: str) -> dict:  # type: ignore[type-arg]
    w = small_world()
    w["vedtak"][0]["omfang"] = omfang
    return w


def test_a_file_imported_again_after_a_correction_is_the_newest_state(
    store_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    engine = make_engine(store_url)
    migrate(engine)
    a = write_input(tmp_path / "a", _world("7"))
    b = write_input(tmp_path / "b", _world("14"))
    first = import_path(engine, a, params)
    second = import_path(engine, b, params)
    assert (first.versjon, first.ny, second.versjon, second.ny) == (1, True, 2, True)
    back = import_path(engine, a, params)  # the same bytes as version 1, on top of version 2
    assert (back.versjon, back.ny) == (3, True)
    assert {t: n for t, n in back.rader.items() if n} == {"vedtak": 1}  # V1 alone differs
    data, version = load_version(engine, params)
    assert version == 3
    (v1,) = data.vedtak.filter(data.vedtak["vedtak_id"] == "V1").iter_rows(named=True)
    assert float(v1["omfang"]) == 7.0
    again = import_path(engine, a, params)  # the same bytes on top of themselves: nothing new
    assert (again.versjon, again.ny) == (3, False)
    assert [v.versjon for v in list_versions(engine)] == [1, 2, 3]
    engine.dispose()
