"""I8 for the plan's custom actions: the role of the function a CustomActionLambda block invokes
must allow every AWS call the function's code makes for the block's payload.

The calls come from the function's code as deployed (its template's inline code, read by
``core.code_calls``); each maps to its IAM action (``permissions.iam_action``) and to the ARN
IAM evaluates it on (the IAM catalogue's ARN format, filled from the payload:
``permissions.resource_arn``); the role's statements, rendered for its stack, are evaluated as
IAM does. A call whose arguments the payload does not give is not made (the code guards it);
a resource the payload does not name is taken as allowed by any Allow of the action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drtiers.assembly.world import World
from drtiers.core.code_calls import NOT_KNOWN, SdkCall
from drtiers.core.permissions import allowed, iam_action, resource_arn
from drtiers.recovery import plan


@dataclass(frozen=True)
class CallDenied:
    """A call a plan step's function makes that its role does not allow."""

    step: str
    function: str  # region:name
    payload_action: str
    action: str  # the IAM action
    resource: str  # the ARN it is evaluated on ("*": the action takes none; "any": not known)

    def __str__(self) -> str:
        return (
            f"the role of function {self.function} does not allow {self.action} on "
            f"{self.resource}, which its '{self.payload_action}' action calls: the call is "
            f"denied and the step fails. Grant the function's role {self.action} on "
            f"{self.resource}"
        )


def _payload_value(payload: Mapping[str, Any], field: str) -> str | None:
    value: Any = payload
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return None if isinstance(value, Mapping | list) else str(value)


def _evaluated_on(
    call: SdkCall, action: str, payload: Mapping[str, Any], own_region: str, account: str
) -> tuple[bool, str | None]:
    """(whether the code makes the call for this payload, the ARN it is evaluated on)."""
    values = {parameter: _payload_value(payload, f) for parameter, f in call.arguments}
    region = own_region if call.region is None else _payload_value(payload, call.region)
    if None in values.values() or (call.region not in (None, NOT_KNOWN) and region is None):
        return False, None  # a field the payload lacks: the code does not get there
    if call.region == NOT_KNOWN or region is None:
        return True, None
    known = {k: v for k, v in values.items() if v is not None}
    return True, resource_arn(action, region, account, known)


def _function_denials(
    world: World, step: str, function: str, payload: Mapping[str, Any]
) -> list[CallDenied]:
    statements = world.function_roles[function]
    own_region = function.split(":", 1)[0]
    found = []
    for call in world.function_calls[function].get(str(payload.get("action")), ()):
        action = iam_action(call.service, call.operation)
        made, arn = _evaluated_on(call, action, payload, own_region, world.account)
        if made and not allowed(statements, action, arn):
            found.append(CallDenied(step, function, str(payload["action"]), action, arn or "any"))
    return found


def denials(world: World, event: str) -> list[CallDenied]:
    """Every call of the event's custom-action steps that the invoked function's role denies,
    and, at a region loss, of what the recovery region's rules invoke (the probe of P, the
    plan's start)."""
    found: list[CallDenied] = []
    for rule, function, payload in world.rule_invocations:
        in_recovery = function.startswith(f"{world.recovery}:")
        if event == "region-loss" and in_recovery and function in world.function_roles:
            found += _function_denials(world, rule, function, payload)
    for block, invoked in plan.invoked_functions(world, event):
        parts = invoked.arn.split(":")
        function = f"{parts[3]}:{parts[-1]}" if len(parts) > 6 else ""
        if function in world.function_roles:
            found += _function_denials(world, block.name, function, invoked.payload)
    return list(dict.fromkeys(found))
