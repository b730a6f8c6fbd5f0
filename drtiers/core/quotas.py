"""The Service Quotas a deploy touches: each quota's name, AWS's default and what counts
against it, from quotas.json (each with its source and the date it was read)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Quota:
    key: str
    service: str
    name: str  # as Service Quotas and AWS's quota tables name it
    default: int | None  # None: no AWS page read states it (status not-published)
    scope: str  # region, availability-zone or account
    counts: str  # what counts against it, in CloudFormation's words
    source: str
    read: str
    status: str
    headroom: int = 0  # what a deploy may not use of it (Lambda keeps 100 unreserved)

    @property
    def usable(self) -> int | None:
        """How much of the default a deploy may use; None where the default is unknown."""
        return None if self.default is None else self.default - self.headroom


@cache
def default_quotas() -> dict[str, Quota]:
    data = json.loads(resources.files("drtiers.core").joinpath("quotas.json").read_text())
    return {
        key: Quota(
            key=key,
            service=entry["service"],
            name=entry["name"],
            default=entry["default"],
            scope=entry["scope"],
            counts=entry["counts"],
            source=entry["source"],
            read=entry["read"],
            status=entry["status"],
            headroom=entry.get("headroom", 0),
        )
        for key, entry in data["quotas"].items()
    }
