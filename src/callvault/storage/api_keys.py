"""API keys of the OneUptime face: digests, owning account, permissions and expiry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select

from callvault.storage.schema import api_keys

_K = api_keys.c


@dataclass(slots=True, frozen=True)
class ApiKeyRow:
    id: str
    account_id: int
    name: str
    permissions: tuple[str, ...]
    expires_ms: int | None
    created_ms: int


def _row(r: Any) -> ApiKeyRow:
    perms = tuple(p for p in r.permissions.split(",") if p)
    return ApiKeyRow(r.id, r.account_id, r.name, perms, r.expires_ms, r.created_ms)


def insert_key(conn: Connection, row: ApiKeyRow, key_hash: str) -> None:
    conn.execute(
        api_keys.insert().values(
            id=row.id,
            account_id=row.account_id,
            name=row.name,
            key_hash=key_hash,
            permissions=",".join(row.permissions),
            expires_ms=row.expires_ms,
            created_ms=row.created_ms,
        )
    )


def key_by_hash(conn: Connection, key_hash: str) -> ApiKeyRow | None:
    r = conn.execute(select(api_keys).where(_K.key_hash == key_hash)).first()
    return _row(r) if r else None


def list_keys(conn: Connection, account_id: int) -> list[ApiKeyRow]:
    rows = conn.execute(
        select(api_keys).where(_K.account_id == account_id).order_by(_K.created_ms, _K.id)
    )
    return [_row(r) for r in rows]


def delete_key(conn: Connection, account_id: int, key_id: str) -> int:
    result = conn.execute(delete(api_keys).where(_K.account_id == account_id, _K.id == key_id))
    return int(result.rowcount or 0)
