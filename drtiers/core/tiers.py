"""The tier catalogue: what each DR tier runs in each region, as data.

The stacks read these records and never branch on a tier's name, so adding a tier or changing a
capacity is a change here only. The README's tier table describes the same matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

# Every stack carries these tags; the manifest records them, which is how a synthesized
# assembly is read back tier by tier (drtiers.assess) and how drills select their targets.
TIER_TAG = "drtiers:tier"
# The app_name, on every stack and resource too: two apps deploy the same tier side by side in
# one account, and what selects by tags (drills, the plan's stale-instance tag) must tell them
# apart.
APP_TAG = "drtiers:app"
ROLE_TAG = "drtiers:role"
STALE_ROLE = "stale"  # ROLE_TAG of an instance a failback renamed out of the way
# On the recovery stack while it is deployed failed over (context failed_over=true).
FAILED_OVER_TAG = "drtiers:failed-over"
# The tag on each experiment template naming the failover steps it rehearses, space-separated
# (a comma is not a character every AWS tag value accepts); absent when it claims none.
EXERCISES_TAG = "drtiers:exercises"
# Manifest metadata on the primary stack: the workload file's figures the tier was synthesized
# with, so that an estimate read from the assembly alone uses them too.
FIGURES_METADATA = "drtiers:figures"
# The metric the failover and failback steps put to declare which region's database is the
# writer; the DNS tiers' health checks follow it (stacks and the recovery model share it).
DECLARED_NAMESPACE = "drtiers"
RECOVERY_WRITABLE = "RecoveryWritable"


def declared_dimensions(app: str, tier: str) -> dict[str, str]:
    """The dimensions of the metrics drtiers puts itself (RecoveryWritable, the probe's
    PrimaryHealthyTargets): the app's and the tier's. A metric is its namespace, name and
    dimensions ("Because dimensions are part of the unique identifier for a metric",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html): with
    the tier's alone, two apps of one tier in an account and region shared one, and one app's
    declaration moved the other's traffic."""
    return {"App": app, "Tier": tier}


# The table drtiers adds to every tier for the writer-region item (<app>-<tier>-control): the
# app reads it to fence its writes, the plan's declare step writes it. Not the workload's.
CONTROL_TABLE = "control"
# The key of the writer-region item in the control table (the plan's function writes it too,
# from its own copy: drtiers/lambdas/plan_actions.py).
WRITER_ITEM_KEY = '{"pk": {"S": "drtiers"}, "sk": {"S": "writer-region"}}'
# The setting that lists the regions whose control table the app reads (its own first).
CONTROL_REGIONS_VARIABLE = "CONTROL_TABLE_REGIONS"


def is_control_table(table_name: object) -> bool:
    """Whether a synthesized table name (``<app>-<tier>-control``) is drtiers' control table."""
    return isinstance(table_name, str) and table_name.endswith(f"-{CONTROL_TABLE}")


@dataclass(frozen=True)
class RestoreCadence:
    """How often the tier's restore testing plan runs (the workload's backups.restore_tests):
    its schedule, how old a copy may be to be chosen, and runs in an average month."""

    schedule: str
    window_days: int
    runs_per_month: float


# Copies of the 05:00 UTC backups land in R within hours; a test starts at 12:00 UTC.
RESTORE_TEST_CADENCES = {
    "weekly": RestoreCadence("cron(0 12 ? * SUN *)", 7, 52 / 12),
    "monthly": RestoreCadence("cron(0 12 1 * ? *)", 31, 1.0),
}
# Hours a restored copy stays for a person or a script to look at before AWS deletes it.
RESTORE_TEST_VALIDATION_HOURS = 1


# What the recovery region's probe sees of the primary: its load balancer's healthy targets.
PRIMARY_HEALTHY_TARGETS = "PrimaryHealthyTargets"


class StackRole(StrEnum):
    """What a stack of a tier holds; the last part of its name (``<app>-<tier>-<role>``) and
    the value of its ROLE_TAG."""

    RECOVERY_BASE = "recovery-base"
    PRIMARY = "primary"
    RECOVERY = "recovery"
    EDGE = "edge"
    PLAN = "plan"
    DRILLS = "drills"
    RESILIENCE = "resilience"
    ZONE = "zone"  # the app's, not a tier's: ``<app>-zone``


class Relational(Enum):
    """Which relational layout a tier uses."""

    RDS_INSTANCE = "rds-instance"  # Multi-AZ RDS (PostgreSQL or MySQL) + RDS Proxy in P
    AURORA_GLOBAL = "aurora-global"  # Aurora (PostgreSQL or MySQL) global database


