"""Typed, frozen configuration built from CDK context: the only reader of context.

Every value is validated here, before a single construct exists, so bad input fails fast with one
line that names the key, the value received and what is allowed, and nothing is synthesized.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from drtiers.assess.durations import format_duration, parse_duration
from drtiers.assess.facts import ParameterError, with_overrides
from drtiers.tiers import TIER_NAMES, TIERS, EntryPoint, TierSpec

# Route 53's control plane and its health-check metrics live in us-east-1, so the edge stack (hosted
# zone, health checks and their alarms, the accelerator) is deployed there whatever P and R are.
EDGE_REGION = "us-east-1"

_ACCOUNT = re.compile(r"^\d{12}$")
_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Route 53 refuses hosted zones for the names RFC 2606 and RFC 6761 reserve (CreateHostedZone:
# InvalidDomainName), and for a bare TLD. Read 2026-11-28:
# https://github.com/aws-samples/sample-agentic-value-accelerator/pull/126 (example.com rejected)
# https://github.com/boto/boto/pull/2098 (example.com: InvalidDomainName)
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html (no TLDs)
# https://www.rfc-editor.org/rfc/rfc2606 and https://www.rfc-editor.org/rfc/rfc6761 (the names)
_RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost"})
_RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_USER = re.compile(r"^(?!0$|root$)[a-z_][a-z0-9_-]{0,31}$|^(?!0$)[0-9]{1,10}$")
_PATH = re.compile(r"^/[A-Za-z0-9._~/-]{0,254}$")


_SNAPSHOT_ARN = re.compile(
    r"^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):snapshot:[A-Za-z0-9:_-]{1,255}$"
)
_LISTENER_ARN = re.compile(
    r"^arn:aws[a-z-]*:globalaccelerator::\d{12}:accelerator/[a-z0-9-]+/listener/[a-z0-9]+$"
)
# The Global Accelerator API, which failover uses to hold a returning region off, is served
# from us-west-2 only (https://docs.aws.amazon.com/global-accelerator/latest/dg/
# preserve-client-ip-address.regions.html, read 2026-11-28).
ACCELERATOR_API_REGION = "us-west-2"


class ConfigError(ValueError):
    """A context value that drtiers cannot use. The message is one line, ready for the user."""


@dataclass(frozen=True)
class RegionFacts:
    commercial: frozenset[str]
    dax: frozenset[str]
    resilience_hub: frozenset[str]


@cache
def region_facts() -> RegionFacts:
    """Region lists from drtiers/data/regions.json (each with its source and date)."""
    data = json.loads(resources.files("drtiers.data").joinpath("regions.json").read_text())
    return RegionFacts(
        commercial=frozenset(data["commercial_regions"]["regions"]),
        dax=frozenset(data["dax_regions"]["regions"]),
        resilience_hub=frozenset(data["resilience_hub_regions"]["regions"]),
    )


@dataclass(frozen=True)
class Sizes:
    """Instance sizes. Aurora global databases need memory-optimized (db.r*) classes."""

    rds_instance: str  # EC2-style name for the L2 (m7g.large = db.m7g.large)
    rds_replica: str
    aurora_primary: str
    aurora_secondary_small: str
    dax_node: str
    dax_recovery_node: str  # smaller node type for a warm standby's cache
    dax_nodes: int


PRODUCTION_SIZES = Sizes(
    rds_instance="m7g.large",
    rds_replica="db.m7g.large",
    aurora_primary="r7g.xlarge",
    aurora_secondary_small="db.r7g.large",
    dax_node="dax.r5.large",
    dax_recovery_node="dax.t3.medium",
    dax_nodes=3,  # one per zone: Control Tower CT.DAX.PR.2
)
SANDBOX_SIZES = Sizes(
    rds_instance="t4g.medium",
    rds_replica="db.t4g.medium",
    aurora_primary="r7g.large",
    aurora_secondary_small="db.r7g.large",
    dax_node="dax.t3.small",
    dax_recovery_node="dax.t3.small",
    dax_nodes=1,
)


@dataclass(frozen=True)
class RestoreFrom:
    """What a rebuild of the primary stack in another region starts from (backup-restore's
    failover): the database snapshot copied there, and the accelerator listener to join. The
    table is restored beforehand under the tier's fixed table name."""

    database_snapshot: str
    listener_arn: str


