"""The correlator's own mechanics: duplicates, arrival order, merging sessions into one call,
sweeping calls whose hangup never came, lingering and re-opening finished calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from callvault.correlator.calls import LiveCall
from callvault.correlator.correlator import ChangeKind, Correlator
from callvault.correlator.records import SWEPT_DESCRIPTION, build_records
from callvault.domain.enums import Direction, Disconnector, Result
from callvault.domain.events import CallEvent, PartyStatus

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ACCOUNT = 7
ANN, BOB, CARL = 101, 102, 103
OUT, IN = Direction.OUTBOUND, Direction.INBOUND
S = PartyStatus


def ev(
    session: str,
    seq: int,
    party: str,
    status: PartyStatus,
    *,
    t: float | None = None,
    direction: Direction = IN,
    ext: int | None = None,
    reason: str | None = None,
    peer_session_id: str | None = None,
    sip_call_id: str | None = None,
    legacy_session_id: str | None = None,
) -> CallEvent:
    """One event; its time defaults to ``seq`` seconds after T0."""
    return CallEvent(
        event_id=f"{session}:{seq}:{party}",
        session_id=session,
        sequence=seq,
        time=T0 + timedelta(seconds=seq if t is None else t),
        party_id=party,
        direction=direction,
        status=status,
        reason=reason,
        extension_id=ext,
        peer_session_id=peer_session_id,
        sip_call_id=sip_call_id,
        legacy_session_id=legacy_session_id,
    )


def ann_calls_bob(
    session: str = "s-1", *, sip_call_id: str | None = None, legacy: str | None = None
) -> list[CallEvent]:
    """Ann calls Bob, Bob answers, both hang up (seq 2-7, one second apart)."""
    keys = {"sip_call_id": sip_call_id, "legacy_session_id": legacy}
    ann, bob = f"{session}-1", f"{session}-2"
    return [
        ev(session, 2, ann, S.SETUP, direction=OUT, ext=ANN, **keys),
        ev(session, 3, bob, S.SETUP, ext=BOB, **keys),
        ev(session, 4, bob, S.PROCEEDING, ext=BOB, **keys),
        ev(session, 5, bob, S.ANSWERED, ext=BOB, **keys),
        ev(session, 6, ann, S.DISCONNECTED, direction=OUT, ext=ANN, **keys),
        ev(session, 7, bob, S.DISCONNECTED, ext=BOB, **keys),
    ]


def feed(correlator: Correlator, events: list[CallEvent]) -> list[ChangeKind | None]:
    return [None if (c := correlator.feed(ACCOUNT, e)) is None else c.kind for e in events]


def only_call(correlator: Correlator) -> LiveCall:
    calls = correlator.calls(ACCOUNT)
    assert len(calls) == 1, [c.call_id for c in calls]
    return calls[0]


def results(call: LiveCall) -> dict[int | None, Result | None]:
    return {r.extension_id: r.result for r in build_records(call)}


# -- duplicates and order -----------------------------------------------------------------


def test_a_repeated_event_is_ignored() -> None:
    correlator = Correlator()
    events = ann_calls_bob()
    assert correlator.feed(ACCOUNT, events[0]) is not None
    assert correlator.feed(ACCOUNT, events[0]) is None
    call = only_call(correlator)
    assert len(call.events()) == 1


def test_a_redelivery_under_a_new_id_is_ignored() -> None:
    """Same party, sequence and status: the same notification delivered again (§4)."""
    correlator = Correlator()
    first = ann_calls_bob()[3]
    again = replace(first, event_id="another-uuid", time=first.time + timedelta(seconds=1))
    assert correlator.feed(ACCOUNT, first) is not None
    assert correlator.feed(ACCOUNT, again) is None
    assert [e.event_id for e in only_call(correlator).events()] == [first.event_id]


def test_duplicates_do_not_change_the_records() -> None:
    clean, noisy = Correlator(), Correlator()
    events = ann_calls_bob()
    feed(clean, events)
    kinds = feed(noisy, [e for e in events for _ in range(3)])
    assert kinds.count(None) == 2 * len(events)
    assert build_records(only_call(noisy)) == build_records(only_call(clean))


def test_a_party_state_follows_sequence_not_arrival() -> None:
    """Bob's Disconnected (seq 7) arrives before his Answered (seq 5): he is still gone."""
    correlator = Correlator()
    events = ann_calls_bob()
    feed(correlator, [events[i] for i in (0, 1, 5, 3)])
    bob = next(leg for leg in only_call(correlator).legs() if leg.extension_id == BOB)
    assert bob.final_status is S.DISCONNECTED
    assert [e.sequence for e in bob.events] == [3, 5, 7]


