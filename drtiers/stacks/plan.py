"""The plan stack (``<app>-<tier>-plan``, in the recovery region): the tier's ARC Region switch
plan, rendered from its step list once the tier's other stacks are synthesized.

In R, so that neither updating it nor anything it holds needs the primary region; it names the
primary's resources by their fixed names, never by a deploy-time reference. The plan executes
on the data plane of the region it activates (docs/decisions.md).
"""

from __future__ import annotations

from constructs import Construct

from drtiers.assembly.world import World
from drtiers.config.context import DrConfig
from drtiers.constructs.region_switch import RegionSwitchPlan
from drtiers.constructs.reports import ReportBucket
from drtiers.core.tiers import StackRole, TierSpec
from drtiers.recovery import plan as rendering
from drtiers.recovery.steps import Step
from drtiers.stacks.base import TierStack
from drtiers.stacks.regional import PLAN_ACTIONS


class PlanStack(TierStack):
    def __init__(
        self,
        scope: Construct,
        *,
        config: DrConfig,
        tier: TierSpec,
        world: World,
        failover: list[Step],
        failback: list[Step],
        rto_seconds: float,
        after_detection: float,
    ) -> None:
        super().__init__(
            scope,
            config=config,
            tier=tier,
            role=StackRole.PLAN,
            region=config.recovery_region,
            description="ARC Region switch plan: failover and failback, from the step list",
        )
        account = config.account
        approver = self.resource_name("plan-approver")
        names = rendering.Names(
            actions_function=self.resource_name(PLAN_ACTIONS),
            approval_role_arn=f"arn:aws:iam::{account}:role/{approver}",
        )
        workflows = rendering.workflows(world, failover, failback, names)
        # What a parent plan reads of its child: the plan's time once detection has ended, and
        # (action, region) of each workflow (the parent runs the same ones of this plan).
        self.after_detection_seconds = after_detection
        self.workflows = [(w["WorkflowTargetAction"], w["WorkflowTargetRegion"]) for w in workflows]
        RegionSwitchPlan(
            self,
            "RegionSwitch",
            name=self.names,
            primary_region=world.primary,
            recovery_region=world.recovery,
            workflows=workflows,
            rto_seconds=rto_seconds,
            alarms=rendering.associated_alarms(world),
            resources=rendering.acted_on(world, workflows),
            approval_role_name=approver,
            account=account,
            reports=ReportBucket(
                self, "Reports", account=account, removal_policy=self.retain_policy
            ),
        )
