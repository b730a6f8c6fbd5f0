"""The CloudFormation resource schemas cfn-lint ships (the registry's schemas, per region): what
a resource type's properties mean to CloudFormation, read rather than listed."""

from __future__ import annotations

import json
from functools import cache
from importlib import util
from pathlib import Path
from typing import Any


@cache
def _schemas() -> Path:
    """The pinned cfn-lint's bundled schemas (read as files: importing cfn-lint takes most of
    a second, for its rule engine, which this does not need)."""
    spec = util.find_spec("cfnlint")
    assert spec is not None and spec.origin is not None, "cfn-lint is not installed"
    return Path(spec.origin).parent / "data" / "schemas"


@cache
def _providers(region: str) -> dict[str, str]:
    """Resource type -> schema file of ``region``; us-east-1's for a region cfn-lint lacks,
    as cfn-lint's own schema manager does."""
    file = _schemas() / "providers" / f"{region}.json"
    if not file.is_file():
        file = _schemas() / "providers" / "us-east-1.json"
    types: dict[str, str] = json.loads(file.read_text())
    return types


@cache
def _schema(region: str, resource_type: str) -> dict[str, Any] | None:
    """The schema of ``resource_type`` in ``region`` (a custom resource's is CloudFormation's
    CustomResource), None for a type the region has not."""
    if resource_type.startswith("Custom::"):
        resource_type = "AWS::CloudFormation::CustomResource"
    found = _providers(region).get(resource_type)
    if found is None:
        return None
    schema: dict[str, Any] = json.loads((_schemas() / "resources" / f"{found}.json").read_text())
    return schema


@cache
def name_property(region: str, resource_type: str) -> str | None:
    """The property that gives a resource of ``resource_type`` its name: the create-only
    ``<Type>Name`` (QueueName, LogGroupName, BackupVaultName) or ``Name`` its schema lists.
    None: the type has neither (CloudFormation generates its name, or it has none)."""
    schema = _schema(region, resource_type)
    if schema is None:
        return None
    create_only = set(schema.get("createOnlyProperties", ()))
    own = resource_type.rsplit("::", 1)[-1] + "Name"
    return next((p for p in (own, "Name") if f"/properties/{p}" in create_only), None)


@cache
def name_scope(region: str, resource_type: str) -> tuple[str, ...]:
    """The properties that scope a name of ``resource_type``: the rest of its primary identifier
    when the name is one part of it (a restore testing selection's name is unique within its
    plan: RestoreTestingPlanName and RestoreTestingSelectionName). Empty: the name stands
    alone in its region or account."""
    named = identifying_property(region, resource_type)
    schema = _schema(region, resource_type)
    identifier = [
        str(p).removeprefix("/properties/") for p in (schema or {}).get("primaryIdentifier", ())
    ]
    if named is None or named not in identifier or len(identifier) == 1:
        return ()
    return tuple(p for p in identifier if p != named)


def identifying_property(region: str, resource_type: str) -> str | None:
    """The property whose value a resource of ``resource_type`` is known by in its account:
    its name property (:func:`name_property`), else its primary identifier when that is one
    property the template sets at creation (a table's ``TableName``, a database's
    ``DBInstanceIdentifier``). A second create of the same value meets the first."""
    named = name_property(region, resource_type)
    if named is not None:
        return named
    schema = _schema(region, resource_type)
    if schema is None:
        return None
    identifier = schema.get("primaryIdentifier", ())
    create_only = set(schema.get("createOnlyProperties", ()))
    if len(identifier) == 1 and identifier[0] in create_only:
        return str(identifier[0]).removeprefix("/properties/")
    return None
