"""Estimated RTO, RPO and monthly cost of each tier, from its synthesized cloud assembly."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drtiers.assess.assembly import read_assembly
from drtiers.assess.facts import with_overrides
from drtiers.assess.model import Estimate, estimate

__all__ = ["Estimate", "assess_assembly", "cheapest_meeting", "synthesize_and_assess"]


def assess_assembly(directory: Path, overrides: Mapping[str, Any] | None = None) -> list[Estimate]:
    """Estimates for every tier in a cloud assembly, cheapest first."""
    figures, workload = with_overrides(overrides or {})
    estimates = [estimate(t, figures, workload) for t in read_assembly(directory).values()]
    return sorted(estimates, key=lambda e: e.monthly_cost_usd)


def synthesize_and_assess(
    context: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> list[Estimate]:
    """Synthesize the tiers ``context`` selects into a temporary directory and assess them."""
    import aws_cdk as cdk

    from drtiers.config import from_context
    from drtiers.stacks.compose import compose

    with tempfile.TemporaryDirectory(prefix="drtiers-") as outdir:
        # post_cli_context: these values win over a CDK_CONTEXT_JSON inherited from the CLI.
        app = cdk.App(
            outdir=outdir,
            post_cli_context=dict(context),
            builtin_cloud_formation_validation=False,
        )
        compose(app, from_context(app.node.try_get_context))
        app.synth()
        return assess_assembly(Path(outdir), overrides)


def cheapest_meeting(
    estimates: list[Estimate], rto_seconds: float | None, rpo_seconds: float | None
) -> Estimate | None:
    """The cheapest estimate within both targets (None where a target is not given)."""
    for candidate in sorted(estimates, key=lambda e: e.monthly_cost_usd):
        if (rto_seconds is None or candidate.rto_seconds <= rto_seconds) and (
            rpo_seconds is None or candidate.rpo_seconds <= rpo_seconds
        ):
            return candidate
    return None
