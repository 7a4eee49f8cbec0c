"""The casework JSON API (FastAPI): `create_app()`; `sio serve` runs it with uvicorn.

Authentication: a session cookie `sio_okt` from `POST /api/innlogging` (for the coming pages;
writes then need the header `X-CSRF-Token` with the session's CSRF token), or a bearer token
(`Authorization: Bearer sio_…`) for integrations. Login attempts are rate-limited per user name
and per address. Every error answer is JSON with a Norwegian `detail`; bad input answers 422
with one entry per field (`loc`, `msg` in Norwegian, `type`).

An OIDC login path (`/api/innlogging/oidc/…`) is reserved for a health-sector identity provider
(HelseID / ID-porten): it answers 404 (no such provider) until one is configured (decision 0009).

Every signed-in operation runs through `_Route`: the body is received first (no transaction is
open while the request waits for bytes), then in one transaction the caller is authenticated —
before the body is parsed, so a request without a valid token answers 401 whatever its body —,
an `Idempotency-Key` is claimed (creating writes), the handler runs, and the transaction commits
before the answer is sent (rolled back on any error answer). Every status an operation can give
is in /openapi.json (`contract.documented`).
"""

import dataclasses
import datetime as dt
import os
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPBearer
from fastapi.utils import create_model_field
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from sio.casework import accounts, contract, idempotency, overload, service
from sio.casework import models as m
from sio.casework.access import Forbidden, NotFound, Principal, require
from sio.casework.contract import CONFLICT, TOO_MANY, link
from sio.casework.schema import STATISTICS_TABLES, account, api_token, login_attempt, session
from sio.casework.security import (
    digest,
    dummy_hash,
    hash_password,
    new_api_token,
    new_secret,
    same,
    verify_password,
)
from sio.criteria import Assessment, CriteriaSet, CriteriaVersion, load_criteria
from sio.i18n import _
from sio.parameters import ParameterSet, load_parameters
from sio.store import statistics

COOKIE = "sio_okt"
CSRF_HEADER = "X-CSRF-Token"
REASON_HEADER = "X-Begrunnelse"
SESSION_HOURS = 8
LOGIN_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
MAX_ID = 2_147_483_647  # the databases' INTEGER: a larger id is a bad request, not a crash

Id = Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])]
VedtakId = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", examples=["SAK1-1"])
]
Day = Annotated[m.Dato | None, Query()]

# the answers every operation shares are added by `_Route` (contract.documented)
ERRORS: dict[int | str, dict[str, Any]] = {}


