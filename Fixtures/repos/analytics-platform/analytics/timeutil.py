"""UTC period boundaries used by the exports."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC start of ``day`` and the start of the next day."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def week_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC start of the ISO week (Monday) holding ``day`` and the start of the next week."""
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time.min, tzinfo=UTC)
    return start, start + timedelta(days=7)


def iso_week_label(day: date) -> str:
    """``YYYY-Www`` for the ISO week holding ``day``, e.g. ``2026-W02``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def to_iso(value: datetime | str | None) -> str | None:
    """An ISO 8601 UTC string for ``value``; strings are returned unchanged."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
