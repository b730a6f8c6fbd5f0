"""The image's copy in the recovery region (deployed inline by drtiers.constructs.images), as two
CloudFormation custom resources:

- ``Custom::EcrReplicationRule`` (P): adds one rule to the registry's replication configuration,
  copying the image's repository to the recovery region, and keeps the registry's other rules;
- ``Custom::EcrImageCopy`` (R, before the service): waits until the image is in this region's
  registry, and fails with one line saying to push it if it does not come. ECR copies only
  what is pushed after the rule exists, so the first deploy, and each new version, must wait
  for the copy: a service started before it would fail to pull (its circuit breaker then rolls
  the stack back), and a pilot-light R would first find it missing during the event.

AWS::ECR::ReplicationConfiguration owns the whole configuration: its create fails when the
registry has rules already, and its delete empties it, so two tiers (or a platform team's
rules) in one account could not share a registry. This adds the rule only if no rule copies
the repository there already, and leaves it on delete (the stack retains the resource): other
tiers of the app may pull what it copies (README, "Your workload").
"""

import json
import time
import urllib.request
from typing import Any

import boto3  # the Lambda runtime's SDK (the tests run this code against an emulator)
from botocore.config import Config
from botocore.exceptions import ClientError


def covers(rule: dict[str, Any], repository: str, region: str, registry: str) -> bool:
    """Whether an existing rule already copies ``repository`` to ``region`` of ``registry``."""
    to_region = any(
        d.get("region") == region and d.get("registryId") == registry
        for d in rule.get("destinations", [])
    )
    filters = rule.get("repositoryFilters") or [{"filter": ""}]
    return to_region and any(repository.startswith(f.get("filter", "")) for f in filters)


def _client() -> Any:
    """ECR, with short timeouts and few retries: the resource must answer CloudFormation well
    within the function's time, or CloudFormation waits out its own timeout."""
    return boto3.client(
        "ecr",
        config=Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3}),
    )


def _with_rule(
    rules: list[dict[str, Any]], repository: str, region: str, registry: str
) -> list[dict[str, Any]]:
    """``rules`` with the repository's filter: added to a rule that copies to that destination
    alone (ECR allows 10 rules, each with up to 100 filters), else as a rule of its own."""
    wanted = [{"region": region, "registryId": registry}]
    ours = {"filter": repository, "filterType": "PREFIX_MATCH"}
    for rule in rules:
        filters = rule.get("repositoryFilters")
        if rule.get("destinations") == wanted and filters and len(filters) < 100:
            others = [r for r in rules if r is not rule]
            return [*others, {**rule, "repositoryFilters": [*filters, ours]}]
    return [*rules, {"destinations": wanted, "repositoryFilters": [ours]}]


def add_rule(repository: str, region: str, registry: str) -> bool:
    """Copy the repository to ``region`` unless a rule does already; whether a rule changed.
    The configuration is read, changed and written whole (PutReplicationConfiguration has no
    other form), then read again: another writer in between would drop the rule silently."""
    ecr = _client()
    current = ecr.describe_registry().get("replicationConfiguration", {}).get("rules", [])
    if any(covers(rule, repository, region, registry) for rule in current):
        return False
    rules = _with_rule(current, repository, region, registry)
    ecr.put_replication_configuration(replicationConfiguration={"rules": rules})
    after = ecr.describe_registry().get("replicationConfiguration", {}).get("rules", [])
    if not any(covers(rule, repository, region, registry) for rule in after):
        raise RuntimeError("the registry's replication configuration changed while it was set")
    return True


COPY_TYPE = "Custom::EcrImageCopy"


def image_copied(repository: str, reference: str, wait_seconds: float, every: float = 15) -> bool:
    """Whether this region's registry holds ``reference`` (":<tag>" or "@sha256:<digest>") of
    ``repository``, asking every ``every`` seconds for up to ``wait_seconds``. Access denied
    counts as not yet for the first minute: a new role's policy takes a while to apply."""
    ecr = _client()
    image_id = (
        {"imageDigest": reference[1:]} if reference.startswith("@") else {"imageTag": reference[1:]}
    )
    start = time.monotonic()
    while True:
        try:
            ecr.describe_images(repositoryName=repository, imageIds=[image_id])
            return True
        except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
            pass
        except ClientError as error:
            denied = error.response.get("Error", {}).get("Code") == "AccessDeniedException"
            if not denied or time.monotonic() - start > 60:
                raise
        if time.monotonic() + every > start + wait_seconds:
            return False
        time.sleep(every)


def respond(event: dict[str, Any], status: str, reason: str, physical_id: str) -> None:
    """Tell CloudFormation how the request went, on the presigned URL it gave."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:256],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def handler(event: dict[str, Any], context: Any) -> None:
    physical_id = event.get("PhysicalResourceId", event.get("LogicalResourceId", "image"))
    try:
        props = event["ResourceProperties"]
        copy = event.get("ResourceType") == COPY_TYPE
        repository = props["Repository"]
        physical_id = (
            f"{repository}{props['Reference']}"
            if copy
            else f"{props['RegistryId']}/{repository}->{props['Region']}"
        )
        if event["RequestType"] == "Delete":  # a rule stays: other tiers may pull its copies
            reason = "nothing to undo"
        elif copy:
            reason = _wait_for_copy(repository, props["Reference"], context)
        else:
            added = add_rule(repository, props["Region"], props["RegistryId"])
            reason = "rule added" if added else "a rule copies it already"
    except Exception as error:  # any failure fails the resource, with its message
        respond(event, "FAILED", f"{type(error).__name__}: {error}", physical_id)
        return
    respond(event, "SUCCESS" if reason else "FAILED", reason or _not_copied(props), physical_id)


def _wait_for_copy(repository: str, reference: str, context: Any) -> str:
    """ "copied" once the image is here; "" if it did not come while the function may run."""
    left = context.get_remaining_time_in_millis() / 1000 - 30 if context else 0
    return "copied" if image_copied(repository, reference, max(left, 0)) else ""


def _not_copied(props: dict[str, Any]) -> str:
    return (
        f"{props['Repository']}{props['Reference']} is not in this region's registry: ECR "
        "copies only pushes made after the replication rule exists. Push it under a new tag, "
        "name that tag, deploy again (--no-rollback lets the failed stack continue)"
    )
