"""The ARC Region switch plan: rendered from the step list, placed in the recovery region, its
objective the estimate's RTO, and executed by the simulator as synthesized, so that a change to
the step list shows in the plan and in the simulation."""

from __future__ import annotations

import copy
import json
import math
import shlex
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import jmespath
import pytest
from aws_cdk.assertions import Match, Template
from moto import mock_aws

from drtiers.assembly.reader import (
    Resource,
    TierAssembly,
    copy_assembly,
    edit_template,
    read_assembly,
)
from drtiers.assembly.switch_plan import (
    AURORA,
    LAMBDA,
    PLAN_TYPE,
    RDS_REPLICA,
    AuroraGlobal,
    Block,
    LambdaAction,
    SwitchPlan,
    switch_plan,
)
from drtiers.assembly.world import read_world
from drtiers.assess import assess_assembly
from drtiers.build import build_app, synthesize
from drtiers.checks.dr import plan_reports_land
from drtiers.core.commands import aws_calls
from drtiers.core.tiers import TIERS, StackRole
from drtiers.recovery import Simulation, simulate_assembly
from drtiers.recovery import steps as s
from drtiers.recovery.plan import denials
from drtiers.stacks.plan import PlanStack
from tests.conftest import Synthesized, context, edit_adopt_payloads

PLANNED = ("pilot-light", "warm-standby", "multi-site")


def plan_of(tier: TierAssembly) -> SwitchPlan:
    """The tier's one Region switch plan, as the simulator reads it."""
    assert len(tier.of_type(PLAN_TYPE)) == 1
    plan = switch_plan(tier)
    assert plan is not None
    return plan


def blocks_of(plan: SwitchPlan, action: str, region: str) -> list[Block]:
    """A workflow's blocks, parallel ones flattened, in order."""
    workflow = plan.workflow(action, region)
    stages = workflow.stages if workflow is not None else ()
    return [block for stage in stages for block in stage]


def lambda_config(block: Block) -> LambdaAction:
    """A CustomActionLambda block's configuration."""
    assert isinstance(block.config, LambdaAction), block
    return block.config


def plan_template(synthesized: Synthesized, tier: str) -> Template:
    """The tier's plan stack as synthesized (added to the app after the tier's other stacks)."""
    (stack,) = [
        x
        for x in synthesized.app.node.children
        if isinstance(x, PlanStack) and x.stack_name == f"drtiers-{tier}-plan"
    ]
    return Template.from_stack(stack)


def resources_in(tier: TierAssembly, stack: str, type_: str) -> list[Resource]:
    """The resources of one type in one stack of the tier."""
    return [r for r in tier.of_type(type_) if r.stack == stack]


def test_backup_restore_has_no_plan(synthesized: Synthesized) -> None:
    assert not (synthesized.directory / "drtiers-backup-restore-plan.template.json").exists()


@pytest.mark.parametrize("tier", PLANNED)
def test_the_plan_lives_in_the_recovery_region_and_reads_nothing_of_another(
    synthesized: Synthesized, tier: str
) -> None:
    assembly = synthesized.read(tier)
    assert assembly.stacks[f"drtiers-{tier}-plan"][1] == "us-west-2"
    text = json.dumps(plan_template(synthesized, tier).to_json())
    assert "Fn::GetStackOutput" not in text and "Fn::ImportValue" not in text
    plan = plan_of(assembly)
    assert plan.resource.prop("Regions") == ["us-east-1", "us-west-2"]
    assert plan.resource.prop("PrimaryRegion") == "us-east-1"


@pytest.mark.parametrize("tier", PLANNED)
def test_the_plans_objective_is_the_estimated_rto(synthesized: Synthesized, tier: str) -> None:
    (estimate,) = [e for e in assess_assembly(synthesized.directory) if e.tier == tier]
    assert plan_of(synthesized.read(tier)).resource.prop(
        "RecoveryTimeObjectiveMinutes"
    ) == math.ceil(estimate.rto_seconds / 60)


@pytest.mark.parametrize("tier", PLANNED)
def test_failback_activates_the_primary_after_a_persons_approval(
    synthesized: Synthesized, tier: str
) -> None:
    back = blocks_of(plan_of(synthesized.read(tier)), "activate", "us-east-1")
    assert back[0].kind == "ManualApproval"
    kinds = [x.kind for x in back]
    database = kinds.index(
        "AuroraGlobalDatabase" if tier != "pilot-light" else "RdsPromoteReadReplica"
    )
    declare = next(
        i
        for i, x in enumerate(back)
        if x.kind == "CustomActionLambda"
        and lambda_config(x).lambdas[0].payload["action"] == "declare"
    )  # traffic follows the declaration: only once the database is back
    assert database < declare


@pytest.mark.parametrize(
    ("tier", "database", "approval"),
    [
        ("pilot-light", "RdsPromoteReadReplica", True),
        ("warm-standby", "AuroraGlobalDatabase", True),
        ("multi-site", "AuroraGlobalDatabase", False),  # automatic: the plan's trigger
    ],
)
def test_failover_activates_the_recovery_region(
    synthesized: Synthesized, tier: str, database: str, approval: bool
) -> None:
    plan = plan_of(synthesized.read(tier))
    over = blocks_of(plan, "activate", "us-west-2")
    kinds = [x.kind for x in over]
    assert database in kinds
    assert ("ManualApproval" in kinds) is approval
    if approval:
        assert kinds.index("ManualApproval") < kinds.index(database)
    if tier != "multi-site":
        assert "ECSServiceScaling" in kinds
    aurora = next(x for x in over if x.kind == database)
    if database == "AuroraGlobalDatabase":
        # Run gracefully (function steps are skipped otherwise), so the block fails over itself.
        assert isinstance(aurora.config, AuroraGlobal)
        assert aurora.config.behavior == "failover" and aurora.config.ungraceful is None
        back = blocks_of(plan, "activate", "us-east-1")
        switch = next(x for x in back if x.kind == database)
        assert isinstance(switch.config, AuroraGlobal)
        assert switch.config.behavior == "switchoverOnly"


