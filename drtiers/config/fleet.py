"""The fleet file (``drtiers-fleet.yaml``): many applications, each a workload file and a tier,
deployed to one account per stage in one region pair, and the failover groups that move them
together in order. Like the workload file, the schema is these pydantic models
(``schema/fleet.schema.json`` publishes it), and a bad file is one line naming the field.

An application's ``depends_on`` names the applications it needs writable before it takes
traffic; a failover group's ``steps`` is the order its parent plan runs the applications' plans
in (together within a step). The order is not refused here: the fleet's simulation runs it and
fails where an application moves traffic before what it depends on is writable.
"""

from __future__ import annotations

import json
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from drtiers.config.context import (
    ACCOUNT_PATTERN,
    APP_NAME_PATTERN,
    ConfigError,
    read_yaml,
    schema_error,
)
from drtiers.config.workload import Name, Region
from drtiers.core.tiers import TIERS

DEFAULT_FLEET = "drtiers-fleet.yaml"
FLEET_SCHEMA_PATH = "schema/fleet.schema.json"

Account = Annotated[
    str,
    StringConstraints(pattern=ACCOUNT_PATTERN),
    Field(description="a 12-digit AWS account id"),
]
AppName = Annotated[  # the app_name context key's, as each application is one
    str,
    StringConstraints(pattern=APP_NAME_PATTERN),
    Field(description="3-16 lowercase letters, digits or hyphens, starting with a letter"),
]
PLANNED_TIERS = tuple(name for name, spec in TIERS.items() if spec.has_recovery_stack)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Regions(_Section):
    primary: Region = Field(description="P, where every application runs day to day")
    recovery: Region = Field(description="R, where every application recovers")


class Source(_Section):
    repository: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
        description="the repository the pipeline builds, owner/name",
    )
    branch: str = Field("main", min_length=1, description="the branch it follows")
    connection_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:"
        r"connection/[A-Za-z0-9-]+$",
        description="the CodeConnections connection to the repository, an ARN such as "
        "arn:aws:codeconnections:us-east-1:111111111111:connection/abc",
    )


class Toolchain(_Section):
    account: Account = Field(
        description="the account the pipeline runs in, a 12-digit AWS account id"
    )
    source: Source = Field(description="where the pipeline's code comes from")


class Stage(_Section):
    name: Name
    accounts: tuple[Account, ...] = Field(
        min_length=1,
        description="the stage's workload accounts, one or more 12-digit AWS account ids",
    )
    approval: bool = Field(False, description="a person approves before this stage deploys")


class Application(_Section):
    name: AppName
    workload: str = Field(min_length=1, description="its workload file, relative to the fleet file")
    tier: str = Field(description="its DR tier: " + ", ".join(TIERS))
    accounts: dict[str, Account] = Field(
        description="stage name to the account of that stage it deploys to (a 12-digit AWS "
        "account id), for every stage"
    )
    depends_on: tuple[str, ...] = Field(
        (), description="applications that must be writable in R before this one takes traffic"
    )


class FailoverGroup(_Section):
    name: Name
    steps: tuple[tuple[str, ...], ...] = Field(
        min_length=1,
        description="applications in the order its parent plan fails them over: a list of "
        "steps, each a list of applications that move together",
    )
    rto_target: int | None = Field(
        None, ge=60, description="seconds the group's failover may take at most, or none"
    )
    accounts: dict[str, Account] = Field(
        {},
        description="stage name to the account of that stage its parent plan lives in (a "
        "central recovery account, say); by default the account of its first application",
    )


OU_PATTERN = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"  # AWS Organizations' organizational unit id
OrganizationalUnit = Annotated[
    str,
    StringConstraints(pattern=OU_PATTERN),
    Field(description="an organizational unit id, such as ou-ab12-cd34ef56"),
]


class Organization(_Section):
    """Every stage account's bootstrap and parent-access role, by service-managed StackSets
    over the organization's units."""

    administrator: Literal["delegated", "management"] = Field(
        "delegated",
        description="the toolchain account administers StackSets as a delegated administrator "
        "(delegated) or is the organization's management account (management)",
    )
    organizational_units: dict[str, tuple[OrganizationalUnit, ...]] = Field(
        description="stage name to the organizational units whose accounts it deploys to (ids "
        "such as ou-ab12-cd34ef56), for every stage"
    )
    execution_policies: tuple[str, ...] = Field(
        ("arn:aws:iam::aws:policy/AdministratorAccess",),
        min_length=1,
        description="the managed policies CloudFormation deploys with in each account (cdk "
        "bootstrap's --cloudformation-execution-policies)",
    )


