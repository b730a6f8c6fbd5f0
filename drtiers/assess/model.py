"""RTO, RPO and monthly cost of a tier, derived from its synthesized resources.

RPO: per data store, for the loss of the primary region; the tier's RPO is the worst of them.
RTO: the tier's failover step list (drtiers.recovery.steps), scheduled: each step starts when
the steps it waits for end, and the RTO is when the last step recovery waits for ends. The
simulator runs the same list, so the two cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from drtiers.assembly.notices import notices
from drtiers.assembly.queries import (
    BackupRule,
    air_gapped_vaults,
    aurora_clusters,
    backed_up_types,
    backup_rules,
    copied_vault,
    dax_clusters,
    db_instances,
    has_database,
    health_checks,
    proxy_targets,
    queues,
    recovery_database,
    replica_regions,
    restore_tests,
    secret_replica_regions,
    services,
    strong_regions,
    table_replica_regions,
    tasks,
    workload_tables,
)
from drtiers.assembly.reader import AssemblyError, Resource, TierAssembly
from drtiers.assembly.world import World, read_world
from drtiers.assess.quotas import QuotaUse, quota_use
from drtiers.assess.support import billed_band, standard_support
from drtiers.core.durations import format_range
from drtiers.core.facts import (
    Figure,
    ParameterError,
    Price,
    at_end,
    instance_vcpus,
    price,
    price_data,
    price_file_name,
    priced_on,
)
from drtiers.core.tiers import (
    RESTORE_TEST_CADENCES,
    RESTORE_TEST_VALIDATION_HOURS,
    RecoveryDatabase,
    StackRole,
)
from drtiers.recovery.steps import failover_steps, schedule

DAY = 86400
AddLine = Callable[..., None]
_Copied = tuple[float, str, tuple[str, ...]]  # seconds, how, sources of a backup copy's RPO


@dataclass(frozen=True)
class RtoStep:
    """A step of the recovery timeline as the estimate counts it (the step list's Step, timed)."""

    name: str
    seconds: float
    how: str
    sources: tuple[str, ...]
    start: float = 0.0
    counts: bool = True  # the RTO waits for it (housekeeping steps do not count)
    after: tuple[str, ...] = ()  # the steps it waits for

    @property
    def end(self) -> float:
        return self.start + self.seconds


@dataclass(frozen=True)
class StoreRpo:
    store: str
    seconds: float | None  # None: not lost, only delayed
    how: str
    sources: tuple[str, ...]
    low: float | None = None  # with every figure at its low and at its high end
    high: float | None = None


@dataclass(frozen=True)
class CostLine:
    item: str
    region: str
    quantity: float
    unit_price: Price
    monthly_usd: float
    capacity: str = ""  # what it is capacity of ("database", "tasks", ...); "" for usage


@dataclass(frozen=True)
class EventLine:
    """What running failed over adds to the steady state: per hour of the event, or once."""

    item: str
    region: str
    usd_per_hour: float  # 0 for a one-off line
    usd_once: float
    how: str
    sources: tuple[str, ...]


@dataclass
class Estimate:
    tier: str
    primary_region: str
    recovery_region: str
    recovery_holds: str
    rpo: list[StoreRpo] = field(default_factory=list)
    rto_steps: list[RtoStep] = field(default_factory=list)
    cost: list[CostLine] = field(default_factory=list)
    resource_keys: frozenset[tuple[str, str, str]] = frozenset()  # (region, type, logical id)
    event: list[EventLine] = field(default_factory=list)  # running failed over, over steady
    hours_per_month: float = 730.0
    price_file: str = ""
    # The same steps and stores scheduled with every figure at the low and at the high end of
    # its range (figures.json); rto_seconds and rpo_seconds are the typical values.
    rto_range: tuple[float, float] = (0.0, 0.0)
    rpo_range: tuple[float, float] = (0.0, 0.0)
    # The Service Quotas a deploy of the tier uses (drtiers.assess.quotas).
    quotas: list[QuotaUse] = field(default_factory=list)

    @property
    def rpo_seconds(self) -> float:
        return _rpo_seconds(self.rpo)

    @property
    def rto_seconds(self) -> float:
        return _rto_seconds(self.rto_steps)

    @property
    def rto_high_seconds(self) -> float:
        """What a target is held to: the RTO with every figure at its slow end."""
        return self.rto_range[1]

    @property
    def rpo_high_seconds(self) -> float:
        return self.rpo_range[1]

    @property
    def rto_text(self) -> str:
        """Typical with its range, as every output shows it: ``9.5 min (7.0-14.0 min)``."""
        return format_range(self.rto_seconds, *self.rto_range)

    @property
    def rpo_text(self) -> str:
        return format_range(self.rpo_seconds, *self.rpo_range)

    def critical_path(self) -> list[RtoStep]:
        """The counted steps the RTO waits for, first to last: from the step that ends last,
        back through the step each one started after (the longest, where several end then)."""
        counted = [s for s in self.rto_steps if s.counts]
        if not counted:
            return []
        by_name = {s.name: s for s in self.rto_steps}
        step = max(counted, key=lambda s: (s.end, s.seconds))
        path = [step]
        while True:
            before = [
                by_name[a] for a in step.after if a in by_name and by_name[a].end == step.start
            ]
            if not before:
                return path[::-1]
            step = max(before, key=lambda s: s.seconds)
            path.append(step)

    def dominant_step(self) -> RtoStep | None:
        """The longest step on the critical path: what to shorten first."""
        path = [s for s in self.critical_path() if s.seconds > 0]
        return max(path, key=lambda s: s.seconds) if path else None

    @property
    def monthly_cost_usd(self) -> float:
        return round(sum(line.monthly_usd for line in self.cost), 2)

    @property
    def unverified_prices(self) -> bool:
        return any(line.unit_price.status == "unverified" for line in self.cost)

    @property
    def steady_usd_per_hour(self) -> float:
        return round(self.monthly_cost_usd / self.hours_per_month, 2)

    @property
    def failed_over_usd_per_hour(self) -> float:
        """Steady state plus what running failed over adds, per hour of an event."""
        extra = sum(line.usd_per_hour for line in self.event)
        return round(self.monthly_cost_usd / self.hours_per_month + extra, 2)

    @property
    def failed_over_usd_per_day(self) -> float:
        return round(self.failed_over_usd_per_hour * 24, 2)

    @property
    def event_once_usd(self) -> float:
        return round(sum(line.usd_once for line in self.event), 2)

    @property
    def price_notes(self) -> list[str]:
        """One line per region priced as another (it has no prices of its own in the file)."""
        moved = sorted(
            {
                (line.unit_price.wanted_region, line.unit_price.region)
                for line in self.cost
                if line.unit_price.wanted_region
            }
        )
        return [
            f"no prices for {wanted} in {self.price_file}: priced as {used}, the nearest priced "
            "region (its nearest_priced_region table)"
            for wanted, used in moved
        ]


def _rpo_seconds(stores: list[StoreRpo]) -> float:
    return max(s.seconds for s in stores if s.seconds is not None)


def _rto_seconds(steps: list[RtoStep]) -> float:
    return max((step.end for step in steps if step.counts), default=0.0)


def _schedule_seconds(expression: str) -> float:
    """Interval of an AWS Backup schedule: ``rate(N unit)`` or a daily/hourly ``cron(...)``."""
    rate = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression)
    if rate:
        return int(rate[1]) * {"minute": 60, "hour": 3600, "day": DAY}[rate[2]]
    cron = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expression)
    if cron and cron[3] in ("*", "?") and cron[4] == "*" and cron[5] in ("*", "?"):
        if re.fullmatch(r"\d+", cron[2]):
            return DAY
        if cron[2] == "*":
            return 3600
        every = re.fullmatch(r"0/(\d+)", cron[2])
        if every and 24 % int(every[1]) == 0:  # an even interval only if it divides the day
            return int(every[1]) * 3600
    raise AssemblyError(f"backup schedule '{expression}' is not one drtiers can time")


