"""Accounts, extensions, users, OAuth apps and JWT credentials: creation and lookup."""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum

import jwt
from sqlalchemy.exc import IntegrityError

from callvault.errors import Conflict, InvalidInput, NotFound
from callvault.importers.native_events import ExtensionResolver
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.services.secrets import SigningKey, hash_secret, token_digest
from callvault.storage import accounts as rows
from callvault.storage.accounts import AccountRow, AppRow, ExtensionRow, UserRow
from callvault.storage.engine import Database


class Role(StrEnum):
    """``admin`` reads the company log; ``user`` reads only the own extension's log."""

    ADMIN = "admin"
    USER = "user"


# What a RingCentral app asks for to read and manage call logs.
DEFAULT_SCOPES = ("ReadAccounts", "ReadCallLog", "EditCallLog", "ReadCallRecording", "RingOut")
DEFAULT_GRANTS = ("password", "urn:ietf:params:oauth:grant-type:jwt-bearer", "refresh_token")
EXTENSION_TYPES = ("User", "Department", "IvrMenu", "Announcement", "Voicemail", "ParkLocation")
JWT_AUDIENCE = "callvault-oauth"

_EXT_NUMBER = re.compile(r"^\d{1,8}$")


@dataclass(slots=True, frozen=True)
class IssuedApp:
    client_id: str
    client_secret: str | None


def _new_id() -> int:
    """A 9-digit id, the shape RingCentral's account and extension ids have."""
    return 100_000_000 + secrets.randbelow(900_000_000)


# Extensions whose account is kept in memory, per process (a few bytes each).
_OWNERS_KEPT = 100_000


