"""Typed, frozen configuration built from CDK context: the only reader of context.

Every value is validated here, before a single construct exists, so bad input fails fast with one
line that names the key, the value received and what is allowed, and nothing is synthesized.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from drtiers.config.workload import DEFAULT_FILE, REFERENCE, Dax, Service, Table, Workload
from drtiers.core.durations import format_duration, parse_duration
from drtiers.core.facts import ParameterError, with_overrides
from drtiers.core.images import (
    REPOSITORY_NAME,
    PrivateImage,
    private_image,
    pulled_in,
    replicated,
)
from drtiers.core.tiers import TIER_NAMES, TIERS, EntryPoint, Relational, TierSpec

# Route 53's control plane and its health-check metrics live in us-east-1, so the edge stack (hosted
# zone, health checks and their alarms, the accelerator) is deployed there whatever P and R are.
EDGE_REGION = "us-east-1"

# An account id and an app name (every physical name's prefix): the fleet file's too.
ACCOUNT_PATTERN = r"^\d{12}$"
APP_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$"
_ACCOUNT = re.compile(ACCOUNT_PATTERN)
_APP_NAME = re.compile(APP_NAME_PATTERN)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Route 53 refuses hosted zones for the names RFC 2606 and RFC 6761 reserve (CreateHostedZone:
# InvalidDomainName), and for a bare TLD. Read 2026-11-28:
# https://github.com/aws-samples/sample-agentic-value-accelerator/pull/126 (example.com rejected)
# https://github.com/boto/boto/pull/2098 (example.com: InvalidDomainName)
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html (no TLDs)
# https://www.rfc-editor.org/rfc/rfc2606 and https://www.rfc-editor.org/rfc/rfc6761 (the names)
_RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost"})
_RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})


_SNAPSHOT_ARN = re.compile(
    r"^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):snapshot:[A-Za-z0-9:_-]{1,255}$"
)
_CERTIFICATE_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):(\d{12}):certificate/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$"
)
EVENT_DIGITS = 10  # yymmddHHMM, UTC
_EVENT = re.compile(f"[0-9]{{{EVENT_DIGITS}}}")  # fullmatch
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
    mrsc_sets: tuple[tuple[str, ...], ...]  # multi-Region strong consistency's region sets


@cache
def region_facts() -> RegionFacts:
    """Region lists from drtiers/data/regions.json (each with its source and date)."""
    data = json.loads(resources.files("drtiers.data").joinpath("regions.json").read_text())
    return RegionFacts(
        commercial=frozenset(data["commercial_regions"]["regions"]),
        dax=frozenset(data["dax_regions"]["regions"]),
        resilience_hub=frozenset(data["resilience_hub_regions"]["regions"]),
        mrsc_sets=tuple(tuple(r) for r in data["mrsc_region_sets"]["sets"].values()),
    )


# sandbox=true: the smallest sizes each block accepts, whatever the workload file says.
SANDBOX_DATABASE = {
    "instance_class": "db.t4g.medium",
    "replica_class": "db.t4g.medium",
    "aurora_class": "db.r7g.large",
    "aurora_secondary_class": "db.r7g.large",
}
# One node is below what a workload file may ask (CT.DAX.PR.2 wants three): sandbox only.
SANDBOX_DAX = Dax.model_construct(
    node_type="dax.t3.small", recovery_node_type="dax.t3.small", nodes=1
)


@dataclass(frozen=True)
class RestoreFrom:
    """What a rebuild of the primary stack in another region starts from (backup-restore's
    failover): the database snapshot copied there, and the accelerator listener to join. The
    table is restored beforehand under the tier's fixed table name. ``event`` is the event's
    UTC time (yymmddHHMM): what the rebuilt stack retains on deletion is named for it, so the
    next event's rebuild creates other names."""

    database_snapshot: str
    listener_arn: str
    event: str

    def named(self, name: str) -> str:
        return per_event(name, self.event)


