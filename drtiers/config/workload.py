"""The workload file (``drtiers.yaml``): the user's service, database, tables, queues, entry point,
backups and workload figures, as one schema.

The schema is these pydantic models: they validate the file (unknown keys are errors), and
``json_schema()`` publishes the same rules as JSON Schema (``schema/workload.schema.json``) for
editors. Each field's description says what is allowed; an error message quotes it. Without a
file, ``REFERENCE`` is the workload every tier deploys: drtiers' own reference service.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

SCHEMA_PATH = "schema/workload.schema.json"
DEFAULT_FILE = "drtiers.yaml"

# Names become part of physical names (<app>-<tier>-<name>) and of environment variables.
Name = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$"),
    Field(description="2-24 lowercase letters, digits or hyphens, starting with a letter"),
]
EnvName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"),
    Field(description="an environment variable name such as LOG_LEVEL"),
]
# What drtiers itself tells the app (stacks/wiring.py grant_app): TABLE_NAME_ORDERS, QUEUE_URL,
# DAX_ENDPOINT_ORDERS, DATABASE_ENDPOINT, ... A workload's environment may not set these.
RESERVED_ENV_PREFIXES = ("TABLE_NAME", "QUEUE_URL", "DAX_ENDPOINT", "DATABASE_")
RESERVED_ENV_NAMES = ("CONTROL_TABLE_NAME", "CONTROL_TABLE_REGIONS")
RESERVED_ENV_PATTERN = (
    "^(" + "|".join((*RESERVED_ENV_PREFIXES, *(f"{n}$" for n in RESERVED_ENV_NAMES))) + ")"
)
# Make check's Guard rule CT.ECS.PR.12: "Omit environment variables with 'Name' set to
# 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY' or 'ECS_ENGINE_AUTH_DATA' from container
# definitions." (cdk-validator-cfnguard 0.0.62; https://docs.aws.amazon.com/controltower/latest/
# controlreference/ecs-rules.html, read 2026-12-04). The task role gives the app its access.
CREDENTIAL_ENV_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA")
# The SDKs' and the ECS agent's own settings (AWS_REGION, AWS_ENDPOINT_URL_*, the container's
# credentials URI, ...): the task gets them from the region it runs in, and one file configures
# P, R and a rebuild alike, so a value here would point R's tasks at the lost region.
AWS_ENV_PATTERN = "^(AWS_|ECS_)"
Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$"),
    Field(description="an AWS region such as us-east-1"),
]


class _Section(BaseModel):
    # A uid or a version written as a YAML number is still the string it means.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class Tasks(_Section):
    full: int = Field(
        2, ge=1, le=100, description="a whole number from 1 to 100: tasks at full capacity"
    )
    reduced: int = Field(
        1,
        ge=1,
        le=99,
        description="a whole number from 1 to below full: tasks a warm standby runs in the "
        "recovery region",
    )

    @model_validator(mode="after")
    def _reduced_below_full(self) -> Tasks:
        if self.reduced >= self.full:
            raise ValueError(
                f"reduced {self.reduced} is not below full {self.full}; "
                f"allowed: a whole number from 1 to {self.full - 1}"
            )
        return self


# Fargate's CPU and memory combinations (MiB), read 2026-11-29:
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


class Service(_Section):
    # ECS's ContainerDefinition image, read 2026-12-04: "up to 255 characters total are
    # allowed, including letters (uppercase and lowercase), numbers, hyphens, underscores,
    # colons, periods, forward slashes, and number signs (#)"; with a digest "the 255 character
    # limit applies only to ... everything before the @ sign" and "the hash value after
    # sha256: must be exactly 64 characters" (https://docs.aws.amazon.com/sdk-for-kotlin/api/
    # latest/ecs/aws.sdk.kotlin.services.ecs.model/-container-definition/image.html).
    image: str = Field(
        pattern=r"^[A-Za-z0-9_.:/#-]{1,255}(@sha256:[0-9A-Fa-f]{64})?$",
        description="a container image reference without spaces, such as "
        "public.ecr.aws/nginx/nginx-unprivileged:alpine: up to 255 letters, digits, - _ . : / "
        "or #, then @sha256:<64 hex digits> for a digest (what ECS accepts); one in the "
        "account's private ECR registry in the primary region is replicated to the recovery "
        "region, whose tasks pull the replica; one of another account's registry in the "
        "primary region is refused",
    )
    port: int = Field(
        8080, ge=1, le=65535, description="a port number from 1 to 65535, the container's"
    )
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = Field(
        512, description="Fargate CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384"
    )
    memory: int = Field(
        1024, description="MiB, a Fargate combination with cpu (512: 1024 to 4096 in 1024 steps)"
    )
    user: str = Field(
        "101",
        # No leading zeros: the container runtime reads a uid of 00 as the number 0, root.
        pattern=r"^[a-z_][a-z0-9_-]{0,31}$|^(0|[1-9][0-9]{0,9})$",
        json_schema_extra={"not": {"enum": ["0", "root"]}},
        description="a non-root user name or uid, such as 101 or app",
    )
    health_check_path: str = Field(
        "/",
        pattern=r"^/[A-Za-z0-9._~/-]{0,254}$",
        description="an absolute URL path such as /health",
    )
    tasks: Tasks = Field(default_factory=Tasks, description="task counts")
    environment: dict[EnvName, str] = Field(
        default_factory=dict,
        json_schema_extra={
            "propertyNames": {
                "not": {
                    "anyOf": [
                        {"pattern": RESERVED_ENV_PATTERN},
                        {"pattern": AWS_ENV_PATTERN},
                    ]
                }
            }
        },
        description="environment variables for the container, name to value, no secrets (they "
        "are plain text in the task definition); not drtiers' own: "
        + ", ".join(f"{p}*" for p in RESERVED_ENV_PREFIXES)
        + ", "
        + ", ".join(RESERVED_ENV_NAMES)
        + "; no credentials ("
        + ", ".join(CREDENTIAL_ENV_NAMES)
        + ": the task role grants AWS access) and nothing else starting AWS_ or ECS_ (the "
        "task's region sets those)",
    )

    @field_validator("user")
    @classmethod
    def _not_root(cls, user: str) -> str:
        if user in ("0", "root"):
            raise ValueError(f"user '{user}' is root; allowed: a non-root user name or uid")
        return user

    @field_validator("environment")
    @classmethod
    def _not_drtiers_own(cls, environment: dict[str, str]) -> dict[str, str]:
        # drtiers' variables tell the app where its data lives; a user's must not replace them.
        for name in sorted(environment):
            if name in CREDENTIAL_ENV_NAMES:
                raise ValueError(
                    f"'{name}' is a credential, which Control Tower's CT.ECS.PR.12 refuses in a "
                    "task definition; allowed: any other name (the task role grants AWS access)"
                )
            if re.match(AWS_ENV_PATTERN, name):
                raise ValueError(
                    f"'{name}' is an AWS setting, which each task gets from the region it runs "
                    "in (one file configures both regions); allowed: any name not starting "
                    "AWS_ or ECS_"
                )
            if re.match(RESERVED_ENV_PATTERN, name):
                raise ValueError(
                    f"'{name}' is drtiers' own variable; allowed: any other name (not "
                    f"{', '.join(f'{p}*' for p in RESERVED_ENV_PREFIXES)}, "
                    f"{', '.join(RESERVED_ENV_NAMES)})"
                )
        return environment

    @model_validator(mode="after")
    def _fargate_size(self) -> Service:
        sizes = FARGATE_MEMORY[self.cpu]
        if self.memory not in sizes:
            raise ValueError(
                f"memory {self.memory} does not go with cpu {self.cpu}; allowed: "
                f"{sizes[0]} to {sizes[-1]} MiB in steps of {sizes[1] - sizes[0]}"
            )
        return self


InstanceClass = Annotated[
    str,
    StringConstraints(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$"),
    Field(description="an RDS instance class such as db.m7g.large"),
]


class Database(_Section):
    engine: Literal["postgresql", "mysql"] = Field(
        "postgresql", description="postgresql or mysql (RDS and Aurora both offer them)"
    )
    version: str = Field(
        "17", description="the engine's major version: postgresql 16 or 17, mysql 8.0 or 8.4"
    )
    instance_class: InstanceClass = Field(
        "db.m7g.large",
        description="backup-restore's and pilot-light's Multi-AZ instance, such as db.m7g.large",
    )
    replica_class: InstanceClass = Field(
        "db.m7g.large", description="pilot-light's cross-region read replica class"
    )
    aurora_class: InstanceClass = Field(
        "db.r7g.xlarge",
        description="the Aurora writer's class (warm-standby, multi-site; multi-site's "
        "secondary too): a memory-optimized db.r* class, which Aurora global databases need",
    )
    aurora_secondary_class: InstanceClass = Field(
        "db.r7g.large",
        description="warm-standby's smaller Aurora reader in the recovery region (db.r*)",
    )
    storage_gb: int = Field(
        100, ge=20, le=65536, description="allocated storage of an RDS instance, 20 to 65536 GiB"
    )
    # RDS allows 1 to 35 days; make check's Guard rule CT.RDS.PR.8 "Set 'BackupRetentionPeriod'
    # to an integer value between 7 and 35 days (inclusive)" (cdk-validator-cfnguard 0.0.62;
    # https://docs.aws.amazon.com/controltower/latest/controlreference/rds-rules.html, read
    # 2026-12-04).
    backup_retention_days: int = Field(
        14,
        ge=7,
        le=35,
        description="automated backups and point-in-time recovery, 7 to 35 days (Control "
        "Tower's CT.RDS.PR.8 wants at least 7)",
    )

    @model_validator(mode="after")
    def _known_version(self) -> Database:
        allowed = ENGINE_VERSIONS[self.engine]
        if self.version not in allowed:
            raise ValueError(
                f"version '{self.version}' is not offered for {self.engine}; "
                f"allowed: {', '.join(allowed)}"
            )
        for field in ("aurora_class", "aurora_secondary_class"):
            value = getattr(self, field)
            if not value.startswith("db.r"):
                raise ValueError(
                    f"{field} '{value}' is not memory-optimized; allowed: a db.r* class such "
                    "as db.r7g.large (Aurora global databases need one)"
                )
        return self


class Key(_Section):
    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,255}$", description="an attribute name such as pk"
    )
    type: Literal["S", "N", "B"] = Field("S", description="S (string), N (number) or B (binary)")


class Dax(_Section):
    node_type: str = Field(
        "dax.r5.large", pattern=r"^dax\.[a-z0-9]+\.[a-z0-9]+$", description="a DAX node type"
    )
    recovery_node_type: str = Field(
        "dax.t3.medium",
        pattern=r"^dax\.[a-z0-9]+\.[a-z0-9]+$",
        description="a warm standby's smaller DAX node type in the recovery region",
    )
    # DAX allows up to 11 nodes; make check's Guard rule CT.DAX.PR.2: "Set the
    # 'ReplicationFactor' parameter to an integer value greater than or equal to three (>= 3)"
    # (cdk-validator-cfnguard 0.0.62; https://docs.aws.amazon.com/controltower/latest/
    # controlreference/dynamodb-rules.html, read 2026-12-04).
    nodes: int = Field(
        3,
        ge=3,
        le=10,
        description="nodes per cluster, 3 to 10, one per zone in turn (Control Tower's "
        "CT.DAX.PR.2 wants at least 3)",
    )


class Capacity(_Section):
    read: int = Field(ge=1, le=40000, description="read capacity units, 1 to 40000")
    write_min: int = Field(
        ge=1, le=40000, description="write capacity units, auto scaled from this minimum"
    )
    write_max: int = Field(ge=1, le=40000, description="to this maximum, at least write_min")

    @model_validator(mode="after")
    def _ordered(self) -> Capacity:
        if self.write_max < self.write_min:
            raise ValueError(
                f"write_max {self.write_max} is below write_min {self.write_min}; "
                f"allowed: {self.write_min} to 40000"
            )
        return self


class Table(_Section):
    name: Name
    partition_key: Key = Field(description="the partition key")
    sort_key: Key | None = Field(None, description="the sort key, or none")
    billing: Literal["on-demand", "provisioned"] = Field(
        "on-demand", description="on-demand or provisioned (then give capacity)"
    )
    capacity: Capacity | None = Field(None, description="provisioned capacity")
    dax: Dax | None = Field(None, description="a DAX cluster in front of the table, or none")
    consistency: Literal["eventual", "strong"] = Field(
        "eventual",
        description="eventual, or strong (multi-site only): multi-Region strong consistency, "
        "RPO zero, with a witness in a third region of P and R's region set; a table is "
        "created so and never changes (a new table name), and has no TTL, local secondary "
        "indexes or transactions",
    )
    witness_region: Region | None = Field(
        None,
        description="strong only: the witness's region, a third region of P and R's set; "
        "none: the set's first other region",
    )

    # CloudFormation's KeySchema: "A composite primary key would require one KeySchemaElement
    # for the partition key, and another KeySchemaElement for the sort key"
    # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-table-keyschema.html,
    # read 2026-12-04): two attributes, so two names.
    @model_validator(mode="after")
    def _two_key_attributes(self) -> Table:
        if self.sort_key is not None and self.sort_key.name == self.partition_key.name:
            raise ValueError(
                f"sort_key name '{self.sort_key.name}' is partition_key's too; allowed: another "
                "attribute name (a composite primary key is two attributes)"
            )
        return self

    @model_validator(mode="after")
    def _witness_with_strong(self) -> Table:
        if self.witness_region is not None and self.consistency != "strong":
            raise ValueError(
                f"witness_region '{self.witness_region}' with consistency "
                f"'{self.consistency}'; allowed: a witness only with consistency strong"
            )
        return self

    @model_validator(mode="after")
    def _capacity_with_provisioned(self) -> Table:
        if (self.billing == "provisioned") != (self.capacity is not None):
            raise ValueError(
                f"billing '{self.billing}' with{'out' if self.capacity is None else ''} "
                "capacity; allowed: capacity exactly when billing is provisioned"
            )
        return self


class Queue(_Section):
    name: Name
    retention_days: int = Field(
        4, ge=1, le=13, description="message retention, 1 to 13 days (below the DLQ's)"
    )
    dead_letter_retention_days: int = Field(
        14, ge=2, le=14, description="the dead-letter queue's retention, above the queue's, to 14"
    )
    max_receive_count: int = Field(
        5, ge=1, le=1000, description="receives before a message moves to the DLQ, 1 to 1000"
    )
    visibility_timeout_seconds: int = Field(
        60, ge=0, le=43200, description="visibility timeout, 0 to 43200 seconds"
    )

    @model_validator(mode="after")
    def _dlq_keeps_longer(self) -> Queue:
        if self.dead_letter_retention_days <= self.retention_days:
            raise ValueError(
                f"dead_letter_retention_days {self.dead_letter_retention_days} is not above "
                f"retention_days {self.retention_days}; allowed: {self.retention_days + 1} to 14 "
                "(SQS counts a dead letter's age from its first enqueue)"
            )
        return self


class HealthCheck(_Section):
    interval_seconds: Literal[10, 30] = Field(
        30, description="10 or 30: seconds between Route 53's checks (10 is billed extra)"
    )
    failure_threshold: int = Field(
        3,
        ge=1,
        le=10,
        description="a whole number from 1 to 10: failed checks before Route 53 calls the "
        "primary region unhealthy",
    )

    @field_validator("interval_seconds", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:  # "10" from the command line
        return int(value) if isinstance(value, str) and value.isdigit() else value


class EntryPoint(_Section):
    domain_name: str | None = Field(
        None,
        description="a DNS name Route 53 hosts, such as dr.your-company.com; none for a new "
        "zone named <app>-<account>.com",
    )
    hosted_zone_id: str | None = Field(
        None,
        pattern=r"^Z[A-Z0-9]{1,31}$",
        description="a Route 53 hosted zone id such as Z0123456789ABC: domain_name's zone",
    )
    health_check: HealthCheck = Field(
        default_factory=HealthCheck,
        description="Route 53's checks of the primary region (pilot-light, warm-standby): "
        "detection takes interval_seconds x failure_threshold",
    )
    certificate_arns: dict[Region, str] = Field(
        default_factory=dict,
        description="region to ACM certificate ARN, for P and R, instead of certificates "
        "validated by DNS in hosted_zone_id",
    )


class Backups(_Section):
    frequency: Literal["1h", "2h", "3h", "4h", "6h", "8h", "12h", "24h"] | None = Field(
        None,
        description="hours between backups, for every tier: 1h, 2h, 3h, 4h, 6h, 8h, 12h or "
        "24h; none: each tier's own (backup-restore every 4 h, the others daily)",
    )
    retention_days: int = Field(
        35, ge=1, le=36500, description="how long AWS Backup keeps recovery points and copies"
    )
    air_gapped: bool = Field(
        False,
        description="also copy every recovery point to a logically air-gapped vault in the "
        "recovery region (AWS Backup's vault lock in compliance mode): backup-restore and "
        "pilot-light, whose database is an RDS instance; retention_days at least 7",
    )
    restore_tests: Literal["weekly", "monthly"] = Field(
        "weekly",
        description="how often AWS Backup restores the newest copy of each store in the "
        "recovery region to time it, then deletes it: weekly or monthly",
    )


class Workload(_Section):
    """A drtiers workload file."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        title="drtiers workload",
    )
    service: Service = Field(description="the container service every tier runs")
    database: Database | None = Field(None, description="the relational database, or none")
    tables: tuple[Table, ...] = Field((), description="DynamoDB tables, zero or more")
    queues: tuple[Queue, ...] = Field((), description="SQS queues, zero or more")
    entry_point: EntryPoint = Field(
        default_factory=EntryPoint, description="the domain clients use"
    )
    backups: Backups = Field(default_factory=Backups, description="AWS Backup")
    figures: dict[str, float] = Field(
        default_factory=dict,
        description="workload figures and assumptions the estimate uses, name to number, "
        "such as database_size_gb: 500 (drtiers explain lists them)",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Workload:
        for kind, items in (("tables", self.tables), ("queues", self.queues)):
            names = [item.name for item in items]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(
                    f"{kind}: name '{repeated[0]}' is used twice; allowed: distinct names"
                )
        # Each queue's dead-letter queue is named <name>-dlq; SQS refuses a second queue of a
        # name "if the request includes attributes whose values differ" (QueueNameExists,
        # https://docs.aws.amazon.com/botocore/latest/reference/services/sqs/client/exceptions/QueueNameExists.html,
        # read 2026-12-04).
        queue_names = {q.name for q in self.queues}
        for name in sorted(queue_names):
            if name.endswith("-dlq") and name.removesuffix("-dlq") in queue_names:
                raise ValueError(
                    f"queues: name '{name}' is the dead-letter queue of queue "
                    f"'{name.removesuffix('-dlq')}'; allowed: a name not ending -dlq"
                )
        if "control" in (t.name for t in self.tables):
            raise ValueError(
                "tables: name 'control' is drtiers' own (the writer-region table); "
                "allowed: any other name"
            )
        return self


ENGINE_VERSIONS: dict[str, tuple[str, ...]] = {"postgresql": ("16", "17"), "mysql": ("8.0", "8.4")}

# drtiers' reference workload: what every tier deploys without a workload file.
REFERENCE = Workload(
    service=Service(image="public.ecr.aws/nginx/nginx-unprivileged:alpine"),
    database=Database(),
    tables=(
        Table(
            name="table",
            partition_key=Key(name="pk"),
            sort_key=Key(name="sk"),
            dax=Dax(),
        ),
    ),
    queues=(Queue(name="work"),),
)


def json_schema() -> str:
    """The published JSON Schema, as the file in the repository holds it."""
    schema = Workload.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def suffix(name: str, own: str) -> str:
    """What a block's name adds to its construct id and environment variables: nothing for the
    reference's own names (``table``, ``work``), so the reference keeps its logical ids."""
    return "" if name == own else "".join(part.title() for part in re.split(r"[-_]", name))


def env_suffix(name: str, own: str) -> str:
    """What a block's name adds to its environment variables (TABLE_NAME_ORDERS for a table
    named orders); nothing for the reference's own names."""
    return "" if name == own else "_" + name.upper().replace("-", "_")


def starter_file(figures: dict[str, float], schema: str = SCHEMA_PATH) -> str:
    """``drtiers init``'s file: the reference workload, every key with its description, and the
    workload figures the estimate assumes (``figures``), so a user edits rather than writes;
    ``schema``, the JSON Schema's path from the file's folder, for the editor."""
    lines = [
        f"# yaml-language-server: $schema={schema}",
        "# drtiers workload file: the service every tier deploys, its data and its entry point.",
        "# This is drtiers' reference workload; change what differs in yours. Leave a block out",
        "# (database, tables, queues) and no tier builds it. Checked against the schema above.",
    ]
    _emit(REFERENCE.model_copy(update={"figures": figures}), 0, lines)
    return "\n".join(lines) + "\n"


def _emit(model: BaseModel, indent: int, lines: list[str], first: str = "") -> None:
    pad = " " * indent
    for index, (name, info) in enumerate(type(model).model_fields.items()):
        value = getattr(model, name)
        lead = first if index == 0 and first else pad
        if info.description:
            lines.append(f"{pad}# {info.description}")
        if isinstance(value, BaseModel):
            lines.append(f"{lead}{name}:")
            _emit(value, indent + 2, lines)
        elif isinstance(value, tuple) and value:
            lines.append(f"{lead}{name}:")
            for item in value:
                _emit(item, indent + 4, lines, first=f"{pad}  - ")
        elif isinstance(value, dict) and value:
            lines.append(f"{lead}{name}:")
            lines.extend(f"{pad}  {k}: {json.dumps(v)}" for k, v in value.items())
        else:
            shown = "[]" if value == () else "{}" if value == {} else json.dumps(value)
            lines.append(f"{lead}{name}: {shown}")
