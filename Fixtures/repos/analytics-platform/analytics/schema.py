"""The dataset registry: what each lake dataset holds and which of its fields are personal data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class SchemaError(ValueError):
    """A record does not fit the schema of its dataset."""


@dataclass(frozen=True)
class DatasetSpec:
    """The shape of one lake dataset.

    ``required`` fields must be present in every record (``None`` is allowed).
    ``personal`` fields identify or describe a person; ``free_text`` fields may contain
    personal data written by people (names, emails, phone numbers in a message body).
    """

    name: str
    required: tuple[str, ...]
    personal: tuple[str, ...] = ()
    free_text: tuple[str, ...] = ()
    owner: str = "data-platform"


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "events",
            required=("event_id", "event_name", "occurred_at", "user_id", "properties"),
            personal=("user_id", "email", "ip_address", "device_id"),
        ),
        DatasetSpec(
            "sessions",
            required=("session_id", "user_id", "started_at", "ended_at", "page_views"),
            personal=("user_id", "ip_address", "user_agent", "device_id"),
        ),
        DatasetSpec(
            "funnels",
            required=("funnel", "step", "user_id", "reached_at"),
            personal=("user_id", "email"),
        ),
        DatasetSpec(
            "cohorts",
            required=("cohort", "user_id", "signup_week", "plan"),
            personal=("user_id", "email", "country", "birth_year"),
        ),
        DatasetSpec(
            "retention",
            required=("cohort", "user_id", "week", "active"),
            personal=("user_id",),
        ),
        DatasetSpec(
            "attribution",
            required=("conversion_id", "user_id", "channel", "campaign", "converted_at"),
            personal=("user_id", "email", "ip_address", "click_id"),
            owner="growth",
        ),
        DatasetSpec(
            "ab_results",
            required=("experiment", "variant", "user_id", "metric", "value"),
            personal=("user_id",),
            owner="experimentation",
        ),
        DatasetSpec(
            "revenue",
            required=("invoice_id", "customer_id", "amount_cents", "currency", "paid_at"),
            personal=("customer_id", "billing_email", "billing_name", "billing_country"),
            owner="finance",
        ),
        DatasetSpec(
            "search_logs",
            required=("query_id", "user_id", "query", "results", "searched_at"),
            personal=("user_id", "ip_address"),
            free_text=("query",),
            owner="search",
        ),
        DatasetSpec(
            "support_tickets",
            required=("ticket_id", "requester_email", "subject", "body", "status", "opened_at"),
            personal=("requester_email", "requester_name", "requester_phone"),
            free_text=("subject", "body"),
            owner="support",
        ),
        DatasetSpec(
            "crash_reports",
            required=("crash_id", "app_version", "platform", "stack_hash", "occurred_at"),
            personal=("user_id", "device_id", "ip_address"),
            free_text=("breadcrumbs",),
            owner="mobile",
        ),
        DatasetSpec(
            "marketing_audiences",
            required=("audience", "user_id", "email", "consent_marketing"),
            personal=("user_id", "email", "first_name", "phone"),
            owner="growth",
        ),
    )
}


def spec_for(dataset: str) -> DatasetSpec:
    """Return the spec of ``dataset`` or raise ``SchemaError`` naming the known datasets."""
    try:
        return DATASETS[dataset]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise SchemaError(f"unknown dataset {dataset!r}; known datasets: {known}") from None


def validate_records(dataset: str, records: Iterable[dict]) -> list[dict]:
    """Check that every record is a dict with the dataset's required fields.

    Returns the records as a list. Raises ``SchemaError`` naming the first bad record by index
    and the fields it lacks.
    """
    spec = spec_for(dataset)
    checked: list[dict] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise SchemaError(f"{dataset}[{index}]: expected a dict, got {type(record).__name__}")
        missing = [name for name in spec.required if name not in record]
        if missing:
            raise SchemaError(f"{dataset}[{index}]: missing required fields {', '.join(missing)}")
        checked.append(record)
    return checked
