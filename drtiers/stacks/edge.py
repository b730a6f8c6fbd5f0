"""The edge stack: the tier's entry point (Route 53 records, health check, accelerator).

It lives in us-east-1, home of Route 53's control plane and of its health-check metrics (so the
health-check alarm can exist at all). Failover never needs this stack to change: Route 53 and
the accelerator act on health checks in their data planes.
"""

from __future__ import annotations

from aws_cdk import aws_route53 as route53
from constructs import Construct

from drtiers.config.context import EDGE_REGION, DrConfig
from drtiers.constructs.accelerator import Accelerator, AcceleratorEndpointGroup
from drtiers.constructs.alarms import Alarms
from drtiers.constructs.app import HTTPS_PORT, LISTENER_PORT
from drtiers.constructs.dns_failover import AlarmRef, AliasTarget, FailoverRecords
from drtiers.constructs.keys import DataKey
from drtiers.core.tiers import StackRole, TierSpec
from drtiers.stacks.base import TierStack
from drtiers.stacks.regional import LB_ARN, LB_DNS, LB_ZONE
from drtiers.stacks.zone import ZONE_ID, ZoneStack


class EdgeStack(TierStack):
    """The entry point the tier record names, in the hosted zone given or the app's zone stack's."""

    def __init__(
        self, scope: Construct, *, config: DrConfig, tier: TierSpec, zone: ZoneStack | None
    ) -> None:
        super().__init__(
            scope,
            config=config,
            tier=tier,
            role=StackRole.EDGE,
            region=EDGE_REGION,
            description="entry point: " + tier.entry_point.value,
        )
        # The zone given, or the app's zone stack's (one zone per app, whatever the tiers).
        if zone is None:
            assert config.hosted_zone_id is not None, "no zone stack and no hosted_zone_id"
            zone_id = config.hosted_zone_id
        else:
            zone_id = self.read(zone, ZONE_ID)
        self.zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=zone_id, zone_name=config.domain_name
        )
        self.record_name = self.entry_name

    def _target(self, stack: TierStack) -> AliasTarget:
        return AliasTarget(
            dns_name=self.read(stack, LB_DNS), hosted_zone_id=self.read(stack, LB_ZONE)
        )

    def fail_over(
        self, primary: TierStack, recovery: TierStack, recovery_writable: AlarmRef | None
    ) -> FailoverRecords:
        """pilot-light, warm-standby: health-checked PRIMARY, SECONDARY to R, both following
        the recovery database's writable alarm where there is one."""
        records = FailoverRecords(
            self,
            "Entry",
            zone=self.zone,
            record_name=self.record_name,
            primary=self._target(primary),
            secondary=self._target(recovery),
            health_check_path=self.config.service.health_check_path,
            https=self.config.https,
            request_interval_seconds=self.config.workload.entry_point.health_check.interval_seconds,
            failure_threshold=self.config.workload.entry_point.health_check.failure_threshold,
            recovery_writable=recovery_writable,
        )
        self.alarms = alarms = Alarms(
            self,
            "Alarms",
            name_prefix=self.resource_name("edge"),
            key=DataKey(
                self, "DataKey", description="Edge alarm topic", removal_policy=self.retain_policy
            ).key,
        )
        alarms.health_check(records.health_check.attr_health_check_id)
        return records

    def accelerate(self, *serving: TierStack) -> Accelerator:
        """backup-restore, multi-site: the accelerator, its listener and one endpoint group per
        serving stack's load balancer, each dial at 100 % (failover follows health checks)."""
        # With HTTPS, 80 stays open too: the load balancers redirect it to 443.
        accelerator = Accelerator(
            self,
            "Entry",
            name=self.resource_name("entry"),
            ports=(HTTPS_PORT, LISTENER_PORT) if self.config.https else (LISTENER_PORT,),
        )
        accelerator.alias_record(self.zone, self.record_name)
        for stack in serving:
            AcceleratorEndpointGroup(
                self,
                f"{stack.role.title()}Group",
                listener_arn=accelerator.listener.listener_arn,
                load_balancer_arn=self.read(stack, LB_ARN),
                endpoint_group_region=stack.region,
                health_check_path=self.config.service.health_check_path,
                https=self.config.https,
            )
        return accelerator