class Fleet(_Section):
    """A drtiers fleet file."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="drtiers fleet")
    regions: Regions = Field(description="the region pair every application uses")
    toolchain: Toolchain = Field(description="the pipeline's account and source")
    stages: tuple[Stage, ...] = Field(min_length=1, description="deployment stages, in order")
    applications: tuple[Application, ...] = Field(min_length=1, description="the applications")
    failover_groups: tuple[FailoverGroup, ...] = Field(
        (), description="applications failed over together by one parent plan each"
    )
    organization: Organization | None = Field(
        None,
        description="bootstrap and the parent-access role by service-managed StackSets over "
        "organizational units, instead of by hand and by each application's plan stack",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Fleet:
        _check_names(self)
        for i, app in enumerate(self.applications):
            _check_application(self, i, app)
        _check_groups(self)
        _check_organization(self)
        return self

    def application(self, name: str) -> Application:
        return next(a for a in self.applications if a.name == name)


def _unique(kind: str, names: list[str]) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{kind}: name '{repeated[0]}' is used twice; allowed: distinct names")


# Names of a parent plan's own blocks (drtiers.fleet.parent), beside its children's, which are
# named after the applications (a block's name is unique in its workflow), and of the
# pipeline's own waves (drtiers.fleet.pipeline), beside the stages'.
APPROVAL_BLOCK, STEP_BLOCK = "approve", "step-{}"  # STEP_BLOCK: the step's number, from 1
ORGANIZATION_WAVE, PARENTS_WAVE = "organization", "{}-parent-plans"  # PARENTS_WAVE: the stage
_RESERVED_BLOCKS = re.compile(APPROVAL_BLOCK + "|" + STEP_BLOCK.format(r"\d+"))


def _check_names(fleet: Fleet) -> None:
    _unique("stages", [s.name for s in fleet.stages])
    _unique("applications", [a.name for a in fleet.applications])
    for i, app in enumerate(fleet.applications):
        if _RESERVED_BLOCKS.fullmatch(app.name):
            raise ValueError(
                f"applications[{i}].name '{app.name}' names a parent plan's own step; "
                "allowed: any other name (not approve, nor step-<n>)"
            )
    _unique("failover_groups", [g.name for g in fleet.failover_groups])
    for i, stage in enumerate(fleet.stages):  # the pipeline's own waves' names
        if stage.name == ORGANIZATION_WAVE or stage.name.endswith(PARENTS_WAVE.format("")):
            raise ValueError(
                f"stages[{i}].name '{stage.name}' names a wave of the pipeline's own; allowed: "
                "any other name (not organization, nor <name>-parent-plans)"
            )
    if fleet.regions.primary == fleet.regions.recovery:
        raise ValueError(
            f"regions.recovery '{fleet.regions.recovery}' is the primary; allowed: another region"
        )


def _check_application(fleet: Fleet, i: int, app: Application) -> None:
    where = f"applications[{i}]"
    if app.tier not in TIERS:
        raise ValueError(f"{where}.tier '{app.tier}' is not a tier; allowed: {', '.join(TIERS)}")
    stages = {s.name: s for s in fleet.stages}
    missing = [s for s in stages if s not in app.accounts]
    unknown = [s for s in app.accounts if s not in stages]
    if missing or unknown:
        raise ValueError(
            f"{where}.accounts: stage '{(missing or unknown)[0]}' "
            f"{'has no account' if missing else 'is not a stage'}; allowed: one account for "
            f"each stage ({', '.join(stages)})"
        )
    for stage, account in app.accounts.items():
        if account not in stages[stage].accounts:
            raise ValueError(
                f"{where}.accounts.{stage} '{account}' is not an account of stage {stage}; "
                f"allowed: {', '.join(stages[stage].accounts)}"
            )
    names = [a.name for a in fleet.applications]
    for other in app.depends_on:
        if other not in names or other == app.name:
            raise ValueError(
                f"{where}.depends_on '{other}' is not another application; allowed: "
                + ", ".join(n for n in names if n != app.name)
            )


def _check_groups(fleet: Fleet) -> None:
    """Every member an application with a Region switch plan, in one group only; an
    application's dependencies in its group; no dependency cycle."""
    seen: dict[str, str] = {}
    for i, group in enumerate(fleet.failover_groups):
        where = f"failover_groups[{i}].steps"
        _check_group_shape(fleet, i, group)
        for member in (m for step in group.steps for m in step):
            if member not in {a.name for a in fleet.applications}:
                raise ValueError(f"{where}: '{member}' is not an application of the fleet")
            if member in seen:
                raise ValueError(
                    f"{where}: '{member}' is in group {seen[member]} too; allowed: one group"
                )
            seen[member] = group.name
            tier = fleet.application(member).tier
            if tier not in PLANNED_TIERS:
                raise ValueError(
                    f"{where}: '{member}' is {tier}, which has no Region switch plan to run; "
                    f"allowed: an application of {', '.join(PLANNED_TIERS)}"
                )
    for i, group in enumerate(fleet.failover_groups):
        _check_group_accounts(fleet, i, group)
    for app in fleet.applications:
        for other in app.depends_on:
            if app.name in seen and seen.get(other) != seen[app.name]:
                raise ValueError(
                    f"applications: '{app.name}' depends on '{other}', outside its failover "
                    f"group {seen[app.name]}; allowed: an application of the same group"
                )
    graph = {a.name: set(a.depends_on) for a in fleet.applications}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        cycle = " -> ".join(error.args[1])
        raise ValueError(
            f"applications: depends_on makes a cycle ({cycle}); allowed: none"
        ) from None


