"""API keys for the OneUptime face: one account each (its project), a set of permission names,
an optional expiry. The key itself is a random UUID shown once and stored as a digest."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from callvault.errors import InvalidInput, NotFound
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.services.secrets import token_digest
from callvault.storage import api_keys as rows
from callvault.storage.accounts import get_account
from callvault.storage.api_keys import ApiKeyRow
from callvault.storage.engine import Database

# A key reads everything of its account unless given narrower permissions.
DEFAULT_PERMISSIONS = ("Viewer",)


@dataclass(slots=True, frozen=True)
class IssuedKey:
    key: str  # the secret: shown once
    row: ApiKeyRow


class ApiKeyService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    def create(
        self,
        account_id: int,
        name: str,
        permissions: Sequence[str] = DEFAULT_PERMISSIONS,
        *,
        expires_in: timedelta | None = None,
    ) -> IssuedKey:
        """A new key for the account; the returned ``key`` is not stored anywhere."""
        if not name.strip() or len(name) > 100:
            raise InvalidInput("must be 1-100 characters", field="name")
        perms = tuple(dict.fromkeys(p.strip() for p in permissions if p.strip()))
        if any("," in p for p in perms):
            raise InvalidInput("permission names contain no commas", field="permissions")
        key = str(uuid.uuid4())
        stamp = now_ms(self.clock)
        expires = stamp + int(expires_in.total_seconds() * 1000) if expires_in else None
        row = ApiKeyRow(str(uuid.uuid4()), account_id, name.strip(), perms, expires, stamp)
        with self.db.write() as conn:
            if get_account(conn, account_id) is None:
                raise NotFound(f"account {account_id} does not exist", field="accountId")
            rows.insert_key(conn, row, token_digest(key.lower()))
        return IssuedKey(key, row)

    def check(self, key: str) -> ApiKeyRow | None:
        """The key's row if it exists and has not expired."""
        with self.db.read() as conn:
            row = rows.key_by_hash(conn, token_digest(key.strip().lower()))
        if row is None or (row.expires_ms is not None and row.expires_ms <= now_ms(self.clock)):
            return None
        return row

    def keys(self, account_id: int) -> list[ApiKeyRow]:
        with self.db.read() as conn:
            return rows.list_keys(conn, account_id)

    def revoke(self, account_id: int, key_id: str) -> None:
        with self.db.write() as conn:
            if not rows.delete_key(conn, account_id, key_id):
                raise NotFound(f"API key {key_id} does not exist", field="keyId")
