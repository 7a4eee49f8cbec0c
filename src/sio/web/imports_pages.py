"""The directorate's imports: upload a folder's files (a multiple-file input) or a workbook →
the validation report row by row → confirm → a new data version; the data versions and the
difference between two.

Validation and storing are `sio import`'s own (`sio.store.versions.import_path`, first as a dry
run): the report names the same problems, with the cell's value beside each. The uploaded files
wait in a staging folder of their own (a random name, recorded with the user who uploaded
them) until the same user confirms; nothing is stored in the data store before that, and a
report with errors deletes the staged files at once. Only the `direktorat` role imports.
"""

import json
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from sio.casework.access import Forbidden, NotFound, Principal
from sio.data.validation import ERROR, InputInvalid, Problem
from sio.i18n import translations
from sio.web.auth import PageContext, page_language
from sio.web.deferred import Deferred, deferred_route

__all__ = ["STAGING", "router"]

STAGING = Path(tempfile.gettempdir()) / "sio-opplasting"
SUFFIXES = (".csv", ".parquet", ".xlsx")
KEEP_SECONDS = 24 * 3600  # staged uploads nobody confirmed are removed after a day
TOKEN_RE = r"^[A-Za-z0-9_-]{16,64}$"
SHOWN_PROBLEMS = 500  # problems listed on the page (the count is always of all)
OWNER = ".eier.json"
KEEP_DIFFS = 8  # differences between two versions kept in memory
DIFF_ART = "versjonsdiff"  # the stored difference of two versions (`sio.store.cache`)


@dataclass(frozen=True)
class ReportRow:
    """One problem as the report shows it."""

    file: str
    row: int | None
    field: str | None
    rule: str
    message: str
    severity: str
    value: str | None


def _directorate(p: Principal, request: Request) -> None:
    if p.rolle != "direktorat":
        tr = translations(page_language(request))
        raise Forbidden(tr.gettext("the role {role} may not do this").format(role=p.rolle))


