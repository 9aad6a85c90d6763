"""File imports through the single write path, in batches and constant memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from callvault.domain.calls import CallRecord
from callvault.importers.ringcentral_json import RecordError, iter_file_records, parse_record
from callvault.services.container import Services
from callvault.services.ingest import IngestReport, RecordProblem


@dataclass(slots=True)
class ImportProgress:
    bytes_read: int
    records: int


class _CountingReader:
    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        return data

    def readline(self) -> bytes:
        data = self.stream.readline()
        self.count += len(data)
        return data

    def __iter__(self) -> _CountingReader:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def import_ringcentral_file(
    services: Services,
    account_id: int,
    path: Path,
    *,
    batch_size: int = 1000,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> IngestReport:
    """Import a RingCentral call-log JSON file; returns the combined ingest report.

    Bad records are reported with their position in the file; good ones are stored.
    """
    total = IngestReport()
    with path.open("rb") as raw:
        reader = _CountingReader(raw)
        batch: list[CallRecord | None] = []
        positions: list[int] = []
        problems: list[RecordProblem] = []
        index = -1

        def flush() -> None:
            report = services.ingest.ingest(account_id, batch, positions=positions)
            total.merge(report)
            total.problems.extend(problems)
            batch.clear()
            positions.clear()
            problems.clear()
            if on_progress:
                on_progress(ImportProgress(reader.count, index + 1))

        for index, item in enumerate(iter_file_records(reader)):  # type: ignore[arg-type]
            try:
                batch.append(parse_record(item))
                positions.append(index)
            except RecordError as exc:
                problems.append(RecordProblem(index, exc.field, exc.reason))
            if len(batch) + len(problems) >= batch_size:
                flush()
        flush()
    return total
