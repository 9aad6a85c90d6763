"""Build every service from ``Settings`` once: what the app, CLI and tests share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from callvault.services.accounts import AccountService
from callvault.services.api_keys import ApiKeyService
from callvault.services.auth import OAuthService
from callvault.services.calls import CallService
from callvault.services.clock import Clock, system_clock
from callvault.services.escalation import EscalationService, Rates
from callvault.services.escalation_sandbox import EscalationSandbox
from callvault.services.ingest import IngestService
from callvault.services.live import LiveCallService
from callvault.services.policies import PolicyService
from callvault.services.recordings import RecordingService
from callvault.services.records import RecordService
from callvault.services.ringout import RingOutService
from callvault.services.secrets import SigningKey
from callvault.services.sync import SyncService
from callvault.services.targets import TargetService
from callvault.services.telephony import build_backend
from callvault.settings import Settings
from callvault.storage.engine import Database
from callvault.storage.recordings import FileRecordingStore


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    accounts: AccountService
    oauth: OAuthService
    calls: CallService
    ingest: IngestService
    live: LiveCallService
    recordings: RecordingService
    ringouts: RingOutService
    sync: SyncService
    # The PortSIP face: call targets, their list totals (kept per process) and delta sync.
    targets: TargetService
    # The OneUptime face: incoming call policies, the escalation engine, its logs.
    policies: PolicyService
    escalation: EscalationService
    sandbox: EscalationSandbox
    records: RecordService
    api_keys: ApiKeyService

    @classmethod
    def build(cls, settings: Settings, clock: Clock = system_clock) -> Services:
        db = Database.from_url(settings.database_url, echo=settings.sql_echo)
        secret = SigningKey(db, settings.secret_key)
        ingest = IngestService(db, clock)
        calls = CallService(db, clock)
        live = LiveCallService(
            db,
            ingest,
            linger=timedelta(seconds=settings.active_call_linger),
            idle_timeout=timedelta(seconds=settings.call_idle_timeout),
            clock=clock,
        )
        accounts = AccountService(db, secret, clock)
        policies = PolicyService(db, clock)
        rates = Rates(settings.incoming_call_inbound_cents, settings.incoming_call_outbound_cents)
        escalation = EscalationService(db, policies, live, rates, clock)
        return cls(
            settings=settings,
            db=db,
            accounts=accounts,
            oauth=OAuthService(
                db,
                secret,
                access_ttl=settings.access_token_ttl,
                refresh_ttl=settings.refresh_token_ttl,
                clock=clock,
            ),
            calls=calls,
            ingest=ingest,
            live=live,
            recordings=RecordingService(
                db,
                ingest,
                calls,
                FileRecordingStore(settings.recordings_dir),
                short_seconds=settings.short_recording_seconds,
                max_bytes=settings.recording_max_bytes,
                clock=clock,
            ),
            ringouts=RingOutService(
                db,
                live,
                calls,
                build_backend(
                    settings, lambda acc, evs: live.accept(acc, evs, source="sandbox"), clock
                ),
                clock=clock,
                status_ttl=timedelta(seconds=settings.ringout_status_ttl),
            ),
            sync=SyncService(db, secret, clock),
            targets=TargetService(db, secret, clock),
            policies=policies,
            escalation=escalation,
            sandbox=EscalationSandbox(escalation, accounts, clock),
            records=RecordService(db),
            api_keys=ApiKeyService(db, clock),
        )

    def close(self) -> None:
        self.ringouts.close()
        self.db.dispose()
