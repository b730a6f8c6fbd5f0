"""The opt-in Resilience Hub stack (`--context resilience_hub=true`): per tier, the targets its
estimate shows as a resiliency policy, and an application for the tier's regional stacks, in
the recovery region so that it outlives the loss of the primary region (decision 23).

It is built after a first synthesis, from that synthesis' estimate: :func:`add_resilience`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from constructs import Construct

from drtiers.assess.facts import with_overrides
from drtiers.assess.model import Estimate
from drtiers.config import DrConfig
from drtiers.constructs.resilience import ResilienceTargets, SourceStack
from drtiers.stacks.base import TierStack
from drtiers.tiers import TierSpec

ROLE = "resilience"
# The estimate's cost line for a Multi-AZ RDS instance (drtiers.assess.model names it so).
MULTI_AZ_LINE = "RDS Multi-AZ "
# Resilience Hub's criticality label, by the Region RTO the tier reaches (a label only: the
# assessment compares the numbers, not the label).
_POLICY_TIERS = (
    (300, "MissionCritical"),
    (3600, "Critical"),
    (4 * 3600, "Important"),
    (24 * 3600, "CoreServices"),
)


def _seconds(value: float) -> int:
    """Whole seconds, rounded up: the policy takes integers, and a target rounded down would
    be stricter than the estimate it repeats."""
    return math.ceil(value)


def resilience_targets(
    estimate: Estimate, overrides: Mapping[str, float] | None = None
) -> dict[str, tuple[int, int]]:
    """(RTO, RPO) in whole seconds per Resilience Hub disruption type, from a tier's estimate.

    - Region: the estimate's RTO and RPO (the loss of the primary region).
    - AZ and Hardware (a zone, or an instance or host, in P): the database fails over inside P
      (Multi-AZ RDS to its standby, Aurora to its reader in another zone) and Fargate replaces
      the tasks it lost, whichever takes longer; both copies are synchronous, so no data is
      lost. A tier whose primary database cannot fail over inside P recovers as from a Region.
    - Software (a bad change or corrupted data): decide, then restore the database to just
      before the fault; the data since the latest restorable time is lost.

    ``overrides`` are the estimate's assumptions (context ``assumptions``)."""
    figures, workload = with_overrides(overrides or {})
    p = estimate.primary_region
    in_p = [type_ for region, type_, _ in estimate.resource_keys if region == p]
    instances = in_p.count("AWS::RDS::DBInstance")
    failover: float | None = None
    if "AWS::RDS::DBCluster" in in_p:
        if instances >= 2:  # a writer and a reader to promote
            failover = figures["aurora_in_region_failover_seconds"].value
    elif any(line.region == p and line.item.startswith(MULTI_AZ_LINE) for line in estimate.cost):
        failover = figures["rds_multi_az_failover_seconds"].value
    region = (_seconds(estimate.rto_seconds), _seconds(estimate.rpo_seconds))
    if failover is None:
        in_region = region
    else:
        tasks = figures["task_start_seconds"].value if "AWS::ECS::Service" in in_p else 0.0
        in_region = (_seconds(max(failover, tasks)), 0)
    restore_hours = workload["database_size_gb"] / figures["restore_rate_gb_per_hour"].value
    software = (
        _seconds(figures["outage_decision_seconds"].value + restore_hours * 3600),
        _seconds(figures["restorable_lag_seconds"].value),
    )
    return {"AZ": in_region, "Hardware": in_region, "Software": software, "Region": region}


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
            role=ROLE,
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


def add_resilience(
    scope: Construct, config: DrConfig, tier: TierSpec, estimate: Estimate
) -> ResilienceStack | None:
    """The tier's Resilience Hub stack from its estimate (second synthesis), or None when
    ``resilience_hub`` is off."""
    if not config.resilience_hub:
        return None
    if estimate.tier != tier.name or (estimate.primary_region, estimate.recovery_region) != (
        config.primary_region,
        config.recovery_region,
    ):
        raise ValueError(
            f"add_resilience: the estimate is of {estimate.tier} in {estimate.primary_region}/"
            f"{estimate.recovery_region}; allowed: an estimate of {tier.name} in "
            f"{config.primary_region}/{config.recovery_region}"
        )
    return ResilienceStack(
        scope,
        config=config,
        tier=tier,
        targets=resilience_targets(estimate, config.assumptions),
    )
