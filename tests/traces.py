"""Scenario traces: a call as the event stream a phone system sends, with the expected log.

A trace file (``tests/traces/*.yaml``) names its extensions and parties once, lists events as
rows, and states the call-log records the call must produce. ``build_events`` turns the rows
into canonical event JSON (the same shape ``POST /api/v1/events`` takes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

TRACES = Path(__file__).parent / "traces"
BASE_TIME = datetime(2024, 5, 1, 14, 0, 0, tzinfo=UTC)
_DIR = {"out": "Outbound", "in": "Inbound"}


def load(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        trace: dict[str, Any] = yaml.safe_load(fh)
    return trace


def all_traces() -> list[Path]:
    return sorted(TRACES.glob("*.yaml"))


def extension_ids(trace: dict[str, Any], base: int = 500_000_000) -> dict[str, int]:
    """Trace extension key → a numeric extension id for this test run."""
    return {key: base + n for n, key in enumerate(sorted(trace.get("extensions", {})))}


def _endpoint(value: Any, trace: dict[str, Any], ids: dict[str, int]) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, str) and value in trace.get("extensions", {}):
        ext = trace["extensions"][value]
        return {"phoneNumber": ext["number"], "name": ext["name"], "extensionId": str(ids[value])}
    if isinstance(value, str):
        return {"phoneNumber": value}
    return dict(value)


def build_events(trace: dict[str, Any], ids: dict[str, int]) -> list[dict[str, Any]]:
    parties: dict[str, dict[str, Any]] = trace.get("parties", {})
    out = []
    for row in trace["events"]:
        party_id = row["party"]
        info = {**parties.get(party_id, {}), **row}
        session = info.get("session", trace.get("session", "s-trace"))
        party: dict[str, Any] = {
            "id": party_id,
            "direction": _DIR[str(info["dir"]).lower()],
            "status": info["status"],
        }
        if "reason" in info:
            party["reason"] = info["reason"]
        if "ext" in info:
            party["extensionId"] = str(ids[info["ext"]])
        for side in ("from", "to"):
            ep = _endpoint(info.get(side), trace, ids)
            if ep:
                party[side] = ep
        if "peer" in info:
            # ``peer: s-2`` or ``peer: {session: s-2, party: p-2-1}``
            peer = info["peer"] if isinstance(info["peer"], dict) else {"session": info["peer"]}
            party["peer"] = {"sessionId": peer["session"], "partyId": peer.get("party")}
        if info.get("queue"):
            party["queueCall"] = True
        if "role" in info:
            party["ringOutRole"] = info["role"]
        if "recording" in info:
            party["recordingId"] = str(info["recording"])
        if "sip" in info:
            party["sipCallId"] = info["sip"]
        event: dict[str, Any] = {
            "id": f"{session}:{row['seq']}:{party_id}",
            "sessionId": session,
            "sequence": row["seq"],
            "time": (BASE_TIME + timedelta(seconds=float(row["t"]))).isoformat(),
            "party": party,
        }
        if "origin" in info or "origin" in trace:
            event["origin"] = info.get("origin", trace.get("origin"))
        if "legacy" in info or "legacy" in trace:
            event["legacySessionId"] = str(info.get("legacy", trace.get("legacy")))
        out.append(event)
    return out
