"""OAuth sessions: an access token and a rotating refresh token per login, stored as digests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, or_, select, update

from callvault.storage.schema import oauth_sessions


@dataclass(slots=True, frozen=True)
class SessionRow:
    id: str
    user_id: int
    client_id: str
    scope: str
    access_hash: str
    access_expires_ms: int
    refresh_hash: str | None
    refresh_expires_ms: int | None
    previous_refresh_hash: str | None
    previous_refresh_until_ms: int | None
    revoked: bool


def _row(r: object) -> SessionRow:
    return SessionRow(*(getattr(r, f) for f in SessionRow.__slots__))


def insert_session(conn: Connection, row: SessionRow, now_ms: int) -> None:
    values = {f: getattr(row, f) for f in SessionRow.__slots__}
    conn.execute(oauth_sessions.insert().values(**values, created_ms=now_ms))


def by_access_hash(conn: Connection, access_hash: str) -> SessionRow | None:
    r = conn.execute(
        select(oauth_sessions).where(oauth_sessions.c.access_hash == access_hash)
    ).first()
    return _row(r) if r else None


def by_refresh_hash(conn: Connection, refresh_hash: str) -> SessionRow | None:
    """The session whose current, or just-rotated, refresh token has this digest."""
    r = conn.execute(
        select(oauth_sessions).where(
            or_(
                oauth_sessions.c.refresh_hash == refresh_hash,
                oauth_sessions.c.previous_refresh_hash == refresh_hash,
            )
        )
    ).first()
    return _row(r) if r else None


def rotate(
    conn: Connection,
    session_id: str,
    *,
    access_hash: str,
    access_expires_ms: int,
    refresh_hash: str,
    refresh_expires_ms: int,
    previous_refresh_hash: str | None,
    previous_refresh_until_ms: int | None,
) -> None:
    conn.execute(
        update(oauth_sessions)
        .where(oauth_sessions.c.id == session_id)
        .values(
            access_hash=access_hash,
            access_expires_ms=access_expires_ms,
            refresh_hash=refresh_hash,
            refresh_expires_ms=refresh_expires_ms,
            previous_refresh_hash=previous_refresh_hash,
            previous_refresh_until_ms=previous_refresh_until_ms,
        )
    )


def revoke(conn: Connection, session_id: str) -> None:
    conn.execute(
        update(oauth_sessions).where(oauth_sessions.c.id == session_id).values(revoked=True)
    )
