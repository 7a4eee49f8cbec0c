"""The payment walk-through of docs/payments.md is real: `docs/payments-walkthrough.sh` is run as a
user runs it (the `sio` command in an empty folder), every output block the document quotes
(marked `<!-- utdata: NAME -->`) is what the step NAME printed, line for line (`…` stands for lines
left out), and both stores — the ledger from May 2016 and the one that takes over in July with
opening balances — end the year paid exactly each municipality's `tilskudd` as `sio beregn --db`
computes it, the taken-over store counting its balances."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "payments.md"
SCRIPT = ROOT / "docs" / "payments-walkthrough.sh"
BLOCK = re.compile(r"<!-- utdata: ([\w-]+) -->\n```\n(.*?)```", re.S)


def _normal(line: str) -> str:
    return line.replace("\xa0", " ").rstrip()


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    folder = tmp_path_factory.mktemp("walkthrough")
    env = {
        **os.environ,
        "SIO": f"{sys.executable} -m sio.cli",
        "SIO_LANG": "nb",
        "COLUMNS": "80",
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    sections: dict[str, list[str]] = {}
    name = ""
    for line in done.stdout.splitlines():
        if line.startswith("### "):
            name = line[4:].strip()
            sections[name] = []
        elif name:
            sections[name].append(_normal(line))
    return folder, sections


def test_every_quoted_output_is_what_the_commands_print(
    walkthrough: tuple[Path, dict[str, list[str]]],
) -> None:
    _folder, sections = walkthrough
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert [name for name, _text in blocks] == [
        "kjor-2016-05",
        "etteroppgjoer-2016",
        "status-0138",
        "inngaende-saldo",
        "overtatt-kjor-2016-07",
        "overtatt-status-0138",
    ]
    for name, text in blocks:
        printed = sections[name]
        at = 0
        for line in (_normal(x) for x in text.splitlines()):
            if line == "…":
                continue
            assert line in printed[at:], f"{name}: not printed (in this order): {line!r}"
            at = printed.index(line, at) + 1


def _tilskudd(folder: Path) -> dict[str, int]:
    with (folder / "beregn-2016.csv").open(encoding="utf-8") as f:
        return {r["kommunenummer"]: int(r["tilskudd"]) * 100 for r in csv.DictReader(f)}


def test_both_stores_pay_the_first_cohort_its_year_to_the_oere(
    walkthrough: tuple[Path, dict[str, list[str]]],
) -> None:
    folder, _sections = walkthrough
    due = _tilskudd(folder)
    first = json.loads((folder / "status-2016.json").read_text(encoding="utf-8"))
    taken = json.loads((folder / "overtatt-status-2016.json").read_text(encoding="utf-8"))
    cohort = ["0123", "0138", "0926", "1243", "1664", "1714"]
    for status in (first, taken):
        paid = {r["kommunenummer"]: r for r in status if r["utbetalt_oere"]}
        assert sorted(paid) == cohort
        for code in cohort:
            assert paid[code]["etteroppgjoer"]
            assert paid[code]["rettighet_oere"] == due[code]
            assert paid[code]["utbetalt_oere"] == due[code]  # the balance counted as paid
    # the taken-over store paid the rest: its ledger lines add up to the year less the balance
    balances = {r["kommunenummer"]: r["inngaende_saldo"] for r in taken if r["utbetalt_oere"]}
    assert balances["0138"]["utbetalt_oere"] == 4_000_000_00
    assert balances["0138"]["til_og_med_maaned"] == 6
    with (folder / "inngaende-saldo.csv").open(encoding="utf-8") as f:
        written = {r["kommunenummer"]: r["utbetalt_kr"] for r in csv.DictReader(f)}
    for code in cohort:
        kroner, oere = written[code].split(".")
        assert balances[code]["utbetalt_oere"] == int(kroner) * 100 + int(oere)
        # May and June of the first store's status are what the balance settles against
        may_june = sum(
            m["rettighet_oere"]
            for r in first
            if r["kommunenummer"] == code
            for m in r["maaneder"]
            if m["maaned"] in (5, 6)
        )
        assert balances[code]["rettighet_oere"] == may_june
