"""The read of an input folder started ahead of its validation (`ReadAhead`, which `sio compute
--data` starts before it imports the engine): the same tables, problems and notices as the read
there and then, the notices said only when the result is taken, an error raised in the caller's
thread, and the messages in the caller's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_input
from sio import i18n
from sio.data import readers
from sio.data.readers import RawInput, ReadAhead, read_for_loading
from sio.data.tables import TABLE_BY_NAME
from sio.data.validation import load_input
from sio.parameters import ParameterSet
from test_cli import small_world


def _same_read(a: RawInput, b: RawInput) -> None:
    assert a.directory == b.directory
    assert a.read_errors == b.read_errors
    assert list(a.tables) == list(b.tables)
    for name, table in a.tables.items():
        other = b.tables[name]
        assert (table.file, table.native, table.first_line) == (
            other.file,
            other.native,
            other.first_line,
        )
        assert table.frame.equals(other.frame, null_equal=True)


def _with_notices(directory: Path) -> Path:
    """The small world with a semicolon-separated table (Norwegian Excel's way) and a table that
    has only its header: two notices, in the order of the tables."""
    d = write_input(directory, small_world())
    kommuner = (d / "kommuner.csv").read_text(encoding="utf-8")
    assert ";" not in kommuner
    (d / "kommuner.csv").write_text(kommuner.replace(",", ";"), encoding="utf-8")
    header = ",".join(TABLE_BY_NAME["toppfinansiering"].columns)
    (d / "toppfinansiering.csv").write_text(header + "\n", encoding="utf-8")
    return d


@pytest.mark.parametrize("evaluation", [True, False])
def test_the_same_tables_and_problems_as_the_read_there_and_then(
    tmp_path: Path, evaluation: bool
) -> None:
    d = write_input(tmp_path / "d", small_world())
    (d / "vedtak.csv").unlink()  # a problem of the read: a required file is missing
    _same_read(ReadAhead(d, evaluation).result(), read_for_loading(d, evaluation))


def test_notices_are_said_when_the_result_is_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _with_notices(tmp_path / "d")
    read_for_loading(d)
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 2
    assert said[0].startswith("kommuner.csv: ")
    assert said[1].startswith("toppfinansiering.csv: ")

    ahead = ReadAhead(d)
    ahead._thread.join()  # the read is done, but its caller has not taken it yet
    assert capsys.readouterr().err == ""
    ahead.result()
    assert capsys.readouterr().err.splitlines() == said
    ahead.result()  # said once
    assert capsys.readouterr().err == ""


def test_an_error_of_the_read_is_raised_by_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> RawInput:
        raise OSError("the disk is gone")

    monkeypatch.setattr(readers, "read_input_dir", broken)
    ahead = ReadAhead(tmp_path)
    with pytest.raises(OSError, match="the disk is gone"):
        ahead.result()


def test_messages_are_in_the_callers_language(tmp_path: Path) -> None:
    d = write_input(tmp_path / "d", small_world())
    (d / "vedtak.csv").unlink()
    with i18n.language("en"):
        english = ReadAhead(d).result().read_errors
    with i18n.language("nb"):
        norwegian = ReadAhead(d).result().read_errors
    assert english == [("vedtak.csv", "required file is missing (CSV, Parquet or Excel sheet)")]
    assert norwegian != english and norwegian[0][0] == "vedtak.csv"


def test_load_input_takes_the_read_ahead(
    tmp_path: Path, params: ParameterSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = write_input(tmp_path / "d", small_world())
    direct, direct_problems = load_input(d, params, evaluation=False)
    ahead = ReadAhead(d, evaluation=False)
    ahead.result()
    calls: list[object] = []

    def taken() -> RawInput:
        calls.append(1)
        return read_for_loading(d, False)

    monkeypatch.setattr(ahead, "result", taken)
    loaded, problems = load_input(d, params, evaluation=False, ahead=ahead)
    assert calls == [1]  # taken, not read again
    assert problems == direct_problems
    for name in ("kommuner", "deltakelse", "utgifter", "befolkning", "vedtak", "vedtak_groups"):
        assert getattr(loaded, name).equals(getattr(direct, name)), name
    # a read ahead without the evaluation's tables is not taken by a load with them
    again, _p = load_input(d, params, evaluation=True, ahead=ahead)
    assert again.vedtak.equals(direct.vedtak)
    assert calls == [1]


def test_a_folder_that_is_not_there(tmp_path: Path) -> None:
    raw = ReadAhead(tmp_path / "nowhere").result()
    assert raw.tables == {} and [f for f, _m in raw.read_errors] == [str(tmp_path / "nowhere")]
