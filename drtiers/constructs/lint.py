"""Acknowledging a template check on one resource, with the reason a reviewer reads.

The same rule id is acknowledged for both checkers that read the templates: cfn-lint (through
the resource's ``Metadata.cfn-lint`` ignore list) and CDK's built-in CloudFormation validation
(through ``Validations.acknowledge``, recorded in the construct's metadata).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct


def acknowledge(resource: IConstruct | None, rule: str, reason: str) -> None:
    """Ignore cfn-lint ``rule`` (e.g. ``W3010``) on this one L1 resource, for ``reason``."""
    if not isinstance(resource, CfnResource):
        raise TypeError(f"acknowledge {rule}: {resource!r} is not a CloudFormation resource")
    if not reason.strip():
        raise ValueError(f"acknowledge {rule}: a reason is required")
    metadata = resource.get_metadata("cfn-lint") or {"config": {"ignore_checks": []}}
    checks = metadata["config"]["ignore_checks"]
    if rule not in checks:
        checks.append(rule)
    resource.add_metadata("cfn-lint", metadata)
    resource.add_metadata(
        "drtiers:acknowledged",
        {**(resource.get_metadata("drtiers:acknowledged") or {}), rule: reason},
    )
    Validations.of(resource).acknowledge(
        Acknowledgment(id=f"CloudFormation-Validate::{rule}", reason=reason)
    )
