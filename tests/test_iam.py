"""IAM of the task roles, the proxy roles and the plan-actions function, evaluated as IAM does on
the ARNs the templates render (drtiers.assembly.arns, drtiers.core.permissions), and the
settings the tasks read: each check fails when the defect it models is planted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drtiers.assembly.arns import FRESH, SYNTHESIZED, render, resolved_statements, resource_id
from drtiers.assembly.reader import copy_assembly, edit_template, read_assembly
from drtiers.assembly.world import World, read_world
from drtiers.checks.mutants import MUTANTS, action, drop_statement, plant, prefix
from drtiers.core import rules
from drtiers.core.code_calls import action_calls
from drtiers.core.permissions import allowed, iam_action, known_action, resource_arn
from drtiers.recovery import function_roles
from drtiers.recovery.live import deployed
from drtiers.recovery.simulate import problems
from tests.conftest import Synthesized

ACCOUNT = "123456789012"


def _planted(synthesized: Synthesized, tmp_path: Path, mutant_id: str) -> World:
    """The world of the mutant's tier with its defect planted in a copy of the assembly."""
    (mutant,) = [m for m in MUTANTS if m.id == mutant_id]
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")
    plant(mutant, directory)
    return read_world(read_assembly(directory)[mutant.tier])


def _recovery_problems(world: World) -> list[str]:
    service = world.service_in(world.recovery)
    assert service is not None
    return problems(deployed(world), service)


# --- rendering the ARNs a statement names -------------------------------------------------------


def test_intrinsic_arns_render_in_the_stacks_region_and_account(synthesized: Synthesized) -> None:
    tier = synthesized.read("warm-standby")
    stack = next(n for n, (role, _) in tier.stacks.items() if role == "recovery")
    proxy = next(r for r in tier.of_type("AWS::RDS::DBProxy") if r.stack == stack)
    joined = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":rds-db:us-west-2:123456789012:dbuser:",
                {
                    "Fn::Select": [
                        6,
                        {"Fn::Split": [":", {"Fn::GetAtt": [proxy.logical_id, "DBProxyArn"]}]},
                    ]
                },
                "/app",
            ],
        ]
    }
    assert render(tier, stack, joined) == (
        f"arn:aws:rds-db:us-west-2:{ACCOUNT}:dbuser:{resource_id(proxy)}/app"
    )
    sub = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/t"}
    assert render(tier, stack, sub) == f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/t"
    output = {"Fn::GetStackOutput": {"StackName": "x", "OutputName": "y"}}
    assert render(tier, stack, output) is None  # not known here


def test_what_cannot_be_rendered_errs_towards_allowed(synthesized: Synthesized) -> None:
    tier = synthesized.read("warm-standby")
    stack = next(iter(tier.stacks))
    opaque = {"Fn::ImportValue": "somewhere"}
    allow, deny = resolved_statements(
        tier,
        stack,
        [
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": opaque},
            {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": opaque},
        ],
    )
    assert allow["Resource"] == ["*"]
    assert deny["Resource"] == []
    assert allowed([allow, deny], "sqs:SendMessage", "arn:aws:sqs:us-west-2:1:q")


def test_an_unknown_resource_is_allowed_by_any_allow_of_the_action() -> None:
    grant = {"Effect": "Allow", "Action": "ecs:UpdateService", "Resource": "arn:aws:ecs:*"}
    assert allowed([grant], "ecs:UpdateService", None)
    assert not allowed([grant], "ecs:DescribeServices", None)
    narrow_deny = {"Effect": "Deny", "Action": "ecs:*", "Resource": "arn:aws:ecs:x"}
    assert allowed([grant, narrow_deny], "ecs:UpdateService", None)
    deny_all = {"Effect": "Deny", "Action": "ecs:*", "Resource": "*"}
    assert not allowed([grant, deny_all], "ecs:UpdateService", None)


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("cloudwatch", "PutMetricData", "cloudwatch:PutMetricData"),
        ("elbv2", "DescribeTargetHealth", "elasticloadbalancing:DescribeTargetHealth"),
        ("application-autoscaling", "RegisterScalableTarget", None),
    ],
)
def test_an_sdk_call_maps_to_the_iam_action_of_the_catalogue(
    service: str, operation: str, action: str | None
) -> None:
    mapped = iam_action(service, operation)
    assert mapped == (action or f"{service}:{operation}")
    assert known_action(mapped)


# --- rds-db:connect on the dbuser ARN -----------------------------------------------------------


