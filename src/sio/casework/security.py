"""Security primitives of the casework service: password hashes, session and API tokens, CSRF
tokens, national identity numbers and their keyed pseudonyms.

- Passwords: argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).
- Session cookies and API tokens: 32 random bytes; only their SHA-256 is stored, so a copy of
  the database does not let anyone log in. API tokens carry a visible prefix `sio_`.
- National identity numbers (fødselsnummer, D-nummer) are validated with python-stdnum and are
  replaced everywhere outside the `person` table by HMAC-SHA-256(key, number): the pseudonym.
  The key comes from `SIO_PSEUDONYM_KEY` (hex, at least 32 bytes) or a key file created on first
  use in the user's data directory (mode 0600). Without the key, pseudonyms cannot be linked
  back to persons.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from platformdirs import user_data_dir
from stdnum.exceptions import ValidationError
from stdnum.no import fodselsnummer

from sio.i18n import _

KEY_ENV = "SIO_PSEUDONYM_KEY"
TOKEN_PREFIX = "sio_"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True if `password` matches; a missing hash (no account, or external login only) never
    matches. Either way exactly one argon2 verify runs (of a dummy hash when `stored` is None),
    so the time taken does not tell whether an account exists."""
    try:
        return _hasher.verify(stored or dummy_hash(), password) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


_dummy: tuple[PasswordHasher, str] | None = None


def dummy_hash() -> str:
    """A hash of a random password with the current hasher's parameters, to verify against
    when there is no account: the same work as a known user name."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a session cookie or API token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class InvalidIdentityNumber(ValueError):
    """Not a valid Norwegian national identity number (the message never repeats it)."""


def valid_identity_number(text: str) -> str:
    """The compact 11-digit form of a valid fødselsnummer or D-nummer."""
    try:
        return str(fodselsnummer.validate(text))
    except ValidationError:
        raise InvalidIdentityNumber(
            _("not a valid national identity number (11 digits with valid check digits)")
        ) from None


def _key_file() -> Path:
    return Path(user_data_dir("sio", appauthor=False)) / "pseudonym.key"


@lru_cache(maxsize=1)
def pseudonym_key() -> bytes:
    """The HMAC key of the pseudonyms (see the module docstring)."""
    text = os.environ.get(KEY_ENV, "").strip()
    if text:
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise ValueError(f"{KEY_ENV} must be hexadecimal") from None
        if len(key) < 32:
            raise ValueError(f"{KEY_ENV} must be at least 32 bytes (64 hex digits)")
        return key
    path = _key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def pseudonym(identity_number: str) -> str:
    """The keyed pseudonym of a (validated, compact) identity number: `P` + 24 hex digits."""
    mac = hmac.new(pseudonym_key(), identity_number.encode(), hashlib.sha256).hexdigest()
    return "P" + mac[:24]


def masked(identity_number: str) -> str:
    """The birth date part only, for people who may see that a number exists: `150765*****`."""
    return identity_number[:6] + "*****"
