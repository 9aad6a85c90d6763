"""File imports through the single write path, in batches and constant memory: RingCentral
call-log JSON and PortSIP CDR JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from callvault.domain.calls import CallRecord
from callvault.importers.portsip_files import iter_file_items as iter_portsip_items
from callvault.importers.portsip_json import records_from as portsip_records
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

    def parse(item: Any) -> list[CallRecord]:
        return [parse_record(item)]

    report, _ = _import_file(
        services, account_id, path, iter_file_records, parse, batch_size, on_progress
    )
    return report


def import_portsip_file(
    services: Services,
    account_id: int,
    path: Path,
    *,
    batch_size: int = 1000,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> tuple[IngestReport, int]:
    """Import a PortSIP CDR JSON file (REST records or ``call_cdr`` webhook bodies).

    Returns the combined ingest report and how many webhook events were skipped because they
    carry no final CDR (``call_start``, ``cdr_target_*`` …). Extensions are matched by number.
    """
    resolve = services.accounts.resolver(account_id)

    def parse(item: Any) -> list[CallRecord] | None:
        return portsip_records(item, resolve)

    return _import_file(
        services, account_id, path, iter_portsip_items, parse, batch_size, on_progress
    )


def _import_file(
    services: Services,
    account_id: int,
    path: Path,
    items: Callable[[Any], Iterator[Any]],
    parse: Callable[[Any], list[CallRecord] | None],
    batch_size: int,
    on_progress: Callable[[ImportProgress], None] | None,
) -> tuple[IngestReport, int]:
    """Stream ``path``'s items, parse each into records, and ingest them in batches.

    A record's problem is reported at the position of the item it came from.
    """
    total = IngestReport()
    skipped = 0
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

        for index, item in enumerate(items(reader)):
            try:
                records = parse(item)
            except RecordError as exc:
                problems.append(RecordProblem(index, exc.field, exc.reason))
                records = []
            if records is None:
                skipped += 1
                continue
            batch.extend(records)
            positions.extend([index] * len(records))
            if len(batch) + len(problems) >= batch_size:
                flush()
        flush()
    return total, skipped
