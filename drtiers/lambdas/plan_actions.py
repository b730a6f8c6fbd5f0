"""The plan-actions function (deployed inline by drtiers.constructs.region_switch.PlanActions):
the data-plane writes and API calls of the recovery path that no Region switch block makes.

- ``declare``: the writer-region item (and the declared metric Route 53 follows);
- ``scale``: a service's scaling minimum, then its count;
- ``dial``: an accelerator endpoint group's traffic dial (through us-west-2);
- ``drain``: fail (the plan retries the step every minute) while a region's queues of a stack
  still hold messages, so that its consumers are not scaled away from them;
- ``adopt``: a replica the plan's RDS block made gets IAM database authentication and deletion
  protection, which that block does not copy;
- ``register``: a proxy's target group holds the instance now under the identifier (the one it
  registered was renamed away);
- ``forward``: move what a region's work queues hold to the same queues of another region's
  stack, whose consumers will process it (failing, to be run again, while some are in flight);
- ``probe`` (a schedule in R): P's healthy targets, every few seconds, as a metric in R;
- ``start-plan`` (R's PrimaryDown alarm turning red): start the plan's failover, gracefully.

Region switch merges a step's JSON payload into the event beside InvokedBy, PlanArn,
ExecutionId and StepName; EventBridge passes its rule's input. A malformed payload fails
before any call, with one line naming the field and what it allows (``check``).
"""

import json
import time
from typing import Any

import boto3  # the Lambda runtime's SDK (the tests run this code against an emulator)
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as NoConnection

# A probe of the primary's region answers quickly or counts as no answer.
QUICK = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1})


def healthy_targets(event: dict[str, Any]) -> int | None:
    """Healthy targets behind the primary's service; 0 when its region does not answer; None
    when it answers with an error (throttled, denied, an impaired API): that is no evidence
    that P is down, and a failover that starts on it loses the replication lag for nothing."""
    try:
        ecs = boto3.client("ecs", region_name=event["region"], config=QUICK)
        elb = boto3.client("elbv2", region_name=event["region"], config=QUICK)
        service = ecs.describe_services(cluster=event["cluster"], services=[event["service"]])
        healthy = 0
        for balancer in service["services"][0].get("loadBalancers", []):
            targets = elb.describe_target_health(TargetGroupArn=balancer["targetGroupArn"])
            healthy += sum(
                t["TargetHealth"]["State"] == "healthy" for t in targets["TargetHealthDescriptions"]
            )
        return healthy
    except ClientError:
        return None
    except (NoConnection, HTTPClientError):  # no answer (connection, timeout): nothing serves
        return 0


def declare(event: dict[str, Any]) -> None:
    boto3.client("dynamodb", region_name=event["region"]).put_item(
        TableName=event["table"],
        Item={
            "pk": {"S": "drtiers"},
            "sk": {"S": "writer-region"},
            "region": {"S": event["region"]},
            # Orders the declarations: tasks follow the newest item of every region they read.
            "at": {"N": str(int(time.time()))},
        },
    )
    metric = event.get("metric")
    if metric:
        boto3.client("cloudwatch", region_name=metric["region"]).put_metric_data(
            Namespace=metric["namespace"],
            MetricData=[
                {
                    "MetricName": metric["name"],
                    "Dimensions": [
                        {"Name": k, "Value": v} for k, v in metric["dimensions"].items()
                    ],
                    "Value": float(metric["value"]),
                }
            ],
        )


def scale(event: dict[str, Any]) -> None:
    resource = f"service/{event['cluster']}/{event['service']}"
    scaling = boto3.client("application-autoscaling", region_name=event["region"])
    found = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])
    if found["ScalableTargets"]:  # the minimum first, or target tracking would undo the count
        scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=event["count"],
            MaxCapacity=max(found["ScalableTargets"][0]["MaxCapacity"], event["count"]),
        )
    boto3.client("ecs", region_name=event["region"]).update_service(
        cluster=event["cluster"], service=event["service"], desiredCount=event["count"]
    )


def _all(client: Any, operation: str, key: str, **arguments: Any) -> list[dict[str, Any]]:
    """Every page's ``key`` (Global Accelerator's lists give 10 a call by default)."""
    pages = client.get_paginator(operation).paginate(**arguments)
    return [item for page in pages for item in page[key]]


