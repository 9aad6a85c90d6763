"""The pure escalation rules: rule order with gaps, skipping unreachable rules, repeats, the
final messages, attempt statuses and billing."""

from __future__ import annotations

from callvault.domain.escalation import (
    DEFAULT_NO_ANSWER,
    DISABLED_MESSAGE,
    DISABLED_SAY,
    FALLBACK_NO_ONE_AVAILABLE,
    NEXT_ENGINEER_SAY,
    NO_ONE_AVAILABLE_MESSAGE,
    Dial,
    DialStatus,
    EscalationRule,
    Finish,
    IncomingCallStatus,
    PolicyPlan,
    Reachable,
    Resolver,
    attempt_status,
    billed_cents,
    first_step,
    parse_dial_status,
    sorted_rules,
    step_after,
)

S = IncomingCallStatus
RULES = sorted_rules(
    [
        EscalationRule("r5", 5, 40, extension_id=3),
        EscalationRule("r1", 1, 20, extension_id=1),
        EscalationRule("r3", 3, 0, group_id="g"),  # 0: the default timeout
    ]
)


def plan(**kw: object) -> PolicyPlan:
    values: dict[str, object] = {"id": "p", "enabled": True, "rules": RULES}
    values.update(kw)
    return PolicyPlan(**values)  # type: ignore[arg-type]


def reach(*reachable: str) -> Resolver:
    def resolve(rule: EscalationRule) -> Reachable | None:
        return Reachable(rule.order, f"+1415555000{rule.order}") if rule.id in reachable else None

    return resolve


def test_first_step_dials_the_lowest_order_with_the_greeting() -> None:
    step = first_step(plan(greeting="Hello"), reach("r1", "r3", "r5"))
    assert isinstance(step, Dial)
    assert (step.rule.id, step.timeout, step.say, step.log_status) == (
        "r1",
        20,
        "Hello",
        S.INITIATED,
    )


def test_unreachable_rules_are_skipped_and_gaps_tolerated() -> None:
    step = first_step(plan(), reach("r5"))
    assert isinstance(step, Dial) and step.rule.id == "r5"
    after = step_after(plan(), 1, 0, reach("r3", "r5"))
    assert isinstance(after, Dial)
    assert (after.rule.id, after.timeout, after.say) == ("r3", 30, NEXT_ENGINEER_SAY)
    assert after.log_status is S.ESCALATED


def test_nobody_reachable_fails_with_the_policy_message_or_the_fallback() -> None:
    step = first_step(plan(no_one_available_message="Nobody here"), reach())
    assert step == Finish(S.FAILED, NO_ONE_AVAILABLE_MESSAGE, "Nobody here")
    step = first_step(plan(no_one_available_message=None), reach())
    assert step == Finish(S.FAILED, NO_ONE_AVAILABLE_MESSAGE, FALLBACK_NO_ONE_AVAILABLE)


def test_disabled_policy_fails_before_anything_else() -> None:
    assert first_step(plan(enabled=False), reach("r1")) == Finish(
        S.FAILED, DISABLED_MESSAGE, DISABLED_SAY
    )


def test_repeat_restarts_from_the_top_up_to_the_configured_times() -> None:
    policy = plan(repeat_if_no_one_answers=True, repeat_times=2)
    step = step_after(policy, 5, 0, reach("r1", "r5"))
    assert isinstance(step, Dial) and (step.rule.id, step.repeat_count) == ("r1", 1)
    step = step_after(policy, 5, 1, reach("r1", "r5"))
    assert isinstance(step, Dial) and step.repeat_count == 2
    done = step_after(policy, 5, 2, reach("r1", "r5"))
    assert done == Finish(S.NO_ANSWER, None, DEFAULT_NO_ANSWER)


def test_no_repeat_ends_with_the_no_answer_message() -> None:
    assert step_after(plan(no_answer_message="Bye"), 5, 0, reach("r1")) == Finish(
        S.NO_ANSWER, None, "Bye"
    )
    # A repeat finds nobody either: the state is not changed, the call ends.
    policy = plan(repeat_if_no_one_answers=True)
    assert isinstance(step_after(policy, 5, 0, reach()), Finish)


def test_attempt_status_keeps_what_happened_apart() -> None:
    assert attempt_status(DialStatus.COMPLETED, False) is S.CONNECTED
    assert attempt_status(DialStatus.COMPLETED, True) is S.CONNECTED
    assert attempt_status(DialStatus.BUSY, False) is S.BUSY
    assert attempt_status(DialStatus.NO_ANSWER, False) is S.NO_ANSWER
    assert attempt_status(DialStatus.FAILED, False) is S.FAILED
    assert attempt_status(DialStatus.CANCELED, False) is S.NO_ANSWER
    assert attempt_status(DialStatus.NO_ANSWER, True) is S.CALLER_HUNG_UP
    assert parse_dial_status("No-Answer") is DialStatus.NO_ANSWER
    assert parse_dial_status("ringing") is DialStatus.FAILED
    assert parse_dial_status(None) is DialStatus.FAILED


def test_billing_counts_started_minutes() -> None:
    assert billed_cents(0, 2.5) == 0
    assert billed_cents(1, 2.5) == 3
    assert billed_cents(60, 2.5) == 3
    assert billed_cents(61, 2.5) == 5
    assert billed_cents(600, 0.7) == 7
    assert billed_cents(600, 0) == 0
