"""`sio explain --postering ID`: one ledger line explained — its run and versions, what was
paid for its key before it, and how the target figure was computed, down to the vedtak lines for
the activity grant."""

from __future__ import annotations

from pathlib import Path

from sio.cli.common import estimate_note, out, payment_errors, payment_params, store
from sio.cli.trace_view import print_month_lines, trace_tree
from sio.i18n import _, format_kroner_oere
from sio.utbetaling.model import SALDO

__all__ = ["explain_posting"]


def explain_posting(posting_id: int, override: Path | None) -> None:
    """Explain one ledger line: its run and versions, what was paid for its key before, and how
    the target figure was computed — down to the vedtak lines for the activity grant."""
    from rich.table import Table

    from sio.rules.participation import month_index, month_of
    from sio.rules.settlement import advance_source
    from sio.store import ledger
    from sio.utbetaling.run import (
        PaymentError,
        compute,
        params_of_version,
        run_month_of,
        settlement_lag,
    )

    with payment_errors():
        params, _ov = payment_params(override)
        engine = store()
        with engine.connect() as conn:
            p = ledger.get_posting(conn, posting_id)
            if p is None:
                raise PaymentError(_("no ledger line {id}").format(id=posting_id))
            run = ledger.get_run(conn, p.kjoring_id or 0)
            assert run is not None
            before = [
                q
                for q in ledger.postings(conn, aar=p.aar, kommunenummer=p.kommunenummer)
                if (q.maaned, q.komponent) == (p.maaned, p.komponent) and (q.id or 0) < posting_id
            ]
            run_params = params_of_version(conn, p.parameter_versjon, params)
        advance = p.komponent == "aktivitetstilskudd" and p.art == "akonto"
        # an advance rests on an earlier month, which may lie in the year before
        years = [p.aar - 1, p.aar] if advance else [p.aar]
        computed = compute(engine, run_params, years, p.data_versjon)
    period = f"{p.aar}-{p.maaned:02d}" if p.maaned else str(p.aar)
    out.print(
        _("Ledger line {id}: {code} {period} {komp}, {art}: {amount} kr").format(
            id=posting_id,
            code=p.kommunenummer,
            period=period,
            komp=p.komponent,
            art=p.art,
            amount=format_kroner_oere(p.beloep_oere),
        ),
        style="bold",
    )
    out.print(_("Reason: {text}").format(text=p.begrunnelse), markup=False)
    out.print(
        _(
            "Run {id} ({art} {periode}, {when}, {user}); data version {dv}, parameter version {pv}"
        ).format(
            id=run.id,
            art=run.art,
            periode=run.periode,
            when=run.startet.strftime("%Y-%m-%d %H:%M"),
            user=run.bruker,
            dv=p.data_versjon,
            pv=p.parameter_versjon,
        )
    )
    if p.forrige_data_versjon is not None:
        out.print(
            _(
                "Corrects what was computed from data version {dv} and parameter version {pv}."
            ).format(dv=p.forrige_data_versjon, pv=p.forrige_parameter_versjon)
        )
    paid = sum(q.beloep_oere for q in before)
    table = Table(
        title=_("Paid for {code} {period} {komp} before this line").format(
            code=p.kommunenummer, period=period, komp=p.komponent
        )
    )
    for c in (_("line"), _("run"), _("kind"), _("amount (kr)"), _("data version")):
        table.add_column(c)
    for q in before:
        table.add_row(
            str(q.id),
            str(q.kjoring_id),
            q.art,
            format_kroner_oere(q.beloep_oere),
            str(q.data_versjon),
        )
    out.print(table)
    out.print(
        _("Paid before {paid} kr + this line {amount} kr = {target} kr.").format(
            paid=format_kroner_oere(paid),
            amount=format_kroner_oere(p.beloep_oere),
            target=format_kroner_oere(paid + p.beloep_oere),
        )
    )
    row = computed.rows.get((p.kommunenummer, p.aar))
    ent = computed.entitlements.get((p.kommunenummer, p.aar))
    if row is None or ent is None:
        out.print(
            _("Data version {dv} gives {code} no money in {year}: the target is 0 kr.").format(
                dv=p.data_versjon, code=p.kommunenummer, year=p.aar
            )
        )
        return
    fin = computed.engine
    if p.komponent == SALDO:
        with engine.connect() as conn:
            bal = ledger.opening_balances(conn).get((p.kommunenummer, p.aar))
            runs = ledger.list_runs(conn)
        first = min(run_month_of(r) for r in runs if r.art == "maaned")
        if bal is not None:
            til = bal.covered_to(first)
            out.print(
                _(
                    "The opening balance of {year}: the entitlement of {year}-01 to "
                    "{year}-{month:02d} is {due} kr; {paid} kr was paid for those months before "
                    "the ledger ({source}); the ledger settles the difference, {diff} kr."
                ).format(
                    year=p.aar,
                    month=til,
                    due=format_kroner_oere(ent.through(til)),
                    paid=format_kroner_oere(bal.utbetalt_oere),
                    source=bal.kilde,
                    diff=format_kroner_oere(ent.through(til) - bal.utbetalt_oere),
                ),
                markup=False,
            )
    elif p.maaned is None:
        out.print(
            _(
                "The {komp} of {year} is {annual} kr in whole kroner; "
                "its months add up to {months} kr."
            ).format(
                komp=p.komponent,
                year=p.aar,
                annual=format_kroner_oere(getattr(row.result, p.komponent) * 100),
                months=format_kroner_oere(
                    sum(ent.months.get(m, {}).get(p.komponent, 0) for m in ent.months)
                ),
            )
        )
    elif advance:
        month = run_month_of(run)
        reported = month_of(month_index(month) - settlement_lag(run_params, month))
        src = advance_source(computed.entitlements, p.kommunenummer, reported) or (
            p.aar,
            p.maaned,
        )
        out.print(
            _("The advance is the activity grant of {month}:").format(
                month=f"{src[0]}-{src[1]:02d}"
            )
        )
        print_month_lines(fin, computed.years[src[0]], p.kommunenummer, src[0], src[1])
    elif p.komponent == "aktivitetstilskudd":
        print_month_lines(fin, computed.years[p.aar], p.kommunenummer, p.aar, p.maaned)
    else:
        out.print(
            _(
                "The month's share is {share} kr (the year's exact amount paid 1/12 a month, "
                "rounded cumulatively to øre):"
            ).format(share=format_kroner_oere(ent.months.get(p.maaned, {}).get(p.komponent, 0)))
        )
        node = next((c for c in row.trace.children if c.label == p.komponent), None)
        if node is not None:
            out.print(trace_tree(node))
    from sio.report.estimates import present_figures

    estimate_note(row.result.estimerte_parametere, present_figures(row.result))
