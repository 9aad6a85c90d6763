"""Demo data: an account with an admin, users, extensions, an OAuth app, and call history.

Deterministic for a given seed (ids, names, numbers and traffic), so two runs with the same seed
and the same ``now`` produce the same records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from callvault.services.accounts import Role
from callvault.services.container import Services
from callvault.services.demo_traffic import DemoExtension, generate_calls
from callvault.services.ingest import IngestReport

DEMO_PASSWORD = "demo-password-1"
DEMO_MAIN_NUMBER = "+16505550100"

# (number, name, type): users first, then a ring group (Department) answered by its members.
_EXTENSIONS = (
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
    for n, (number, name, kind) in enumerate(_EXTENSIONS):
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


def load_demo_traffic(
    services: Services, demo: DemoAccount, *, days: int, seed: int, now: datetime
) -> IngestReport:
    """Generate ``days`` of calls ending at ``now`` and ingest them through the write path."""
    report = IngestReport()
    batch = []
    for record in generate_calls(
        demo.extensions, days=days, seed=seed, now=now, main_number=demo.main_number
    ):
        batch.append(record)
        if len(batch) >= 1000:
            report.merge(services.ingest.ingest(demo.account_id, batch))
            batch.clear()
    if batch:
        report.merge(services.ingest.ingest(demo.account_id, batch))
    return report
