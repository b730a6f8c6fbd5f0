"""The plan-actions function's code, run against an emulator of the AWS APIs it calls (moto:
DynamoDB, ECS, Application Auto Scaling, SQS, CloudWatch, ELBv2), for each action the plan, the
probe schedule and the alarm's rule send: the tests read the state those APIs keep afterwards.
Global Accelerator and Region switch, which the emulator lacks, answer through botocore's
Stubber, which checks each request and each answer against the service's model."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from moto import mock_aws
from moto.sqs.models import SQSBackend

from drtiers.core.rules import ACCELERATOR_API_REGION
from drtiers.core.tiers import (
    DECLARED_NAMESPACE,
    PRIMARY_HEALTHY_TARGETS,
    RECOVERY_WRITABLE,
    WRITER_ITEM_KEY,
    declared_dimensions,
)
from drtiers.lambdas import plan_actions, plan_lookup

P, R = "us-east-1", "us-west-2"  # the primary region and the recovery region
APP = "drtiers"  # the app_name the declared and probe metrics carry
WRITER = json.loads(WRITER_ITEM_KEY)  # the key the runbook and the dashboard read
QUEUES = "drtiers-pilot-light-recovery"  # the stack whose queues a failback drains
# One reader of botocore's service models for every test's session: each model is parsed once
# (parsing them again for each test took half of this file's time).
_MODELS = botocore.loaders.create_loader()


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The emulator, with fake credentials and the function's own region (R) as the default;
    no request leaves the process."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", R)
    # ~0.3 s per test; the one AMI ID a test launches needs no catalogue (moto does not check)
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setattr(SQSBackend, "receive_message", _receive_without_waiting)
    with mock_aws():
        session = botocore.session.get_session()
        session.register_component("data_loader", _MODELS)
        boto3.setup_default_session(botocore_session=session)
        yield


_RECEIVE = SQSBackend.receive_message


def _receive_without_waiting(
    backend: SQSBackend, queue: str, count: int, wait: int, *rest: Any
) -> Any:
    """The emulator's receive, answering at once: with one thread no message can arrive while it
    long-polls an empty queue, so it would only wait out the wait time (1 s at the end of each
    forward run) for the same empty answer. Every receive must still long-poll: "Long polling
    helps reduce the cost of using Amazon SQS by eliminating the number of empty responses ...
    and false empty responses (when messages are available but aren't included in a
    response)" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/
    best-practices-setting-up-long-polling.html, read 2026-12-06): a forward that short-polls
    can stop with messages left behind (the tests' own reads long-poll too; so would a queue
    feeding a function in the emulator, which polls it with the queue's wait, 0 by default)."""
    assert wait >= 1, f"a receive from {queue} short-polls: it can miss messages"
    return _RECEIVE(backend, queue, count, 0, *rest)


def on_session(event: str, handler: Callable[..., Any]) -> None:
    """Register ``handler`` on the session the function's clients come from."""
    boto3.DEFAULT_SESSION.events.register(event, handler)


def stubbed(monkeypatch: pytest.MonkeyPatch, service: str, region: str) -> Stubber:
    """A real client of ``service`` in ``region`` behind a Stubber: the function gets it (and
    must ask for it in ``region``); other services stay the emulator's."""
    client = boto3.client(service, region_name=region)
    stubber = Stubber(client)
    real = boto3.client

    def make(name: str, *args: Any, **kwargs: Any) -> Any:
        if name != service:
            return real(name, *args, **kwargs)
        assert kwargs.get("region_name") == region, f"{service} asked for in the wrong region"
        return client

    monkeypatch.setattr(boto3, "client", make)
    return stubber


def make_table(region: str, name: str) -> Any:
    """A control table with the project's key schema."""
    dynamodb = boto3.client("dynamodb", region_name=region)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def make_service(
    region: str, cluster: str, name: str, *, count: int, target_group: str | None = None
) -> Any:
    """An ECS service of ``count`` tasks, behind ``target_group`` if given."""
    ecs = boto3.client("ecs", region_name=region)
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=name,
        containerDefinitions=[{"name": "app", "image": "app:1", "memory": 512}],
    )
    balancers = (
        [{"targetGroupArn": target_group, "containerName": "app", "containerPort": 80}]
        if target_group
        else []
    )
    ecs.create_service(
        cluster=cluster,
        serviceName=name,
        taskDefinition=name,
        desiredCount=count,
        loadBalancers=balancers,
    )
    return ecs


def desired_count(region: str, cluster: str, name: str) -> int:
    ecs = boto3.client("ecs", region_name=region)
    count: int = ecs.describe_services(cluster=cluster, services=[name])["services"][0][
        "desiredCount"
    ]
    return count


def register_target(region: str, cluster: str, name: str, *, low: int, high: int) -> Any:
    scaling = boto3.client("application-autoscaling", region_name=region)
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=f"service/{cluster}/{name}",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=low,
        MaxCapacity=high,
    )
    return scaling


def capacity(region: str, cluster: str, name: str) -> tuple[int, int]:
    scaling = boto3.client("application-autoscaling", region_name=region)
    (target,) = scaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{cluster}/{name}"]
    )["ScalableTargets"]
    return target["MinCapacity"], target["MaxCapacity"]


def statistics(region: str, namespace: str, name: str, tier: str) -> dict[str, float]:
    """SampleCount, Sum, Minimum and Maximum of the metric's points of the last hour, as the
    tier's alarm reads it (the app's and the tier's dimensions)."""
    now = datetime.now(UTC)
    points = boto3.client("cloudwatch", region_name=region).get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in declared_dimensions(APP, tier).items()],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=3900,
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
    )["Datapoints"]
    if not points:
        return {}
    (point,) = points
    return {k: point[k] for k in ("SampleCount", "Sum", "Minimum", "Maximum")}


def declare_event(table: str, *, region: str = R, value: int = 1) -> dict[str, Any]:
    """What the plan's declare step sends (drtiers.recovery.plan), with what Region switch
    merges beside it."""
    return {
        "action": "declare",
        "region": region,
        "table": table,
        "metric": {
            "region": R,
            "namespace": DECLARED_NAMESPACE,
            "name": RECOVERY_WRITABLE,
            "dimensions": declared_dimensions(APP, "warm-standby"),
            "value": value,
        },
        "InvokedBy": "arc-region-switch",
        "PlanArn": "arn:aws:arc-region-switch::123456789012:plan/drtiers-warm-standby:abc",
        "ExecutionId": "e-1",
        "StepName": "declare-writer",
    }