@dataclass(frozen=True)
class DrConfig:
    """Everything the stacks need, already validated. Built by :func:`from_context`."""

    tiers: tuple[TierSpec, ...]
    primary_region: str
    recovery_region: str
    account: str
    app_name: str
    domain_name: str  # given, or default_domain(app_name, account)
    hosted_zone_id: str | None
    availability_zones: Mapping[str, tuple[str, ...]]
    container_image: str
    container_port: int
    container_user: str
    health_check_path: str
    full_task_count: int
    reduced_task_count: int
    sandbox: bool
    drills: bool = False
    # A Resilience Hub policy and application per tier, in R (billed per application-month).
    resilience_hub: bool = False
    # Set while an event lasts: the recovery stack deploys at full capacity (failover step).
    failed_over: bool = False
    restore_from: RestoreFrom | None = None
    rto_target_seconds: float | None = None
    rpo_target_seconds: float | None = None
    assumptions: Mapping[str, float] = field(default_factory=dict)
    # Hours between backups for every tier synthesized (context backup_frequency, or chosen
    # from rpo_target for backup-restore alone); None: each tier's own default.
    backup_interval_hours: int | None = None

    @property
    def sizes(self) -> Sizes:
        return SANDBOX_SIZES if self.sandbox else PRODUCTION_SIZES

    def backup_interval(self, tier: TierSpec) -> int:
        return self.backup_interval_hours or tier.backup_interval_hours


def _fail(key: str, value: object, allowed: str) -> ConfigError:
    shown = json.dumps(value) if not isinstance(value, str) else f"'{value}'"
    return ConfigError(f"context key '{key}': {shown} is not valid; allowed: {allowed}")


def _string(get: Callable[[str], Any], key: str, pattern: re.Pattern[str], allowed: str) -> str:
    value = get(key)
    if not isinstance(value, str) or not pattern.match(value):
        raise _fail(key, value, allowed)
    return value


def _boolean(get: Callable[[str], Any], key: str) -> bool:
    value = get(key)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _fail(key, value, "true or false")


def _count(get: Callable[[str], Any], key: str, minimum: int) -> int:
    value = get(key)
    if isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= minimum <= value <= 100:
        raise _fail(key, value, f"a whole number from {minimum} to 100")
    return value


def _port(get: Callable[[str], Any], key: str) -> int:
    value = get(key)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _fail(key, value, "a port number from 1 to 65535")
    return value


def _region(get: Callable[[str], Any], key: str) -> str:
    value = get(key)
    commercial = region_facts().commercial
    if not isinstance(value, str) or value not in commercial:
        raise _fail(key, value, "an AWS commercial region such as us-east-1 or eu-west-1")
    return value


def default_domain(app_name: str, account: str) -> str:
    """The zone created when no ``domain_name`` is given: one per app and account, not reserved,
    known without a look-up. Route 53 creates a zone whatever the owner of the name; its records
    answer at the zone's name servers, and publicly once the name is delegated to them."""
    return f"{app_name}-{account}.com"


def _domain(get: Callable[[str], Any], app_name: str, account: str, zone_id: str | None) -> str:
    value = get("domain_name")
    if value in (None, ""):
        if zone_id is not None:
            # Records are named inside the given zone; finding its name would need a look-up.
            raise _fail(
                "domain_name",
                "",
                f"the name of hosted zone {zone_id} (records are named <app>-<tier>.<domain_name>)",
            )
        return default_domain(app_name, account)
    if (
        not isinstance(value, str)
        or not _DOMAIN.match(value)
        or value.rsplit(".", 1)[-1] in _RESERVED_TLDS
        or ".".join(value.split(".")[-2:]) in _RESERVED_DOMAINS
    ):
        raise _fail(
            "domain_name",
            value,
            "a lowercase DNS name of two or more labels that Route 53 hosts, such as "
            "dr.your-company.com; not example.com, .net, .org or a name under .test, .example, "
            ".invalid, .localhost (reserved by RFC 2606 and RFC 6761); or none, for a new zone "
            f"named {default_domain(app_name, account)}",
        )
    return value


def _tiers(get: Callable[[str], Any]) -> tuple[TierSpec, ...]:
    value = get("tier")
    if value in (None, "", "all"):
        return tuple(TIERS.values())
    if not isinstance(value, str) or value not in TIERS:
        raise _fail("tier", value, ", ".join(TIER_NAMES) + " (or none for all four)")
    return (TIERS[value],)


