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
