"""The evaluation report: `evaluering.json` (the result of `sio.evaluation.evaluate` for
programs), `evaluering.xlsx` (one sheet per table, headers in the reader's language) and
`evaluering.html` (one self-contained page with SVG charts). Every figure is shown with its n and
its interval; figures that rest on estimated parameters or on synthetic data say so.

The files are written into a staging folder and moved into place only when all three are
complete (as `sio.report.write_report`), so a failure leaves no half-written report.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from sio.i18n import _, format_number, get_language, language

__all__ = ["HTML_NAME", "JSON_NAME", "XLSX_NAME", "outcome_label", "write_evaluation"]

JSON_NAME = "evaluering.json"
XLSX_NAME = "evaluering.xlsx"
HTML_NAME = "evaluering.html"
TEMPLATE = "evaluering.html.j2"
ESTIMATE_MARK = "*"
FLAG_MARK = "†"


def outcome_label(key: str) -> str:
    """The name of an outcome in the current language."""
    labels = {
        "hour_equivalents": _("weekly-hour equivalents"),
        "institution": _("in an institution (share)"),
        "cost": _("cost per user and year at national prices (kr)"),
        "cost_per_user": _("cost per user (kr per year)"),
        "hours_per_user": _("hours per week per user"),
        "institution_share": _("share of users in an institution"),
        "users_per_1000_80": _("users per 1 000 inhabitants 80+"),
    }
    return labels.get(key, key)


def category_labels() -> dict[str, str]:
    return {
        "within": _("within the range"),
        "below": _("below the range"),
        "above": _("above the range"),
        "other": _("other service"),
    }


def group_label(key: str) -> str:
    return {"all": _("all"), "trial": _("trial"), "control": _("control")}.get(key, key)


def flag_label(key: str) -> str:
    return {"register_break": _("register break"), "merger": _("merger")}.get(key, key)


# -- tables: one spec drives both the workbook and the page --------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "num"  # num, int, pct, text
    decimals: int = 3


def _fmt(value: Any, col: Column) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if col.kind == "text":
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)
    if col.kind == "int":
        return format_number(int(value), 0)
    if col.kind == "pct":
        return format_number(float(value) * 100, 1) + " %"
    return format_number(float(value), col.decimals)


@dataclass(frozen=True)
class Table:
    sheet: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    note: str = ""


PRICED = frozenset({"hour_equivalents", "cost", "cost_per_user"})
"""Outcomes that rest on the unit prices (estimates unless the official table is loaded)."""


def marked_label(key: str, result: Mapping[str, Any]) -> str:
    """The outcome's name, with the estimate mark when it rests on estimated unit prices."""
    estimated = key in PRICED and bool(result["meta"]["estimated"]["cost"])
    return outcome_label(key) + (f" {ESTIMATE_MARK}" if estimated else "")


