import json
from pathlib import Path

import pytest

from analytics.pipeline import emit
from analytics.schema import SchemaError


def _event(n: int) -> dict:
    return {
        "event_id": f"e{n}",
        "event_name": "page_view",
        "occurred_at": "2026-01-05T10:00:00Z",
        "user_id": f"u{n}",
        "email": f"user{n}@example.com",
        "ip_address": "203.0.113.77",
        "properties": {"path": "/pricing"},
    }


def _read(location: str) -> list[dict]:
    return [json.loads(line) for line in Path(location).read_text().splitlines()]


def test_emit_writes_one_line_per_record():
    receipt = emit("events", [_event(1), _event(2)], anonymize=False)
    assert receipt.record_count == 2
    assert receipt.anonymized is False
    rows = _read(receipt.location)
    assert [r["email"] for r in rows] == ["user1@example.com", "user2@example.com"]


def test_emit_pseudonymises_personal_fields_when_asked():
    receipt = emit("events", [_event(1)], anonymize=True)
    (row,) = _read(receipt.location)
    assert receipt.anonymized is True
    assert row["email"].startswith("p_") and len(row["email"]) == 18
    assert row["ip_address"] == "203.0.113.0"
    assert row["properties"] == {"path": "/pricing"}


def test_emit_rejects_records_missing_required_fields():
    broken = _event(1)
    del broken["event_name"]
    with pytest.raises(SchemaError, match=r"events\[0\]: missing required fields event_name"):
        emit("events", [broken], anonymize=False)


def test_emit_rejects_unknown_dataset():
    with pytest.raises(SchemaError, match="unknown dataset 'clicks'"):
        emit("clicks", [], anonymize=True)


def test_anonymize_flag_has_no_default():
    with pytest.raises(TypeError):
        emit("events", [_event(1)])  # type: ignore[call-arg]
