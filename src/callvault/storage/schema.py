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
    Float,
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
    # The main number's digits alone: a password login names the company by its number in
    # any format (``+1 (650) 555-0100*101``), and this finds the account without a scan.
    Column("main_number_digits", String(32), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_accounts_main_number_digits", "main_number_digits"),
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
    # The account's change number of the last write (storage/changes.py): call-log sync's
    # watermark. Every write sets it; the default only covers rows from before migration 0003.
    Column("change_seq", BigInteger, nullable=False, server_default="0"),
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
    Index("ix_calls_change", "account_id", "change_seq", "pk"),
    Index("ix_calls_owner_change", "account_id", "owner_extension_id", "change_seq", "pk"),
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

# One row per recording whose audio callvault holds (or held: ``deleted_ms`` is set once the
# audio was deleted). The audio lives in the recording store under ``path_key``, which is
# derived from the content hash, so identical audio is stored once.
recordings = Table(
    "recordings",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True),
    # A numeric string, as RingCentral's recording ids are.
    Column("recording_id", String(64), primary_key=True),
    Column("record_id", String(64), nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("duration_ms", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("path_key", String(255), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("deleted_ms", BigInteger, nullable=True),
    Index("ix_recordings_record", "account_id", "record_id"),
    Index("ix_recordings_path_key", "path_key"),
)

# -- call-log sync -----------------------------------------------------------------------------

# One row per account: the last change number handed to a write of its calls (the row lock is
# what orders the account's writers, see storage/changes.py), and how many times its call log
# was reset (sync tokens from before a reset are expired).
call_log_sync_state = Table(
    "call_log_sync_state",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("change_seq", BigInteger, nullable=False),
    Column("log_epoch", Integer, nullable=False, default=0),
)

# -- RingOut -------------------------------------------------------------------------------------

# One row per RingOut placed through the RingCentral face (call-log reference §10). The call
# itself is told by its events (``telephony_session_id``); the row remembers who asked for it,
# and when it was cancelled and when its call ended (the status is answered for a while after).
ringouts = Table(
    "ringouts",
    metadata,
    # A numeric string, as RingCentral's RingOut ids are.
    Column("id", String(20), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("extension_id", BigInteger, ForeignKey("extensions.id"), nullable=False),
    Column("telephony_session_id", String(128), nullable=False),
    Column("from_number", String(32), nullable=False),
    Column("to_number", String(32), nullable=False),
    Column("caller_id", String(32), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("cancelled_ms", BigInteger, nullable=True),
    Column("finished_ms", BigInteger, nullable=True),
    Index("ix_ringouts_session", "account_id", "telephony_session_id"),
)

# -- PortSIP face --------------------------------------------------------------------------------

# One row per leg ("call target") of every stored record, with what the PortSIP face filters,
# sorts and shows, so its OData-like filters run in SQL instead of over the legs blobs. Written
# with the ``calls`` rows in the same transaction (storage/targets.py); derived by
# ``domain.targets.targets_of``. Strings are "" when unknown; choice columns hold callvault's
# own values (``TargetDirection``, ``EndReason``, ``Rerouting``), never PortSIP's spellings.
call_targets = Table(
    "call_targets",
    metadata,
    Column("pk", AutoId, primary_key=True, autoincrement=True),
    Column("call_pk", BigInteger, ForeignKey("calls.pk", ondelete="CASCADE"), nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("owner_extension_id", BigInteger, nullable=True),
    Column("target_id", String(32), nullable=False),
    Column("position", Integer, nullable=False),
    Column("session_id", String(64), nullable=False),
    # Listed in the company view (one record per call lists each leg there) / involves the
    # record's owner (listed in that user's own view).
    Column("in_company", Boolean, nullable=False),
    Column("in_owner", Boolean, nullable=False),
    Column("caller", String(256), nullable=False),
    Column("caller_domain", String(1024), nullable=False),
    Column("caller_name", String(1024), nullable=False),
    Column("callee", String(256), nullable=False),
    Column("callee_domain", String(1024), nullable=False),
    Column("callee_name", String(1024), nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("rang_ms", BigInteger, nullable=True),
    Column("answered_ms", BigInteger, nullable=True),
    Column("ended_ms", BigInteger, nullable=False),
    Column("call_id", String(1024), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("end_reason", String(24), nullable=False),
    Column("rerouted_by", String(32), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("destination", String(1024), nullable=False),
    Column("outbound_caller_id", String(64), nullable=False),
    Column("did", String(256), nullable=False),
    Column("trunk", String(1024), nullable=False),
    Column("talk_seconds", BigInteger, nullable=False),
    Column("cost", Float, nullable=False),
    Column("billed_account", String(1024), nullable=False),
    Column("service_number", String(256), nullable=False),
    Column("user_data", String(4000), nullable=False),
    # A target dropped from its record by an update stays as a deleted row, so the user's
    # delta sync can report it.
    Column("deleted", Boolean, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    # The change numbers (storage/changes.py) of the writes that created the row and that last
    # touched it: the delta sync's watermark, and how it tells "created" from "updated".
    Column("created_seq", BigInteger, nullable=False),
    Column("change_seq", BigInteger, nullable=False),
    # The two views in time order. The company view is large, so its commonest filter, the
    # direction, has an index of its own: its pages and its exact ``count`` are read from the
    # index alone (a count over a week of a 1M-call store: 70k entries). An extension's view is
    # small; ``direction`` rides along at the end of its index.
    Index("ix_call_targets_company", "account_id", "in_company", "deleted", "started_ms", "pk"),
    Index(
        "ix_call_targets_company_direction",
        "account_id",
        "in_company",
        "deleted",
        "direction",
        "started_ms",
        "pk",
    ),
    Index(
        "ix_call_targets_owner",
        "account_id",
        "owner_extension_id",
        "in_owner",
        "deleted",
        "started_ms",
        "pk",
        "direction",
    ),
    Index("ix_call_targets_caller", "account_id", "caller", "started_ms"),
    Index("ix_call_targets_callee", "account_id", "callee", "started_ms"),
    Index("ix_call_targets_session", "account_id", "session_id"),
    Index("ix_call_targets_target", "account_id", "target_id"),
    Index("ix_call_targets_call", "call_pk"),
    Index("ix_call_targets_changes", "account_id", "owner_extension_id", "change_seq", "pk"),
)


# -- OneUptime face: incoming call policies and logs ---------------------------------------------

# Ids of the OneUptime face's own records are UUID strings (its ``_id``); users are extensions.

oncall_groups = Table(
    "oncall_groups",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    UniqueConstraint("account_id", "name"),
)

# A group's members in ring order: its on-call user is the first one reachable.
oncall_group_members = Table(
    "oncall_group_members",
    metadata,
    Column(
        "group_id",
        String(36),
        ForeignKey("oncall_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("extension_id", BigInteger, ForeignKey("extensions.id"), nullable=False),
)

# The number a user is dialled at when on call; only verified numbers are dialled.
user_incoming_call_numbers = Table(
    "user_incoming_call_numbers",
    metadata,
    Column("extension_id", BigInteger, ForeignKey("extensions.id"), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("phone_number", String(30), nullable=False),
    Column("is_verified", Boolean, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

# A provider account (Twilio) whose webhooks an account's routing numbers receive. The auth
# token is kept as given: request signatures are checked with it.
call_provider_configs = Table(
    "call_provider_configs",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True),
    Column("provider", String(16), primary_key=True),
    Column("account_sid", String(64), nullable=False),
    Column("auth_token", String(128), nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

incoming_call_policies = Table(
    "incoming_call_policies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("description", String(500), nullable=True),
    Column("slug", String(100), nullable=False),
    Column("greeting_message", String(500), nullable=True),
    Column("no_answer_message", String(500), nullable=True),
    Column("no_one_available_message", String(500), nullable=True),
    Column("is_enabled", Boolean, nullable=False),
    Column("repeat_if_no_one_answers", Boolean, nullable=False),
    Column("repeat_times", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    UniqueConstraint("account_id", "slug"),
    Index("ix_incoming_call_policies_account_created", "account_id", "created_ms"),
)

# Numbers callers dial. A number belongs to at most one policy of any account: the provider's
# webhook names only the number called.
incoming_call_policy_numbers = Table(
    "incoming_call_policy_numbers",
    metadata,
    Column("phone_number", String(30), primary_key=True),
    Column(
        "policy_id",
        String(36),
        ForeignKey("incoming_call_policies.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("account_id", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("provider_number_id", String(100), nullable=True),
    Column("country_code", String(8), nullable=True),
    Column("area_code", String(16), nullable=True),
    Column("purchased_ms", BigInteger, nullable=True),
    Index("ix_incoming_call_policy_numbers_policy", "policy_id", "position"),
)

incoming_call_policy_rules = Table(
    "incoming_call_policy_rules",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", BigInteger, nullable=False),
    Column(
        "policy_id",
        String(36),
        ForeignKey("incoming_call_policies.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(100), nullable=True),
    Column("description", String(500), nullable=True),
    Column("rule_order", Integer, nullable=False),
    Column("escalate_after_seconds", Integer, nullable=False),
    Column("extension_id", BigInteger, ForeignKey("extensions.id"), nullable=True),
    Column("group_id", String(36), ForeignKey("oncall_groups.id"), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_incoming_call_policy_rules_policy", "policy_id", "rule_order"),
    Index("ix_incoming_call_policy_rules_account_created", "account_id", "created_ms"),
)

# One row per inbound call to a routing number. Kept when the policy is deleted: it is call
# history (``policy_id`` then names a policy that no longer exists).
incoming_call_logs = Table(
    "incoming_call_logs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", BigInteger, nullable=False),
    Column("policy_id", String(36), nullable=False),
    # Who carried the call: "twilio", or "sandbox" for simulated calls.
    Column("provider", String(16), nullable=False),
    Column("caller_number", String(30), nullable=True),
    Column("routing_number", String(30), nullable=True),
    Column("provider_call_id", String(100), nullable=True),
    Column("status", String(16), nullable=False),
    Column("status_message", String(500), nullable=True),
    Column("duration_s", Integer, nullable=False),
    Column("cost_cents", Integer, nullable=False),
    Column("incoming_cost_cents", Integer, nullable=False),
    Column("outgoing_cost_cents", Integer, nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger, nullable=True),
    Column("answered_by_extension_id", BigInteger, nullable=True),
    Column("current_rule_order", Integer, nullable=False),
    Column("repeat_count", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    # Narrow on purpose (no UUID in the entries): a list's COUNT walks the whole window.
    Index("ix_incoming_call_logs_account_created", "account_id", "created_ms"),
    Index("ix_incoming_call_logs_account_started", "account_id", "started_ms"),
    Index("ix_incoming_call_logs_account_status", "account_id", "status", "created_ms"),
    Index("ix_incoming_call_logs_account_policy", "account_id", "policy_id", "created_ms"),
    Index("ix_incoming_call_logs_provider_call", "provider", "provider_call_id"),
)

# How many logs each account has per hour of ``started_ms``: the COUNT of a list over a time
# window adds up the whole hours here and counts rows only in the two partial hours at its ends.
# Every insert of a log adds one (storage/incoming_calls.py); whatever deletes logs must
# subtract.
incoming_call_log_hours = Table(
    "incoming_call_log_hours",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
    Column("logs", BigInteger, nullable=False),
)

# One row per dial attempt of a call.
incoming_call_log_items = Table(
    "incoming_call_log_items",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", BigInteger, nullable=False),
    Column(
        "log_id",
        String(36),
        ForeignKey("incoming_call_logs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempt", Integer, nullable=False),
    Column(
        "rule_id",
        String(36),
        ForeignKey("incoming_call_policy_rules.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("extension_id", BigInteger, nullable=True),
    Column("user_phone_number", String(30), nullable=True),
    Column("status", String(16), nullable=False),
    Column("status_message", String(500), nullable=True),
    Column("dial_duration_s", Integer, nullable=False),
    Column("cost_cents", Integer, nullable=False),
    Column("started_ms", BigInteger, nullable=True),
    Column("answered_ms", BigInteger, nullable=True),
    Column("ended_ms", BigInteger, nullable=True),
    Column("is_answered", Boolean, nullable=False),
    # The provider's id of the dialled leg (Twilio's child CallSid).
    Column("provider_leg_id", String(100), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    UniqueConstraint("log_id", "attempt"),
    Index("ix_incoming_call_log_items_account_created", "account_id", "created_ms"),
    Index("ix_incoming_call_log_items_account_user", "account_id", "extension_id", "created_ms"),
)

# Keys for the OneUptime face's ``ApiKey`` header: stored as SHA-256 digests, with the
# permission names (OneUptime's) the key was given.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("permissions", String(2000), nullable=False),
    Column("expires_ms", BigInteger, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
)

# Children before parents, so deleting in this order never trips a foreign key.
ALL_TABLES = tuple(reversed(metadata.sorted_tables))
