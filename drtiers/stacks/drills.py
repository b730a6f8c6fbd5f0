"""The opt-in drill stack (`--context drills=true`): fault-injection experiments in the primary
region for every tier that has something running in the recovery region."""

from __future__ import annotations

from constructs import Construct

from drtiers.config import DrConfig
from drtiers.constructs.alarms import DATABASE_CPU, DEAD_LETTERS, alarm_name
from drtiers.constructs.drills import Drill, Drills
from drtiers.constructs.network import APP
from drtiers.stacks.base import TierStack
from drtiers.stacks.regional import APP_NETWORK_ACL, PrimaryStack
from drtiers.tiers import ROLE_TAG, TIER_TAG, Relational, TierSpec


def tier_drills(spec: TierSpec) -> list[Drill]:
    primary = {TIER_TAG: spec.name, ROLE_TAG: "primary"}
    aurora = spec.relational is Relational.AURORA_GLOBAL
    return [
        Drill(
            name="StopPrimaryTasks",
            description="Stop every application task in the primary region: the load balancer "
            "and then the entry point's health checks must move traffic to R",
            action_id="aws:ecs:stop-task",
            resource_type="aws:ecs:task",
            target_key="Tasks",
            target_tags=primary,
            parameters={},
            exercises=("detection", "traffic shift", "compute"),
        ),
        Drill(
            name="DisruptPrimarySubnets",
            description="Cut the primary region's application subnets off for 5 minutes",
            action_id="aws:network:disrupt-connectivity",
            resource_type="aws:ec2:subnet",
            target_key="Subnets",
            target_tags={**primary, "aws-cdk:subnet-name": APP},
            parameters={"duration": "PT5M", "scope": "all"},
            exercises=("detection", "traffic shift"),
        ),
        Drill(
            name="FailOverPrimaryDatabase",
            description="Fail the primary database over to its standby in another zone (RDS "
            "Proxy keeps client connections); cross-region promotion has no FIS "
            "action and is rehearsed with a planned switchover",
            action_id="aws:rds:failover-db-cluster" if aurora else "aws:rds:reboot-db-instances",
            resource_type="aws:rds:cluster" if aurora else "aws:rds:db",
            target_key="Clusters" if aurora else "DBInstances",
            target_tags=primary,
            parameters={} if aurora else {"forceFailover": "true"},
            exercises=("database failover in the primary region",),  # not a runbook step
        ),
    ]


class DrillStack(TierStack):
    """Experiment templates only: nothing runs until someone starts an experiment."""

    def __init__(
        self, scope: Construct, *, config: DrConfig, tier: TierSpec, primary: PrimaryStack
    ) -> None:
        super().__init__(
            scope,
            config=config,
            tier=tier,
            role="drills",
            region=config.primary_region,
            description="fault-injection drills (opt-in)",
        )
        self.add_stack_dependency(primary, "drills target the primary's tagged resources")
        prefix = primary.resource_name("primary")
        Drills(
            self,
            "Drills",
            drills=tier_drills(tier),
            tier_tag=(TIER_TAG, tier.name),
            original_network_acl_ids=[self.read(primary, APP_NETWORK_ACL)],
            stop_alarm_arns=[
                self.arn("cloudwatch", self.region, f"alarm:{alarm_name(prefix, what)}")
                for what in (DEAD_LETTERS, DATABASE_CPU)
            ],
        )
