"""OAuth 2.0 for callvault: password, JWT bearer and refresh grants; revoke; token checks.

Failures raise ``OAuthFailure`` with a ``kind`` from ``FailureKind``; each API face maps kinds to
its own wire codes (RingCentral's OAU-xxx, for instance).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

import jwt
from sqlalchemy import Connection

from callvault.errors import AuthError
from callvault.services.accounts import JWT_AUDIENCE
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.services.secrets import SigningKey, new_token, token_digest, verify_secret
from callvault.storage import accounts as account_rows
from callvault.storage import tokens as token_rows
from callvault.storage.accounts import AppRow, UserRow
from callvault.storage.engine import Database
from callvault.storage.tokens import SessionRow

PASSWORD_GRANT = "password"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REFRESH_GRANT = "refresh_token"
# A rotated refresh token keeps working this long, so a client that lost the response to a
# refresh (a timeout, a crash) can retry instead of being logged out.
REFRESH_GRACE_MS = 10_000
# Tokens resolved within this many seconds are answered from memory. Revocation and rotation in
# this process clear the entry at once; another process may lag by at most this long.
_PRINCIPAL_CACHE_SECONDS = 5.0


class FailureKind(StrEnum):
    CLIENT_AUTH_REQUIRED = "client_auth_required"
    INVALID_CLIENT = "invalid_client"
    UNAUTHORIZED_GRANT = "unauthorized_grant"
    UNSUPPORTED_GRANT = "unsupported_grant"
    INVALID_REQUEST = "invalid_request"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_JWT = "invalid_jwt"
    INVALID_REFRESH = "invalid_refresh"
    TOKEN_NOT_FOUND = "token_not_found"
    TOKEN_EXPIRED = "token_expired"


class OAuthFailure(AuthError):
    def __init__(self, kind: FailureKind, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.kind = kind


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling: the user behind an access token, through which app, with what scope."""

    user_id: int
    account_id: int
    extension_id: int
    role: str
    client_id: str
    scopes: frozenset[str]
    session_id: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(slots=True, frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_token_expires_in: int
    scope: str
    owner_id: str
    endpoint_id: str
    session_id: str


class OAuthService:
    def __init__(
        self,
        db: Database,
        secret_key: SigningKey,
        *,
        access_ttl: int = 3600,
        refresh_ttl: int = 604800,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.secret_key = secret_key
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock
        self._cache: dict[str, tuple[Principal, float, int]] = {}
        self._cache_lock = threading.Lock()

    # -- client authentication -------------------------------------------------------------

    def authenticate_client(
        self, client_id: str | None, client_secret: str | None, *, basic: bool
    ) -> AppRow:
        """The app making the request. Confidential apps must send their secret (Basic auth)."""
        if not client_id:
            raise OAuthFailure(
                FailureKind.CLIENT_AUTH_REQUIRED, "Client authentication is required"
            )
        with self.db.read() as conn:
            app = account_rows.get_app(conn, client_id)
        if app is None:
            raise OAuthFailure(FailureKind.INVALID_CLIENT, "Invalid client")
        if app.secret_hash is not None:
            if not basic or client_secret is None:
                raise OAuthFailure(
                    FailureKind.CLIENT_AUTH_REQUIRED, "Client authentication is required"
                )
            if not verify_secret(client_secret, app.secret_hash):
                raise OAuthFailure(FailureKind.INVALID_CLIENT, "Invalid client")
        return app

    @staticmethod
    def _require_grant(app: AppRow, grant: str) -> None:
        if grant not in app.grants:
            raise OAuthFailure(FailureKind.UNAUTHORIZED_GRANT, "Unauthorized for this grant type")

    # -- grants ----------------------------------------------------------------------------

    def password_grant(
        self,
        app: AppRow,
        username: str,
        password: str,
        *,
        extension: str | None = None,
        scope: str | None = None,
        access_ttl: int | None = None,
        refresh_ttl: int | None = None,
        endpoint_id: str | None = None,
    ) -> IssuedTokens:
        """Log in with a password; ``username`` is an email, a number, or ``+1650…*101``."""
        self._require_grant(app, PASSWORD_GRANT)
        user = self._find_user(app, username, extension)
        if user is None or not verify_secret(password, user.password_hash):
            raise OAuthFailure(
                FailureKind.INVALID_CREDENTIALS, "Invalid resource owner credentials"
            )
        return self._open_session(app, user, scope, access_ttl, refresh_ttl, endpoint_id)

    def jwt_grant(
        self,
        app: AppRow,
        assertion: str,
        *,
        scope: str | None = None,
        access_ttl: int | None = None,
        refresh_ttl: int | None = None,
        endpoint_id: str | None = None,
    ) -> IssuedTokens:
        self._require_grant(app, JWT_GRANT)
        try:
            claims = jwt.decode(
                assertion, self.secret_key.get(), algorithms=["HS256"], audience=JWT_AUDIENCE
            )
        except jwt.PyJWTError as exc:
            raise OAuthFailure(FailureKind.INVALID_JWT, f"Invalid JWT assertion: {exc}") from exc
        with self.db.read() as conn:
            user_id = account_rows.jwt_credential_user(conn, str(claims.get("jti", "")))
            user = account_rows.get_user(conn, user_id) if user_id is not None else None
        if user is None or str(user.id) != str(claims.get("sub")):
            raise OAuthFailure(FailureKind.INVALID_JWT, "JWT credential is revoked or unknown")
        self._check_same_account(app, user)
        return self._open_session(app, user, scope, access_ttl, refresh_ttl, endpoint_id)

    def refresh_grant(
        self,
        app: AppRow,
        refresh_token: str,
        *,
        access_ttl: int | None = None,
        refresh_ttl: int | None = None,
    ) -> IssuedTokens:
        """Rotate: a new access and refresh token; the old access token stops working now."""
        self._require_grant(app, REFRESH_GRANT)
        digest = token_digest(refresh_token)
        now = now_ms(self.clock)
        with self.db.read() as conn:
            session = token_rows.by_refresh_hash(conn, digest)
        if session is None or session.revoked or session.client_id != app.client_id:
            raise OAuthFailure(FailureKind.INVALID_REFRESH, "Token not found")
        in_grace = (
            session.previous_refresh_hash == digest
            and (session.previous_refresh_until_ms or 0) >= now
        )
        if session.refresh_hash != digest and not in_grace:
            raise OAuthFailure(FailureKind.INVALID_REFRESH, "Token not found")
        if session.refresh_hash == digest and (session.refresh_expires_ms or 0) < now:
            raise OAuthFailure(FailureKind.INVALID_REFRESH, "Refresh token expired")
        with self.db.read() as conn:
            user = account_rows.get_user(conn, session.user_id)
        if user is None:
            raise OAuthFailure(FailureKind.INVALID_REFRESH, "Token not found")
        access, refresh = new_token("cva-"), new_token("cvr-")
        a_ttl, r_ttl = self._ttls(access_ttl, refresh_ttl)
        with self.db.write() as conn:
            token_rows.rotate(
                conn,
                session.id,
                access_hash=token_digest(access),
                access_expires_ms=now + a_ttl * 1000,
                refresh_hash=token_digest(refresh),
                refresh_expires_ms=now + r_ttl * 1000,
                previous_refresh_hash=session.refresh_hash,
                previous_refresh_until_ms=now + REFRESH_GRACE_MS,
            )
        self._forget(session.access_hash)
        return IssuedTokens(
            access, a_ttl, refresh, r_ttl, session.scope, str(user.extension_id), "", session.id
        )

    def revoke(self, token: str, client_id: str | None = None) -> None:
        """Revoke the session behind an access or refresh token; unknown tokens are ignored.

        With ``client_id``, only that app's sessions can be revoked (RFC 7009 §2.1); another
        app's token is treated like an unknown one.
        """
        digest = token_digest(token)
        with self.db.read() as conn:
            session = token_rows.by_access_hash(conn, digest) or token_rows.by_refresh_hash(
                conn, digest
            )
        if session is None or client_id not in (None, session.client_id):
            return
        with self.db.write() as conn:
            token_rows.revoke(conn, session.id)
        self._forget(session.access_hash)

    # -- token checks ----------------------------------------------------------------------

    def principal(self, access_token: str) -> Principal:
        """The principal behind a live access token; raises ``OAuthFailure`` otherwise."""
        digest = token_digest(access_token)
        now = now_ms(self.clock)
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            if cached[2] < now:
                raise OAuthFailure(FailureKind.TOKEN_EXPIRED, "Access token expired")
            return cached[0]
        with self.db.read() as conn:
            session = token_rows.by_access_hash(conn, digest)
            user = account_rows.get_user(conn, session.user_id) if session else None
        if session is None or session.revoked or user is None:
            raise OAuthFailure(FailureKind.TOKEN_NOT_FOUND, "Token not found")
        if session.access_expires_ms < now:
            raise OAuthFailure(FailureKind.TOKEN_EXPIRED, "Access token expired")
        principal = Principal(
            user.id,
            user.account_id,
            user.extension_id,
            user.role,
            session.client_id,
            frozenset(session.scope.split()),
            session.id,
        )
        with self._cache_lock:
            self._cache[digest] = (
                principal,
                time.monotonic() + _PRINCIPAL_CACHE_SECONDS,
                session.access_expires_ms,
            )
        return principal

    # -- helpers ---------------------------------------------------------------------------

    def _forget(self, access_hash: str) -> None:
        with self._cache_lock:
            self._cache.pop(access_hash, None)

    def _ttls(self, access_ttl: int | None, refresh_ttl: int | None) -> tuple[int, int]:
        a = self.access_ttl if access_ttl is None else max(600, min(3600, access_ttl))
        r = self.refresh_ttl if refresh_ttl is None else max(1, min(2_592_000, refresh_ttl))
        return a, r

    @staticmethod
    def _check_same_account(app: AppRow, user: UserRow) -> None:
        # An app registered to one account cannot log in users of another account.
        if app.account_id is not None and app.account_id != user.account_id:
            raise OAuthFailure(
                FailureKind.INVALID_CREDENTIALS, "Invalid resource owner credentials"
            )

    def _find_user(self, app: AppRow, username: str, extension: str | None) -> UserRow | None:
        username = username.strip()
        with self.db.read() as conn:
            if "@" in username:
                user = account_rows.find_user_by_email(conn, username)
            else:
                number, _, ext_number = username.partition("*")
                ext_number = ext_number or (extension or "")
                user = self._user_by_number(conn, number, ext_number)
        if user is not None:
            try:
                self._check_same_account(app, user)
            except OAuthFailure:
                return None
        return user

    @staticmethod
    def _user_by_number(conn: Connection, number: str, ext_number: str) -> UserRow | None:
        account = account_rows.find_account_by_number(conn, number)
        if account is None:
            return None
        if ext_number:
            ext = account_rows.find_extension(conn, account.id, ext_number)
            return account_rows.find_user_by_extension(conn, ext.id) if ext else None
        # A company number without an extension logs in the main company administrator.
        admins = [u for u in account_rows.list_users(conn, account.id) if u.role == "admin"]
        return admins[0] if admins else None

    def _open_session(
        self,
        app: AppRow,
        user: UserRow,
        scope: str | None,
        access_ttl: int | None,
        refresh_ttl: int | None,
        endpoint_id: str | None,
    ) -> IssuedTokens:
        granted = _granted_scope(app, scope)
        access, refresh = new_token("cva-"), new_token("cvr-")
        a_ttl, r_ttl = self._ttls(access_ttl, refresh_ttl)
        now = now_ms(self.clock)
        session_id = secrets.token_hex(12)
        row = SessionRow(
            id=session_id,
            user_id=user.id,
            client_id=app.client_id,
            scope=granted,
            access_hash=token_digest(access),
            access_expires_ms=now + a_ttl * 1000,
            refresh_hash=token_digest(refresh),
            refresh_expires_ms=now + r_ttl * 1000,
            previous_refresh_hash=None,
            previous_refresh_until_ms=None,
            revoked=False,
        )
        with self.db.write() as conn:
            token_rows.insert_session(conn, row, now)
        return IssuedTokens(
            access,
            a_ttl,
            refresh,
            r_ttl,
            granted,
            str(user.extension_id),
            endpoint_id or secrets.token_urlsafe(16),
            session_id,
        )


def _granted_scope(app: AppRow, requested: str | None) -> str:
    if not requested:
        return " ".join(app.scopes)
    wanted = requested.split()
    unknown = [s for s in wanted if s not in app.scopes]
    if unknown:
        raise OAuthFailure(
            FailureKind.INVALID_REQUEST,
            f"Requested scope is not allowed for this app: {' '.join(unknown)}",
            field="scope",
        )
    return " ".join(wanted)
