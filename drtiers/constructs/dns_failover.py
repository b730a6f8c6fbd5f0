"""DNS failover: Route 53 health check and PRIMARY / SECONDARY failover alias records.

Failing over is Route 53's data plane acting on a health check: no API call, no record change,
nothing that depends on a control plane during the outage.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_route53 as route53
from constructs import Construct


@dataclass(frozen=True)
class AliasTarget:
    """Where an alias record points: a load balancer's DNS name and its canonical zone id."""

    dns_name: str
    hosted_zone_id: str


def _alias(target: AliasTarget) -> route53.CfnRecordSet.AliasTargetProperty:
    return route53.CfnRecordSet.AliasTargetProperty(
        dns_name=target.dns_name,
        hosted_zone_id=target.hosted_zone_id,
        evaluate_target_health=True,
    )


@dataclass(frozen=True)
class AlarmRef:
    """A CloudWatch alarm named across regions (a fixed name, so no stack reference)."""

    region: str
    name: str


class FailoverRecords(Construct):
    """A health check on the primary endpoint, a PRIMARY record that uses it and a SECONDARY
    record that Route 53 answers with while the primary is unhealthy.

    Detection takes about ``request_interval_seconds`` x ``failure_threshold``.

    With ``recovery_writable``, failover and failback both follow the database: the PRIMARY is
    healthy only while its endpoint answers *and* that alarm (the recovery region's database
    has been declared the writer) is not in ALARM, and the SECONDARY only while it is. So
    traffic moves to the recovery region once its database is promoted and declared, and
    returns only after a deliberate failback declares the primary again; a returning primary
    region gets no traffic by itself. Route 53 reads health checks and CloudWatch data in its
    data plane; the declaration is a CloudWatch data-plane call in the recovery region.

    :param request_interval_seconds: 10 or 30. Default 30 (10 costs extra).
    :param failure_threshold: 1..10. Default 3.
    :param health_check_path: path probed on the primary load balancer. Default ``/``.
    :param https: probe the primary over HTTPS on 443 (SNI on) instead of HTTP on 80. The
        name probed is the load balancer's own, which no certificate can carry: Route 53 then
        retries the handshake without SNI and the listener answers with its certificate.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        zone: route53.IHostedZone,
        record_name: str,
        primary: AliasTarget,
        secondary: AliasTarget,
        health_check_path: str = "/",
        request_interval_seconds: int = 30,
        failure_threshold: int = 3,
        https: bool = False,
        recovery_writable: AlarmRef | None = None,
    ) -> None:
        super().__init__(scope, id_)
        _check_props(request_interval_seconds, failure_threshold)
        self.request_interval_seconds = request_interval_seconds
        self.failure_threshold = failure_threshold
        self.health_check = self._primary_health(primary, path=health_check_path, https=https)
        primary_check, secondary_check = self.health_check.attr_health_check_id, None
        if recovery_writable is not None:
            primary_check, secondary_check = self._follow_the_database(recovery_writable)
        self.primary_record = self._record(
            "Primary", zone=zone, name=record_name, target=primary, health_check_id=primary_check
        )
        self.secondary_record = self._record(
            "Secondary",
            zone=zone,
            name=record_name,
            target=secondary,
            health_check_id=secondary_check,
        )

    def _primary_health(
        self, primary: AliasTarget, *, path: str, https: bool
    ) -> route53.CfnHealthCheck:
        """The health check that probes the primary load balancer at ``path``."""
        return route53.CfnHealthCheck(
            self,
            "PrimaryHealth",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="HTTPS" if https else "HTTP",
                fully_qualified_domain_name=primary.dns_name,
                port=443 if https else 80,
                enable_sni=True if https else None,
                resource_path=path,
                request_interval=self.request_interval_seconds,
                failure_threshold=self.failure_threshold,
            ),
        )

    def _follow_the_database(self, recovery_writable: AlarmRef) -> tuple[str, str]:
        """The ids of the PRIMARY's check (its endpoint answers and the recovery region is not
        declared the writer) and the SECONDARY's (the recovery region is declared)."""
        # Healthy while the declared metric is below 1. Between declarations there is no
        # data, and the check keeps its last known status (healthy before the first).
        not_promoted = route53.CfnHealthCheck(
            self,
            "RecoveryNotWritable",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="CLOUDWATCH_METRIC",
                alarm_identifier=route53.CfnHealthCheck.AlarmIdentifierProperty(
                    region=recovery_writable.region, name=recovery_writable.name
                ),
                insufficient_data_health_status="LastKnownStatus",
            ),
        )
        primary_serves = route53.CfnHealthCheck(
            self,
            "PrimaryServes",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="CALCULATED",
                child_health_checks=[
                    self.health_check.attr_health_check_id,
                    not_promoted.attr_health_check_id,
                ],
                health_threshold=2,
            ),
        )
        recovery_writes = route53.CfnHealthCheck(
            self,
            "RecoveryWritable",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="CALCULATED",
                child_health_checks=[not_promoted.attr_health_check_id],
                health_threshold=1,
                inverted=True,
            ),
        )
        return primary_serves.attr_health_check_id, recovery_writes.attr_health_check_id

    def _record(
        self,
        id_: str,
        *,
        zone: route53.IHostedZone,
        name: str,
        target: AliasTarget,
        health_check_id: str | None,
    ) -> route53.CfnRecordSet:
        """The failover alias record ``id_`` to ``target``: ``Primary`` or ``Secondary``, which
        in lower case is its set identifier and in upper case its failover role."""
        return route53.CfnRecordSet(
            self,
            id_,
            hosted_zone_id=zone.hosted_zone_id,
            name=name,
            type="A",
            set_identifier=id_.lower(),
            failover=id_.upper(),
            health_check_id=health_check_id,
            alias_target=_alias(target),
        )


def _check_props(request_interval_seconds: int, failure_threshold: int) -> None:
    """Refuse an interval or a threshold Route 53 does not accept."""
    if request_interval_seconds not in (10, 30):
        raise ValueError(
            f"FailoverRecords: request_interval_seconds {request_interval_seconds} is not "
            "10 or 30 (the values Route 53 accepts)"
        )
    if not 1 <= failure_threshold <= 10:
        raise ValueError(f"FailoverRecords: failure_threshold {failure_threshold} is outside 1..10")
