"""The files of a scenario run (docs/scenarios.md "Output"):

- ``scenario.json`` — for programs: the scenario, the run (anchor year, draws, seed, executor,
  parameter version, data source, estimated parameters, warnings), and per year the national and
  per-municipality p10/p50/p90 of the scenario, the baseline and the difference;
- ``nasjonalt.csv``, ``kommuner.csv`` — the same as tables (one row per year × figure, and per
  municipality × year × figure); ``trekk.csv`` — every draw's national figures;
- ``scenario.xlsx`` — the three tables as sheets;
- ``scenario.html`` — a page with SVG fan charts of the national figures and a table.

All amounts are whole kroner. Each file is written to a temporary name and moved into place, so a
failed run leaves no half-written file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from sio.i18n import _, format_kroner, get_language
from sio.report.common import atomic_path, column_labels, compact_paths
from sio.scenario.fanchart import fan_chart
from sio.scenario.project import COMPONENTS
from sio.scenario.run import ScenarioResult
from sio.scenario.summary import NATIONAL, PERCENTILES, Summary, summarise

__all__ = ["figure_labels", "write_outputs"]

KINDS = ("scenario", "basis", "differanse")


def figure_labels() -> dict[str, str]:
    """The name of each figure in the current language."""
    labels = {c: column_labels()[c] for c in COMPONENTS}
    labels["statens_kostnad"] = _("State's net cost")
    return labels


def _header() -> list[str]:
    return [f"{k}_p{p}" for k in KINDS for p in PERCENTILES]


def national_rows(s: Summary) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for i, year in enumerate(s.years):
        for f, name in enumerate(NATIONAL):
            rows.append(
                [year, name, *(int(s.national[k][i, f, p]) for k in KINDS for p in range(3))]
            )
    return rows


def municipal_rows(r: ScenarioResult, s: Summary) -> list[list[Any]]:
    a = r.anchor
    rows: list[list[Any]] = []
    for u in range(len(a.units)):
        for i, year in enumerate(s.years):
            for c, name in enumerate(COMPONENTS):
                rows.append(
                    [
                        a.codes[u][i],
                        a.names[u][i],
                        year,
                        int(r.months[0, u, i]),
                        name,
                        *(int(s.municipal[k][u, i, c, p]) for k in KINDS for p in range(3)),
                    ]
                )
    return rows


def draw_rows(s: Summary) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for w, world in enumerate(("scenario", "basis")):
        for d in range(s.draws_national.shape[1]):
            for i, year in enumerate(s.years):
                rows.append([world, d, year, *(int(v) for v in s.draws_national[w, d, i])])
    return rows


NATIONAL_HEADER = ["aar", "storrelse", *_header()]
MUNICIPAL_HEADER = ["kommunenummer", "navn", "aar", "maaneder", "storrelse", *_header()]
DRAW_HEADER = ["bane", "trekk", "aar", *NATIONAL]


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def result_json(r: ScenarioResult, s: Summary) -> dict[str, Any]:
    """The JSON document of a run."""
    sc, a = r.scenario, r.anchor

    def bands(kind: str, table: Any, idx: tuple[int, ...]) -> dict[str, int]:
        return {f"p{p}": int(table[kind][(*idx, j)]) for j, p in enumerate(PERCENTILES)}

    return {
        "scenario": {
            "navn": sc.navn,
            "beskrivelse": sc.beskrivelse,
            "fil": Path(sc.fil).name,
            "basisaar": a.year,
            "horisont": a.horizon,
            "trekk": r.draws.count,
            "seed": sc.usikkerhet.seed,
            "befolkning": None
            if sc.befolkning is None
            else {"fil": sc.befolkning.fil, "alternativ": sc.befolkning.alternativ},
        },
        "kjoring": {
            "executor": r.executor,
            "parameterversjon": r.params_version,
            "datakilde": a.data.source,
            "estimerte_parametere": list(r.estimates),
            "advarsler": list(a.warnings),
        },
        "aar": s.years,
        "nasjonalt": {
            str(year): {
                name: {k: bands(k, s.national, (i, f)) for k in KINDS}
                for f, name in enumerate(NATIONAL)
            }
            for i, year in enumerate(s.years)
        },
        "kommuner": [
            {
                "kommunenummer": a.units[u],
                "aar": {
                    str(year): {
                        "kommunenummer": a.codes[u][i],
                        "navn": a.names[u][i],
                        "maaneder": int(r.months[0, u, i]),
                        **{
                            name: {k: bands(k, s.municipal, (u, i, c)) for k in KINDS}
                            for c, name in enumerate(COMPONENTS)
                        },
                    }
                    for i, year in enumerate(s.years)
                },
            }
            for u in range(len(a.units))
        ],
    }


def _xlsx(path: Path, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> None:
    import xlsxwriter

    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
        money = book.add_format({"num_format": "#,##0"})
        bold = book.add_format({"bold": True})
        for name, header, rows in sheets:
            ws = book.add_worksheet(name)
            ws.write_row(0, 0, header, bold)
            for n, row in enumerate(rows, start=1):
                for c, v in enumerate(row):
                    if isinstance(v, int) and header[c] not in ("aar", "trekk", "maaneder"):
                        ws.write_number(n, c, v, money)
                    else:
                        ws.write(n, c, v)
            ws.freeze_panes(1, 0)
        book.close()


def _html(r: ScenarioResult, s: Summary) -> str:
    sc, a = r.scenario, r.anchor
    labels = figure_labels()
    charts: list[Markup] = []
    shown = ("tilskudd", "uttrekk", "netto", "aktivitetstilskudd")
    for name in shown:
        f = NATIONAL.index(name)
        bands = [tuple(int(v) for v in s.national["scenario"][i, f]) for i in range(len(s.years))]
        base = [int(s.national["basis"][i, f, 1]) for i in range(len(s.years))]
        title = _("{figure}, national, per year").format(figure=labels[name])
        charts.append(
            Markup("<figure><figcaption>{}</figcaption>{}</figure>").format(
                title,
                fan_chart(f"fan-{name}", title, s.years, bands, base),  # type: ignore[arg-type]
            )
        )
    f = NATIONAL.index("statens_kostnad")
    diff = [tuple(int(v) for v in s.national["differanse"][i, f]) for i in range(len(s.years))]
    title = _("State's net cost against the baseline")
    charts.append(
        Markup("<figure><figcaption>{}</figcaption>{}</figure>").format(
            title,
            fan_chart("fan-statens-kostnad", title, s.years, diff),  # type: ignore[arg-type]
        )
    )
    head = "".join(
        f"<th>{escape(x)}</th>"
        for x in (
            _("Year"),
            labels["uttrekk"],
            labels["tilskudd"],
            labels["netto"],
            _("State's net cost against the baseline"),
        )
    )
    body = []
    for i, year in enumerate(s.years):
        cells = [str(year)]
        for name, kind in (
            ("uttrekk", "scenario"),
            ("tilskudd", "scenario"),
            ("netto", "scenario"),
            ("statens_kostnad", "differanse"),
        ):
            p10, p50, p90 = (int(v) for v in s.national[kind][i, NATIONAL.index(name)])
            cells.append(
                f"{escape(format_kroner(p50))}<br><small>{escape(format_kroner(p10))} – "
                f"{escape(format_kroner(p90))}</small>"
            )
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    notes = []
    if r.estimates:
        notes.append(
            _("The figures rest on estimated parameters: {paths}.").format(
                paths=", ".join(compact_paths(list(r.estimates)))
            )
        )
    notes.extend(a.warnings)
    meta = _(
        "Anchor year {year} (computed by the engine on the data), {horizon} projection years, "
        "{draws} draws, seed {seed}; parameter version {version}; data: {source}."
    ).format(
        year=a.year,
        horizon=a.horizon,
        draws=r.draws.count,
        seed=sc.usikkerhet.seed,
        version=r.params_version,
        source=Path(a.data.source).name if a.data.source else "-",
    )
    lang = get_language()
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(sc.navn)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#222}table{border-collapse:collapse}td,th{padding:.3rem .6rem;"
        "border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child"
        "{text-align:left}figure{margin:1.5rem 0}figcaption{font-weight:600}"
        "svg{max-width:100%;height:auto}small{color:#555}</style></head><body>"
        f"<h1>{escape(sc.navn)}</h1>"
        f"<p>{escape(sc.beskrivelse)}</p>"
        f"<p>{escape(meta)}</p>"
        f"<p>{escape(_('Median of the draws; below it the 10th–90th percentile, kroner.'))}</p>"
        + "".join(str(c) for c in charts)
        + f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        + "".join(f"<p><small>{escape(n)}</small></p>" for n in notes)
        + "</body></html>\n"
    )


def write_outputs(r: ScenarioResult, out_dir: Path) -> list[Path]:
    """Write every file of a run into `out_dir` (created if need be); the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    s = summarise(r)
    nat, mun, drw = national_rows(s), municipal_rows(r, s), draw_rows(s)
    written: list[Path] = []

    def text(name: str, content: str) -> None:
        path = out_dir / name
        with atomic_path(path) as tmp:
            tmp.write_text(content, encoding="utf-8")
        written.append(path)

    text("scenario.json", json.dumps(result_json(r, s), ensure_ascii=False, indent=1) + "\n")
    text("nasjonalt.csv", _csv(NATIONAL_HEADER, nat))
    text("kommuner.csv", _csv(MUNICIPAL_HEADER, mun))
    text("trekk.csv", _csv(DRAW_HEADER, drw))
    _xlsx(
        out_dir / "scenario.xlsx",
        [
            ("nasjonalt", NATIONAL_HEADER, nat),
            ("kommuner", MUNICIPAL_HEADER, mun),
            ("trekk", DRAW_HEADER, drw),
        ],
    )
    written.append(out_dir / "scenario.xlsx")
    text("scenario.html", _html(r, s))
    return written
