"""Recordings that imported calls only reference are fetched from the source, attached like an
upload, and not fetched twice; a source that refuses is reported and the others go on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from typer.testing import CliRunner

from callvault.cli import app as cli
from callvault.importers.ringcentral_json import parse_record
from callvault.services.container import Services
from callvault.services.demo_audio import wav_clip
from callvault.services.recording_fetch import RecordingFetcher
from tests.builders import TestAccount, make_account, rc_record
from tests.conftest import _free_port, _serve

TOKEN = "source-token"
AUDIO = {"long": wav_clip(40), "other": wav_clip(35, seed=3), "brief": wav_clip(5)}


@pytest.fixture(scope="module")
def source() -> Iterator[str]:
    """A recording source like RingCentral's media server: bearer token, audio by name."""
    media = FastAPI()

    @media.get("/media/{name}")
    def content(request: Request, name: str) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Response(status_code=401)
        if name not in AUDIO:
            return Response(status_code=404)
        return Response(AUDIO[name], media_type="audio/wav")

    with _serve(media, f"http://127.0.0.1:{_free_port()}") as url:
        yield url


def _calls(services: Services, acc: TestAccount, source: str, names: list[str]) -> None:
    records = [
        rc_record(
            f"F{n}",
            extension_id=acc.extensions["101"],
            recording={"id": f"70{n}", "type": "Automatic", "contentUri": f"{source}/media/{name}"},
        )
        for n, name in enumerate(names)
    ]
    report = services.ingest.ingest(acc.account_id, [parse_record(r) for r in records])
    assert report.created == len(records)


def _recording(services: Services, acc: TestAccount, record_id: str) -> Any:
    return services.calls.get_many(acc.account_id, [record_id])[record_id]


def test_referenced_audio_is_fetched_once(services: Services, source: str) -> None:
    acc = make_account(services)
    _calls(services, acc, source, ["long", "missing", "brief", "other"])
    fetcher = RecordingFetcher(services.calls, services.recordings)
    pending = fetcher.pending(acc.account_id)
    assert [p.record_id for p in pending] == ["F0", "F1", "F2", "F3"]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client() as http:
        report = fetcher.fetch_all(acc.account_id, pending, http, headers)
    assert (report.fetched, report.short) == (2, 1)
    assert report.failed == [("F1", "701", "the source answered 404")]

    for record_id, recording_id, name in (("F0", "700", "long"), ("F3", "703", "other")):
        record = _recording(services, acc, record_id)
        assert record.recording.id == recording_id and record.recording.held
        held = services.recordings.get(acc.account_id, recording_id, viewer_extension_id=None)
        path = services.recordings.local_path(held)
        assert path is not None and path.read_bytes() == AUDIO[name]
    brief = _recording(services, acc, "F2")
    assert brief.recording is None and brief.short_recording

    # Only the one that failed is still to fetch.
    assert [p.record_id for p in fetcher.pending(acc.account_id)] == ["F1"]


def test_only_references_without_audio_are_pending(services: Services, source: str) -> None:
    acc = make_account(services)
    _calls(services, acc, source, ["long", "other"])
    held = _recording(services, acc, "F1")
    held.recording.held = True  # audio kept here already, the source URI still named
    assert services.ingest.ingest(acc.account_id, [held]).updated == 1
    fetcher = RecordingFetcher(services.calls, services.recordings)
    assert [p.record_id for p in fetcher.pending(acc.account_id)] == ["F0"]


def test_a_refusing_source_is_reported(services: Services, source: str) -> None:
    acc = make_account(services)
    _calls(services, acc, source, ["long"])
    fetcher = RecordingFetcher(services.calls, services.recordings)
    with httpx.Client() as http:
        report = fetcher.fetch_all(acc.account_id, fetcher.pending(acc.account_id), http)
    assert report.failed == [("F0", "700", "the source answered 401")]
    assert not _recording(services, acc, "F0").recording.held


def test_the_command_fetches_and_says_what_failed(
    database_url: str, services: Services, source: str
) -> None:
    acc = make_account(services)
    _calls(services, acc, source, ["long", "missing"])
    args = ["recordings", "fetch", "--account", str(acc.account_id), "--database-url", database_url]
    dry = CliRunner().invoke(cli, [*args, "--dry-run"])
    assert dry.exit_code == 0 and "2 recordings to fetch" in dry.output
    result = CliRunner().invoke(cli, [*args, "-H", f"Authorization: Bearer {TOKEN}"])
    assert result.exit_code == 1, result.output
    assert "1 fetched, 0 too short to keep" in result.output
    assert "record F1, recording 701" in result.output and "404" in result.output
    assert _recording(services, acc, "F0").recording.held
    bad = CliRunner().invoke(cli, [*args, "-H", "no colon"])
    assert bad.exit_code == 2 and "Name: value" in bad.output
