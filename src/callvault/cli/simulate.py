"""``callvault simulate``: SIMULATED call traffic driven through a running server's event API.

The demo office's simulated calls (``services.simulation``) are posted, as canonical events, to
``POST /api/v1/events`` of a callvault server, each batch when the simulated clock reaches it:
the same path a real phone system's events take. Everything it sends and prints is marked as
simulated.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Group
from rich.live import Live
from rich.text import Text

from callvault.cli.common import console, err_console
from callvault.domain.events import CallEvent
from callvault.importers.native_events import event_to_json
from callvault.services.clock import system_clock
from callvault.services.demo import DEMO_MAIN_NUMBER, DEMO_OFFICE
from callvault.services.simulation import DemoExtension, SimulatedCall, interleave, live_calls

if TYPE_CHECKING:
    import httpx

TAG = "SIMULATED"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Events per POST; the server takes up to 10 000.
MAX_BATCH = 500
# How often the live summary is redrawn while waiting for the next events (wall seconds).
REFRESH_SECONDS = 0.5


class SimulationFailed(Exception):
    """The server could not be reached, refused the login, or failed a request."""


def _office() -> tuple[list[DemoExtension], dict[int, str]]:
    """The demo office with stand-in ids; events name extensions by number on the wire, so
    the server resolves them to the account's own extensions."""
    exts = [
        DemoExtension(n + 1, number, name, kind)
        for n, (number, name, kind) in enumerate(DEMO_OFFICE)
    ]
    return exts, {e.id: e.number for e in exts}


def wire_event(event: CallEvent, numbers: dict[int, str]) -> dict[str, Any]:
    """An event as canonical JSON, its extensions referred to by short number."""
    data = event_to_json(event)
    party: dict[str, Any] = data["party"]
    ext_id = party.pop("extensionId", None)
    if ext_id is not None:
        party["extensionNumber"] = numbers[int(ext_id)]
    for side in ("from", "to"):
        endpoint = party.get(side)
        if endpoint:
            endpoint.pop("extensionId", None)
    return data


@dataclass(slots=True)
class Credentials:
    base_url: str
    client_id: str
    client_secret: str
    username: str
    password: str

    @property
    def main_number(self) -> str:
        """The company number a ``+1650…*101`` login names, else the demo's."""
        number, star, _ = self.username.partition("*")
        return number if star and number.startswith("+") else DEMO_MAIN_NUMBER


