"""Where a tier's EventBridge rules send what AWS says, and whether it arrives: a rule's
target topic in its own stack, which EventBridge may publish to (the topic's policy) and whose
key it may use (the key's policy), as AWS asks of an encrypted topic:
https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html and
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html (read
2026-12-05)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from drtiers.assembly.policies import statement_actions
from drtiers.assembly.reader import Resource, TierAssembly

EVENTS_PRINCIPAL = "events.amazonaws.com"


@dataclass(frozen=True)
class Notice:
    rule: Resource
    sources: tuple[str, ...]  # the pattern's event sources (aws.rds, aws.health, ...)
    topic: Resource | None  # the SNS topic of its stack it targets, if any
    arrives: bool  # EventBridge may publish to that topic and use its key

    def names_ref(self, logical_id: str) -> bool:
        """Whether the rule's pattern names the resource ``logical_id`` of its stack (by Ref:
        its identifier)."""
        return json.dumps({"Ref": logical_id}) in json.dumps(self.rule.prop("EventPattern"))


def notices(tier: TierAssembly) -> list[Notice]:
    """Every rule of the tier on an event pattern, with the topic it reaches."""
    found = []
    for rule in tier.of_type("AWS::Events::Rule"):
        pattern = rule.prop("EventPattern")
        if not isinstance(pattern, dict) or rule.prop("State", default="ENABLED") != "ENABLED":
            continue
        sources = tuple(str(s) for s in pattern.get("source", []))
        for target in rule.prop("Targets", default=[]):
            topic = _topic(tier, rule.stack, target.get("Arn"))
            if topic is not None:
                found.append(Notice(rule, sources, topic, _arrives(tier, topic)))
    return found


def _topic(tier: TierAssembly, stack: str, arn: Any) -> Resource | None:
    if not isinstance(arn, dict) or "Ref" not in arn:
        return None
    topic = tier.by_id(stack, str(arn["Ref"]))
    return topic if topic is not None and topic.type == "AWS::SNS::Topic" else None


def _allows_events(statement: dict[str, Any], actions: tuple[str, ...]) -> bool:
    principal = statement.get("Principal")
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    services = services if isinstance(services, list) else [services]
    granted = statement_actions(statement) if "Action" in statement else []
    return (
        statement.get("Effect") == "Allow"
        and EVENTS_PRINCIPAL in services
        and "Condition" not in statement
        and all(a in granted for a in actions)
    )


def _statements(resource: Resource, path: str) -> list[dict[str, Any]]:
    statements = resource.prop(path, "Statement", default=[])
    return statements if isinstance(statements, list) else [statements]


def _arrives(tier: TierAssembly, topic: Resource) -> bool:
    """The topic's policy lets EventBridge publish, and its key (if any) lets it encrypt."""
    ref = {"Ref": topic.logical_id}
    published = any(
        _allows_events(s, ("sns:Publish",))
        for policy in tier.of_type("AWS::SNS::TopicPolicy")
        if policy.stack == topic.stack and ref in policy.prop("Topics", default=[])
        for s in _statements(policy, "PolicyDocument")
    )
    key_ref = topic.prop("KmsMasterKeyId")
    if key_ref is None:
        return published
    key_id = key_ref.get("Fn::GetAtt", [None])[0] if isinstance(key_ref, dict) else None
    key = tier.by_id(topic.stack, str(key_id)) if key_id else None
    return (
        published
        and key is not None
        and any(
            _allows_events(s, ("kms:Decrypt", "kms:GenerateDataKey*"))
            for s in _statements(key, "KeyPolicy")
        )
    )
