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
_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3})


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


def plan_arn(child: dict[str, str], region: str, wait_seconds: float = 45) -> str:
    """The child's plan ARN, asked again every 5 s for up to ``wait_seconds`` while its role
    is denied or the plan is not listed yet."""
    start = time.monotonic()
    while True:
        try:
            found = _listed(child, region)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            denied = code in ("AccessDenied", "AccessDeniedException")  # STS's, Region switch's
            if not denied or time.monotonic() - start > wait_seconds:
                raise
            found = None
        if found:
            return found
        if time.monotonic() - start > wait_seconds:
            raise LookupError(
                f"no Region switch plan {child['Plan']} in account {child['Account']} "
                f"({region}): deploy that application's plan stack first (its stage's wave)"
            )
        time.sleep(5)


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
    start = time.monotonic()  # 45 s of asking again, for all the children together
    try:
        children = event["ResourceProperties"]["Children"]
        found = {
            child["Name"]: plan_arn(child, region, 45 - (time.monotonic() - start))
            for child in children
        }
    except Exception as error:  # any failure fails the resource, with its message
        respond(event, "FAILED", f"{type(error).__name__}: {error}", {})
        return
    respond(event, "SUCCESS", f"found {len(found)} child plans", found)
