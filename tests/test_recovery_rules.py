"""Each AWS behaviour the simulator models, on its own, with its source."""

from __future__ import annotations

import inspect

import pytest

from drtiers.core import rules


def test_a_proxy_read_write_endpoint_needs_a_writer() -> None:
    assert rules.proxy_read_write_serves(has_writer=True)
    assert not rules.proxy_read_write_serves(has_writer=False)  # a global secondary


def test_a_proxy_read_only_endpoint_needs_readers_of_a_cluster() -> None:
    assert rules.proxy_read_only_serves(readers=1, target_is_cluster=True)
    assert not rules.proxy_read_only_serves(readers=0, target_is_cluster=True)  # promoted alone
    assert not rules.proxy_read_only_serves(readers=2, target_is_cluster=False)  # RDS instance


def test_write_forwarding_only_while_secondary_and_the_writer_is_reachable() -> None:
    assert rules.forwards_writes(True, True, 1, writer_reachable=True)
    assert not rules.forwards_writes(False, True, 1, writer_reachable=True)  # after promotion
    assert not rules.forwards_writes(True, False, 1, writer_reachable=True)  # not turned on
    assert not rules.forwards_writes(True, True, 0, writer_reachable=True)  # no reader
    assert not rules.forwards_writes(True, True, 1, writer_reachable=False)  # writer's region lost


def test_the_proxy_logs_in_with_iam_or_a_secret_for_that_user() -> None:
    assert rules.proxy_authenticates(True, "app", {"app"}, set())
    assert not rules.proxy_authenticates(True, "app", set(), {"app"})  # IAM: the role decides
    assert rules.proxy_authenticates(False, "app", set(), {"app"})
    assert not rules.proxy_authenticates(False, "app", {"app"}, {"dbadmin"})  # no secret for it


def test_region_switch_blocks() -> None:
    assert rules.plan_executes_in("us-west-2") == "us-west-2"  # the activated region only
    # Aurora: graceful follows the behavior; ungraceful fails over (with data loss).
    assert rules.aurora_block_promotes(True, "switchoverOnly", "failover") == "switchover"
    assert rules.aurora_block_promotes(True, "failover", None) == "failover"
    assert rules.aurora_block_promotes(False, "switchoverOnly", "failover") == "failover"
    assert rules.ecs_block_capacity(3, 50) == 2  # rounded up
    assert rules.ecs_block_capacity(2, 100) == 2
    assert rules.lambda_block_runs(graceful=True)
    assert not rules.lambda_block_runs(graceful=False)  # skipped when ungraceful
    assert rules.rds_replica_block_runs("postRecovery")
    assert not rules.rds_replica_block_runs("activate")


def test_route53_failover_answers() -> None:
    assert rules.route53_failover_answer(True, True) == "PRIMARY"
    assert rules.route53_failover_answer(False, True) == "SECONDARY"
    assert rules.route53_failover_answer(False, False) == "PRIMARY"


def test_the_accelerator_routes_to_healthy_dialled_groups_or_fails_open() -> None:
    assert rules.accelerator_routes({"p": (100, False), "r": (100, True)}) == {"r"}
    assert rules.accelerator_routes({"p": (0, True), "r": (100, True)}) == {"r"}  # held off
    assert rules.accelerator_routes({"p": (100, False), "r": (100, False)}) == {"p", "r"}
    assert rules.accelerator_group_healthy(load_balancer_has_healthy_targets=False) is False


def test_a_stack_update_needs_its_output_producers_and_without_exclusively_its_dependencies() -> (
    None
):
    assert rules.stack_update_needs("r", ["p"], exclusively=True, dependency_regions=["q"]) == {
        "r",
        "p",
    }
    assert rules.stack_update_needs("r", [], exclusively=False, dependency_regions=["q"]) == {
        "r",
        "q",
    }


def test_metrics_that_tell_a_database_takes_writes() -> None:
    assert rules.writer_role_metric_emitted(cluster_has_writer=True)
    assert not rules.writer_role_metric_emitted(cluster_has_writer=False)
    assert rules.replica_lag_emitted(is_replica=True)
    assert not rules.replica_lag_emitted(is_replica=False)


def test_scaling_never_goes_below_the_minimum() -> None:
    assert rules.scaling_floor(2) == 2


@pytest.mark.parametrize(
    "rule",
    [
        f
        for name, f in inspect.getmembers(rules, inspect.isfunction)
        if f.__module__ == rules.__name__
    ],
)
def test_every_rule_names_its_source(rule: object) -> None:
    sources = {
        name: value.url
        for name, value in vars(rules).items()
        if isinstance(value, rules.Source) and name.isupper()
    }
    doc = inspect.getdoc(rule) or ""
    named = [name for name in sources if f"({name})" in doc or name in doc.split()]
    assert named, f"{rule} names none of {sorted(sources)}"
    for name in named:
        assert sources[name].startswith("https://")


def test_route53_judges_metric_data_not_the_alarm_state() -> None:
    assert rules.metric_check_healthy(True, "Healthy", last_known=True) is False  # breaching
    assert rules.metric_check_healthy(False, "Unhealthy", last_known=False) is True
    # No data: what InsufficientDataHealthStatus says, whatever the alarm's missing-data rule.
    assert rules.metric_check_healthy(None, "Healthy", last_known=False) is True
    assert rules.metric_check_healthy(None, "Unhealthy", last_known=True) is False
    assert rules.metric_check_healthy(None, "LastKnownStatus", last_known=False) is False


def test_what_needs_iams_control_plane() -> None:
    assert rules.changes_iam("AWS::IAM::Role", {})
    assert rules.changes_iam("AWS::SecretsManager::RotationSchedule", {"HostedRotationLambda": {}})
    assert not rules.changes_iam(
        "AWS::SecretsManager::RotationSchedule", {"RotationLambdaARN": "x"}
    )
    assert not rules.changes_iam("AWS::ECS::Service", {})
    assert rules.IAM_CONTROL_REGION == "us-east-1"