def test_declare_writes_the_writer_region_item_and_the_declared_metric() -> None:
    table = "drtiers-warm-standby-table"
    dynamodb = make_table(R, table)
    before = int(time.time())
    assert plan_actions.handler(declare_event(table), None) == {"done": "declare"}
    item = dynamodb.get_item(TableName=table, Key=WRITER, ConsistentRead=True)["Item"]
    at = int(item.pop("at")["N"])  # when, so that the newest declaration of any region wins
    assert before <= at <= int(time.time())
    assert item == {**WRITER, "region": {"S": R}}
    (metric,) = boto3.client("cloudwatch", region_name=R).list_metrics(
        Namespace=DECLARED_NAMESPACE
    )["Metrics"]
    assert metric["MetricName"] == RECOVERY_WRITABLE
    assert metric["Dimensions"] == [
        {"Name": "App", "Value": APP},
        {"Name": "Tier", "Value": "warm-standby"},
    ]
    assert statistics(R, DECLARED_NAMESPACE, RECOVERY_WRITABLE, "warm-standby") == {
        "SampleCount": 1.0,
        "Sum": 1.0,
        "Minimum": 1.0,
        "Maximum": 1.0,
    }


def test_scale_sets_the_minimum_before_the_count() -> None:
    make_service(P, "c", "s", count=1)
    register_target(P, "c", "s", low=1, high=4)
    when_counted: list[tuple[int, int]] = []  # the emulator's capacities as the count is set
    on_session(
        "before-call.ecs.UpdateService", lambda **_: when_counted.append(capacity(P, "c", "s"))
    )
    event = {"action": "scale", "region": P, "cluster": "c", "service": "s", "count": 2}
    assert plan_actions.handler(event, None) == {"done": "scale"}
    assert capacity(P, "c", "s") == (2, 4)
    assert desired_count(P, "c", "s") == 2
    assert when_counted == [(2, 4)]  # the minimum first: target tracking keeps the count
    plan_actions.handler({**event, "count": 6}, None)  # above the maximum: the maximum follows
    assert capacity(P, "c", "s") == (6, 6)
    assert desired_count(P, "c", "s") == 6


def test_scale_sets_only_the_count_of_a_service_without_a_scalable_target() -> None:
    make_service(R, "c", "s", count=0)
    plan_actions.handler(
        {"action": "scale", "region": R, "cluster": "c", "service": "s", "count": 3}, None
    )
    assert desired_count(R, "c", "s") == 3
    scaling = boto3.client("application-autoscaling", region_name=R)
    assert scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []


GA = "arn:aws:globalaccelerator::123456789012:accelerator/"


def test_dial_changes_only_the_named_regions_group_through_us_west_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ga = stubbed(monkeypatch, "globalaccelerator", ACCELERATOR_API_REGION)
    ga.add_response(
        "list_accelerators",
        {
            "Accelerators": [
                {"Name": "other", "AcceleratorArn": f"{GA}a0"},
                {"Name": "e", "AcceleratorArn": f"{GA}a1"},
            ]
        },
        {},
    )
    listener = f"{GA}a1/listener/l1"
    ga.add_response(
        "list_listeners", {"Listeners": [{"ListenerArn": listener}]}, {"AcceleratorArn": f"{GA}a1"}
    )
    ga.add_response(
        "list_endpoint_groups",
        {
            "EndpointGroups": [
                {"EndpointGroupRegion": P, "EndpointGroupArn": f"{listener}/endpoint-group/p"},
                {"EndpointGroupRegion": R, "EndpointGroupArn": f"{listener}/endpoint-group/r"},
            ]
        },
        {"ListenerArn": listener},
    )
    ga.add_response(
        "update_endpoint_group",
        {},
        {"EndpointGroupArn": f"{listener}/endpoint-group/p", "TrafficDialPercentage": 0.0},
    )
    event = {
        "action": "dial",
        "accelerator": "e",
        "region": P,
        "percent": 0,
        "api_region": ACCELERATOR_API_REGION,
    }
    with ga:
        assert plan_actions.handler(event, None) == {"done": "dial"}
    ga.assert_no_pending_responses()


class Clock:
    """A function's clock: each sleep moves it on, nothing waits."""

    def __init__(self) -> None:
        self.now, self.slept = 1003.5, 0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += 1


