"""The opt-in drill stack (`--context drills=true`): fault-injection experiments in the primary
region for every tier that has something running in the recovery region."""

from __future__ import annotations

import math

from constructs import Construct

from drtiers.config.context import DrConfig
from drtiers.config.workload import REFERENCE, Workload, suffix
from drtiers.constructs.alarms import DATABASE_CPU, DEAD_LETTERS, LB_5XX, alarm_name
from drtiers.constructs.drills import (
    DISRUPT_CONNECTIVITY,
    PAUSE_TABLE_REPLICATION,
    Drill,
    Drills,
)
from drtiers.constructs.network import APP
from drtiers.core.tiers import ROLE_TAG, EntryPoint, Relational, StackRole, TierSpec
from drtiers.stacks.base import TierStack, scope_tags
from drtiers.stacks.regional import APP_NETWORK_ACL, QUEUE, PrimaryStack


def tier_drills(spec: TierSpec, workload: Workload = REFERENCE, *, app: str) -> list[Drill]:
    """The tier's experiments on ``app``'s primary resources, each claiming only the failover
    steps its fault alone brings about (drtiers-dr's DR-DrillsRehearse checks each claim
    against the synthesized tier). A block the workload lacks (database, tables) has no drill."""
    primary = {**scope_tags(app, spec), ROLE_TAG: "primary"}
    drills = [_stop_tasks(primary), _disrupt_subnets(primary, spec, workload)]
    if workload.database is not None:
        drills.append(_fail_over_database(primary, spec))
    if spec.table_replica_in_recovery and workload.tables:
        drills.append(_pause_table_replication(primary))
    return drills


def _stop_tasks(primary: dict[str, str]) -> Drill:
    """Stop the primary's application tasks once: rehearses nothing, the service recovers."""
    return Drill(
        name="StopPrimaryTasks",
        description="Stop every application task in the primary region once: the service "
        "replaces them in the region. Rehearses no failover step: a single stop keeps the "
        "tasks down for less than the detection window",
        action_id="aws:ecs:stop-task",
        resource_type="aws:ecs:task",
        target_key="Tasks",
        target_tags=primary,
        parameters={},
        exercises=(),
        restores="the ECS service starts new tasks at its desired count (the role cannot "
        "change the count)",
    )


def _disrupt_subnets(primary: dict[str, str], spec: TierSpec, workload: Workload) -> Drill:
    """Cut the primary's application subnets off: detection, and what follows it by itself.
    The fault holds 5 minutes, or twice Route 53's detection (interval x failure threshold)
    where that is longer: DR-DrillsRehearse's margin, so the drill sees detection through."""
    # The accelerator moves new connections to the healthy group after detection; Route 53
    # moves traffic only once R is declared the writer (a step people take).
    accelerated = spec.entry_point is EntryPoint.ACCELERATOR
    after_detection = ("accelerator-shift",) if accelerated else ()
    check = workload.entry_point.health_check
    detection = 0 if accelerated else check.interval_seconds * check.failure_threshold
    minutes = max(5, math.ceil(2 * detection / 60))
    return Drill(
        name="DisruptPrimarySubnets",
        description=f"Cut the primary region's application subnets off for {minutes} minutes: "
        "the entry point's health checks must see the primary fail",
        action_id=DISRUPT_CONNECTIVITY,
        resource_type="aws:ec2:subnet",
        target_key="Subnets",
        target_tags={**primary, "aws-cdk:subnet-name": APP},
        parameters={"duration": f"PT{minutes}M", "scope": "all"},
        exercises=("detect", *after_detection),
        restores="FIS re-associates each subnet with its original network ACL and deletes "
        "the ACL it made",
    )


def _fail_over_database(primary: dict[str, str], spec: TierSpec) -> Drill:
    """Fail the primary database over within its region (a cluster or a Multi-AZ instance)."""
    aurora = spec.relational is Relational.AURORA_GLOBAL
    return Drill(
        name="FailOverPrimaryDatabase",
        description="Fail the primary database over to its standby in another zone (RDS "
        "Proxy keeps client connections). Rehearses no failover step: cross-region "
        "promotion has no FIS action",
        action_id="aws:rds:failover-db-cluster" if aurora else "aws:rds:reboot-db-instances",
        resource_type="aws:rds:cluster" if aurora else "aws:rds:db",
        target_key="Clusters" if aurora else "DBInstances",
        target_tags=primary,
        parameters={} if aurora else {"forceFailover": "true"},
        exercises=(),
        restores="the writer stays in the other zone, still Multi-AZ; the proxy follows it "
        "and nothing needs it back (a second run moves it again)",
    )


def _pause_table_replication(primary: dict[str, str]) -> Drill:
    """Pause the global tables' replication from P: what R reads then is the tables' RPO."""
    return Drill(
        name="PausePrimaryTableReplication",
        description="Pause the global table's replication from the primary region for "
        "10 minutes: what R reads then is what a region loss leaves it (the table's "
        "RPO). Rehearses no failover step",
        action_id=PAUSE_TABLE_REPLICATION,
        resource_type="aws:dynamodb:global-table",
        target_key="Tables",
        target_tags=primary,
        parameters={"duration": "PT10M"},
        exercises=(),
        restores="FIS deletes its resource-policy statement at the end; replication "
        "resumes and R catches up on the writes it missed",
    )


class DrillStack(TierStack):
    """Experiment templates only: nothing runs until someone starts an experiment."""

    def __init__(
        self, scope: Construct, *, config: DrConfig, tier: TierSpec, primary: PrimaryStack
    ) -> None:
        super().__init__(
            scope,
            config=config,
            tier=tier,
            role=StackRole.DRILLS,
            region=config.primary_region,
            description="fault-injection drills (opt-in)",
        )
        self.add_stack_dependency(primary, "drills target the primary's tagged resources")
        prefix = primary.resource_name("primary")
        Drills(
            self,
            "Drills",
            drills=tier_drills(tier, config.workload, app=config.app_name),
            scope_tags=scope_tags(config.app_name, tier),
            original_network_acl_ids=[self.read(primary, APP_NETWORK_ACL)],
            stop_alarm_arns=[
                self.arn("cloudwatch", self.region, f"alarm:{alarm_name(prefix, what)}")
                for what in (
                    *(DEAD_LETTERS + suffix(q.name, QUEUE) for q in config.workload.queues),
                    *([DATABASE_CPU] if config.workload.database else []),
                    # without either, the 5xx alarm still stops an experiment gone wrong
                    *([] if config.workload.queues or config.workload.database else [LB_5XX]),
                )
            ],
        )