PLAN_NAME_LIMIT = 32  # Region switch's: a parent plan is named <group>-<stage>


def _check_group_shape(fleet: Fleet, i: int, group: FailoverGroup) -> None:
    for j, step in enumerate(group.steps):
        if not step:
            raise ValueError(
                f"failover_groups[{i}].steps[{j}]: no applications; allowed: one or more"
            )
    for stage in fleet.stages:
        name = f"{group.name}-{stage.name}"
        if len(name) > PLAN_NAME_LIMIT:
            raise ValueError(
                f"failover_groups[{i}].name '{group.name}' with stage '{stage.name}' names its "
                f"parent plan '{name}', {len(name)} characters; allowed: up to "
                f"{PLAN_NAME_LIMIT} together (Region switch's limit)"
            )


def _check_group_accounts(fleet: Fleet, i: int, group: FailoverGroup) -> None:
    stages = {s.name: s for s in fleet.stages}
    for stage, account in group.accounts.items():
        where = f"failover_groups[{i}].accounts.{stage}"
        if stage not in stages:
            raise ValueError(f"{where}: '{stage}' is not a stage; allowed: {', '.join(stages)}")
        if account not in stages[stage].accounts:
            raise ValueError(
                f"{where} '{account}' is not an account of stage {stage}; allowed: "
                f"{', '.join(stages[stage].accounts)}"
            )


def _check_organization(fleet: Fleet) -> None:
    if fleet.organization is None:
        return
    stages = [s.name for s in fleet.stages]
    units = fleet.organization.organizational_units
    wrong = [s for s in stages if s not in units] or [s for s in units if s not in stages]
    if wrong:
        raise ValueError(
            f"organization.organizational_units: stage '{wrong[0]}' "
            f"{'has no units' if wrong[0] in stages else 'is not a stage'}; allowed: units for "
            f"each stage ({', '.join(stages)})"
        )
    empty = [s for s in stages if not units[s]]
    if empty:
        raise ValueError(
            f"organization.organizational_units.{empty[0]}: no units; allowed: one or more "
            "organizational unit ids"
        )
    seen: dict[str, str] = {}
    for stage in stages:
        for unit in units[stage]:
            if unit in seen:
                raise ValueError(
                    f"organization.organizational_units.{stage}: '{unit}' is {seen[unit]}'s too; "
                    "allowed: units of one stage each (an account gets one stage's StackSets)"
                )
            seen[unit] = stage
    for policy in fleet.organization.execution_policies:
        if not re.fullmatch(r"arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+", policy):
            raise ValueError(
                f"organization.execution_policies '{policy}' is not a managed policy ARN; "
                "allowed: arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>"
            )


def json_schema() -> str:
    """The published JSON Schema of the fleet file."""
    schema = Fleet.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def read_fleet(path: Path) -> Fleet:
    """The fleet file at ``path``, validated; a bad one raises ConfigError (one line)."""
    if not path.is_file():
        raise ConfigError(f"fleet file {path}: not found; allowed: a fleet file ({DEFAULT_FLEET})")
    raw = read_yaml(path, "fleet file", "a mapping with regions, toolchain, stages, applications")
    try:
        fleet = Fleet.model_validate(raw)
    except ValidationError as error:
        raise schema_error(error, f"fleet file {path}", root=Fleet) from None
    for i, app in enumerate(fleet.applications):
        if not (path.parent / app.workload).is_file():
            raise ConfigError(
                f"fleet file {path}: applications[{i}].workload '{app.workload}' is not a "
                "file; allowed: a workload file's path, relative to the fleet file"
            )
    return fleet
