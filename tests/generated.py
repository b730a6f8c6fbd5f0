"""Generated workload files: a hypothesis strategy that draws files the schema accepts, and the
bar each one is held to (every tier synthesized in both region pairs, through every gate, and
the simulator's region loss and failback, backup-restore's rebuild included).

The strategy is built from the schema's own models (drtiers.config.workload): its ranges,
choices and the rules that live in validators (reduced below full, Fargate's cpu and memory
pairs, a dead-letter queue that keeps longer, write_min up to write_max, distinct names). Free
text (image, classes, node types) is drawn from realistic values, so a failure is drtiers', not
a name AWS has never offered.
"""

from __future__ import annotations

import re
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from annotated_types import Ge, Le
from hypothesis import assume
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from drtiers.checks.gates import run_gates
from drtiers.config.context import ConfigError
from drtiers.config.workload import (
    CREDENTIAL_ENV_NAMES,
    ENGINE_VERSIONS,
    FARGATE_MEMORY,
    RESERVED_ENV_PATTERN,
    Backups,
    Capacity,
    Database,
    Dax,
    HealthCheck,
    Queue,
    Service,
    Tasks,
    Workload,
)
from drtiers.core.facts import default_figures, default_workload
from drtiers.core.tiers import TIER_NAMES
from tests.agreement import disagreements
from tests.conftest import DEFAULT_CONTEXT, config

Raw = dict[str, Any]

# Private ECR images of the deployment's account: in each region of the pairs (the tier
# replicates one in P to R) and in a third region (it survives P as it is).
_ECR = f"{DEFAULT_CONTEXT['account']}.dkr.ecr"
IMAGES = (
    f"{_ECR}.us-east-1.amazonaws.com/shop/api:1.4.2",
    f"{_ECR}.us-west-2.amazonaws.com/shop/web@sha256:" + "cd" * 32,
    f"{_ECR}.eu-west-1.amazonaws.com/base/api:2",
    "public.ecr.aws/nginx/nginx-unprivileged:alpine",
    "public.ecr.aws/docker/library/httpd:2.4",
    "ghcr.io/acme/shop:1.4.2",
    "docker.io/library/python:3.12-slim",
    "quay.io/acme/api@sha256:" + "ab" * 32,
)
# Classes the price file prices: the bar includes the estimate, which refuses an unpriced one.
INSTANCE_CLASSES = ("db.m7g.large", "db.m7g.xlarge", "db.r7g.large", "db.t4g.medium")
AURORA_CLASSES = ("db.r7g.large", "db.r7g.xlarge", "db.r6g.2xlarge", "db.r6g.large")
DAX_NODES = ("dax.r5.large", "dax.r5.xlarge", "dax.t3.medium", "dax.t3.small")
NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
ATTRIBUTE = st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True)
CERTIFICATE_ID = "1b2c3d4-abcd-4ef0-8123-456789abcdef"  # after one digit: a uuid
ENV_VALUE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)

# Region pairs every drawn file synthesizes in. Backup-restore and multi-site fail over through
# the Global Accelerator API, served from us-west-2 only, so the reversed pair holds the tiers
# that may have their primary there.
PAIRS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("us-east-1", "us-west-2", ("",)),
    ("us-west-2", "us-east-1", ("pilot-light", "warm-standby")),
)


def _whole(model: type[BaseModel], field: str, low: int | None = None) -> st.SearchStrategy[int]:
    """The whole numbers the schema allows for ``field`` of ``model`` (its ge and le), from
    ``low`` where a sibling field bounds it too."""
    bounds = model.model_fields[field].metadata
    least = next(b.ge for b in bounds if isinstance(b, Ge))
    most = next(b.le for b in bounds if isinstance(b, Le))
    return st.integers(max(least, low or least), most)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def services(draw: st.DrawFn) -> Raw:
    cpu = draw(st.sampled_from(sorted(FARGATE_MEMORY)))
    full = draw(_whole(Tasks, "full", low=2))  # reduced must stay below it
    return {
        "image": draw(st.sampled_from(IMAGES)),
        "port": draw(st.sampled_from((80, 3000, 8000, 8080)) | _whole(Service, "port")),
        "cpu": cpu,
        "memory": draw(st.sampled_from(FARGATE_MEMORY[cpu])),
        "user": draw(
            st.sampled_from(("101", "app", "1000", "www-data"))
            | st.from_regex(r"[a-z_][a-z0-9_-]{0,31}|[1-9][0-9]{0,9}", fullmatch=True).filter(
                lambda user: user != "root"
            )
        ),
        "health_check_path": draw(st.from_regex(r"/[A-Za-z0-9._~/-]{0,40}", fullmatch=True)),
        "tasks": {"full": full, "reduced": draw(st.integers(1, full - 1))},
        "environment": draw(
            st.dictionaries(
                st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True).filter(
                    lambda name: (
                        not re.match(RESERVED_ENV_PATTERN, name)
                        and name not in CREDENTIAL_ENV_NAMES
                    )
                ),
                ENV_VALUE,
                max_size=4,
            )
        ),
    }