def _tables(result: Mapping[str, Any]) -> list[Table]:
    et = result["equal_treatment"]
    names = {u["unit"]: u["navn"] for u in result["meta"]["units"]}
    icc_rows = [{"outcome_label": marked_label(k, result), **v} for k, v in et["icc_mixed"].items()]
    icc_cols = (
        Column("outcome_label", _("Outcome"), "text"),
        Column("icc", _("ICC")),
        Column("ci_low", _("95 % CI, low")),
        Column("ci_high", _("95 % CI, high")),
        Column("n", _("Person-years"), "int"),
        Column("municipalities", _("Municipalities"), "int"),
        Column("profile_cells", _("Need profile × year cells"), "int"),
        Column("var_between", _("Variance between"), "num", 4),
        Column("var_within", _("Variance within"), "num", 4),
    )
    by_year = [
        {
            **r,
            "outcome_label": marked_label(r["outcome"], result),
            "group_label": group_label(r["group"]),
        }
        for r in et["icc_by_year"]
    ]
    by_year_cols = (
        Column("outcome_label", _("Outcome"), "text"),
        Column("aar", _("Year"), "text"),
        Column("group_label", _("Municipalities"), "text"),
        Column("icc", _("ICC")),
        Column("ci_low", _("95 % CI, low")),
        Column("ci_high", _("95 % CI, high")),
        Column("n", _("Person-years"), "int"),
        Column("municipalities", _("Municipalities (n)"), "int"),
    )
    rates = [{**r, "outcome_label": marked_label(r["outcome"], result)} for r in et["rates"]]
    rate_cols = (
        Column("outcome_label", _("Outcome"), "text"),
        Column("aar", _("Year"), "text"),
        Column("kommunenummer", _("Municipality no."), "text"),
        Column("navn", _("Name"), "text"),
        Column("n", _("Users"), "int"),
        Column("mean_observed", _("Observed per user")),
        Column("mean_expected", _("Expected per user")),
        Column("ratio", _("Observed / expected")),
        Column("limit95_low", _("95 % limit, low")),
        Column("limit95_high", _("95 % limit, high")),
        Column("limit998_low", _("99.8 % limit, low")),
        Column("limit998_high", _("99.8 % limit, high")),
        Column("funnel", _("Against the limits"), "text"),
    )
    gini_rows = [{**r, "outcome_label": marked_label(r["outcome"], result)} for r in et["gini"]]
    gini_cols = (
        Column("outcome_label", _("Outcome"), "text"),
        Column("aar", _("Year"), "text"),
        Column("gini", _("Gini of the rates")),
        Column("chance_mean", _("Gini by chance, mean")),
        Column("chance_low", _("by chance, 2.5 %")),
        Column("chance_high", _("by chance, 97.5 %")),
        Column("p_value", _("p-value")),
        Column("municipalities", _("Municipalities"), "int"),
        Column("n", _("Users"), "int"),
        Column("replications", _("Draws"), "int"),
    )
    cats = category_labels()
    cov_cols: list[Column] = [
        Column("aar", _("Year"), "text"),
        Column("kommunenummer", _("Municipality no."), "text"),
        Column("navn", _("Name"), "text"),
        Column("users", _("Users"), "int"),
        Column("assessed", _("Assessed"), "int"),
    ]
    for cat in ("within", "below", "above", "other"):
        cov_cols += [
            Column(cat, cats[cat], "pct"),
            Column(f"{cat}_low", _("{what}, 95 % CI low").format(what=cats[cat]), "pct"),
            Column(f"{cat}_high", _("{what}, 95 % CI high").format(what=cats[cat]), "pct"),
        ]
    did_rows = [
        {
            **d,
            "outcome_label": marked_label(d["outcome"], result),
            "n_controls": len(d["control_units"]),
            "flags_text": ", ".join(
                f"{y}: {', '.join(flag_label(f) for f in fl)}"
                for y, fl in d["flagged_years"].items()
            ),
        }
        for d in result["did"]
    ]
    did_cols = (
        Column("outcome_label", _("Outcome"), "text"),
        Column("estimate", _("Effect (DiD)")),
        Column("ci_low", _("95 % CI, low")),
        Column("ci_high", _("95 % CI, high")),
        Column("p_value", _("p-value (randomisation)")),
        Column("relative", _("Relative to the base level"), "pct"),
        Column("n_units", _("Trial units"), "int"),
        Column("n_controls", _("Control units"), "int"),
        Column("permutations", _("Permutations"), "int"),
        Column("min_p_value", _("Smallest possible p-value")),
        Column("flags_text", _("Flagged years used"), "text"),
    )
    events = [
        {
            "outcome_label": marked_label(d["outcome"], result),
            **e,
            "flags_text": ", ".join(flag_label(f) for f in e["flags"]),
        }
        for d in result["did"]
        for e in d["event_study"]
    ]
    event_cols = (
        Column("outcome_label", _("Outcome"), "text"),
        Column("event_time", _("Years from start"), "text"),
        Column("estimate", _("Effect")),
        Column("ci_low", _("95 % CI, low")),
        Column("ci_high", _("95 % CI, high")),
        Column("p_value", _("p-value")),
        Column("n_units", _("Trial units"), "int"),
        Column("years", _("Calendar years"), "text"),
        Column("flags_text", _("Flags"), "text"),
    )
    disp = et.get("dispersion") or {}
    disp_rows = [
        {"group_label": group_label(g), **disp[g]} for g in ("trial", "control") if disp.get(g)
    ]
    if disp.get("trial_over_control"):
        disp_rows.append({"group_label": _("trial / control"), **disp["trial_over_control"]})
    disp_cols = (
        Column("group_label", _("Municipalities"), "text"),
        Column("sd_before", _("SD between, before")),
        Column("sd_after", _("SD between, after")),
        Column("ratio", _("After / before")),
        Column("ci_low", _("95 % CI, low")),
        Column("ci_high", _("95 % CI, high")),
        Column("municipalities", _("Municipalities (n)"), "int"),
        Column("n_before", _("Person-years before"), "int"),
        Column("n_after", _("Person-years after"), "int"),
    )
    unit_rows = [{**u, "navn": names.get(u["unit"], "")} for u in result["unit_years"]]
    unit_cols = (
        Column("unit", _("Unit"), "text"),
        Column("navn", _("Name"), "text"),
        Column("aar", _("Year"), "text"),
        Column("users", _("Users"), "int"),
        Column("cost_per_user", marked_label("cost_per_user", result), "num", 0),
        Column("hours_per_user", outcome_label("hours_per_user"), "num", 2),
        Column("institution_share", outcome_label("institution_share"), "pct"),
        Column("users_per_1000_80", outcome_label("users_per_1000_80"), "num", 1),
        Column("participating_share", _("Share of users in participating municipalities"), "pct"),
    )
    return [
        Table(
            _("ICC"),
            _("Between-municipality share of variance given need (multilevel model)"),
            icc_cols,
            icc_rows,
        ),
        Table(_("ICC by year"), _("ICC by year (one-way model)"), by_year_cols, by_year),
        Table(_("Rates"), _("Need-standardised rates"), rate_cols, rates),
        Table(_("Gini"), _("Gini of the municipal rates against chance"), gini_cols, gini_rows),
        Table(
            _("Coverage"),
            _("Needs coverage")
            + (f" {ESTIMATE_MARK}" if result["meta"]["estimated"]["coverage"] else ""),
            tuple(cov_cols),
            result["coverage"],
        ),
        Table(_("DiD"), _("Trial against control: difference in differences"), did_cols, did_rows),
        Table(_("Event study"), _("Event study"), event_cols, events),
        Table(_("Units and years"), _("Outcomes per unit and year"), unit_cols, unit_rows),
        Table(
            _("Spread"),
            _("Between-municipality spread of home-service hours given need, after / before"),
            disp_cols,
            disp_rows,
        ),
    ]