def per_event(name: str, event: str) -> str:
    """``name`` for an event: ``<name>-<event>``, before a FIFO queue's ``.fifo`` (its name
    must end so)."""
    stem, fifo = (name[: -len(".fifo")], ".fifo") if name.endswith(".fifo") else (name, "")
    return f"{stem}-{event}{fifo}"


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
    # The workload file's (or the reference's), with sandbox sizes in sandbox mode.
    workload: Workload
    sandbox: bool
    drills: bool = False
    # Reserve concurrency for the plan's functions (context reserve_concurrency): off, as a new
    # account's Lambda quota may leave none to reserve.
    reserve_concurrency: bool = False
    # A Resilience Hub policy and application per tier, in R (billed per application-month).
    resilience_hub: bool = False
    # Set while an event lasts: the recovery stack deploys at full capacity (failover step).
    failed_over: bool = False
    restore_from: RestoreFrom | None = None
    rto_target_seconds: float | None = None
    rpo_target_seconds: float | None = None
    assumptions: Mapping[str, float] = field(default_factory=dict)
    # Region -> ACM certificate ARN for the load balancers there (instead of a certificate
    # validated in hosted_zone_id).
    certificate_arns: Mapping[str, str] = field(default_factory=dict)
    # Hours between backups for every tier synthesized (context backup_frequency, or chosen
    # from rpo_target for backup-restore alone); None: each tier's own default.
    backup_interval_hours: int | None = None

    @property
    def service(self) -> Service:
        return self.workload.service

    @property
    def https(self) -> bool:
        """The load balancers listen on HTTPS: with certificates given, or with a zone the user
        owns to validate new ones in (a zone created here is not delegated yet, so it cannot)."""
        return bool(self.certificate_arns) or self.hosted_zone_id is not None

    def backup_interval(self, tier: TierSpec) -> int:
        return self.backup_interval_hours or tier.backup_interval_hours

    @property
    def home_region(self) -> str:
        """The region the tier runs in day to day: the primary, except in a rebuild's synth
        (restore_from), which swaps the pair to rebuild the primary in the recovery region."""
        return self.recovery_region if self.restore_from is not None else self.primary_region

    def image_in(self, region: str) -> str:
        """The image tasks in ``region`` pull: the replica in their own region of one the
        tier replicates out of its home region's registry (drtiers.core.images)."""
        return pulled_in(self.service.image, region, self.home_region, self.account)

    def image_repository_in(self, region: str) -> str | None:
        """The private ECR repository tasks in ``region`` pull from (its ARN), if any."""
        image = private_image(self.image_in(region))
        return image.repository_arn() if image is not None else None

    @property
    def replicated_image(self) -> PrivateImage | None:
        """The image the home region's stack replicates to the other region, if any."""
        return replicated(self.service.image, self.home_region, self.account)


def _fail(key: str, value: object, allowed: str) -> ConfigError:
    return _invalid(f"context key '{key}'", value, allowed)


def _invalid(label: str, value: object, allowed: str) -> ConfigError:
    shown = json.dumps(value) if not isinstance(value, str) else f"'{value}'"
    return ConfigError(f"{label}: {shown} is not valid; allowed: {allowed}")


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


def _domain(label: str, value: str | None, app_name: str, account: str, zone_id: str | None) -> str:
    if value in (None, ""):
        if zone_id is not None:
            # Records are named inside the given zone; finding its name would need a look-up.
            raise ConfigError(
                f"{label}: missing; allowed: the name of hosted zone {zone_id} (records are "
                "named <app>-<tier>.<domain_name>)"
            )
        return default_domain(app_name, account)
    if (
        not _DOMAIN.match(value)
        or value.rsplit(".", 1)[-1] in _RESERVED_TLDS
        or ".".join(value.split(".")[-2:]) in _RESERVED_DOMAINS
    ):
        raise ConfigError(
            f"{label}: '{value}' is not valid; allowed: a lowercase DNS name of two or more "
            "labels that Route 53 hosts, such as dr.your-company.com; not example.com, .net, "
            ".org or a name under .test, .example, .invalid, .localhost (reserved by RFC 2606 "
            f"and RFC 6761); or none, for a new zone named {default_domain(app_name, account)}"
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
    workload_frequency: str | None = None,
) -> int | None:
    """Hours between backups: context key ``backup_frequency``, else the workload file's
    ``backups.frequency`` (which the schema checked); else, when the one tier
    synthesized recovers from its backups and ``rpo_target`` is given, the least frequent
    schedule whose RPO (interval + the copy's slow end) meets the target."""
    allowed = (
        "1h, 2h, 3h, 4h, 6h, 8h, 12h or 24h (AWS Backup schedules as often as hourly; "
        "an interval that divides the day keeps backups evenly spaced)"
    )
    raw = get("backup_frequency") or workload_frequency
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


