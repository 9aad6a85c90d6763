"""Fetching the audio of recordings that stored calls only reference.

Call records imported from another system (a RingCentral call-log export, say) name their
recordings with the source's ``contentUri`` but bring no audio. This downloads each such
recording from its URI, with the headers the source wants (a bearer token), and attaches it
through ``RecordingService`` like an upload, so the record then serves the audio itself.
Recordings already held are skipped, so running it again fetches only what is still missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import httpx

from callvault.domain.calls import CallRecord
from callvault.errors import CallvaultError
from callvault.services.calls import CallService
from callvault.services.recordings import AttachOptions, RecordingService

CHUNK = 256 * 1024


@dataclass(slots=True, frozen=True)
class Referenced:
    """A recording a record names by the source's URI, with no audio held here."""

    record_id: str
    recording_id: str
    content_uri: str


@dataclass(slots=True)
class FetchReport:
    fetched: int = 0
    # Audio shorter than the kept minimum: the record now says ``shortRecording``.
    short: int = 0
    # (record id, recording id, why) of each recording that could not be fetched.
    failed: list[tuple[str, str, str]] = field(default_factory=list)


def referenced(records: Iterator[CallRecord]) -> Iterator[Referenced]:
    """The record-level recordings that have a source URI and no audio held."""
    for record in records:
        rec = record.recording
        if rec is not None and rec.content_uri and not rec.held:
            yield Referenced(record.id, rec.id, rec.content_uri)


class RecordingFetcher:
    def __init__(self, calls: CallService, recordings: RecordingService) -> None:
        self.calls = calls
        self.recordings = recordings

    def pending(self, account_id: int) -> list[Referenced]:
        """The account's recordings still to fetch."""
        return list(referenced(self.calls.with_recordings(account_id)))

    def fetch(
        self,
        account_id: int,
        item: Referenced,
        http: httpx.Client,
        headers: Mapping[str, str] | None = None,
    ) -> bool:
        """Download one recording and attach it to its record; returns False when the audio
        was too short to keep. Raises ``FetchFailed`` (the source's answer) or a
        ``CallvaultError`` (audio callvault does not keep, a record that changed meanwhile)."""
        try:
            with http.stream("GET", item.content_uri, headers=headers) as response:
                if response.status_code != 200:
                    raise FetchFailed(f"the source answered {response.status_code}")
                upload = self.recordings.start_upload(
                    account_id, item.record_id, response.headers.get("content-type")
                )
                try:
                    for chunk in response.iter_bytes(CHUNK):
                        upload.feed(chunk)
                except BaseException:
                    upload.discard()
                    raise
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{type(exc).__name__}: {exc}") from None
        result = self.recordings.attach(account_id, item.record_id, upload, AttachOptions())
        return not result.short

    def fetch_all(
        self,
        account_id: int,
        items: list[Referenced],
        http: httpx.Client,
        headers: Mapping[str, str] | None = None,
        *,
        progress: Callable[[Referenced], None] | None = None,
    ) -> FetchReport:
        """Fetch each of ``items``; one that fails is reported and the rest go on."""
        report = FetchReport()
        for item in items:
            try:
                if self.fetch(account_id, item, http, headers):
                    report.fetched += 1
                else:
                    report.short += 1
            except (FetchFailed, CallvaultError) as exc:
                reason = exc.message if isinstance(exc, CallvaultError) else str(exc)
                report.failed.append((item.record_id, item.recording_id, reason))
            if progress is not None:
                progress(item)
        return report


class FetchFailed(Exception):
    """The source did not hand over the audio."""
