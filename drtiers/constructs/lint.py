"""Acknowledging a check's finding on one resource, with the reason a reviewer reads.

Every acknowledgment is per resource and per rule, never for a stack or the app, and is recorded
in the resource's template ``Metadata`` under ``drtiers:acknowledged`` (checker -> rule -> reason)
so that reviewers and ``make check`` can list them.

- ``cfn-lint``: the rule goes into ``Metadata.cfn-lint.config.ignore_checks`` (read by the pinned
  cfn-lint) and is acknowledged for CDK's built-in CloudFormation validation too.
- ``cdk-builtin``: CDK's built-in CloudFormation validation only (its copy of cfn-lint and its
  schemas can lag the pinned cfn-lint's), never the pinned cfn-lint.
- ``cdk-nag``, ``guard``: acknowledged through ``Validations.of(resource).acknowledge``, which
  cdk-nag 3 and the policy-validation framework honour.
"""

from __future__ import annotations

from typing import Literal

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

Checker = Literal["cfn-lint", "cdk-builtin", "cdk-nag", "guard"]
_VALIDATION_PREFIX = {
    "cfn-lint": "CloudFormation-Validate::",
    "cdk-builtin": "CloudFormation-Validate::",  # the CDK's own copy of cfn-lint only
    "cdk-nag": "",
    "guard": "cdk-validator-cfnguard::",
}
ACKNOWLEDGED = "drtiers:acknowledged"


def acknowledge(
    resource: IConstruct | None, rule: str, reason: str, checker: Checker = "cfn-lint"
) -> None:
    """Acknowledge ``checker``'s ``rule`` on this one L1 resource, for ``reason``."""
    if not isinstance(resource, CfnResource):
        raise TypeError(f"acknowledge {rule}: {resource!r} is not a CloudFormation resource")
    if not reason.strip():
        raise ValueError(f"acknowledge {rule}: a reason is required")
    if checker == "cfn-lint":
        metadata = resource.get_metadata("cfn-lint") or {"config": {"ignore_checks": []}}
        if rule not in metadata["config"]["ignore_checks"]:
            metadata["config"]["ignore_checks"].append(rule)
        resource.add_metadata("cfn-lint", metadata)
    recorded = resource.get_metadata(ACKNOWLEDGED) or {}
    recorded.setdefault(checker, {})[rule] = reason
    resource.add_metadata(ACKNOWLEDGED, recorded)
    Validations.of(resource).acknowledge(
        Acknowledgment(id=f"{_VALIDATION_PREFIX[checker]}{rule}", reason=reason)
    )
