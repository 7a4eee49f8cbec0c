"""The casework commands: `sio serve` (the JSON API) and `sio konto` (accounts and tokens for
setting up a service: the first admin, integration tokens; the audit log's retention run)."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from sio.cli.common import EXIT_BAD_INPUT, err, out
from sio.i18n import _

__all__ = ["konto_app", "serve", "serving_lines"]

konto_app = typer.Typer(no_args_is_help=True, help=_("Accounts of the casework service."))


def serving_lines(engine: Any, host: str, port: int) -> list[str]:
    """What `sio serve` says it serves, every time it starts: the address, the pages and the
    JSON API under it, and the store with its newest data version (the password hidden)."""
    from sio.store.versions import latest_version

    with engine.connect() as conn:
        version = latest_version(conn)
    base = f"http://{host}:{port}"
    data = _("data version {v}").format(v=version) if version is not None else _("no data imported")
    return [
        _("Serving at {url}/ — open it in a browser and sign in.").format(url=base),
        "  " + _("Pages: /direktorat, /kommune/NNNN, /parametere (sign-in at /innlogging)"),
        "  " + _("JSON API: /openapi.json, documented at /docs"),
        "  "
        + _("Store: {store} ({data})").format(
            store=engine.url.render_as_string(hide_password=True), data=data
        ),
        _("Stop with Ctrl+C."),
    ]


def serve(
    host: Annotated[str, typer.Option("--host", help=_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help=_("Port."))] = 8000,
    workers: Annotated[int, typer.Option("--workers", help=_("Worker processes."))] = 1,
) -> None:
    """Start the casework JSON API (OpenAPI at /openapi.json) on the store of
    SIO_DATABASE_URL (SQLite by default)."""
    import contextlib
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from sio.store.db import open_store

    store = open_store()  # create or migrate the store once, before the workers start
    # -- start-up on an empty store: demo data and one demo account per role (sio.web.startup)
    from sio.parameters import load_parameters
    from sio.web.startup import prepare_demo

    params = load_parameters()
    setup = prepare_demo(store, params)
    if setup.data_version is not None:
        out.print(
            _("Empty store: the demo data was imported as data version {v}.").format(
                v=setup.data_version
            )
        )
    for a in setup.accounts:
        out.print(
            _("Demo account: {name} / {password} ({role})").format(
                name=a.brukernavn, password=a.passord, role=a.rolle
            )
            + (f" {a.kommunenummer}" if a.kommunenummer else "")
        )
    # the pages' figures of the newest data version, computed once and stored (sio.web.figures);
    # one worker (this process) also loads that version, for the traces and payment pages
    app: Any = None
    if workers <= 1:
        from sio.casework.asgi import app

        app.state.figures.warm(full=True)
    else:
        from sio.web.figures import FigureCache

        FigureCache(store, params).warm()
    for line in serving_lines(store, host, port):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    # -- end of start-up
    options: dict[str, Any] = dict(
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # request lines may carry case ids; the audit log is the record
        http="httptools",  # the C parser: h11 (pure Python) cost a third of a request's CPU
        loop="uvloop",
    )
    if workers <= 1:
        uvicorn.run(app, **options)
        return
    config = uvicorn.Config("sio.casework.asgi:app", **options)
    # uvicorn binds the workers' shared socket without IPPROTO_TCP, so asyncio leaves Nagle on
    # for the accepted connections and every keep-alive answer waits ~40 ms for the client's
    # delayed ACK (uvicorn issue 3149). Accepted sockets inherit TCP_NODELAY from the listener.
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[sock]).run()


@konto_app.command("opprett", help=_("Create an account (the password is asked for)."))
def opprett(
    brukernavn: Annotated[str, typer.Option("--brukernavn", help=_("User name."))],
    rolle: Annotated[
        str,
        typer.Option("--rolle", help=_("saksbehandler, okonomi, direktorat, evaluator or admin.")),
    ],
    kommune: Annotated[
        str | None, typer.Option("--kommune", help=_("Municipality NNNN (bound roles)."))
    ] = None,
) -> None:
    """Create an account directly in the store (e.g. the first admin)."""
    import datetime as dt

    from sio.casework.access import MUNICIPAL, ROLES
    from sio.casework.accounts import binding_problem
    from sio.casework.api import create_account
    from sio.store.db import open_store

    if rolle not in ROLES:
        err.print(_("unknown role {role}").format(role=rolle))
        raise typer.Exit(EXIT_BAD_INPUT)
    if (rolle in MUNICIPAL) != (kommune is not None):
        err.print(_("saksbehandler and okonomi need --kommune; the other roles take none"))
        raise typer.Exit(EXIT_BAD_INPUT)
    engine = open_store()
    with engine.connect() as c:
        problem = binding_problem(c, rolle, kommune, dt.date.today())
    if problem is not None:
        err.print(problem)
        raise typer.Exit(EXIT_BAD_INPUT)
    password = getpass.getpass(_("Password (at least 12 characters): "))
    if len(password) < 12:
        err.print(_("the password must have at least 12 characters"))
        raise typer.Exit(EXIT_BAD_INPUT)
    kid = create_account(engine, brukernavn, password, rolle, kommune)
    out.print(
        _("Account {id} created: {name} ({role})").format(id=kid, name=brukernavn, role=rolle)
    )


@konto_app.command("token", help=_("Issue a bearer token for an account (shown once)."))
def token(
    brukernavn: Annotated[str, typer.Option("--brukernavn", help=_("User name."))],
    dager: Annotated[int, typer.Option("--dager", help=_("Days the token is valid."))] = 90,
    navn: Annotated[str, typer.Option("--navn", help=_("What the token is for."))] = "cli",
) -> None:
    """Issue a bearer token directly in the store."""
    from sqlalchemy import select

    from sio.casework.api import issue_token
    from sio.casework.schema import account
    from sio.store.db import open_store

    engine = open_store()
    with engine.connect() as c:
        kid = c.execute(select(account.c.id).where(account.c.brukernavn == brukernavn)).scalar()
    if kid is None:
        err.print(_("no account {name}").format(name=brukernavn))
        raise typer.Exit(EXIT_BAD_INPUT)
    print(issue_token(engine, int(kid), navn, dager))


@konto_app.command(
    "rydd-logg",
    help=_(
        "Remove audit log entries older than the retention period (SIO_LOGG_DAGER days, "
        "default 1826) and expired idempotency keys; the run is itself logged."
    ),
)
def rydd_logg(
    dager: Annotated[
        int | None,
        typer.Option("--dager", help=_("Retention in days (default: SIO_LOGG_DAGER or 1826).")),
    ] = None,
) -> None:
    """The audit log's retention run (sio.casework.audit.prune)."""
    import datetime as dt

    from sio.casework.audit import prune, retention
    from sio.store.db import open_store
    from sio.store.versions import current_user

    if dager is not None and dager < 1:
        err.print(_("--dager must be at least 1"))
        raise typer.Exit(EXIT_BAD_INPUT)
    keep = dt.timedelta(days=dager) if dager is not None else retention()
    with open_store().begin() as c:
        done = prune(c, current_user(), keep, dt.datetime.now(dt.UTC))
    out.print(
        _("{rows} log entries older than {cutoff} removed; {keys} expired idempotency keys").format(
            rows=done.log_rows, cutoff=done.cutoff.date().isoformat(), keys=done.keys
        )
    )
