"""A fleet's parent plan names each child plan by its ARN, which ends in an id Region switch
assigns when the plan is created (``plan/<name>:<6 characters>``, AWS's pattern for
RegionSwitchPlanConfiguration's arn), so no template can spell it. This custom resource
(``Custom::RegionSwitchChildPlans``, deployed inline by drtiers.constructs.parent_plan) finds
each child by its name and account when the parent stack deploys, and answers its ARN as an
attribute named after the application.

It lists the plans of this region with ``ListPlansInRegion``, the regional (data-plane)
operation: the control plane's ``ListPlans`` is served from one region only. A child in another
account is listed through that account's parent-access role, assumed with the external id its
trust asks for. Both may lag the previous wave's deployment (a new role's trust, a new plan in
this region's listing), so a denial or a plan not found yet is asked again for up to 45 s.

The resource's properties name the region pair: a child plan replaced (new regions) gets a new
id, and the changed property has this function look again.
"""

import json
import os
import time
import urllib.request
from typing import Any

import boto3  # the Lambda runtime's SDK (the tests run this code against botocore's Stubber)
from botocore.config import Config
from botocore.exceptions import ClientError

RESOURCE_TYPE = "Custom::RegionSwitchChildPlans"
# Short calls, so that the function answers CloudFormation within its own time, whatever AWS
# does: an answer never sent holds the stack until the resource's service timeout.
_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2})
ASKING_SECONDS = 45  # asking again while a role is denied or a plan not listed, all children
MARGIN_SECONDS = 30  # what one more call and the answer to CloudFormation may take
DATA_LIMIT = 4096  # bytes: CloudFormation's limit on a custom resource's answer


def _switch(role: str, external_id: str, region: str) -> Any:
    """Region switch in ``region``, as this function or, for ``role``, as that role."""
    if not role:
        return boto3.client("arc-region-switch", region_name=region, config=_CONFIG)
    credentials = boto3.client("sts", region_name=region, config=_CONFIG).assume_role(
        RoleArn=role, RoleSessionName="drtiers-plan-lookup", ExternalId=external_id
    )["Credentials"]
    return boto3.client(
        "arc-region-switch",
        region_name=region,
        config=_CONFIG,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _listed(child: dict[str, str], region: str) -> str | None:
    """The ARN of the plan ``child["Plan"]`` that account ``child["Account"]`` owns, if listed."""
    switch = _switch(child.get("Role", ""), child.get("ExternalId", ""), region)
    token: str | None = None
    while True:
        page = switch.list_plans_in_region(**({"nextToken": token} if token else {}))
        for plan in page.get("plans", []):
            if plan["name"] == child["Plan"] and plan["owner"] == child["Account"]:
                return str(plan["arn"])
        token = page.get("nextToken")
        if not token:
            return None


EVERY_SECONDS = 5


def plan_arn(child: dict[str, str], region: str, wait_seconds: float = ASKING_SECONDS) -> str:
    """The child's plan ARN, asked again every 5 s while its role is denied or the plan is not
    listed yet, as long as the next ask is within ``wait_seconds``."""
    start = time.monotonic()
    while True:
        last = time.monotonic() - start + EVERY_SECONDS > wait_seconds
        try:
            found = _listed(child, region)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            denied = code in ("AccessDenied", "AccessDeniedException")  # STS's, Region switch's
            if not denied or last:
                raise
            found = None
        if found:
            return found
        if last:
            raise LookupError(
                f"no Region switch plan {child['Plan']} in account {child['Account']} "
                f"({region}): deploy that application's plan stack first (its stage's wave)"
            )
        time.sleep(EVERY_SECONDS)


def respond(event: dict[str, Any], status: str, reason: str, data: dict[str, str]) -> None:
    """Tell CloudFormation how the request went, on the presigned URL it gave."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:256],
            "PhysicalResourceId": event["LogicalResourceId"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def handler(event: dict[str, Any], context: Any) -> None:
    if event["RequestType"] == "Delete":  # it made nothing
        respond(event, "SUCCESS", "nothing to undo", {})
        return
    region = os.environ.get("AWS_REGION", "")
    left = context.get_remaining_time_in_millis() / 1000 if context else ASKING_SECONDS * 2
    deadline = time.monotonic() + min(ASKING_SECONDS, left - MARGIN_SECONDS)
    try:
        children = event["ResourceProperties"]["Children"]
        found = {
            child["Name"]: plan_arn(child, region, deadline - time.monotonic())
            for child in children
        }
        size = len(json.dumps(found).encode())
        if size > DATA_LIMIT:
            raise ValueError(
                f"{len(found)} child plans' ARNs take {size} bytes, over CloudFormation's "
                f"{DATA_LIMIT} for a custom resource's answer: split the group"
            )
    except Exception as error:  # any failure fails the resource, with its message
        reason = f"{type(error).__name__}: {error}"
        print(reason)  # the log keeps it beside CloudFormation's event
        respond(event, "FAILED", reason, {})
        return
    respond(event, "SUCCESS", f"found {len(found)} child plans", found)
