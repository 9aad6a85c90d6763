"""``callvault policy …``: incoming call policies, their escalation rules, on-call groups, the
numbers users are dialled at, Twilio credentials, and simulated (sandbox) calls."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from callvault.cli.common import AccountOpt, BaseUrl, DatabaseUrl, console, services_for
from callvault.errors import InvalidInput, NotFound
from callvault.services.container import Services
from callvault.services.escalation_sandbox import SandboxOutcome, SandboxScript, parse_outcome
from callvault.storage.policies import PolicyRow

app = typer.Typer(help="Incoming call policies and their escalation.", no_args_is_help=True)

PolicyArg = Annotated[str, typer.Argument(help="Policy id.")]
Numbers = Annotated[
    list[str] | None, typer.Option("--number", help="Routing number (E.164); repeatable.")
]


def _extension(s: Services, account: int, ref: str) -> int:
    """An extension by short number (1-8 digits) or id."""
    if ref.isdigit() and len(ref) <= 8:
        ext = s.accounts.extension_by_number(account, ref)
        if ext is None:
            raise NotFound(f"extension {ref} does not exist", field="extension")
        return ext.id
    if not ref.isdigit():
        raise InvalidInput(f"{ref!r} is not an extension number or id", field="extension")
    return int(ref)


def _show(s: Services, account: int, policy: PolicyRow) -> None:
    state = "enabled" if policy.is_enabled else "disabled"
    repeat = f", repeats {policy.repeat_times}x" if policy.repeat_if_no_one_answers else ""
    console.print(f"[bold]{policy.name}[/bold] ({policy.id}), {state}{repeat}")
    console.print(f"  numbers: {', '.join(policy.numbers) or '-'}")
    table = Table("order", "rule id", "rings", "after (s)", "name")
    exts = {e.id: e for e in s.accounts.extensions(account)}
    groups = {g.id: g.name for g in s.policies.groups(account)}
    for r in s.policies.rules(account, policy.id):
        if r.extension_id is not None:
            ext = exts.get(r.extension_id)
            target = f"ext {ext.number} {ext.name}" if ext else str(r.extension_id)
        else:
            target = f"group {groups.get(r.group_id or '', r.group_id)}"
        table.add_row(str(r.order), r.id, target, str(r.escalate_after_seconds), r.name or "")
    console.print(table)


@app.command("create")
def create(
    account: AccountOpt,
    name: str,
    number: Numbers = None,
    description: Annotated[str | None, typer.Option(help="Description.")] = None,
    greeting: Annotated[str | None, typer.Option(help="Said before the first dial.")] = None,
    no_answer_message: Annotated[
        str | None, typer.Option(help="Said when nobody answered.")
    ] = None,
    no_one_available_message: Annotated[
        str | None, typer.Option(help="Said when no rule has anyone reachable.")
    ] = None,
    repeat: Annotated[int, typer.Option(help="Run the rules again this many times.")] = 0,
    disabled: Annotated[bool, typer.Option(help="Create it disabled.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a policy and print its id."""
    values: dict[str, object] = {"name": name, "numbers": number or [], "is_enabled": not disabled}
    if description is not None:
        values["description"] = description
    if greeting is not None:
        values["greeting_message"] = greeting
    if no_answer_message is not None:
        values["no_answer_message"] = no_answer_message
    if no_one_available_message is not None:
        values["no_one_available_message"] = no_one_available_message
    if repeat:
        values.update(repeat_if_no_one_answers=True, repeat_times=repeat)
    with services_for(database_url) as s:
        policy = s.policies.create_policy(account, **values)
        console.print(f"policy [bold]{policy.id}[/bold] created")


@app.command("list")
def list_policies(account: AccountOpt, database_url: DatabaseUrl = None) -> None:
    """List an account's policies."""
    with services_for(database_url) as s:
        table = Table("id", "name", "numbers", "enabled", "repeat")
        for p in s.policies.policies(account):
            repeat = str(p.repeat_times) if p.repeat_if_no_one_answers else "-"
            table.add_row(p.id, p.name, " ".join(p.numbers), str(p.is_enabled), repeat)
        console.print(table)


