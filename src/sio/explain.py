"""The trace of one municipality-year: how each annual figure follows from the rules' results.

Built on demand (`MunicipalityYear.trace`) from what the engine computed — the extraction's own
trace, the months' exact amounts, the Covid replacements, the parameter lookups — so it shows the
same numbers the figures were made of. `sio explain` prints it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from sio.i18n import _
from sio.parameters import UsageLog
from sio.results import AnnualResult
from sio.rules.aktivitetstilskudd import count_lines
from sio.rules.prosjektmidler import ProjectCostCheck
from sio.trace import Node, fmt_exact

if TYPE_CHECKING:
    from sio.engine import Engine, MonthFigures


def year_trace(
    engine: Engine,
    result: AnnualResult,
    months: list[MonthFigures],
    exact: dict[str, Fraction],
    uttrekk_node: Node,
    covid_nodes: list[Node],
    log: UsageLog,
    topp_year: int,
    check: ProjectCostCheck | None,
) -> Node:
    """The tree behind `result`: netto, then each component down to months and parameters."""
    code, year = result.kommunenummer, result.aar
    counts = count_lines(engine.data.vedtak, engine.params, code, year)
    for mf in months:
        mf.aktivitet_linjer = counts[mf.maaned - 1] if mf.aktivitet else 0
    root = Node(
        _("{name} ({code}) {year}").format(name=result.navn, code=code, year=year),
        result.netto,
        "kr",
        _("netto = tilskudd − uttrekk − toppfinansiering = {a} − {b} − {c}").format(
            a=fmt_exact(result.tilskudd),
            b=fmt_exact(result.uttrekk),
            c=fmt_exact(result.toppfinansiering),
        ),
    )
    n = len(months)
    act_n = sum(1 for m in months if m.aktivitet)
    uses = list(log.uses.values())

    u = uttrekk_node.value if isinstance(uttrekk_node.value, Fraction) else Fraction(0)
    root.add(
        Node(
            "uttrekk",
            result.uttrekk,
            "kr",
            f"{fmt_exact(u)} × {n}/12 = {fmt_exact(exact['uttrekk'])}"
            f" → {fmt_exact(result.uttrekk)}",
            children=[uttrekk_node],
        )
    )
    root.add(
        Node(
            "toppfinansiering",
            result.toppfinansiering,
            "kr",
            f"{fmt_exact(topp_year)} × {act_n}/12 = {fmt_exact(exact['toppfinansiering'])}"
            f" → {fmt_exact(result.toppfinansiering)}",
            inputs=[_("toppfinansiering: {v} kr for {y}").format(v=topp_year, y=year)],
        )
    )
    act = Node(
        "aktivitetstilskudd",
        result.aktivitetstilskudd,
        "kr",
        " + ".join(fmt_exact(m.aktivitetstilskudd_oere) for m in months if m.aktivitet)
        + f" øre = {fmt_exact(exact['aktivitetstilskudd'])} kr"
        f" → {fmt_exact(result.aktivitetstilskudd)}"
        if act_n
        else "0",
        params=[x for x in uses if x.path.startswith("aktivitetstilskudd")],
    )
    for m in months:
        if m.aktivitet:
            act.add(
                Node(
                    _("month {m:02d}").format(m=m.maaned),
                    m.aktivitetstilskudd_oere,
                    "øre",
                    _("Covid replacement")
                    if m.covid_erstattet
                    else _("sum of {n} vedtak lines").format(n=m.aktivitet_linjer),
                )
            )
    act.children.extend(covid_nodes)
    root.add(act)
    root.add(
        Node(
            "rundsumtilskudd",
            result.rundsumtilskudd,
            "kr",
            _("andel × uttrekk / 12 over {n} activity-financed months").format(n=act_n)
            + f" = {fmt_exact(exact['rundsumtilskudd'])} → {fmt_exact(result.rundsumtilskudd)}",
            params=[x for x in uses if x.path.startswith("rundsumtilskudd")],
        )
    )
    ob_n = sum(1 for m in months if not m.aktivitet)
    root.add(
        Node(
            "oeremerket_tilskudd",
            result.oeremerket_tilskudd,
            "kr",
            f"{fmt_exact(u)} × {ob_n}/12 = {fmt_exact(exact['oeremerket_tilskudd'])}"
            f" → {fmt_exact(result.oeremerket_tilskudd)}",
        )
    )
    root.add(
        Node(
            "inntektspaaslag",
            result.inntektspaaslag,
            "kr",
            _("Σ min(sats × uttrekk, tak) / 12 over {n} months").format(n=n)
            + f" = {fmt_exact(exact['inntektspaaslag'])} → {fmt_exact(result.inntektspaaslag)}",
            params=[x for x in uses if x.path.startswith("inntektspaaslag")],
        )
    )
    root.add(
        Node(
            "tilskudd",
            result.tilskudd,
            "kr",
            f"{fmt_exact(result.aktivitetstilskudd)} + {fmt_exact(result.rundsumtilskudd)} + "
            f"{fmt_exact(result.oeremerket_tilskudd)} + {fmt_exact(result.inntektspaaslag)}",
        )
    )
    if check is not None:
        verdict = _("within the limit") if check.innenfor else _("OVER the limit")
        root.add(
            Node(
                _("project costs"),
                check.beloep,
                "kr",
                _("{amount} kr against the limit {limit} kr: {verdict}").format(
                    amount=fmt_exact(check.beloep),
                    limit=fmt_exact(check.grense),
                    verdict=verdict,
                ),
                params=[u for u in log.uses.values() if u.path.endswith("prosjektmidler_maks")],
            )
        )
    return root
