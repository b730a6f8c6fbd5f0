"""Accelerator: AWS Global Accelerator with one endpoint group per region.

CloudFormation accepts these resources in any region; the accelerator, its listener and the
endpoint groups live in the edge stack (a rebuilt primary adds its own group). The Global
Accelerator API is served only from us-west-2, so changing a traffic dial is a control-plane
call: failover relies on the endpoint groups' health checks instead, with the dials at 100 %.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_globalaccelerator as ga
from aws_cdk import aws_route53 as route53
from constructs import Construct

GLOBAL_ACCELERATOR_ZONE_ID = "Z2BJ6XQ5FK7U4H"  # Route 53 alias zone for all accelerators


class Accelerator(Construct):
    """An accelerator with one TCP listener.

    :param ports: the listener's (and endpoints') ports, each passed through as it is.
        Default 80 only.
    """

    def __init__(
        self, scope: Construct, id_: str, *, name: str, ports: Sequence[int] = (80,)
    ) -> None:
        super().__init__(scope, id_)
        if not ports or not all(1 <= p <= 65535 for p in ports):
            raise ValueError(f"Accelerator: ports {list(ports)} must be 1..65535, at least one")
        self.ports = tuple(ports)
        self.accelerator = ga.Accelerator(self, "Accelerator", accelerator_name=name)
        self.listener = self.accelerator.add_listener(
            "Listener",
            port_ranges=[ga.PortRange(from_port=p, to_port=p) for p in ports],
            protocol=ga.ConnectionProtocol.TCP,
            client_affinity=ga.ClientAffinity.NONE,
        )
        self.dns_name = self.accelerator.dns_name
        self.alias_zone_id = GLOBAL_ACCELERATOR_ZONE_ID

    def alias_record(self, zone: route53.IHostedZone, record_name: str) -> route53.CfnRecordSet:
        return route53.CfnRecordSet(
            self,
            "Alias",
            hosted_zone_id=zone.hosted_zone_id,
            name=record_name,
            type="A",
            alias_target=route53.CfnRecordSet.AliasTargetProperty(
                dns_name=self.dns_name,
                hosted_zone_id=self.alias_zone_id,
                evaluate_target_health=True,
            ),
        )


class AcceleratorEndpointGroup(Construct):
    """One region's endpoint group: one load balancer. CloudFormation accepts it in any
    region's stack; drtiers keeps it beside the listener in the edge stack, so that no regional
    stack reads the edge's outputs (a stack that does cannot be updated while the edge's region
    is lost). For a load balancer the accelerator follows its target-group health; the group's
    own health-check settings apply to EC2 and Elastic IP endpoints only
    (https://docs.aws.amazon.com/global-accelerator/latest/dg/about-endpoint-groups.html,
    read 2026-11-28).

    :param endpoint_group_region: the region of the load balancer.

    :param traffic_dial_percentage: 0..100. Default 100: every region serves, and an unhealthy
        one is drained by health checks, not by a dial change.
    :param https: health checks over HTTPS on 443 (the load balancer's HTTPS listener)
        instead of HTTP on ``port``. Default False.
    :param health_check_interval_seconds: 10 or 30. Default 10.
    :param threshold_count: consecutive checks to change state, 1..10. Default 3.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        listener_arn: str,
        load_balancer_arn: str,
        endpoint_group_region: str,
        port: int = 80,
        health_check_path: str = "/",
        https: bool = False,
        traffic_dial_percentage: int = 100,
        health_check_interval_seconds: int = 10,
        threshold_count: int = 3,
    ) -> None:
        super().__init__(scope, id_)
        if not 0 <= traffic_dial_percentage <= 100:
            raise ValueError(
                f"AcceleratorEndpointGroup: traffic_dial_percentage "
                f"{traffic_dial_percentage} is outside 0..100"
            )
        if health_check_interval_seconds not in (10, 30):
            raise ValueError(
                f"AcceleratorEndpointGroup: health_check_interval_seconds "
                f"{health_check_interval_seconds} is not 10 or 30"
            )
        if not 1 <= threshold_count <= 10:
            raise ValueError(
                f"AcceleratorEndpointGroup: threshold_count {threshold_count} is outside 1..10"
            )
        self.endpoint_group = ga.CfnEndpointGroup(
            self,
            "Group",
            listener_arn=listener_arn,
            endpoint_group_region=endpoint_group_region,
            endpoint_configurations=[
                ga.CfnEndpointGroup.EndpointConfigurationProperty(
                    endpoint_id=load_balancer_arn,
                    weight=128,
                    client_ip_preservation_enabled=True,
                )
            ],
            health_check_protocol="HTTPS" if https else "HTTP",
            health_check_port=443 if https else port,
            health_check_path=health_check_path,
            health_check_interval_seconds=health_check_interval_seconds,
            threshold_count=threshold_count,
            traffic_dial_percentage=traffic_dial_percentage,
        )
