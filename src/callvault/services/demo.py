"""Demo data: an account with an admin, users, extensions, an OAuth app, and call history.

The call history is simulated traffic (``services.simulation``) played through the live event
pipeline, exactly as a phone system's events would be: journaled, correlated, and written as
records when each call finishes. Deterministic for a given seed (ids, names, numbers and
traffic), so two runs with the same seed and the same ``now`` produce the same records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callvault.domain.events import CallEvent
from callvault.services.accounts import Role
from callvault.services.container import Services
from callvault.services.demo_audio import attach_demo_recordings
from callvault.services.simulation import SOURCE, DemoExtension, simulate_calls

__all__ = [
    "DEMO_MAIN_NUMBER",
    "DEMO_OFFICE",
    "DEMO_PASSWORD",
    "DemoAccount",
    "DemoExtension",
    "DemoTraffic",
    "create_demo_account",
    "load_demo_traffic",
]

DEMO_PASSWORD = "demo-password-1"
DEMO_MAIN_NUMBER = "+16505550100"

# The demo office, (number, name, type): users first, then the support ring group (a
# Department) that members 103 and 104 answer.
DEMO_OFFICE = (
    ("101", "Alice Admin", "User"),
    ("102", "Bob Sales", "User"),
    ("103", "Carol Support", "User"),
    ("104", "Dan Support", "User"),
    ("105", "Erin Finance", "User"),
    ("200", "Support Group", "Department"),
)


@dataclass(slots=True)
class DemoAccount:
    account_id: int
    admin_username: str
    admin_extension: str
    password: str
    client_id: str
    client_secret: str
    jwt: str
    main_number: str = DEMO_MAIN_NUMBER
    extensions: list[DemoExtension] = field(default_factory=list)


def create_demo_account(services: Services, *, seed: int = 7) -> DemoAccount:
    """Create the demo account, its extensions, users (admin on 101) and a confidential app."""
    rng = random.Random(seed)
    account_id = 400_000_000 + rng.randrange(100_000_000)
    existing = services.accounts.list_accounts()
    taken_ids = {a.id for a in existing}
    taken_numbers = {a.main_number for a in existing}
    # Another demo account may exist already: step to free ids (extension ids sit at +1000…)
    # and a free company number, so "+1650…*101" logins stay unambiguous.
    while account_id in taken_ids:
        account_id += 10_000
    main_number = DEMO_MAIN_NUMBER
    while main_number in taken_numbers:
        main_number = f"+1650555{int(main_number[-4:]) + 1:04d}"
    acc = services.accounts.create_account("Demo Company", main_number, account_id=account_id)
    exts: list[DemoExtension] = []
    for n, (number, name, kind) in enumerate(DEMO_OFFICE):
        row = services.accounts.add_extension(
            acc.id, number, name, kind, extension_id=account_id + 1000 + n
        )
        exts.append(DemoExtension(row.id, number, name, kind))
        if kind == "User":
            first = name.split()[0].lower()
            services.accounts.add_user(
                acc.id,
                number,
                email=f"{first}+{acc.id}@demo.callvault.test",
                password=DEMO_PASSWORD,
                role=Role.ADMIN if number == "101" else Role.USER,
            )
    app = services.accounts.create_app(acc.id, "Demo app", client_id=f"demo-{seed}-{account_id}")
    admin = services.accounts.users(acc.id)[0]
    return DemoAccount(
        account_id=acc.id,
        admin_username=f"{main_number}*101",
        main_number=main_number,
        admin_extension="101",
        password=DEMO_PASSWORD,
        client_id=app.client_id,
        client_secret=app.client_secret or "",
        jwt=services.accounts.issue_jwt(admin.id),
        extensions=exts,
    )


@dataclass(slots=True)
class DemoTraffic:
    """What loading the demo history did: events fed, calls finished, records stored."""

    events: int = 0
    calls: int = 0
    records: int = 0


def load_demo_traffic(
    services: Services,
    demo: DemoAccount,
    *,
    days: int,
    seed: int,
    now: datetime,
    batch_size: int = 2000,
) -> DemoTraffic:
    """Simulate ``days`` of calls ending before ``now`` and feed their events, in batches,
    through the live pipeline (journal → correlator → records), as source ``simulated``."""
    report = DemoTraffic()
    batch: list[CallEvent] = []

    def feed() -> None:
        result = services.live.accept(demo.account_id, batch, source=SOURCE)
        report.events += result.accepted
        report.calls += result.calls_finished
        batch.clear()

    for event in simulate_calls(
        demo.extensions,
        start=now - timedelta(days=days),
        end=now,
        seed=seed,
        main_number=demo.main_number,
    ):
        batch.append(event)
        if len(batch) >= batch_size:
            feed()
    if batch:
        feed()
    # Every simulated call ends before ``now`` and so has finished by itself; a sweep only
    # lets the correlator forget the finished calls still lingering for late events.
    if services.live.correlator.calls(demo.account_id):
        services.live.sweep(now)
    # Recorded calls get their audio, uploaded as a phone system would (services.demo_audio).
    attach_demo_recordings(services, demo.account_id, seed=seed)
    report.records = services.calls.count(demo.account_id)
    return report