@pytest.mark.parametrize("tier", PLANNED)
def test_every_plan_step_is_a_step_of_the_list(synthesized: Synthesized, tier: str) -> None:
    ((loss, back),) = simulate_assembly(synthesized.directory, context(), synthesize, tier=tier)
    listed = {x.name for x in loss.steps} | {x.name for x in back.steps}
    plan = plan_of(synthesized.read(tier))
    named = {x.name for w in plan.workflows for x in blocks_of(plan, w.action, w.region)}
    assert named and named <= listed


@pytest.mark.parametrize("tier", PLANNED)
def test_the_simulator_executes_the_plan_and_it_recovers(
    synthesized: Synthesized, tier: str
) -> None:
    ((loss, back),) = simulate_assembly(synthesized.directory, context(), synthesize, tier=tier)
    assert loss.passed, [str(v) for v in loss.violations]
    assert back.passed, [str(v) for v in back.violations]
    assert loss.recovered_at == loss.estimate_rto


def test_a_plan_step_names_a_function_that_exists_in_each_region(
    synthesized: Synthesized,
) -> None:
    plan = plan_of(synthesized.read("warm-standby"))
    arns = {
        lam.arn
        for w in plan.workflows
        for x in blocks_of(plan, w.action, w.region)
        if x.kind == "CustomActionLambda"
        for lam in lambda_config(x).lambdas
    }
    for region in ("us-east-1", "us-west-2"):
        arn = f"arn:aws:lambda:{region}:123456789012:function:drtiers-warm-standby-plan-actions"
        assert arn in arns
    for role in ("primary", "recovery"):
        synthesized.template(f"drtiers-warm-standby-{role}").has_resource_properties(
            "AWS::Lambda::Function", {"FunctionName": "drtiers-warm-standby-plan-actions"}
        )


# --- a changed step list changes the plan and the simulation ------------------------------------


@pytest.fixture
def changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, Callable[[list[s.Step]], list[s.Step]]], tuple[SwitchPlan, Simulation]]:
    """Synthesize ``tier`` with its failback step list changed by ``change``; returns the
    synthesized plan and the failback simulation."""

    def run(
        tier: str, change: Callable[[list[s.Step]], list[s.Step]]
    ) -> tuple[SwitchPlan, Simulation]:
        original = s.failback_steps
        monkeypatch.setattr(s, "failback_steps", lambda *a: change(original(*a)))
        build_app(tmp_path, context(tier=tier)).synth()
        ((_, back),) = simulate_assembly(tmp_path, context(), synthesize, tier=tier)
        return plan_of(read_assembly(tmp_path)[tier]), back

    return run


def test_without_the_approval_the_plan_has_none_and_failback_fails(changed: Any) -> None:
    def no_approval(steps: list[s.Step]) -> list[s.Step]:
        return [
            replace(x, after=tuple(a for a in x.after if a != "approve-failback"))
            for x in steps
            if x.name != "approve-failback"
        ]

    plan, back = changed("warm-standby", no_approval)
    kinds = [x.kind for x in blocks_of(plan, "activate", "us-east-1")]
    assert "ManualApproval" not in kinds
    assert not back.passed
    assert {v.invariant for v in back.violations} == {"I7"}


def test_traffic_before_the_database_is_in_the_plan_and_fails_failback(changed: Any) -> None:
    def traffic_first(steps: list[s.Step]) -> list[s.Step]:
        # Declare P the writer's region right after the approval, and switch over after it.
        moved = []
        for x in steps:
            if x.name == "declare-primary":
                x = replace(x, after=("approve-failback",))
            elif x.name == "switchover":
                x = replace(x, after=("declare-primary",))
            moved.append(x)
        return s.stage(s.in_order(moved))

    plan, back = changed("warm-standby", traffic_first)
    names = [x.name for x in blocks_of(plan, "activate", "us-east-1")]
    assert names.index("declare-primary") < names.index("switchover")
    assert not back.passed
    assert "I5" in {v.invariant for v in back.violations}


def test_pilot_light_prepares_and_reprotects_in_post_recovery_workflows(
    synthesized: Synthesized,
) -> None:
    """A post-recovery execution runs the workflow of the region opposite the recovery
    execution it follows (AWS, StartPlanExecution's recoveryExecutionId): after failover to R,
    P's post-recovery workflow prepares P (the inactive region, where the replica is made);
    after failback to P, R's re-protects R."""
    plan = plan_of(synthesized.read("pilot-light"))
    prepare = blocks_of(plan, "postRecovery", "us-east-1")
    assert [x.name for x in prepare] == ["fence-primary", "replicate-back", "adopt-replica-primary"]
    assert prepare[1].kind == "RdsCreateCrossRegionReplica"
    assert lambda_config(prepare[2]).region_to_run == "activeRegion"
    # P's instance is Multi-AZ in its template; the block's replica is not (eighth review, B2),
    # nor tagged, monitored, logging or backed up as its template says (issue 19)
    (adopt,) = {json.dumps(x.payload, sort_keys=True) for x in lambda_config(prepare[2]).lambdas}
    settings = json.loads(adopt)["settings"]
    assert settings["MultiAZ"] is True and settings["BackupRetentionPeriod"] > 0
    assert {"Key": "drtiers:role", "Value": "primary"} in settings["Tags"]
    role = "arn:aws:iam::123456789012:role/drtiers-pilot-light-db-monitoring-us-east-1"
    assert settings["MonitoringRoleArn"] == role
    fence = lambda_config(prepare[0])
    assert fence.region_to_run == "activeRegion"  # the API's value for post-recovery
    reprotect = blocks_of(plan, "postRecovery", "us-west-2")
    assert reprotect[0].kind == "RdsCreateCrossRegionReplica"
    assert reprotect[0].name == "reprotect"


