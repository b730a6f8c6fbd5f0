"""A failover group's parent Region switch plan in one stage, as a template: the stack
``<group>-<stage>-parent-plan`` in R of the parent's account (drtiers.fleet.parent.parent_names),
deployed by the fleet's pipeline in a wave after the stage's applications, whose plans it runs.

Its workflows are drtiers.fleet.parent.render_workflows, the same the fleet's simulation runs;
its objective is derived from the children's step lists (each child's plan from the end of its
detection, a step as long as its slowest child), as a tier's is from its own. Each child's ARN
is found as the stack deploys (drtiers/lambdas/plan_lookup.py says why), and a child in another
account is run through its parent-access role (drtiers.constructs.parent_plan).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import RemovalPolicy
from constructs import Construct

from drtiers.config.fleet import FailoverGroup, Fleet, Stage
from drtiers.constructs.parent_plan import ChildPlan, ChildPlanLookup, let_run_children
from drtiers.constructs.region_switch import RegionSwitchPlan
from drtiers.constructs.reports import ReportBucket
from drtiers.fleet.parent import (
    approval_seconds,
    child_plan,
    child_role,
    derived_objective,
    parent_names,
    render_workflows,
)
from drtiers.stacks.plan import PlanStack


def children_of(fleet: Fleet, group: FailoverGroup, stage: Stage) -> list[ChildPlan]:
    """The group's applications in ``stage`` as child plans; a role where the child is in
    another account than the parent."""
    parent = parent_names(fleet, group, stage).account
    found = []
    for name in (n for step in group.steps for n in step):
        app = fleet.application(name)
        account = app.accounts[stage.name]
        role = (
            f"arn:aws:iam::{account}:role/{child_role(fleet, app)}" if account != parent else None
        )
        found.append(ChildPlan(name, child_plan(app), account, role))
    return found


class ParentPlanStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        *,
        fleet: Fleet,
        group: FailoverGroup,
        stage: Stage,
        plans: Mapping[str, PlanStack],
    ) -> None:
        names = parent_names(fleet, group, stage)
        super().__init__(
            scope,
            f"{names.plan}-parent-plan",
            stack_name=f"{names.plan}-parent-plan",
            env=cdk.Environment(account=names.account, region=fleet.regions.recovery),
            description=f"drtiers fleet: the parent Region switch plan of group {group.name}",
            analytics_reporting=False,
        )
        retain = RemovalPolicy.RETAIN  # the execution reports are evidence
        reports = ReportBucket(self, "Reports", account=names.account, removal_policy=retain)
        children = {c.name: c for c in children_of(fleet, group, stage)}
        lookup = ChildPlanLookup(
            self,
            "Lookup",
            children=list(children.values()),
            regions=[fleet.regions.primary, fleet.regions.recovery],
            external_id=names.external_id,
            role_name=names.lookup_role,
            log_key=reports.key,
            removal_policy=retain,
        )

        workflows = _workflows(fleet, group, stage, lookup, children, plans)
        seconds = {n: plan.after_detection_seconds for n, plan in plans.items()}
        switch = RegionSwitchPlan(
            self,
            "RegionSwitch",
            name=names.plan,
            primary_region=fleet.regions.primary,
            recovery_region=fleet.regions.recovery,
            workflows=workflows,
            rto_seconds=derived_objective(
                workflows, fleet.regions.recovery, approval_seconds(), seconds
            ),
            alarms={},
            resources={},
            approval_role_name=names.approval_role,
            account=names.account,
            reports=reports,
        )
        let_run_children(switch.execution_role, list(children.values()), names.external_id)


def _workflows(
    fleet: Fleet,
    group: FailoverGroup,
    stage: Stage,
    lookup: ChildPlanLookup,
    children: Mapping[str, ChildPlan],
    plans: Mapping[str, PlanStack],
) -> list[dict[str, Any]]:
    """The parent's workflows: each child by the ARN found as the stack deploys, through its
    role where it is in another account, in the workflows it has."""
    names = parent_names(fleet, group, stage)

    def block_config(name: str) -> dict[str, Any]:
        role = children[name].role_arn
        through = {"CrossAccountRole": role, "ExternalId": names.external_id} if role else {}
        return {"Arn": lookup.arn(name), **through}

    return render_workflows(
        fleet,
        group,
        approval_role_arn=f"arn:aws:iam::{names.account}:role/{names.approval_role}",
        block_config=block_config,
        has_workflow=lambda name, key: key in plans[name].workflows,
    )