def dial(event: dict[str, Any]) -> None:
    ga = boto3.client("globalaccelerator", region_name=event["api_region"])
    turned = 0
    for accelerator in _all(ga, "list_accelerators", "Accelerators"):
        if accelerator["Name"] != event["accelerator"]:
            continue
        arn = accelerator["AcceleratorArn"]
        for listener in _all(ga, "list_listeners", "Listeners", AcceleratorArn=arn):
            groups = _all(
                ga, "list_endpoint_groups", "EndpointGroups", ListenerArn=listener["ListenerArn"]
            )
            for group in groups:
                if group["EndpointGroupRegion"] == event["region"]:
                    ga.update_endpoint_group(
                        EndpointGroupArn=group["EndpointGroupArn"],
                        TrafficDialPercentage=float(event["percent"]),
                    )
                    turned += 1
    if not turned:  # done would say the traffic moved
        raise RuntimeError(
            f"no endpoint group in {event['region']} of accelerator {event['accelerator']!r}"
        )


def probe(event: dict[str, Any], clock: Any = time) -> None:
    """One data point per ``every`` seconds for about a minute, each on a period boundary so
    that every period of the high-resolution alarm gets one."""
    cloudwatch = boto3.client("cloudwatch")
    every = event["every"]
    for _ in range(60 // every):
        clock.sleep(every - clock.time() % every)
        healthy = healthy_targets(event)
        if healthy is None:  # a missing point: the alarm skips it (TreatMissingData missing)
            continue
        cloudwatch.put_metric_data(
            Namespace=event["namespace"],
            MetricData=[
                {
                    "MetricName": event["metric"],
                    "Dimensions": [{"Name": k, "Value": v} for k, v in event["dimensions"].items()],
                    "Value": float(healthy),
                    "StorageResolution": 1,
                }
            ],
        )


def start_plan(event: dict[str, Any]) -> str:
    """Fail over by the plan, gracefully (an ungraceful execution skips these function steps),
    unless the declared writer is already another region than the primary (failed over, or in
    the middle of a failback)."""
    region = event["recovery_region"]
    item = boto3.client("dynamodb", region_name=region).get_item(
        TableName=event["table"],
        Key={"pk": {"S": "drtiers"}, "sk": {"S": "writer-region"}},
        ConsistentRead=True,
    )
    writer = item.get("Item", {}).get("region", {}).get("S", event["primary_region"])
    if writer != event["primary_region"]:
        return f"not started: the writer's region is {writer}"
    switch = boto3.client("arc-region-switch", region_name=region)
    plans = _all(switch, "list_plans_in_region", "plans")
    arn = next((p["arn"] for p in plans if p["name"] == event["plan"]), None)
    if arn is None:
        raise RuntimeError(f"no Region switch plan {event['plan']!r} in {region}")
    switch.start_plan_execution(
        planArn=arn,
        targetRegion=region,
        action="activate",
        mode="graceful",
        comment="started by the PrimaryDown alarm",
    )
    return "started"


def drain(event: dict[str, Any]) -> None:
    """Fail while the stack's queues hold messages, visible or in flight; its dead-letter
    queues do not count. AWS: "Amazon SQS supports dead-letter queues (DLQs), which source
    queues can target for messages that are not processed successfully. DLQs are useful for
    debugging your application because you can isolate unconsumed messages"
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html):
    no consumer takes them, so waiting on them would hold the step until its timeout."""
    sqs = boto3.client("sqs", region_name=event["region"])
    urls = sqs.list_queues(QueueNamePrefix=event["prefix"]).get("QueueUrls", [])
    counts: dict[str, int] = {}
    dead_letter_queues = set()
    for url in urls:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "QueueArn",
                "RedrivePolicy",
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        if "RedrivePolicy" in attributes:
            dead_letter_queues.add(json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"])
        counts[attributes["QueueArn"]] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    queues = {arn: n for arn, n in counts.items() if arn not in dead_letter_queues}
    left = sum(queues.values())
    if left:
        raise RuntimeError(f"{left} messages left in {len(queues)} queues of {event['prefix']}")


# ModifyDBInstance's parameters as DescribeDBInstances names what they set.
DESCRIBED = {
    "EnableIAMDatabaseAuthentication": "IAMDatabaseAuthenticationEnabled",
    "CloudwatchLogsExportConfiguration": "EnabledCloudwatchLogsExports",
}


def adopt(event: dict[str, Any]) -> None:
    """Set on the replica the plan's RDS block made what its template sets and the block does
    not copy (``settings``: IAM logins, deletion protection, Multi-AZ, class, backups,
    monitoring, log exports), and its tags (what drills and reports find it by). Fails, to be
    run again (the plan retries the step), while the instance is not available: the block may
    end before it is, and a modification in progress refuses another."""
    region, name = event["region"], event["instance"]
    rds = boto3.client("rds", region_name=region)
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"]
    if instance["DBInstanceStatus"] != "available":
        raise RuntimeError(f"{name} is {instance['DBInstanceStatus']}, not available yet")
    settings = dict(event["settings"])
    tags = settings.pop("Tags", [])
    if tags:
        rds.add_tags_to_resource(ResourceName=instance["DBInstanceArn"], Tags=tags)
        _tag_replaced(rds, name, tags, event["stale"])
    logs = settings.pop("EnableCloudwatchLogsExports", None)
    if logs:
        settings["CloudwatchLogsExportConfiguration"] = {"EnableLogTypes": logs}
    changes = {k: v for k, v in settings.items() if not _already(instance, k, v)}
    if changes:  # only what differs: one already made is not asked for again
        rds.modify_db_instance(DBInstanceIdentifier=name, **changes, ApplyImmediately=True)


def _tag_replaced(rds: Any, name: str, tags: list[dict[str, str]], stale: dict[str, str]) -> None:
    """Tag ``stale`` on every other instance of the region that carries all the template's
    ``tags``: the one the RDS block renamed out of the way (it adds only
    renamedByRegionSwitch) still does, and whatever selects by tags (drills, reports) would take
    it for the tier's instance."""
    wanted = {(t["Key"], t["Value"]) for t in tags}
    for page in rds.get_paginator("describe_db_instances").paginate():
        for other in page["DBInstances"]:
            held = {(t["Key"], t["Value"]) for t in other.get("TagList", [])}
            if other["DBInstanceIdentifier"] != name and wanted <= held:
                rds.add_tags_to_resource(
                    ResourceName=other["DBInstanceArn"],
                    Tags=[{"Key": k, "Value": v} for k, v in stale.items()],
                )


def _already(instance: dict[str, Any], parameter: str, value: Any) -> bool:
    """Whether the instance already has ``value`` for ``parameter``."""
    current = instance.get(DESCRIBED.get(parameter, parameter))
    if parameter == "CloudwatchLogsExportConfiguration":
        return set(value["EnableLogTypes"]) <= set(current or [])
    return bool(current == value)


def register(event: dict[str, Any]) -> None:
    """Deregister each instance the proxy's default target group holds (one already gone is
    no reason to stop: the plan would retry the step until its timeout), then register the
    instance now under the identifier."""
    rds = boto3.client("rds", region_name=event["region"])
    targets = rds.describe_db_proxy_targets(DBProxyName=event["proxy"])["Targets"]
    for held in [t["RdsResourceId"] for t in targets if t.get("Type") == "RDS_INSTANCE"]:
        try:
            rds.deregister_db_proxy_targets(
                DBProxyName=event["proxy"], DBInstanceIdentifiers=[held]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "DBProxyTargetNotFoundFault":
                raise
    rds.register_db_proxy_targets(
        DBProxyName=event["proxy"], DBInstanceIdentifiers=[event["instance"]]
    )


# Receives of up to 10 messages per queue and run: the plan runs a failing step again each
# minute, so a larger backlog moves over several runs, well within the function's timeout.
FORWARD_RECEIVES = 100
# Long enough for a receive, a send and a delete; a message that is not deleted in that time
# becomes visible again and is moved by the next run.
FORWARD_VISIBILITY_SECONDS = 120
# What a FIFO queue's messages carry that its sends need again.
FIFO_IDS = ("MessageGroupId", "MessageDeduplicationId")
# SendMessageBatch: "The maximum allowed individual message size and the maximum total payload
# size (the sum of the individual lengths of all of the batched messages) are both 1 MiB"
# (botocore's SQS model), so ten received messages may need more than one batch.
BATCH_BYTES = 1_048_576


def _physical_id(region: str, stack: str, logical_id: str) -> str:
    """A stack's resource's physical id (a queue's URL), looked up where it lives:
    CloudFormation generates the queues' names, so the plan names them by stack and logical
    id."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    found = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    return str(found["StackResourceDetail"]["PhysicalResourceId"])


def _sent_again(message: dict[str, Any]) -> dict[str, Any]:
    """A received message as a batch entry for another queue: its body, its message attributes
    and, from a FIFO queue, its group and deduplication ids."""
    entry = {"Id": message["MessageId"], "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        entry["MessageAttributes"] = message["MessageAttributes"]
    attributes = message.get("Attributes", {})
    entry.update({name: attributes[name] for name in FIFO_IDS if name in attributes})
    return entry


def _size(entry: dict[str, Any]) -> int:
    """An entry's length, counted high: its body's bytes and its attributes as JSON."""
    return len(entry["MessageBody"].encode()) + len(json.dumps(entry.get("MessageAttributes", {})))


def _batches(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The entries in order, in batches whose total length stays within BATCH_BYTES."""
    batches: list[list[dict[str, Any]]] = [[]]
    for entry in entries:
        if batches[-1] and sum(map(_size, batches[-1])) + _size(entry) > BATCH_BYTES:
            batches.append([])
        batches[-1].append(entry)
    return batches


def _send(
    target: Any, taking: str, messages: list[dict[str, Any]]
) -> tuple[set[str], list[dict[str, Any]]]:
    """Send received messages to ``taking``: the ids it took, and the entries it refused."""
    took: set[str] = set()
    refused: list[dict[str, Any]] = []
    for batch in _batches([_sent_again(m) for m in messages]):
        sent = target.send_message_batch(QueueUrl=taking, Entries=batch)
        took |= {entry["Id"] for entry in sent.get("Successful", [])}
        refused += sent.get("Failed", [])
    return took, refused


def _move(source: Any, leaving: str, target: Any, taking: str) -> int:
    """Move one queue's visible messages, 10 a receive; delete only what the send took.
    Returns how many moved; raises when a send fails or the run's receives are used up."""
    moved = 0
    for _ in range(FORWARD_RECEIVES):
        messages = source.receive_message(
            QueueUrl=leaving,
            MaxNumberOfMessages=10,
            VisibilityTimeout=FORWARD_VISIBILITY_SECONDS,
            WaitTimeSeconds=1,  # long polling: every server is asked, no false empty answer
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=list(FIFO_IDS),
        ).get("Messages", [])
        if not messages:
            return moved
        took, refused = _send(target, taking, messages)
        done = [
            {"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]}
            for m in messages
            if m["MessageId"] in took
        ]
        if done:
            source.delete_message_batch(QueueUrl=leaving, Entries=done)
        moved += len(done)
        if refused:  # what was refused stays in the source, for the next run
            raise RuntimeError(f"{taking} refused {len(refused)}: {refused[0].get('Code')}")
    raise RuntimeError(f"{moved} moved from {leaving}, more left: the next run moves them")


def forward(event: dict[str, Any]) -> None:
    """Move what the stack's work queues in ``region`` hold to the same queues (by logical id)
    of ``to_stack`` in ``to_region``. AWS deletes what no consumer takes: "Amazon SQS
    automatically deletes messages left in a queue longer than the retention period configured
    for the queue" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html).
    Fails, to be run again, while messages are in flight (received and not yet deleted)."""
    source = boto3.client("sqs", region_name=event["region"])
    target = boto3.client("sqs", region_name=event["to_region"])
    in_flight = 0
    for logical_id in event["queues"]:
        leaving = _physical_id(event["region"], event["stack"], logical_id)
        taking = _physical_id(event["to_region"], event["to_stack"], logical_id)
        _move(source, leaving, target, taking)
        attributes = source.get_queue_attributes(
            QueueUrl=leaving, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        in_flight += int(attributes["ApproximateNumberOfMessagesNotVisible"])
    if in_flight:
        raise RuntimeError(f"{in_flight} messages in flight in {event['stack']}: run again")


ACTIONS = {
    "declare": declare,
    "scale": scale,
    "dial": dial,
    "drain": drain,
    "adopt": adopt,
    "register": register,
    "forward": forward,
    "probe": probe,
}


def _name(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _names(value: object) -> bool:
    return isinstance(value, dict) and all(_name(k) and _name(x) for k, x in value.items())


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# What each kind of field allows: its test and the words the refusal uses.
KINDS = {
    "name": (_name, "a name"),
    "region": (_name, "a region"),
    "count": (lambda v: _number(v) and isinstance(v, int) and v >= 0, "an integer, 0 or more"),
    "percent": (lambda v: _number(v) and 0 <= v <= 100, "a number from 0 to 100"),
    "every": (
        lambda v: isinstance(v, int) and 1 <= v <= 30 and 60 % v == 0,
        "a divisor of 60, up to 30",
    ),
    "number": (_number, "a number"),
    "settings": (
        lambda v: isinstance(v, dict) and all(_name(k) for k in v),
        "an object of ModifyDBInstance parameters",
    ),
    "dimensions": (_names, "an object of names"),
    "tags": (lambda v: _names(v) and bool(v), "an object of tag keys and values, at least one"),
    "names": (
        lambda v: isinstance(v, list) and bool(v) and all(_name(x) for x in v),
        "a list of names, at least one",
    ),
}
# The fields of each action's payload (Region switch and EventBridge add others: ignored).
FIELDS = {
    "declare": {"region": "region", "table": "name"},
    "scale": {"region": "region", "cluster": "name", "service": "name", "count": "count"},
    "dial": {
        "accelerator": "name",
        "region": "region",
        "percent": "percent",
        "api_region": "region",
    },
    "drain": {"region": "region", "prefix": "name"},
    "adopt": {"region": "region", "instance": "name", "settings": "settings", "stale": "tags"},
    "register": {"region": "region", "instance": "name", "proxy": "name"},
    "probe": {
        "region": "region",
        "cluster": "name",
        "service": "name",
        "namespace": "name",
        "metric": "name",
        "dimensions": "dimensions",
        "every": "every",
    },
    "start-plan": {
        "plan": "name",
        "primary_region": "region",
        "recovery_region": "region",
        "table": "name",
    },
    "forward": {
        "region": "region",
        "stack": "name",
        "to_region": "region",
        "to_stack": "name",
        "queues": "names",
    },
}
# declare's optional metric.
METRIC = {
    "region": "region",
    "namespace": "name",
    "name": "name",
    "dimensions": "dimensions",
    "value": "number",
}


def _refuse(what: str) -> ValueError:
    return ValueError(f"plan-actions payload: {what}")


def _check_fields(
    action: str, payload: dict[str, Any], fields: dict[str, str], prefix: str = ""
) -> None:
    for field, kind in fields.items():
        valid, allowed = KINDS[kind]
        if field not in payload:
            raise _refuse(f'{action}: "{prefix}{field}" is missing; allowed: {allowed}')
        if not valid(payload[field]):
            raise _refuse(f'{action}: "{prefix}{field}" is {payload[field]!r}; allowed: {allowed}')


def check(event: object) -> str:
    """The payload's action, once every field it needs is there and allowed: a malformed payload
    fails before any call, with one line naming the field and what it allows."""
    actions = ", ".join(FIELDS)
    if not isinstance(event, dict) or "action" not in event:
        raise _refuse(f'"action" is missing; allowed: {actions}')
    action = event["action"]
    if action not in FIELDS:
        raise _refuse(f"unknown action {action!r}; allowed: {actions}")
    _check_fields(action, event, FIELDS[action])
    if action == "declare" and "metric" in event:
        if not isinstance(event["metric"], dict):
            raise _refuse(f'declare: "metric" is {event["metric"]!r}; allowed: an object')
        _check_fields(action, event["metric"], METRIC, "metric.")
    return str(action)


def handler(event: dict[str, Any], context: object) -> dict[str, str]:
    action = check(event)
    if action == "start-plan":  # EventBridge: R's PrimaryDown alarm turned red
        return {"done": start_plan(event)}
    ACTIONS[action](event)
    return {"done": action}
