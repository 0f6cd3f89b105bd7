"""The export pipeline: the one way a batch of records leaves the platform for the lake."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from analytics.anonymize import anonymize_record
from analytics.schema import spec_for, validate_records


class PipelineError(RuntimeError):
    """A batch could not be written to the lake."""


@dataclass(frozen=True)
class EmitReceipt:
    """What ``emit`` wrote: where, how many records, and whether personal data was pseudonymised."""

    dataset: str
    batch_id: str
    record_count: int
    anonymized: bool
    location: str
    emitted_at: datetime


def lake_dir() -> Path:
    """The root folder of the lake: ``ANALYTICS_LAKE_DIR`` or ``var/lake``."""
    return Path(os.environ.get("ANALYTICS_LAKE_DIR", "var/lake"))


def emit(dataset: str, records: list[dict], *, anonymize: bool) -> EmitReceipt:
    """Validate ``records`` against ``dataset``'s schema and write them to the lake as one batch.

    With ``anonymize=True`` the dataset's personal fields are pseudonymised (IP addresses
    truncated) and its free-text fields redacted before anything is written; with
    ``anonymize=False`` the records are written as given. The flag is keyword-only and has no
    default: every caller states it.

    The batch is a JSON Lines file ``<lake>/<dataset>/<date>/<batch_id>.jsonl``. An empty batch
    writes nothing and returns a receipt with ``record_count == 0``.
    """
    spec = spec_for(dataset)
    checked = validate_records(dataset, records)
    if anonymize:
        checked = [anonymize_record(r, spec.personal, spec.free_text) for r in checked]

    now = datetime.now(UTC)
    batch_id = uuid.uuid4().hex
    target = lake_dir() / dataset / now.strftime("%Y-%m-%d") / f"{batch_id}.jsonl"
    if checked:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("w", encoding="utf-8") as handle:
                for record in checked:
                    handle.write(json.dumps(record, default=str, sort_keys=True) + "\n")
        except OSError as error:
            raise PipelineError(f"cannot write batch {batch_id} of {dataset} to {target}: {error}") from error

    return EmitReceipt(
        dataset=dataset,
        batch_id=batch_id,
        record_count=len(checked),
        anonymized=anonymize,
        location=str(target),
        emitted_at=now,
    )
