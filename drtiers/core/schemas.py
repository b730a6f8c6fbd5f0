"""The CloudFormation resource schemas cfn-lint ships (the registry's schemas, per region): what
a resource type's properties mean to CloudFormation, read rather than listed."""

from __future__ import annotations

from functools import cache


@cache
def name_property(region: str, resource_type: str) -> str | None:
    """The property that gives a resource of ``resource_type`` its name: the create-only
    ``<Type>Name`` (QueueName, LogGroupName, BackupVaultName) or ``Name`` its schema lists.
    None: the type has neither (CloudFormation generates its name, or it has none)."""
    # cfn-lint's import takes most of a second: only a reader that meets a retained resource
    # pays it, once.
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except ResourceNotFoundError:  # a custom resource, or a type the region has not
        return None
    create_only = set(schema.get("createOnlyProperties", ()))
    own = resource_type.rsplit("::", 1)[-1] + "Name"
    return next((p for p in (own, "Name") if f"/properties/{p}" in create_only), None)


@cache
def identifying_property(region: str, resource_type: str) -> str | None:
    """The property whose value a resource of ``resource_type`` is known by in its account:
    its name property (:func:`name_property`), else its primary identifier when that is one
    property the template sets at creation (a table's ``TableName``, a database's
    ``DBInstanceIdentifier``). A second create of the same value meets the first."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    named = name_property(region, resource_type)
    if named is not None:
        return named
    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except ResourceNotFoundError:
        return None
    identifier = schema.get("primaryIdentifier", ())
    create_only = set(schema.get("createOnlyProperties", ()))
    if len(identifier) == 1 and identifier[0] in create_only:
        return str(identifier[0]).removeprefix("/properties/")
    return None
