"""The zone stack: the app's public hosted zone, created once and shared by its tiers.

Without a ``hosted_zone_id`` every tier's records need a zone named ``domain_name``, and of
several zones with one name only one can be delegated. So one stack per app (``<app>-zone``, in
the edge region) holds it, whatever tiers are synthesized: its template is the same for one tier
or four, and deploying tier after tier leaves it unchanged. Each edge stack reads its id.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, Stack, Tags
from aws_cdk import aws_route53 as route53
from constructs import Construct

from drtiers.config.context import EDGE_REGION, DrConfig
from drtiers.core.tiers import APP_TAG, ROLE_TAG, StackRole

ZONE_ID = "HostedZoneId"


class ZoneStack(Stack):
    """``<app>-zone``: the public hosted zone ``domain_name``, retained (sandbox: deleted with
    the stack, which fails while another tier's records are in it: "You can delete a hosted zone
    only if it contains only the default SOA record and NS resource record sets",
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHostedZone.html, read
    2026-12-04)."""

    def __init__(self, scope: Construct, *, config: DrConfig) -> None:
        name = f"{config.app_name}-{StackRole.ZONE}"
        super().__init__(
            scope,
            name,
            stack_name=name,
            description=f"drtiers: the public hosted zone {config.domain_name}, for every tier",
            env={"account": config.account, "region": EDGE_REGION},
            termination_protection=not config.sandbox,
            analytics_reporting=False,
            # A role and no tier: no tier owns it; the assembly reader adds it to every tier.
            tags={APP_TAG: config.app_name, ROLE_TAG: StackRole.ZONE.value},
        )
        Tags.of(self).add(APP_TAG, config.app_name)
        Tags.of(self).add(ROLE_TAG, StackRole.ZONE.value)
        self.zone = route53.PublicHostedZone(self, "Zone", zone_name=config.domain_name)
        self.zone.apply_removal_policy(
            RemovalPolicy.DESTROY if config.sandbox else RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        )
        # A plain output, read with Fn::GetStackOutput like every value between drtiers stacks.
        output = CfnOutput(
            self, ZONE_ID, value=self.zone.hosted_zone_id, description="The app's hosted zone"
        )
        output.override_logical_id(ZONE_ID)