def test_post_recovery_workflows_in_the_wrong_regions_fail_failback(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """The review's finding: with each post-recovery workflow attached to the region it acts
    for, AWS runs the re-protection workflow once P is back (it scales R's live service to 0)
    and the fencing of P never runs."""
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")

    def swap(resources: dict[str, dict[str, Any]]) -> None:
        (plan,) = [r for r in resources.values() if r["Type"] == PLAN_TYPE]
        post = [
            w
            for w in plan["Properties"]["Workflows"]
            if w["WorkflowTargetAction"] == "postRecovery"
        ]
        assert len(post) == 2
        post[0]["WorkflowTargetRegion"], post[1]["WorkflowTargetRegion"] = (
            post[1]["WorkflowTargetRegion"],
            post[0]["WorkflowTargetRegion"],
        )

    edit_template(directory, "drtiers-pilot-light-plan", swap)
    ((loss, back),) = simulate_assembly(directory, context(), synthesize, tier="pilot-light")
    assert loss.passed  # failover does not use them
    assert not back.passed, "failback passed with the post-recovery workflows swapped"
    assert {v.invariant for v in back.violations} & {"I2", "I5"}, [str(v) for v in back.violations]


# --- a defect planted in a synthesized plan shows in the simulation ------------------------------


@pytest.fixture
def planted(
    synthesized: Synthesized, tmp_path: Path
) -> Callable[[str, str, Callable[[dict[str, Any]], None]], tuple[Simulation, Simulation]]:
    """Simulate ``tier`` from a copy of the synthesized assembly in which ``change`` has edited
    the configuration of each of its plan's blocks of one type."""

    def run(
        tier: str, kind: str, change: Callable[[dict[str, Any]], None]
    ) -> tuple[Simulation, Simulation]:
        directory = copy_assembly(synthesized.directory, tmp_path / "assembly")

        def edit(resources: dict[str, dict[str, Any]]) -> None:
            (plan,) = [r for r in resources.values() if r["Type"] == PLAN_TYPE]
            pending = [x for w in plan["Properties"]["Workflows"] for x in w["Steps"]]
            changed = 0
            while pending:  # every block, those of a parallel block's steps included
                step = pending.pop(0)
                config = step["ExecutionBlockConfiguration"]
                pending += config.get("ParallelConfig", {}).get("Steps", [])
                if step["ExecutionBlockType"] == kind:
                    change(config)
                    changed += 1
            assert changed

        edit_template(directory, f"drtiers-{tier}-plan", edit)
        ((loss, back),) = simulate_assembly(directory, context(), synthesize, tier=tier)
        return loss, back

    return run


def test_a_failover_that_only_switches_over_needs_the_lost_region(planted: Any) -> None:
    def switchover_only(config: dict[str, Any]) -> None:
        config["GlobalAuroraConfig"]["Behavior"] = "switchoverOnly"

    loss, _ = planted("warm-standby", AURORA, switchover_only)
    assert ("I2", "promote-database") in {(v.invariant, v.step) for v in loss.violations}


def test_a_function_step_with_the_wrong_region_to_run_does_nothing(planted: Any) -> None:
    def activating(config: dict[str, Any]) -> None:
        config["CustomActionLambdaConfig"]["RegionToRun"] = "activatingRegion"

    _, back = planted("pilot-light", LAMBDA, activating)  # fence-primary is a post-recovery step
    assert not back.passed


def _tells_people(rule: Resource) -> bool:
    """A rule that only sends what AWS says to the tier's topic (drtiers.constructs.events)."""
    targets = rule.prop("Targets")
    return rule.prop("ScheduleExpression") is None and all(
        t["Id"] == "Topic" and "InputTransformer" in t for t in targets
    )


def test_only_the_tier_that_promises_automatic_failover_starts_the_plan_by_itself(
    synthesized: Synthesized,
) -> None:
    for tier in ("pilot-light", "warm-standby", "multi-site"):
        plan = plan_template(synthesized, tier)
        plan.resource_count_is(PLAN_TYPE, 1)
        # a trigger's mode is not ours to set
        plan.has_resource_properties(PLAN_TYPE, {"Triggers": Match.absent()})
    for tier in ("pilot-light", "warm-standby"):
        # no probe, nothing starts the plan (the rules there only tell people, decision 44)
        rules = resources_in(
            synthesized.read(tier), f"drtiers-{tier}-recovery", "AWS::Events::Rule"
        )
        assert rules and not [r for r in rules if not _tells_people(r)]
    recovery = synthesized.read("multi-site")
    stack = "drtiers-multi-site-recovery"
    rules = resources_in(recovery, stack, "AWS::Events::Rule")
    (start,) = [r for r in rules if r.prop("EventPattern") is not None and not _tells_people(r)]
    assert start.prop("EventPattern", "detail") == {
        "alarmName": ["drtiers-multi-site-recovery-PrimaryDown"],
        "state": {"value": ["ALARM"]},
    }
    assert json.loads(start.prop("Targets")[0]["Input"])["action"] == "start-plan"
    (probe,) = [r for r in rules if r.prop("ScheduleExpression") is not None]
    target = json.loads(probe.prop("Targets")[0]["Input"])
    assert (target["action"], target["region"], target["every"]) == ("probe", "us-east-1", 10)
    (alarm,) = [
        r
        for r in resources_in(recovery, stack, "AWS::CloudWatch::Alarm")
        if r.prop("MetricName") == "PrimaryHealthyTargets"
    ]
    assert (
        alarm.prop("Period"),
        alarm.prop("DatapointsToAlarm"),
        alarm.prop("EvaluationPeriods"),
    ) == (10, 3, 4)
    assert alarm.prop("TreatMissingData") == "missing"  # no probe, no evidence: no failover


def test_without_its_starter_multi_site_waits_for_a_person(tmp_path: Path) -> None:
    app = build_app(tmp_path, context(tier="multi-site"))
    (start,) = [c for c in app.node.find_all() if c.node.id == "StartPlan"]
    assert start.node.scope is not None
    start.node.scope.node.try_remove_child("StartPlan")
    app.synth()
    ((loss, _),) = simulate_assembly(tmp_path, context(), synthesize, tier="multi-site")
    assert loss.passed  # still recovers, later: a person approves the promotion
    assert "approve-failover" in [x.name for x in loss.steps]
    assert loss.recovered_at == 30 + 300 + 60


@pytest.mark.parametrize("tier", PLANNED)
def test_only_the_replica_tier_may_promote_or_create_instances(
    synthesized: Synthesized, tier: str
) -> None:
    """The execution role carries the RDS replica actions only where an RDS block uses them."""
    policies = resources_in(synthesized.read(tier), f"drtiers-{tier}-plan", "AWS::IAM::Policy")
    actions = {
        action
        for policy in policies
        for statement in policy.prop("PolicyDocument", "Statement")
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    replica = {"rds:PromoteReadReplica", "rds:CreateDBInstanceReadReplica", "rds:ModifyDBInstance"}
    assert (replica <= actions) == (tier == "pilot-light")
    assert actions & replica in (set(), replica)


def test_failback_forwards_rs_messages_to_p_once_ps_consumers_run(
    synthesized: Synthesized,
) -> None:
    """pilot-light's failback stops R's tasks, its only consumers: once P's run again, the plan
    moves what R's work queues hold (not their dead-letter queues) to P's, naming each queue
    by stack and logical id, and waits while messages are in flight."""
    steps = blocks_of(plan_of(synthesized.read("pilot-light")), "activate", "us-east-1")
    names = [x.name for x in steps]
    assert names.index("unfence-primary") < names.index("forward-messages")
    forward = lambda_config(steps[names.index("forward-messages")])
    (payload,) = {json.dumps(x.payload, sort_keys=True) for x in forward.lambdas}
    assert json.loads(payload) == {
        "action": "forward",
        "region": "us-west-2",
        "stack": "drtiers-pilot-light-recovery",
        "to_region": "us-east-1",
        "to_stack": "drtiers-pilot-light-primary",
        "queues": ["WorkQueue1CAC4D2F"],
    }
    assert forward.timeout_minutes is not None and forward.timeout_minutes > 10
    # multi-site's R keeps consuming; warm standby's forward is a runbook step.
    for tier in ("warm-standby", "multi-site"):
        plan = plan_of(synthesized.read(tier))
        for action, region in (("postRecovery", "us-west-2"), ("activate", "us-east-1")):
            assert "forward-messages" not in [x.name for x in blocks_of(plan, action, region)]


@pytest.mark.parametrize("tier", PLANNED)
def test_the_control_table_uses_aws_s_managed_key_in_each_region(
    synthesized: Synthesized, tier: str
) -> None:
    """The control table is read across regions by every task and written by the plan
    function: AWS's managed key (SSE type KMS, no key named, in P and in R's replica) lets any
    caller DynamoDB serves in the account use it, so the function's role holds no key
    statement for it (its only key statement is the forward's, through SQS)."""
    assembly = synthesized.read(tier)
    (table,) = [
        r
        for r in resources_in(assembly, f"drtiers-{tier}-primary", "AWS::DynamoDB::GlobalTable")
        if r.prop("TableName").endswith("-control")
    ]
    assert table.prop("SSESpecification") == {"SSEEnabled": True, "SSEType": "KMS"}
    assert [x.get("SSESpecification") for x in table.prop("Replicas")] == [None, None]
    for role in ("primary", "recovery"):
        policy = assembly.by_id(f"drtiers-{tier}-{role}", "PlanActionsRoleDefaultPolicy5544B6F2")
        assert policy is not None
        for statement in policy.prop("PolicyDocument", "Statement"):
            if any(str(a).startswith("kms:") for a in statement["Action"]):
                condition = statement.get("Condition", {}).get("StringEquals", {})
                assert str(condition.get("kms:ViaService", "")).startswith("sqs."), statement


# --- the plan's execution role allows what each block needs (I8) --------------------------------


@pytest.mark.parametrize("tier", PLANNED)
def test_the_plan_role_allows_what_aws_lists_for_each_block(
    synthesized: Synthesized, tier: str
) -> None:
    world = read_world(synthesized.read(tier))
    found = [str(d) for event in ("region-loss", "failback") for d in denials(world, event)]
    assert found == []


def test_an_ecs_block_that_waits_for_healthy_targets_needs_to_list_tasks(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """The review's finding: WaitELBTargetGroupHealthy is enabled, and AWS says of its
    permissions "If waitELBTargetGroupHealthy option is disabled, you can omit these
    permissions": without ecs:ListTasks the block fails and traffic never moves."""
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")

    def without_list_tasks(resources: dict[str, dict[str, Any]]) -> None:
        (policy,) = [
            r
            for r in resources.values()
            if r["Type"] == "AWS::IAM::Policy" and "ExecutionRole" in json.dumps(r["Properties"])
        ]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        for statement in statements:
            actions = statement["Action"]
            if isinstance(actions, list) and "ecs:ListTasks" in actions:
                actions.remove("ecs:ListTasks")
                return
        raise AssertionError("no statement grants ecs:ListTasks")

    edit_template(directory, "drtiers-warm-standby-plan", without_list_tasks)
    ((loss, _),) = simulate_assembly(directory, context(), synthesize, tier="warm-standby")
    (i8,) = [v for v in loss.violations if v.invariant == "I8"]
    assert i8.step == "scale-out"
    assert "lacks ecs:ListTasks, which AWS's sample policy for the ECSServiceScaling" in i8.detail
    assert "you can omit these permissions" in i8.detail


# --- the runbook without the plan: replicas under an identifier still held ----------------------


def _without_plan(synthesized: Synthesized, directory: Path) -> Path:
    """A copy of the assembly whose plan stack holds no plan: the tier recovers by its runbook."""
    copy = copy_assembly(synthesized.directory, directory)

    def drop_plan(resources: dict[str, dict[str, Any]]) -> None:
        (logical_id,) = [k for k, r in resources.items() if r["Type"] == PLAN_TYPE]
        del resources[logical_id]

    edit_template(copy, "drtiers-pilot-light-plan", drop_plan)
    return copy


def test_the_runbook_renames_the_stale_instance_before_it_replicates(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """The RDS block renames the instance it replaces itself; the runbook's commands must too,
    or create-db-instance-read-replica fails with DBInstanceAlreadyExists."""
    directory = _without_plan(synthesized, tmp_path / "assembly")
    ((loss, back),) = simulate_assembly(directory, context(), synthesize, tier="pilot-light")
    assert loss.passed, [str(v) for v in loss.violations]
    assert [str(v) for v in back.violations if v.invariant == "I8"] == []
    replicate = next(x for x in back.steps if x.name == "replicate-back")
    assert "--new-db-instance-identifier" in replicate.command
    # The rename is asynchronous and the waiter fails on an instance not found: poll for the
    # new name first. PostgreSQL takes no parameter group at replica creation: set it after.
    command = replicate.command
    poll = command.index("until aws rds describe-db-instances")
    assert poll < command.index("aws rds wait db-instance-available")
    create = command.index("aws rds create-db-instance-read-replica")
    assert "--db-parameter-group-name" not in command[create : command.index(" && ", create)]
    assert command.index("--db-parameter-group-name") > create


def test_a_replica_created_with_a_postgresql_parameter_group_fails(
    synthesized: Synthesized, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS: "Specifying a parameter group for this operation is only supported for MySQL DB
    instances for cross-Region read replicas" (CreateDBInstanceReadReplica)."""
    directory = _without_plan(synthesized, tmp_path / "assembly")
    original = s.failback_steps

    def with_group(*args: Any) -> list[s.Step]:
        return [
            replace(x, command=x.command.replace("--port", "--db-parameter-group-name g --port", 1))
            if x.name == "replicate-back"
            else x
            for x in original(*args)
        ]

    monkeypatch.setattr(s, "failback_steps", with_group)
    ((_, back),) = simulate_assembly(directory, context(), synthesize, tier="pilot-light")
    (i8,) = [v for v in back.violations if v.invariant == "I8"]
    assert i8.step == "replicate-back" and "parameter group" in i8.detail


def test_a_runbook_replica_under_a_held_identifier_fails(
    synthesized: Synthesized, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's finding: the failback's replica took the identifier the stale primary
    instance still held."""
    directory = _without_plan(synthesized, tmp_path / "assembly")
    original = s.failback_steps
    create = "aws rds create-db-instance-read-replica"

    def unrenamed(*args: Any) -> list[s.Step]:
        return [
            replace(x, command=create + x.command.split(create)[1])
            if x.name == "replicate-back"
            else x
            for x in original(*args)
        ]

    monkeypatch.setattr(s, "failback_steps", unrenamed)
    ((_, back),) = simulate_assembly(directory, context(), synthesize, tier="pilot-light")
    (i8,) = [v for v in back.violations if v.invariant == "I8"]
    assert i8.step == "replicate-back"
    assert "DBInstanceAlreadyExists: drtiers-pilot-light-db in us-east-1" in i8.detail


@pytest.mark.parametrize("tier", ["backup-restore", "warm-standby"])
def test_the_runbooks_forward_moves_rs_work_queue_to_ps(
    synthesized: Synthesized, tier: str
) -> None:
    """As the plan's function does: each work queue (never a dead-letter queue, whose messages
    wait for a person) looked up in each region, received from in R, sent to P, and deleted
    in R only once sent."""
    ((_, back),) = simulate_assembly(synthesized.directory, context(), synthesize, tier=tier)
    step = next(x for x in back.steps if x.name == "forward-messages")
    calls = [(c.operation, c.region) for c in aws_calls(step.command)]
    assert calls == [
        ("DescribeStackResource", "us-west-2"),
        ("DescribeStackResource", "us-east-1"),
        ("GetQueueAttributes", "us-west-2"),
        ("ReceiveMessage", "us-west-2"),
        ("SendMessageBatch", "us-east-1"),
        ("DeleteMessageBatch", "us-west-2"),
    ]
    assert "WorkQueue" in step.command and "DeadLetters" not in step.command
    names = [x.name for x in back.steps]
    if tier == "backup-restore":  # before the stack that holds R's queues is deleted
        assert names.index("forward-messages") < names.index("retire-rebuild")


def test_the_replica_blocks_wait_as_long_as_a_replica_takes(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """The review's finding: a block without TimeoutMinutes fails after AWS's default 60
    minutes, while a cross-region replica takes hours (the figure: 4 h). The synthesized blocks
    allow twice the step's duration; without it, failback stops at replicate-back."""
    tier = synthesized.read("pilot-light")
    ((_, back),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="pilot-light"
    )
    seconds = {x.name: x.seconds for x in back.steps}
    plan = plan_of(tier)
    replicas = [b for w in plan.workflows for st in w.stages for b in st if b.kind == RDS_REPLICA]
    assert {b.name for b in replicas} == {"replicate-back", "reprotect"}
    for block in replicas:
        assert block.timeout_minutes is not None
        assert block.timeout_minutes * 60 >= 2 * seconds[block.name] > 3600
    assert back.passed

    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")

    def default_timeouts(resources: dict[str, dict[str, Any]]) -> None:
        (plan_resource,) = [r for r in resources.values() if r["Type"] == PLAN_TYPE]
        for workflow in plan_resource["Properties"]["Workflows"]:
            for step in workflow["Steps"]:
                if step["ExecutionBlockType"] == RDS_REPLICA:
                    del step["ExecutionBlockConfiguration"][
                        "RdsCreateCrossRegionReadReplicaConfig"
                    ]["TimeoutMinutes"]

    edit_template(directory, "drtiers-pilot-light-plan", default_timeouts)
    ((_, broken),) = simulate_assembly(directory, context(), synthesize, tier="pilot-light")
    assert not broken.passed
    timed_out = next(e for e in broken.timeline if e.step == "replicate-back")
    assert timed_out.changed.startswith("times out after 60 min")


def _drop_block(directory: Path, name: str) -> None:
    """The plan without the block ``name`` (in any workflow, inside a stage or not)."""

    def drop(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = []
        for step in steps:
            parallel = step["ExecutionBlockConfiguration"].get("ParallelConfig")
            if parallel is not None:
                parallel["Steps"] = drop(parallel["Steps"])
            if step["Name"] != name:
                kept.append(step)
        return kept

    def edit(resources: dict[str, dict[str, Any]]) -> None:
        (plan_resource,) = [r for r in resources.values() if r["Type"] == PLAN_TYPE]
        for workflow in plan_resource["Properties"]["Workflows"]:
            workflow["Steps"] = drop(workflow["Steps"])

    edit_template(directory, "drtiers-pilot-light-plan", edit)


@pytest.mark.parametrize(
    ("block", "invariant", "said"),
    [
        # P's replica, promoted, refuses the IAM logins of P's proxy: P serves nothing.
        ("adopt-replica-primary", "I5", "has IAM database authentication off"),
        # R's fresh replica refuses the IAM logins R's tasks make at the next failover.
        ("adopt-replica-recovery", "I1", "at the next failover its tasks cannot log in"),
        # P's proxy still holds the instance renamed away.
        ("register-proxy-target", "I5", "target group does not hold the instance"),
    ],
)
def test_failback_breaks_without_what_the_replica_block_leaves_out(
    synthesized: Synthesized, tmp_path: Path, block: str, invariant: str, said: str
) -> None:
    """The review's findings: the RDS replica block copies neither IAM database
    authentication nor deletion protection, and P's proxy registered the instance that was
    renamed away; the plan's function sets both right, and without its step failback breaks."""
    ((_, back),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="pilot-light"
    )
    assert back.passed and block in {x.name for x in back.steps}
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")
    _drop_block(directory, block)
    ((_, broken),) = simulate_assembly(directory, context(), synthesize, tier="pilot-light")
    assert any(v.invariant == invariant and said in v.detail for v in broken.violations), [
        str(v) for v in broken.violations
    ]


@pytest.mark.parametrize("dropped", ["Tags", "BackupRetentionPeriod", "MonitoringInterval"])
def test_failback_leaves_a_replica_unlike_its_template_without_its_settings(
    synthesized: Synthesized, tmp_path: Path, dropped: str
) -> None:
    """I10: the replica block copies neither tags, monitoring, log exports nor backups; the
    plan's function sets them from the template. Without one, failback ends with an instance
    that is not what CloudFormation thinks it made."""
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")

    def without(resources: dict[str, dict[str, Any]]) -> None:
        text = json.dumps(resources)
        assert f'\\"{dropped}\\"' in text  # inside the steps' JSON payloads
        for resource in resources.values():
            if resource["Type"] == PLAN_TYPE:
                _drop_setting(resource["Properties"], dropped)

    edit_template(directory, "drtiers-pilot-light-plan", without)
    ((_, broken),) = simulate_assembly(directory, context(), synthesize, tier="pilot-light")
    assert any(v.invariant == "I10" and dropped in v.detail for v in broken.violations), [
        str(v) for v in broken.violations
    ]


def test_failback_leaves_the_renamed_instance_tagged_primary_without_the_stale_tag(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """The RDS block renames P's old instance and adds only renamedByRegionSwitch: without the
    adopt payload's stale tag it still carries drtiers:role=primary, and the drills (which
    select by tags) would fail it over as the tier's primary."""
    ((_, back),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="pilot-light"
    )
    assert back.passed
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")

    def without(resources: dict[str, dict[str, Any]]) -> None:
        for resource in resources.values():
            if resource["Type"] == PLAN_TYPE:
                edit_adopt_payloads(resource["Properties"], lambda payload: payload.pop("stale"))

    edit_template(directory, "drtiers-pilot-light-plan", without)
    ((_, broken),) = simulate_assembly(directory, context(), synthesize, tier="pilot-light")
    renamed = [v for v in broken.violations if v.invariant == "I10" and "renamed" in v.detail]
    assert {v.resource for v in renamed} == {"us-east-1 #1", "us-west-2 #2"}, [
        str(v) for v in broken.violations
    ]
    assert "drtiers:role=primary" in renamed[0].detail
    assert "drtiers:role=recovery" in renamed[1].detail


def _drop_setting(value: Any, name: str) -> None:
    """Every adopt payload (a JSON string in a Lambda block's configuration) without ``name``."""
    edit_adopt_payloads(value, lambda payload: payload["settings"].pop(name, None))


def test_the_runbook_tags_the_instance_it_renames_stale(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """backup-restore has no plan: its runbook renames P's old instance, and without the tag
    it still carries drtiers:role=primary."""
    renamed = s._rename_stale
    monkeypatch.setattr(
        s,
        "_rename_stale",
        lambda region, account: renamed(region, account).split(" && aws rds add-tags")[0],
    )
    ((_, back),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="backup-restore"
    )
    (violation,) = [v for v in back.violations if v.invariant == "I10"]
    assert violation.resource == "us-east-1 #1"
    assert "still carries drtiers:role=primary" in violation.detail


def test_the_runbook_registers_the_promoted_instance_with_the_proxy(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """backup-restore has no plan: its runbook moves P's proxy to the promoted instance, and
    without that step P takes traffic through a proxy that reaches nothing."""
    ((_, back),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="backup-restore"
    )
    step = next(x for x in back.steps if x.name == "register-proxy-target")
    operations = [c.operation for c in aws_calls(step.command)]
    assert operations[-1] == "RegisterDBProxyTargets" and "DeregisterDBProxyTargets" in operations
    original = s.failback_steps

    def unregistered(*args: Any) -> list[s.Step]:
        steps = original(*args)
        return [
            replace(x, after=tuple(a for a in x.after if a != step.name))
            for x in steps
            if x.name != step.name
        ]

    monkeypatch.setattr(s, "failback_steps", unregistered)
    ((_, broken),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="backup-restore"
    )
    assert any("target group does not hold" in v.detail for v in broken.violations)


def test_retiring_the_rebuild_turns_off_what_keeps_it_from_being_deleted(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's finding: the rebuilt stack has termination protection and its database
    deletion protection, so a bare delete-stack fails and the stack stays."""
    ((_, back),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="backup-restore"
    )
    step = next(x for x in back.steps if x.name == "retire-rebuild")
    operations = [c.operation for c in aws_calls(step.command)]
    assert operations.index("UpdateTerminationProtection") < operations.index("DeleteStack")
    assert operations.index("ModifyDBInstance") < operations.index("DeleteStack")
    original = s.failback_steps
    bare = step.command[step.command.index("aws cloudformation delete-stack") :]

    def unprotected(*args: Any) -> list[s.Step]:
        return [replace(x, command=bare) if x.name == step.name else x for x in original(*args)]

    monkeypatch.setattr(s, "failback_steps", unprotected)
    ((_, broken),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="backup-restore"
    )
    assert any(
        v.invariant == "I8" and v.step == "retire-rebuild" and "termination protection" in v.detail
        for v in broken.violations
    )


def test_a_restore_that_does_not_wait_for_its_job_fails(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's finding: start-restore-job only starts a job, and the declaration after it
    needs the table; a restore step that does not poll its job is refused (I8)."""
    original = s.failover_steps

    def unawaited(*args: Any) -> list[s.Step]:
        return [
            replace(x, command=x.command.split(" && until")[0].removeprefix("JOB=$(")[:-1])
            if x.name == "restore-control"
            else x
            for x in original(*args)
        ]

    monkeypatch.setattr(s, "failover_steps", unawaited)
    ((loss, _),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="backup-restore"
    )
    (i8,) = [v for v in loss.violations if v.invariant == "I8"]
    assert i8.step == "restore-control" and "StartRestoreJob only starts a job" in i8.detail


def test_retiring_the_rebuild_deletes_the_tables_restored_in_r(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second review's finding: the rebuilt stack imports the restored tables and leaves
    them when it is deleted, so the next failover's restore under their names is refused."""
    original = s.failback_steps

    def tables_kept(*args: Any) -> list[s.Step]:
        return [
            replace(x, command=x.command.split(" && aws dynamodb update-table")[0])
            if x.name == "retire-rebuild"
            else x
            for x in original(*args)
        ]

    ((_, back),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="backup-restore"
    )
    assert back.passed
    monkeypatch.setattr(s, "failback_steps", tables_kept)
    ((_, broken),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="backup-restore"
    )
    (i8,) = [v for v in broken.violations if v.invariant == "I8"]
    assert i8.step == "end" and "TableAlreadyExistsException" in i8.detail


@pytest.mark.parametrize("tier", ["pilot-light", "warm-standby", "multi-site"])
def test_each_plan_writes_its_reports_to_a_kept_encrypted_bucket_of_its_own(
    synthesized: Synthesized, tier: str
) -> None:
    read = synthesized.read(tier)
    (plan,) = read.of_type(PLAN_TYPE)
    s3 = plan.prop("ReportConfiguration", "ReportOutput")[0]["S3Configuration"]
    assert s3["BucketOwner"] == read.account
    (bucket,) = [b for b in read.of_type("AWS::S3::Bucket") if b.stack == plan.stack]
    assert s3["BucketPath"] == {"Fn::Join": ["", [{"Ref": bucket.logical_id}, "/plan-executions"]]}
    assert bucket.deletion_policy == "RetainExceptOnCreate"
    rule = bucket.prop("BucketEncryption", "ServerSideEncryptionConfiguration")[0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert plan_reports_land(read, TIERS[tier]) == []
    broken = copy.deepcopy(read)
    (moved,) = broken.of_type(PLAN_TYPE)
    moved.properties["ReportConfiguration"]["ReportOutput"][0]["S3Configuration"]["BucketOwner"] = (
        "111122223333"
    )
    (violation,) = plan_reports_land(broken, TIERS[tier]) or []
    assert violation.detail == "reports go to no bucket of its stack and account"


def test_a_report_key_iam_cannot_grant_is_found(synthesized: Synthesized) -> None:
    """The role's statements on the key take effect only where the key's policy lets IAM grant
    its use (the account root): without it the role cannot write a report."""
    broken = copy.deepcopy(synthesized.read("warm-standby"))
    (plan,) = broken.of_type(PLAN_TYPE)
    for key in (k for k in broken.of_type("AWS::KMS::Key") if k.stack == plan.stack):
        statements = key.properties["KeyPolicy"]["Statement"]
        statements[:] = [s for s in statements if ":root" not in json.dumps(s.get("Principal"))]
    (violation,) = plan_reports_land(broken, TIERS["warm-standby"]) or []
    assert violation.detail == "its execution role may not use the report bucket's key"


def _cli_filters(words: list[str]) -> list[dict[str, Any]]:
    """``--filters Key=K,Values=V ...`` in the CLI's shorthand, as the API takes them."""
    start = words.index("--filters") + 1
    end = next((i for i in range(start, len(words)) if words[i].startswith("--")), len(words))
    pairs = [dict(part.split("=", 1) for part in word.split(",")) for word in words[start:end]]
    return [{"Key": pair["Key"], "Values": [pair["Values"]]} for pair in pairs]


def test_the_failover_promotes_its_own_apps_secret_replica(synthesized: Synthesized) -> None:
    """Another app of the same tier in the account replicates its admin secret to R too, and is
    listed first: promote-secret must still find this app's replica. list-secrets matches tag
    keys and tag values apart, each by prefix (API_Filter), so the query pairs them."""
    ((loss, _),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="pilot-light"
    )
    step = next(x for x in loss.steps if x.name == "promote-secret")
    words = shlex.split(step.command.split("$(", 1)[1].rsplit(")", 1)[0])
    assert words[:3] == ["aws", "secretsmanager", "list-secrets"]
    region, query = words[words.index("--region") + 1], words[words.index("--query") + 1]
    tier = read_assembly(synthesized.directory)["pilot-light"]
    secret = next(
        x for x in tier.of_type("AWS::SecretsManager::Secret") if x.role == StackRole.PRIMARY
    )
    ours = list(secret.prop("Tags"))
    theirs = [{**t, "Value": "other"} if t["Key"] == "drtiers:app" else t for t in ours]
    with mock_aws():
        primary = boto3.client("secretsmanager", region_name=tier.primary_region)
        made = {}
        for name, tags in (("theirs", theirs), ("ours", ours)):
            made[name] = primary.create_secret(
                Name=name, SecretString="{}", Tags=tags, AddReplicaRegions=[{"Region": region}]
            )["ARN"].replace(f":{tier.primary_region}:", f":{region}:")
        listed = boto3.client("secretsmanager", region_name=region).list_secrets(
            Filters=_cli_filters(words)
        )
    assert listed["SecretList"][0]["ARN"] == made["theirs"]  # what [0] took
    assert jmespath.search(query, listed) == [made["ours"]]  # one ARN, as text: one line


def test_a_declaration_the_writable_alarm_does_not_hear_moves_no_traffic(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """The plan's declare step puts RecoveryWritable with the app's and tier's dimensions; an
    alarm reading another set reads another metric (this one the tier's alone, as every app of
    the tier once shared), so Route 53 never moves traffic to R."""
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")

    def tier_only(resources: dict[str, dict[str, Any]]) -> None:
        alarm = next(r for k, r in resources.items() if k.startswith("AlarmsDatabaseWritable"))
        alarm["Properties"]["Dimensions"] = [{"Name": "Tier", "Value": "warm-standby"}]

    edit_template(directory, "drtiers-warm-standby-recovery", tier_only)
    ((loss, _),) = simulate_assembly(directory, context(), synthesize, tier="warm-standby")
    assert not loss.passed, "failover passed with the declaration unheard"
    assert any("us-west-2" in str(v) for v in loss.violations), [str(v) for v in loss.violations]


def test_the_failback_waits_for_its_own_global_database(synthesized: Synthesized) -> None:
    """wait-replication polls this tier's global database by its identifier (another app's may
    be in the account) until P's cluster is a member again, in sync."""
    ((_, back),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="warm-standby"
    )
    step = next(x for x in back.steps if x.name == "wait-replication")
    world = read_world(read_assembly(synthesized.directory)["warm-standby"])
    assert world.global_cluster and f"--global-cluster-identifier {world.global_cluster} " in (
        step.command
    )
    query = step.command.split("--query ", 1)[1].split(" --output", 1)[0].strip("'")
    members = [
        {"DBClusterArn": "arn:aws:rds:us-west-2:1:cluster:r", "IsWriter": True},
        {"DBClusterArn": "arn:aws:rds:us-east-1:1:cluster:p", "IsWriter": False},
    ]
    for status, waits in (("pending-resync", True), ("connected", False)):
        members[1]["SynchronizationStatus"] = status
        found = jmespath.search(query, {"GlobalClusters": [{"GlobalClusterMembers": members}]})
        assert (found == []) is waits, (status, found)
    # not a member yet: still waiting
    assert jmespath.search(query, {"GlobalClusters": [{"GlobalClusterMembers": members[:1]}]}) == []
    assert step.command.startswith("until ") and step.command.endswith("do sleep 30; done")