def primary_behind_targets() -> str:
    """P's service behind a target group of three instances, one of them stopped."""
    ec2 = boto3.client("ec2", region_name=P)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    elb = boto3.client("elbv2", region_name=P)
    group: str = elb.create_target_group(
        Name="app", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    instances = [
        i["InstanceId"]
        for i in ec2.run_instances(ImageId="ami-12c6146b", MinCount=3, MaxCount=3)["Instances"]
    ]
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": i} for i in instances])
    ec2.stop_instances(InstanceIds=instances[:1])
    make_service(P, "c", "s", count=3, target_group=group)
    states = [
        t["TargetHealth"]["State"]
        for t in elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    ]
    assert sorted(states) == ["healthy", "healthy", "unused"]
    return group


PROBE = {
    "action": "probe",
    "region": P,
    "cluster": "c",
    "service": "s",
    "namespace": DECLARED_NAMESPACE,
    "metric": PRIMARY_HEALTHY_TARGETS,
    "dimensions": declared_dimensions(APP, "multi-site"),
    "every": 10,
}


def test_the_probe_puts_one_point_per_period_on_its_boundary_and_0_when_p_does_not_answer() -> None:
    primary_behind_targets()
    resolutions: list[int] = []  # the emulator keeps no storage resolution: read the request
    on_session(
        "provide-client-params.cloudwatch.PutMetricData",
        lambda params, **_: resolutions.extend(
            d["StorageResolution"] for d in params["MetricData"]
        ),
    )
    event = PROBE  # what the probe schedule sends (drtiers.constructs.region_switch)
    clock = Clock()
    plan_actions.probe(event, clock)
    assert clock.now == 1060  # six probes, each on a 10 s boundary
    assert statistics(R, DECLARED_NAMESPACE, PRIMARY_HEALTHY_TARGETS, "multi-site") == {
        "SampleCount": 6.0,
        "Sum": 12.0,
        "Minimum": 2.0,
        "Maximum": 2.0,
    }
    assert resolutions == [1] * 6

    def unreachable(request: Any, **_: Any) -> None:
        if f".{P}." in request.url:
            raise EndpointConnectionError(endpoint_url=request.url)

    on_session("before-send.ecs", unreachable)
    plan_actions.probe(event, Clock())
    assert statistics(R, DECLARED_NAMESPACE, PRIMARY_HEALTHY_TARGETS, "multi-site") == {
        "SampleCount": 12.0,
        "Sum": 12.0,  # six more points, each 0
        "Minimum": 0.0,
        "Maximum": 2.0,
    }


PLAN = "arn:aws:arc-region-switch::123456789012:plan/drtiers-multi-site:abc"


def plan_summary(name: str, arn: str) -> dict[str, Any]:
    return {
        "arn": arn,
        "owner": "123456789012",
        "name": name,
        "regions": [P, R],
        "recoveryApproach": "activePassive",
    }


@pytest.mark.parametrize(("writer", "started"), [(None, True), (P, True), (R, False)])
def test_the_alarm_starts_the_failover_gracefully_unless_already_failed_over(
    monkeypatch: pytest.MonkeyPatch, writer: str | None, started: bool
) -> None:
    table = "drtiers-multi-site-table"
    dynamodb = make_table(R, table)
    if writer:
        dynamodb.put_item(TableName=table, Item={**WRITER, "region": {"S": writer}})
    switch = stubbed(monkeypatch, "arc-region-switch", R)
    if started:
        switch.add_response(
            "list_plans_in_region",
            {
                "plans": [
                    plan_summary("other", "arn:aws:arc-region-switch::123456789012:plan/other:x"),
                    plan_summary("drtiers-multi-site", PLAN),
                ]
            },
            {},
        )
        switch.add_response(
            "start_plan_execution",
            {"executionId": "e-1"},
            {
                "planArn": PLAN,
                "targetRegion": R,
                "action": "activate",
                "mode": "graceful",  # an ungraceful execution would skip the function steps
                "comment": "started by the PrimaryDown alarm",
            },
        )
    event = {  # what the alarm's rule sends (drtiers.constructs.region_switch)
        "action": "start-plan",
        "plan": "drtiers-multi-site",
        "primary_region": P,
        "recovery_region": R,
        "table": table,
    }
    with switch:  # with no answer added, any call to Region switch fails the test
        done = plan_actions.handler(event, None)
    switch.assert_no_pending_responses()
    assert done == {"done": "started" if started else f"not started: the writer's region is {R}"}


def test_start_plan_uses_regional_data_plane_operations() -> None:
    """Region switch's control plane lives in one region; the data plane answers in each (its
    endpoint rules route the operations marked UseControlPlaneEndpoint to the former)."""
    model = boto3.client("arc-region-switch", region_name=R).meta.service_model

    def control_plane(operation: str) -> bool:
        parameters = model.operation_model(operation).static_context_parameters
        return any(p.name == "UseControlPlaneEndpoint" and p.value for p in parameters)

    assert control_plane("CreatePlan")  # the mark is there to be read
    assert not control_plane("ListPlansInRegion")
    assert not control_plane("StartPlanExecution")


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown action 'reboot'"):
        plan_actions.handler({"action": "reboot"}, None)


def test_the_deployed_code_is_this_module() -> None:
    """What the construct deploys inline is the file these tests run."""
    from pathlib import Path

    from drtiers.constructs import region_switch

    source = Path(region_switch.__file__).resolve().parents[1] / "lambdas" / "plan_actions.py"
    assert source.read_text() == region_switch._CODE
    assert "def handler(" in region_switch._CODE


def make_queue(sqs: Any, name: str, *, dead_letters: str | None = None) -> str:
    """A queue, sending to ``dead_letters`` (a queue URL) after five receives if given."""
    attributes = {}
    if dead_letters:
        arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])
        target = arn["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": target, "maxReceiveCount": 5}
        )
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def work_queue(region: str = R) -> tuple[Any, str, str]:
    """A stack's work queue and its dead-letter queue, as CloudFormation names them."""
    sqs = boto3.client("sqs", region_name=region)
    dlq = make_queue(sqs, f"{QUEUES}-OrdersDeadLetters1A2B3C-XYZ")
    return sqs, make_queue(sqs, f"{QUEUES}-OrdersQueue4D5E6F-ABC", dead_letters=dlq), dlq


def empty(sqs: Any, url: str) -> None:
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
    ).get("Messages"):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_drain_fails_while_the_stacks_queues_hold_messages() -> None:
    """The plan runs a failing step again every minute: draining is failing until empty."""
    sqs, queue, _ = work_queue()
    for n in range(4):
        sqs.send_message(QueueUrl=queue, MessageBody=f"order {n}")
    sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=300, WaitTimeSeconds=1
    )
    event = {"action": "drain", "region": R, "prefix": QUEUES}
    with pytest.raises(RuntimeError, match=f"4 messages left in 1 queues of {QUEUES}"):
        plan_actions.handler(event, None)  # three visible, one in flight
    empty(sqs, queue)  # only the visible ones: the one in flight stays
    with pytest.raises(RuntimeError, match="1 messages left"):
        plan_actions.handler(event, None)
    sqs.purge_queue(QueueUrl=queue)
    assert plan_actions.handler(event, None) == {"done": "drain"}


