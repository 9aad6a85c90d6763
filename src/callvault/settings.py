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
    active_call_linger: int = Field(
        default=120, description="Seconds a finished call stays listed in active calls"
    )
    call_idle_timeout: int = Field(
        default=14400,
        description="Seconds without any event after which a call is finished by the sweeper",
    )
    sweep_interval: float = Field(default=15.0, description="Seconds between sweeper runs")
    sql_echo: bool = Field(default=False, description="Log every SQL statement")

    @property
    def media_url(self) -> str:
        return (self.media_base_url or self.base_url).rstrip("/")