@app.command("show")
def show(account: AccountOpt, policy: PolicyArg, database_url: DatabaseUrl = None) -> None:
    """Show a policy with its rules."""
    with services_for(database_url) as s:
        _show(s, account, s.policies.policy(account, policy))


@app.command("update")
def update(
    account: AccountOpt,
    policy: PolicyArg,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    number: Numbers = None,
    enable: Annotated[bool | None, typer.Option("--enable/--disable", help="Switch.")] = None,
    repeat: Annotated[int | None, typer.Option(help="Repeats (0: none).")] = None,
    greeting: Annotated[str | None, typer.Option(help="Said before the first dial.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a policy; --number replaces all routing numbers."""
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name
    if number is not None:
        changes["numbers"] = number
    if enable is not None:
        changes["is_enabled"] = enable
    if repeat is not None:
        changes["repeat_if_no_one_answers"] = repeat > 0
        if repeat > 0:
            changes["repeat_times"] = repeat
    if greeting is not None:
        changes["greeting_message"] = greeting
    with services_for(database_url) as s:
        _show(s, account, s.policies.update_policy(account, policy, **changes))


@app.command("delete")
def delete(account: AccountOpt, policy: PolicyArg, database_url: DatabaseUrl = None) -> None:
    """Delete a policy and its rules (its call logs are kept)."""
    with services_for(database_url) as s:
        s.policies.delete_policy(account, policy)
        console.print("deleted")


@app.command("rule-add")
def rule_add(
    account: AccountOpt,
    policy: PolicyArg,
    extension: Annotated[str | None, typer.Option(help="Ring this extension.")] = None,
    group: Annotated[str | None, typer.Option(help="Ring this on-call group (id).")] = None,
    order: Annotated[int | None, typer.Option(help="Position (default: last).")] = None,
    escalate_after: Annotated[int, typer.Option(help="Seconds to ring.")] = 30,
    name: Annotated[str | None, typer.Option(help="Rule name.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add an escalation rule ringing one extension or one on-call group."""
    with services_for(database_url) as s:
        ext = _extension(s, account, extension) if extension else None
        rule = s.policies.add_rule(
            account,
            policy,
            extension_id=ext,
            group_id=group,
            order=order,
            escalate_after_seconds=escalate_after,
            name=name,
        )
        console.print(f"rule [bold]{rule.id}[/bold] at order {rule.order}")


@app.command("rule-update")
def rule_update(
    account: AccountOpt,
    policy: PolicyArg,
    rule: Annotated[str, typer.Argument(help="Rule id.")],
    extension: Annotated[str | None, typer.Option(help="Ring this extension.")] = None,
    group: Annotated[str | None, typer.Option(help="Ring this on-call group (id).")] = None,
    order: Annotated[int | None, typer.Option(help="Move to this position.")] = None,
    escalate_after: Annotated[int | None, typer.Option(help="Seconds to ring.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a rule (moving it shifts the rules in between)."""
    with services_for(database_url) as s:
        changes: dict[str, object] = {}
        if extension:
            changes["extension_id"] = _extension(s, account, extension)
        if group:
            changes["group_id"] = group
        if order is not None:
            changes["order"] = order
        if escalate_after is not None:
            changes["escalate_after_seconds"] = escalate_after
        s.policies.update_rule(account, policy, rule, **changes)
        _show(s, account, s.policies.policy(account, policy))


@app.command("rule-delete")
def rule_delete(
    account: AccountOpt,
    policy: PolicyArg,
    rule: Annotated[str, typer.Argument(help="Rule id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Delete a rule; the later ones move up."""
    with services_for(database_url) as s:
        s.policies.delete_rule(account, policy, rule)
        _show(s, account, s.policies.policy(account, policy))


@app.command("group-create")
def group_create(
    account: AccountOpt,
    name: str,
    member: Annotated[list[str], typer.Option(help="Extension, in ring order; repeatable.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create an on-call group; its on-call user is the first member reachable."""
    with services_for(database_url) as s:
        members = [_extension(s, account, m) for m in member]
        group = s.policies.create_group(account, name, members)
        console.print(f"group [bold]{group.id}[/bold] created")


@app.command("group-list")
def group_list(account: AccountOpt, database_url: DatabaseUrl = None) -> None:
    """List on-call groups."""
    with services_for(database_url) as s:
        numbers = {e.id: e.number for e in s.accounts.extensions(account)}
        table = Table("id", "name", "members")
        for g in s.policies.groups(account):
            table.add_row(g.id, g.name, " ".join(numbers.get(m, str(m)) for m in g.members))
        console.print(table)


@app.command("group-delete")
def group_delete(
    account: AccountOpt,
    group: Annotated[str, typer.Argument(help="Group id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Delete an on-call group no rule uses."""
    with services_for(database_url) as s:
        s.policies.delete_group(account, group)
        console.print("deleted")


@app.command("number-set")
def number_set(
    account: AccountOpt,
    extension: Annotated[str, typer.Option(help="Extension number or id.")],
    phone_number: Annotated[str, typer.Argument(help="E.164 number the user is dialled at.")],
    unverified: Annotated[bool, typer.Option(help="Stored but not dialled.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set the number a user is dialled at when on call."""
    with services_for(database_url) as s:
        ext = _extension(s, account, extension)
        row = s.policies.set_user_number(account, ext, phone_number, verified=not unverified)
        console.print(f"extension {extension} is dialled at {row.phone_number}")


@app.command("number-list")
def number_list(account: AccountOpt, database_url: DatabaseUrl = None) -> None:
    """List users' incoming-call numbers."""
    with services_for(database_url) as s:
        numbers = {e.id: e.number for e in s.accounts.extensions(account)}
        table = Table("extension", "number", "verified")
        for n in s.policies.user_numbers(account):
            ext = numbers.get(n.extension_id, str(n.extension_id))
            table.add_row(ext, n.phone_number, str(n.is_verified))
        console.print(table)


@app.command("twilio")
def twilio(
    account: AccountOpt,
    account_sid: Annotated[str, typer.Option(help="Twilio Account SID (AC…).")],
    auth_token: Annotated[str, typer.Option(help="Twilio auth token (signs webhooks).")],
    database_url: DatabaseUrl = None,
    base_url: BaseUrl = None,
) -> None:
    """Store the account's Twilio credentials and print the URLs to set on the numbers."""
    with services_for(database_url, base_url) as s:
        s.policies.set_provider(account, "twilio", account_sid, auth_token)
        base = s.settings.base_url.rstrip("/")
    console.print(f"voice URL (POST):           {base}/notification/incoming-call/voice")
    console.print(f"status callback URL (POST): {base}/notification/incoming-call/status")


def _outcomes(items: list[str]) -> dict[str, list[SandboxOutcome]]:
    out: dict[str, list[SandboxOutcome]] = {}
    for item in items:
        who, sep, what = item.partition("=")
        if not sep:
            raise InvalidInput(f"{item!r}: write USER=OUTCOME, e.g. 102=busy", field="outcome")
        out.setdefault(who.strip(), []).append(parse_outcome(what, "outcome"))
    return out


@app.command("call")
def sandbox_call(
    to: Annotated[str, typer.Option(help="The routing number called.")],
    caller: Annotated[str | None, typer.Option("--from", help="The caller's number.")] = None,
    outcome: Annotated[
        list[str] | None,
        typer.Option(
            help="USER=OUTCOME (USER: extension number or dialled number; OUTCOME: answer"
            "[:ring[:talk]], busy, no-answer, fail); repeat a user for later rings."
        ),
    ] = None,
    default: Annotated[str, typer.Option(help="Outcome for users not listed.")] = "no-answer",
    hang_up_after: Annotated[
        float | None, typer.Option(help="The caller hangs up after this many seconds.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Place a simulated (sandbox) call through the escalation engine; nothing is dialled."""
    with services_for(database_url) as s:
        script = SandboxScript(
            outcomes=_outcomes(outcome or []),
            default=parse_outcome(default, "default"),
            caller_hangs_up_after=hang_up_after,
        )
        result = s.sandbox.call(to=to, caller=caller, script=script)
        log = result.log
        console.print(f"call log [bold]{log.id}[/bold]: {log.status}", soft_wrap=True)
        table = Table("#", "dialled", "status", "dial status", "talk (s)")
        for a in result.attempts:
            table.add_row(
                str(a.attempt),
                a.user_phone_number or "",
                a.status,
                a.status_message or "",
                str(a.dial_duration_s),
            )
        console.print(table)