@st.composite
def databases(draw: st.DrawFn) -> Raw:
    engine = draw(st.sampled_from(sorted(ENGINE_VERSIONS)))
    return {
        "engine": engine,
        "version": draw(st.sampled_from(ENGINE_VERSIONS[engine])),
        "instance_class": draw(st.sampled_from(INSTANCE_CLASSES)),
        "replica_class": draw(st.sampled_from(INSTANCE_CLASSES)),
        "aurora_class": draw(st.sampled_from(AURORA_CLASSES)),
        "aurora_secondary_class": draw(st.sampled_from(AURORA_CLASSES)),
        "storage_gb": draw(_whole(Database, "storage_gb")),
        "backup_retention_days": draw(_whole(Database, "backup_retention_days")),
    }


def _key(draw: st.DrawFn) -> Raw:
    return {"name": draw(ATTRIBUTE), "type": draw(st.sampled_from(("S", "N", "B")))}


@st.composite
def tables(draw: st.DrawFn, name: str) -> Raw:
    table: Raw = {"name": name, "partition_key": _key(draw)}
    if draw(st.booleans()):
        table["sort_key"] = _key(draw)
        assume(table["sort_key"]["name"] != table["partition_key"]["name"])
    if draw(st.booleans()):
        write_min = draw(_whole(Capacity, "write_min"))
        table["billing"] = "provisioned"
        table["capacity"] = {
            "read": draw(_whole(Capacity, "read")),
            "write_min": write_min,
            "write_max": draw(_whole(Capacity, "write_max", low=write_min)),
        }
    if draw(st.booleans()):
        table["dax"] = {
            "node_type": draw(st.sampled_from(DAX_NODES)),
            "recovery_node_type": draw(st.sampled_from(DAX_NODES)),
            "nodes": draw(_whole(Dax, "nodes")),
        }
    # multi-site's option (decision 49): the other tiers refuse it in one line
    if draw(st.integers(0, 4)) == 0:
        table["consistency"] = "strong"
        witness = draw(_optional(st.sampled_from(("us-east-2", "us-west-2", "eu-west-1"))))
        if witness is not None:
            table["witness_region"] = witness
    return table


@st.composite
def queues(draw: st.DrawFn, name: str) -> Raw:
    retention = draw(_whole(Queue, "retention_days"))
    return {
        "name": name,
        "retention_days": retention,
        "dead_letter_retention_days": draw(
            _whole(Queue, "dead_letter_retention_days", low=retention + 1)
        ),
        "max_receive_count": draw(_whole(Queue, "max_receive_count")),
        "visibility_timeout_seconds": draw(_whole(Queue, "visibility_timeout_seconds")),
    }


@st.composite
def entry_points(draw: st.DrawFn) -> Raw:
    entry: Raw = {}
    domain = draw(_optional(st.sampled_from(("dr.acme-shop.com", "api.acme.io"))))
    if domain is not None:
        entry["domain_name"] = domain
        if draw(st.booleans()):
            entry["hosted_zone_id"] = draw(st.from_regex(r"Z[A-Z0-9]{8,20}", fullmatch=True))
    if draw(st.booleans()):
        account = DEFAULT_CONTEXT["account"]
        entry["certificate_arns"] = {
            region: f"arn:aws:acm:{region}:{account}:certificate/{index}{CERTIFICATE_ID}"
            for index, region in enumerate(("us-east-1", "us-west-2"))
        }
    entry["health_check"] = {
        "interval_seconds": draw(st.sampled_from((10, 30))),
        "failure_threshold": draw(_whole(HealthCheck, "failure_threshold")),
    }
    return entry


@st.composite
def figures(draw: st.DrawFn) -> dict[str, float]:
    """Some of the estimate's workload figures and assumptions, between a tenth and ten times
    their default (an assumption within its published range)."""
    known = {**default_workload()} | {
        name: figure.value
        for name, figure in default_figures().items()
        if figure.kind == "assumption"
    }
    chosen = draw(st.lists(st.sampled_from(sorted(known)), unique=True, max_size=4))
    return {
        name: draw(st.floats(known[name] / 10, known[name] * 10).map(lambda v: round(v, 3)))
        for name in chosen
    }


@st.composite
def workloads(draw: st.DrawFn) -> Raw:
    """A workload file as YAML would load it: only the sections drawn, the rest left to the
    schema's defaults."""
    raw: Raw = {"service": draw(services())}
    if draw(st.booleans()):
        raw["database"] = draw(databases())
    for section, block in (("tables", tables), ("queues", queues)):
        names = draw(st.lists(NAMES.filter(lambda n: n != "control"), unique=True, max_size=3))
        if names or draw(st.booleans()):
            raw[section] = [draw(block(name)) for name in names]
    if draw(st.booleans()):
        raw["entry_point"] = draw(entry_points())
    if draw(st.booleans()):
        raw["backups"] = {
            "frequency": draw(
                _optional(st.sampled_from(("1h", "2h", "3h", "4h", "6h", "8h", "12h", "24h")))
            ),
            "retention_days": draw(_whole(Backups, "retention_days")),
            "restore_tests": draw(st.sampled_from(("weekly", "monthly"))),
            # backup-restore's and pilot-light's option (decision 51): refused with Aurora
            "air_gapped": draw(st.booleans()),
        }
    if draw(st.booleans()):
        raw["figures"] = draw(figures())
    try:  # drawn within the schema's ranges; a rule across fields may still refuse a few
        Workload.model_validate(raw)
    except ValidationError:
        assume(False)
    return raw