class AccountService:
    def __init__(self, db: Database, secret_key: SigningKey, clock: Clock = system_clock) -> None:
        self.db = db
        self.secret_key = secret_key
        self.clock = clock
        self._owners: dict[int, int] = {}

    def extension_owner(self, extension_id: int) -> int | None:
        """The account an extension belongs to, or None for an unknown extension.

        Asked on every request that names another extension's log. An extension never moves
        to another account and is never deleted, so a found owner is kept for the life of the
        process; an unknown id is asked again each time (it may be created later).
        """
        owner = self._owners.get(extension_id)
        if owner is not None:
            return owner
        with self.db.read() as conn:
            ext = rows.get_extension(conn, extension_id)
        if ext is None:
            return None
        if len(self._owners) >= _OWNERS_KEPT:
            self._owners.clear()
        self._owners[extension_id] = ext.account_id
        return ext.account_id

    def create_account(
        self, name: str, main_number: str | None = None, *, account_id: int | None = None
    ) -> AccountRow:
        row = AccountRow(account_id or _new_id(), name, main_number)
        with self.db.write() as conn:
            rows.insert_account(conn, row, now_ms(self.clock))
        return row

    def account(self, account_id: int) -> AccountRow:
        with self.db.read() as conn:
            row = rows.get_account(conn, account_id)
        if row is None:
            raise NotFound(f"account {account_id} does not exist", field="accountId")
        return row

    def list_accounts(self) -> list[AccountRow]:
        with self.db.read() as conn:
            return rows.list_accounts(conn)

    def add_extension(
        self,
        account_id: int,
        number: str,
        name: str,
        type: str = "User",
        *,
        extension_id: int | None = None,
    ) -> ExtensionRow:
        if not _EXT_NUMBER.match(number):
            raise InvalidInput(f"extension number {number!r} must be 1-8 digits", field="number")
        if type not in EXTENSION_TYPES:
            raise InvalidInput(
                f"extension type {type!r} is not one of {', '.join(EXTENSION_TYPES)}", field="type"
            )
        self.account(account_id)
        row = ExtensionRow(extension_id or _new_id(), account_id, number, name, type)
        try:
            with self.db.write() as conn:
                rows.insert_extension(conn, row, now_ms(self.clock))
        except IntegrityError as exc:
            raise Conflict(f"extension {number} already exists", field="number") from exc
        return row

    def extensions(self, account_id: int) -> list[ExtensionRow]:
        with self.db.read() as conn:
            return rows.list_extensions(conn, account_id)

    def extension_by_number(self, account_id: int, number: str) -> ExtensionRow | None:
        with self.db.read() as conn:
            return rows.find_extension(conn, account_id, number)

    def add_user(
        self,
        account_id: int,
        extension_number: str,
        *,
        email: str | None,
        password: str,
        role: Role = Role.USER,
    ) -> UserRow:
        if len(password) < 8:
            raise InvalidInput("password must have at least 8 characters", field="password")
        ext = self.extension_by_number(account_id, extension_number)
        if ext is None:
            raise NotFound(f"extension {extension_number} does not exist", field="extension")
        pw_hash = hash_secret(password)
        try:
            with self.db.write() as conn:
                user_id = rows.insert_user(
                    conn,
                    account_id=account_id,
                    extension_id=ext.id,
                    email=email.lower() if email else None,
                    password_hash=pw_hash,
                    role=role.value,
                    now_ms=now_ms(self.clock),
                )
        except IntegrityError as exc:
            raise Conflict("a user with that extension or email already exists") from exc
        return UserRow(user_id, account_id, ext.id, email, pw_hash, role.value)

    def resolver(self, account_id: int) -> ExtensionResolver:
        """Map an event's extension reference (callvault id or short number) to an id of
        this account; the directory is read once per call of this method."""
        exts = self.extensions(account_id)
        by_id = {str(e.id): e.id for e in exts}
        by_number = {e.number: e.id for e in exts}

        def resolve(ext_id: str | None, number: str | None) -> int | None:
            if ext_id:
                return by_id.get(ext_id)
            return by_number.get(number or "")

        return resolve

    def link_extension(
        self,
        account_id: int,
        source: str,
        external_id: str,
        *,
        number: str | None = None,
        name: str | None = None,
    ) -> int:
        """The callvault extension for a vendor's extension id, created on first sight.

        The new extension takes the vendor's short number when it is known and free, or a free
        number in the 9xxxxxx range otherwise.
        """
        with self.db.read() as conn:
            found = rows.linked_extension(conn, account_id, source, external_id)
        if found is not None:
            return found
        taken = {e.number for e in self.extensions(account_id)}
        if not number or not _EXT_NUMBER.match(number) or number in taken:
            number = next(
                f"9{n:06d}" for n in range(len(taken) + 1, 10**6) if f"9{n:06d}" not in taken
            )
        row = ExtensionRow(_new_id(), account_id, number, name or f"{source} {external_id}", "User")
        try:
            with self.db.write() as conn:
                rows.insert_extension(conn, row, now_ms(self.clock))
                rows.insert_link(conn, account_id, source, external_id, row.id)
        except IntegrityError:
            # Another request linked it at the same moment: use theirs.
            with self.db.read() as conn:
                again = rows.linked_extension(conn, account_id, source, external_id)
            if again is None:
                raise
            return again
        return row.id

    def issue_webhook_token(self, account_id: int, source: str) -> str:
        """A new verification token for a vendor's webhooks (replaces the old one)."""
        self.account(account_id)
        token = secrets.token_urlsafe(24)
        with self.db.write() as conn:
            rows.set_webhook_token(
                conn, account_id, source, token_digest(token), now_ms(self.clock)
            )
        return token

    def check_webhook_token(self, account_id: int, source: str, token: str | None) -> bool:
        with self.db.read() as conn:
            stored = rows.webhook_token_hash(conn, account_id, source)
        if stored is None or not token:
            return False
        return hmac.compare_digest(stored, token_digest(token))

    def users(self, account_id: int) -> list[UserRow]:
        with self.db.read() as conn:
            return rows.list_users(conn, account_id)

    def set_password(self, user_id: int, password: str) -> None:
        if len(password) < 8:
            raise InvalidInput("password must have at least 8 characters", field="password")
        with self.db.write() as conn:
            rows.set_password_hash(conn, user_id, hash_secret(password))

    def create_app(
        self,
        account_id: int | None,
        name: str,
        *,
        grants: tuple[str, ...] = DEFAULT_GRANTS,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        public: bool = False,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> IssuedApp:
        """Register an OAuth client; the plain secret is returned once and stored hashed."""
        cid = client_id or secrets.token_urlsafe(16)
        secret = None if public else (client_secret or secrets.token_urlsafe(32))
        row = AppRow(cid, account_id, name, hash_secret(secret) if secret else None, grants, scopes)
        with self.db.write() as conn:
            rows.insert_app(conn, row, now_ms(self.clock))
        return IssuedApp(cid, secret)

    def apps(self, account_id: int) -> list[AppRow]:
        with self.db.read() as conn:
            return rows.list_apps(conn, account_id)

    def issue_jwt(self, user_id: int) -> str:
        """A JWT credential for the JWT bearer grant, like one made in RingCentral's portal.

        It is signed with the server's secret key and can be revoked by its ``jti``.
        """
        with self.db.read() as conn:
            user = rows.get_user(conn, user_id)
        if user is None:
            raise NotFound(f"user {user_id} does not exist", field="user")
        jti = uuid.uuid4().hex
        issued = now_ms(self.clock)
        with self.db.write() as conn:
            rows.insert_jwt_credential(conn, jti, user_id, issued)
        claims = {"sub": str(user_id), "jti": jti, "iat": issued // 1000, "aud": JWT_AUDIENCE}
        return jwt.encode(claims, self.secret_key.get(), algorithm="HS256")
