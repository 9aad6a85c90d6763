"""Accounts, extensions, users, OAuth apps and JWT credentials: rows to plain records."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update

from callvault.storage.numbers import digits
from callvault.storage.schema import (
    accounts,
    extension_links,
    extensions,
    jwt_credentials,
    oauth_apps,
    users,
    webhook_tokens,
)


@dataclass(slots=True, frozen=True)
class AccountRow:
    id: int
    name: str
    main_number: str | None


@dataclass(slots=True, frozen=True)
class ExtensionRow:
    id: int
    account_id: int
    number: str
    name: str
    type: str


@dataclass(slots=True, frozen=True)
class UserRow:
    id: int
    account_id: int
    extension_id: int
    email: str | None
    password_hash: str
    role: str


@dataclass(slots=True, frozen=True)
class AppRow:
    client_id: str
    account_id: int | None
    name: str
    secret_hash: str | None
    grants: tuple[str, ...]
    scopes: tuple[str, ...]


def insert_account(conn: Connection, row: AccountRow, now_ms: int) -> None:
    conn.execute(
        accounts.insert().values(
            id=row.id,
            name=row.name,
            main_number=row.main_number,
            main_number_digits=digits(row.main_number),
            created_ms=now_ms,
        )
    )


def get_account(conn: Connection, account_id: int) -> AccountRow | None:
    r = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
    return AccountRow(r.id, r.name, r.main_number) if r else None


def list_accounts(conn: Connection) -> list[AccountRow]:
    rows = conn.execute(select(accounts).order_by(accounts.c.id))
    return [AccountRow(r.id, r.name, r.main_number) for r in rows]


def find_account_by_number(conn: Connection, number: str) -> AccountRow | None:
    """The account whose main number has the digits of ``number`` (any format), if any."""
    wanted = digits(number)
    if wanted is None:
        return None
    r = conn.execute(
        select(accounts).where(accounts.c.main_number_digits == wanted).order_by(accounts.c.id)
    ).first()
    return AccountRow(r.id, r.name, r.main_number) if r else None


def insert_extension(conn: Connection, row: ExtensionRow, now_ms: int) -> None:
    conn.execute(
        extensions.insert().values(
            id=row.id,
            account_id=row.account_id,
            number=row.number,
            name=row.name,
            type=row.type,
            created_ms=now_ms,
        )
    )


def _ext(r: object) -> ExtensionRow:
    return ExtensionRow(r.id, r.account_id, r.number, r.name, r.type)  # type: ignore[attr-defined]


def list_extensions(conn: Connection, account_id: int) -> list[ExtensionRow]:
    rows = conn.execute(
        select(extensions)
        .where(extensions.c.account_id == account_id)
        .order_by(extensions.c.number)
    )
    return [_ext(r) for r in rows]


def get_extension(conn: Connection, extension_id: int) -> ExtensionRow | None:
    r = conn.execute(select(extensions).where(extensions.c.id == extension_id)).first()
    return _ext(r) if r else None


def find_extension(conn: Connection, account_id: int, number: str) -> ExtensionRow | None:
    r = conn.execute(
        select(extensions).where(
            extensions.c.account_id == account_id, extensions.c.number == number
        )
    ).first()
    return _ext(r) if r else None


def _user(r: object) -> UserRow:
    return UserRow(
        r.id,  # type: ignore[attr-defined]
        r.account_id,  # type: ignore[attr-defined]
        r.extension_id,  # type: ignore[attr-defined]
        r.email,  # type: ignore[attr-defined]
        r.password_hash,  # type: ignore[attr-defined]
        r.role,  # type: ignore[attr-defined]
    )


def insert_user(
    conn: Connection,
    *,
    account_id: int,
    extension_id: int,
    email: str | None,
    password_hash: str,
    role: str,
    now_ms: int,
) -> int:
    result = conn.execute(
        users.insert()
        .values(
            account_id=account_id,
            extension_id=extension_id,
            email=email,
            password_hash=password_hash,
            role=role,
            created_ms=now_ms,
        )
        .returning(users.c.id)
    )
    return int(result.scalar_one())


def get_user(conn: Connection, user_id: int) -> UserRow | None:
    r = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _user(r) if r else None


def find_user_by_email(conn: Connection, email: str) -> UserRow | None:
    r = conn.execute(select(users).where(users.c.email == email.lower())).first()
    return _user(r) if r else None


def find_user_by_extension(conn: Connection, extension_id: int) -> UserRow | None:
    r = conn.execute(select(users).where(users.c.extension_id == extension_id)).first()
    return _user(r) if r else None


def list_users(conn: Connection, account_id: int) -> list[UserRow]:
    rows = conn.execute(select(users).where(users.c.account_id == account_id).order_by(users.c.id))
    return [_user(r) for r in rows]


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def insert_app(conn: Connection, row: AppRow, now_ms: int) -> None:
    conn.execute(
        oauth_apps.insert().values(
            client_id=row.client_id,
            account_id=row.account_id,
            name=row.name,
            secret_hash=row.secret_hash,
            grants=" ".join(row.grants),
            scopes=" ".join(row.scopes),
            created_ms=now_ms,
        )
    )


def get_app(conn: Connection, client_id: str) -> AppRow | None:
    r = conn.execute(select(oauth_apps).where(oauth_apps.c.client_id == client_id)).first()
    if r is None:
        return None
    return AppRow(
        r.client_id,
        r.account_id,
        r.name,
        r.secret_hash,
        tuple(r.grants.split()),
        tuple(r.scopes.split()),
    )


def list_apps(conn: Connection, account_id: int) -> list[AppRow]:
    rows = conn.execute(select(oauth_apps.c.client_id).where(oauth_apps.c.account_id == account_id))
    return [app for (cid,) in rows if (app := get_app(conn, cid)) is not None]


def insert_jwt_credential(conn: Connection, jti: str, user_id: int, now_ms: int) -> None:
    conn.execute(
        jwt_credentials.insert().values(id=jti, user_id=user_id, created_ms=now_ms, revoked=False)
    )


def jwt_credential_user(conn: Connection, jti: str) -> int | None:
    """The user a live (unrevoked) JWT credential belongs to."""
    r = conn.execute(
        select(jwt_credentials.c.user_id).where(
            jwt_credentials.c.id == jti, jwt_credentials.c.revoked.is_(False)
        )
    ).first()
    return int(r[0]) if r else None


def linked_extension(
    conn: Connection, account_id: int, source: str, external_id: str
) -> int | None:
    """The callvault extension a vendor's extension id maps to, if it was seen before."""
    r = conn.execute(
        select(extension_links.c.extension_id).where(
            extension_links.c.account_id == account_id,
            extension_links.c.source == source,
            extension_links.c.external_id == external_id,
        )
    ).first()
    return int(r[0]) if r else None


def insert_link(
    conn: Connection, account_id: int, source: str, external_id: str, extension_id: int
) -> None:
    conn.execute(
        extension_links.insert().values(
            account_id=account_id,
            source=source,
            external_id=external_id,
            extension_id=extension_id,
        )
    )


def set_webhook_token(
    conn: Connection, account_id: int, source: str, token_hash: str, now_ms: int
) -> None:
    conn.execute(
        delete(webhook_tokens).where(
            webhook_tokens.c.account_id == account_id, webhook_tokens.c.source == source
        )
    )
    conn.execute(
        webhook_tokens.insert().values(
            account_id=account_id, source=source, token_hash=token_hash, created_ms=now_ms
        )
    )


def webhook_token_hash(conn: Connection, account_id: int, source: str) -> str | None:
    r = conn.execute(
        select(webhook_tokens.c.token_hash).where(
            webhook_tokens.c.account_id == account_id, webhook_tokens.c.source == source
        )
    ).first()
    return str(r[0]) if r else None