def test_out_of_order_arrival_gives_the_in_order_records() -> None:
    in_order, reversed_ = Correlator(), Correlator()
    events = ann_calls_bob()
    feed(in_order, events)
    kinds = feed(reversed_, events[::-1])
    # Bob's then Ann's hangups arrive first: the call finishes as soon as every known party
    # has left, and each late (earlier-sequence) event revises the finished call.
    assert kinds[0] is ChangeKind.FINISHED
    assert kinds[-1] is ChangeKind.FINISHED
    assert build_records(only_call(reversed_)) == build_records(only_call(in_order))
    assert results(only_call(reversed_)) == {ANN: Result.CALL_CONNECTED, BOB: Result.ACCEPTED}


def test_the_call_finishes_only_when_every_party_has_left() -> None:
    correlator = Correlator()
    kinds = feed(correlator, ann_calls_bob())
    assert kinds == [ChangeKind.UPDATED] * 5 + [ChangeKind.FINISHED]
    assert only_call(correlator).finished_at == T0 + timedelta(seconds=7)


# -- merging sessions ---------------------------------------------------------------------


def test_a_gone_party_peer_joins_its_session_to_the_peer_session() -> None:
    correlator = Correlator()
    feed(correlator, [ev("s-a", 2, "a-1", S.ANSWERED, ext=ANN)])
    feed(correlator, [ev("s-b", 2, "b-1", S.ANSWERED, ext=BOB)])
    assert len(correlator) == 2
    feed(
        correlator,
        [ev("s-a", 3, "a-1", S.GONE, ext=ANN, reason="AttendedTransfer", peer_session_id="s-b")],
    )
    call = only_call(correlator)
    assert set(call.sessions) == {"s-a", "s-b"}
    assert correlator.knows(ACCOUNT, "s-a") and correlator.knows(ACCOUNT, "s-b")


def test_a_shared_sip_call_id_joins_two_sessions() -> None:
    correlator = Correlator()
    feed(correlator, ann_calls_bob("s-a", sip_call_id="abc@pbx")[:2])
    feed(correlator, ann_calls_bob("s-b", sip_call_id="abc@pbx")[:2])
    assert set(only_call(correlator).sessions) == {"s-a", "s-b"}


def test_a_shared_legacy_session_id_joins_two_sessions() -> None:
    correlator = Correlator()
    feed(correlator, ann_calls_bob("s-a", legacy="429180487016")[:2])
    feed(correlator, ann_calls_bob("s-b", legacy="429180487016")[:2])
    assert set(only_call(correlator).sessions) == {"s-a", "s-b"}


def test_the_conference_placeholder_legacy_id_joins_nothing() -> None:
    """Conference bridges all carry legacy session id "0" (§2.2)."""
    correlator = Correlator()
    feed(correlator, ann_calls_bob("s-a", legacy="0")[:2])
    feed(correlator, ann_calls_bob("s-b", legacy="0")[:2])
    assert len(correlator) == 2


def test_two_existing_calls_merge_when_a_later_event_links_them() -> None:
    correlator = Correlator()
    # s-b's events arrive first, although s-a's call started earlier.
    feed(correlator, [e for e in ann_calls_bob("s-b") if e.sequence <= 4])
    feed(
        correlator,
        [
            replace(e, time=e.time - timedelta(seconds=1))
            for e in ann_calls_bob("s-a")
            if e.sequence <= 4
        ],
    )
    assert len(correlator) == 2
    # Both sessions then report the same SIP Call-ID: they are one conversation.
    feed(correlator, [ev("s-a", 5, "s-a-2", S.ANSWERED, ext=BOB, sip_call_id="x@pbx")])
    assert len(correlator) == 2
    feed(correlator, [ev("s-b", 5, "s-b-2", S.ANSWERED, ext=BOB, sip_call_id="x@pbx")])
    call = only_call(correlator)
    # The call that started first survives, so a call keeps the id dashboards know.
    assert call.call_id == "s-a"
    assert set(call.sessions) == {"s-a", "s-b"}
    assert len(call.events()) == 8
    assert call.first_time == T0 + timedelta(seconds=1)
    assert all(correlator.knows(ACCOUNT, s) for s in ("s-a", "s-b"))
    # Events of either session keep landing in the merged call.
    feed(correlator, ann_calls_bob("s-b")[4:] + ann_calls_bob("s-a")[4:])
    assert only_call(correlator) is call and call.finished_at is not None