def _sweep() -> None:
    """Remove staged uploads older than `KEEP_SECONDS`."""
    if not STAGING.is_dir():
        return
    now = time.time()
    for d in STAGING.iterdir():
        try:
            if now - d.stat().st_mtime > KEEP_SECONDS:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def _staged(token: str, p: Principal) -> Path:
    """The staged folder of `token` if `p` uploaded it (otherwise: not found)."""
    folder = STAGING / token
    try:
        owner = json.loads((folder / OWNER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound(translations().gettext("not found")) from None
    if owner.get("konto_id") != p.konto_id:
        raise NotFound(translations().gettext("not found"))
    return folder


def _source(folder: Path) -> str:
    """What a version records as its source: the uploaded file names."""
    names = sorted(f.name for f in folder.iterdir() if f.name != OWNER)
    return "opplasting: " + ", ".join(names)


def report_rows(folder: Path, problems: list[Problem]) -> list[ReportRow]:
    """The problems in file and row order, each with the cell's value where it names one."""
    from sio.store.versions import read_import

    try:
        tables, _sha, _p = read_import(folder)
    except InputInvalid:
        tables = {}
    frames = {t.file: t for t in tables.values()}
    out = []
    for pr in problems:
        value = None
        t = frames.get(pr.file)
        if t is not None and pr.row is not None and pr.field:
            text = t.text() if t.native else t.frame
            i = pr.row - t.first_line
            if pr.field in text.columns and 0 <= i < text.height:
                cell = text.get_column(pr.field)[i]
                value = None if cell is None else str(cell)
        out.append(ReportRow(pr.file, pr.row, pr.field, pr.rule, pr.message, pr.severity, value))
    out.sort(key=lambda r: (r.severity != ERROR, r.file, r.row or 0, r.field or ""))
    return out


def router(ctx: PageContext) -> APIRouter:
    r = APIRouter(route_class=deferred_route(ctx), include_in_schema=False)
    Who = Annotated[Principal, Depends(ctx.principal)]
    Version = Annotated[int | None, Query(ge=1)]
    diffs: OrderedDict[tuple[int, int], list[dict[str, Any]]] = OrderedDict()
    lock = threading.Lock()

    def diff_of(a: int, b: int) -> list[dict[str, Any]]:
        """`diff_versions` of two stored versions: computed once and stored (stored versions
        never change), then read; kept in memory as well."""
        from sio.store import cache as stored
        from sio.store.versions import diff_versions, latest_version

        with lock:
            found = diffs.get((a, b))
        if found is not None:
            return found
        key = f"{a}:{b}"
        with ctx.engine.connect() as conn:
            latest = latest_version(conn) or 0
            known = 1 <= a <= latest and 1 <= b <= latest
            if known and a == b:
                return []  # a version against itself: every row unchanged
            found = stored.read(conn, DIFF_ART, max(a, b), "", key) if known else None
        if found is None:
            found = diff_versions(ctx.engine, a, b)  # an unknown version is refused here
            stored.record_computation(DIFF_ART)
            stored.write(ctx.engine, DIFF_ART, max(a, b), "", {key: found})
        with lock:
            diffs[(a, b)] = found
            while len(diffs) > KEEP_DIFFS:
                diffs.popitem(last=False)
        return found

    def page(request: Request, p: Principal, status: int = 200, **values: object) -> Response:
        from sio.store.versions import list_versions

        versions = list_versions(ctx.engine)
        return ctx.render(
            request, "imports.j2", p, status, versions=list(reversed(versions)), **values
        )

    @r.get("/direktorat/import")
    async def imports(request: Request, p: Who, ny: Version = None) -> Response:
        _directorate(p, request)
        return Deferred(lambda: page(request, p, new_version=ny))

    @r.post("/direktorat/import")
    async def upload(
        request: Request, p: Who, filer: Annotated[list[UploadFile], File()]
    ) -> Response:
        _directorate(p, request)
        tr = translations(page_language(request))
        given = [f for f in filer if f.filename]
        wrong = [f.filename for f in given if Path(f.filename or "").suffix not in SUFFIXES]
        if not given or wrong:
            message = (
                tr.gettext("choose one or more CSV, Parquet or Excel files")
                if not given
                else tr.gettext("not a CSV, Parquet or Excel file: {names}").format(
                    names=", ".join(str(w) for w in wrong)
                )
            )
            return Deferred(lambda: page(request, p, 422, upload_error=message))
        _sweep()
        token = secrets.token_urlsafe(24)
        folder = STAGING / token
        folder.mkdir(parents=True, mode=0o700)
        for f in given:
            name = Path(f.filename or "").name
            with (folder / name).open("wb") as out:
                while chunk := await f.read(1 << 20):
                    out.write(chunk)
        (folder / OWNER).write_text(
            json.dumps({"konto_id": p.konto_id, "bruker": p.brukernavn}), encoding="utf-8"
        )

        def check() -> Response:
            from sio.store.versions import import_path

            files = sorted(x.name for x in folder.iterdir() if x.name != OWNER)
            try:
                res = import_path(ctx.engine, folder, ctx.params, p.brukernavn, dry_run=True)
            except InputInvalid as exc:
                rows = report_rows(folder, exc.problems)
                shutil.rmtree(folder, ignore_errors=True)
                return ctx.render(
                    request,
                    "imports_report.j2",
                    p,
                    422,
                    files=files,
                    rows=rows[:SHOWN_PROBLEMS],
                    errors=sum(1 for x in rows if x.severity == ERROR),
                    total=len(rows),
                )
            warnings = report_rows(folder, res.problems)
            if not res.ny:
                shutil.rmtree(folder, ignore_errors=True)
            return ctx.render(
                request,
                "imports_confirm.j2",
                p,
                files=files,
                result=res,
                rows=warnings[:SHOWN_PROBLEMS],
                total=len(warnings),
                token=token,
            )

        return Deferred(check)

    @r.post("/direktorat/import/bekreft")
    async def confirm(
        request: Request,
        p: Who,
        token: Annotated[str, Form(pattern=TOKEN_RE)],
        avbryt: Annotated[str | None, Form()] = None,
    ) -> Response:
        _directorate(p, request)
        folder = _staged(token, p)
        if avbryt:
            shutil.rmtree(folder, ignore_errors=True)
            return RedirectResponse("/direktorat/import", 303)

        def store() -> Response:
            from sio.store.versions import import_path

            try:
                res = import_path(
                    ctx.engine, folder, ctx.params, p.brukernavn, source=_source(folder)
                )
            except InputInvalid as exc:  # the store changed since the check
                rows = report_rows(folder, exc.problems)
                return ctx.render(
                    request,
                    "imports_report.j2",
                    p,
                    422,
                    files=[],
                    rows=rows[:SHOWN_PROBLEMS],
                    errors=sum(1 for x in rows if x.severity == ERROR),
                    total=len(rows),
                )
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            # the pages' figures of the new version, computed once now and stored
            ctx.figures.summary_of(res.versjon)
            for prepare in ctx.after_import:
                prepare(res.versjon)
            return RedirectResponse(f"/direktorat/import?ny={res.versjon}", 303)

        return Deferred(store)

    @r.get("/direktorat/import/diff")
    async def diff(request: Request, p: Who, fra: Version = None, til: Version = None) -> Response:
        _directorate(p, request)

        def work() -> Response:
            if fra is None or til is None:
                return page(request, p)
            try:
                changes = diff_of(fra, til)
            except InputInvalid as exc:
                return page(request, p, 422, diff_error=exc.problems[0].message, fra=fra, til=til)
            return page(request, p, changes=changes, fra=fra, til=til)

        return Deferred(work)

    return r
