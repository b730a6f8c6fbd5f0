"""The plan-actions function (deployed inline by drtiers.constructs.region_switch.PlanActions):
the data-plane writes and API calls of the recovery path that no Region switch block makes.

- ``declare``: the writer-region item (and the declared metric Route 53 follows);
- ``scale``: a service's scaling minimum, then its count;
- ``dial``: an accelerator endpoint group's traffic dial (through us-west-2);
- ``drain``: fail (the plan retries the step every minute) while a region's queues of a stack
  still hold messages, so that its consumers are not scaled away from them;
- ``probe`` (a schedule in R): P's healthy targets, every few seconds, as a metric in R;
- ``start-plan`` (R's PrimaryDown alarm turning red): start the plan's failover, gracefully.

Region switch merges a step's JSON payload into the event beside InvokedBy, PlanArn,
ExecutionId and StepName; EventBridge passes its rule's input.
"""

import json
import time
from typing import Any

import boto3  # the Lambda runtime's SDK (not a dependency of drtiers: tests stub it)
from botocore.config import Config

# A probe of the primary's region answers quickly or counts as no answer.
QUICK = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 1})


def healthy_targets(event: dict[str, Any]) -> int:
    """Healthy targets behind the primary's service; 0 when its region does not answer."""
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
    except Exception:  # the region's APIs do not answer: no evidence that it serves
        return 0


def declare(event: dict[str, Any]) -> None:
    boto3.client("dynamodb", region_name=event["region"]).put_item(
        TableName=event["table"],
        Item={
            "pk": {"S": "drtiers"},
            "sk": {"S": "writer-region"},
            "region": {"S": event["region"]},
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


def dial(event: dict[str, Any]) -> None:
    ga = boto3.client("globalaccelerator", region_name=event["api_region"])
    for accelerator in ga.list_accelerators()["Accelerators"]:
        if accelerator["Name"] != event["accelerator"]:
            continue
        listeners = ga.list_listeners(AcceleratorArn=accelerator["AcceleratorArn"])
        for listener in listeners["Listeners"]:
            groups = ga.list_endpoint_groups(ListenerArn=listener["ListenerArn"])
            for group in groups["EndpointGroups"]:
                if group["EndpointGroupRegion"] == event["region"]:
                    ga.update_endpoint_group(
                        EndpointGroupArn=group["EndpointGroupArn"],
                        TrafficDialPercentage=float(event["percent"]),
                    )


def probe(event: dict[str, Any], clock: Any = time) -> None:
    """One data point per ``every`` seconds for about a minute, each on a period boundary so
    that every period of the high-resolution alarm gets one."""
    cloudwatch = boto3.client("cloudwatch")
    every = event["every"]
    for _ in range(60 // every):
        clock.sleep(every - clock.time() % every)
        cloudwatch.put_metric_data(
            Namespace=event["namespace"],
            MetricData=[
                {
                    "MetricName": event["metric"],
                    "Dimensions": [{"Name": "Tier", "Value": event["tier"]}],
                    "Value": float(healthy_targets(event)),
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
    plans = switch.list_plans_in_region()["plans"]
    arn = next(p["arn"] for p in plans if p["name"] == event["plan"])
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


ACTIONS = {"declare": declare, "scale": scale, "dial": dial, "probe": probe, "drain": drain}


def handler(event: dict[str, Any], context: object) -> dict[str, str]:
    action = event["action"]
    if action == "start-plan":  # EventBridge: R's PrimaryDown alarm turned red
        return {"done": start_plan(event)}
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    ACTIONS[action](event)
    return {"done": action}