# -- notes that go with every format ------------------------------------------------------------


def notes(result: Mapping[str, Any]) -> list[str]:
    """The flags of the whole report, as sentences."""
    meta = result["meta"]
    out = []
    if meta["synthetic"]:
        out.append(_("The data are synthetic: the figures say nothing about real municipalities."))
    est = meta["estimated"]
    if est["cost"]:
        out.append(
            _(
                "{mark} Costs and weekly-hour equivalents rest on estimated unit prices: {paths}."
            ).format(mark=ESTIMATE_MARK, paths=", ".join(_compact(est["cost"])))
        )
    if est["coverage"]:
        out.append(
            _("{mark} Needs coverage rests on estimated allocation criteria: {paths}.").format(
                mark=ESTIMATE_MARK, paths=", ".join(est["coverage"])
            )
        )
    if est["need_level"]:
        out.append(
            _(
                "{mark} Need levels computed from IPLOS scores use an estimated rule: {paths}."
            ).format(mark=ESTIMATE_MARK, paths=", ".join(est["need_level"]))
        )
    breaks = ", ".join(str(y) for y in meta["register_break_years"])
    out.append(
        _(
            "{mark} {years}: break in the national register series; levels across it are not "
            "strictly comparable."
        ).format(mark=FLAG_MARK, years=breaks)
    )
    if meta["merger_years"]:
        out.append(
            _(
                "{mark} Changes of the municipal structure in {years}: a new number continues a "
                "municipality, a merger starts a new one, and a trial municipality needs a year "
                "before its start under the same borders."
            ).format(mark=FLAG_MARK, years=", ".join(meta["merger_years"]))
        )
    if meta["assessed_share"] is not None and meta["assessed_share"] < 1:
        out.append(
            _(
                "{share} of the person-years have an assessment; the others have the need level "
                "'ukjent'."
            ).format(share=format_number(meta["assessed_share"] * 100, 1) + " %")
        )
    return out


def _compact(paths: Sequence[str]) -> list[str]:
    from sio.report.common import compact_paths

    return compact_paths(list(paths))


# -- the workbook -------------------------------------------------------------------------------