def test_drain_does_not_wait_on_dead_letters() -> None:
    """A dead-letter queue holds what the consumers failed on: they will never take it, and it
    is kept for people to look at; waiting on it would hold failback for the step's timeout."""
    sqs, _, dead_letters = work_queue()
    sqs.send_message(QueueUrl=dead_letters, MessageBody="an order no consumer could take")
    event = {"action": "drain", "region": R, "prefix": QUEUES}
    assert plan_actions.handler(event, None) == {"done": "drain"}
    attributes = sqs.get_queue_attributes(
        QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"  # left where it was


def test_drain_waits_on_the_stacks_queues_only() -> None:
    sqs, _, _ = work_queue()
    other = make_queue(sqs, "drtiers-pilot-light-primary-OrdersQueue4D5E6F-DEF")
    sqs.send_message(QueueUrl=other, MessageBody="another stack's")
    assert plan_actions.handler({"action": "drain", "region": R, "prefix": QUEUES}, None) == {
        "done": "drain"
    }


# --- forward: what R's work queues hold, to P's --------------------------------------------------

WORK, DEAD = "WorkQueue1CAC4D2F", "WorkDeadLetters7D6F983C"  # logical ids, the same in P and R


def queue_stack(region: str, stack: str, *, fifo: bool = False) -> tuple[Any, str, str]:
    """A stack's work queue and its dead-letter queue, named as CloudFormation names them;
    returns the client and the two URLs."""
    sqs = boto3.client("sqs", region_name=region)
    end = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true"} if fifo else {}
    dead: str = sqs.create_queue(
        QueueName=f"{stack}-{DEAD}-1A2B3C{end}", Attributes=fifo_attributes
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": 5}
    work: str = sqs.create_queue(
        QueueName=f"{stack}-{WORK}-4D5E6F{end}",
        Attributes={**fifo_attributes, "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return sqs, work, dead


def stacks_name(monkeypatch: pytest.MonkeyPatch, work: dict[str, tuple[str, str]]) -> list[Stubber]:
    """CloudFormation in each region (``region -> (stack, work queue URL)``) behind a Stubber
    that answers DescribeStackResource for the work queue once, checked against CloudFormation's
    model (moto's CloudFormation needs dependencies this project does not install)."""
    clients, stubbers = {}, []
    for region, (stack, url) in work.items():
        client = boto3.client("cloudformation", region_name=region)
        stubber = Stubber(client)
        detail = {
            "StackName": stack,
            "LogicalResourceId": WORK,
            "PhysicalResourceId": url,
            "ResourceType": "AWS::SQS::Queue",
            "LastUpdatedTimestamp": datetime(2026, 12, 4, tzinfo=UTC),
            "ResourceStatus": "CREATE_COMPLETE",
        }
        stubber.add_response(
            "describe_stack_resource",
            {"StackResourceDetail": detail},
            {"StackName": stack, "LogicalResourceId": WORK},
        )
        stubber.activate()
        clients[region], stubbers = client, [*stubbers, stubber]
    real = boto3.client

    def make(name: str, *args: Any, **kwargs: Any) -> Any:
        if name != "cloudformation":
            return real(name, *args, **kwargs)
        return clients[kwargs["region_name"]]

    monkeypatch.setattr(boto3, "client", make)
    return stubbers


PRIMARY_STACK, RECOVERY_STACK = "drtiers-pilot-light-primary", "drtiers-pilot-light-recovery"
FORWARD = {
    "action": "forward",
    "region": R,
    "stack": RECOVERY_STACK,
    "to_region": P,
    "to_stack": PRIMARY_STACK,
    "queues": [WORK],
}


def received(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message a queue holds, with its attributes (received, not deleted)."""
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=300,
        WaitTimeSeconds=1,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"],
    ).get("Messages"):
        found += messages
    return found


def test_forward_moves_rs_work_messages_to_ps_queue_with_their_attributes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More than a receive's 10, each with its message attributes; the dead letter stays."""
    r_sqs, r_work, r_dead = queue_stack(R, RECOVERY_STACK)
    p_sqs, p_work, p_dead = queue_stack(P, PRIMARY_STACK)
    stubbers = stacks_name(monkeypatch, {R: (RECOVERY_STACK, r_work), P: (PRIMARY_STACK, p_work)})
    kind = {"kind": {"DataType": "String", "StringValue": "order"}}
    for n in range(25):
        r_sqs.send_message(QueueUrl=r_work, MessageBody=f"order {n}", MessageAttributes=kind)
    r_sqs.send_message(QueueUrl=r_dead, MessageBody="failed order")
    assert plan_actions.handler(FORWARD, None) == {"done": "forward"}
    moved = received(p_sqs, p_work)
    assert sorted(m["Body"] for m in moved) == sorted(f"order {n}" for n in range(25))
    assert all(m["MessageAttributes"]["kind"]["StringValue"] == "order" for m in moved)
    assert received(r_sqs, r_work) == []
    assert [m["Body"] for m in received(r_sqs, r_dead)] == ["failed order"]
    assert received(p_sqs, p_dead) == []
    for stubber in stubbers:
        stubber.assert_no_pending_responses()


def test_forward_keeps_a_fifo_messages_group_and_deduplication_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r_sqs, r_work, _ = queue_stack(R, RECOVERY_STACK, fifo=True)
    p_sqs, p_work, _ = queue_stack(P, PRIMARY_STACK, fifo=True)
    stacks_name(monkeypatch, {R: (RECOVERY_STACK, r_work), P: (PRIMARY_STACK, p_work)})
    for n in range(3):
        r_sqs.send_message(
            QueueUrl=r_work,
            MessageBody=f"order {n}",
            MessageGroupId="customer-7",
            MessageDeduplicationId=f"order-{n}",
        )
    plan_actions.handler(FORWARD, None)
    moved = received(p_sqs, p_work)
    assert [m["Body"] for m in moved] == ["order 0", "order 1", "order 2"]  # the group's order
    assert {m["Attributes"]["MessageGroupId"] for m in moved} == {"customer-7"}
    assert [m["Attributes"]["MessageDeduplicationId"] for m in moved] == [
        "order-0",
        "order-1",
        "order-2",
    ]


def test_forward_fails_to_be_run_again_while_a_message_is_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A message a stopped consumer received comes back after its visibility timeout: the plan
    runs the step again each minute until it has moved."""
    r_sqs, r_work, _ = queue_stack(R, RECOVERY_STACK)
    p_sqs, p_work, _ = queue_stack(P, PRIMARY_STACK)
    stacks_name(monkeypatch, {R: (RECOVERY_STACK, r_work), P: (PRIMARY_STACK, p_work)})
    for n in range(3):
        r_sqs.send_message(QueueUrl=r_work, MessageBody=f"order {n}")
    r_sqs.receive_message(
        QueueUrl=r_work, MaxNumberOfMessages=1, VisibilityTimeout=300, WaitTimeSeconds=1
    )
    with pytest.raises(RuntimeError, match=f"1 messages in flight in {RECOVERY_STACK}"):
        plan_actions.handler(FORWARD, None)
    assert len(received(p_sqs, p_work)) == 2


SCALE = {"action": "scale", "region": P, "cluster": "c", "service": "s", "count": 2}
DIAL = {"action": "dial", "accelerator": "e", "region": P, "percent": 0, "api_region": R}
TABLE = "drtiers-warm-standby-table"
WHAT_IS_WRONG = [
    ({"region": R, "table": TABLE}, '"action" is missing; allowed: declare, scale, dial, drain'),
    ({"action": "reboot"}, "unknown action 'reboot'; allowed: declare, scale, dial, drain"),
    ({"action": "declare", "table": TABLE}, 'declare: "region" is missing; allowed: a region'),
    ({"action": "declare", "region": R}, 'declare: "table" is missing; allowed: a name'),
    (
        {**declare_event(TABLE), "metric": {**declare_event(TABLE)["metric"], "value": "one"}},
        "declare: \"metric.value\" is 'one'; allowed: a number",
    ),
    (
        {**declare_event(TABLE), "metric": {"region": R, "namespace": DECLARED_NAMESPACE}},
        'declare: "metric.name" is missing; allowed: a name',
    ),
    ({**declare_event(TABLE), "region": ""}, "declare: \"region\" is ''; allowed: a region"),
    ({k: v for k, v in SCALE.items() if k != "region"}, 'scale: "region" is missing'),
    ({k: v for k, v in SCALE.items() if k != "count"}, 'scale: "count" is missing'),
    ({**SCALE, "count": "2"}, "scale: \"count\" is '2'; allowed: an integer, 0 or more"),
    ({**SCALE, "count": 2.5}, 'scale: "count" is 2.5; allowed: an integer, 0 or more'),
    ({**SCALE, "count": True}, 'scale: "count" is True; allowed: an integer, 0 or more'),
    ({**SCALE, "count": -1}, 'scale: "count" is -1; allowed: an integer, 0 or more'),
    ({**DIAL, "percent": 150}, 'dial: "percent" is 150; allowed: a number from 0 to 100'),
    ({**DIAL, "percent": -1}, 'dial: "percent" is -1; allowed: a number from 0 to 100'),
    ({**DIAL, "percent": None}, 'dial: "percent" is None; allowed: a number from 0 to 100'),
    ({"action": "drain", "region": R}, 'drain: "prefix" is missing; allowed: a name'),
    (
        {k: v for k, v in FORWARD.items() if k != "to_stack"},
        'forward: "to_stack" is missing; allowed: a name',
    ),
    ({**FORWARD, "queues": []}, 'forward: "queues" is []; allowed: a list of names'),
    (
        {"action": "start-plan", "plan": "p", "primary_region": P, "recovery_region": R},
        'start-plan: "table" is missing; allowed: a name',
    ),
]


@pytest.mark.parametrize(
    ("event", "message"), WHAT_IS_WRONG, ids=[m.split(";")[0] for _, m in WHAT_IS_WRONG]
)
def test_a_malformed_payload_fails_before_any_write_with_one_line(
    monkeypatch: pytest.MonkeyPatch, event: dict[str, Any], message: str
) -> None:
    """Everything the payload could act on exists (Global Accelerator and Region switch with
    no answer, so that any call to them fails the test); nothing of it changes."""
    dynamodb = make_table(R, TABLE)
    make_table(P, TABLE)
    make_service(P, "c", "s", count=1)
    register_target(P, "c", "s", low=1, high=4)
    sqs, queue, _ = work_queue()
    sqs.send_message(QueueUrl=queue, MessageBody="order")
    ga = stubbed(monkeypatch, "globalaccelerator", R)
    with ga, pytest.raises(ValueError) as refused:
        plan_actions.handler(event, None)
    error = str(refused.value)
    assert error.startswith("plan-actions payload: ") and "\n" not in error
    assert message in error
    assert dynamodb.scan(TableName=TABLE)["Items"] == []
    assert desired_count(P, "c", "s") == 1
    assert capacity(P, "c", "s") == (1, 4)
    assert boto3.client("cloudwatch", region_name=R).list_metrics()["Metrics"] == []


def test_a_payload_that_declares_is_checked_whole_before_the_item_is_written() -> None:
    """Without the check, the item was written and only the metric's missing value failed."""
    dynamodb = make_table(R, TABLE)
    event = declare_event(TABLE)
    del event["metric"]["value"]
    with pytest.raises(ValueError, match=r'"metric\.value" is missing'):
        plan_actions.handler(event, None)
    assert dynamodb.scan(TableName=TABLE)["Items"] == []


def test_dial_reads_every_page_and_fails_when_no_group_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Global Accelerator lists 10 objects a call by default: the tier's accelerator may be on a
    later page. A dial that finds nothing to turn must fail (the plan retries, then stops for a
    person), not report done with the traffic where it was."""
    ga = stubbed(monkeypatch, "globalaccelerator", ACCELERATOR_API_REGION)
    others = [{"Name": f"other{n}", "AcceleratorArn": f"{GA}o{n}"} for n in range(10)]
    ga.add_response("list_accelerators", {"Accelerators": others, "NextToken": "2"}, {})
    ga.add_response(
        "list_accelerators",
        {"Accelerators": [{"Name": "e", "AcceleratorArn": f"{GA}a1"}]},
        {"NextToken": "2"},
    )
    listener = f"{GA}a1/listener/l1"
    ga.add_response(
        "list_listeners", {"Listeners": [{"ListenerArn": listener}]}, {"AcceleratorArn": f"{GA}a1"}
    )
    group = {"EndpointGroupRegion": P, "EndpointGroupArn": f"{listener}/endpoint-group/p"}
    ga.add_response("list_endpoint_groups", {"EndpointGroups": [group]}, {"ListenerArn": listener})
    ga.add_response(
        "update_endpoint_group",
        {},
        {"EndpointGroupArn": group["EndpointGroupArn"], "TrafficDialPercentage": 100.0},
    )
    event = {**DIAL, "percent": 100, "api_region": ACCELERATOR_API_REGION}
    with ga:
        assert plan_actions.handler(event, None) == {"done": "dial"}
    ga.assert_no_pending_responses()
    ga.add_response("list_accelerators", {"Accelerators": others}, {})
    with ga, pytest.raises(RuntimeError, match=f"no endpoint group in {R} of accelerator 'e'"):
        plan_actions.handler({**event, "region": R}, None)
    ga.assert_no_pending_responses()


def test_the_alarm_finds_the_plan_on_a_later_page_and_names_a_missing_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_table(R, "drtiers-multi-site-table")
    switch = stubbed(monkeypatch, "arc-region-switch", R)
    switch.add_response(
        "list_plans_in_region",
        {"plans": [plan_summary("other", f"{PLAN}-other")], "nextToken": "2"},
        {},
    )
    switch.add_response(
        "list_plans_in_region",
        {"plans": [plan_summary("drtiers-multi-site", PLAN)]},
        {"nextToken": "2"},
    )
    switch.add_response(
        "start_plan_execution",
        {"executionId": "e-1"},
        {
            "planArn": PLAN,
            "targetRegion": R,
            "action": "activate",
            "mode": "graceful",
            "comment": "started by the PrimaryDown alarm",
        },
    )
    event = {
        "action": "start-plan",
        "plan": "drtiers-multi-site",
        "primary_region": P,
        "recovery_region": R,
        "table": "drtiers-multi-site-table",
    }
    with switch:
        assert plan_actions.handler(event, None) == {"done": "started"}
    switch.assert_no_pending_responses()
    switch.add_response("list_plans_in_region", {"plans": []}, {})
    with switch, pytest.raises(RuntimeError, match=f"no Region switch plan 'nope' in {R}"):
        plan_actions.handler({**event, "plan": "nope"}, None)
    switch.assert_no_pending_responses()


def make_instance(region: str, identifier: str, tags: list[dict[str, str]] | None = None) -> Any:
    """A PostgreSQL instance as the replica block leaves it: no IAM logins, no protection."""
    rds = boto3.client("rds", region_name=region)
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t4g.medium",
        Engine="postgres",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        Tags=tags or [],
    )
    return rds


ROLE_ARN = "arn:aws:iam::123456789012:role/drtiers-pilot-light-db-monitoring-us-east-1"
SETTINGS = {
    "EnableIAMDatabaseAuthentication": True,
    "DeletionProtection": True,
    "MultiAZ": True,
    "DBInstanceClass": "db.m7g.large",
    "BackupRetentionPeriod": 14,
    "CopyTagsToSnapshot": True,
    "AutoMinorVersionUpgrade": True,
    "PubliclyAccessible": False,
    "MonitoringInterval": 60,
    "MonitoringRoleArn": ROLE_ARN,
    "EnableCloudwatchLogsExports": ["postgresql", "upgrade"],
    "Tags": [
        {"Key": "drtiers:app", "Value": "drtiers"},
        {"Key": "drtiers:role", "Value": "primary"},
        {"Key": "drtiers:tier", "Value": "pilot-light"},
    ],
}
ADOPT = {
    "action": "adopt",
    "region": P,
    "instance": "drtiers-pilot-light-db",
    "settings": SETTINGS,
    "stale": {"drtiers:role": "stale"},
}


def test_adopt_sets_what_the_template_sets() -> None:
    """The replica block copies neither IAM logins, protection, Multi-AZ, class, backups,
    monitoring, log exports nor tags (rules.replica_matches_template): the function sets each
    as the template has it."""
    rds = make_instance(P, "drtiers-pilot-light-db")
    plan_actions.handler(ADOPT, None)
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier="drtiers-pilot-light-db")[
        "DBInstances"
    ]
    assert instance["IAMDatabaseAuthenticationEnabled"] is True
    assert instance["DeletionProtection"] is True
    assert instance["MultiAZ"] is True
    assert instance["DBInstanceClass"] == "db.m7g.large"
    assert instance["BackupRetentionPeriod"] == 14
    assert instance["MonitoringInterval"] == 60
    assert instance["MonitoringRoleArn"] == ROLE_ARN
    assert instance["EnabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    tags = rds.list_tags_for_resource(ResourceName=instance["DBInstanceArn"])["TagList"]
    assert {"Key": "drtiers:role", "Value": "primary"} in tags


def test_adopt_tags_the_instance_the_block_renamed_stale_and_nothing_else() -> None:
    """The RDS block renames P's old instance and adds only renamedByRegionSwitch: it still
    carries the template's tags, so drills would select it as the tier's primary."""
    rds = make_instance(P, "drtiers-pilot-light-db")
    template_tags = SETTINGS["Tags"]
    renamed = [*template_tags, {"Key": "renamedByRegionSwitch", "Value": "true"}]
    other_app = [{**t, "Value": "other"} if t["Key"] == "drtiers:app" else t for t in template_tags]
    make_instance(P, "drtiers-pilot-light-db-old", renamed)
    make_instance(P, "other-db", other_app)
    plan_actions.handler(ADOPT, None)
    roles = {}
    for instance in rds.describe_db_instances()["DBInstances"]:
        tags = rds.list_tags_for_resource(ResourceName=instance["DBInstanceArn"])["TagList"]
        roles[instance["DBInstanceIdentifier"]] = {t["Key"]: t["Value"] for t in tags}.get(
            "drtiers:role"
        )
    assert roles == {
        "drtiers-pilot-light-db": "primary",
        "drtiers-pilot-light-db-old": "stale",
        "other-db": "primary",
    }


def test_adopt_asks_only_for_what_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run again (the plan retries a failed step) on an instance already set up, it modifies
    nothing: a modification in progress would refuse another."""
    make_instance(P, "drtiers-pilot-light-db")
    plan_actions.handler(ADOPT, None)
    asked: list[dict[str, Any]] = []
    on_session("before-call.rds.ModifyDBInstance", lambda params, **_: asked.append(params))
    plan_actions.handler(ADOPT, None)
    assert asked == []


def test_adopt_waits_for_an_instance_not_yet_available() -> None:
    rds = make_instance(P, "drtiers-pilot-light-db")
    rds.stop_db_instance(DBInstanceIdentifier="drtiers-pilot-light-db")
    with pytest.raises(RuntimeError, match="drtiers-pilot-light-db is stopped, not available"):
        plan_actions.handler(ADOPT, None)


def test_adopt_refuses_a_payload_without_its_settings() -> None:
    event = {"action": "adopt", "region": P, "instance": "drtiers-pilot-light-db"}
    with pytest.raises(ValueError, match='adopt: "settings" is missing'):
        plan_actions.handler(event, None)
    refused = re.escape('adopt: "stale" is {}; allowed: an object of tag keys')
    with pytest.raises(ValueError, match=refused):
        plan_actions.handler({**ADOPT, "stale": {}}, None)


def test_register_points_the_proxy_at_the_instance_now_under_the_identifier() -> None:
    rds = make_instance(P, "drtiers-pilot-light-db-stale")
    make_instance(P, "drtiers-pilot-light-db")
    subnets = boto3.client("ec2", region_name=P).describe_subnets()["Subnets"]
    rds.create_db_proxy(
        DBProxyName="drtiers-pilot-light-proxy",
        EngineFamily="POSTGRESQL",
        Auth=[
            {
                "AuthScheme": "SECRETS",
                "IAMAuth": "REQUIRED",
                "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
            }
        ],
        RoleArn="arn:aws:iam::123456789012:role/proxy",
        VpcSubnetIds=[s["SubnetId"] for s in subnets[:2]],
    )
    rds.register_db_proxy_targets(
        DBProxyName="drtiers-pilot-light-proxy",
        DBInstanceIdentifiers=["drtiers-pilot-light-db-stale"],
    )
    plan_actions.handler(
        {
            "action": "register",
            "region": P,
            "instance": "drtiers-pilot-light-db",
            "proxy": "drtiers-pilot-light-proxy",
        },
        None,
    )
    targets = rds.describe_db_proxy_targets(DBProxyName="drtiers-pilot-light-proxy")["Targets"]
    assert [t["RdsResourceId"] for t in targets if t["Type"] == "RDS_INSTANCE"] == [
        "drtiers-pilot-light-db"
    ]


def test_the_probe_puts_no_point_when_p_answers_with_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The review's risk: a throttled or impaired API in P is no evidence that P is down; a 0
    for it would start multi-site's data-losing failover. The probe leaves the period empty,
    which the alarm skips (TreatMissingData missing)."""
    primary_behind_targets()
    stubber = stubbed(monkeypatch, "ecs", P)
    for _ in range(6):
        stubber.add_client_error(
            "describe_services", service_error_code="ThrottlingException", http_status_code=400
        )
    event = PROBE
    with stubber:
        plan_actions.probe(event, Clock())
    stubber.assert_no_pending_responses()
    points = boto3.client("cloudwatch", region_name=R).list_metrics(
        Namespace=DECLARED_NAMESPACE, MetricName=PRIMARY_HEALTHY_TARGETS
    )["Metrics"]
    assert points == []


def test_forward_splits_what_one_receive_gets_into_batches_within_sqss_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SendMessageBatch takes at most 1 MiB in all: six messages of 200 kB go in two."""
    r_sqs, r_work, _ = queue_stack(R, RECOVERY_STACK)
    p_sqs, p_work, _ = queue_stack(P, PRIMARY_STACK)
    stacks_name(monkeypatch, {R: (RECOVERY_STACK, r_work), P: (PRIMARY_STACK, p_work)})
    for n in range(6):
        r_sqs.send_message(QueueUrl=r_work, MessageBody=str(n) * 200_000)
    batches: list[int] = []

    def measured(params: dict[str, Any], **_: Any) -> None:
        batches.append(sum(len(e["MessageBody"]) for e in params["Entries"]))

    on_session("provide-client-params.sqs.SendMessageBatch", measured)
    plan_actions.handler(FORWARD, None)
    assert len(batches) >= 2 and max(batches) <= plan_actions.BATCH_BYTES
    assert sorted(m["Body"][0] for m in received(p_sqs, p_work)) == list("012345")


def test_register_goes_on_when_a_held_target_is_already_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A held target the proxy no longer finds (renamed or removed by the replica block) is no
    reason to stop: the plan would retry the step until it times out, with R quiesced."""
    stubber = stubbed(monkeypatch, "rds", P)
    proxy = {"DBProxyName": "drtiers-pilot-light-proxy"}
    stubber.add_response(
        "describe_db_proxy_targets",
        {"Targets": [{"RdsResourceId": "renamed-by-the-block", "Type": "RDS_INSTANCE"}]},
        proxy,
    )
    stubber.add_client_error(
        "deregister_db_proxy_targets",
        service_error_code="DBProxyTargetNotFoundFault",
        http_status_code=404,
        expected_params={**proxy, "DBInstanceIdentifiers": ["renamed-by-the-block"]},
    )
    stubber.add_response(
        "register_db_proxy_targets",
        {"DBProxyTargets": []},
        {**proxy, "DBInstanceIdentifiers": ["drtiers-pilot-light-db"]},
    )
    event = {
        "action": "register",
        "region": P,
        "instance": "drtiers-pilot-light-db",
        "proxy": "drtiers-pilot-light-proxy",
    }
    with stubber:
        assert plan_actions.handler(event, None) == {"done": "register"}
    stubber.assert_no_pending_responses()


# --- the parent plan's lookup of its child plans (drtiers/lambdas/plan_lookup.py) --------------


def lookup_event(children: list[dict[str, str]], request: str = "Create") -> dict[str, Any]:
    return {
        "RequestType": request,
        "ResourceType": plan_lookup.RESOURCE_TYPE,
        "LogicalResourceId": "LookupChildPlans",
        "StackId": "arn:aws:cloudformation:us-west-2:123456789012:stack/parent/1",
        "RequestId": "r-1",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/r-1",
        "ResourceProperties": {"Children": children},
    }


def answered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, str]]]:
    """What the function tells CloudFormation, instead of the PUT to its URL."""
    told: list[tuple[str, str, dict[str, str]]] = []
    monkeypatch.setattr(
        plan_lookup, "respond", lambda _, status, reason, data: told.append((status, reason, data))
    )
    return told


CHILD_ACCOUNT = "333333333333"
CHILD_ROLE = f"arn:aws:iam::{CHILD_ACCOUNT}:role/orders-pilot-light-parent-access"


def test_the_lookup_finds_each_child_here_and_through_its_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A same-account child is listed as the function; another account's through its role,
    assumed with the external id, whose credentials the listing then uses; a later page is
    read. Only ListPlansInRegion, the regional operation, is answered (the Stubber refuses any
    other call)."""
    monkeypatch.setenv("AWS_REGION", R)
    switch = stubbed(monkeypatch, "arc-region-switch", R)
    made: list[dict[str, Any]] = []
    real = boto3.client

    def recording(name: str, *args: Any, **kwargs: Any) -> Any:
        made.append({"name": name, **kwargs})
        return real(name, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", recording)
    asked: list[dict[str, Any]] = []
    on_session("before-parameter-build.sts.AssumeRole", lambda params, **_: asked.append(params))
    here = "arn:aws:arc-region-switch::123456789012:plan/payments-warm-standby:abc123"
    there = f"arn:aws:arc-region-switch::{CHILD_ACCOUNT}:plan/orders-pilot-light:def456"
    switch.add_response(
        "list_plans_in_region", {"plans": [plan_summary("other", f"{here}x")], "nextToken": "2"}
    )
    switch.add_response(
        "list_plans_in_region",
        {"plans": [plan_summary("payments-warm-standby", here)]},
        {"nextToken": "2"},
    )
    switch.add_response(
        "list_plans_in_region",
        {"plans": [{**plan_summary("orders-pilot-light", there), "owner": CHILD_ACCOUNT}]},
    )
    told = answered(monkeypatch)
    children = [
        {"Name": "payments", "Plan": "payments-warm-standby", "Account": "123456789012"},
        {
            "Name": "orders",
            "Plan": "orders-pilot-light",
            "Account": CHILD_ACCOUNT,
            "Role": CHILD_ROLE,
            "ExternalId": "drtiers-checkout-staging",
        },
    ]
    with switch:
        plan_lookup.handler(lookup_event(children), None)
    switch.assert_no_pending_responses()
    assert told == [("SUCCESS", "found 2 child plans", {"payments": here, "orders": there})]
    (assumed,) = [m for m in made if m["name"] == "arc-region-switch" and "aws_session_token" in m]
    assert assumed["region_name"] == R and assumed["aws_access_key_id"]  # moto's STS answered
    assert [(a["RoleArn"], a["ExternalId"]) for a in asked] == [
        (CHILD_ROLE, "drtiers-checkout-staging")
    ]


def test_the_lookup_asks_again_while_the_plan_is_not_listed_or_its_role_denied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The previous wave's plan and role may lag: denied, then not listed, then found."""
    monkeypatch.setenv("AWS_REGION", R)
    clock = Clock()
    monkeypatch.setattr(plan_lookup, "time", clock)
    switch = stubbed(monkeypatch, "arc-region-switch", R)
    switch.add_client_error("list_plans_in_region", "AccessDeniedException", "not yet")
    switch.add_response("list_plans_in_region", {"plans": []})
    switch.add_response("list_plans_in_region", {"plans": [plan_summary("pay-ws", PLAN)]})
    told = answered(monkeypatch)
    child = {"Name": "payments", "Plan": "pay-ws", "Account": "123456789012"}
    with switch:
        plan_lookup.handler(lookup_event([child]), None)
    switch.assert_no_pending_responses()
    assert (told, clock.slept) == ([("SUCCESS", "found 1 child plans", {"payments": PLAN})], 2)


def test_the_lookup_fails_in_one_line_for_a_missing_or_foreign_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan of that name owned by another account is not the child's; after 45 s of asking,
    the resource fails in one line."""
    monkeypatch.setenv("AWS_REGION", R)
    clock = Clock()
    monkeypatch.setattr(plan_lookup, "time", clock)
    switch = stubbed(monkeypatch, "arc-region-switch", R)
    foreign = {**plan_summary("payments-warm-standby", PLAN), "owner": CHILD_ACCOUNT}
    for _ in range(10):  # at 0, 5, ... 45 s: the next would be past 45
        switch.add_response("list_plans_in_region", {"plans": [foreign]})
    told = answered(monkeypatch)
    child = {"Name": "payments", "Plan": "payments-warm-standby", "Account": "123456789012"}
    with switch:
        plan_lookup.handler(lookup_event([child]), None)
    switch.assert_no_pending_responses()
    ((status, reason, data),) = told
    assert (status, data) == ("FAILED", {})
    assert reason == (
        "LookupError: no Region switch plan payments-warm-standby in account 123456789012 "
        f"({R}): deploy that application's plan stack first (its stage's wave)"
    )


def test_the_lookups_delete_calls_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    switch = stubbed(monkeypatch, "arc-region-switch", R)
    told = answered(monkeypatch)
    with switch:  # no answer added: any call fails
        plan_lookup.handler(lookup_event([], request="Delete"), None)
    assert told == [("SUCCESS", "nothing to undo", {})]


def test_the_lookup_and_its_construct_name_one_resource_type() -> None:
    """The function's code cannot import the construct's constant (it is deployed alone); the
    code deployed is this module (tests/test_fleet.py reads it from the parent's template)."""
    from drtiers.constructs import parent_plan

    assert parent_plan.RESOURCE_TYPE == plan_lookup.RESOURCE_TYPE


class Remaining:
    """A Lambda context with ``seconds`` left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def test_the_lookup_stops_asking_in_time_to_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """With 40 s left it asks for 10 s only (keeping 30 s to answer), not its 45: at 0, 5 and
    10 s (the next would be past 10), then fails in one line."""
    monkeypatch.setenv("AWS_REGION", R)
    clock = Clock()
    monkeypatch.setattr(plan_lookup, "time", clock)
    switch = stubbed(monkeypatch, "arc-region-switch", R)
    for _ in range(3):
        switch.add_response("list_plans_in_region", {"plans": []})
    told = answered(monkeypatch)
    child = {"Name": "payments", "Plan": "pay-ws", "Account": "123456789012"}
    with switch:
        plan_lookup.handler(lookup_event([child]), Remaining(40))
    switch.assert_no_pending_responses()
    ((status, reason, _),) = told
    assert status == "FAILED" and reason.startswith("LookupError: no Region switch plan pay-ws")


def test_an_answer_over_cloudformations_limit_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arn = "arn:aws:arc-region-switch::123456789012:plan/{}:abc123"
    monkeypatch.setattr(plan_lookup, "plan_arn", lambda child, *_: arn.format(child["Plan"]))
    told = answered(monkeypatch)
    children = [
        {"Name": f"app{i:02}", "Plan": f"application-{i:02}-warm-standby", "Account": "1" * 12}
        for i in range(50)
    ]
    plan_lookup.handler(lookup_event(children), Remaining(120))
    ((status, reason, data),) = told
    assert (status, data) == ("FAILED", {})
    assert reason.startswith("ValueError: 50 child plans' ARNs take ")
    assert reason.endswith(
        "bytes, over CloudFormation's 4096 for a custom resource's answer: split the group"
    )
