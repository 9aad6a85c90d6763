"""Recording content throughput and memory: callvault's content endpoint against a plain
Starlette ``FileResponse`` of the very same file, side by side in one run.

One server process (one uvicorn worker, 127.0.0.1) serves both: ``/restapi/v1.0/account/~/
recording/{id}/content`` (token check, rate limiter, permission lookup, Range handling) and a
bare ``/plain/{key}`` route that only returns ``FileResponse(path)``. Recordings of several sizes
are uploaded through the native API first (streamed; the largest is 200 MB by default). Then,
for each size, the same bounded number of GETs goes to each route, in alternating rounds, from a
few concurrent keep-alive clients that read and discard the body; each round runs both routes
back to back, and the median of the per-round ratios is the verdict (target: at least 80 %). The
server's resident memory (``/proc/<pid>/status``) is read before and after the large downloads.

    .venv/bin/python bench/recording_content.py
    .venv/bin/python bench/recording_content.py --large-mb 200 --rounds 8 --concurrency 4
    .venv/bin/python bench/recording_content.py --chunk-kib 64   # same read size as the plain route
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

PASSWORD = "bench-password-1"
MAIN_NUMBER = "+16505550100"
DATA_DIR = Path(__file__).resolve().parent / "data"
RATE = 8000


# -- the server -----------------------------------------------------------------------------------


def serve(db_url: str, recordings: Path, port: int) -> None:
    """Run callvault and the plain FileResponse route on one uvicorn worker (blocks)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route
    from starlette.types import Receive, Scope, Send

    from callvault.api.app import create_app
    from callvault.api.ringcentral.media import RecordingFile
    from callvault.settings import Settings

    if os.environ.get("BENCH_CHUNK_KIB"):
        RecordingFile.chunk_size = int(os.environ["BENCH_CHUNK_KIB"]) * 1024

    settings = Settings(
        database_url=db_url, base_url=f"http://127.0.0.1:{port}", recordings_dir=recordings
    )
    callvault = create_app(settings)

    async def plain_file(request: Request) -> Response:
        return FileResponse(recordings / request.path_params["key"])

    plain = Starlette(routes=[Route("/plain/{key:path}", plain_file)])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/plain/"):
            await plain(scope, receive, send)
        else:
            await callvault(scope, receive, send)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", workers=1)


def prepare(db_url: str) -> tuple[str, str]:
    """Schema, an account with an admin on 101 and an app; returns (client id, secret)."""
    from callvault.services.accounts import Role
    from callvault.services.container import Services
    from callvault.settings import Settings
    from callvault.storage.migrate import upgrade

    services = Services.build(Settings(database_url=db_url))
    upgrade(services.db.engine)
    acc = services.accounts.create_account("Bench", MAIN_NUMBER)
    services.accounts.add_extension(acc.id, "101", "Bench Admin")
    services.accounts.add_user(acc.id, "101", email=None, password=PASSWORD, role=Role.ADMIN)
    app = services.accounts.create_app(acc.id, "bench")
    services.close()
    return app.client_id, app.client_secret or ""


def rss_kb(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


# -- audio ----------------------------------------------------------------------------------------


def wav_stream(size: int) -> Iterator[bytes]:
    """A WAV file of about ``size`` bytes (16-bit mono 8 kHz noise-free tone), in 1 MB pieces."""
    frames = (size - 44) // 2
    data_bytes = frames * 2
    yield (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )
    piece = bytes(range(256)) * 4096  # 1 MiB
    left = data_bytes
    while left > 0:
        yield piece[: min(left, len(piece))]
        left -= len(piece)


def mp3_bytes(size: int) -> bytes:
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(16)
    encoder.set_in_sample_rate(RATE)
    encoder.set_channels(1)
    encoder.set_quality(9)
    seconds = size // 2000 + 1  # 16 kbit/s is 2 kB/s
    pcm = (bytes(range(0, 256, 2)) * 125) * seconds
    return bytes(encoder.encode(pcm) + encoder.flush())


# -- the client -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds


def fetch_all(base: str, url: str, headers: dict[str, str], count: int, workers: int) -> Result:
    """``count`` GETs of ``url`` spread over ``workers`` keep-alive clients; bodies discarded."""
    result = Result()
    lock = threading.Lock()
    left = [count]

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=300) as client:
            while True:
                with lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                got = 0
                with client.stream("GET", url, headers=headers) as r:
                    assert r.status_code in (200, 206), r.status_code
                    for chunk in r.iter_raw(1 << 20):
                        got += len(chunk)
                with lock:
                    result.requests += 1
                    result.bytes += got

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - started
    return result


