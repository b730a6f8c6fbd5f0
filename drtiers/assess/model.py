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

from drtiers.assembly.reader import AssemblyError, Resource, TierAssembly
from drtiers.assembly.world import read_world
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
)
from drtiers.core.tiers import is_control_table
from drtiers.recovery.steps import failover_steps, schedule

DAY = 86400
AddLine = Callable[..., None]


@dataclass(frozen=True)
class Step:
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
    rto_steps: list[Step] = field(default_factory=list)
    cost: list[CostLine] = field(default_factory=list)
    resource_keys: frozenset[tuple[str, str, str]] = frozenset()  # (region, type, logical id)
    event: list[EventLine] = field(default_factory=list)  # running failed over, over steady
    hours_per_month: float = 730.0
    price_file: str = ""
    # The same steps and stores scheduled with every figure at the low and at the high end of
    # its range (figures.json); rto_seconds and rpo_seconds are the typical values.
    rto_range: tuple[float, float] = (0.0, 0.0)
    rpo_range: tuple[float, float] = (0.0, 0.0)

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

    def critical_path(self) -> list[Step]:
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

    def dominant_step(self) -> Step | None:
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


def _rto_seconds(steps: list[Step]) -> float:
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


def _db_instances(tier: TierAssembly, region: str) -> list[Resource]:
    return [r for r in tier.of_type("AWS::RDS::DBInstance") if r.region == region]


def _workload_tables(tier: TierAssembly) -> list[Resource]:
    """The workload's tables: not drtiers' control table, which holds one item."""
    return [
        t
        for t in tier.of_type("AWS::DynamoDB::GlobalTable") + tier.of_type("AWS::DynamoDB::Table")
        if not is_control_table(t.prop("TableName"))
    ]