class AuthError(Exception):
    """401 (`status` 401) or 429 with a Retry-After."""

    def __init__(self, message: str, status: int = 401, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class CsrfError(Exception):
    """403: a write with a session cookie but without the right CSRF token."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


# -- Norwegian validation messages ----------------------------------------------------------------


def _validation_messages() -> dict[str, str]:
    return {
        "missing": _("required field is missing"),
        "extra_forbidden": _("unknown field"),
        "string_too_short": _("too short (at least {min_length} characters)"),
        "string_too_long": _("too long (at most {max_length} characters)"),
        "string_pattern_mismatch": _("wrong format"),
        "string_type": _("must be text"),
        "int_parsing": _("must be a whole number"),
        "int_type": _("must be a whole number"),
        "int_from_float": _("must be a whole number"),
        "date_from_datetime_parsing": _("must be a date YYYY-MM-DD"),
        "date_parsing": _("must be a date YYYY-MM-DD"),
        "date_type": _("must be a date YYYY-MM-DD"),
        "decimal_parsing": _("must be a number"),
        "decimal_type": _("must be a number"),
        "decimal_max_digits": _("too many digits"),
        "decimal_max_places": _("too many decimals"),
        "greater_than": _("must be greater than {gt}"),
        "greater_than_equal": _("must be at least {ge}"),
        "less_than_equal": _("must be at most {le}"),
        "literal_error": _("must be one of {expected}"),
        "bool_parsing": _("must be true or false"),
        "bool_type": _("must be true or false"),
        "dict_type": _("must be an object"),
        "model_type": _("must be an object"),
        "model_attributes_type": _("must be an object"),
        "json_invalid": _("not valid JSON"),
        "float_parsing": _("must be a number"),
        "list_type": _("must be a list"),
        "text_characters": _("contains characters that are not allowed (such as NUL)"),
        "string_unicode": _("contains characters that are not allowed (such as NUL)"),
    }


def _norwegian(errors: list[Any]) -> list[dict[str, Any]]:
    texts = _validation_messages()
    out = []
    for e in errors:
        template = texts.get(str(e.get("type")))
        msg = str(e.get("msg", ""))
        if template is not None:
            try:
                msg = template.format(**(e.get("ctx") or {}))
            except (KeyError, IndexError):
                msg = template
        out.append({"loc": list(e.get("loc", ())), "msg": msg, "type": str(e.get("type"))})
    return out


def _field_error(loc: list[str | int], message: str, kind: str = "value_error") -> JSONResponse:
    return JSONResponse(
        status_code=422, content={"detail": [{"loc": loc, "msg": message, "type": kind}]}
    )


# -- the app --------------------------------------------------------------------------------------


def create_app(
    engine: Engine | None = None,
    criteria: CriteriaSet | None = None,
    params: ParameterSet | None = None,
    secure_cookies: bool | None = None,
) -> FastAPI:
    """The casework service on `engine` (default: the store of `SIO_DATABASE_URL`)."""
    if engine is None:
        from sio.store.db import open_store

        engine = open_store()
    store: Engine = engine  # for the nested functions (mypy does not narrow into them)
    crit = criteria or load_criteria()
    prm = params or load_parameters()
    secure = (
        secure_cookies
        if secure_cookies is not None
        else os.environ.get("SIO_COOKIE_SECURE", "1") != "0"
    )
    app = FastAPI(
        title="sio saksbehandling",
        version="1",
        description=(
            "Tildeling av omsorgstjenester etter statlige kriterier: henvendelse, kartlegging "
            "(IPLOS), anbefaling (LEON), vedtak og revurdering. Vedtak blir vedtaksrader for "
            "finansieringen (SIO)."
        ),
    )
    app.add_middleware(overload.Shed, max_in_flight=overload.limit())
    keep = idempotency.lifetime()
    upkeep = statistics.Upkeep(store, STATISTICS_TABLES)
    dummy_hash()  # made now, so that the first unknown user name costs no more than a known one

    # -- errors ----------------------------------------------------------------------------------
    @app.exception_handler(RequestValidationError)
    async def _bad_request(_r: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _norwegian(list(exc.errors()))})

    @app.exception_handler(HTTPException)
    async def _http(_r: Request, exc: HTTPException) -> JSONResponse:
        # the framework's own answers (unreadable body, no such route or method) in Norwegian
        texts = {
            400: _("the request body could not be read"),
            404: _("not found"),
            405: _("method not allowed"),
        }
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only the first route's
            allowed = {
                method
                for route in app.router.routes
                if isinstance(route, APIRoute) and route.matches(_r.scope)[0] != Match.NONE
                for method in route.methods or ()
            }
            headers["Allow"] = ", ".join(sorted(allowed))
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": texts.get(exc.status_code, exc.detail)},
            headers=headers,
        )

    @app.exception_handler(service.Invalid)
    async def _invalid(_r: Request, exc: service.Invalid) -> JSONResponse:
        return _field_error(["body", exc.field], str(exc))

    @app.exception_handler(ValidationError)
    async def _invalid_model(_r: Request, exc: ValidationError) -> JSONResponse:
        errs = _norwegian(list(exc.errors()))
        for e in errs:
            e["loc"] = ["body", *e["loc"]]
        return JSONResponse(status_code=422, content={"detail": errs})

    @app.exception_handler(NotFound)
    async def _not_found(_r: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(Forbidden)
    async def _forbidden(_r: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": str(exc)})

    @app.exception_handler(CsrfError)
    async def _csrf(_r: Request, _exc: CsrfError) -> JSONResponse:
        return JSONResponse(
            status_code=403,
            content={"detail": _("missing or wrong CSRF token (header X-CSRF-Token)")},
        )

    @app.exception_handler(AuthError)
    async def _auth(_r: Request, exc: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse(status_code=exc.status, content={"detail": str(exc)}, headers=headers)

    # -- dependencies ----------------------------------------------------------------------------
    # Handlers are async and run the (short, synchronous) database work on the event loop: a
    # request is one uninterrupted stretch from BEGIN to COMMIT, with no hand-offs to a thread
    # pool (which cost a third of the CPU under load). Only sign-in, whose argon2 check takes
    # ~50 ms, runs in the thread pool — and holds no transaction while it hashes.
    async def conn(request: Request) -> Connection:
        c: Connection = request.state.conn  # opened by _Route, committed before the answer
        return c

    Conn = Annotated[Connection, Depends(conn)]

    # built once: a statement object keeps its compiled form and cache key between requests
    # and only the columns `authenticate` reads (each column read is an object made per request)
    caller = (account.c.brukernavn, account.c.rolle, account.c.kommunenummer, account.c.aktiv)
    token_query = (
        select(api_token.c.konto_id, api_token.c.utloper, api_token.c.tilbakekalt, *caller)
        .join(account, account.c.id == api_token.c.konto_id)
        .where(api_token.c.token_hash == bindparam("h"))
    )
    session_query = (
        select(session.c.konto_id, session.c.utloper, session.c.avsluttet, session.c.csrf, *caller)
        .join(account, account.c.id == session.c.konto_id)
        .where(session.c.id == bindparam("h"))
    )

    def authenticate(request: Request, c: Connection) -> Principal:
        """The caller of `request` (bearer token, else session cookie + CSRF token on writes)."""
        authorization = request.headers.get("authorization")
        if authorization:
            scheme, _sep, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not value:
                raise AuthError(_("not signed in"))
            r = c.execute(token_query, {"h": digest(value.strip())}).first()
            if r is None or r.tilbakekalt is not None or _aware(r.utloper) < _now() or not r.aktiv:
                raise AuthError(_("the token is unknown, expired or revoked"))
            return Principal(r.konto_id, r.brukernavn, r.rolle, r.kommunenummer, "token")
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            raise AuthError(_("not signed in"))
        s = c.execute(session_query, {"h": digest(cookie)}).first()
        if s is None or s.avsluttet is not None or _aware(s.utloper) < _now() or not s.aktiv:
            raise AuthError(_("the session has ended: sign in again"))
        x_csrf_token = request.headers.get(CSRF_HEADER)
        if request.method in UNSAFE and not (x_csrf_token and same(x_csrf_token, s.csrf)):
            raise CsrfError()
        return Principal(s.konto_id, s.brukernavn, s.rolle, s.kommunenummer, "okt", s.csrf)

    bearer = HTTPBearer(auto_error=False, description="API-token: Authorization: Bearer sio_…")
    cookie_scheme = APIKeyCookie(
        name=COOKIE, auto_error=False, description="Øktcookie fra POST /api/innlogging"
    )

    async def principal(  # documents the operation; requests solve `signed_in_caller`
        request: Request,
        _bearer: Annotated[Any, Depends(bearer)],
        _cookie: Annotated[Any, Depends(cookie_scheme)],
        _csrf: Annotated[
            str | None,
            Header(alias=CSRF_HEADER, description="Øktens CSRF-token (skrivende kall med cookie)"),
        ] = None,
    ) -> Principal:
        # authenticated by _Route before the body was parsed; the parameters document it
        p: Principal = request.state.principal
        return p

    async def idempotency_key(
        _key: Annotated[
            str | None,
            Header(
                alias=idempotency.HEADER,
                max_length=255,
                pattern=r"^[\x21-\x7e]+$",
                description=(
                    "Valgfri nøkkel for trygge nye forsøk: samme nøkkel og samme innhold gir det "
                    "første svaret igjen uten å lagre noe nytt; samme nøkkel med annet innhold "
                    "gir 422. Nøkkelen gjelder i SIO_IDEMPOTENS_TIMER timer (standard 24)."
                ),
            ),
        ] = None,
    ) -> None:
        return None

    def _uses_principal(dependant: Any) -> bool:
        return any(d.call is principal or _uses_principal(d) for d in dependant.dependencies)

    async def signed_in_caller(request: Request) -> Principal:
        p: Principal = request.state.principal
        return p

    def _lean(dependant: Dependant) -> Dependant:
        """`dependant` with `principal` as the request needs it (see `_Route`)."""
        if dependant.call is principal:
            return dataclasses.replace(
                dependant, call=signed_in_caller, dependencies=[], header_params=[]
            )
        return dataclasses.replace(
            dependant, dependencies=[_lean(d) for d in dependant.dependencies]
        )

    def _replayed(stored: idempotency.Stored) -> Response:
        return Response(
            stored.body,
            status_code=stored.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )

    def _key_reused() -> JSONResponse:
        return JSONResponse(
            status_code=422,
            content={
                "detail": [
                    {
                        "loc": ["header", idempotency.HEADER],
                        "msg": _(
                            "the Idempotency-Key was used before for another request: use a new key"
                        ),
                        "type": "idempotency_key_reused",
                    }
                ]
            },
        )

    class _Route(APIRoute):
        """A route whose signed-in requests authenticate before the body is parsed, in one
        transaction with the handler (see the module docstring)."""

        def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
            self.creates = (
                "POST" in (kwargs.get("methods") or ()) and kwargs.get("status_code") == 201
            )
            if self.creates:
                kwargs["dependencies"] = [
                    *(kwargs.get("dependencies") or []),
                    Depends(idempotency_key),
                ]
            super().__init__(path, endpoint, **kwargs)

        def get_route_handler(self) -> Any:
            signed_in = _uses_principal(self.dependant)
            # The handler solves a lean copy of the dependencies: `principal`'s parameters
            # (bearer, cookie, CSRF header) only document the operation — they never fail and
            # their values are unused, since _Route has authenticated the caller already — so
            # the requests skip them; /openapi.json is built from `self.dependant`, unchanged.
            documented = self.dependant
            if signed_in:
                self.dependant = _lean(documented)
            try:
                handler = super().get_route_handler()
            finally:
                self.dependant = documented
            shared = contract.documented(self, signed_in)
            self.responses = {**shared, **self.responses}
            for code, answer in shared.items():  # as FastAPI does for the route's own responses
                if code not in self.response_fields:
                    self.response_fields[code] = create_model_field(
                        name=f"Response_{code}_{self.unique_id}",
                        type_=answer["model"],
                        mode="serialization",
                    )
            if not signed_in:
                return handler
            creates = self.creates

            async def run(request: Request) -> Response:
                body = await request.body()  # received before a transaction is opened
                key = request.headers.get(idempotency.HEADER) if creates else None
                if key is not None and not idempotency.KEY.match(key):
                    key = None  # the handler's validation answers 422 for it
                with store.connect() as c:
                    tx = c.begin()
                    try:
                        p = authenticate(request, c)
                        request.state.conn = c
                        request.state.principal = p
                        if key is not None:
                            target = request.url.path + (
                                "?" + request.url.query if request.url.query else ""
                            )
                            fp = idempotency.fingerprint(request.method, target, body)
                            try:
                                stored = idempotency.claim(c, p.konto_id, key, fp, _now(), keep)
                            except idempotency.Reused:
                                tx.rollback()
                                return _key_reused()
                            if stored is not None:
                                tx.rollback()
                                return _replayed(stored)
                        response = await handler(request)
                    except BaseException:
                        tx.rollback()
                        raise
                    if response.status_code >= 400:
                        tx.rollback()
                        return response
                    if key is not None:
                        idempotency.store(
                            c, p.konto_id, key, response.status_code, bytes(response.body)
                        )
                    tx.commit()
                upkeep.tick()  # fresh planner statistics, in a thread of its own when due
                return response

            return run

    app.router.route_class = _Route

    Who = Annotated[Principal, Depends(principal)]
    Reason = Annotated[
        str | None,
        Header(alias=REASON_HEADER, description="Hvorfor personopplysningene brukes (logges)"),
    ]

    async def store_params() -> ParameterSet:
        return prm

    # -- authentication --------------------------------------------------------------------------
    @app.post(
        "/api/innlogging",
        response_model=m.Meg,
        tags=["innlogging"],
        responses={401: contract.UNAUTHENTICATED, 429: TOO_MANY},
    )
    def login(body: m.Innlogging, request: Request, response: Response) -> m.Meg:
        # A known and an unknown user name cost the same: the same queries, one argon2 verify
        # (of a dummy hash when there is no account or no password), the same insert.
        ip = request.client.host if request.client else "ukjent"
        since = _now() - LOGIN_WINDOW
        with engine.connect() as c:
            failures_user = c.execute(
                select(func.count()).where(
                    login_attempt.c.brukernavn == body.brukernavn,
                    login_attempt.c.tidspunkt >= since,
                    login_attempt.c.vellykket.is_(False),
                )
            ).scalar_one()
            failures_ip = c.execute(
                select(func.count()).where(
                    login_attempt.c.ip == ip,
                    login_attempt.c.tidspunkt >= since,
                    login_attempt.c.vellykket.is_(False),
                )
            ).scalar_one()
            r = c.execute(select(account).where(account.c.brukernavn == body.brukernavn)).first()
        if failures_user >= MAX_FAILURES_PER_USER or failures_ip >= MAX_FAILURES_PER_ADDRESS:
            raise AuthError(
                _("too many failed sign-ins: wait 15 minutes"),
                status=429,
                retry_after=int(LOGIN_WINDOW.total_seconds()),
            )
        # the password check (argon2) outside any transaction
        ok = verify_password(r.passord_hash if r is not None else None, body.passord)
        ok = ok and r is not None and bool(r.aktiv)
        with engine.begin() as c:
            c.execute(
                insert(login_attempt).values(
                    brukernavn=body.brukernavn, ip=ip, tidspunkt=_now(), vellykket=ok
                )
            )
            if ok and r is not None:
                secret, csrf = new_secret(), new_secret()
                c.execute(
                    insert(session).values(
                        id=digest(secret),
                        konto_id=r.id,
                        csrf=csrf,
                        opprettet=_now(),
                        utloper=_now() + dt.timedelta(hours=SESSION_HOURS),
                    )
                )
        if not ok or r is None:
            return JSONResponse(  # type: ignore[return-value]
                status_code=401,
                content={"detail": _("wrong user name or password")},
                headers={"WWW-Authenticate": "Bearer"},
            )
        response.set_cookie(
            COOKIE,
            secret,
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            secure=secure,
            samesite="strict",
            path="/",
        )
        return m.Meg(
            brukernavn=r.brukernavn,
            rolle=r.rolle,
            kommunenummer=r.kommunenummer,
            innlogget_med="okt",
            csrf_token=csrf,
        )

    @app.post("/api/utlogging", status_code=204, tags=["innlogging"], responses=ERRORS)
    async def logout(request: Request, c: Conn, p: Who) -> Response:
        cookie = request.cookies.get(COOKIE)
        if p.via == "okt" and cookie:
            c.execute(
                update(session).where(session.c.id == digest(cookie)).values(avsluttet=_now())
            )
        resp = Response(status_code=204)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.get("/api/meg", response_model=m.Meg, tags=["innlogging"], responses=ERRORS)
    async def me(p: Who) -> m.Meg:
        return m.Meg(
            brukernavn=p.brukernavn,
            rolle=p.rolle,  # type: ignore[arg-type]
            kommunenummer=p.kommunenummer,
            innlogget_med=p.via,  # type: ignore[arg-type]
            csrf_token=p.csrf,
        )

    @app.get(
        "/api/innlogging/oidc/{leverandor}",
        tags=["innlogging"],
        responses={
            404: {**contract.NOT_FOUND, "description": "Ingen slik OIDC-leverandør er satt opp"}
        },
    )
    async def oidc_start(leverandor: Annotated[str, Path(max_length=40)]) -> JSONResponse:
        # reserved (docs/decisions/0009): no provider is configured, so none is found
        return JSONResponse(
            status_code=404,
            content={
                "detail": _("no OIDC identity provider is configured ({name})").format(
                    name=leverandor[:40]
                )
            },
        )

    # -- tokens ----------------------------------------------------------------------------------
    @app.post(
        "/api/tokens",
        response_model=m.NyTokenSvar,
        status_code=201,
        tags=["tokens"],
        responses=ERRORS,
    )
    async def create_token(body: m.NyToken, c: Conn, p: Who) -> m.NyTokenSvar:
        if p.via != "okt":
            raise Forbidden(_("tokens are made from a signed-in session, not with a token"))
        tid, secret, made, expires = insert_token(c, p.konto_id, body.navn, body.dager)
        return m.NyTokenSvar(
            id=tid,
            navn=body.navn,
            opprettet=made,
            utloper=expires,
            tilbakekalt=None,
            token=secret,
        )

    @app.get("/api/tokens", response_model=list[m.Token], tags=["tokens"], responses=ERRORS)
    async def list_tokens(c: Conn, p: Who) -> list[m.Token]:
        rows = c.execute(
            select(api_token).where(api_token.c.konto_id == p.konto_id).order_by(api_token.c.id)
        ).fetchall()
        return [
            m.Token(
                id=r.id,
                navn=r.navn,
                opprettet=_aware(r.opprettet),
                utloper=_aware(r.utloper),
                tilbakekalt=_aware(r.tilbakekalt) if r.tilbakekalt else None,
            )
            for r in rows
        ]

    @app.delete("/api/tokens/{token_id}", status_code=204, tags=["tokens"], responses=ERRORS)
    async def revoke_token(token_id: Id, c: Conn, p: Who) -> Response:
        q = update(api_token).where(api_token.c.id == token_id, api_token.c.tilbakekalt.is_(None))
        if p.rolle != "admin":
            q = q.where(api_token.c.konto_id == p.konto_id)
        if c.execute(q.values(tilbakekalt=_now())).rowcount == 0:
            raise NotFound(_("no token {id}").format(id=token_id))
        return Response(status_code=204)

    # -- accounts (admin) ------------------------------------------------------------------------
    def _account_out(r: Any) -> m.Konto:
        return m.Konto(
            id=r.id,
            brukernavn=r.brukernavn,
            rolle=r.rolle,
            kommunenummer=r.kommunenummer,
            aktiv=bool(r.aktiv),
        )

    def _check_binding(c: Connection, rolle: str, kommune: str | None) -> None:
        problem = accounts.binding_problem(c, rolle, kommune, dt.date.today())
        if problem is not None:
            raise service.Invalid("kommunenummer", problem)

    @app.post(
        "/api/kontoer",
        response_model=m.Konto,
        status_code=201,
        tags=["kontoer"],
        responses={409: CONFLICT},
    )
    async def create_account(body: m.NyKonto, c: Conn, p: Who) -> Any:
        require(p, "admin")
        _check_binding(c, body.rolle, body.kommunenummer)
        taken = JSONResponse(status_code=409, content={"detail": _("the user name is taken")})
        if c.execute(select(account.c.id).where(account.c.brukernavn == body.brukernavn)).first():
            return taken
        try:
            with c.begin_nested():  # a name taken at the same moment by another request
                kid = insert_account(
                    c, body.brukernavn, body.passord, body.rolle, body.kommunenummer
                )
        except IntegrityError:
            return taken
        return _account_out(c.execute(select(account).where(account.c.id == kid)).one())

    @app.get("/api/kontoer", response_model=list[m.Konto], tags=["kontoer"], responses=ERRORS)
    async def list_accounts(c: Conn, p: Who) -> list[m.Konto]:
        require(p, "admin")
        return [_account_out(r) for r in c.execute(select(account).order_by(account.c.id))]

    @app.patch(
        "/api/kontoer/{konto_id}",
        response_model=m.Konto,
        tags=["kontoer"],
        responses={
            409: {**CONFLICT, "description": "Ville ikke etterlate noen aktiv administrator"}
        },
    )
    async def change_account(konto_id: Id, body: m.KontoEndring, c: Conn, p: Who) -> m.Konto:
        require(p, "admin")
        r = c.execute(select(account).where(account.c.id == konto_id)).first()
        if r is None:
            raise NotFound(_("no account {id}").format(id=konto_id))
        values: dict[str, Any] = {}
        if body.passord is not None:
            values["passord_hash"] = hash_password(body.passord)
        if body.aktiv is not None:
            values["aktiv"] = body.aktiv
        rolle = body.rolle or r.rolle
        kommune = (
            body.kommunenummer if "kommunenummer" in body.model_fields_set else (r.kommunenummer)
        )
        if body.rolle is not None or "kommunenummer" in body.model_fields_set:
            _check_binding(c, rolle, kommune)
            values.update(rolle=rolle, kommunenummer=kommune)
        aktiv = body.aktiv if body.aktiv is not None else bool(r.aktiv)
        try:
            accounts.check_admins_remain(c, p.konto_id, konto_id, rolle, aktiv)
        except accounts.LockOut as exc:
            return JSONResponse(status_code=409, content={"detail": str(exc)})  # type: ignore[return-value]
        if values:
            c.execute(update(account).where(account.c.id == konto_id).values(**values))
        if values.get("aktiv") is False or "passord_hash" in values or "rolle" in values:
            c.execute(
                update(session)
                .where(session.c.konto_id == konto_id, session.c.avsluttet.is_(None))
                .values(avsluttet=_now())
            )
        return _account_out(c.execute(select(account).where(account.c.id == konto_id)).one())

    # -- casework --------------------------------------------------------------------------------
    @app.post(
        "/api/saker",
        response_model=m.Sak,
        status_code=201,
        tags=["saker"],
        operation_id="opprett_sak",
        responses={
            201: {
                "description": "Saken er registrert",
                "links": {
                    "Kartlegging": link(
                        "ny_kartlegging", "Kartlegg søkeren i saken", sak_id="$response.body#/id"
                    ),
                    "Sak": link("hent_sak", "Hent saken", sak_id="$response.body#/id"),
                },
            }
        },
    )
    async def create_case(body: m.NySak, c: Conn, p: Who, reason: Reason = None) -> Any:
        return service.create_case(c, p, body.fodselsnummer, body.mottatt, body.henvendelse, reason)

    @app.get("/api/saker", response_model=m.Saksliste, tags=["saker"], responses=ERRORS)
    async def list_cases(
        c: Conn,
        p: Who,
        side: Annotated[int, Query(ge=1, le=100000)] = 1,
        per_side: Annotated[int, Query(ge=1, le=100)] = 20,
        reason: Reason = None,
    ) -> Any:
        return service.list_cases(c, p, side, per_side, reason)

    @app.get("/api/saker/{sak_id}", response_model=m.Sak, tags=["saker"], operation_id="hent_sak")
    async def get_case(sak_id: Id, c: Conn, p: Who, reason: Reason = None) -> Any:
        return service.get_case(c, p, sak_id, reason)

    @app.post(
        "/api/saker/{sak_id}/foreloepig-svar",
        response_model=m.Sak,
        tags=["saker"],
        responses=ERRORS,
    )
    async def preliminary_reply(
        sak_id: Id, body: m.ForeloepigSvar, c: Conn, p: Who, reason: Reason = None
    ) -> Any:
        return service.preliminary_reply(c, p, sak_id, body.dato, reason)

    @app.post(
        "/api/saker/{sak_id}/kartlegginger",
        response_model=m.KartleggingKvittering,
        status_code=201,
        tags=["saker"],
        operation_id="ny_kartlegging",
        responses={
            201: {
                "description": "Kartleggingen er lagret",
                "links": {
                    "Anbefaling": link(
                        "ny_anbefaling",
                        "Anbefaling etter LEON fra den nye kartleggingen",
                        sak_id="$response.body#/sak_id",
                    )
                },
            }
        },
    )
    async def add_assessment(
        sak_id: Id, body: m.NyKartlegging, c: Conn, p: Who, reason: Reason = None
    ) -> Any:
        try:
            a = Assessment.model_validate(
                {
                    "scores": body.skaarer,
                    "assessed_on": body.kartlagt_dato,
                    "assessor": body.kartlagt_av,
                    "signed_on": body.signert_dato,
                    "what_matters": body.hva_er_viktig,
                }
            )
        except ValidationError as exc:
            names = {
                "scores": "skaarer",
                "assessed_on": "kartlagt_dato",
                "assessor": "kartlagt_av",
                "signed_on": "signert_dato",
                "what_matters": "hva_er_viktig",
            }
            errs = _norwegian(list(exc.errors()))
            for e in errs:
                loc = e["loc"]
                e["loc"] = ["body", names.get(str(loc[0]), loc[0]), *loc[1:]] if loc else ["body"]
            return JSONResponse(status_code=422, content={"detail": errs})
        return service.add_assessment(c, p, sak_id, a, reason)

    @app.post(
        "/api/saker/{sak_id}/anbefalinger",
        response_model=m.AnbefalingKvittering,
        status_code=201,
        tags=["saker"],
        operation_id="ny_anbefaling",
        responses={
            201: {
                "description": "Anbefalingen er lagret",
                "links": {
                    "Vedtak": link(
                        "nytt_vedtak", "Vedtak etter anbefalingen", sak_id="$response.body#/sak_id"
                    )
                },
            }
        },
    )
    async def make_recommendation(sak_id: Id, c: Conn, p: Who, reason: Reason = None) -> Any:
        return service.make_recommendation(c, p, sak_id, crit, reason)

    @app.post(
        "/api/saker/{sak_id}/vedtak",
        response_model=m.VedtakUt,
        status_code=201,
        tags=["saker"],
        operation_id="nytt_vedtak",
        responses={
            201: {
                "description": "Vedtaket er lagret og er en vedtaksrad i en ny dataversjon",
                "links": {
                    "Endring": link(
                        "endre_vedtak",
                        "Endre vedtaket (samme vedtak_id, ny dataversjon)",
                        sak_id="$request.path.sak_id",
                        vedtak_id="$response.body#/vedtak_id",
                    ),
                    "Sak": link("hent_sak", "Hent saken", sak_id="$request.path.sak_id"),
                },
            }
        },
    )
    async def decide(
        sak_id: Id,
        body: m.NyttVedtak,
        c: Conn,
        p: Who,
        prm_: Annotated[ParameterSet, Depends(store_params)],
        reason: Reason = None,
    ) -> Any:
        return service.decide(c, p, sak_id, body.model_dump(), crit, prm_, reason)

    @app.post(
        "/api/saker/{sak_id}/vedtak/{vedtak_id}/endringer",
        response_model=m.VedtakUt,
        status_code=201,
        tags=["saker"],
        operation_id="endre_vedtak",
    )
    async def change_decision(
        sak_id: Id,
        vedtak_id: VedtakId,
        body: m.Vedtaksendring,
        c: Conn,
        p: Who,
        prm_: Annotated[ParameterSet, Depends(store_params)],
        reason: Reason = None,
    ) -> Any:
        return service.decide(
            c, p, sak_id, body.model_dump(), crit, prm_, reason, supersedes=vedtak_id
        )

    @app.post(
        "/api/saker/{sak_id}/revurderinger",
        response_model=m.RevurderingKvittering,
        status_code=201,
        tags=["saker"],
        responses=ERRORS,
    )
    async def add_reevaluation(
        sak_id: Id, body: m.NyRevurdering, c: Conn, p: Who, reason: Reason = None
    ) -> Any:
        return service.add_reevaluation(c, p, sak_id, body.dato, body.vurdering, reason)

    @app.get(
        "/api/frister/forfalte",
        response_model=list[m.Forfalt],
        tags=["oppfolging"],
        responses=ERRORS,
    )
    async def overdue(c: Conn, p: Who, dato: Day = None) -> Any:
        return service.overdue_cases(c, p, crit, dato or dt.date.today())

    @app.get(
        "/api/statistikk/avvik", response_model=list[m.Avvik], tags=["statistikk"], responses=ERRORS
    )
    async def deviations(c: Conn, p: Who) -> Any:
        return service.deviation_counts(c, p)

    @app.get(
        "/api/vedtak",
        response_model=list[m.PseudonymtVedtak],
        tags=["statistikk"],
        responses=ERRORS,
    )
    async def decisions(
        c: Conn,
        p: Who,
        kommunenummer: Annotated[str | None, Query(pattern=m.KOMMUNENUMMER)] = None,
        grense: Annotated[int, Query(ge=1, le=1000)] = 100,
        fra_rad: Annotated[int, Query(ge=0, le=10**9)] = 0,
        reason: Reason = None,
    ) -> Any:
        return service.pseudonymous_decisions(c, p, kommunenummer, grense, fra_rad, reason)

    @app.post("/api/innsyn/logg", response_model=list[m.Loggrad], tags=["innsyn"], responses=ERRORS)
    async def access_log(body: m.Innsynsbegjaering, c: Conn, p: Who, reason: Reason = None) -> Any:
        return service.person_access_log(c, p, body.fodselsnummer, reason)

    @app.get(
        "/api/kriterier",
        response_model=m.Kriterieversjon,
        tags=["kriterier"],
        responses={404: {**contract.NOT_FOUND, "description": "Ingen kriterieversjon på dagen"}},
    )
    async def criteria_now(p: Who, dato: Day = None) -> m.Kriterieversjon:
        from sio.criteria import CriteriaLookupError

        try:
            v = crit.at(dato or dt.date.today())
        except CriteriaLookupError as exc:
            raise NotFound(str(exc)) from None
        if v.id not in criteria_answers:  # a version never changes: built once per process
            criteria_answers[v.id] = _criteria_answer(v)
        return criteria_answers[v.id]

    criteria_answers: dict[str, m.Kriterieversjon] = {}

    def _criteria_answer(v: CriteriaVersion) -> m.Kriterieversjon:
        return m.Kriterieversjon(
            id=v.id,
            gyldig_fra=v.valid_from,
            tjenester=[
                {
                    "kode": code,
                    "navn": s.name,
                    "trinn": s.step,
                    "enhet": s.unit,
                    "prisgruppe": s.price_group,
                    "omfang": {k: {"min": r.min, "max": r.max} for k, r in s.volume.items()},
                    "evidens": s.evidence,
                }
                for code, s in sorted(v.care_ladder.services.items(), key=lambda t: t[1].step)
            ],
            avviksbegrunnelser=[
                {"kode": k, "tekst": j.text} for k, j in sorted(v.justifications.items())
            ],
        )

    # -- pages for people (sio.web): sign-in, directorate, parameters, casework pages ----------
    from sio.web import install as install_pages

    install_pages(app, engine, prm, crit)
    # -- end of pages ----------------------------------------------------------------------------

    return app


def insert_account(
    c: Connection, brukernavn: str, passord: str | None, rolle: str, kommunenummer: str | None
) -> int:
    """Store a new account (no password: external sign-in only); returns its id."""
    return int(
        c.execute(
            insert(account)
            .values(
                brukernavn=brukernavn,
                passord_hash=hash_password(passord) if passord else None,
                rolle=rolle,
                kommunenummer=kommunenummer,
                aktiv=True,
                opprettet=_now(),
            )
            .returning(account.c.id)
        ).scalar_one()
    )


def insert_token(
    c: Connection, konto_id: int, navn: str, days: int
) -> tuple[int, str, dt.datetime, dt.datetime]:
    """Store a new bearer token: (id, the secret — shown once, stored only as a hash —, made,
    expires)."""
    secret = new_api_token()
    made = _now()
    expires = made + dt.timedelta(days=days)
    tid = c.execute(
        insert(api_token)
        .values(
            konto_id=konto_id,
            navn=navn,
            token_hash=digest(secret),
            opprettet=made,
            utloper=expires,
        )
        .returning(api_token.c.id)
    ).scalar_one()
    return int(tid), secret, made, expires


def create_account(
    engine: Engine, brukernavn: str, passord: str | None, rolle: str, kommunenummer: str | None
) -> int:
    """Create an account directly in the store (for set-up scripts and tests)."""
    with engine.begin() as c:
        return insert_account(c, brukernavn, passord, rolle, kommunenummer)


def issue_token(engine: Engine, konto_id: int, navn: str = "test", days: int = 30) -> str:
    """A bearer token for an account, made directly in the store (set-up scripts, tests)."""
    with engine.begin() as c:
        return insert_token(c, konto_id, navn, days)[1]
