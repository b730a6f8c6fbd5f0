"""The fleet as a CDK Pipelines app: a self-mutating pipeline in the toolchain account that
deploys every application's tier into its account of each stage, a wave per stage (a person
approves first where the stage asks), an AWS CDK stage per account in it. Within an account the
tier's stacks keep their order (recovery-base, primary, recovery, edge, plan) by their own
dependencies, as `cdk deploy --all` does.

Each application's plan stack is made from its tier as synthesized alone with the same context
(drtiers.build.synthesize, kept by the cache), read back as every plan is: the plan names what
the tier's stacks hold, so it is derived from them, here as in a single tier's app.

After each stage's wave, a wave of the stage's parent plans (drtiers.fleet.parent_stack), which
run the plans just deployed; with an organization, a first wave of its StackSets
(drtiers.fleet.stacksets), which bootstrap every stage account and give it the role the parent
plans run their children through.

The pipeline is declared in R, so that it outlives P (its waves still deploy P's stacks: a
deployment while P is lost needs a path of R's stacks only, not built yet). Nothing is looked
up: the source is the file's connection ARN and repository, the CDK CLI the one package.json
pins.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import pipelines
from constructs import Construct

from drtiers.build import add_plans, compose, synthesize, without_creation_stacks
from drtiers.config.context import ConfigError, from_context
from drtiers.config.fleet import (
    ORGANIZATION_WAVE,
    PARENTS_WAVE,
    Application,
    FailoverGroup,
    Fleet,
    Stage,
)
from drtiers.constructs.lint import acknowledge
from drtiers.constructs.parent_plan import ParentAccess
from drtiers.constructs.region_switch import execution_role
from drtiers.fleet.parent import child_role, parent_names
from drtiers.fleet.parent_stack import ParentPlanStack, children_of
from drtiers.fleet.runs import app_context
from drtiers.fleet.stacksets import OrganizationStack
from drtiers.stacks.plan import PlanStack

SYNTH_COMMANDS = (
    "python3 -m venv .venv",
    ".venv/bin/pip install -e .",
    "npm ci",
)


def repository_path(fleet_file: Path) -> str:
    """The fleet file as the pipeline's synth step names it: relative to the repository it
    builds from (the working folder), one spelling, so self-mutation sees one template."""
    try:
        return fleet_file.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        raise ConfigError(
            f"fleet file {fleet_file}: outside {Path.cwd()}; allowed: a file in the repository "
            "the pipeline builds (its synth step reads it there)"
        ) from None


def pinned_cli() -> str | None:
    """The CDK CLI version package.json pins, for the pipeline's own steps."""
    package = Path.cwd() / "package.json"
    if not package.is_file():
        return None
    version = json.loads(package.read_text()).get("devDependencies", {}).get("aws-cdk")
    return str(version) if version else None


def account_context(
    fleet: Fleet, app: Application, stage: Stage, base: Mapping[str, Any], fleet_dir: Path
) -> dict[str, Any]:
    """The context of ``app`` in its account of ``stage``."""
    return {**app_context(fleet, app, base, fleet_dir), "account": app.accounts[stage.name]}


class AccountStage(cdk.Stage):
    """The applications of one account of one stage: each its tier's stacks and plan, and the
    role a parent plan in another account runs that plan through. :attr:`plans`: each
    application's plan stack, which its parent plan reads."""

    def __init__(
        self,
        scope: Construct,
        *,
        fleet: Fleet,
        stage: Stage,
        account: str,
        base: Mapping[str, Any],
        fleet_dir: Path,
    ) -> None:
        super().__init__(
            scope,
            f"{stage.name}-{account}",
            env=cdk.Environment(account=account, region=fleet.regions.primary),
        )
        self.plans: dict[str, PlanStack] = {}
        for app in (a for a in fleet.applications if a.accounts[stage.name] == account):
            context = account_context(fleet, app, stage, base, fleet_dir)
            config = from_context(context.get)
            composed = compose(self, config)
            with tempfile.TemporaryDirectory(prefix="drtiers-fleet-") as alone:
                synthesize(context, Path(alone))  # the tier alone, for its plan's step list
                by_tier = {t.primary.tier.name: t for t in composed}
                plans = add_plans(self, config, Path(alone), by_tier)
            for plan in plans.values():
                self.plans[app.name] = plan
                if fleet.organization is None:  # else the account's, by StackSet
                    self._parent_access(fleet, stage, app.name, plan)

    def _parent_access(self, fleet: Fleet, stage: Stage, app: str, plan: cdk.Stack) -> None:
        """The role the app's parent plan runs its plan through, where that parent is in
        another account."""
        for group in fleet.failover_groups:
            names = parent_names(fleet, group, stage)
            for child in children_of(fleet, group, stage):
                if child.name == app and child.role_arn:
                    ParentAccess(
                        plan,
                        "ParentAccess",
                        role_name=child_role(fleet, fleet.application(app)),
                        child=child,
                        parent_account=names.account,
                        parent_roles=[execution_role(names.plan), names.lookup_role],
                        external_id=names.external_id,
                    )