class _Model:
    def __init__(
        self, tier: TierAssembly, figures: Mapping[str, Figure], workload: Mapping[str, float]
    ) -> None:
        self.tier = tier
        self.f = figures
        self.w = workload
        self.p = tier.primary_region
        self.r = tier.recovery_region

    def figure(self, name: str) -> tuple[float, str]:
        figure = self.f[name]
        return figure.value, figure.label

    # --- what the recovery region holds -----------------------------------------------------
    def aurora_secondary(self) -> bool:
        return any(
            c.prop("GlobalClusterIdentifier")
            for c in self.tier.of_type("AWS::RDS::DBCluster")
            if c.region == self.r
        )

    def read_replica(self) -> bool:
        return any(i.prop("SourceDBInstanceIdentifier") for i in _db_instances(self.tier, self.r))

    def has_database(self) -> bool:
        return bool(
            self.tier.of_type("AWS::RDS::DBInstance") or self.tier.of_type("AWS::RDS::DBCluster")
        )

    def table_replicated(self) -> bool:
        return any(
            replica.get("Region") == self.r
            for table in _workload_tables(self.tier)
            for replica in table.prop("Replicas", default=[])
        )

    def backup_copy_seconds(self) -> tuple[float, str, tuple[str, ...]] | None:
        """Backup interval + copy time, how, and sources, if a plan copies to a vault in the
        recovery region."""
        for plan in self.tier.of_type("AWS::Backup::BackupPlan"):
            for rule in plan.prop("BackupPlan", "BackupPlanRule", default=[]):
                if any(
                    f":backup:{self.r}:" in str(c.get("DestinationBackupVaultArn"))
                    for c in rule.get("CopyActions", [])
                ):
                    copy, copy_source = self.figure("backup_copy_seconds")
                    interval = _schedule_seconds(rule["ScheduleExpression"])
                    return (
                        interval + copy,
                        "last backup copied to the recovery region",
                        (
                            f"backup schedule {rule['ScheduleExpression']} in the template",
                            copy_source,
                        ),
                    )
        return None

    def service_counts(self) -> tuple[int, int | None]:
        """Desired tasks in P and in R (None: no service in R)."""
        counts = {
            s.region: int(s.prop("DesiredCount", default=1))
            for s in self.tier.of_type("AWS::ECS::Service")
        }
        return counts.get(self.p, 0), counts.get(self.r)

    # --- RPO ------------------------------------------------------------------------------------
    def rpo(self) -> list[StoreRpo]:
        stores = []
        backup = self.backup_copy_seconds()
        if self.aurora_secondary():
            seconds, source = self.figure("aurora_global_replication_lag_seconds")
            stores.append(
                StoreRpo(
                    "relational database",
                    seconds,
                    "Aurora global database replication lag",
                    (source,),
                )
            )
        elif self.read_replica():
            seconds, source = self.figure("rds_replica_lag_seconds")
            stores.append(
                StoreRpo("relational database", seconds, "cross-region read replica lag", (source,))
            )
        elif backup and self.has_database():
            stores.append(StoreRpo("relational database", *backup))
        if self.table_replicated():
            seconds, source = self.figure("dynamodb_replication_seconds")
            stores.append(
                StoreRpo("DynamoDB table", seconds, "global table replication", (source,))
            )
        elif backup and _workload_tables(self.tier):
            stores.append(StoreRpo("DynamoDB table", *backup))
        if self.tier.of_type("AWS::SQS::Queue"):
            stores.append(
                StoreRpo(
                    "SQS messages in flight in P",
                    None,
                    "delayed, not lost: SQS keeps them in P (it does not replicate) until P returns"
                    + (
                        "; new messages go to R's queue"
                        if any(q.region == self.r for q in self.tier.of_type("AWS::SQS::Queue"))
                        else ""
                    ),
                    (
                        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
                        "sqs-basic-architecture.html",
                    ),
                )
            )
        if not self.has_database() and not _workload_tables(self.tier):
            stores.append(
                StoreRpo("workload data", 0.0, "the workload keeps no database and no table", ())
            )
        if not any(s.seconds is not None for s in stores):
            raise AssemblyError(
                f"tier {self.tier.tier}: no data store is protected in "
                f"{self.r}; nothing to estimate an RPO from"
            )
        return stores

    # --- RTO ------------------------------------------------------------------------------------
    def rto(self) -> list[Step]:
        steps = failover_steps(read_world(self.tier), self.f, self.w)
        return [
            Step(
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
    def _engine(self, db: Resource) -> str:
        """The template's Engine; a cross-region replica has none and takes its source's."""
        engine = db.prop("Engine")
        if engine:
            return str(engine)
        sources = [
            i.prop("Engine")
            for i in self.tier.of_type("AWS::RDS::DBInstance")
            if i.prop("Engine") and not i.prop("DBClusterIdentifier")
        ]
        if not sources:
            raise ParameterError(
                f"{db.stack}/{db.logical_id}: no Engine, and no instance it replicates has one"
            )
        return str(sources[0])

    def cost(self) -> list[CostLine]:
        hours = float(price_data()["hours_per_month"])
        lines: list[CostLine] = []

        def add(item: str, region: str, quantity: float, unit: Price, capacity: str = "") -> None:
            if quantity:
                lines.append(
                    CostLine(
                        item, region, quantity, unit, round(quantity * unit.value, 2), capacity
                    )
                )

        vcpus: dict[tuple[str, str], float] = {}  # (stack, target logical id) -> vCPUs
        for db in self.tier.of_type("AWS::RDS::DBInstance"):
            cls = db.prop("DBInstanceClass")
            engine = self._engine(db)
            unit = price("db_instance_hour", db.region, engine, cls)
            cluster = db.prop("DBClusterIdentifier")
            if cluster:
                add(f"Aurora instance {cls} ({engine})", db.region, hours, unit, "database")
                key = (db.stack, cluster.get("Ref", "") if isinstance(cluster, dict) else cluster)
            else:
                copies = 2 if db.prop("MultiAZ") else 1
                what = (
                    "Multi-AZ"
                    if copies == 2
                    else "replica"
                    if db.prop("SourceDBInstanceIdentifier")
                    else "single-AZ"
                )
                add(f"RDS {what} {cls} ({engine})", db.region, hours * copies, unit, "database")
                storage = float(db.prop("AllocatedStorage", default=self.w["database_size_gb"]))
                add(
                    "RDS gp3 storage (GB-month)",
                    db.region,
                    storage * copies,
                    price("rds_gp3_gb_month", db.region),
                    "database",
                )
                key = (db.stack, db.logical_id)
            vcpus[key] = vcpus.get(key, 0) + instance_vcpus(cls)
        for cluster in self.tier.of_type("AWS::RDS::DBCluster"):
            add(
                "Aurora storage (GB-month)",
                cluster.region,
                self.w["database_size_gb"],
                price("aurora_storage_gb_month", cluster.region),
                "database",
            )
            if cluster.prop("GlobalClusterIdentifier"):
                add(
                    "Aurora replicated write I/O (million)",
                    cluster.region,
                    self.w["aurora_write_io_million_per_month"],
                    price("aurora_replicated_write_io_million", cluster.region),
                )
            else:
                add(
                    "Aurora I/O (million)",
                    cluster.region,
                    self.w["aurora_io_million_per_month"],
                    price("aurora_io_million", cluster.region),
                )
        for group in self.tier.of_type("AWS::RDS::DBProxyTargetGroup"):
            targets = group.prop("DBInstanceIdentifiers", default=[]) + group.prop(
                "DBClusterIdentifiers", default=[]
            )
            cpus = sum(vcpus.get((group.stack, t.get("Ref", "")), 0) for t in targets)
            add(
                "RDS Proxy (target vCPU-hours)",
                group.region,
                cpus * hours,
                price("rds_proxy_vcpu_hour", group.region),
                "database proxy",
            )
        for dax in self.tier.of_type("AWS::DAX::Cluster"):
            node = dax.prop("NodeType")
            add(
                f"DAX nodes {node}",
                dax.region,
                hours * dax.prop("ReplicationFactor"),
                price("dax_node_hour", dax.region, node),
                "DAX",
            )
        # The workload figures are totals, shared evenly by the workload's tables and queues.
        tables = [t for t in _workload_tables(self.tier) if t.type == "AWS::DynamoDB::GlobalTable"]
        for table in tables:
            replicas = [r["Region"] for r in table.prop("Replicas", default=[])]
            for region in replicas:  # each replica writes every write, at its region's price
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
            add(
                "DynamoDB reads (million)",
                table.region,
                self.w["table_reads_million_per_month"] / len(tables),
                price("dynamodb_read_million", table.region),
            )
        queues = [q for q in self.tier.of_type("AWS::SQS::Queue") if q.prop("RedrivePolicy")]
        per_region = {q.region: len([x for x in queues if x.region == q.region]) for q in queues}
        for queue in queues:
            add(
                "SQS requests (million)",
                queue.region,
                self.w["queue_requests_million_per_month"] / per_region[queue.region],
                price("sqs_million", queue.region),
            )
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
        self._fargate(add, hours)
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
            ("Resilience Hub applications", "AWS::ResilienceHub::App", "resilience_hub_app_month"),
        ):
            for region in sorted({r.region for r in self.tier.of_type(type_)}):
                count = len([r for r in self.tier.of_type(type_) if r.region == region])
                add(item, region, count, price(price_name, region))
        for secret in self.tier.of_type("AWS::SecretsManager::Secret"):
            add("Secrets", secret.region, 1, price("secret_month", secret.region))
            for replica in secret.prop("ReplicaRegions", default=[]):
                region = replica.get("Region", secret.region)
                add("Secret replicas", region, 1, price("secret_month", region))
        for region in sorted({r.region for r in self.tier.of_type("AWS::Route53::HealthCheck")}):
            https = [
                c
                for c in self.tier.of_type("AWS::Route53::HealthCheck")
                if c.region == region
                and c.prop("HealthCheckConfig", default={}).get("Type", "").startswith("HTTPS")
            ]
            if https:
                add(
                    "Route 53 health checks: HTTPS",
                    region,
                    len(https),
                    price("health_check_https_month", region),
                )
            fast = [
                c
                for c in self.tier.of_type("AWS::Route53::HealthCheck")
                if c.region == region
                and c.prop("HealthCheckConfig", default={}).get("RequestInterval") == 10
            ]
            if fast:
                add(
                    "Route 53 health checks: fast interval",
                    region,
                    len(fast),
                    price("health_check_fast_interval_month", region),
                )
        self._backups(add)
        return lines

    def _fargate(self, add: AddLine, hours: float) -> None:
        for service in self.tier.of_type("AWS::ECS::Service"):
            ref = service.prop("TaskDefinition", default={}).get("Ref")
            task = self.tier.by_id(service.stack, ref) if ref else None
            if task is None:
                continue
            tasks = int(service.prop("DesiredCount", default=1))
            cpu = int(task.prop("Cpu", default="256")) / 1024
            memory = int(task.prop("Memory", default="512")) / 1024
            add(
                "Fargate vCPU-hours",
                service.region,
                tasks * cpu * hours,
                price("fargate_vcpu_hour", service.region),
                "tasks",
            )
            add(
                "Fargate GB-hours",
                service.region,
                tasks * memory * hours,
                price("fargate_gb_hour", service.region),
                "tasks",
            )

    def _backups(self, add: AddLine) -> None:
        data = (self.w["database_size_gb"] if self.has_database() else 0.0) + (
            self.w["table_size_gb"] if _workload_tables(self.tier) else 0.0
        )
        change = self.w["daily_change_fraction"]
        for plan in self.tier.of_type("AWS::Backup::BackupPlan"):
            for rule in plan.prop("BackupPlan", "BackupPlanRule", default=[]):
                days = rule.get("Lifecycle", {}).get("DeleteAfterDays", 35)
                stored = data * (1 + change * (days - 1))  # a full copy, then daily changes
                add(
                    "Backup storage, primary vault (GB-month)",
                    plan.region,
                    stored,
                    price("backup_storage_gb_month", plan.region),
                )
                for copy in rule.get("CopyActions", []):
                    region = (
                        self.r
                        if f":backup:{self.r}:" in str(copy.get("DestinationBackupVaultArn"))
                        else plan.region
                    )
                    add(
                        "Backup storage, copy vault (GB-month)",
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

    def event(self, steady: list[CostLine]) -> list[EventLine]:
        """What running failed over adds, from the templates: R's capacity brought to P's (P's
        primary stack priced in R, capacity by capacity, less what R runs already), and the data
        that crosses back to P. Usage (requests, GB processed) moves to R with the traffic and
        costs the same; P's resources are assumed to bill on through the event."""
        hours = float(price_data()["hours_per_month"])
        primary = [r for r in self.tier.resources if r.role == "primary"]
        moved = TierAssembly(
            tier=self.tier.tier,
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
        transfer = price("cross_region_gb", self.r)
        source = (f"{transfer.source} ({transfer.as_of})", "workload: daily_change_fraction")
        change = self.w["daily_change_fraction"]
        if self.table_replicated():
            gb = self.w["table_size_gb"] * change / 24
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
        stores = [("the database", self.w["database_size_gb"])] if self.has_database() else []
        if _workload_tables(self.tier) and not self.table_replicated():
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
        parts = []
        if self.aurora_secondary():
            parts.append("Aurora secondary")
        elif self.read_replica():
            parts.append("read replica")
        if self.table_replicated():
            parts.append("table replica")
        _, standby = self.service_counts()
        if standby is not None:
            parts.append(f"{standby} task{'s' if standby != 1 else ''}")
        if any(d.region == self.r for d in self.tier.of_type("AWS::DAX::Cluster")):
            parts.append("DAX")
        if any(v.region == self.r for v in self.tier.of_type("AWS::Backup::BackupVault")):
            parts.append("backup copies")
        return ", ".join(parts)


def _items(lines: list[CostLine], hours: float) -> str:
    """Capacity lines per hour (storage per month), e.g. "DAX nodes dax.r5.large x 3"."""
    return ", ".join(
        f"{line.item} x {line.quantity if 'month' in line.item else line.quantity / hours:,.3g}"
        for line in lines
    )


def estimate(
    tier: TierAssembly, figures: Mapping[str, Figure], workload: Mapping[str, float]
) -> Estimate:
    model = _Model(tier, figures, workload)
    cost = model.cost()
    low, high = (_Model(tier, at_end(figures, end), workload) for end in ("low", "high"))
    rpo = [
        replace(store, low=fast.seconds, high=slow.seconds)
        for store, fast, slow in zip(model.rpo(), low.rpo(), high.rpo(), strict=True)
    ]
    return Estimate(
        tier=tier.tier,
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
    )