def test_links_are_transitive() -> None:
    correlator = Correlator()
    feed(correlator, [ev("s-a", 2, "a-1", S.SETUP, ext=ANN, sip_call_id="k1")])
    feed(correlator, [ev("s-c", 2, "c-1", S.SETUP, ext=CARL)])
    feed(correlator, [ev("s-b", 2, "b-1", S.SETUP, ext=BOB, sip_call_id="k1")])
    assert len(correlator) == 2
    feed(correlator, [ev("s-b", 3, "b-1", S.GONE, ext=BOB, reason="Pickup", peer_session_id="s-c")])
    assert set(only_call(correlator).sessions) == {"s-a", "s-b", "s-c"}


def test_a_finished_call_waits_for_a_gone_partys_peer_session() -> None:
    """A Gone party's conversation continues in its peer session: not finished until that
    session is known (and its parties have left)."""
    correlator = Correlator()
    kinds = feed(
        correlator,
        [
            ev("s-a", 2, "a-1", S.ANSWERED, ext=ANN),
            ev("s-a", 3, "a-1", S.GONE, ext=ANN, reason="AttendedTransfer", peer_session_id="s-b"),
        ],
    )
    assert kinds == [ChangeKind.UPDATED, ChangeKind.UPDATED]
    kinds = feed(correlator, [ev("s-b", 2, "b-1", S.DISCONNECTED, ext=BOB)])
    assert kinds == [ChangeKind.FINISHED]


def test_accounts_never_share_calls() -> None:
    correlator = Correlator()
    event = ann_calls_bob()[0]
    correlator.feed(1, event)
    assert correlator.feed(2, event) is not None
    assert len(correlator) == 2
    assert len(correlator.calls(1)) == len(correlator.calls(2)) == 1


# -- time: sweeping, lingering, re-opening ------------------------------------------------


def test_expire_sweeps_a_call_whose_hangup_never_came() -> None:
    correlator = Correlator(idle_timeout=timedelta(minutes=10))
    feed(correlator, ann_calls_bob()[:3])  # Bob's phone rings; then nothing more arrives
    last = T0 + timedelta(seconds=4)
    assert correlator.expire(last + timedelta(minutes=10) - timedelta(seconds=1)) == []
    swept = correlator.expire(last + timedelta(minutes=10))
    assert [c.kind for c in swept] == [ChangeKind.FINISHED]
    call = swept[0].call
    assert call.swept and call.finished_at == last + timedelta(minutes=10)
    records = build_records(call)
    assert {r.extension_id for r in records} == {ANN, BOB}
    for record in records:
        assert record.reason_description == SWEPT_DESCRIPTION
        assert record.cdr.end_time is None
        assert record.cdr.disconnected_by is Disconnector.UNKNOWN
        # The call was left ringing: how it ended is unknown, it is not "in progress".
        assert record.result is Result.UNKNOWN
    # Swept once: the next sweep does not report it again.
    assert correlator.expire(last + timedelta(minutes=11)) == []


def test_a_swept_answered_call_keeps_its_answer() -> None:
    correlator = Correlator(idle_timeout=timedelta(minutes=10))
    feed(correlator, ann_calls_bob()[:4])
    (change,) = correlator.expire(T0 + timedelta(hours=1))
    assert results(change.call) == {ANN: Result.CALL_CONNECTED, BOB: Result.ACCEPTED}


def test_expire_forgets_a_finished_call_after_the_linger() -> None:
    correlator = Correlator(linger=timedelta(seconds=120))
    feed(correlator, ann_calls_bob())
    ended = T0 + timedelta(seconds=7)
    assert correlator.expire(ended + timedelta(seconds=119)) == []
    assert len(correlator) == 1
    # Forgetting is not a change to report.
    assert correlator.expire(ended + timedelta(seconds=120)) == []
    assert len(correlator) == 0
    assert not correlator.knows(ACCOUNT, "s-1")


def test_a_swept_call_is_forgotten_after_the_linger_too() -> None:
    correlator = Correlator(linger=timedelta(seconds=60), idle_timeout=timedelta(minutes=5))
    feed(correlator, ann_calls_bob()[:3])
    swept_at = T0 + timedelta(minutes=6)
    assert len(correlator.expire(swept_at)) == 1
    correlator.expire(swept_at + timedelta(seconds=59))
    assert len(correlator) == 1
    correlator.expire(swept_at + timedelta(seconds=60))
    assert len(correlator) == 0


