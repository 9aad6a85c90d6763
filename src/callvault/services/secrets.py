"""Hashing of passwords and client secrets (scrypt), and of tokens (SHA-256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

from callvault.storage.engine import Database
from callvault.storage.server_settings import signing_key

# scrypt cost: ~20 ms on these machines; enough to make offline guessing slow.
_N, _R, _P = 2**14, 8, 1


def hash_secret(plain: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(plain.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(plain: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(
        plain.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(computed, base64.b64decode(digest))


def token_digest(token: str) -> str:
    """Tokens are long random strings, so a fast unsalted digest is enough to hide them."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


class SigningKey:
    """The key that signs JWT credentials: configured, or generated once and kept in the
    database (read on first use, so building services never touches the database)."""

    def __init__(self, db: Database, configured: str | None = None) -> None:
        self._db = db
        self._value = configured
        self._lock = threading.Lock()

    def get(self) -> str:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = signing_key(self._db)
        return self._value