def _restore_from(
    get: Callable[[str], Any], tiers: tuple[TierSpec, ...], region: str, account: str
) -> RestoreFrom | None:
    raw = get("restore_from")
    if raw in (None, ""):
        return None
    allowed = (
        'a JSON object {"database_snapshot": "<RDS snapshot ARN in primary_region>", '
        '"listener_arn": "<Global Accelerator listener ARN>", "event": "<yymmddHHMM>"}'
    )
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise _fail("restore_from", raw, allowed) from None
    if not isinstance(raw, dict) or set(raw) != {"database_snapshot", "listener_arn", "event"}:
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
    return RestoreFrom(
        str(raw["database_snapshot"]), str(raw["listener_arn"]), _event(raw["event"])
    )


def _event(value: object) -> str:
    """The event's UTC time as the rebuild step stamps it (date -u +%y%m%d%H%M)."""
    allowed = "the event's UTC time as yymmddHHMM, 10 digits (date -u +%y%m%d%H%M)"
    if not isinstance(value, str) or not _EVENT.fullmatch(value):
        raise _fail("restore_from.event", value, allowed)
    try:
        datetime.strptime(value, "%y%m%d%H%M")
    except ValueError:
        raise _fail("restore_from.event", value, allowed) from None
    return value


# Context keys that override one field of the workload file, for a quick change on the
# command line (--context reduced_task_count=2); an error then names the context key.
WORKLOAD_KEYS: dict[str, tuple[str, ...]] = {
    "container_image": ("service", "image"),
    "container_port": ("service", "port"),
    "container_user": ("service", "user"),
    "health_check_path": ("service", "health_check_path"),
    "full_task_count": ("service", "tasks", "full"),
    "reduced_task_count": ("service", "tasks", "reduced"),
    "domain_name": ("entry_point", "domain_name"),
    "hosted_zone_id": ("entry_point", "hosted_zone_id"),
    "health_check_interval": ("entry_point", "health_check", "interval_seconds"),
    "health_check_failure_threshold": ("entry_point", "health_check", "failure_threshold"),
}
REFERENCE_WORKLOAD = "reference"  # context workload=reference: ignore any drtiers.yaml
# Every context key drtiers reads (README, "Context keys"; fleet: `cdk synth --context
# fleet=FILE`, the fleet's pipeline app).
CONTEXT_KEYS = frozenset(
    {
        "tier", "primary_region", "recovery_region", "account", "app_name", "workload",
        "certificate_arns", "availability_zones", "sandbox", "drills", "reserve_concurrency",
        "resilience_hub", "failed_over", "restore_from", "rto_target", "rpo_target",
        "backup_frequency", "assumptions", "fleet", *WORKLOAD_KEYS,
    }
)  # fmt: skip
# The CDK's own keys carry an "@" (feature flags) or a ":" (aws:cdk:..., cached look-ups), but
# for these two, which cdk.json and `cdk acknowledge` write.
_CDK_KEYS = frozenset({"cli-telemetry", "acknowledged-issue-numbers"})


