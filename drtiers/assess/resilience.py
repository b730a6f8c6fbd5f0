"""The targets a tier's estimate shows, per Resilience Hub disruption type: what the opt-in
Resilience Hub stack (drtiers.stacks.resilience) sets as its resiliency policy (decision 23)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from drtiers.assess.model import Estimate
from drtiers.core.facts import with_overrides

# The estimate's cost line for a Multi-AZ RDS instance (drtiers.assess.model names it so).
MULTI_AZ_LINE = "RDS Multi-AZ "


def _seconds(value: float) -> int:
    """Whole seconds, rounded up: the policy takes integers, and a target rounded down would
    be stricter than the estimate it repeats."""
    return math.ceil(value)


def resilience_targets(
    estimate: Estimate, overrides: Mapping[str, float] | None = None
) -> dict[str, tuple[int, int]]:
    """(RTO, RPO) in whole seconds per Resilience Hub disruption type, from a tier's estimate.

    - Region: the estimate's RTO and RPO (the loss of the primary region).
    - AZ and Hardware (a zone, or an instance or host, in P): the database fails over inside P
      (Multi-AZ RDS to its standby, Aurora to its reader in another zone) and Fargate replaces
      the tasks it lost, whichever takes longer; both copies are synchronous, so no data is
      lost. A tier whose primary database cannot fail over inside P recovers as from a Region.
    - Software (a bad change or corrupted data): decide, then restore the database to just
      before the fault; the data since the latest restorable time is lost.

    ``overrides`` are the estimate's assumptions (context ``assumptions``)."""
    figures, workload = with_overrides(overrides or {})
    p = estimate.primary_region
    in_p = [type_ for region, type_, _ in estimate.resource_keys if region == p]
    instances = in_p.count("AWS::RDS::DBInstance")
    failover: float | None = None
    if "AWS::RDS::DBCluster" in in_p:
        if instances >= 2:  # a writer and a reader to promote
            failover = figures["aurora_in_region_failover_seconds"].value
    elif any(line.region == p and line.item.startswith(MULTI_AZ_LINE) for line in estimate.cost):
        failover = figures["rds_multi_az_failover_seconds"].value
    region = (_seconds(estimate.rto_seconds), _seconds(estimate.rpo_seconds))
    if failover is None:
        in_region = region
    else:
        tasks = figures["task_start_seconds"].value if "AWS::ECS::Service" in in_p else 0.0
        in_region = (_seconds(max(failover, tasks)), 0)
    restore_hours = workload["database_size_gb"] / figures["restore_rate_gb_per_hour"].value
    software = (
        _seconds(figures["outage_decision_seconds"].value + restore_hours * 3600),
        _seconds(figures["restorable_lag_seconds"].value),
    )
    return {"AZ": in_region, "Hardware": in_region, "Software": software, "Region": region}
