"""Server-wide values kept in the database, such as the generated signing key."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from callvault.storage.engine import Database
from callvault.storage.schema import server_settings

SIGNING_KEY = "signing_key"


def signing_key(db: Database) -> str:
    """The server's signing key, created on first use so every process shares one."""
    with db.read() as conn:
        found = conn.execute(
            select(server_settings.c.value).where(server_settings.c.key == SIGNING_KEY)
        ).scalar_one_or_none()
    if found is not None:
        return str(found)
    try:
        with db.write() as conn:
            conn.execute(
                server_settings.insert().values(key=SIGNING_KEY, value=secrets.token_urlsafe(48))
            )
    except IntegrityError:
        pass  # another process created it first
    return signing_key(db)
