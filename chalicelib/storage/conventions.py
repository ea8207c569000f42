"""What every reader and writer of the table and the bucket agrees on: timestamps,
index names, page size, the erased marker, and how items and objects expire.

A leaf: the ticket store, the audit log, API keys, the secret vault and the
delivery log all use these without importing one another.

Expiry: items get an ``expires_at`` epoch second (DynamoDB TTL); S3 objects get
the tag ``retention-days=<n>``, which one bucket lifecycle rule per allowed value
expires (infra/template.json). A tenant's retention choices are those values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

ACTIVITY_INDEX = "gsi1"
STATUS_INDEX = "gsi2"
MAX_PAGE = 100
ERASED = "erased"  # the customer id of a ticket whose customer was erased

# Retention choices map one-to-one to the bucket's lifecycle rules (by object tag)
RetentionDays = Literal[7, 30, 90, 180, 365, 730, 1095, 2555]
RETENTION_DAYS: tuple[int, ...] = get_args(RetentionDays)
TAG_KEY = "retention-days"


def utc_now() -> datetime:
    """The hub's clock unless one is injected (``Hub.clock``): timezone-aware, as :func:`iso` needs."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Sortable UTC timestamps with microseconds (store and index keys sort by them)."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def expires_at(moment: datetime, days: int) -> int:
    """The TTL attribute value: epoch seconds ``days`` after ``moment``."""
    return int((moment + timedelta(days=days)).timestamp())


def object_tagging(days: int) -> str:
    """The ``Tagging`` value for a put; only allowed values have a lifecycle rule."""
    if days not in RETENTION_DAYS:
        raise ValueError(f"no lifecycle rule expires objects after {days} days")
    return f"{TAG_KEY}={days}"


def allowed_days(days: int) -> int:
    """The shortest allowed choice of at least ``days`` (a deployment default that
    is not one of the choices still lands on a lifecycle rule)."""
    return next((choice for choice in sorted(RETENTION_DAYS) if choice >= days), max(RETENTION_DAYS))