class _Model:
    def __init__(
        self,
        tier: TierAssembly,
        figures: Mapping[str, Figure],
        workload: Mapping[str, float],
        world: World | None = None,
    ) -> None:
        self.tier = tier
        # What the tier runs, read from its templates once for the estimate's three models
        # (typical, low, high): reading it is most of an estimate's time.
        self.world = world
        self.f = figures
        self.w = workload
        self.p = tier.primary_region
        self.r = tier.recovery_region

    def figure(self, name: str) -> tuple[float, str]:
        figure = self.f[name]
        return figure.value, figure.label

    # --- what the recovery region holds -----------------------------------------------------
    def table_replicated(self) -> bool:
        return self.r in table_replica_regions(self.tier)

    def backup_copy_seconds(self) -> _Copied | None:
        """Backup interval + copy time, how, and sources, if a plan copies to a vault in the
        recovery region."""
        for rule in _backup_rules(self.tier):
            if rule.copies_to(self.r):
                copy, copy_source = self.figure("backup_copy_seconds")
                return (
                    _schedule_seconds(rule.schedule) + copy,
                    "last backup copied to the recovery region",
                    (f"backup schedule {rule.schedule} in the template", copy_source),
                )
        return None

    # --- RPO ------------------------------------------------------------------------------------
    def rpo(self) -> list[StoreRpo]:
        """Per data store, what the loss of the primary region loses (or delays)."""
        backup = self.backup_copy_seconds()
        stores = [*self._database_rpo(backup), *self._table_rpo(backup), *self._queue_rpo()]
        if not has_database(self.tier) and not workload_tables(self.tier):
            stores.append(
                StoreRpo("workload data", 0.0, "the workload keeps no database and no table", ())
            )
        if not any(s.seconds is not None for s in stores):
            raise AssemblyError(
                f"tier {self.tier.name}: no data store is protected in "
                f"{self.r}; nothing to estimate an RPO from"
            )
        return stores

    def _database_rpo(self, backup: _Copied | None) -> list[StoreRpo]:
        held = recovery_database(self.tier)
        if held is RecoveryDatabase.AURORA_SECONDARY:
            seconds, source = self.figure("aurora_global_replication_lag_seconds")
            how = "Aurora global database replication lag"
            return [StoreRpo("relational database", seconds, how, (source,))]
        if held is RecoveryDatabase.READ_REPLICA:
            seconds, source = self.figure("rds_replica_lag_seconds")
            how = "cross-region read replica lag"
            return [StoreRpo("relational database", seconds, how, (source,))]
        if backup and held is RecoveryDatabase.SNAPSHOT_COPIES:
            return [StoreRpo("relational database", *backup)]
        return []

    def _table_rpo(self, backup: _Copied | None) -> list[StoreRpo]:
        replicated = [t for t in workload_tables(self.tier) if self.r in replica_regions(t)]
        if replicated and all(strong_regions(t) for t in replicated):
            return [StoreRpo("DynamoDB table", 0.0, "multi-Region strong consistency", (MRSC,))]
        if self.table_replicated():
            seconds, source = self.figure("dynamodb_replication_seconds")
            return [StoreRpo("DynamoDB table", seconds, "global table replication", (source,))]
        if backup and workload_tables(self.tier):
            return [StoreRpo("DynamoDB table", *backup)]
        return []

    def _queue_rpo(self) -> list[StoreRpo]:
        queues = self.tier.of_type("AWS::SQS::Queue")
        if not queues:
            return []
        onward = "; new messages go to R's queue" if any(q.region == self.r for q in queues) else ""
        return [
            StoreRpo(
                "SQS messages in flight in P",
                None,
                "delayed, not lost: SQS keeps them in P (it does not replicate) until P returns"
                + onward,
                (
                    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
                    "sqs-basic-architecture.html",
                ),
            )
        ]

    # --- RTO ------------------------------------------------------------------------------------
    def rto(self) -> list[RtoStep]:
        world = self.world if self.world is not None else read_world(self.tier)
        steps = failover_steps(world, self.f, self.w)
        return [
            RtoStep(
                t.step.name,
                t.step.seconds,
                t.step.how,
                t.step.sources,
                t.start,
                t.step.in_rto,
                t.step.after,
            )
            for t in schedule(steps)
        ]

    # --- cost -----------------------------------------------------------------------------------
    def cost(self) -> list[CostLine]:
        """Every monthly cost line of the tier: its capacity, then its usage, service by
        service, in the order the estimate lists them."""
        hours = float(price_data()["hours_per_month"])
        lines: list[CostLine] = []

        def add(item: str, region: str, quantity: float, unit: Price, capacity: str = "") -> None:
            if quantity:
                lines.append(
                    CostLine(
                        item, region, quantity, unit, round(quantity * unit.value, 2), capacity
                    )
                )

        vcpus = self._instances(add, hours)
        self._extended_support(add, hours)
        self._clusters(add)
        self._proxies(add, hours, vcpus)
        self._dax(add, hours)
        self._tables(add, hours)
        self._queues(add)
        self._network(add, hours)
        self._fargate(add, hours)
        self._counted(add, hours)
        self._notices(add)
        self._secrets(add)
        self._health_check_options(add)
        self._backups(add)
        self._restore_tests(add)
        return lines

    def _instances(self, add: AddLine, hours: float) -> dict[tuple[str, str], float]:
        """Adds every database instance and its storage; returns the vCPUs behind each proxy
        target: (stack, logical id of the instance or of the cluster it belongs to)."""
        vcpus: dict[tuple[str, str], float] = {}
        for db in db_instances(self.tier):
            where = db.resource
            if not db.engine:
                raise ParameterError(
                    f"{where.stack}/{where.logical_id}: no Engine, and no instance it "
                    "replicates has one"
                )
            cls, engine = db.instance_class, db.engine
            unit = price("db_instance_hour", db.region, engine, cls)
            if db.cluster:
                add(f"Aurora instance {cls} ({engine})", db.region, hours, unit, "database")
                key = (where.stack, db.cluster)
            else:
                copies = 2 if db.multi_az else 1
                what = "Multi-AZ" if copies == 2 else "replica" if db.replica else "single-AZ"
                add(f"RDS {what} {cls} ({engine})", db.region, hours * copies, unit, "database")
                storage = self.w["database_size_gb"] if db.storage_gb is None else db.storage_gb
                add(
                    "RDS gp3 storage (GB-month)",
                    db.region,
                    storage * copies,
                    price("rds_gp3_gb_month", db.region),
                    "database",
                )
                key = (where.stack, where.logical_id)
            vcpus[key] = vcpus.get(key, 0) + instance_vcpus(cls)
        return vcpus

    def _extended_support(self, add: AddLine, hours: float) -> None:
        """RDS Extended Support for every instance whose major version is past its end of
        standard support on the price file's day, by its vCPUs (drtiers.assess.support)."""
        on = priced_on()
        for db in db_instances(self.tier):
            version = self._engine_version(db.resource, db.engine)
            support = standard_support(db.engine, version)
            band = billed_band(support, on) if support else None
            if support is None or band is None:
                continue
            copies = 2 if db.multi_az else 1  # the Multi-AZ standby is billed too
            add(
                f"RDS Extended Support {db.engine} {support.major}, {band} (vCPU-hours)",
                db.region,
                instance_vcpus(db.instance_class) * hours * copies,
                price("extended_support_vcpu_hour", db.region, band),
                "database",
            )

    def _engine_version(self, instance: Resource, engine: str) -> str:
        """An instance's EngineVersion; where it names none (an Aurora member, a replica, a
        restored instance), that of the tier's cluster or instance with its engine that does:
        a tier runs one version of its database."""
        own = instance.prop("EngineVersion")
        if own:
            return str(own)
        for other in [
            *self.tier.of_type("AWS::RDS::DBCluster"),
            *self.tier.of_type("AWS::RDS::DBInstance"),
        ]:
            if other.prop("Engine") == engine and other.prop("EngineVersion"):
                return str(other.prop("EngineVersion"))
        raise ParameterError(
            f"{instance.stack}/{instance.logical_id}: no EngineVersion, and no cluster or "
            f"instance of its engine {engine} names one"
        )

    def _clusters(self, add: AddLine) -> None:
        for cluster in aurora_clusters(self.tier):
            region = cluster.region
            add(
                "Aurora storage (GB-month)",
                region,
                self.w["database_size_gb"],
                price("aurora_storage_gb_month", region),
                "database",
            )
            if cluster.global_cluster:
                add(
                    "Aurora replicated write I/O (million)",
                    region,
                    self.w["aurora_write_io_million_per_month"],
                    price("aurora_replicated_write_io_million", region),
                )
            else:
                add(
                    "Aurora I/O (million)",
                    region,
                    self.w["aurora_io_million_per_month"],
                    price("aurora_io_million", region),
                )

    def _proxies(self, add: AddLine, hours: float, vcpus: dict[tuple[str, str], float]) -> None:
        """RDS Proxy bills by the vCPUs of the databases it targets."""
        for proxy in proxy_targets(self.tier):
            group = proxy.group
            cpus = sum(vcpus.get((group.stack, t), 0) for t in proxy.targets)
            add(
                "RDS Proxy (target vCPU-hours)",
                group.region,
                cpus * hours,
                price("rds_proxy_vcpu_hour", group.region),
                "database proxy",
            )

    def _dax(self, add: AddLine, hours: float) -> None:
        for dax in dax_clusters(self.tier):
            add(
                f"DAX nodes {dax.node_type}",
                dax.region,
                hours * dax.nodes,
                price("dax_node_hour", dax.region, dax.node_type),
                "DAX",
            )

    def _tables(self, add: AddLine, hours: float) -> None:
        # The workload figures are totals, shared evenly by the workload's tables and queues.
        tables = [t for t in workload_tables(self.tier) if t.type == "AWS::DynamoDB::GlobalTable"]
        for table in tables:
            provisioned = table.prop("BillingMode") == "PROVISIONED"
            for replica in table.prop("Replicas", default=[]):
                region = str(replica.get("Region"))
                if provisioned:  # billed by the hour for what is provisioned, used or not
                    self._provisioned(add, table, replica, hours, len(tables))
                else:  # each replica writes every write, at its price
                    add(
                        "DynamoDB writes incl. replicated (million)",
                        region,
                        self.w["table_writes_million_per_month"] / len(tables),
                        price("dynamodb_write_million", region),
                    )
                add(
                    "DynamoDB storage (GB-month)",
                    region,
                    self.w["table_size_gb"] / len(tables),
                    price("dynamodb_storage_gb_month", region),
                )
            if not provisioned:
                add(
                    "DynamoDB reads (million)",
                    table.region,
                    self.w["table_reads_million_per_month"] / len(tables),
                    price("dynamodb_read_million", table.region),
                )

    def _provisioned(
        self, add: AddLine, table: Resource, replica: Mapping[str, Any], hours: float, shared: int
    ) -> None:
        """A provisioned replica: its read capacity as the template sets it, and the write
        capacity its auto scaling keeps (the month's average writes per second at the target
        utilization, within the minimum and maximum), each unit billed per hour. AWS: "With
        provisioned capacity mode, you specify the number of data reads and writes per second
        that you require"; "auto scaling ... adjust your table's capacity based on the specified
        utilization rate" (https://aws.amazon.com/dynamodb/pricing/provisioned/, read
        2026-12-04)."""
        region = str(replica.get("Region"))
        reads = replica.get("ReadProvisionedThroughputSettings", {}).get("ReadCapacityUnits", 0)
        add(
            "DynamoDB read capacity (RCU-hours)",
            region,
            reads * hours,
            price("dynamodb_rcu_hour", region),
        )
        scaling = table.prop("WriteProvisionedThroughputSettings", default={}).get(
            "WriteCapacityAutoScalingSettings", {}
        )
        target = scaling.get("TargetTrackingScalingPolicyConfiguration", {}).get("TargetValue", 100)
        per_second = self.w["table_writes_million_per_month"] * 1e6 / shared / (hours * 3600)
        low, high = scaling.get("MinCapacity", 0), scaling.get("MaxCapacity", 0)
        writes = min(max(per_second * 100 / target, low), high)
        add(
            "DynamoDB write capacity incl. replicated (WCU-hours)",
            region,
            writes * hours,
            price("dynamodb_wcu_hour", region),
        )

    def _queues(self, add: AddLine) -> None:
        """The workload's queue requests (one total) are sent where the requests it serves
        land in standby, shared evenly by those regions and, in each, by its queues (those
        with a dead-letter queue); a recovery region that takes no traffic sends none."""
        landing = self._traffic_regions()
        served = [q for q in queues(self.tier) if q.redrive and q.region in landing]
        per_region = {q.region: len([x for x in served if x.region == q.region]) for q in served}
        for queue in served:
            add(
                "SQS requests (million)",
                queue.region,
                self.w["queue_requests_million_per_month"]
                / len(per_region)
                / per_region[queue.region],
                price("sqs_million", queue.region),
            )

    def _traffic_regions(self) -> set[str]:
        """Where requests land in standby: the regions of the accelerator's endpoint groups
        that dial traffic in, else (Route 53 failover) the primary's."""
        dialled = {
            str(group.prop("EndpointGroupRegion"))
            for group in self.tier.of_type("AWS::GlobalAccelerator::EndpointGroup")
            if group.prop("TrafficDialPercentage", default=100)
        }
        return dialled or {self.p}

    def _network(self, add: AddLine, hours: float) -> None:
        """NAT gateways per region, then load balancers."""
        for region in sorted({r.region for r in self.tier.resources}):
            nats = [n for n in self.tier.of_type("AWS::EC2::NatGateway") if n.region == region]
            if nats:
                add(
                    "NAT gateway hours",
                    region,
                    hours * len(nats),
                    price("nat_hour", region),
                    "NAT gateways",
                )
                add(
                    "NAT data processed (GB)",
                    region,
                    self.w["nat_gb_per_month"],
                    price("nat_gb", region),
                )
        for lb in self.tier.of_type("AWS::ElasticLoadBalancingV2::LoadBalancer"):
            add("ALB hours", lb.region, hours, price("alb_hour", lb.region), "load balancer")
            add(
                "ALB LCU-hours",
                lb.region,
                hours * self.w["alb_lcu"],
                price("alb_lcu_hour", lb.region),
            )

    def _fargate(self, add: AddLine, hours: float) -> None:
        for service in services(self.tier):
            if service.cpu is None or service.memory_gb is None:
                continue
            add(
                "Fargate vCPU-hours",
                service.region,
                service.desired * service.cpu * hours,
                price("fargate_vcpu_hour", service.region),
                "tasks",
            )
            add(
                "Fargate GB-hours",
                service.region,
                service.desired * service.memory_gb * hours,
                price("fargate_gb_hour", service.region),
                "tasks",
            )

    def _counted(self, add: AddLine, hours: float) -> None:
        """What bills by the hour or the month whatever its settings: accelerators, then health
        checks, zones, keys, alarms, dashboards and Resilience Hub applications per region."""
        for accelerator in self.tier.of_type("AWS::GlobalAccelerator::Accelerator"):
            add(
                "Global Accelerator hours",
                accelerator.region,
                hours,
                price("accelerator_hour", accelerator.region),
            )
        for item, type_, price_name in (
            ("Route 53 health checks", "AWS::Route53::HealthCheck", "health_check_month"),
            ("Route 53 hosted zones", "AWS::Route53::HostedZone", "hosted_zone_month"),
            ("KMS keys", "AWS::KMS::Key", "kms_key_month"),
            ("CloudWatch alarms", "AWS::CloudWatch::Alarm", "alarm_month"),
            ("CloudWatch dashboards", "AWS::CloudWatch::Dashboard", "dashboard_month"),
            ("Resilience Hub applications", "AWS::ResilienceHub::App", "resilience_hub_app_month"),
        ):
            for region in sorted({r.region for r in self.tier.of_type(type_)}):
                count = len([r for r in self.tier.of_type(type_) if r.region == region])
                add(item, region, count, price(price_name, region))

    def _notices(self, add: AddLine) -> None:
        """The rules that route AWS's events to the tier's topics, per region (AWS's own events
        cost nothing to ingest and deliver in the account; the topic's deliveries are the
        alarms' as much as theirs and go unpriced, as the alarms' do)."""
        rules = {(n.rule.region, n.rule.stack, n.rule.logical_id) for n in notices(self.tier)}
        for region in sorted({r for r, _, _ in rules}):
            count = len([1 for r, _, _ in rules if r == region])
            add(
                "EventBridge rules on AWS events",
                region,
                count,
                price("eventbridge_rule_month", region),
            )

    def _secrets(self, add: AddLine) -> None:
        for secret in self.tier.of_type("AWS::SecretsManager::Secret"):
            add("Secrets", secret.region, 1, price("secret_month", secret.region))
            for region in secret_replica_regions(secret):
                add("Secret replicas", region, 1, price("secret_month", region))

    def _health_check_options(self, add: AddLine) -> None:
        """What HTTPS and the fast interval add to a health check, per region."""
        checks = health_checks(self.tier)
        for region in sorted({c.resource.region for c in checks}):
            here = [c for c in checks if c.resource.region == region]
            https = [c for c in here if (c.kind or "").startswith("HTTPS")]
            if https:
                add(
                    "Route 53 health checks: HTTPS",
                    region,
                    len(https),
                    price("health_check_https_month", region),
                )
            fast = [c for c in here if c.interval == 10]
            if fast:
                add(
                    "Route 53 health checks: fast interval",
                    region,
                    len(fast),
                    price("health_check_fast_interval_month", region),
                )

    def _backups(self, add: AddLine) -> None:
        data = (self.w["database_size_gb"] if has_database(self.tier) else 0.0) + (
            self.w["table_size_gb"] if workload_tables(self.tier) else 0.0
        )
        change = self.w["daily_change_fraction"]
        air_gapped = air_gapped_vaults(self.tier)
        for rule in _backup_rules(self.tier):
            plan = rule.plan
            days = 35 if rule.keep_days is None else rule.keep_days
            stored = data * (1 + change * (days - 1))  # a full copy, then daily changes
            add(
                "Backup storage, primary vault (GB-month)",
                plan.region,
                stored,
                price("backup_storage_gb_month", plan.region),
            )
            for vault in rule.copies:
                region = self.r if f":backup:{self.r}:" in vault else plan.region
                # An air-gapped vault's storage is priced as warm storage: AWS's page lists it
                # apart, and no stored copy shows its figure (decision 51).
                kind = "air-gapped" if copied_vault(vault) in air_gapped else "copy"
                add(
                    f"Backup storage, {kind} vault (GB-month)",
                    region,
                    stored,
                    price("backup_storage_gb_month", region),
                )
                add(
                    "Backup copy transfer (GB)",
                    plan.region,
                    data * change * 30,
                    price("cross_region_gb", plan.region),
                )

    def _restore_tests(self, add: AddLine) -> None:
        """Each run of a restore testing plan: AWS's fee per restored store, and a restored RDS
        instance running while it is restored and then validated. An Aurora restore by AWS
        Backup makes a cluster without instances; its storage for those hours is not priced."""
        for test in restore_tests(self.tier):
            runs = _runs_per_month(test.schedule)
            region, stores = test.plan.region, backed_up_types(self.tier)
            chosen = [s.type for s in test.selections]
            tested = sum(n for kind, n in stores.items() if kind in chosen)
            add("AWS Backup restore tests", region, runs * tested, price("restore_test", region))
            if "RDS" not in chosen:
                continue
            for db in db_instances(self.tier, self.p):
                if db.replica or db.cluster or not db.engine:
                    continue
                hours = self.w["database_size_gb"] / self.f["restore_rate_gb_per_hour"].value
                add(
                    f"RDS single-AZ {db.instance_class} ({db.engine}), restored for a test",
                    region,
                    runs * (hours + RESTORE_TEST_VALIDATION_HOURS),
                    price("db_instance_hour", region, db.engine, db.instance_class),
                )

    # --- running failed over --------------------------------------------------------------------
    def event(self, steady: list[CostLine]) -> list[EventLine]:
        """What running failed over adds, from the templates: R's capacity brought to P's (P's
        primary stack priced in R, capacity by capacity, less what R runs already), and the data
        that crosses back to P. Usage (requests, GB processed) moves to R with the traffic and
        costs the same; P's resources are assumed to bill on through the event."""
        return self._capacity_in_r(steady) + self._transfers_back()

    def _capacity_in_r(self, steady: list[CostLine]) -> list[EventLine]:
        """Per capacity, what R's brought to P's size adds an hour over what R runs already."""
        hours = float(price_data()["hours_per_month"])
        primary = [r for r in self.tier.resources if r.role == StackRole.PRIMARY]
        moved = TierAssembly(
            name=self.tier.name,
            stacks=self.tier.stacks,
            resources=[replace(r, region=self.r) for r in primary],
        )
        full = _Model(moved, self.f, self.w).cost()
        lines = []
        for capacity in sorted({line.capacity for line in full if line.capacity}):
            want = [x for x in full if x.capacity == capacity]
            have = [x for x in steady if x.capacity == capacity and x.region == self.r]
            extra = (sum(x.monthly_usd for x in want) - sum(x.monthly_usd for x in have)) / hours
            if extra <= 0.005:
                continue
            lines.append(
                EventLine(
                    f"{capacity} in R at P's size",
                    self.r,
                    round(extra, 2),
                    0.0,
                    f"{_items(want, hours)} in place of {_items(have, hours) or 'nothing'}",
                    tuple(sorted({f"{x.unit_price.source} ({x.unit_price.as_of})" for x in want})),
                )
            )
        return lines

    def _transfers_back(self) -> list[EventLine]:
        """Table writes replicated back to P through the event, and the data copied back once
        to fail back."""
        transfer = price("cross_region_gb", self.r)
        source = (f"{transfer.source} ({transfer.as_of})", "workload: daily_change_fraction")
        lines = []
        if self.table_replicated():
            gb = self.w["table_size_gb"] * self.w["daily_change_fraction"] / 24
            lines.append(
                EventLine(
                    "table writes replicated back to P",
                    self.r,
                    round(gb * transfer.value, 4),
                    0.0,
                    f"{gb:.3f} GB an hour (table_size_gb x daily_change_fraction / 24) x "
                    f"${transfer.value:g}/GB",
                    source,
                )
            )
        stores = [("the database", self.w["database_size_gb"])] if has_database(self.tier) else []
        if workload_tables(self.tier) and not self.table_replicated():
            stores.append(("the tables", self.w["table_size_gb"]))
        once = sum(gb for _, gb in stores)
        if stores:
            lines.append(
                EventLine(
                    "data copied back to P to fail back",
                    self.r,
                    0.0,
                    round(once * transfer.value, 2),
                    f"{once:g} GB ({' and '.join(what for what, _ in stores)}) x "
                    f"${transfer.value:g}/GB, once",
                    source[:1],
                )
            )
        return lines

    def recovery_holds(self) -> str:
        """What R holds, as the estimate lists it: "Aurora secondary, table replica, 2 tasks"."""
        parts = []
        held = recovery_database(self.tier)
        if held is RecoveryDatabase.AURORA_SECONDARY:
            parts.append("Aurora secondary")
        elif held is RecoveryDatabase.READ_REPLICA:
            parts.append("read replica")
        if self.table_replicated():
            parts.append("table replica")
        standby = tasks(self.tier, self.r)
        if standby is not None:
            parts.append(f"{standby} task{'s' if standby != 1 else ''}")
        if any(d.region == self.r for d in self.tier.of_type("AWS::DAX::Cluster")):
            parts.append("DAX")
        if any(v.region == self.r for v in self.tier.of_type("AWS::Backup::BackupVault")):
            parts.append("backup copies")
        return ", ".join(parts)