def test_the_hangup_arriving_after_a_sweep_finishes_the_call_properly() -> None:
    correlator = Correlator(idle_timeout=timedelta(minutes=5))
    events = ann_calls_bob()
    feed(correlator, events[:4])
    correlator.expire(T0 + timedelta(minutes=6))
    kinds = feed(correlator, events[4:])
    # Ann's hangup alone re-opens the call (Bob has not left yet); Bob's finishes it.
    assert kinds == [ChangeKind.UPDATED, ChangeKind.FINISHED]
    call = only_call(correlator)
    assert not call.swept
    assert all(r.reason_description is None for r in build_records(call))
    assert results(call) == {ANN: Result.CALL_CONNECTED, BOB: Result.ACCEPTED}


def test_a_late_live_event_reopens_a_swept_call() -> None:
    correlator = Correlator(idle_timeout=timedelta(minutes=5))
    events = ann_calls_bob()
    feed(correlator, events[:3])
    correlator.expire(T0 + timedelta(minutes=6))
    assert feed(correlator, [events[3]]) == [ChangeKind.UPDATED]
    call = only_call(correlator)
    assert call.finished_at is None and not call.swept
    assert all(r.reason_description is None for r in build_records(call))


def test_a_late_event_reopens_a_lingering_call_and_refinishes_it() -> None:
    correlator = Correlator(linger=timedelta(seconds=120))
    ann, bob, carl = "s-1-1", "s-1-2", "s-1-3"
    stream = [
        ev("s-1", 2, ann, S.SETUP, direction=OUT, ext=ANN),
        ev("s-1", 3, bob, S.SETUP, ext=BOB),
        ev("s-1", 4, carl, S.SETUP, ext=CARL),
        ev("s-1", 5, bob, S.PROCEEDING, ext=BOB),
        ev("s-1", 6, carl, S.PROCEEDING, ext=CARL),
        ev("s-1", 7, bob, S.ANSWERED, ext=BOB),
        ev("s-1", 8, ann, S.DISCONNECTED, direction=OUT, ext=ANN),
        ev("s-1", 9, bob, S.DISCONNECTED, ext=BOB),
        ev("s-1", 10, carl, S.DISCONNECTED, ext=CARL),
    ]
    late = [e for e in stream if e.party_id == carl]
    kinds = feed(correlator, [e for e in stream if e.party_id != carl])
    assert kinds[-1] is ChangeKind.FINISHED
    assert set(results(only_call(correlator))) == {ANN, BOB}
    # Within the linger, Carl's delayed notifications arrive: his phone rang too. The call
    # is live again while his party is...
    assert feed(correlator, late[:2]) == [ChangeKind.UPDATED, ChangeKind.UPDATED]
    call = only_call(correlator)
    assert call.finished_at is None
    # ...so the linger (which counts from a call's end) does not forget it,
    correlator.expire(T0 + timedelta(seconds=9 + 120))
    assert len(correlator) == 1
    # and it finishes again once Carl has left, now with Carl's record.
    assert feed(correlator, late[2:]) == [ChangeKind.FINISHED]
    # Carl was still ringing when Bob answered at 7 s: answered elsewhere, not missed.
    assert results(call) == {
        ANN: Result.CALL_CONNECTED,
        BOB: Result.ACCEPTED,
        CARL: Result.ANSWERED_ELSEWHERE,
    }


def test_a_late_event_of_a_finished_call_revises_its_records() -> None:
    correlator = Correlator()
    events = ann_calls_bob()
    # Bob's Answered is delayed past the end of the call: it looked missed.
    feed(correlator, [e for e in events if e.status is not S.ANSWERED])
    assert results(only_call(correlator)) == {ANN: Result.NO_ANSWER, BOB: Result.MISSED}
    change = correlator.feed(ACCOUNT, events[3])
    assert change is not None and change.kind is ChangeKind.FINISHED
    assert results(change.call) == {ANN: Result.CALL_CONNECTED, BOB: Result.ACCEPTED}


def test_an_event_after_the_call_was_forgotten_starts_a_new_call() -> None:
    correlator = Correlator(linger=timedelta(seconds=10))
    events = ann_calls_bob()
    feed(correlator, events)
    correlator.expire(T0 + timedelta(minutes=1))
    assert len(correlator) == 0
    late = ev("s-1", 9, "s-1-1", S.HOLD, direction=OUT, ext=ANN)
    assert correlator.feed(ACCOUNT, late) is not None
    assert len(only_call(correlator).events()) == 1