@dataclass(slots=True)
class Case:
    label: str
    size: int
    requests: int
    kind: str = "wav"
    range_header: str | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large-mb", type=int, default=200, help="size of the large file (MB)")
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds per case")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent clients")
    parser.add_argument("--quick", action="store_true", help="fewer requests, 50 MB file")
    parser.add_argument(
        "--chunk-kib",
        type=int,
        default=0,
        help="read size of callvault's file response (default: its own, 256); 64 is what the "
        "plain FileResponse uses, to compare request handling alone",
    )
    args = parser.parse_args()
    large = (50 if args.quick else args.large_mb) * 1_000_000
    scale = 4 if args.quick else 1
    cases = [
        Case("1 MB MP3", 1_000_000, 400 // scale, kind="mp3"),
        Case("10 MB WAV", 10_000_000, 80 // scale),
        Case("10 MB WAV, Range 2nd half", 10_000_000, 80 // scale, range_header="bytes=5000000-"),
        Case(f"{large // 1_000_000} MB WAV", large, 16 // min(scale, 2)),
    ]
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="recording-content-", dir=DATA_DIR))
    try:
        measure(work, cases, args.rounds, args.concurrency, args.chunk_kib)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(work: Path, cases: list[Case], rounds: int, workers: int, chunk_kib: int) -> None:
    """Prepare a database in ``work``, start the server, run the cases, stop the server."""
    db_url = f"sqlite:///{work / 'bench.db'}"
    client_id, secret = prepare(db_url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    if chunk_kib:
        env["BENCH_CHUNK_KIB"] = str(chunk_kib)
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", db_url, str(work / "recordings"), str(port)],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        run(base, server.pid, client_id, secret, cases, rounds, workers, chunk_kib or 256)
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(
    base: str,
    pid: int,
    client_id: str,
    secret: str,
    cases: list[Case],
    rounds: int,
    workers: int,
    chunk: int,
) -> None:
    with httpx.Client(base_url=base, timeout=600) as client:
        for _ in range(200):
            try:
                client.get("/api/v1/health")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        token = client.post(
            "/restapi/oauth/token",
            auth=(client_id, secret),
            data={"grant_type": "password", "username": f"{MAIN_NUMBER}*101", "password": PASSWORD},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        rss_start = rss_kb(pid)
        uploaded: dict[int, tuple[str, str]] = {}
        for n, case in enumerate(cases):
            if case.size in uploaded:
                continue
            rid = f"BENCH{n}"
            r = client.post("/api/v1/calls", json=[_record(rid)], headers=auth)
            r.raise_for_status()
            if case.kind == "mp3":
                body: bytes | Iterator[bytes] = mp3_bytes(case.size)
                ctype = "audio/mpeg"
            else:
                body, ctype = wav_stream(case.size), "audio/wav"
            r = client.post(
                f"/api/v1/calls/{rid}/recording",
                content=body,
                headers={**auth, "Content-Type": ctype},
            )
            assert r.status_code == 201, r.text
            info = r.json()
            ext = ".mp3" if ctype == "audio/mpeg" else ".wav"
            uploaded[case.size] = (
                info["recordingId"],
                f"{info['sha256'][:2]}/{info['sha256']}{ext}",
            )
            print(f"uploaded {case.label}: {info['size']:,} bytes, {info['duration']} s")
        rss_uploaded = rss_kb(pid)

    print(
        f"\nserver: one uvicorn worker, pid {pid}; {workers} concurrent keep-alive clients; "
        f"{rounds} alternating rounds per case; reads of 64 KiB (plain) and {chunk} KiB "
        "(callvault)\n"
    )
    header = (
        f"{'case':<28}{'requests':>9}  {'plain FileResponse':>20}  {'callvault content':>20}"
        f"  {'ratio':>7} {'median':>7}"
    )
    print(header)
    print("-" * len(header))
    rss_before_large = rss_uploaded
    ratios = []
    for case in cases:
        rid, key = uploaded[case.size]
        if case.size == max(c.size for c in cases):
            rss_before_large = rss_kb(pid)
        headers = dict(auth)
        if case.range_header:
            headers["Range"] = case.range_header
        plain_headers = {"Range": case.range_header} if case.range_header else {}
        per_round = max(1, case.requests // rounds)
        plain, ours = Result(), Result()
        # Warm the page cache and both code paths once.
        fetch_all(base, f"/plain/{key}", plain_headers, 1, 1)
        content = f"/restapi/v1.0/account/~/recording/{rid}/content"
        fetch_all(base, content, headers, 1, 1)
        paired = []
        for n in range(rounds):
            pair = [(plain, f"/plain/{key}", plain_headers), (ours, content, headers)]
            # Alternate which goes first, so neither always runs on a warmer (or busier) box.
            took = {}
            for target, url, hdrs in pair if n % 2 == 0 else pair[::-1]:
                got = fetch_all(base, url, hdrs, per_round, workers)
                target.requests += got.requests
                target.bytes += got.bytes
                target.seconds += got.seconds
                took[id(target)] = got.mb_per_s
            paired.append(took[id(ours)] / took[id(plain)])
        ratio = ours.mb_per_s / plain.mb_per_s
        median = statistics.median(paired)
        ratios.append(median)
        print(
            f"{case.label:<28}{plain.requests:>4} + {ours.requests:<4}"
            f"{plain.mb_per_s:>10,.0f} MB/s {plain.per_s:>6.1f}/s"
            f"{ours.mb_per_s:>10,.0f} MB/s {ours.per_s:>6.1f}/s  {ratio:>6.1%}  {median:>6.1%}"
        )
    rss_end = rss_kb(pid)
    large = max(c.size for c in cases)
    print(
        f"\nserver RSS: {rss_start[0] / 1024:,.1f} MiB at start, "
        f"{rss_uploaded[0] / 1024:,.1f} MiB after uploading every file (the largest streamed), "
        f"{rss_before_large[0] / 1024:,.1f} MiB before the {large // 1_000_000} MB downloads, "
        f"{rss_end[0] / 1024:,.1f} MiB after them; peak {rss_end[1] / 1024:,.1f} MiB"
    )
    worst = min(ratios)
    verdict = "PASS" if worst >= 0.8 else "FAIL"
    print(
        "ratio: callvault MB/s over plain MB/s, all requests; median: of the per-round ratios "
        "(each round runs both back to back), which load from other processes skews less"
    )
    print(f"lowest median ratio {worst:.1%} (target >= 80%): {verdict}")


def _record(rid: str) -> dict[str, object]:
    return {
        "id": rid,
        "sessionId": "1",
        "startTime": "2026-01-05T10:00:00.000Z",
        "durationMs": 120_000,
        "type": "Voice",
        "direction": "Inbound",
        "action": "Phone Call",
        "result": "Accepted",
        "from": {"phoneNumber": "+14155550101"},
        "to": {"phoneNumber": MAIN_NUMBER},
    }


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
