"""Where AWS serves a call and which calls a command makes: botocore's endpoint rules and
service models, and the simulator failing a step that needs a lost control plane (I2) or calls
an operation AWS does not define (I8)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from drtiers.build import synthesize
from drtiers.core import rules
from drtiers.core.commands import Call, aws_calls
from drtiers.core.endpoints import UnknownCall, paginated, served_from
from drtiers.recovery import simulate_assembly
from drtiers.recovery import steps as s
from tests.conftest import ROOT, Synthesized, context


@pytest.mark.parametrize(
    ("service", "operation", "region", "served"),
    [
        ("rds", "PromoteReadReplica", "us-west-2", "us-west-2"),
        ("dynamodb", "PutItem", "eu-central-1", "eu-central-1"),
        # ARC Region switch: the plan's executions are regional; ListPlans is the control
        # plane's, in us-east-1 whatever region the caller names.
        ("arc-region-switch", "StartPlanExecution", "us-west-2", "us-west-2"),
        ("arc-region-switch", "ListPlansInRegion", "us-west-2", "us-west-2"),
        ("arc-region-switch", "ListPlans", "us-west-2", "us-east-1"),
        ("route53", "ChangeResourceRecordSets", "eu-west-1", "us-east-1"),
        ("iam", "CreateRole", "us-west-2", "us-east-1"),
        ("globalaccelerator", "UpdateEndpointGroup", "eu-west-1", "us-west-2"),
    ],
)
def test_served_from_botocores_endpoint_rules(
    service: str, operation: str, region: str, served: str
) -> None:
    assert served_from(service, operation, region) == served


def test_the_control_regions_the_model_assumes_are_botocores() -> None:
    assert served_from("route53", "ChangeResourceRecordSets", "eu-west-1") == (
        rules.ROUTE53_CONTROL_REGION
    )
    assert served_from("route53", "UpdateHealthCheck", "eu-west-1") == rules.ROUTE53_CONTROL_REGION
    assert served_from("iam", "PutRolePolicy", "eu-west-1") == rules.IAM_CONTROL_REGION


def test_unknown_operations_are_named() -> None:
    with pytest.raises(UnknownCall, match="ListPlan: no such operation"):
        served_from("arc-region-switch", "ListPlan", "us-west-2")
    with pytest.raises(UnknownCall, match="aws rds promote-replica: no such operation"):
        aws_calls("aws rds promote-replica --region us-west-2 --db-instance-identifier x")
    with pytest.raises(UnknownCall, match="not-a-service"):
        aws_calls("aws not-a-service describe-things --region us-west-2")


def test_an_option_the_operation_does_not_take_is_named() -> None:
    """Parameters are checked against the operation's input in botocore's model (and the CLI's
    own options): the CLI refuses a call with an option it does not know."""
    ok = "aws rds modify-db-instance --region us-east-1 --db-instance-identifier x "
    assert aws_calls(ok + "--enable-iam-database-authentication --no-deletion-protection")
    with pytest.raises(UnknownCall, match="--enable-iam-auth is not a parameter of Modify"):
        aws_calls(ok + "--enable-iam-auth")
    # A waiter takes the options of the operation it polls.
    assert aws_calls("aws rds wait db-instance-available --db-instance-identifier x")
    with pytest.raises(UnknownCall, match="--instance-id is not a parameter of Describe"):
        aws_calls("aws rds wait db-instance-available --instance-id x")
    # The CLI's own additions to one operation (its reference lists them).
    assert aws_calls("aws cloudwatch put-metric-data --namespace n --metric-name m --value 1")


def test_a_query_the_cli_cannot_compile_is_named() -> None:
    """The review's finding: single quotes inside a single-quoted --query end the shell word,
    so the CLI gets `ends_with(ResourceArn, table/x)`, which JMESPath refuses."""
    broken = (
        "aws backup list-recovery-points-by-backup-vault --region us-west-2 "
        "--backup-vault-name v --query 'RecoveryPoints[?ends_with(ResourceArn, 'table/x')]'"
    )
    with pytest.raises(UnknownCall, match="is not a JMESPath expression"):
        aws_calls(broken)
    fixed = broken.replace("'table/x'", '`"table/x"`')
    assert aws_calls(fixed)


def test_every_call_of_a_command_in_the_order_the_shell_starts_them() -> None:
    command = (
        "SNAPSHOT=$(aws backup list-recovery-points-by-backup-vault --region us-west-2 "
        "--query 'reverse(sort_by(RecoveryPoints,&CreationDate))[0].RecoveryPointArn' "
        "--output json | jq -r .) && PLAN=$(aws arc-region-switch list-plans --region us-west-2 "
        "--query "
        "\"plans[?name=='x'].arn\" --output text) && aws rds restore-db-instance-from-db-"
        'snapshot --region us-west-2 --db-snapshot-identifier "$(aws rds describe-db-snapshots '
        '--region eu-west-1 --query "x")" | cat; npx cdk deploy --all; aws sts get-caller-identity'
    )
    assert aws_calls(command) == [
        Call("backup", "ListRecoveryPointsByBackupVault", "us-west-2"),
        Call("arc-region-switch", "ListPlans", "us-west-2"),
        Call("rds", "DescribeDBSnapshots", "eu-west-1"),
        Call("rds", "RestoreDBInstanceFromDBSnapshot", "us-west-2"),
        Call("sts", "GetCallerIdentity", None),
    ]
    assert [c.served_from() for c in aws_calls(command)] == [
        "us-west-2",
        "us-east-1",
        "eu-west-1",
        "us-west-2",
        None,
    ]


def test_comments_and_continued_lines_read_as_the_shell_reads_them() -> None:
    command = (
        "# the failover's first call (a comment, its quote included)\n"
        "aws arc-region-switch start-plan-execution --region us-west-2 \\\n"
        "  --plan-arn x --target-region us-west-2 --action activate  # to R\n"
        "aws rds describe-db-instances \\\n  --region eu-west-1"
    )
    assert aws_calls(command) == [
        Call("arc-region-switch", "StartPlanExecution", "us-west-2"),
        Call("rds", "DescribeDBInstances", "eu-west-1"),
    ]


def test_the_readmes_failover_commands_are_served_in_the_recovery_region() -> None:
    """Finding: `list-plans` (the control plane, in us-east-1) left $PLAN empty with P lost.
    Every call the README gives for failover, until P is back, is served in us-west-2."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("PLAN=$(") : readme.index("# pilot-light, once P is back")]
    calls = aws_calls(block)
    assert {c.served_from() for c in calls} == {"us-west-2"}
    assert {c.operation for c in calls} >= {"ListPlansInRegion", "StartPlanExecution"}


def _with_command(monkeypatch: pytest.MonkeyPatch, name: str, command: str) -> None:
    original = s.failover_steps

    def changed(*args: Any) -> list[s.Step]:
        return [replace(x, command=command) if x.name == name else x for x in original(*args)]

    monkeypatch.setattr(s, "failover_steps", changed)


def test_i2_a_step_that_asks_the_control_plane_in_the_lost_region(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding the plan with list-plans names us-west-2, but botocore's rules send it to the
    control plane in us-east-1, which went with P."""
    _with_command(
        monkeypatch,
        "promote-secret",
        "aws arc-region-switch list-plans --region us-west-2 --query 'plans[0].arn'",
    )
    ((loss, _),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="warm-standby"
    )
    (i2,) = [v for v in loss.violations if v.invariant == "I2"]
    assert i2.step == "promote-secret" and "needs us-east-1" in i2.detail


def test_i8_a_step_that_calls_an_operation_aws_does_not_define(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_command(
        monkeypatch,
        "promote-secret",
        "aws secretsmanager stop-replication --region us-west-2 --secret-id x",
    )
    ((loss, _),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="warm-standby"
    )
    (i8,) = [v for v in loss.violations if v.invariant == "I8"]
    assert i8.step == "promote-secret"
    assert "aws secretsmanager stop-replication: no such operation" in i8.detail
    assert loss.verdicts()["I8"] == "fail"


@pytest.mark.parametrize(
    ("query", "output", "refused"),
    [
        ("'Listeners[0].ListenerArn'", "text", True),  # the first of each page
        ("'reverse(sort_by(RecoveryPoints,&CreationDate))[0].RecoveryPointArn'", "text", True),
        ("'max_by(RecoveryPoints,&CreationDate).RecoveryPointArn'", "text", True),
        ("'Listeners[-1].ListenerArn'", "text", True),
        ("'Listeners[0].ListenerArn'", "json", False),  # one structure, then the query
        ("'Listeners[].ListenerArn'", "text", False),  # only filters: the same on each page
        ("\"Listeners[?Port=='80'].ListenerArn\"", "text", False),
    ],
)
def test_a_query_across_pages_with_text_output_is_refused(
    query: str, output: str, refused: bool
) -> None:
    """The AWS CLI pages through list-listeners (botocore has its paginator): "If you specify
    --output text, the output is paginated before the --query filter is applied, and the AWS
    CLI runs the query once on each page of the output" (cli-usage-filter.html)."""
    command = (
        "aws globalaccelerator list-listeners --region us-west-2 --accelerator-arn a "
        f"--query {query} --output {output}"
    )
    if not refused:
        assert aws_calls(command)
        return
    with pytest.raises(UnknownCall, match="runs on each page apart"):
        aws_calls(command)


def test_an_operation_the_cli_does_not_page_may_pick_with_text_output() -> None:
    """One response, one answer: DescribeSecret has no paginator in botocore."""
    assert not paginated("secretsmanager", "DescribeSecret")
    assert paginated("globalaccelerator", "ListListeners")
    assert aws_calls(
        "aws secretsmanager describe-secret --region us-west-2 --secret-id s "
        "--query 'ReplicationStatus[0].Status' --output text"
    )
    assert aws_calls(  # one page asked for: one answer
        "aws globalaccelerator list-listeners --region us-west-2 --accelerator-arn a "
        "--no-paginate --query 'Listeners[0].ListenerArn' --output text"
    )
