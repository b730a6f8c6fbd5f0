"""How a measurement is held against its estimate, for every kind of result read back: the
timestamps AWS's CLI prints, and when a measured time counts as slower."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# A step is slower than its figure when it took more than this much longer: an API call
# estimated at 0 s that took 2 s is not a finding.
GRACE_SECONDS = 5.0
GRACE_SHARE = 0.1


def timestamp(value: Any) -> datetime | None:
    """A timestamp as the AWS CLI prints it (ISO 8601) or as epoch seconds; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def slower(measured: float, estimated: float) -> bool:
    return measured > estimated + max(GRACE_SECONDS, GRACE_SHARE * estimated)
