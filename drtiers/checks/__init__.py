"""The policy checks: cfn-lint, cdk-nag, Guard and the DR rule pack over synthesized tiers."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on: its affinity, which a container or `taskset`
    narrows, where os.cpu_count() counts the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
