"""The parameter loader: errors name the file; lookups follow OpenFisca date semantics."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import pytest

from sio.parameters import (
    ParameterError,
    ParameterLookupError,
    ParameterSet,
    apply_override_file,
    load_parameters,
)

D = dt.date

GOOD_LEAF = """\
description: Test
metadata:
  unit: /1
  evidence: confirmed
  reference: [{title: Kilde, href: "https://example.org"}]
values:
  2016-01-01: {value: 0.027}
  2018-07-01:
    value: 0.5
    metadata: {evidence: estimate}
"""


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "params"
    for name, text in files.items():
        f = root / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
    return root


def test_lookup_by_date_and_per_value_evidence(tmp_path: Path) -> None:
    ps = load_parameters(tree(tmp_path, {"a/b.yaml": GOOD_LEAF}))
    assert ps.paths() == ["a.b"]
    assert ps.value("a.b", D(2016, 1, 1)) == Fraction(27, 1000)  # exact, not a float
    assert ps.value("a.b", D(2018, 6, 30)) == Fraction(27, 1000)
    assert ps.at("a.b", D(2018, 7, 1)).evidence == "estimate"
    assert ps.value("a.b", D(2030, 1, 1)) == Fraction(1, 2)
    with pytest.raises(ParameterLookupError, match=r"a\.b"):
        ps.value("a.b", D(2015, 12, 31))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD_LEAF.replace("description: Test\n", ""), "missing 'description'"),
        (GOOD_LEAF.replace("  evidence: confirmed\n", ""), "evidence must be one of"),
        (GOOD_LEAF.replace("  unit: /1\n", "  unit: kroner\n"), "unit must be one of"),
        (
            GOOD_LEAF.replace('  reference: [{title: Kilde, href: "https://example.org"}]\n', ""),
            "missing 'reference'",
        ),
        (GOOD_LEAF + "extra: 1\n", "unknown key"),
        (GOOD_LEAF.replace("{value: 0.027}", "{value: fire}"), "is not a number"),
        (GOOD_LEAF.replace("{value: 0.027}", "{value: true}"), "is not a number"),
        (GOOD_LEAF.replace("2016-01-01:", "2016-13-01:"), "not a date"),
        (GOOD_LEAF + "  2017-01-01: {value: null}\n", "gap"),
        ("description: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_parameter_files_are_refused_with_the_file_named(
    tmp_path: Path, text: str, message: str
) -> None:
    root = tree(tmp_path, {"a/b.yaml": text})
    with pytest.raises(ParameterError, match=message) as exc:
        load_parameters(root)
    assert exc.value.file.endswith("b.yaml")


def test_metadata_is_inherited_from_node_files_and_index(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "p/index.yaml": "description: Priser\nmetadata: {unit: NOK, evidence: estimate,"
            " reference: [{title: Tabell}]}\n",
            "p/HJSPL.yaml": "description: Hjemmesykepleie\nSTANDARD:\n  description: Standard\n"
            "  values: {2016-01-01: {value: 720}}\n",
        },
    )
    ps = load_parameters(root)
    p = ps.get("p.HJSPL.STANDARD")
    assert p.unit == "NOK"
    assert ps.at("p.HJSPL.STANDARD", D(2016, 1, 1)).evidence == "estimate"
    assert ps.number("p.HJSPL.STANDARD", D(2020, 1, 1)) == 720


def test_flag_and_enhet_types(tmp_path: Path) -> None:
    bad_flag = GOOD_LEAF.replace("unit: /1", "unit: flag")
    with pytest.raises(ParameterError, match="flag must be 0 or 1"):
        load_parameters(tree(tmp_path, {"f/x.yaml": bad_flag}))


def test_override_replaces_whole_series_and_is_marked(tmp_path: Path, params: ParameterSet) -> None:
    ov = tmp_path / "ov.yaml"
    ov.write_text("inntektspaaslag.tak:\n  2019-01-01: 1000\n", encoding="utf-8")
    ps = apply_override_file(params, ov)
    assert ps.number("inntektspaaslag.tak", D(2021, 1, 1)) == 1000
    with pytest.raises(ParameterLookupError):  # the 2015 default is replaced too
        ps.number("inntektspaaslag.tak", D(2016, 1, 1))
    assert ps.at("inntektspaaslag.tak", D(2021, 1, 1)).evidence == "override"
    assert ps.version != params.version
    # untouched paths keep their defaults
    assert ps.number("inntektspaaslag.sats", D(2021, 1, 1)) == Fraction(4, 100)


def test_override_may_add_a_price_group_but_not_an_unknown_path(
    tmp_path: Path, params: ParameterSet
) -> None:
    ov = tmp_path / "ov.yaml"
    ov.write_text("aktivitetstilskudd.enhetspris.INST_LANG.NY: {2016-01-01: 5000}\n")
    ps = apply_override_file(params, ov)
    assert ps.number("aktivitetstilskudd.enhetspris.INST_LANG.NY", D(2016, 5, 1)) == 5000
    ov.write_text("uttrekk.finnes_ikke: {2016-01-01: 1}\n")
    with pytest.raises(ParameterError, match="unknown parameter path"):
        apply_override_file(params, ov)
    ov.write_text("inntektspaaslag.sats: {2016-01-01: mye}\n")
    with pytest.raises(ParameterError, match="not a number"):
        apply_override_file(params, ov)


def test_shipped_parameters_match_scheme_defaults(params: ParameterSet) -> None:
    """A few values from scheme.md §6, written out by hand."""
    assert params.number("inntektspaaslag.tak", D(2019, 12, 1)) == 25_000_000
    assert params.number("inntektspaaslag.tak", D(2020, 1, 1)) == 28_000_000
    assert params.number("uttrekk.deflator", D(2018, 1, 1)) == Fraction(3, 100)
    assert params.number("aktivitetstilskudd.enhetspris.INST_KORT.LINDRENDE", D(2016, 5, 1)) == 4200
    assert params.text("aktivitetstilskudd.enhet.INST_LANG", D(2016, 5, 1)) == "doegn"
    assert params.text("saerordning.covid.maaned_2", D(2020, 1, 1)) == "2020-04"
    assert params.at("inntektspaaslag.tak", D(2021, 1, 1)).evidence == "estimate"
    assert params.at("inntektspaaslag.sats", D(2021, 1, 1)).evidence == "confirmed"