def test_a_connect_grant_covers_its_regions_instances_old_and_new(synthesized: Synthesized) -> None:
    world = read_world(synthesized.read("pilot-light"))
    service = world.service_in(world.recovery)
    replica = world.database_in(world.recovery)
    assert service is not None and replica is not None
    # dbuser:db-*/app in R: the replica synthesized, and an instance created under its name
    assert {f"{replica.key}#{SYNTHESIZED}", f"{replica.key}#{FRESH}"} <= service.connect
    primary = world.database_in(world.primary)
    assert primary is not None and not {f"{primary.key}#{g}" for g in (SYNTHESIZED, FRESH)} & (
        service.connect
    )


def test_a_task_grant_in_the_other_region_logs_nobody_in(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    world = _planted(synthesized, tmp_path, "iam-connect-wrong-region-pl")
    replica = world.database_in(world.recovery)
    service = world.service_in(world.recovery)
    assert replica is not None and service is not None
    assert replica.connect_key not in service.connect
    assert any("no rds-db:connect" in p for p in _recovery_problems(world))


def test_a_proxy_grant_in_the_other_region_logs_nobody_in(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    healthy = read_world(synthesized.read("warm-standby"))
    world = _planted(synthesized, tmp_path, "proxy-role-wrong-cluster-ws")
    proxy = next(p for p in world.proxies.values() if p.region == world.recovery)
    assert next(p for p in healthy.proxies.values() if p.region == world.recovery).role_grants
    assert proxy.role_grants == set()


# --- IAM database authentication ----------------------------------------------------------------


def test_iam_logins_need_iam_database_authentication() -> None:
    assert rules.iam_login_accepted(True)
    assert not rules.iam_login_accepted(False)


def test_a_replica_without_iam_authentication_refuses_the_tasks(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    healthy = read_world(synthesized.read("pilot-light"))
    assert all(d.iam_auth for d in healthy.databases.values())
    world = _planted(synthesized, tmp_path, "db-no-iam-auth-pl")
    replica = world.database_in(world.recovery)
    assert replica is not None and not replica.iam_auth
    live = deployed(world)
    live.databases[replica.key].role = "writer"  # promoted: it still refuses the tokens
    service = world.service_in(world.recovery)
    assert service is not None
    assert any("IAM database authentication off" in p for p in problems(live, service))


# --- the tables the settings name ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutant", "says"),
    [
        ("env-table-name-ms", "TABLE_NAME names drtiers-multi-site-tabel"),
        ("env-control-table-ws", "CONTROL_TABLE_NAME names drtiers-pilot-light-control"),
    ],
)
def test_a_setting_that_names_a_table_the_tier_lacks(
    synthesized: Synthesized, tmp_path: Path, mutant: str, says: str
) -> None:
    world = _planted(synthesized, tmp_path, mutant)
    assert any(says in p for p in _recovery_problems(world))


@pytest.mark.parametrize("tier", ["pilot-light", "warm-standby", "multi-site", "backup-restore"])
def test_the_tasks_settings_name_the_tiers_tables(synthesized: Synthesized, tier: str) -> None:
    world: Any = read_world(synthesized.read(tier))
    for service in world.services.values():
        assert service.table_name in world.table_names
        assert service.control_table_name == world.control_table
        assert service.region in service.table_regions


# --- the plan-actions function's role against the calls its code makes -------------------------

PLAN_ACTIONS = Path(__file__).resolve().parents[1] / "drtiers" / "lambdas" / "plan_actions.py"


def test_the_calls_of_each_action_are_read_from_the_code() -> None:
    calls = action_calls(PLAN_ACTIONS.read_text())
    declare = {(c.service, c.operation): c for c in calls["declare"]}
    assert declare["dynamodb", "PutItem"].arguments == (("TableName", "table"),)
    assert declare["dynamodb", "PutItem"].region == "region"
    assert declare["cloudwatch", "PutMetricData"].region == "metric.region"
    assert {(c.service, c.operation) for c in calls["scale"]} == {
        ("application-autoscaling", "DescribeScalableTargets"),
        ("application-autoscaling", "RegisterScalableTarget"),
        ("ecs", "UpdateService"),
    }
    # through the paginator helper, and from the function it hands its payload to
    assert ("globalaccelerator", "ListAccelerators") in {
        (c.service, c.operation) for c in calls["dial"]
    }
    assert ("elbv2", "DescribeTargetHealth") in {(c.service, c.operation) for c in calls["probe"]}
    assert {c.region for c in calls["start-plan"]} == {"recovery_region"}


@pytest.mark.parametrize("tier", ["pilot-light", "warm-standby", "multi-site"])
def test_every_function_step_is_allowed_as_synthesized(synthesized: Synthesized, tier: str) -> None:
    world = read_world(synthesized.read(tier))
    assert world.function_calls and world.function_roles
    for event in ("region-loss", "failback"):
        assert function_roles.denials(world, event) == []


@pytest.mark.parametrize(
    ("mutant", "action", "resource"),
    [
        (
            "iam-actions-no-declare-ws",
            "dynamodb:PutItem",
            f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/drtiers-warm-standby-control",
        ),
        ("iam-actions-no-metric-pl", "cloudwatch:PutMetricData", "*"),
    ],
)
def test_a_call_the_functions_role_denies_fails_its_step(
    synthesized: Synthesized, tmp_path: Path, mutant: str, action: str, resource: str
) -> None:
    world = _planted(synthesized, tmp_path, mutant)
    (denied,) = function_roles.denials(world, "region-loss")
    assert (denied.step, denied.action, denied.resource) == ("declare-writer", action, resource)
    assert denied.function == f"us-west-2:drtiers-{world.tier}-plan-actions"
    assert f"Grant the function's role {action} on {resource}" in str(denied)


def test_a_call_to_an_unnamed_resource_errs_towards_allowed() -> None:
    assert resource_arn("globalaccelerator:UpdateEndpointGroup", "us-west-2", ACCOUNT, {}) is None
    assert resource_arn(
        "ecs:UpdateService", "us-west-2", ACCOUNT, {"cluster": "c", "service": "s"}
    ) == (f"arn:aws:ecs:us-west-2:{ACCOUNT}:service/c/s")
    assert resource_arn("sqs:ListQueues", "us-west-2", ACCOUNT, {}) == "*"


def test_the_recovery_regions_rules_invoke_functions_their_roles_allow(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """R's PrimaryDown rule starts the plan through the function: its role must allow the
    start's calls when P is lost."""
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")
    stack = next(
        n for n, (role, _) in synthesized.read("multi-site").stacks.items() if role == "recovery"
    )
    edit_template(
        directory,
        stack,
        drop_statement(
            "AWS::IAM::Policy",
            prefix("PlanActionsRoleDefaultPolicy"),
            action("arc-region-switch:StartPlanExecution"),
        ),
    )
    world = read_world(read_assembly(directory)["multi-site"])
    (denied,) = function_roles.denials(world, "region-loss")
    assert denied.payload_action == "start-plan"
    assert denied.action == "arc-region-switch:StartPlanExecution"
    assert denied.resource == "any"  # the plan's ARN comes from a list call, not the payload
    assert function_roles.denials(world, "failback") == []


def test_a_dax_grant_is_evaluated_on_the_clusters_arn(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """A DAX grant that names clusters of P's region does not cover R's cluster."""
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")
    stack = next(
        n for n, (role, _) in synthesized.read("multi-site").stacks.items() if role == "recovery"
    )

    def other_region(resources: dict[str, Any]) -> None:
        (policy,) = [
            r for i, r in resources.items() if i.startswith("AppTaskTaskRoleDefaultPolicy")
        ]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "dax:GetItem" in statement["Action"]:
                statement["Resource"] = f"arn:aws:dax:us-east-1:{ACCOUNT}:cache/*"

    assert all(s.dax_granted for s in read_world(synthesized.read("multi-site")).services.values())
    edit_template(directory, stack, other_region)
    world = read_world(read_assembly(directory)["multi-site"])
    service = world.service_in(world.recovery)
    assert service is not None and not service.dax_granted


def test_a_direct_connection_needs_the_port_the_instance_listens_on(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """DATABASE_PORT is read with the network paths (drtiers.assembly.network), one place."""
    healthy = read_world(synthesized.read("pilot-light"))
    assert not any("DATABASE_PORT" in p for p in _recovery_problems(healthy))
    world = _planted(synthesized, tmp_path, "env-wrong-port-pl")
    live = deployed(world)
    replica = world.database_in(world.recovery)
    service = world.service_in(world.recovery)
    assert replica is not None and service is not None
    live.databases[replica.key].role = "writer"
    assert any("DATABASE_PORT says 5432" in p and "5438" in p for p in problems(live, service))
