"""The opt-in Resilience Hub stack (`--context resilience_hub=true`): per tier, the targets its
estimate shows as a resiliency policy, and an application for the tier's regional stacks, in
the recovery region so that it outlives the loss of the primary region (decision 23).

It is built after a first synthesis, from that synthesis' estimate (drtiers.build).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from constructs import Construct

from drtiers.config.context import DrConfig
from drtiers.constructs.resilience import ResilienceTargets, SourceStack
from drtiers.core.tiers import StackRole, TierSpec
from drtiers.stacks.base import TierStack

# Resilience Hub's criticality label, by the Region RTO the tier reaches (a label only: the
# assessment compares the numbers, not the label).
_POLICY_TIERS = (
    (300, "MissionCritical"),
    (3600, "Critical"),
    (4 * 3600, "Important"),
    (24 * 3600, "CoreServices"),
)


def source_stacks(config: DrConfig, tier: TierSpec) -> list[SourceStack]:
    """The tier's regional stacks, by the fixed names TierStack gives them."""
    names = f"{config.app_name}-{tier.name}"
    stacks = [
        SourceStack(f"{names}-primary", config.primary_region),
        SourceStack(f"{names}-recovery-base", config.recovery_region),
    ]
    if tier.has_recovery_stack:
        stacks.append(SourceStack(f"{names}-recovery", config.recovery_region))
    return stacks


def policy_tier(region_rto_seconds: int) -> str:
    return next(
        (label for limit, label in _POLICY_TIERS if region_rto_seconds <= limit), "NonCritical"
    )


class ResilienceStack(TierStack):
    """A resiliency policy and a Resilience Hub application, in R. It reads no output of any
    stack: the stacks it covers are named by their fixed names and imported after deploy."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: DrConfig,
        tier: TierSpec,
        targets: Mapping[str, tuple[int, int]],
    ) -> None:
        super().__init__(
            scope,
            config=config,
            tier=tier,
            role=StackRole.RESILIENCE,
            region=config.recovery_region,
            description="Resilience Hub policy and application (opt-in)",
        )
        stacks = source_stacks(config, tier)
        self.targets = ResilienceTargets(
            self,
            "Targets",
            policy_name=self.resource_name("targets"),
            app_name=self.names,
            targets=targets,
            stacks=stacks,
            tier_name=tier.name,
            policy_tier=policy_tier(targets["Region"][0]) if "Region" in targets else "Critical",
        )
        self.publish("AppArn", self.targets.app.attr_app_arn, "Resilience Hub application")
        self.publish(
            "SourceStacks",
            json.dumps({s.name: s.region for s in stacks}, sort_keys=True),
            "Stacks to import into the application after they are deployed (name: region)",
        )
