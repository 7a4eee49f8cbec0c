"""`sio evaluer`: the evaluation of the scheme (docs/evaluation.md) — equal treatment given need,
needs coverage, and the trial against the control municipalities — from files (`--data DIR`) or
from the store (`--db [--versjon V]`), written as `evaluering.json`, `evaluering.xlsx` and
`evaluering.html` into `--ut DIR`, with a summary on standard output.

The statistics libraries are imported inside the command, so `sio --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sio.cli.common import (
    EXIT_BAD_INPUT,
    BadInput,
    err,
    input_errors,
    load_params,
    load_source,
    out,
    source_options,
)
from sio.i18n import _

if TYPE_CHECKING:
    from sio.data.model import InputData

__all__ = ["evaluate_cmd", "looks_synthetic"]


def looks_synthetic(inp: InputData, data: Path | None) -> bool:
    """Whether the data are synthetic: the folder has the truth file of `sio syntetisk`
    (synth.json) or a read-me (LESMEG.txt, README*) that says so, or most municipalities have a
    code of the synthetic 9xxx series (no real municipality has one)."""
    if data is not None and (data / "synth.json").is_file():
        return True
    if data is not None:
        for name in ("LESMEG.txt", "README.txt", "README.md"):
            f = data / name
            if f.is_file():
                text = f.read_text(encoding="utf-8", errors="replace").lower()
                if "syntetisk" in text or "synthetic" in text:
                    return True
    codes = inp.kommuner.get_column("kommunenummer").to_list()
    return bool(codes) and sum(str(c).startswith("9") for c in codes) * 2 > len(codes)


def evaluate_cmd(
    first: Annotated[int, typer.Option("--fra", help=_("First year of the evaluation."))],
    last: Annotated[int, typer.Option("--til", help=_("Last year of the evaluation."))],
    data: Annotated[
        Path | None, typer.Option("--data", help=_("Input directory (interfaces.md §1)."))
    ] = None,
    db: Annotated[
        bool, typer.Option("--db", help=_("Evaluate the data in the database (SIO_DATABASE_URL)."))
    ] = False,
    versjon: Annotated[
        int | None, typer.Option("--versjon", help=_("Data version (with --db; default newest)."))
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--ut", help=_("Report folder (JSON, xlsx, HTML)."))
    ] = Path("sio-evaluering"),
    seed: Annotated[
        int, typer.Option("--seed", help=_("Random seed of the randomisation inference."))
    ] = 1,
    permutations: Annotated[
        int,
        typer.Option("--permutasjoner", help=_("Permutations of the randomisation inference.")),
    ] = 999,
    synthetic: Annotated[
        bool | None,
        typer.Option(
            "--syntetisk/--ikke-syntetisk",
            help=_("Mark the data as synthetic or not (default: recognised from the data)."),
        ),
    ] = None,
) -> None:
    """Evaluate equal treatment, needs coverage and the trial against control."""
    if first > last:
        err.print(_("--fra must not be after --til"))
        raise typer.Exit(EXIT_BAD_INPUT)
    if permutations < 19:
        err.print(_("--permutasjoner must be at least 19"))
        raise typer.Exit(EXIT_BAD_INPUT)
    source = source_options(data, db, versjon)
    from sio import i18n
    from sio.evaluation.evaluate import Settings, evaluate
    from sio.evaluation.frame import build_frame
    from sio.evaluation.report import write_evaluation

    with input_errors():
        params = load_params(None)
        inp, data_version = load_source(source, params)
        _check_years(inp, first, last)
        frame = build_frame(inp, params, first, last)
        if frame.persons.is_empty():
            raise BadInput(
                _("no vedtak is in force on 31 December of any year {first}–{last}").format(
                    first=first, last=last
                )
            )
        is_synthetic = looks_synthetic(inp, data) if synthetic is None else synthetic
        result = evaluate(
            frame,
            Settings(seed=seed, permutations=permutations),
            source=str(data) if data is not None else f"db:{data_version}",
            data_version=data_version,
            synthetic=is_synthetic,
        )
        files = write_evaluation(result, out_dir, lang=i18n.get_language())
    _summary(result)
    out.print(_("Report written:"))
    for f in files:
        out.print(f"  {f}", markup=False, highlight=False)


def _check_years(inp: InputData, first: int, last: int) -> None:
    years = inp.befolkning.get_column("aar")
    lo, hi = years.min(), years.max()
    if isinstance(lo, int) and isinstance(hi, int) and (last < lo or first > hi):
        raise BadInput(
            _("{first}–{last} is outside the data: the population table covers {lo}–{hi}").format(
                first=first, last=last, lo=lo, hi=hi
            )
        )


def _summary(result: dict[str, Any]) -> None:
    """A few lines for the terminal: the data, the ICC, coverage, the DiD, the flags."""
    from sio.evaluation.report import notes, outcome_label, report_title
    from sio.i18n import format_number

    def num(x: float | None, d: int = 3) -> str:
        return "–" if x is None else format_number(x, d)

    meta = result["meta"]
    out.print(report_title(result), style="bold", markup=False)
    out.print(
        _("Person-years: {n}; persons: {p}; municipalities: {m}.").format(
            n=meta["person_years"], p=meta["persons"], m=meta["municipalities"]
        ),
        markup=False,
    )
    for key, icc in result["equal_treatment"]["icc_mixed"].items():
        out.print(
            _("ICC {what}: {icc} (95 % CI {low}–{high}; n = {n}, {m} municipalities)").format(
                what=outcome_label(key),
                icc=num(icc["icc"]),
                low=num(icc["ci_low"]),
                high=num(icc["ci_high"]),
                n=icc["n"],
                m=icc["municipalities"],
            ),
            markup=False,
            highlight=False,
        )
    last = [r for r in result["coverage"] if r["aar"] == meta["last"]]
    assessed = sum(r["assessed"] for r in last)
    if assessed:
        within = sum(r["n_within"] for r in last) / assessed
        out.print(
            _("Needs coverage {year}: {share} % of {n} assessed users within the range").format(
                year=meta["last"], share=format_number(within * 100, 1), n=assessed
            ),
            markup=False,
            highlight=False,
        )
    for d in result["did"]:
        out.print(
            _(
                "DiD {what}: {est} (95 % CI {low} to {high}; p = {p}; {k} trial, {c} control)"
            ).format(
                what=outcome_label(d["outcome"]),
                est=num(d["estimate"]),
                low=num(d["ci_low"]),
                high=num(d["ci_high"]),
                p=num(d["p_value"]),
                k=d["n_units"],
                c=len(d["control_units"]),
            ),
            markup=False,
            highlight=False,
        )
    if not result["did"]:
        err.print(
            _(
                "No trial-against-control comparison: the data need trial municipalities with a "
                "year before their start and municipalities that never participate."
            ),
            style="yellow",
            markup=False,
        )
    for line in notes(result):
        err.print(line, style="yellow", markup=False, highlight=False, soft_wrap=True)