def _availability_zones(
    get: Callable[[str], Any], regions: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    raw = get("availability_zones")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise _fail(
                "availability_zones",
                raw,
                'a JSON object such as {"us-east-1": ["us-east-1a", "us-east-1b"]}',
            ) from None
    if not isinstance(raw, dict):
        raise _fail("availability_zones", raw, "an object of region to a list of zone names")
    result: dict[str, tuple[str, ...]] = {}
    for region in regions:
        zones = raw.get(region)
        allowed = f"two or more distinct zone names of {region}, such as {region}a, {region}b"
        if zones is None:
            raise ConfigError(
                f"context key 'availability_zones': no entry for region '{region}'; "
                f"allowed: {allowed}"
            )
        if (
            not isinstance(zones, list)
            or len(zones) < 2
            or len(set(zones)) != len(zones)
            or not all(isinstance(z, str) and re.fullmatch(rf"{region}[a-z]", z) for z in zones)
        ):
            raise _fail(f"availability_zones.{region}", zones, allowed)
        result[region] = tuple(zones)
    return result


def _target(get: Callable[[str], Any], key: str) -> float | None:
    value = get(key)
    if value in (None, ""):
        return None
    try:
        return parse_duration(value, f"context key '{key}'")
    except ValueError as error:
        raise ConfigError(str(error)) from None


# AWS Backup schedules snapshot backups as often as hourly (read 2026-11-29:
# https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html);
# an interval that divides the day keeps them evenly spaced in a cron schedule.
BACKUP_INTERVALS_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)


def _backup_interval(
    get: Callable[[str], Any],
    tiers: tuple[TierSpec, ...],
    rpo_target: float | None,
    assumptions: Mapping[str, float],
) -> int | None:
    """Hours between backups: context key ``backup_frequency``; else, when the one tier
    synthesized recovers from its backups and ``rpo_target`` is given, the least frequent
    schedule whose RPO (interval + the copy's slow end) meets the target."""
    allowed = (
        "1h, 2h, 3h, 4h, 6h, 8h, 12h or 24h (AWS Backup schedules as often as hourly; "
        "an interval that divides the day keeps backups evenly spaced)"
    )
    raw = get("backup_frequency")
    if raw not in (None, ""):
        try:
            hours = parse_duration(raw, "backup_frequency") / 3600
        except ValueError:
            raise _fail("backup_frequency", raw, allowed) from None
        if hours not in BACKUP_INTERVALS_HOURS:
            raise _fail("backup_frequency", raw, allowed)
        return int(hours)
    if rpo_target is None or len(tiers) != 1 or tiers[0].has_recovery_stack:
        return None
    figures, _ = with_overrides(assumptions)
    copy = figures["backup_copy_seconds"].at("high").value
    fits = [h for h in BACKUP_INTERVALS_HOURS if h * 3600 + copy <= rpo_target]
    if not fits:
        replicating = [name for name, spec in TIERS.items() if spec.has_recovery_stack]
        least = format_duration(BACKUP_INTERVALS_HOURS[0] * 3600 + copy)
        raise ConfigError(
            f"context key 'rpo_target': '{get('rpo_target')}' cannot be met by "
            f"{tiers[0].name}: hourly backups (AWS Backup's most frequent) plus up to "
            f"{format_duration(copy)} to copy them to the recovery region; allowed: {least} or "
            f"more, or a tier that replicates ({', '.join(replicating)})"
        )
    return max(fits)


def _assumptions(get: Callable[[str], Any]) -> dict[str, float]:
    raw = get("assumptions")
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raw = None
    if not isinstance(raw, dict):
        raise _fail(
            "assumptions",
            get("assumptions"),
            'a JSON object of assumption name to number, such as {"database_size_gb": 500}',
        )
    try:
        with_overrides(raw)
    except ParameterError as error:
        raise ConfigError(f"context key 'assumptions': {error}") from None
    return {name: float(value) for name, value in raw.items()}


def _restore_from(
    get: Callable[[str], Any], tiers: tuple[TierSpec, ...], region: str, account: str
) -> RestoreFrom | None:
    raw = get("restore_from")
    if raw in (None, ""):
        return None
    allowed = (
        'a JSON object {"database_snapshot": "<RDS snapshot ARN in primary_region>", '
        '"listener_arn": "<Global Accelerator listener ARN>"}'
    )
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise _fail("restore_from", raw, allowed) from None
    if not isinstance(raw, dict) or set(raw) != {"database_snapshot", "listener_arn"}:
        raise _fail("restore_from", raw, allowed)
    rebuilds = [t.name for t in tiers if not t.has_recovery_stack]
    if len(tiers) != 1 or not rebuilds:
        raise ConfigError(
            "context key 'restore_from': only a tier that is rebuilt after the event can be "
            "restored; allowed: with tier="
            + ", ".join(t for t in TIERS if not TIERS[t].has_recovery_stack)
        )
    snapshot = _SNAPSHOT_ARN.match(str(raw["database_snapshot"]))
    if not snapshot or snapshot[1] != region or snapshot[2] != account:
        raise _fail(
            "restore_from.database_snapshot",
            raw["database_snapshot"],
            f"an RDS snapshot ARN in {region} of account {account}",
        )
    if not _LISTENER_ARN.match(str(raw["listener_arn"])):
        raise _fail(
            "restore_from.listener_arn",
            raw["listener_arn"],
            "arn:aws:globalaccelerator::<account>:accelerator/<id>/listener/<id>",
        )
    return RestoreFrom(str(raw["database_snapshot"]), str(raw["listener_arn"]))


