"""The parameter folder is a valid OpenFisca parameter tree (decision 0001).

OpenFisca-core's own loader must read `sio/params/`, and at any date it must give the same values
as the project's loader (`sio.parameters`), which reads the decimal text exactly. The defaults are
also checked against `scheme.md` §6 and the paths against `interfaces.md` §3.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from fractions import Fraction
from functools import reduce
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from openfisca_core.parameters import Parameter, ParameterNode

from sio.parameters import load_parameters

PARAMS_DIR = Path(str(resources.files("sio") / "params"))

DATES = [
    dt.date(2015, 1, 1),
    dt.date(2016, 6, 1),
    dt.date(2017, 1, 1),
    dt.date(2019, 1, 1),
    dt.date(2020, 3, 1),
    dt.date(2021, 7, 1),
    dt.date(2024, 1, 1),
]

UNITS = {"NOK", "/1", "flag", "enhet", "maaned"}
EVIDENCE = {"confirmed", "secondary", "estimate"}
ESTIMATE_TITLE = "sio: scheme.md §6 — dokumentert standardverdi (estimat)"

PRICE_GROUPS = {
    "HJSPL": ["STANDARD"],
    "PB_DAGL": ["STANDARD"],
    "PB_OPPL": ["STANDARD"],
    "BPA": ["STANDARD"],
    "OMSORGSSTOENAD": ["STANDARD"],
    "STOETTEKONTAKT": ["STANDARD"],
    "AVLASTNING_INST": ["STANDARD"],
    "AVLASTNING_UTENFOR": ["STANDARD"],
    "BOLIG_HELDOEGN": ["STANDARD"],
    "INST_KORT": ["STANDARD", "UTREDNING", "REHABILITERING", "LINDRENDE"],
    "INST_LANG": ["STANDARD", "SKJERMET", "FORSTERKET"],
}
LUMP_SUM_SERVICES = ["TRYGGHETSALARM", "DAGAKTIVITET", "MATOMBRINGING"]
ZONES = ["1", "1a", "2", "3", "4", "4a", "5"]


def _expected_paths() -> set[str]:
    paths = {
        "uttrekk.deflator",
        "inntektspaaslag.sats",
        "inntektspaaslag.tak",
        "inntektspaaslag.prosjektmidler_maks",
        "rundsumtilskudd.andel",
        "aktivitetstilskudd.aga.referansesats",
        "aktivitetstilskudd.aga.lonnsandel",
        "aktivitetstilskudd.reise.faktor",
        # an extension of interfaces.md §3: the settlement lag of payment runs (scheme.md §3.6)
        "utbetaling.avregning_forsinkelse",
    }
    paths |= {f"uttrekk.kostra_funksjoner.f{n}" for n in (234, 253, 254, 261)}
    paths |= {
        f"uttrekk.demografi.kostnadsvekt.{g}"
        for g in ("alder_0_66", "alder_67_79", "alder_80_89", "alder_90_pluss")
    }
    paths |= {f"inntektspaaslag.nedtrapping.aar_{n}" for n in (1, 2, 3)}
    paths |= {f"rundsumtilskudd.tjenester.{s}" for s in LUMP_SUM_SERVICES}
    for service, groups in PRICE_GROUPS.items():
        paths |= {f"aktivitetstilskudd.enhetspris.{service}.{g}" for g in groups}
        paths.add(f"aktivitetstilskudd.enhet.{service}")
        paths.add(f"aktivitetstilskudd.hjemmebasert.{service}")
    paths |= {f"aktivitetstilskudd.aga.sats.sone_{z}" for z in ZONES}
    paths |= {f"saerordning.covid.maaned_{n}" for n in (1, 2, 3)}
    paths |= {f"saerordning.covid.referanse_{n}" for n in (1, 2, 3)}
    return paths


@pytest.fixture(scope="module")
def openfisca_tree() -> ParameterNode:
    return ParameterNode("", directory_path=str(PARAMS_DIR))


@pytest.fixture(scope="module")
def openfisca_leaves(openfisca_tree: ParameterNode) -> dict[str, Parameter]:
    return {p.name: p for p in openfisca_tree.get_descendants() if isinstance(p, Parameter)}


def _exact(value: Any) -> Fraction | str:
    """An OpenFisca value as the project loader represents it (numbers exact, text as is)."""
    if isinstance(value, str):
        return value
    assert isinstance(value, int | float) and not isinstance(value, bool), repr(value)
    return Fraction(str(value))


# -- OpenFisca reads the folder ------------------------------------------------------------------


def test_openfisca_reads_exactly_the_documented_paths(
    openfisca_leaves: dict[str, Parameter],
) -> None:
    assert set(openfisca_leaves) == _expected_paths()


def test_both_loaders_see_the_same_leaves(openfisca_leaves: dict[str, Parameter]) -> None:
    assert set(load_parameters().paths()) == set(openfisca_leaves)


@pytest.mark.parametrize("on", DATES, ids=str)
def test_openfisca_and_project_loader_agree(
    on: dt.date, openfisca_leaves: dict[str, Parameter]
) -> None:
    ps = load_parameters()
    compared = 0
    for path, param in sorted(openfisca_leaves.items()):
        of_value = param.get_at_instant(on.isoformat())
        if of_value is None:
            with pytest.raises(LookupError):
                ps.value(path, on)
            continue
        assert ps.value(path, on) == _exact(of_value), f"{path} on {on}"
        compared += 1
    assert compared > 0


@pytest.mark.parametrize(
    ("path", "on", "expected"),
    [
        ("inntektspaaslag.sats", dt.date(2016, 6, 1), Fraction("0.04")),
        ("inntektspaaslag.tak", dt.date(2015, 1, 1), Fraction(25_000_000)),
        ("inntektspaaslag.tak", dt.date(2019, 1, 1), Fraction(25_000_000)),
        ("inntektspaaslag.tak", dt.date(2019, 12, 1), Fraction(25_000_000)),
        ("inntektspaaslag.tak", dt.date(2020, 3, 1), Fraction(28_000_000)),
        ("inntektspaaslag.tak", dt.date(2024, 1, 1), Fraction(28_000_000)),
        ("inntektspaaslag.prosjektmidler_maks", dt.date(2016, 6, 1), Fraction(500_000)),
        ("inntektspaaslag.nedtrapping.aar_2", dt.date(2022, 1, 1), Fraction(1, 2)),
        ("uttrekk.deflator", dt.date(2016, 1, 1), Fraction("0.027")),
        ("uttrekk.deflator", dt.date(2017, 6, 1), Fraction("0.025")),
        ("uttrekk.deflator", dt.date(2020, 1, 1), Fraction("0.031")),
        ("uttrekk.deflator", dt.date(2022, 1, 1), Fraction("0.025")),
        ("uttrekk.demografi.kostnadsvekt.alder_90_pluss", dt.date(2015, 1, 1), Fraction(300_000)),
        ("uttrekk.kostra_funksjoner.f254", dt.date(2015, 1, 1), Fraction(1)),
        ("rundsumtilskudd.andel", dt.date(2016, 6, 1), Fraction(1, 10)),
        ("aktivitetstilskudd.enhetspris.INST_LANG.FORSTERKET", dt.date(2016, 6, 1), Fraction(4300)),
        ("aktivitetstilskudd.enhetspris.INST_KORT.UTREDNING", dt.date(2016, 6, 1), Fraction(3500)),
        ("aktivitetstilskudd.enhetspris.HJSPL.STANDARD", dt.date(2016, 1, 1), Fraction(720)),
        ("aktivitetstilskudd.enhet.INST_KORT", dt.date(2016, 6, 1), "doegn"),
        ("aktivitetstilskudd.enhet.BPA", dt.date(2016, 6, 1), "time"),
        ("aktivitetstilskudd.hjemmebasert.PB_OPPL", dt.date(2016, 6, 1), Fraction(1)),
        ("aktivitetstilskudd.hjemmebasert.BPA", dt.date(2016, 6, 1), Fraction(0)),
        ("aktivitetstilskudd.aga.sats.sone_1", dt.date(2016, 6, 1), Fraction("0.141")),
        ("aktivitetstilskudd.aga.sats.sone_4a", dt.date(2016, 6, 1), Fraction("0.079")),
        ("aktivitetstilskudd.aga.sats.sone_5", dt.date(2016, 6, 1), Fraction(0)),
        ("aktivitetstilskudd.aga.lonnsandel", dt.date(2016, 6, 1), Fraction(4, 5)),
        ("aktivitetstilskudd.reise.faktor", dt.date(2016, 6, 1), Fraction(1, 10)),
        ("saerordning.covid.maaned_1", dt.date(2020, 3, 1), "2020-03"),
        ("saerordning.covid.maaned_3", dt.date(2020, 3, 1), "2020-05"),
        ("saerordning.covid.referanse_1", dt.date(2020, 3, 1), "2019-12"),
    ],
)
def test_defaults_of_scheme_section_6(
    path: str, on: dt.date, expected: Fraction | str, openfisca_tree: ParameterNode
) -> None:
    at_instant = openfisca_tree(on.isoformat())
    of_value = reduce(lambda node, key: node[key], path.split("."), at_instant)
    assert _exact(of_value) == expected
    assert load_parameters().value(path, on) == expected


def test_nothing_before_the_first_dated_value(openfisca_leaves: dict[str, Parameter]) -> None:
    assert openfisca_leaves["uttrekk.deflator"].get_at_instant("2015-12-31") is None
    enhetspris = openfisca_leaves["aktivitetstilskudd.enhetspris.INST_LANG.STANDARD"]
    assert enhetspris.get_at_instant("2015-12-31") is None
    assert openfisca_leaves["saerordning.covid.maaned_1"].get_at_instant("2019-12-31") is None


# -- metadata, read with OpenFisca's loader and inherited as decision 0001 says -----------------


def _walk(node: ParameterNode, inherited: dict[str, Any]) -> Iterator[tuple[Parameter, dict]]:
    meta = {**inherited, **node.metadata}
    for child in node.children.values():
        if isinstance(child, Parameter):
            yield child, {**meta, **child.metadata}
        else:
            yield from _walk(child, meta)


def _effective(openfisca_tree: ParameterNode) -> dict[str, tuple[Parameter, dict]]:
    return {p.name: (p, meta) for p, meta in _walk(openfisca_tree, {})}


def test_every_leaf_has_description_unit_evidence_and_reference(
    openfisca_tree: ParameterNode,
) -> None:
    for path, (param, meta) in _effective(openfisca_tree).items():
        assert param.description and param.description.strip(), path
        assert meta.get("unit") in UNITS, path
        refs = meta.get("reference")
        assert isinstance(refs, list) and refs, path
        for ref in refs:
            assert ref.get("title") and ref.get("href", "").startswith("https://"), path
        for v in param.values_list:
            evidence = v.metadata.get("evidence", meta.get("evidence"))
            assert evidence in EVIDENCE, f"{path} {v.instant_str}"


def test_values_fit_their_unit(openfisca_tree: ParameterNode) -> None:
    for path, (param, meta) in _effective(openfisca_tree).items():
        unit = meta["unit"]
        for v in param.values_list:
            value = v.value
            where = f"{path} {v.instant_str}: {value!r}"
            if unit == "enhet":
                assert value in {"time", "doegn"}, where
            elif unit == "maaned":
                assert isinstance(value, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value), (
                    where
                )
            elif unit == "flag":
                assert value in (0, 1) and not isinstance(value, bool | float), where
            else:
                assert isinstance(value, int | float) and not isinstance(value, bool), where
                if unit == "/1":
                    assert 0 <= value <= 1, where


def test_every_estimate_cites_the_project_documentation(openfisca_tree: ParameterNode) -> None:
    for path, (param, meta) in _effective(openfisca_tree).items():
        for v in param.values_list:
            vmeta = {**meta, **v.metadata}
            if vmeta.get("evidence") == "estimate":
                titles = [r["title"] for r in vmeta["reference"]]
                assert ESTIMATE_TITLE in titles, f"{path} {v.instant_str}"


def test_evidence_levels_of_scheme_section_6(openfisca_tree: ParameterNode) -> None:
    effective = _effective(openfisca_tree)

    def evidence(path: str) -> dict[str, str]:
        param, meta = effective[path]
        return {
            v.instant_str: v.metadata.get("evidence", meta.get("evidence"))
            for v in param.values_list
        }

    assert evidence("uttrekk.deflator") == {
        "2016-01-01": "secondary",
        "2017-01-01": "estimate",
        "2018-01-01": "secondary",
        "2019-01-01": "secondary",
        "2020-01-01": "estimate",
        "2021-01-01": "secondary",
        "2022-01-01": "secondary",
    }
    assert evidence("inntektspaaslag.tak") == {
        "2015-01-01": "confirmed",
        "2020-01-01": "confirmed",
        "2021-01-01": "estimate",
    }
    confirmed = ["inntektspaaslag.sats", "inntektspaaslag.prosjektmidler_maks"]
    confirmed += ["rundsumtilskudd.andel", "saerordning.covid.maaned_1"]
    confirmed += [f"aktivitetstilskudd.aga.sats.sone_{z}" for z in ZONES]
    for path in confirmed:
        assert set(evidence(path).values()) == {"confirmed"}, path
    estimated = ["inntektspaaslag.nedtrapping.aar_1", "aktivitetstilskudd.aga.referansesats"]
    estimated += ["aktivitetstilskudd.aga.lonnsandel", "aktivitetstilskudd.reise.faktor"]
    estimated += ["saerordning.covid.referanse_1", "uttrekk.demografi.kostnadsvekt.alder_0_66"]
    estimated += ["aktivitetstilskudd.enhetspris.INST_KORT.LINDRENDE"]
    for path in estimated:
        assert set(evidence(path).values()) == {"estimate"}, path
