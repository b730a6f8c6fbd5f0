"""Every IAM policy document a tier declares, wherever CloudFormation holds it: identity
policies, roles' inline and trust policies, key policies and resource policies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drtiers.assembly.reader import Resource, TierAssembly

# Resource type -> the property path of its policy document (one per resource).
_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::Backup::BackupVault": ("AccessPolicy",),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy",),
}


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []  # an intrinsic function the reader cannot resolve
    statements = document.get("Statement", [])
    return [s for s in (statements if isinstance(statements, list) else [statements]) if s]


def policy_statements(tier: TierAssembly) -> Iterator[tuple[Resource, dict[str, Any]]]:
    """(resource, statement) of every policy statement in the tier."""
    for resource in tier.resources:
        path = _DOCUMENTS.get(resource.type)
        if path is not None:
            for statement in _statements(resource.prop(*path)):
                yield resource, statement
        if resource.type == "AWS::IAM::Role":
            for statement in _statements(resource.prop("AssumeRolePolicyDocument")):
                yield resource, statement
            for policy in resource.prop("Policies", default=[]):
                for statement in _statements(policy.get("PolicyDocument")):
                    yield resource, statement


def statement_actions(statement: dict[str, Any]) -> list[str]:
    """The literal action names of a statement (Action or NotAction)."""
    actions = statement.get("Action", statement.get("NotAction", []))
    return [a for a in (actions if isinstance(actions, list) else [actions]) if isinstance(a, str)]
