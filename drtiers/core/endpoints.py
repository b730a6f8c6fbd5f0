"""Which region serves an AWS API call, read from botocore's endpoint rule sets (the data the
SDKs and the CLI resolve endpoints with), not from a list of our own.

A regional call is served in its region; a global service's call is served where its endpoint
signs (Route 53 and IAM: us-east-1); a control-plane operation may be served in one region
whatever region the caller names (ARC Region switch's ``ListPlans``: the rule set's
``UseControlPlaneEndpoint``). The one exception botocore's rules do not carry is Global
Accelerator, whose rules resolve a regional host although AWS serves its API from us-west-2
only (``rules.GA_API_REGION``, with AWS's words).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.exceptions import UnknownServiceError

from drtiers.core import rules

# A region in an endpoint's host name (e.g. rds.us-west-2.amazonaws.com).
_HOST_REGION = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d+)\.")
# AWS: "you must specify the US West (Oregon) Region to create, update, or otherwise work with
# accelerators" (rules.GA_API_REGION); botocore's rule set resolves a regional host instead.
_SERVED_IN_ONE_REGION = {"globalaccelerator": rules.ACCELERATOR_API_REGION}


class UnknownCall(ValueError):
    """A service or operation that botocore's service models do not know."""


@cache
def _session() -> Any:
    return botocore.session.get_session()


@cache
def _client(service: str, region: str) -> Any:
    """A client only to resolve endpoints with: it never sends a request (no credentials)."""
    try:
        return _session().create_client(
            service, region_name=region, aws_access_key_id="-", aws_secret_access_key="-"
        )
    except UnknownServiceError as error:
        raise UnknownCall(f"{service}: not an AWS service botocore knows") from error


@cache
def operation_names(service: str) -> dict[str, str]:
    """The service's operations by their AWS CLI name (``list-plans`` -> ``ListPlans``)."""
    try:
        model = _session().get_service_model(service)  # the model alone: no client to build
    except UnknownServiceError as error:
        raise UnknownCall(f"{service}: not an AWS service botocore knows") from error
    return {_cli_name(name): name for name in model.operation_names}


@cache
def waiter_operations(service: str) -> dict[str, str]:
    """The service's waiters by their AWS CLI name (``db-instance-available``) -> the operation
    each polls (``DescribeDBInstances``), from botocore's waiter models."""
    try:
        model = _session().get_waiter_model(service)
    except Exception:  # a service without waiters
        return {}
    return {_cli_name(name): model.get_waiter(name).operation for name in model.waiter_names}


@cache
def paginated(service: str, operation: str) -> bool:
    """Whether the AWS CLI pages through ``operation``'s results by itself: botocore has a
    paginator for it (the CLI then calls it once per page)."""
    try:
        return bool(_session().get_paginator_model(service).get_paginator(operation))
    except Exception:  # a service without paginators, or none for this operation
        return False


# Options the AWS CLI takes on every command (its global and pagination options), not members
# of an operation's input: https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-options.html
_CLI_OPTIONS = frozenset(
    [
        *("--region", "--output", "--query", "--profile", "--endpoint-url", "--debug"),
        *("--no-paginate", "--color", "--no-verify-ssl", "--no-sign-request", "--ca-bundle"),
        *("--cli-read-timeout", "--cli-connect-timeout", "--cli-binary-format", "--no-cli-pager"),
        *("--cli-auto-prompt", "--no-cli-auto-prompt", "--cli-input-json", "--cli-input-yaml"),
        *("--generate-cli-skeleton", "--page-size", "--max-items", "--starting-token"),
    ]
)
# Options the AWS CLI adds to one operation beyond its input shape (its customizations), as its
# reference lists them: "put-metric-data ... [--metric-name <value>] [--timestamp <value>]
# [--unit <value>] [--value <value>] [--dimensions <value>] [--statistic-values <value>]
# [--storage-resolution <value>]"
# (https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/put-metric-data.html, read
# 2026-12-04).
_CLI_CUSTOMIZATIONS = {
    ("cloudwatch", "PutMetricData"): frozenset(
        [
            *("--metric-name", "--timestamp", "--unit", "--value", "--dimensions"),
            *("--statistic-values", "--storage-resolution"),
        ]
    ),
}


@cache
def operation_options(service: str, operation: str) -> frozenset[str]:
    """The AWS CLI options ``operation`` takes: each member of its input shape in the CLI's
    spelling (``DBInstanceIdentifier`` -> ``--db-instance-identifier``; a boolean also as
    ``--no-...``), and the CLI's global options."""
    shape = _session().get_service_model(service).operation_model(operation).input_shape
    options = set(_CLI_OPTIONS) | _CLI_CUSTOMIZATIONS.get((service, operation), frozenset())
    for name, member in shape.members.items() if shape is not None else []:
        options.add(f"--{_cli_name(name)}")
        if member.type_name == "boolean":
            options.add(f"--no-{_cli_name(name)}")
    return frozenset(options)


def _cli_name(operation: str) -> str:
    return str(xform_name(operation, "-"))


def cli_options(member: str) -> tuple[str, str]:
    """The AWS CLI's option for an input member (``MultiAZ`` -> ``--multi-az``), and its
    negation (``--no-multi-az``), which a boolean member also takes."""
    return f"--{_cli_name(member)}", f"--no-{_cli_name(member)}"


def served_from(
    service: str, operation: str, region: str, params: Mapping[str, Any] | None = None
) -> str:
    """The region whose endpoint serves ``operation`` of ``service`` when called with
    ``region``: the signing region of a global endpoint, else the region in its host name."""
    if service in _SERVED_IN_ONE_REGION:
        return _SERVED_IN_ONE_REGION[service]
    client = _client(service, region)
    if operation not in client.meta.service_model.operation_names:
        raise UnknownCall(f"{service} {operation}: no such operation in botocore's model")
    endpoint = client._ruleset_resolver.construct_endpoint(
        client.meta.service_model.operation_model(operation), dict(params or {}), {}
    )
    for scheme in endpoint.properties.get("authSchemes", []):
        if scheme.get("signingRegion"):
            return str(scheme["signingRegion"])
    host = _HOST_REGION.search(endpoint.url)
    return host.group(1) if host else region