class OrganizationStage(cdk.Stage):
    """The organization's StackSets (drtiers.fleet.stacksets), in the toolchain account and R."""

    def __init__(self, scope: Construct, *, fleet: Fleet) -> None:
        super().__init__(
            scope,
            ORGANIZATION_WAVE,
            env=cdk.Environment(account=fleet.toolchain.account, region=fleet.regions.recovery),
        )
        OrganizationStack(self, "drtiers-fleet-organization", fleet=fleet)


class GroupStage(cdk.Stage):
    """A failover group's parent plan in one stage, in its account and R."""

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
            f"{stage.name}-parent-{group.name}",
            env=cdk.Environment(account=names.account, region=fleet.regions.recovery),
        )
        ParentPlanStack(self, fleet=fleet, group=group, stage=stage, plans=plans)


# cfn-lint's findings on what CDK Pipelines writes, each with the reason it is not a defect.
_PIPELINE_FINDINGS = (
    (
        "E3703",
        "CDK Pipelines names each CloudFormation action's roles with Fn::Join (account and "
        "partition); CloudFormation resolves it as it does Fn::Sub: the rule prefers a style.",
    ),
    (
        "W3005",
        "CDK Pipelines makes the pipeline depend on its role explicitly as well; harmless.",
    ),
)


class FleetPipeline(cdk.Stack):
    """The pipeline, in the toolchain account and R. :meth:`build` once every wave is added."""

    def __init__(self, scope: Construct, id_: str, *, fleet: Fleet, fleet_file: str) -> None:
        super().__init__(
            scope,
            id_,
            env=cdk.Environment(account=fleet.toolchain.account, region=fleet.regions.recovery),
            description="drtiers fleet pipeline: every application's tier, stage by stage",
            analytics_reporting=False,
        )
        source = fleet.toolchain.source
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=id_,
            cross_account_keys=True,  # it deploys into the stages' accounts
            cli_version=pinned_cli(),
            synth=pipelines.ShellStep(
                "Synth",
                input=pipelines.CodePipelineSource.connection(
                    source.repository, source.branch, connection_arn=source.connection_arn
                ),
                install_commands=list(SYNTH_COMMANDS),
                commands=[f"npx cdk synth --context fleet={fleet_file}"],
            ),
        )

    def build(self) -> None:
        """Build the CodePipeline now (no wave can be added after), to acknowledge cfn-lint's
        findings on what CDK Pipelines writes."""
        self.pipeline.build_pipeline()
        resource = self.pipeline.pipeline.node.default_child
        for rule, reason in _PIPELINE_FINDINGS:
            acknowledge(resource, rule, reason)


def stage_apps(
    app: cdk.App, fleet: Fleet, stage: Stage, base: Mapping[str, Any], fleet_dir: Path
) -> tuple[list[AccountStage], list[GroupStage]]:
    """``stage``'s AWS CDK stages in ``app``: one per account with applications, then one per
    failover group with its parent plan (which reads the applications' plans)."""
    accounts = [
        AccountStage(app, fleet=fleet, stage=stage, account=a, base=base, fleet_dir=fleet_dir)
        for a in stage.accounts
        if any(x.accounts[stage.name] == a for x in fleet.applications)
    ]
    plans = {name: plan for account in accounts for name, plan in account.plans.items()}
    groups = [
        GroupStage(app, fleet=fleet, group=g, stage=stage, plans=plans)
        for g in fleet.failover_groups
    ]
    return accounts, groups


def parent_stacks(accounts: list[AccountStage], groups: list[GroupStage]) -> list[cdk.Stack]:
    """What a parent plan adds to a stage: its own stacks, and the plan stacks that hold a
    role it runs a child through."""
    found = [s for g in groups for s in g.node.children if isinstance(s, cdk.Stack)]
    found += [
        cdk.Stack.of(c) for a in accounts for c in a.node.find_all() if isinstance(c, ParentAccess)
    ]
    return found


def build_fleet_app(
    app: cdk.App, fleet: Fleet, fleet_file: Path, base: Mapping[str, Any]
) -> FleetPipeline:
    """The pipeline and, wave by wave, a stage per account with its applications; then, in
    a wave of its own, each failover group's parent plan, which runs the plans just deployed.
    ``app`` must be empty: it records no creation stacks, as a tier's own synthesis (DrApp)."""
    without_creation_stacks(app)
    pipeline = FleetPipeline(
        app, "drtiers-fleet-pipeline", fleet=fleet, fleet_file=repository_path(fleet_file)
    )
    if fleet.organization is not None:  # every stage account's bootstrap and role, first
        pipeline.pipeline.add_stage(OrganizationStage(app, fleet=fleet))
    for stage in fleet.stages:
        pre = [pipelines.ManualApprovalStep(f"approve-{stage.name}")] if stage.approval else []
        wave = pipeline.pipeline.add_wave(stage.name, pre=pre)
        accounts, groups = stage_apps(app, fleet, stage, base, fleet_file.parent)
        for account in accounts:
            wave.add_stage(account)
        if groups:
            parents = pipeline.pipeline.add_wave(PARENTS_WAVE.format(stage.name))
            for group in groups:
                parents.add_stage(group)
    pipeline.build()
    return pipeline
