"""AWS Resilience Hub targets: a resiliency policy with an RTO and an RPO per disruption type,
and the Resilience Hub application that is assessed against it (docs/decisions.md, 23).

Props in, resources out: the numbers and the stack names arrive as plain values, so the same
construct serves any estimate. Every value is checked here, before a resource exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import aws_resiliencehub as resiliencehub
from constructs import Construct

# The policy's disruption types, as AWS::ResilienceHub::ResiliencyPolicy PolicyMap names them.
# AZ, Hardware and Software are required there; Region is optional.
DISRUPTIONS = ("AZ", "Hardware", "Software", "Region")
REQUIRED_DISRUPTIONS = ("AZ", "Hardware", "Software")
POLICY_TIERS = ("MissionCritical", "Critical", "Important", "CoreServices", "NonCritical")
# PolicyName and App Name share this pattern in the CloudFormation schema.
_HUB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{1,59}$")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_REGION = re.compile(r"^[a-z]{2}-((iso[a-z]?-)|(gov-))?[a-z]+-[0-9]$")
# An application with no resources yet: the tier's stacks are imported into its draft after
# they are deployed (their ARNs carry an id CloudFormation assigns; see decision 23).
EMPTY_APP_TEMPLATE = json.dumps({"resources": [], "appComponents": [], "version": 2.0})


@dataclass(frozen=True)
class SourceStack:
    """A CloudFormation stack whose resources the application covers, by its fixed name."""

    name: str
    region: str


def _check_name(what: str, value: str) -> None:
    if not isinstance(value, str) or not _HUB_NAME.match(value):
        raise ValueError(
            f"ResilienceTargets: {what} {value!r} is not valid; allowed: 2-60 letters, digits, "
            "hyphens or underscores, starting with a letter or digit"
        )


def _check_targets(targets: Mapping[str, tuple[int, int]]) -> None:
    unknown = sorted(set(targets) - set(DISRUPTIONS))
    missing = [d for d in REQUIRED_DISRUPTIONS if d not in targets]
    if unknown or missing:
        raise ValueError(
            f"ResilienceTargets: targets name {sorted(targets)}; allowed: "
            f"{', '.join(REQUIRED_DISRUPTIONS)} (required) and Region (optional)"
        )
    for disruption, pair in targets.items():
        if (
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in pair)
        ):
            raise ValueError(
                f"ResilienceTargets: target {disruption} {pair!r} is not valid; allowed: "
                "(rto_seconds, rpo_seconds), whole numbers >= 0 (the policy takes integers)"
            )


def _check_stacks(stacks: Sequence[SourceStack]) -> None:
    if not stacks:
        raise ValueError("ResilienceTargets: no stacks; allowed: one or more stacks to assess")
    names = [s.name for s in stacks]
    if len(set(names)) != len(names):
        raise ValueError(f"ResilienceTargets: stacks {names} repeat a name; allowed: each once")
    for stack in stacks:
        if not _STACK_NAME.match(stack.name) or not _REGION.match(stack.region):
            raise ValueError(
                f"ResilienceTargets: stack {stack.name!r} in {stack.region!r} is not valid; "
                "allowed: a CloudFormation stack name and an AWS region code"
            )


def _check_policy_tier(policy_tier: str) -> None:
    if policy_tier not in POLICY_TIERS:
        raise ValueError(
            f"ResilienceTargets: policy_tier {policy_tier!r} is not valid; allowed: "
            + ", ".join(POLICY_TIERS)
        )


def _app_description(tier_name: str, stacks: Sequence[SourceStack]) -> str:
    """The application's description, naming the stacks it covers (at most 500 characters)."""
    covered = ", ".join(f"{s.name} ({s.region})" for s in stacks)
    description = f"drtiers {tier_name}: assesses the stacks {covered}"
    if len(description) > 500:
        raise ValueError(
            f"ResilienceTargets: the description naming {len(stacks)} stacks is "
            f"{len(description)} characters; allowed: 500 (the App's limit)"
        )
    return description


class ResilienceTargets(Construct):
    """A resiliency policy (RTO/RPO per disruption type, in seconds) and a Resilience Hub
    application that uses it, described as covering ``stacks``.

    :param policy_name: the policy's name (2-60 letters, digits, ``-``, ``_``).
    :param app_name: the application's name (same rule).
    :param targets: disruption type (``AZ``, ``Hardware``, ``Software``, optionally ``Region``)
        to ``(rto_seconds, rpo_seconds)``, whole seconds.
    :param stacks: the stacks the application covers, imported after they are deployed.
    :param tier_name: the DR tier, for the descriptions.
    :param policy_tier: Resilience Hub's criticality label for the policy.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        policy_name: str,
        app_name: str,
        targets: Mapping[str, tuple[int, int]],
        stacks: Sequence[SourceStack],
        tier_name: str,
        policy_tier: str = "Critical",
    ) -> None:
        _check_name("policy_name", policy_name)
        _check_name("app_name", app_name)
        _check_targets(targets)
        _check_stacks(stacks)
        _check_policy_tier(policy_tier)
        description = _app_description(tier_name, stacks)
        super().__init__(scope, id_)
        self.targets = dict(targets)
        self.stacks = tuple(stacks)
        self.policy = resiliencehub.CfnResiliencyPolicy(
            self,
            "Policy",
            policy_name=policy_name,
            tier=policy_tier,
            data_location_constraint="AnyLocation",
            policy_description=(
                f"drtiers {tier_name}: the RTO and RPO its estimate shows, per disruption type"
            )[:500],
            policy={
                disruption: resiliencehub.CfnResiliencyPolicy.FailurePolicyProperty(
                    rto_in_secs=rto, rpo_in_secs=rpo
                )
                for disruption, (rto, rpo) in targets.items()
            },
        )
        self.app = self._app(app_name, description=description)

    def _app(self, name: str, *, description: str) -> resiliencehub.CfnApp:
        """The application, assessed against the policy, with no resources until the stacks
        are imported."""
        return resiliencehub.CfnApp(
            self,
            "App",
            name=name,
            description=description,
            resiliency_policy_arn=self.policy.attr_policy_arn,
            app_template_body=EMPTY_APP_TEMPLATE,
            # Stack mappings need each stack's ARN, which ends in an id CloudFormation assigns
            # at creation: imported after deploy instead (README, "Resilience Hub").
            resource_mappings=[],
            # Assessments are started after the import; a daily one before it would fail.
            app_assessment_schedule="Disabled",
            # The import and the assessments run with the credentials of whoever starts them.
            permission_model=resiliencehub.CfnApp.PermissionModelProperty(type="LegacyIAMUser"),
        )