class RecoveryDatabase(Enum):
    """What the recovery region holds of the relational data."""

    SNAPSHOT_COPIES = "snapshot-copies"  # AWS Backup copies only
    READ_REPLICA = "read-replica"  # cross-region RDS read replica, promoted on failover
    AURORA_SECONDARY = "aurora-secondary"  # Aurora global secondary cluster


class RecoveryCompute(Enum):
    """How the recovery region's application tier runs."""

    ABSENT = "absent"  # redeployed from this code after the event
    ZERO = "zero"  # defined, 0 tasks (pilot light)
    REDUCED = "reduced"  # running smaller, auto-scales to full (warm standby)
    FULL = "full"  # full capacity, serving (multi-site)


class EntryPoint(Enum):
    """How clients reach the application."""

    DNS_FAILOVER = "dns-failover"  # Route 53 failover: PRIMARY (health-checked) / SECONDARY
    # Global Accelerator: every region with a stack serving (backup-restore: P, until the
    # rebuild in R adds its group; no DNS change, and no Route 53 control plane, needed)
    ACCELERATOR = "accelerator"


@dataclass(frozen=True)
class TierSpec:
    """One DR tier. Every field is a decision the stacks read."""

    name: str
    summary: str
    rpo_rto: str
    relational: Relational
    recovery_database: RecoveryDatabase
    recovery_compute: RecoveryCompute
    entry_point: EntryPoint
    table_replica_in_recovery: bool
    dax_in_recovery: bool
    queues_in_recovery: bool
    # Recovery copies at full size (multi-site) or smaller (warm standby): Aurora secondary, DAX.
    recovery_full_size: bool = False
    aurora_write_forwarding: bool = False
    # Tables may be of multi-Region strong consistency (a workload table's consistency:
    # strong): the tier whose RPO is near zero offers RPO zero for its tables.
    strong_tables: bool = False
    # Fail over without a person (the Region switch plan's trigger): near-zero RTO promises it.
    automatic_failover: bool = False
    # Hours between backups unless context says otherwise (backup_frequency, or rpo_target on
    # a tier that recovers from its backups): where the copies are the only data in R, their
    # age is the RPO, so often enough to keep it in hours (docs/decisions.md, 24).
    backup_interval_hours: int = 24

    @property
    def has_recovery_stack(self) -> bool:
        """Whether anything beyond backup copies runs in the recovery region."""
        return self.recovery_database is not RecoveryDatabase.SNAPSHOT_COPIES


TIERS: dict[str, TierSpec] = {
    spec.name: spec
    for spec in (
        TierSpec(
            name="backup-restore",
            summary="backup copies only in the recovery region; the rest is redeployed",
            rpo_rto="RPO hours / RTO 24 h or less",
            relational=Relational.RDS_INSTANCE,
            recovery_database=RecoveryDatabase.SNAPSHOT_COPIES,
            recovery_compute=RecoveryCompute.ABSENT,
            entry_point=EntryPoint.ACCELERATOR,
            table_replica_in_recovery=False,
            dax_in_recovery=False,
            queues_in_recovery=False,
            backup_interval_hours=4,
        ),
        TierSpec(
            name="pilot-light",
            summary="data live and replicated; compute defined at zero tasks",
            rpo_rto="RPO minutes / RTO tens of minutes",
            relational=Relational.RDS_INSTANCE,
            recovery_database=RecoveryDatabase.READ_REPLICA,
            recovery_compute=RecoveryCompute.ZERO,
            entry_point=EntryPoint.DNS_FAILOVER,
            table_replica_in_recovery=True,
            dax_in_recovery=False,
            queues_in_recovery=True,
        ),
        TierSpec(
            name="warm-standby",
            summary="smaller, always-running full copy; scaled up on failover",
            rpo_rto="RPO seconds / RTO minutes",
            relational=Relational.AURORA_GLOBAL,
            recovery_database=RecoveryDatabase.AURORA_SECONDARY,
            recovery_compute=RecoveryCompute.REDUCED,
            entry_point=EntryPoint.DNS_FAILOVER,
            table_replica_in_recovery=True,
            dax_in_recovery=True,
            queues_in_recovery=True,
        ),
        TierSpec(
            name="multi-site",
            summary="full active copy serving traffic in both regions",
            rpo_rto="RPO near zero / RTO near zero",
            relational=Relational.AURORA_GLOBAL,
            recovery_database=RecoveryDatabase.AURORA_SECONDARY,
            recovery_compute=RecoveryCompute.FULL,
            entry_point=EntryPoint.ACCELERATOR,
            table_replica_in_recovery=True,
            dax_in_recovery=True,
            queues_in_recovery=True,
            recovery_full_size=True,
            aurora_write_forwarding=True,
            automatic_failover=True,
            strong_tables=True,
        ),
    )
}

TIER_NAMES: tuple[str, ...] = tuple(TIERS)
