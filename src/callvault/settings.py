"""Runtime settings from ``CALLVAULT_*`` environment variables (or CLI options).

Built by the caller (CLI, tests, ``create_app``), never at import time, so tests can run several
differently configured apps in one process.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RateLimitProfile(StrEnum):
    """``ringcentral``: RingCentral's published per-user limits; ``relaxed``: 100 times those;
    ``off``: no limiting and no rate-limit headers."""

    RINGCENTRAL = "ringcentral"
    RELAXED = "relaxed"
    OFF = "off"


class TelephonyBackendKind(StrEnum):
    """How RingOut calls are placed: ``sandbox`` simulates them (nothing rings anywhere);
    ``webhook`` asks a PBX at ``ringout_webhook_url`` to place them."""

    SANDBOX = "sandbox"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLVAULT_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///callvault.db",
        description="SQLAlchemy URL: sqlite:///path.db or postgresql://user@host/db",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public base URL used in absolute URIs of API responses",
    )
    media_base_url: str | None = Field(
        default=None, description="Base URL for recording content URIs (defaults to base_url)"
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that signs JWT credentials; generated and kept in the database if unset",
    )
    access_token_ttl: int = Field(default=3600, description="Default access-token lifetime (s)")
    refresh_token_ttl: int = Field(default=604800, description="Default refresh-token lifetime (s)")
    rate_limits: RateLimitProfile = Field(
        default=RateLimitProfile.RELAXED, description="Rate-limit profile: ringcentral|relaxed|off"
    )
    recordings_dir: Path = Field(
        default=Path("recordings"), description="Directory holding call recording audio"
    )
    short_recording_seconds: float = Field(
        default=30.0,
        description="Recordings shorter than this (s) are not kept; the call record says "
        "shortRecording instead (0 keeps every recording)",
    )
    recording_max_bytes: int = Field(
        default=1 << 30, description="Largest recording upload accepted (bytes)"
    )
    active_call_linger: int = Field(
        default=120, description="Seconds a finished call stays listed in active calls"
    )
    call_idle_timeout: int = Field(
        default=14400,
        description="Seconds without any event after which a call is finished by the sweeper",
    )
    sweep_interval: float = Field(default=15.0, description="Seconds between sweeper runs")
    sql_echo: bool = Field(default=False, description="Log every SQL statement")
    render_cache_mb: int = Field(
        default=64,
        ge=0,
        description="MiB of list items (RingCentral, PortSIP and OneUptime lists) kept "
        "rendered for reuse while their rows are unchanged (per server process; 0 turns it off)",
    )
    # -- RingOut ---------------------------------------------------------------------------
    telephony_backend: TelephonyBackendKind = Field(
        default=TelephonyBackendKind.SANDBOX,
        description="How RingOut calls are placed: sandbox (simulated, nothing rings) or "
        "webhook (a PBX places them)",
    )
    ringout_status_ttl: float = Field(
        default=60.0,
        description="Seconds a RingOut's status stays readable after its call ended (then 404)",
    )
    sandbox_outcomes: str = Field(
        default="",
        description="Sandbox: what phones do, by number pattern, first match wins: "
        "'+1555*=busy,+1666*=no-answer' (answer, busy, no-answer, reject; default answer)",
    )
    sandbox_answer_delay: float = Field(
        default=3.0, description="Sandbox: seconds until a phone answers, is busy or rejects"
    )
    sandbox_no_answer_timeout: float = Field(
        default=30.0, description="Sandbox: seconds a phone nobody answers keeps ringing"
    )
    sandbox_talk_time: float = Field(
        default=30.0, description="Sandbox: seconds an answered RingOut lasts"
    )
    sandbox_speed: float = Field(
        default=1.0, gt=0, description="Sandbox: time compression (10 plays calls 10x faster)"
    )
    ringout_webhook_url: str | None = Field(
        default=None, description="Webhook backend: the PBX URL that places and cancels calls"
    )
    ringout_webhook_token: str | None = Field(
        default=None, description="Webhook backend: bearer token sent to the PBX"
    )
    ringout_webhook_timeout: float = Field(
        default=5.0, description="Webhook backend: seconds to wait for the PBX to answer"
    )
    # -- OneUptime face: incoming call policies and logs ---------------------------------------
    oneuptime_max_limit: int = Field(
        default=100,
        ge=1,
        description="Largest limit a OneUptime-style get-list accepts (OneUptime documents 100)",
    )
    incoming_call_inbound_cents: float = Field(
        default=0.0,
        ge=0,
        description="Incoming calls: US cents per started minute of an inbound call to a "
        "routing number (written to the call log's incoming cost; 0 leaves costs at 0)",
    )
    incoming_call_outbound_cents: float = Field(
        default=0.0,
        ge=0,
        description="Incoming calls: US cents per started minute of an answered dial attempt "
        "(the outgoing cost)",
    )

    @property
    def media_url(self) -> str:
        return (self.media_base_url or self.base_url).rstrip("/")