def _credentials(
    base_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    username: str | None,
    password: str | None,
    login_file: Path | None,
) -> Credentials:
    saved: dict[str, Any] = {}
    if login_file is not None:
        try:
            saved = orjson.loads(login_file.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise SimulationFailed(f"cannot read the login file {login_file}: {exc}") from None
    values = {
        "client_id": client_id or saved.get("client_id"),
        "client_secret": client_secret or saved.get("client_secret"),
        "username": username or saved.get("username"),
        "password": password or saved.get("password"),
    }
    missing = [k for k, v in values.items() if not v]
    if missing:
        flags = ", ".join("--" + k.replace("_", "-") for k in missing)
        raise SimulationFailed(f"missing {flags} (or pass --login-file .demo-login.json)")
    return Credentials(
        base_url=(base_url or saved.get("base_url") or DEFAULT_BASE_URL).rstrip("/"),
        client_id=str(values["client_id"]),
        client_secret=str(values["client_secret"]),
        username=str(values["username"]),
        password=str(values["password"]),
    )


@dataclass(slots=True)
class Tally:
    """What was sent and what the server said about it."""

    calls: int = 0
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    finished: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    scenarios: Counter[str] = field(default_factory=Counter)
    last_time: datetime | None = None


class EventPoster:
    """Logs in with the password grant and posts event batches; logs in again on a 401."""

    def __init__(self, http: httpx.Client, creds: Credentials) -> None:
        self.http = http
        self.creds = creds
        self.token = ""

    def login(self) -> None:
        import httpx

        try:
            r = self.http.post(
                "/restapi/oauth/token",
                auth=(self.creds.client_id, self.creds.client_secret),
                data={
                    "grant_type": "password",
                    "username": self.creds.username,
                    "password": self.creds.password,
                },
            )
        except httpx.HTTPError as exc:
            raise SimulationFailed(f"cannot reach {self.creds.base_url}: {exc}") from None
        if r.status_code != 200:
            raise SimulationFailed(f"login refused ({r.status_code}): {r.text[:300]}")
        self.token = str(r.json()["access_token"])

    def post(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        import httpx

        for attempt in (1, 2):
            try:
                r = self.http.post(
                    "/api/v1/events",
                    content=orjson.dumps(events),
                    headers={
                        "Authorization": f"Bearer {self.token}",
                        "Content-Type": "application/json",
                    },
                )
            except httpx.HTTPError as exc:
                raise SimulationFailed(f"cannot reach {self.creds.base_url}: {exc}") from None
            if r.status_code == 401 and attempt == 1:
                self.login()  # the access token expired during a long run
                continue
            if r.status_code not in (200, 207, 422):
                raise SimulationFailed(f"POST /api/v1/events: {r.status_code} {r.text[:300]}")
            body: dict[str, Any] = r.json()
            return body
        raise SimulationFailed("POST /api/v1/events: still unauthorised after a new login")


@dataclass(slots=True)
class Run:
    """One simulation run: the simulated clock, the event stream and the tally."""

    poster: EventPoster
    numbers: dict[int, str]
    stream: Iterator[CallEvent]
    first_events: dict[str, SimulatedCall]
    start: datetime
    speed: float
    duration: float
    tally: Tally = field(default_factory=Tally)
    sim_now: datetime | None = None
    pending: CallEvent | None = None
    started: set[str] = field(default_factory=set)  # sessions of the calls sent so far
    interrupted: bool = False

    def __post_init__(self) -> None:
        self.pending = next(self.stream, None)

    def due(self, until: datetime | None) -> list[CallEvent]:
        """Events whose time has come on the simulated clock (all of them when None)."""
        out: list[CallEvent] = []
        while self.pending is not None and (until is None or self.pending.time <= until):
            out.append(self.pending)
            self.pending = next(self.stream, None)
        return out

    def send(self, events: list[CallEvent]) -> None:
        for start in range(0, len(events), MAX_BATCH):
            chunk = events[start : start + MAX_BATCH]
            for e in chunk:
                call = self.first_events.pop(e.event_id, None)
                if call is not None:
                    self.tally.calls += 1
                    self.tally.scenarios[call.scenario] += 1
                    self.started.update(call.sessions)
            body = self.poster.post([wire_event(e, self.numbers) for e in chunk])
            t = self.tally
            t.last_time = max(chunk[-1].time, t.last_time or chunk[-1].time)
            t.events += len(chunk)
            t.accepted += int(body.get("accepted", 0))
            t.duplicates += int(body.get("duplicates", 0))
            t.finished += int(body.get("callsFinished", 0))
            t.rejected += int(body.get("rejected", 0))
            for err in body.get("errors", [])[:5]:
                if len(t.errors) < 5:
                    t.errors.append(f"{err.get('field')}: {err.get('reason')}")


def _render(run: Run, creds: Credentials, elapsed: float, state: str = "") -> Group:
    t = run.tally
    clock = (run.sim_now or run.start).strftime("%Y-%m-%d %H:%M:%S")
    mix = ", ".join(f"{name} {n}" for name, n in t.scenarios.most_common()) or "none yet"
    state = state or f"{elapsed:5.1f}/{run.duration:g} s"
    lines = [
        f"{TAG} call traffic → {creds.base_url}/api/v1/events ({state})",
        f"{TAG} clock {clock}Z, running at {run.speed:g}x speed",
        f"{TAG} calls started {t.calls} · events sent {t.events} · accepted {t.accepted} · "
        f"calls finished {t.finished} · rejected {t.rejected}",
        f"{TAG} mix: {mix}",
    ]
    return Group(
        *(Text(line, style="bold yellow" if n == 0 else "") for n, line in enumerate(lines))
    )


def _tracked(
    calls: Iterator[SimulatedCall], first_events: dict[str, SimulatedCall]
) -> Iterator[SimulatedCall]:
    """Remember each call's first event, so a call counts as started once it is sent."""
    for call in calls:
        first_events[call.events[0].event_id] = call
        yield call


def _drive(run: Run, creds: Credentials, live: Live | None) -> None:
    try:
        _pace(run, creds, live)
    except KeyboardInterrupt:
        run.interrupted = True
    # Time is up (or the run was interrupted): the calls already under way end now, so none
    # is left open on the server; calls not yet started are dropped.
    if live is not None:
        live.update(_render(run, creds, run.duration, "finishing calls under way"), refresh=True)
    run.send([e for e in run.due(None) if e.session_id in run.started or not run.interrupted])
    if live is not None:
        live.update(_render(run, creds, run.duration, "done"), refresh=True)


def _pace(run: Run, creds: Credentials, live: Live | None) -> None:
    """Send each event when the simulated clock reaches it, until ``duration`` is over."""
    wall0 = time.monotonic()
    last_draw = 0.0
    while run.pending is not None:
        elapsed = time.monotonic() - wall0
        if elapsed >= run.duration:
            break
        run.sim_now = run.start + timedelta(seconds=elapsed * run.speed)
        batch = run.due(run.sim_now)
        if batch:
            run.send(batch)
        if live is not None and (batch or elapsed - last_draw >= REFRESH_SECONDS):
            live.update(_render(run, creds, elapsed), refresh=True)
            last_draw = elapsed
        if run.pending is None:
            break
        wait = (run.pending.time - run.sim_now).total_seconds() / run.speed
        time.sleep(max(0.0, min(wait, REFRESH_SECONDS, run.duration - elapsed)))


def simulate(
    base_url: Annotated[
        str | None,
        typer.Option(
            help="The callvault server to send to. Default: the login file's base URL, "
            f"else {DEFAULT_BASE_URL}.",
            show_default=False,
        ),
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="OAuth client id.")] = None,
    client_secret: Annotated[str | None, typer.Option(help="OAuth client secret.")] = None,
    username: Annotated[
        str | None, typer.Option(help="An admin's login, e.g. +16505550100*101.")
    ] = None,
    password: Annotated[str | None, typer.Option(help="That admin's password.")] = None,
    login_file: Annotated[
        Path | None,
        typer.Option(help="Login details as written by `callvault demo --save` (flags win)."),
    ] = None,
    calls_per_minute: Annotated[
        float, typer.Option(min=0.01, help="New calls per simulated minute, on average.")
    ] = 4.0,
    speed: Annotated[
        float,
        typer.Option(
            min=0.01, help="Time acceleration: simulated seconds per real second (1 = real time)."
        ),
    ] = 1.0,
    duration: Annotated[
        float, typer.Option(min=0.1, help="How long to run, in real seconds.")
    ] = 60.0,
    seed: Annotated[
        int | None,
        typer.Option(help="Random seed: same seed, same traffic. Default: a random seed, printed."),
    ] = None,
) -> None:
    """Send SIMULATED call traffic to a callvault server, as a phone system would.

    The demo office (users 101-105, ring group 200 answered by 103 and 104)
    takes and places SIMULATED calls of every kind: inbound answered, missed,
    voicemail and busy (some through the IVR), ring group, FindMe, outbound,
    internal, RingOut, blind and warm transfers. Each call's per-party events
    go to the server's POST /api/v1/events when the simulated clock reaches
    them; the server journals and correlates them like any phone system's.

    The simulated clock starts now and runs --speed times faster than real
    time; events carry its times, so above --speed 1 they run ahead of the
    real clock. After --duration real seconds no new call starts, and the
    calls under way are finished at once. Log in as an admin of the demo
    account: `callvault demo --save .demo-login.json` writes what
    --login-file reads.
    """
    try:
        import httpx
    except ImportError:
        err_console.print(f"{TAG}: `callvault simulate` needs httpx (pip install httpx)")
        raise typer.Exit(1) from None
    try:
        creds = _credentials(base_url, client_id, client_secret, username, password, login_file)
    except SimulationFailed as exc:
        err_console.print(f"[red]{TAG} traffic not started:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    if seed is None:
        seed = random.SystemRandom().randrange(1, 1_000_000)
    extensions, numbers = _office()
    start = system_clock()
    start = start.replace(microsecond=start.microsecond // 1000 * 1000)
    first_events: dict[str, SimulatedCall] = {}
    calls = live_calls(
        extensions,
        start=start,
        seed=seed,
        main_number=creds.main_number,
        calls_per_minute=calls_per_minute,
        until=start + timedelta(seconds=duration * speed),
    )
    with httpx.Client(base_url=creds.base_url, timeout=30) as http:
        poster = EventPoster(http, creds)
        run = Run(
            poster,
            numbers,
            interleave(_tracked(calls, first_events)),
            first_events,
            start,
            speed,
            duration,
        )
        console.print(
            f"{TAG} call traffic for the demo office of {creds.main_number}, seed {seed} "
            f"(--seed {seed} plays it again)",
            soft_wrap=True,
        )
        try:
            poster.login()
            if console.is_terminal:
                with Live(_render(run, creds, 0.0), console=console, auto_refresh=False) as live:
                    _drive(run, creds, live)
            else:
                _drive(run, creds, None)
        except SimulationFailed as exc:
            err_console.print(f"[red]{TAG} traffic stopped:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(1) from None
    _summary(run, creds)
    if run.tally.rejected:
        raise typer.Exit(1)


def _summary(run: Run, creds: Credentials) -> None:
    t = run.tally
    end = t.last_time or run.start
    if run.interrupted:
        console.print(f"{TAG} traffic interrupted: the calls under way were finished early")
    console.print(
        f"{TAG} traffic done: {t.calls} calls, {t.events} events sent to {creds.base_url}, "
        f"{t.accepted} accepted, {t.duplicates} duplicates, {t.rejected} rejected; "
        f"the server finished {t.finished} calls",
        soft_wrap=True,
    )
    console.print(
        f"{TAG} events span {run.start:%Y-%m-%d %H:%M:%S}Z to {end:%Y-%m-%d %H:%M:%S}Z "
        "on the simulated clock",
        soft_wrap=True,
    )
    if t.scenarios:
        mix = ", ".join(f"{name} {n}" for name, n in t.scenarios.most_common())
        console.print(f"{TAG} mix: {mix}", soft_wrap=True)
    for error in t.errors:
        err_console.print(f"[red]{TAG} event rejected:[/red] {error}", soft_wrap=True)