def from_context(get: Callable[[str], Any]) -> DrConfig:
    """Build the configuration from a context getter (``app.node.try_get_context``)."""
    tiers = _tiers(get)
    primary = _region(get, "primary_region")
    recovery = _region(get, "recovery_region")
    if primary == recovery:
        raise ConfigError(
            f"context key 'recovery_region': '{recovery}' is the primary region too; "
            "allowed: any other AWS commercial region"
        )
    accelerated = [t.name for t in tiers if t.entry_point is EntryPoint.ACCELERATOR]
    rebuilding = get("restore_from") not in (None, "")  # a rebuild during an event
    if primary == ACCELERATOR_API_REGION and accelerated and not rebuilding:
        raise _fail(
            "primary_region",
            primary,
            f"a region other than {ACCELERATOR_API_REGION} for {', '.join(accelerated)}: their "
            "failover holds the lost region off through the Global Accelerator API, served "
            f"from {ACCELERATOR_API_REGION} only",
        )
    dax = region_facts().dax
    if primary not in dax:
        raise _fail(
            "primary_region",
            primary,
            "a region with DynamoDB Accelerator (DAX): " + ", ".join(sorted(dax)),
        )
    if any(t.dax_in_recovery for t in tiers) and recovery not in dax:
        raise _fail(
            "recovery_region",
            recovery,
            "a region with DynamoDB Accelerator (DAX): " + ", ".join(sorted(dax)),
        )
    resilience_hub = _boolean(get, "resilience_hub")
    if resilience_hub and recovery not in region_facts().resilience_hub:
        raise _fail(
            "recovery_region",
            recovery,
            "a region with AWS Resilience Hub for resilience_hub=true (its stack lives in the "
            "recovery region): " + ", ".join(sorted(region_facts().resilience_hub)),
        )
    full = _count(get, "full_task_count", 1)
    reduced = _count(get, "reduced_task_count", 1)
    if reduced >= full:
        raise ConfigError(
            f"context key 'reduced_task_count': {reduced} is not below full_task_count {full}; "
            f"allowed: a whole number from 1 to {full - 1}"
        )
    zone_id = get("hosted_zone_id")
    if zone_id in (None, ""):
        zone_id = None
    elif not isinstance(zone_id, str) or not _ZONE_ID.match(zone_id):
        raise _fail("hosted_zone_id", zone_id, "a Route 53 hosted zone id such as Z0123456789ABC")
    image = get("container_image")
    if not isinstance(image, str) or not image or any(c.isspace() for c in image):
        raise _fail("container_image", image, "a container image reference without spaces")
    account = _string(get, "account", _ACCOUNT, "a 12-digit AWS account id")
    rpo_target, assumptions = _target(get, "rpo_target"), _assumptions(get)
    app_name = _string(
        get,
        "app_name",
        _APP_NAME,
        "3-16 lowercase letters, digits or hyphens, starting with a letter",
    )
    return DrConfig(
        tiers=tiers,
        primary_region=primary,
        recovery_region=recovery,
        account=account,
        app_name=app_name,
        domain_name=_domain(get, app_name, account, zone_id),
        hosted_zone_id=zone_id,
        availability_zones=_availability_zones(get, (primary, recovery)),
        container_image=image,
        container_port=_port(get, "container_port"),
        container_user=_string(
            get, "container_user", _USER, "a non-root user name or uid, such as 101 or app"
        ),
        health_check_path=_string(
            get, "health_check_path", _PATH, "an absolute URL path such as /health"
        ),
        full_task_count=full,
        reduced_task_count=reduced,
        sandbox=_boolean(get, "sandbox"),
        drills=_boolean(get, "drills"),
        resilience_hub=resilience_hub,
        failed_over=_boolean(get, "failed_over"),
        restore_from=_restore_from(get, tiers, primary, account),
        rto_target_seconds=_target(get, "rto_target"),
        rpo_target_seconds=rpo_target,
        assumptions=assumptions,
        backup_interval_hours=_backup_interval(get, tiers, rpo_target, assumptions),
    )