def write_xlsx(result: Mapping[str, Any], path: Path) -> None:
    import xlsxwriter

    from sio.report.common import atomic_path

    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp))
        try:
            bold = wb.add_format({"bold": True})
            header = wb.add_format(
                {"bold": True, "bg_color": "#DCE6F1", "bottom": 1, "text_wrap": True}
            )
            wrap = wb.add_format({"text_wrap": True, "valign": "top"})
            note = wb.add_format({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"})
            pct = wb.add_format({"num_format": "0.0%"})
            num = wb.add_format({"num_format": "0.000"})
            whole = wb.add_format({"num_format": "#,##0"})
            about = wb.add_worksheet(_("About the figures"))
            about.set_column(0, 0, 120)
            about.write_string(0, 0, report_title(result), bold)
            row = 2
            for line in _about_lines(result):
                about.write_string(row, 0, line, note if line.startswith(("!", "*", "†")) else wrap)
                row += 1
            for table in _tables(result):
                ws = wb.add_worksheet(table.sheet[:31])
                for c, col in enumerate(table.columns):
                    ws.write_string(0, c, col.label, header)
                    ws.set_column(c, c, 28 if col.kind == "text" else 14)
                ws.set_row(0, 32)
                for r, item in enumerate(table.rows, start=1):
                    for c, col in enumerate(table.columns):
                        v = item.get(col.key)
                        if v is None or (isinstance(v, float) and not math.isfinite(v)):
                            ws.write_blank(r, c, None)
                        elif col.kind == "text":
                            text = ", ".join(map(str, v)) if isinstance(v, list) else str(v)
                            ws.write_string(r, c, text)
                        elif col.kind == "pct":
                            ws.write_number(r, c, float(v), pct)
                        elif col.kind == "int":
                            ws.write_number(r, c, int(v), whole)
                        else:
                            ws.write_number(r, c, float(v), num)
                ws.freeze_panes(1, 0)
                if table.rows:
                    ws.autofilter(0, 0, len(table.rows), len(table.columns) - 1)
        finally:
            wb.close()


def report_title(result: Mapping[str, Any]) -> str:
    meta = result["meta"]
    return _("SIO evaluation {first}–{last}").format(first=meta["first"], last=meta["last"])


def _about_lines(result: Mapping[str, Any]) -> list[str]:
    meta = result["meta"]
    lines = []
    if meta["synthetic"]:
        lines.append("! " + _("Synthetic data."))
    lines += [
        _("Person-years: {n}; persons: {p}; municipalities: {m}.").format(
            n=meta["person_years"], p=meta["persons"], m=meta["municipalities"]
        ),
        _("A person-year is a person with a vedtak in force on 31 December of the year."),
        _(
            "Costs at the national unit prices of {year}, without employer-tax and travel "
            "corrections."
        ).format(year=meta["price_year"]),
        _("Randomisation inference: {n} permutations, seed {seed}.").format(
            n=meta["settings"]["permutations"], seed=meta["settings"]["seed"]
        ),
    ]
    lines += notes(result)
    return lines


# -- the page -----------------------------------------------------------------------------------


def _series_icc(result: Mapping[str, Any], outcome: str) -> dict[str, list[Any]]:
    from sio.evaluation.charts import Point

    flagged = _flag_years(result)
    out: dict[str, list[Any]] = {}
    for r in result["equal_treatment"]["icc_by_year"]:
        if r["outcome"] != outcome:
            continue
        out.setdefault(group_label(r["group"]), []).append(
            Point(str(r["aar"]), r["icc"], r["ci_low"], r["ci_high"], r["n"], r["aar"] in flagged)
        )
    return out


def _flag_years(result: Mapping[str, Any]) -> set[int]:
    meta = result["meta"]
    return set(meta["register_break_years"]) | {int(y) for y in meta["merger_years"]}


def _charts(result: Mapping[str, Any]) -> dict[str, Any]:
    from sio.evaluation.charts import (
        FunnelPoint,
        Point,
        coverage_chart,
        funnel_chart,
        interval_chart,
    )

    meta = result["meta"]
    last = meta["last"]
    flag_note = _("{mark} flagged year (register break or merger)").format(mark=FLAG_MARK)
    charts: dict[str, Any] = {}
    charts["icc"] = [
        (
            marked_label(o, result),
            interval_chart(
                _series_icc(result, o),
                _("ICC by year: {what}").format(what=outcome_label(o)),
                _(
                    "Between-municipality share of the variance given need, by year, with 95 % "
                    "intervals, for all, trial and control municipalities."
                ),
                _("ICC"),
                f"icc-{o}",
                flag_note,
            ),
        )
        for o in result["equal_treatment"]["outcomes"]
    ]
    charts["funnel"] = []
    for o in result["equal_treatment"]["outcomes"]:
        pts = [
            FunnelPoint(
                f"{r['kommunenummer']} {r['navn']}",
                float(r["expected"] or 0.0),
                float(r["ratio"]) if r["ratio"] is not None else math.nan,
                float(r["se"] or 0.0),
                int(r["n"]),
            )
            for r in result["equal_treatment"]["rates"]
            if r["outcome"] == o and r["aar"] == last
        ]
        charts["funnel"].append(
            (
                marked_label(o, result),
                funnel_chart(
                    pts,
                    _("Need-standardised rates {year}: {what}").format(
                        year=last, what=outcome_label(o)
                    ),
                    _(
                        "Observed / expected per municipality against the expected total "
                        "(logarithmic axis), with 95 % (dashed) and 99.8 % limits."
                    ),
                    f"funnel-{o}",
                ),
            )
        )
    cov_rows = [
        (f"{r['kommunenummer']} {r['navn']}", r, int(r["assessed"]))
        for r in result["coverage"]
        if r["aar"] == last and r["assessed"]
    ]
    charts["coverage"] = coverage_chart(
        cov_rows,
        category_labels(),
        _("Needs coverage {year}").format(year=last),
        _(
            "Share of assessed users within, below and above the recommended range, per "
            "municipality."
        ),
        "coverage",
    )
    charts["events"] = []
    for d in result["did"]:
        events = [
            Point(
                str(e["event_time"]),
                e["estimate"],
                e["ci_low"],
                e["ci_high"],
                e["n_units"],
                bool(e["flags"]),
            )
            for e in d["event_study"]
        ]
        charts["events"].append(
            (
                marked_label(d["outcome"], result),
                interval_chart(
                    {outcome_label(d["outcome"]): events},
                    _("Event study: {what}").format(what=outcome_label(d["outcome"])),
                    _(
                        "Effect by years from the start of participation (0 = first year), "
                        "against the year before (−1), with 95 % randomisation intervals."
                    ),
                    outcome_label(d["outcome"]),
                    f"event-{d['outcome']}",
                    flag_note,
                ),
            )
        )
    return charts


def render_html(result: Mapping[str, Any]) -> str:
    from sio.report.html import template_environment

    tables = _tables(result)

    def cells(table: Table) -> list[list[str]]:
        return [[_fmt(r.get(c.key), c) for c in table.columns] for r in table.rows]

    last = result["meta"]["last"]
    shown = {
        "icc": tables[0],
        "gini": _filter(tables[3], lambda r: r["aar"] == last),
        "did": tables[5],
        "spread": tables[8],
        "outside": _filter(
            tables[2], lambda r: r["aar"] == last and r["funnel"] not in ("inside", None)
        ),
    }
    return (
        template_environment()
        .get_template(TEMPLATE)
        .render(
            lang=get_language(),
            title=report_title(result),
            meta=result["meta"],
            notes=notes(result),
            charts=_charts(result),
            tables={k: (t, cells(t)) for k, t in shown.items()},
            about=_about_lines(result),
            json_name=JSON_NAME,
            xlsx_name=XLSX_NAME,
            Markup=Markup,
        )
    )


def _filter(table: Table, keep: Callable[[dict[str, Any]], bool]) -> Table:
    return Table(table.sheet, table.title, table.columns, [r for r in table.rows if keep(r)])


def write_evaluation(result: Mapping[str, Any], out_dir: Path, lang: str = "nb") -> list[Path]:
    """Write the three files into `out_dir` (created if missing); return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=".sio-evaluation-"))
    names = (JSON_NAME, XLSX_NAME, HTML_NAME)
    try:
        with language(lang):
            (staging / JSON_NAME).write_text(
                json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            write_xlsx(result, staging / XLSX_NAME)
            (staging / HTML_NAME).write_text(render_html(result), encoding="utf-8")
        for name in names:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / n for n in names]
