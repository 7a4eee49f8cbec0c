"""Faults of the machine and its configuration, told in one line instead of a traceback.

A locked SQLite file, a lost database connection, a full disk, an unreachable or mistyped
database: the store's writes are single transactions (decision 0006), so in each case nothing was
half-written, and the user needs to know what happened and what to do — not a traceback
(`SIO_DEBUG=1` shows it). Configuration mistakes exit with 2 like bad input; faults of the
moment (lock, lost connection, full disk) with 1: running the command again is the remedy.
"""

from __future__ import annotations

import errno

from sio.i18n import _

EXIT_FAULT = 1
EXIT_CONFIG = 2

_PATH_PROBLEMS = {
    errno.EEXIST: lambda: _("a file stands where a folder is needed"),
    errno.ENOTDIR: lambda: _("a file stands where a folder is needed"),
    errno.EISDIR: lambda: _("a folder stands where a file is needed"),
    errno.EACCES: lambda: _("no permission to write there"),
    errno.EPERM: lambda: _("no permission to write there"),
    errno.EROFS: lambda: _("the file system is read-only"),
}


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and contexts, and a DBAPI error's original exception."""
    out: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is seen for seen in out):
            continue
        out.append(e)
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]
    return out


def fault_message(exc: BaseException) -> tuple[str, int] | None:
    """(one line in the user's language, exit code) for a known fault, else None."""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain).lower()
    names = {type(e).__name__ for e in chain}
    if any(isinstance(e, OSError) and e.errno == errno.ENOSPC for e in chain) or (
        "database or disk is full" in text or "no space left on device" in text
    ):
        return (
            _(
                "The disk is full: nothing was stored, the database is as it was. Free some space "
                "and run the command again."
            ),
            EXIT_FAULT,
        )
    for e in chain:  # a path the user gave that cannot be written (or read) as asked
        if isinstance(e, OSError) and e.filename and e.errno in _PATH_PROBLEMS:
            return (
                _(
                    "{path}: {problem}. Check the path given (for example --ut) and try again; "
                    "nothing was written there."
                ).format(path=e.filename2 or e.filename, problem=_PATH_PROBLEMS[e.errno]()),
                EXIT_CONFIG,
            )
    if "database is locked" in text or "database table is locked" in text:
        return (
            _(
                "The database is busy: another import or payment run is writing to it. Nothing "
                "was changed; wait until it has finished and run the command again."
            ),
            EXIT_FAULT,
        )
    lost = (
        "server closed the connection",
        "terminating connection",
        "connection is lost",
        "consuming input failed",
        "connection already closed",
        "the connection is closed",
        "ssl connection has been closed",
    )
    if any(s in text for s in lost):
        return (
            _(
                "The connection to the database was lost: nothing was stored. Run the command "
                "again."
            ),
            EXIT_FAULT,
        )
    if "could not parse sqlalchemy url" in text or ("ArgumentError" in names and "url" in text):
        return (
            _(
                "SIO_DATABASE_URL is not a database address (for example "
                "postgresql+psycopg://user@127.0.0.1:5432/sio or sqlite:///path/sio.db)."
            ),
            EXIT_CONFIG,
        )
    if "NoSuchModuleError" in names:
        return (
            _(
                "SIO_DATABASE_URL names a database kind sio does not know: use sqlite:/// or "
                "postgresql+psycopg://."
            ),
            EXIT_CONFIG,
        )
    unreachable = (
        "connection refused",
        "could not connect",
        "failed to resolve host",
        "could not translate host name",
        "name or service not known",
        "connection timeout expired",
        "does not exist",
        "unable to open database file",
    )
    if "OperationalError" in names and any(s in text for s in unreachable):
        return (
            _(
                "Cannot open the database given by SIO_DATABASE_URL: check the address, that the "
                "database exists and that its server is running."
            ),
            EXIT_CONFIG,
        )
    return None
