"""The image replication rule (deployed inline by drtiers.constructs.images.ImageReplication): a
CloudFormation custom resource that adds one rule to the registry's replication configuration,
copying the image's repository to the recovery region, and keeps the registry's other rules.

AWS::ECR::ReplicationConfiguration owns the whole configuration: its create fails when the
registry has rules already, and its delete empties it, so two tiers (or a platform team's
rules) in one account could not share a registry. This adds the rule only if no rule copies
the repository there already, and leaves it on delete (the stack retains the resource): other
tiers of the app may pull what it copies (README, "Your workload").
"""

import json
import urllib.request
from typing import Any

import boto3  # the Lambda runtime's SDK (the tests run this code against an emulator)


def covers(rule: dict[str, Any], repository: str, region: str, registry: str) -> bool:
    """Whether an existing rule already copies ``repository`` to ``region`` of ``registry``."""
    to_region = any(
        d.get("region") == region and d.get("registryId") == registry
        for d in rule.get("destinations", [])
    )
    filters = rule.get("repositoryFilters") or [{"filter": ""}]
    return to_region and any(repository.startswith(f.get("filter", "")) for f in filters)


def add_rule(repository: str, region: str, registry: str) -> bool:
    """Add the rule unless one covers it; whether it was added."""
    ecr = boto3.client("ecr")
    current = ecr.describe_registry().get("replicationConfiguration", {}).get("rules", [])
    if any(covers(rule, repository, region, registry) for rule in current):
        return False
    rule = {
        "destinations": [{"region": region, "registryId": registry}],
        "repositoryFilters": [{"filter": repository, "filterType": "PREFIX_MATCH"}],
    }
    ecr.put_replication_configuration(replicationConfiguration={"rules": [*current, rule]})
    return True


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


def handler(event: dict[str, Any], _: Any) -> None:
    props = event["ResourceProperties"]
    repository, region, registry = props["Repository"], props["Region"], props["RegistryId"]
    physical_id = f"{registry}/{repository}->{region}"
    try:
        if event["RequestType"] in ("Create", "Update"):
            added = add_rule(repository, region, registry)
            reason = "rule added" if added else "a rule copies it already"
        else:  # Delete: kept, other tiers may pull what it copies
            reason = "rule kept"
    except Exception as error:  # any failure fails the resource, with its message
        respond(event, "FAILED", f"{type(error).__name__}: {error}", physical_id)
        return
    respond(event, "SUCCESS", reason, physical_id)
