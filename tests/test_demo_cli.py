"""`sio demo --out DIR`, the README's first command, run as the user runs it (a process of the
installed `sio`): the files the README lists, every year 2016–2024, rows that add up, and one
figure of the demo data worked out by hand from the input files it wrote."""

from __future__ import annotations

import csv
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

from sio.money import round_half_away

SIO = Path(sys.executable).parent / "sio"
YEARS = list(range(2016, 2025))
INPUTS = ("kommuner", "deltakelse", "utgifter", "befolkning", "toppfinansiering", "vedtak")
# scheme.md §6 defaults: base functions, deflator 2016, care cost per inhabitant by age group
BASE_FUNCTIONS = {"234", "253", "254", "261"}
DEFLATOR_2016 = Fraction(27, 1000)
AMOUNTS = ("maaneder", "uttrekk", "toppfinansiering", "aktivitetstilskudd", "rundsumtilskudd")
AMOUNTS += ("oeremerket_tilskudd", "inntektspaaslag", "tilskudd", "netto")
WEIGHTS = {"0-66": 3_000, "67-79": 20_000, "80-89": 110_000, "90+": 300_000}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_sio_demo_writes_the_report_of_every_year(tmp_path: Path) -> None:
    out = tmp_path / "sio-demo"
    res = subprocess.run(
        [str(SIO), "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": str(SIO.parent), "LANG": "C.UTF-8"},
    )
    assert res.returncode == 0, res.stderr
    # the README: "table per year + CSV, xlsx, HTML report", the input data beside them
    for name in ("tilskudd.csv", "tilskudd.xlsx", "rapport.html"):
        assert (out / name).stat().st_size > 0, name
        assert str(out / name) in res.stdout.replace("\n", "")
    for table in INPUTS:
        assert (out / "inndata" / f"{table}.csv").is_file(), table
    assert (out / "tilskudd.xlsx").read_bytes()[:2] == b"PK"  # a zip: an Office Open XML book
    html = (out / "rapport.html").read_text(encoding="utf-8")
    for year in YEARS:
        assert f"Tilskudd og uttrekk {year}" in res.stdout
        assert str(year) in html

    rows = _rows(out / "tilskudd.csv")
    assert sorted({int(r["aar"]) for r in rows}) == YEARS
    for r in rows:
        n = {k: int(r[k]) for k in AMOUNTS}
        grants = ("aktivitetstilskudd", "rundsumtilskudd", "oeremerket_tilskudd", "inntektspaaslag")
        assert n["tilskudd"] == sum(n[g] for g in grants), r
        assert n["netto"] == n["tilskudd"] - n["uttrekk"] - n["toppfinansiering"], r
        assert r["modell"] in ("A", "B", "utfasing"), r
        assert 0 <= n["maaneder"] <= 12, r

    # One figure by hand: Spydeberg (0123), model B from 2016-05-01 (scheme.md §1), 8 months of
    # 2016. grunnlag = its 2015 expenditure on the base functions; uttrekk(2016) = grunnlag ×
    # (1 + 2.7 %) × W(2016) / W(2015); model B: øremerket tilskudd = uttrekk; supplement 4 % (the
    # cap of 25 mill. × 8/12 does not bind); every annual figure rounded once to whole kroner.
    data = out / "inndata"
    grunnlag = sum(
        int(u["netto_driftsutgifter"])
        for u in _rows(data / "utgifter.csv")
        if u["kommunenummer"] == "0123"
        and u["aar"] == "2015"
        and u["kostra_funksjon"] in BASE_FUNCTIONS
    )
    w = {2015: 0, 2016: 0}
    for b in _rows(data / "befolkning.csv"):
        if b["kommunenummer"] == "0123" and int(b["aar"]) in w:
            w[int(b["aar"])] += int(b["antall"]) * WEIGHTS[b["aldersgruppe"]]
    annual = grunnlag * (1 + DEFLATOR_2016) * Fraction(w[2016], w[2015])
    uttrekk = round_half_away(annual * 8 / 12)
    supplement = round_half_away(Fraction(4, 100) * annual * 8 / 12)
    assert supplement < 25_000_000 * 8 / 12
    (spydeberg,) = [r for r in rows if (r["kommunenummer"], r["aar"]) == ("0123", "2016")]
    assert spydeberg["modell"] == "B"
    assert int(spydeberg["maaneder"]) == 8
    assert int(spydeberg["uttrekk"]) == uttrekk
    assert int(spydeberg["oeremerket_tilskudd"]) == uttrekk
    assert int(spydeberg["inntektspaaslag"]) == supplement
    assert int(spydeberg["aktivitetstilskudd"]) == 0
    assert int(spydeberg["netto"]) == supplement
