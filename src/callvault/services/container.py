"""Build every service from ``Settings`` once: what the app, CLI and tests share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from callvault.services.accounts import AccountService
from callvault.services.auth import OAuthService
from callvault.services.calls import CallService
from callvault.services.clock import Clock, system_clock
from callvault.services.ingest import IngestService
from callvault.services.live import LiveCallService
from callvault.services.secrets import SigningKey
from callvault.settings import Settings
from callvault.storage.engine import Database


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    accounts: AccountService
    oauth: OAuthService
    calls: CallService
    ingest: IngestService
    live: LiveCallService

    @classmethod
    def build(cls, settings: Settings, clock: Clock = system_clock) -> Services:
        db = Database.from_url(settings.database_url, echo=settings.sql_echo)
        secret = SigningKey(db, settings.secret_key)
        ingest = IngestService(db, clock)
        live = LiveCallService(
            db,
            ingest,
            linger=timedelta(seconds=settings.active_call_linger),
            idle_timeout=timedelta(seconds=settings.call_idle_timeout),
            clock=clock,
        )
        return cls(
            settings=settings,
            db=db,
            accounts=AccountService(db, secret, clock),
            oauth=OAuthService(
                db,
                secret,
                access_ttl=settings.access_token_ttl,
                refresh_ttl=settings.refresh_token_ttl,
                clock=clock,
            ),
            calls=CallService(db, clock),
            ingest=ingest,
            live=live,
        )

    def close(self) -> None:
        self.db.dispose()