def check_context_keys(keys: Iterable[str]) -> None:
    """Refuse a context key drtiers does not read: a misspelt one would be ignored, and the app
    synthesized with the default it was meant to change (teir=pilot-light: all four tiers)."""
    for key in sorted(keys):
        if key in CONTEXT_KEYS or key in _CDK_KEYS or "@" in key or ":" in key:
            continue
        near = difflib.get_close_matches(key.replace("-", "_"), CONTEXT_KEYS, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ConfigError(
            f"context key '{key}' is not one drtiers reads{hint}; allowed: "
            + ", ".join(sorted(CONTEXT_KEYS))
        )


def workload_path(get: Callable[[str], Any]) -> Path | None:
    """The workload file to read: context ``workload``, else ./drtiers.yaml if present."""
    value = get("workload")
    if value == REFERENCE_WORKLOAD:
        return None
    if value in (None, ""):
        default = Path(DEFAULT_FILE)
        return default if default.is_file() else None
    allowed = f"the path of a workload file (drtiers init writes one), or {REFERENCE_WORKLOAD}"
    if not isinstance(value, str):
        raise _fail("workload", value, allowed)
    if not Path(value).is_file():
        raise ConfigError(f"context key 'workload': '{value}' is not a file; allowed: {allowed}")
    return Path(value)


CDK_JSON = "cdk.json"


def cdk_json_file(start: Path | None = None) -> Path | None:
    """The nearest cdk.json in ``start`` (default: the working directory) or a folder above it,
    as the CDK CLI finds its app from inside the repository; None when there is none."""
    here = (start or Path.cwd()).resolve()
    return next((f / CDK_JSON for f in (here, *here.parents) if (f / CDK_JSON).is_file()), None)


# Where the CDK CLI writes a context too large for CDK_CONTEXT_JSON (aws-cdk-lib cx-api).
_CONTEXT_FILE = "CONTEXT_OVERFLOW_LOCATION_ENV"


def cli_context() -> dict[str, Any]:
    """The context the CDK CLI hands the app (cdk.json's, cdk.context.json's and --context,
    merged by the CLI): CDK_CONTEXT_JSON, and what did not fit there in the overflow file
    (aws-cdk-lib's App.loadContext merges both, the file's last)."""
    overflow = os.environ.get(_CONTEXT_FILE)
    context = dict(json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}"))
    return {**context, **(json.loads(Path(overflow).read_text()) if overflow else {})}


def cdk_json_context(start: Path | None = None) -> dict[str, Any]:
    """The context of the nearest cdk.json (as :func:`cdk_json_file` finds it), a fresh dict
    the caller may change: the only reader of cdk.json. Raises ConfigError when there is none."""
    found = cdk_json_file(start)
    if found is None:
        raise ConfigError(f"no {CDK_JSON} in {start or Path.cwd()} or any folder above it")
    context: dict[str, Any] = json.loads(found.read_text()).get("context", {})
    return context


def read_yaml(
    path: Path,
    kind: str = "workload file",
    allowed: str = "a mapping with service and, as the workload has them, database, tables, "
    "queues, entry_point, backups, figures",
) -> dict[str, Any]:
    """A YAML file's mapping; a file that is not YAML, or not a mapping, is one line."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{kind} {path}: not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{kind} {path}: {json.dumps(raw, default=str)} is not valid; allowed: {allowed}"
        )
    return raw


def _dotted(loc: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _describe(
    loc: tuple[str | int, ...], root: type[BaseModel] = Workload
) -> tuple[str, tuple[str, ...]]:
    """The schema's description of the field at ``loc`` and the keys its section allows."""
    model: type[BaseModel] | None = root
    description, keys = "", tuple(root.model_fields)
    for part in loc:
        if isinstance(part, int) or model is None or part not in model.model_fields:
            continue
        keys = tuple(model.model_fields)
        info = model.model_fields[part]
        description = info.description or description
        model = next(
            (
                t
                for t in (info.annotation, *get_args(info.annotation))
                for t in (t, *get_args(t))
                if isinstance(t, type) and issubclass(t, BaseModel)
            ),
            None,
        )
        if model is not None:
            keys = tuple(model.model_fields)
    return description, keys


def schema_error(
    error: ValidationError,
    source: str,
    overridden: dict[tuple[str, ...], str] | None = None,
    root: type[BaseModel] = Workload,
) -> ConfigError:
    """One line for the first problem of a file ``root`` validates: the field's path (or the
    context key that set it), the value and what the schema allows there."""
    overridden = overridden or {}
    first = error.errors()[0]
    loc = tuple(first["loc"])
    label = f"{source}: {_dotted(loc) or '(top level)'}"
    for path, key in overridden.items():
        if loc[: len(path)] == path or (first["type"] == "value_error" and path[: len(loc)] == loc):
            label = f"context key '{key}'"
    description = _describe(loc, root)[0]
    value = first.get("input")
    shown = f"'{value}'" if isinstance(value, str) else json.dumps(value, default=str)
    if first["type"] == "extra_forbidden":
        parent_keys = _describe(loc[:-1], root)[1]
        return ConfigError(f"{label}: unknown key; allowed: {', '.join(parent_keys)}")
    if first["type"] == "missing":
        return ConfigError(f"{label}: missing; allowed: {description}")
    if first["type"] == "value_error":
        return ConfigError(f"{label}: {first['msg'].removeprefix('Value error, ')}")
    return ConfigError(f"{label}: {shown} is not valid; allowed: {description or first['msg']}")


def _workload(get: Callable[[str], Any]) -> tuple[Workload, str]:
    """The workload (file, else the reference) with the context's overrides, validated by the
    schema; and where it came from, for messages."""
    path = workload_path(get)
    if path is None:
        raw: dict[str, Any] = REFERENCE.model_dump(mode="json")
        source = "reference workload"
    else:
        raw, source = read_yaml(path), f"workload file {path}"
    overridden: dict[tuple[str, ...], str] = {}
    for key, field_path in WORKLOAD_KEYS.items():
        value = get(key)
        if value in (None, ""):
            continue
        section = raw
        for part in field_path[:-1]:
            if not isinstance(section.get(part), dict):
                section[part] = {}
            section = section[part]
        section[field_path[-1]] = value
        overridden[field_path] = key
    assumptions = get("assumptions")
    if assumptions not in (None, ""):
        if isinstance(assumptions, str):
            try:
                assumptions = json.loads(assumptions)
            except json.JSONDecodeError:
                assumptions = None
        if not isinstance(assumptions, dict):
            raise _fail(
                "assumptions",
                get("assumptions"),
                'a JSON object of assumption name to number, such as {"database_size_gb": 500}',
            )
        raw["figures"] = {**(raw.get("figures") or {}), **assumptions}
        overridden[("figures",)] = "assumptions"
    try:
        workload = Workload.model_validate(raw)
    except ValidationError as error:
        raise schema_error(error, source, overridden) from None
    try:
        with_overrides(workload.figures)
    except ParameterError as error:
        where = "context key 'assumptions'" if ("figures",) in overridden else f"{source}: figures"
        raise ConfigError(f"{where}: {error}") from None
    return workload, source


def _sandboxed(workload: Workload) -> Workload:
    """The smallest sizes each block accepts (sandbox=true), whatever the file says."""
    return workload.model_copy(
        update={
            "database": workload.database.model_copy(update=SANDBOX_DATABASE)
            if workload.database
            else None,
            "tables": tuple(
                t.model_copy(update={"dax": SANDBOX_DAX}) if t.dax else t for t in workload.tables
            ),
        }
    )


def _certificate_arns(
    raw: Any,
    label: str,
    tiers: tuple[TierSpec, ...],
    primary: str,
    recovery: str,
    account: str,
) -> dict[str, str]:
    """``raw`` from the context key (a JSON string) or the workload file's entry point;
    ``label`` names where it came from."""
    if raw in (None, "", {}):
        return {}
    given = raw
    needed = [primary, recovery] if any(t.has_recovery_stack for t in tiers) else [primary]
    allowed = (
        "a JSON object of region to ACM certificate ARN of account "
        f"{account} in that region, for {' and '.join(needed)}, such as "
        f'{{"{primary}": "arn:aws:acm:{primary}:{account}:certificate/<uuid>"}}'
    )
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise _invalid(label, raw, allowed) from None
    if not isinstance(raw, dict):
        raise _invalid(label, given, allowed)
    for region in needed:
        if region not in raw:
            raise ConfigError(f"{label}: no entry for region '{region}'; allowed: {allowed}")
    for region, arn in raw.items():
        if region not in (primary, recovery):
            raise _invalid(
                label, region, f"the regions of the load balancers, {' and '.join(needed)}, as keys"
            )
        match = _CERTIFICATE_ARN.match(arn) if isinstance(arn, str) else None
        if not match or match[1] != region or match[2] != account:
            raise _invalid(
                f"{label[:-1]}.{region}'" if label.endswith("'") else f"{label}.{region}",
                arn,
                f"an ACM certificate ARN in {region} of account {account}, "
                f"arn:aws:acm:{region}:{account}:certificate/<uuid>",
            )
    return {region: str(arn) for region, arn in raw.items()}


def _region_pair(get: Callable[[str], Any], tiers: tuple[TierSpec, ...]) -> tuple[str, str]:
    """The primary and recovery regions: two different commercial regions, the primary not the
    Global Accelerator API's own for a tier that fails over through it."""
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
    return primary, recovery


def _check_dax_regions(
    workload: Workload, tiers: tuple[TierSpec, ...], primary: str, recovery: str
) -> None:
    """A workload with DAX needs it in the primary region, and in the recovery region for the
    tiers that run DAX there."""
    if not any(table.dax for table in workload.tables):
        return
    dax = region_facts().dax
    allowed = "a region with DynamoDB Accelerator (DAX): " + ", ".join(sorted(dax))
    if primary not in dax:
        raise _fail("primary_region", primary, allowed)
    if any(t.dax_in_recovery for t in tiers) and recovery not in dax:
        raise _fail("recovery_region", recovery, allowed)


def witness_region(table: Table, primary: str, recovery: str) -> str:
    """The witness of a table of multi-Region strong consistency: the one it names, else the
    first region of P's region set that is neither P nor R ("" where the set has none)."""
    if table.witness_region is not None:
        return table.witness_region
    same = next((s for s in region_facts().mrsc_sets if primary in s), ())
    return next((r for r in same if r not in (primary, recovery)), "")


def _check_strong_tables(
    workload: Workload, source: str, tiers: tuple[TierSpec, ...], primary: str, recovery: str
) -> None:
    """A table of multi-Region strong consistency is multi-site's option, and its replicas (P,
    R) and witness must be three regions of one region set."""
    for i, table in enumerate(workload.tables):
        if table.consistency != "strong":
            continue
        label = f"{source}: tables[{i}]"
        other = [t.name for t in tiers if not t.strong_tables]
        if other:
            raise _invalid(
                f"{label}.consistency",
                "strong",
                f"eventual for tier {other[0]} (multi-Region strong consistency is multi-site's "
                "option: synthesize tier=multi-site)",
            )
        sets = region_facts().mrsc_sets
        allowed = "; ".join(", ".join(s) for s in sets)
        if not any(primary in s for s in sets):
            raise _fail(
                "primary_region",
                primary,
                f"a region of a set that offers strongly consistent tables ({label}): {allowed}",
            )
        same = next((s for s in sets if primary in s and recovery in s), None)
        if same is None:
            raise _fail(
                "recovery_region",
                recovery,
                f"a region of primary_region {primary}'s region set for a strongly consistent "
                f"table ({label}); the sets: {allowed}",
            )
        witness = witness_region(table, primary, recovery)
        if witness not in same or witness in (primary, recovery):
            others = ", ".join(r for r in same if r not in (primary, recovery))
            raise _invalid(
                f"{label}.witness_region", witness, f"a third region of the set: {others}"
            )


# "Cross-Region copy to or from a logically air-gapped vault is not currently available for
# backups that contain Amazon Aurora, Amazon DocumentDB, and Amazon Neptune" (considerations,
# https://docs.aws.amazon.com/aws-backup/latest/devguide/logicallyairgappedvault.html, read
# 2026-12-05); "MinRetentionDays ... The minimum value accepted is 7 days" (botocore 1.44.8,
# backup CreateLogicallyAirGappedBackupVault).
AIR_GAPPED_MIN_DAYS = 7


def _check_air_gapped(workload: Workload, source: str, tiers: tuple[TierSpec, ...]) -> None:
    """An air-gapped copy needs a retention the vault accepts, and no Aurora in the backup."""
    backups = workload.backups
    if not backups.air_gapped:
        return
    label = f"{source}: backups"
    aurora = [t.name for t in tiers if t.relational is Relational.AURORA_GLOBAL]
    if aurora and workload.database is not None:
        raise _invalid(
            f"{label}.air_gapped",
            True,
            f"false for tier {aurora[0]}: AWS does not copy backups that contain Amazon Aurora "
            "to a logically air-gapped vault in another region (tier backup-restore or "
            "pilot-light, whose database is an RDS instance)",
        )
    if backups.retention_days < AIR_GAPPED_MIN_DAYS:
        raise _invalid(
            f"{label}.retention_days",
            backups.retention_days,
            f"{AIR_GAPPED_MIN_DAYS} to 36500 with air_gapped (the vault's minimum retention)",
        )


def _check_image(
    get: Callable[[str], Any], workload: Workload, source: str, primary: str, account: str
) -> None:
    """A private ECR image whose repository name ECR refuses, or one in another account's
    registry in the primary region: lost with it, and the tier can add a replication rule to
    its own account's registry only."""
    image = private_image(workload.service.image)
    if image is None:
        return
    overridden = get("container_image") not in (None, "")
    label = "context key 'container_image'" if overridden else f"{source}: service.image"
    if not REPOSITORY_NAME.match(image.repository):
        raise _invalid(
            label,
            workload.service.image,
            "a private ECR repository name of lowercase letters and digits, parts joined "
            "by . _ - or / (ECR's repository names)",
        )
    if image.region == primary and image.account != account:
        raise _invalid(
            label,
            workload.service.image,
            f"an image outside {primary}'s registries of other accounts (it would be lost "
            f"with {primary}): an image in account {account}'s private registry (the tier "
            f"replicates it to the recovery region), or one in a registry outside {primary}",
        )


def _resilience_hub(get: Callable[[str], Any], recovery: str) -> bool:
    """Context ``resilience_hub``; its stack lives in the recovery region, which must have it."""
    resilience_hub = _boolean(get, "resilience_hub")
    if resilience_hub and recovery not in region_facts().resilience_hub:
        raise _fail(
            "recovery_region",
            recovery,
            "a region with AWS Resilience Hub for resilience_hub=true (its stack lives in the "
            "recovery region): " + ", ".join(sorted(region_facts().resilience_hub)),
        )
    return resilience_hub


def _entry_domain(
    get: Callable[[str], Any], workload: Workload, source: str, app_name: str, account: str
) -> str:
    """The entry point's domain; an error names the context key when the context set it."""
    entry = workload.entry_point
    label = (
        "context key 'domain_name'"
        if get("domain_name") not in (None, "") or get("hosted_zone_id") not in (None, "")
        else f"{source}: entry_point.domain_name"
    )
    return _domain(label, entry.domain_name, app_name, account, entry.hosted_zone_id)


def _certificates_given(
    get: Callable[[str], Any], workload: Workload, source: str
) -> tuple[Any, str]:
    """The certificate ARNs as given (context key ``certificate_arns``, else the workload
    file's entry point) and the label that names where they came from."""
    certificates = get("certificate_arns")
    if certificates in (None, ""):
        return dict(
            workload.entry_point.certificate_arns
        ), f"{source}: entry_point.certificate_arns"
    return certificates, "context key 'certificate_arns'"


def from_context(get: Callable[[str], Any]) -> DrConfig:
    """Build the configuration from a context getter (``app.node.try_get_context``). Keys are
    checked in a fixed order, so the first bad one is the one reported."""
    tiers = _tiers(get)
    primary, recovery = _region_pair(get, tiers)
    sandbox = _boolean(get, "sandbox")
    workload, source = _workload(get)
    _check_dax_regions(workload, tiers, primary, recovery)
    _check_strong_tables(workload, source, tiers, primary, recovery)
    _check_air_gapped(workload, source, tiers)
    resilience_hub = _resilience_hub(get, recovery)
    account = _string(get, "account", _ACCOUNT, "a 12-digit AWS account id")
    _check_image(get, workload, source, primary, account)
    rpo_target, assumptions = _target(get, "rpo_target"), dict(workload.figures)
    app_name = _string(
        get,
        "app_name",
        _APP_NAME,
        "3-16 lowercase letters, digits or hyphens, starting with a letter",
    )
    domain = _entry_domain(get, workload, source, app_name, account)
    certificates, label = _certificates_given(get, workload, source)
    return DrConfig(
        tiers=tiers,
        primary_region=primary,
        recovery_region=recovery,
        account=account,
        app_name=app_name,
        domain_name=domain,
        hosted_zone_id=workload.entry_point.hosted_zone_id,
        availability_zones=_availability_zones(get, (primary, recovery)),
        workload=_sandboxed(workload) if sandbox else workload,
        sandbox=sandbox,
        drills=_boolean(get, "drills"),
        reserve_concurrency=_boolean(get, "reserve_concurrency"),
        resilience_hub=resilience_hub,
        failed_over=_boolean(get, "failed_over"),
        restore_from=_restore_from(get, tiers, primary, account),
        rto_target_seconds=_target(get, "rto_target"),
        rpo_target_seconds=rpo_target,
        assumptions=assumptions,
        backup_interval_hours=_backup_interval(
            get, tiers, rpo_target, assumptions, workload.backups.frequency
        ),
        certificate_arns=_certificate_arns(certificates, label, tiers, primary, recovery, account),
    )
