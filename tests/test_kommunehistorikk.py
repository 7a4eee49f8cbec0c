"""Municipality history: the shipped data, SSB's classification files, the `kommuner` table and
`sio kommune`.

Expected values are written from the real history (scheme.md §1 and the sources listed in
src/sio/data/kommunehistorikk.yaml), not from the code's output:

- Trøndelag, 2018-01-01: Stjørdal 1714 → 5035, Selbu 1664 → 5032, Oppdal 1634 → 5021.
- 2020-01-01: Hobøl 0138, Spydeberg 0123, Askim 0124, Eidsberg 0125, Trøgstad 0122 → Indre
  Østfold 3014; Os 1243 + Fusa 1241 → Bjørnafjorden 4624; Lillesand 0926 → 4215; Kristiansand
  1001 + Songdalen 1017 + Søgne 1018 → 4204; Fjell 1246 + Sund 1245 + Øygarden 1259 → 4626;
  Enebakk 0229 → 3028; Froland 0919 → 4214; Våler 0137 → 3018.
- 2024-01-01 (Viken split): 3014 → 3118, 3028 → 3220, 3018 → 3114.

tests/data/ssb/ holds small files in SSB's KLASS format (classification 131): the code lists of
2019 (codesAt, ISO-8859-1, ``;``) and 2020 (UTF-8, ``,``) for a few municipalities, and the change
table 2018–2020 (ISO-8859-1, ``;``) with the Trøndelag renumberings, Halden, Lillesand and the
Indre Østfold merger.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sio.cli.kommune import kommune_app
from sio.data.demo import write_demo_data
from sio.data.kommunehistorikk import (
    EARLIEST,
    AmbiguousCodeError,
    CodeChange,
    CodeNotValidError,
    CodeVersion,
    KommuneHistorikk,
    SsbFileError,
    UnknownCodeError,
)
from sio.data.registry import Registry

D = dt.date
SSB = Path(__file__).parent / "data" / "ssb"
INDRE_OSTFOLD_2019 = ["0122", "0123", "0124", "0125", "0138"]
RUNNER = CliRunner()


@pytest.fixture(scope="module")
def shipped() -> KommuneHistorikk:
    return KommuneHistorikk.shipped()


@pytest.fixture(scope="module")
def ssb() -> KommuneHistorikk:
    return KommuneHistorikk.from_ssb(
        [SSB / "kommuner_2019.csv", SSB / "kommuner_2020.csv"], [SSB / "endringer_2018_2020.csv"]
    )


# --- the shipped history --------------------------------------------------------------------


def test_hobol_is_indre_ostfold_3014_from_2020_and_3118_from_2024(
    shipped: KommuneHistorikk,
) -> None:
    assert shipped.code_on("0138", D(2019, 12, 31)) == "0138"
    assert shipped.code_on("0138", D(2020, 1, 1)) == "3014"
    assert shipped.code_on("0138", D(2023, 12, 31)) == "3014"
    assert shipped.code_on("0138", D(2024, 6, 1)) == "3118"
    assert shipped.successors("0138", D(2024, 1, 1)) == ["3118"]
    assert shipped.successors("0138", D(2021, 1, 1)) == ["3014"]


def test_indre_ostfold_has_the_five_municipalities_as_predecessors(
    shipped: KommuneHistorikk,
) -> None:
    assert shipped.predecessors("3014") == INDRE_OSTFOLD_2019
    assert shipped.predecessors("3118") == ["3014"]
    assert shipped.all_predecessors("3118") == [*INDRE_OSTFOLD_2019, "3014"]
    assert shipped.name("3014") == "Indre Østfold"


def test_stjordal_got_its_new_number_on_the_first_day_of_2018(shipped: KommuneHistorikk) -> None:
    assert shipped.successors("1714", D(2017, 12, 31)) == ["1714"]
    assert shipped.successors("1714", D(2018, 1, 1)) == ["5035"]
    assert shipped.valid_on("1714", D(2017, 12, 31))
    assert not shipped.valid_on("1714", D(2018, 1, 1))
    assert shipped.valid_on("5035", D(2018, 1, 1))
    assert not shipped.valid_on("5035", D(2017, 12, 31))
    assert shipped.code_on("1664", D(2019, 3, 1)) == "5032"
    assert shipped.code_on("1634", D(2019, 3, 1)) == "5021"  # Oppdal, control group


def test_the_2020_mergers_of_participants_and_control_group(shipped: KommuneHistorikk) -> None:
    assert shipped.predecessors("4624") == ["1241", "1243"]  # Fusa, Os → Bjørnafjorden
    assert shipped.predecessors("4225") == ["1027", "1032"]  # Audnedal, Lyngdal
    assert shipped.predecessors("4204") == ["1001", "1017", "1018"]  # Kristiansand
    assert shipped.predecessors("4626") == ["1245", "1246", "1259"]  # Øygarden
    renumbered = {
        "0926": "4215",  # Lillesand
        "0906": "4203",  # Arendal
        "0919": "4214",  # Froland
        "1247": "4627",  # Askøy
        "0528": "3442",  # Østre Toten
        "1018": "4204",  # Søgne
        "1246": "4626",  # Fjell
    }
    for old, new in renumbered.items():
        assert shipped.code_on(old, D(2021, 6, 1)) == new, old
    assert shipped.code_on("1851", D(2021, 6, 1)) == "1851"  # Lødingen kept its number


def test_the_2024_renumberings_after_viken(shipped: KommuneHistorikk) -> None:
    assert shipped.code_on("0229", D(2021, 6, 1)) == "3028"  # Enebakk
    assert shipped.code_on("0229", D(2024, 6, 1)) == "3220"
    assert shipped.code_on("0137", D(2021, 6, 1)) == "3018"  # Våler (Østfold)
    assert shipped.code_on("0137", D(2024, 6, 1)) == "3114"
    assert shipped.name("3220") == "Enebakk"


def test_every_participant_and_control_municipality_is_shipped(shipped: KommuneHistorikk) -> None:
    first_call = ["0138", "0926", "1714", "1243", "1664", "0123"]
    joined_2021 = ["4225", "3028", "4214", "1851", "4627", "4203"]
    control = ["0528", "1634", "1018", "1246", "0122", "0137"]
    for code in first_call:
        assert shipped.valid_on(code, D(2016, 5, 1)), code
    for code in joined_2021:
        assert shipped.valid_on(code, D(2021, 1, 1)), code
    for code in control:
        assert shipped.valid_on(code, D(2017, 1, 1)), code
    valid_2021 = shipped.codes_valid_on(D(2021, 6, 1))
    assert {"3014", "4215", "4624", "5032", "5035", *joined_2021} <= set(valid_2021)
    assert not set(valid_2021) & {"0138", "1714", "3118", "3220"}


def test_names_and_validity_of_versions(shipped: KommuneHistorikk) -> None:
    assert shipped.name("0138") == "Hobøl"
    assert shipped.name("0138", D(2019, 1, 1)) == "Hobøl"
    with pytest.raises(CodeNotValidError, match="0138"):
        shipped.name("0138", D(2020, 1, 1))
    assert shipped.versions("3014") == [
        CodeVersion("3014", D(2020, 1, 1), D(2023, 12, 31), "Indre Østfold")
    ]
    (hobol,) = shipped.versions("0138")
    assert hobol.valid_from == EARLIEST and not hobol.start_recorded
    assert shipped.versions("3118")[0].valid_to is None


def test_a_code_before_it_began_maps_back_to_its_single_predecessor(
    shipped: KommuneHistorikk,
) -> None:
    assert shipped.code_on("3118", D(2021, 6, 1)) == "3014"
    assert shipped.code_on("5035", D(2017, 6, 1)) == "1714"
    with pytest.raises(AmbiguousCodeError) as info:
        shipped.code_on("3118", D(2019, 6, 1))
    assert info.value.candidates == INDRE_OSTFOLD_2019
    assert "3118" in str(info.value) and "0138" in str(info.value)


def test_a_split_is_ambiguous_and_the_error_names_the_codes() -> None:
    # Snillfjord 5012 was divided between Heim, Hitra and Orkland on 2020-01-01.
    history = KommuneHistorikk(
        [
            CodeVersion("5012", EARLIEST, D(2019, 12, 31), "Snillfjord"),
            CodeVersion("5055", D(2020, 1, 1), None, "Heim"),
            CodeVersion("5056", D(2020, 1, 1), None, "Hitra"),
            CodeVersion("5059", D(2020, 1, 1), None, "Orkland"),
        ],
        [CodeChange(D(2020, 1, 1), "5012", new) for new in ("5055", "5056", "5059")],
    )
    assert history.successors("5012", D(2020, 1, 1)) == ["5055", "5056", "5059"]
    assert history.code_on("5012", D(2019, 6, 1)) == "5012"
    with pytest.raises(AmbiguousCodeError, match=r"5012.*5055, 5056, 5059") as info:
        history.code_on("5012", D(2020, 6, 1))
    assert info.value.candidates == ["5055", "5056", "5059"]
    assert history.predecessors("5056") == ["5012"]


def test_unknown_codes_and_codes_without_successor() -> None:
    history = KommuneHistorikk([CodeVersion("9998", D(2000, 1, 1), D(2009, 12, 31), "Gone")])
    with pytest.raises(UnknownCodeError, match="1234"):
        history.code_on("1234", D(2020, 1, 1))
    assert not history.valid_on("1234", D(2020, 1, 1))
    with pytest.raises(CodeNotValidError, match="9998"):
        history.code_on("9998", D(2020, 1, 1))


def test_a_history_from_versions_and_changes_dates_the_new_code() -> None:
    history = KommuneHistorikk(
        [CodeVersion("1739", EARLIEST, None, "Røyrvik")],
        [CodeChange(D(2018, 1, 1), "1739", "5043")],
    )
    assert history.versions("1739") == [CodeVersion("1739", EARLIEST, D(2017, 12, 31), "Røyrvik")]
    assert history.valid_on("5043", D(2018, 1, 1))
    assert not history.valid_on("5043", D(2017, 12, 31))


# --- SSB's files ----------------------------------------------------------------------------


def test_ssb_files_in_iso_8859_1_and_utf_8_with_either_separator(ssb: KommuneHistorikk) -> None:
    assert ssb.name("0138") == "Hobøl"  # ISO-8859-1, ";"
    assert ssb.name("3014") == "Indre Østfold"  # UTF-8, ","
    assert ssb.name("1714") == "Stjørdal"  # only in the change table
    assert ssb.predecessors("3014") == INDRE_OSTFOLD_2019
    assert ssb.code_on("0138", D(2020, 6, 1)) == "3014"
    assert ssb.code_on("0101", D(2020, 6, 1)) == "3001"
    assert ssb.successors("1714", D(2017, 12, 31)) == ["1714"]
    assert ssb.successors("1714", D(2018, 1, 1)) == ["5035"]
    assert ssb.valid_on("0138", D(2019, 12, 31))
    assert not ssb.valid_on("0138", D(2020, 1, 1))
    assert ssb.versions("3014") == [CodeVersion("3014", D(2020, 1, 1), None, "Indre Østfold")]
    # Neither file dates Oslo: valid from the conventional start, without end.
    assert ssb.versions("0301") == [CodeVersion("0301", EARLIEST, None, "Oslo")]
    assert ssb.codes_valid_on(D(2019, 6, 1)) == [
        "0101",
        *INDRE_OSTFOLD_2019,
        "0301",
        "0926",
        "1851",
        "5032",
        "5035",
    ]


def test_shipped_and_ssb_merged(shipped: KommuneHistorikk, ssb: KommuneHistorikk) -> None:
    both = shipped.merged(ssb)
    assert both.code_on("0138", D(2024, 6, 1)) == "3118"  # the 2024 change is shipped only
    assert both.versions("3014") == shipped.versions("3014")  # the end date is kept
    assert both.code_on("0101", D(2021, 1, 1)) == "3001"  # Halden is in SSB's files only
    assert both.predecessors("3014") == INDRE_OSTFOLD_2019
    assert set(shipped.codes()) | set(ssb.codes()) == set(both.codes())


def test_ssb_file_round_trip(shipped: KommuneHistorikk, tmp_path: Path) -> None:
    shipped.write_ssb(tmp_path / "koder.csv", tmp_path / "endringer.csv")
    header = (tmp_path / "koder.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith('"code";"parentCode";"level";"name"')
    assert KommuneHistorikk.from_ssb([tmp_path / "koder.csv"], [tmp_path / "endringer.csv"]) == (
        shipped
    )
    # KLASS's defaults: ISO-8859-1 and ",".
    shipped.write_ssb(tmp_path / "k.csv", tmp_path / "e.csv", encoding="iso-8859-1", separator=",")
    assert "Hobøl".encode("iso-8859-1") in (tmp_path / "k.csv").read_bytes()
    again = KommuneHistorikk.from_ssb([tmp_path / "k.csv"], [tmp_path / "e.csv"])
    assert again == shipped


def test_klass_valid_to_is_exclusive_and_range_edges_are_not_dates(tmp_path: Path) -> None:
    # A /codes download for 2019-01-01 – 2025-01-01: the first and last days are the request's.
    path = tmp_path / "codes_range.csv"
    path.write_text(
        '"code";"parentCode";"level";"name";"shortName";"presentationName";"validFrom";'
        '"validTo";"validFromInRequestedRange";"validToInRequestedRange";"notes"\n'
        '"0301";;"1";"Oslo";"";"";;;"2019-01-01";"2025-01-01";""\n'
        '"0138";;"1";"Hobøl";"";"";;;"2019-01-01";"2020-01-01";""\n'
        '"3014";;"1";"Indre Østfold";"";"";;;"2020-01-01";"2024-01-01";""\n'
        '"3118";;"1";"Indre Østfold";"";"";;;"2024-01-01";"2025-01-01";""\n',
        encoding="utf-8",
    )
    history = KommuneHistorikk.from_ssb([path])
    assert history.versions("0301") == [CodeVersion("0301", EARLIEST, None, "Oslo")]
    assert history.versions("0138") == [CodeVersion("0138", EARLIEST, D(2019, 12, 31), "Hobøl")]
    assert history.versions("3014") == [
        CodeVersion("3014", D(2020, 1, 1), D(2023, 12, 31), "Indre Østfold")
    ]
    assert history.versions("3118") == [CodeVersion("3118", D(2024, 1, 1), None, "Indre Østfold")]


def test_a_change_of_name_under_the_same_code(tmp_path: Path) -> None:
    path = tmp_path / "changes.csv"
    path.write_text(
        '"oldCode";"oldName";"oldShortName";"newCode";"newName";"newShortName";"changeOccurred"\n'
        '"1739";"Røyrvik";"";"1739";"Raarvihke Røyrvik";"";"2014-01-01"\n'
        '"1739";"Raarvihke Røyrvik";"";"5043";"Raarvihke Røyrvik";"";"2018-01-01"\n',
        encoding="utf-8",
    )
    history = KommuneHistorikk.from_ssb([], [path])
    assert history.name("1739", D(2013, 6, 1)) == "Røyrvik"
    assert history.name("1739", D(2014, 6, 1)) == "Raarvihke Røyrvik"
    assert history.code_on("1739", D(2019, 1, 1)) == "5043"
    assert history.predecessors("1739") == []


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        (
            "no_name.csv",
            '"code";"level"\n"0301";"1"\n',
            r"no_name\.csv:1: name:",
        ),
        (
            "bad_code.csv",
            '"code";"name"\n"0301";"Oslo"\n"01x1";"Halden"\n',
            r"bad_code\.csv:3: code:",
        ),
        (
            "lost_zero.csv",
            '"code","name"\n301,"Oslo"\n',
            r"lost_zero\.csv:2: code: .*0301",
        ),
        (
            "empty.csv",
            "",
            r"empty\.csv:1:",
        ),
        (
            "too_many.csv",
            '"code";"name"\n"0301";"Oslo";"extra"\n',
            r"too_many\.csv:2:",
        ),
    ],
)
def test_a_code_list_ssb_cannot_have_written_gives_file_line_and_column(
    tmp_path: Path, name: str, content: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SsbFileError, match=where) as info:
        KommuneHistorikk.from_ssb([path])
    assert info.value.path == path


def test_a_malformed_change_table_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "endringer.csv"
    path.write_bytes(
        (
            '"oldCode";"oldName";"newCode";"newName";"changeOccurred"\n'
            '"0138";"Hobøl";"3014";"Indre Østfold";"2020-01-01"\n'
            '"0123";"Spydeberg";"3014";"Indre Østfold";"2020-13-01"\n'
        ).encode("iso-8859-1")
    )
    with pytest.raises(SsbFileError, match=r"endringer\.csv:3: changeOccurred:") as info:
        KommuneHistorikk.from_ssb([], [path])
    assert (info.value.line, info.value.column) == (3, "changeOccurred")
    path.write_text('"oldCode";"newCode"\n"0138";"3014"\n', encoding="utf-8")
    with pytest.raises(SsbFileError, match=r"endringer\.csv:1: changeOccurred:"):
        KommuneHistorikk.from_ssb([], [path])
    with pytest.raises(SsbFileError, match=r"missing\.csv"):
        KommuneHistorikk.from_ssb([tmp_path / "missing.csv"])


# --- the kommuner table and the demo data --------------------------------------------------

# Codes in the demo data that the shipped history does not hold (none since the demo follows SSB).
DEMO_DIFFERENCES: frozenset[str] = frozenset()


@pytest.fixture(scope="module")
def demo_frame(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("demo")
    write_demo_data(out)
    df = pl.read_csv(out / "kommuner.csv", infer_schema=False)
    return df.with_columns(
        pl.col("gyldig_fra").str.to_date("%Y-%m-%d"),
        pl.col("gyldig_til").str.to_date("%Y-%m-%d"),
    )


def test_from_kommuner_frame_follows_every_row_of_the_demo_data(
    demo_frame: pl.DataFrame,
) -> None:
    history = KommuneHistorikk.from_kommuner_frame(demo_frame)
    assert history.codes() == sorted(demo_frame["kommunenummer"].to_list())
    for row in demo_frame.iter_rows(named=True):
        code, fra, til, succ = (
            row["kommunenummer"],
            row["gyldig_fra"],
            row["gyldig_til"],
            row["etterfolger"],
        )
        assert history.name(code, fra) == row["navn"]
        assert history.versions(code) == [CodeVersion(code, fra, til, row["navn"])]
        if til is not None:
            assert not history.valid_on(code, til + dt.timedelta(days=1))
        if succ:
            assert history.successors(code, til + dt.timedelta(days=1)) == [succ]
            assert code in history.predecessors(succ)
    # The existing Registry over the same table agrees wherever a code is followed forward.
    registry = Registry(demo_frame)
    for code in history.codes():
        for day in (D(2016, 5, 1), D(2018, 6, 1), D(2021, 6, 1), D(2024, 6, 1)):
            if history.valid_on(code, day) or history.successors(code, day) != [code]:
                assert history.code_on(code, day) == registry.code_on(code, day), (code, day)


def test_the_demo_data_agree_with_the_shipped_history(
    demo_frame: pl.DataFrame, shipped: KommuneHistorikk
) -> None:
    demo = KommuneHistorikk.from_kommuner_frame(demo_frame)
    common = [c for c in demo.codes() if c in shipped and c not in DEMO_DIFFERENCES]
    assert len(common) >= 20
    for code in common:
        assert demo.versions(code) == shipped.versions(code), code
        for day in (D(2017, 6, 1), D(2018, 6, 1), D(2020, 6, 1), D(2024, 6, 1)):
            assert demo.successors(code, day) == shipped.successors(code, day), (code, day)
    assert demo.predecessors("3014") == shipped.predecessors("3014") == INDRE_OSTFOLD_2019


def test_the_demo_data_number_enebakk_and_froland_as_ssb_does(
    demo_frame: pl.DataFrame, shipped: KommuneHistorikk
) -> None:
    demo = KommuneHistorikk.from_kommuner_frame(demo_frame)
    for code in ("0229", "0919"):
        for day in (D(2021, 6, 1), D(2024, 6, 1)):
            assert demo.code_on(code, day) == shipped.code_on(code, day), (code, day)


def test_a_kommuner_frame_with_text_dates_and_a_successor_without_end() -> None:
    frame = pl.DataFrame(
        {
            "kommunenummer": ["1714", "5035"],
            "navn": ["Stjørdal", "Stjørdal"],
            "gyldig_fra": ["1838-01-01", "2018-01-01"],
            "gyldig_til": ["2017-12-31", None],
            "etterfolger": ["5035", None],
        }
    )
    history = KommuneHistorikk.from_kommuner_frame(frame)
    assert history.code_on("1714", D(2018, 1, 1)) == "5035"
    broken = frame.with_columns(pl.lit(None, dtype=pl.String).alias("gyldig_til"))
    with pytest.raises(ValueError, match="kommuner:2"):
        KommuneHistorikk.from_kommuner_frame(broken)


# --- sio kommune ----------------------------------------------------------------------------


def test_cli_vis_shows_name_validity_predecessors_and_successors_in_norwegian() -> None:
    result = RUNNER.invoke(kommune_app, ["vis", "0138", "--dato", "2024-06-01"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "0138 Hobøl"
    assert lines[1] == "Gyldig: ikke registrert – 2019-12-31"
    assert lines[2] == "Forgjengere: ingen"
    assert lines[3] == (
        "Etterfølgere: 0138 → 3014 Indre Østfold (2020-01-01) → 3118 Indre Østfold (2024-01-01)"
    )
    assert lines[4] == "Per 2024-06-01: 3118 Indre Østfold"


def test_cli_vis_of_a_merged_municipality_lists_its_predecessors() -> None:
    result = RUNNER.invoke(kommune_app, ["vis", "3118", "--dato", "2019-06-01"])
    assert result.exit_code == 0, result.output
    assert "Forgjengere: 3014 Indre Østfold (2024-01-01)" in result.output
    assert "Tidligere forgjengere: 0122, 0123, 0124, 0125, 0138" in result.output
    assert "Gyldig: 2024-01-01 – gjelder fortsatt" in result.output
    assert "Per 2019-06-01: tilsvarer flere koder: 0122 Trøgstad" in result.output


def test_cli_vis_reads_ssb_files() -> None:
    result = RUNNER.invoke(
        kommune_app,
        [
            "vis",
            "0101",
            "--dato",
            "2021-01-01",
            "--ssb-koder",
            str(SSB / "kommuner_2019.csv"),
            "--ssb-koder",
            str(SSB / "kommuner_2020.csv"),
            "--ssb-endringer",
            str(SSB / "endringer_2018_2020.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "0101 Halden" in result.output
    assert "Per 2021-01-01: 3001 Halden" in result.output


def test_cli_errors_exit_with_code_2(tmp_path: Path) -> None:
    result = RUNNER.invoke(kommune_app, ["vis", "9999"])
    assert result.exit_code == 2
    assert "9999" in result.output
    result = RUNNER.invoke(kommune_app, ["vis", "0138", "--dato", "2024-13-01"])
    assert result.exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text('"code";"name"\n"x";"Oslo"\n', encoding="utf-8")
    result = RUNNER.invoke(kommune_app, ["liste", "--ssb-koder", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv:2: code:" in result.output


def test_cli_liste_lists_the_codes_valid_on_a_date() -> None:
    result = RUNNER.invoke(kommune_app, ["liste", "--dato", "2021-06-01"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "16 kommunenumre gyldige per 2021-06-01:"
    assert "3014  Indre Østfold" in lines
    assert "5035  Stjørdal" in lines
    assert not any(line.startswith("0138") for line in lines)