def gate_findings(
    raw: Raw, workdir: Path, pairs: tuple[tuple[str, str, tuple[str, ...]], ...] = PAIRS
) -> list[str]:
    """Every finding for one workload file: each tier in ``pairs`` through cfn-lint,
    cdk-nag, Guard, drtiers-dr and the simulator's region loss and failback (a crash counts,
    as its last line), and every route's RTO, RPO and cost against the estimate's (agree).
    Empty when the file meets the bar."""
    path = workdir / "drtiers.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    findings = []
    for primary, recovery, tiers in pairs:
        context = {
            **DEFAULT_CONTEXT,
            "workload": str(path),
            "primary_region": primary,
            "recovery_region": recovery,
        }
        for tier in _accepting(context, tiers):
            where = f"{primary}/{recovery} {tier or 'all tiers'}"
            refused = _refusal(context, tier)
            if refused is not None:  # the file is refused for this tier: in one line, or not
                findings += [f"{where}: refusal not in one line: {refused}"] * ("\n" in refused)
                continue
            with tempfile.TemporaryDirectory(prefix="drtiers-gen-", dir=workdir) as out:
                try:
                    results, simulations = run_gates(Path(out), context, tier=tier)
                    findings += [
                        f"{where}: agree: {line}"
                        for line in disagreements(Path(out), {**context, "tier": tier}, simulations)
                    ]
                except Exception as error:  # a crash is a finding, named by its last frame
                    frame = traceback.extract_tb(error.__traceback__)[-1]
                    findings.append(
                        f"{where}: crash: {type(error).__name__}: {error} "
                        f"({Path(frame.filename).name}:{frame.lineno})"
                    )
                    continue
            findings.extend(
                f"{where}: {checker}: {line}"
                for row in results.values()
                for checker, lines in row.items()
                for line in lines
            )
    return findings


def _accepting(context: dict[str, Any], tiers: tuple[str, ...]) -> tuple[str, ...]:
    """The runs for ``tiers``: all four in one synthesis ("") where the file is taken for all
    of them, else each tier alone (an option one tier offers is refused by the others)."""
    if "" in tiers and _refusal(context, "") is not None:
        return tuple(t for t in tiers if t) + tuple(t for t in TIER_NAMES if t not in tiers)
    return tiers


def _refusal(context: dict[str, Any], tier: str) -> str | None:
    """drtiers' one-line refusal of the file for ``tier`` (all four when empty), or None."""
    try:
        config(**{k: v for k, v in context.items() if k != "tier"}, tier=tier)
    except ConfigError as error:
        return str(error)
    return None


def accepted(raw: Raw) -> str | None:
    """None when drtiers' configuration takes the file in every pair; else its one-line error
    (a file the schema accepts and the configuration refuses)."""
    with tempfile.TemporaryDirectory(prefix="drtiers-gen-") as directory:
        path = Path(directory) / "drtiers.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        for primary, recovery, tiers in PAIRS:
            for tier in tiers:
                try:
                    config(
                        workload=str(path),
                        primary_region=primary,
                        recovery_region=recovery,
                        tier=tier,
                    )
                except ConfigError as error:
                    return str(error)
    return None


def _smaller(raw: Any) -> list[Any]:
    """Each one-step smaller copy of ``raw``: one key or list item left out, or (recursively)
    one of its parts smaller. The schema decides later which of them are still valid."""
    if isinstance(raw, dict):
        out: list[Any] = [{k: v for k, v in raw.items() if k != key} for key in raw]
        for key, value in raw.items():
            out.extend({**raw, key: part} for part in _smaller(value))
        return out
    if isinstance(raw, list):
        out = [raw[:index] + raw[index + 1 :] for index in range(len(raw))]
        for index, value in enumerate(raw):
            out.extend([*raw[:index], part, *raw[index + 1 :]] for part in _smaller(value))
        return out
    return []


def shrink(raw: Raw, still_fails: Callable[[Raw], bool]) -> Raw:
    """The smallest file found, greedily, for which ``still_fails`` holds: leave out one key or
    item at a time while the file stays valid and still fails."""
    smaller = True
    while smaller:
        smaller = False
        for candidate in _smaller(raw):
            try:
                Workload.model_validate(candidate)
            except ValueError:
                continue
            if still_fails(candidate):
                raw, smaller = candidate, True
                break
    return raw
