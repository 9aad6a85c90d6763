"""Table definitions shared by SQLite and PostgreSQL (SQLAlchemy Core).

Times are stored as integer epoch milliseconds: they compare and index identically on both
backends and never carry a local zone. The ``calls`` row is kept narrow (what list queries
filter and sort on, plus the Simple-view summary); legs and other Detailed-only data live in
``call_details`` and are read only for the page being returned.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid), not a BIGINT one.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

server_settings = Table(
    "server_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(2000), nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("main_number", String(32), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
)

extensions = Table(
    "extensions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("number", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    # RingCentral extension types: User, Department (call queue / ring group), IvrMenu …
    Column("type", String(32), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("account_id", "number"),
)

users = Table(
    "users",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("extension_id", BigInteger, ForeignKey("extensions.id"), nullable=False, unique=True),
    Column("email", String(320), nullable=True, unique=True),
    Column("password_hash", String(300), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

oauth_apps = Table(
    "oauth_apps",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=True),
    Column("name", String(200), nullable=False),
    # Empty for public apps, which authenticate with client_id alone.
    Column("secret_hash", String(300), nullable=True),
    Column("grants", String(300), nullable=False),
    Column("scopes", String(1000), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

jwt_credentials = Table(
    "jwt_credentials",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

oauth_sessions = Table(
    "oauth_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("client_id", String(64), ForeignKey("oauth_apps.client_id"), nullable=False),
    Column("scope", String(1000), nullable=False),
    # Tokens are stored as SHA-256 digests; the plain tokens exist only in the client's hands.
    Column("access_hash", String(64), nullable=False, unique=True),
    Column("access_expires_ms", BigInteger, nullable=False),
    Column("refresh_hash", String(64), nullable=True, unique=True),
    Column("refresh_expires_ms", BigInteger, nullable=True),
    # The refresh token replaced by the last rotation stays valid for a short grace period.
    Column("previous_refresh_hash", String(64), nullable=True, index=True),
    Column("previous_refresh_until_ms", BigInteger, nullable=True),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("created_ms", BigInteger, nullable=False),
)

calls = Table(
    "calls",
    metadata,
    Column("pk", AutoId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("owner_extension_id", BigInteger, nullable=True),
    Column("session_id", String(64), nullable=False),
    Column("telephony_session_id", String(128), nullable=True),
    Column("start_ms", BigInteger, nullable=False),
    Column("direction", String(8), nullable=False),
    Column("call_type", String(8), nullable=False),
    Column("transport", String(8), nullable=True),
    Column("result", String(32), nullable=True),
    Column("recording_type", String(16), nullable=True),
    # Digits only (no "+"), as RingCentral's phoneNumber filter is written.
    Column("from_number", String(32), nullable=True),
    Column("to_number", String(32), nullable=True),
    # ",cat1,cat2," so a category filter is a LIKE inside the date window.
    Column("metadata_categories", String(500), nullable=True),
    Column("blocked", Boolean, nullable=False, default=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("modified_ms", BigInteger, nullable=False),
    Column("content_hash", String(32), nullable=False),
    Column("summary", LargeBinary, nullable=False),
    UniqueConstraint("account_id", "record_id"),
    Index("ix_calls_account_start", "account_id", "start_ms", "pk"),
    Index("ix_calls_owner_start", "account_id", "owner_extension_id", "start_ms", "pk"),
    Index("ix_calls_session", "account_id", "session_id"),
    Index("ix_calls_telephony_session", "account_id", "telephony_session_id"),
    Index("ix_calls_from_number", "account_id", "from_number", "start_ms"),
    Index("ix_calls_to_number", "account_id", "to_number", "start_ms"),
    Index("ix_calls_modified", "account_id", "modified_ms"),
)

call_details = Table(
    "call_details",
    metadata,
    Column("call_pk", BigInteger, ForeignKey("calls.pk", ondelete="CASCADE"), primary_key=True),
    Column("legs", LargeBinary, nullable=False),
)

call_events = Table(
    "call_events",
    metadata,
    Column("pk", AutoId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, nullable=False),
    # Where the event came from ("native", "ringcentral", "simulated" …) and its own id there:
    # together the idempotency key, so a redelivered webhook is stored once.
    Column("source", String(32), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("event_ms", BigInteger, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    # False until the call the event belongs to has been finished and written; what a
    # restarted server replays to rebuild the calls that were in progress.
    Column("call_done", Boolean, nullable=False, default=False),
    # The canonical event (callvault's event JSON) and, for vendor sources, the body received.
    Column("event", LargeBinary, nullable=False),
    Column("raw", LargeBinary, nullable=True),
    UniqueConstraint("account_id", "source", "event_id"),
    Index("ix_call_events_session", "account_id", "session_id"),
    Index("ix_call_events_time", "account_id", "event_ms"),
    Index("ix_call_events_open", "call_done", "account_id"),
)

extension_links = Table(
    "extension_links",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True),
    Column("source", String(32), primary_key=True),
    Column("external_id", String(64), primary_key=True),
    Column("extension_id", BigInteger, ForeignKey("extensions.id"), nullable=False),
)

webhook_tokens = Table(
    "webhook_tokens",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True),
    Column("source", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# -- recordings (call recording audio) --------------------------------------------------------

# -- call-log sync -----------------------------------------------------------------------------

# -- RingOut -------------------------------------------------------------------------------------

# -- PortSIP face --------------------------------------------------------------------------------

# -- OneUptime face: incoming call policies and logs ---------------------------------------------

# Children before parents, so deleting in this order never trips a foreign key.
ALL_TABLES = tuple(reversed(metadata.sorted_tables))