# "Item changes ... are synchronously replicated to at least one other Region before the write
# operation returns a successful response"; "Using MRSC supports an RPO of zero."
MRSC = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-global-table-design.html"
    " (2026-12-05)"
)


def _runs_per_month(schedule: object) -> float:
    """Runs a month of a restore testing plan on one of drtiers' schedules."""
    for cadence in RESTORE_TEST_CADENCES.values():
        if cadence.schedule == schedule:
            return cadence.runs_per_month
    allowed = ", ".join(c.schedule for c in RESTORE_TEST_CADENCES.values())
    raise ParameterError(f"restore testing schedule {schedule!r}; drtiers prices: {allowed}")


def _backup_rules(tier: TierAssembly) -> list[BackupRule]:
    """Every backup rule of the tier, plan by plan."""
    return [rule for plan in tier.of_type("AWS::Backup::BackupPlan") for rule in backup_rules(plan)]


def _items(lines: list[CostLine], hours: float) -> str:
    """Capacity lines per hour (storage per month), e.g. "DAX nodes dax.r5.large x 3"."""
    return ", ".join(
        f"{line.item} x {line.quantity if 'month' in line.item else line.quantity / hours:,.3g}"
        for line in lines
    )


def estimate(
    tier: TierAssembly, figures: Mapping[str, Figure], workload: Mapping[str, float]
) -> Estimate:
    world = read_world(tier)
    model = _Model(tier, figures, workload, world)
    cost = model.cost()
    low, high = (_Model(tier, at_end(figures, end), workload, world) for end in ("low", "high"))
    rpo = [
        replace(store, low=fast.seconds, high=slow.seconds)
        for store, fast, slow in zip(model.rpo(), low.rpo(), high.rpo(), strict=True)
    ]
    return Estimate(
        tier=tier.name,
        primary_region=model.p,
        recovery_region=model.r,
        recovery_holds=model.recovery_holds(),
        rpo=rpo,
        rto_steps=model.rto(),
        cost=cost,
        resource_keys=frozenset(tier.resource_keys()),
        event=model.event(cost),
        hours_per_month=float(price_data()["hours_per_month"]),
        price_file=price_file_name(),
        rto_range=(_rto_seconds(low.rto()), _rto_seconds(high.rto())),
        rpo_range=(
            max(s.low for s in rpo if s.low is not None),
            max(s.high for s in rpo if s.high is not None),
        ),
        quotas=quota_use(tier),
    )
