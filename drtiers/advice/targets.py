"""Synth-time targets: fail `cdk synth` when a tier cannot meet the RTO/RPO the user asked for."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drtiers.assess import assess_assembly, cheapest_meeting
from drtiers.build import synthesize_and_assess
from drtiers.config.context import DrConfig
from drtiers.core.durations import format_duration


def missed_targets(config: DrConfig, outdir: Path, context: Mapping[str, Any]) -> str | None:
    """One line naming each synthesized tier that misses a target, its estimate and the
    cheapest tier that meets both; None when every tier meets them. A target is met only if
    the high end of the estimate's range meets it, and the line says so."""
    rto, rpo = config.rto_target_seconds, config.rpo_target_seconds
    if rto is None and rpo is None:
        return None
    estimates = assess_assembly(outdir, config.assumptions)
    missing = [
        e
        for e in estimates
        if (rto is not None and e.rto_high_seconds > rto)
        or (rpo is not None and e.rpo_high_seconds > rpo)
    ]
    if not missing:
        return None
    if len(estimates) < 4:  # one tier synthesized: estimate the others to name one that fits
        estimates = synthesize_and_assess({**context, "tier": ""}, config.assumptions)
    best = cheapest_meeting(estimates, rto, rpo)
    targets = ", ".join(
        f"{name} {format_duration(value)}"
        for name, value in (("rto_target", rto), ("rpo_target", rpo))
        if value is not None
    )
    misses = "; ".join(
        f"{e.tier} is estimated at RTO {e.rto_text}, RPO {e.rpo_text}" for e in missing
    )
    advice = f"the cheapest tier that meets them is {best.tier}" if best else "no tier meets them"
    return (
        f"targets {targets} not met at the high end of the estimate's range: {misses}; "
        f"{advice} (drtiers explain --tier T shows why)"
    )
