"""How much of each Service Quota a deploy of a tier uses, counted in its synthesized templates
(never listed per tier): per region, per Availability Zone or per account, as the quota
applies. A count above what a new account's default allows needs a quota increase first."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.core.quotas import Quota, default_quotas


@dataclass(frozen=True)
class QuotaUse:
    quota: Quota
    where: str  # the region, the Availability Zone, or "account"
    uses: float

    @property
    def above_default(self) -> bool:
        """More than a new account's default allows (a default nobody states is never)."""
        usable = self.quota.usable
        return usable is not None and self.uses > usable


def _ref(value: object) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def _count(tier: TierAssembly, type_: str, keep: Callable[[Resource], bool] = bool) -> Counter[str]:
    """Resources of ``type_`` per region."""
    return Counter(r.region for r in tier.of_type(type_) if keep(r))


def _reserved(tier: TierAssembly) -> Counter[str]:
    """Reserved concurrent executions per region."""
    uses: Counter[str] = Counter()
    for function in tier.of_type("AWS::Lambda::Function"):
        uses[function.region] += function.prop("ReservedConcurrentExecutions", default=0)
    return +uses  # only the regions that reserve


def _nat_gateways(tier: TierAssembly) -> Counter[str]:
    """NAT gateways per Availability Zone: the zone of the subnet each one is in."""
    uses: Counter[str] = Counter()
    for nat in tier.of_type("AWS::EC2::NatGateway"):
        subnet = tier.by_id(nat.stack, _ref(nat.prop("SubnetId")) or "")
        zone = subnet.prop("AvailabilityZone") if subnet is not None else None
        uses[zone if isinstance(zone, str) else f"{nat.region} (zone unknown)"] += 1
    return uses


def _fargate_vcpus(tier: TierAssembly) -> dict[str, float]:
    """vCPUs of the tasks each service runs as synthesized (desired count x task CPU)."""
    uses: dict[str, float] = defaultdict(float)
    for service in tier.of_type("AWS::ECS::Service"):
        task = tier.by_id(service.stack, _ref(service.prop("TaskDefinition")) or "")
        if task is None or "FARGATE" not in task.prop("RequiresCompatibilities", default=[]):
            continue
        vcpus = int(task.prop("Cpu")) / 1024  # CPU units: 1024 a vCPU
        uses[service.region] += service.prop("DesiredCount", default=1) * vcpus
    return uses


def _application_load_balancer(balancer: Resource) -> bool:
    return bool(balancer.prop("Type", default="application") == "application")


_COUNTERS: dict[str, Callable[[TierAssembly], Mapping[str, float]]] = {
    "concurrent_executions": _reserved,
    "vpcs": lambda t: _count(t, "AWS::EC2::VPC"),
    "elastic_ips": lambda t: _count(t, "AWS::EC2::EIP"),
    "nat_gateways": _nat_gateways,
    "application_load_balancers": lambda t: _count(
        t, "AWS::ElasticLoadBalancingV2::LoadBalancer", _application_load_balancer
    ),
    "accelerators": lambda t: Counter(
        {"account": len(t.of_type("AWS::GlobalAccelerator::Accelerator"))}
    ),
    "db_instances": lambda t: _count(t, "AWS::RDS::DBInstance"),
    "db_clusters": lambda t: _count(t, "AWS::RDS::DBCluster"),
    "fargate_vcpus": _fargate_vcpus,
}


def quota_use(tier: TierAssembly) -> list[QuotaUse]:
    """Every quota the tier's deploy uses, where it uses it, in quotas.json's order."""
    quotas = default_quotas()
    return [
        QuotaUse(quota=quotas[key], where=where, uses=uses)
        for key, count in _COUNTERS.items()
        for where, uses in sorted(count(tier).items())
        if uses > 0
    ]
