"""Estimated RTO, RPO and monthly cost of each tier, from its synthesized cloud assembly."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drtiers.assembly.reader import read_assembly
from drtiers.assess.model import Estimate, estimate
from drtiers.core.facts import with_overrides

__all__ = ["Estimate", "assess_assembly", "cheapest_meeting"]


def assess_assembly(directory: Path, overrides: Mapping[str, Any] | None = None) -> list[Estimate]:
    """Estimates for every tier in a cloud assembly, cheapest first: with the workload figures
    it was synthesized with, and ``overrides`` (NAME=VALUE) on top."""
    estimates = []
    for tier in read_assembly(directory).values():
        estimates.append(estimate(tier, *with_overrides({**tier.figures, **(overrides or {})})))
    return sorted(estimates, key=lambda e: e.monthly_cost_usd)


def cheapest_meeting(
    estimates: list[Estimate], rto_seconds: float | None, rpo_seconds: float | None
) -> Estimate | None:
    """The cheapest estimate within both targets (None where a target is not given), judged by
    the high end of each range: a tier meets a target only if it does when every figure is at
    its slow end."""
    for candidate in sorted(estimates, key=lambda e: e.monthly_cost_usd):
        if (rto_seconds is None or candidate.rto_high_seconds <= rto_seconds) and (
            rpo_seconds is None or candidate.rpo_high_seconds <= rpo_seconds
        ):
            return candidate
    return None
