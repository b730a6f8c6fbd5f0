"""The resource ARNs a policy statement names, as CloudFormation would render them in the
stack's region and account: ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``, ``Fn::Split``, ``Ref``
and ``Fn::GetAtt`` resolved to literal ARN patterns that IAM evaluation can match
(drtiers.core.permissions).

An attribute only AWS knows after creation (a database's resource id, a proxy's id) resolves to
a stable stand-in of AWS's form (``db-...``, ``cluster-...``, ``prx-...``) that names the
resource and the generation synthesized: a replacement instance gets a new resource id, so a
grant that names the old one does not cover it. What cannot be resolved at all (another stack's
output, an attribute the reader does not model) becomes ``*`` in an Allow (the model errs
towards allowed) and drops out of a Deny (it cannot know that the Deny applies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from drtiers.assembly.reader import Resource, TierAssembly

SYNTHESIZED = "0"  # the generation a template's resource id names
FRESH = "new"  # a generation created after synthesis: its resource id is unknown beforehand


def resource_id(resource: Resource, generation: str = SYNTHESIZED) -> str:
    """The stand-in for a database's or proxy's resource id, in AWS's form: ``db-`` for an
    instance (DbiResourceId), ``cluster-`` for a cluster (DBClusterResourceId), ``prx-`` for a
    proxy (the last part of its ARN)."""
    kind = {
        "AWS::RDS::DBCluster": "cluster",
        "AWS::RDS::DBProxy": "prx",
    }.get(resource.type, "db")
    return f"{kind}-{resource.stack}.{resource.logical_id}.{generation}"


def dbuser_arn(region: str, account: str, resource_id_: str, user: str) -> str:
    """The ARN rds-db:connect is evaluated on: ``arn:aws:rds-db:<region>:<account>:dbuser:
    <resource id>/<user>``."""
    return f"arn:aws:rds-db:{region}:{account}:dbuser:{resource_id_}/{user}"


def _named(resource: Resource, name: str) -> str:
    """Its fixed name, or a stand-in for the one CloudFormation generates from the stack's name
    and the logical id: a name of that form names this resource alone."""
    value = resource.prop(name)
    return value if isinstance(value, str) else f"{resource.stack}-{resource.logical_id}"


class _Unknown(Exception):
    """A value the reader cannot render."""


@dataclass
class _Resolver:
    tier: TierAssembly
    stack: str
    region: str

    def value(self, value: Any) -> Any:
        """A CloudFormation value rendered: text, a list, or raises _Unknown."""
        if isinstance(value, str | int | float):
            return str(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if not isinstance(value, dict) or len(value) != 1:
            raise _Unknown
        ((function, argument),) = value.items()
        if function == "Ref":
            return self.ref(str(argument))
        if function == "Fn::GetAtt":
            name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.attribute(str(name), str(attribute))
        if function == "Fn::Join":
            return str(self.value(argument[0])).join(self.value(argument[1]))
        if function == "Fn::Select":
            return self.value(argument[1])[int(self.value(argument[0]))]
        if function == "Fn::Split":
            return str(self.value(argument[1])).split(str(self.value(argument[0])))
        if function == "Fn::Sub":
            return self.sub(argument)
        raise _Unknown  # another stack's output, a condition, an import: not known here

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": self.region,
            "AWS::AccountId": self.tier.account,
            "AWS::StackName": self.stack,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        resource = self._resource(name)
        if resource.type in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            return self._fixed(resource, "TableName")
        if resource.type == "AWS::S3::Bucket":
            return _named(resource, "BucketName")
        raise _Unknown

    def attribute(self, name: str, attribute: str) -> str:
        resource = self._resource(name)
        if attribute in ("DbiResourceId", "DBClusterResourceId"):
            return resource_id(resource)
        arn = f"arn:aws:{{}}:{self.region}:{self.tier.account}:{{}}"
        if attribute == "DBProxyArn":
            return arn.format("rds", f"db-proxy:{resource_id(resource)}")
        if attribute == "Arn" and resource.type.startswith("AWS::DynamoDB::"):
            return arn.format("dynamodb", f"table/{self._fixed(resource, 'TableName')}")
        if attribute == "Arn" and resource.type == "AWS::SQS::Queue":
            return arn.format("sqs", _named(resource, "QueueName"))
        if attribute == "Arn" and resource.type == "AWS::DAX::Cluster":
            return arn.format("dax", f"cache/{_named(resource, 'ClusterName')}")
        if attribute == "Arn" and resource.type == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{_named(resource, 'BucketName')}"
        if attribute == "Arn" and resource.type == "AWS::KMS::Key":
            # The stand-in drtiers.assembly.keys gives the key: its id is KMS's to choose.
            return arn.format("kms", f"key/{resource.stack}.{resource.logical_id}")
        raise _Unknown

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def one(match: re.Match[str]) -> str:
            name = match[1]
            if name in variables:
                return str(self.value(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return self.attribute(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", one, str(text))

    def _resource(self, name: str) -> Resource:
        resource = self.tier.by_id(self.stack, name)
        if resource is None:
            raise _Unknown
        return resource

    @staticmethod
    def _fixed(resource: Resource, name: str) -> str:
        value = resource.prop(name)
        if not isinstance(value, str):
            raise _Unknown  # a name CloudFormation generates
        return value


def render(tier: TierAssembly, stack: str, value: Any) -> str | None:
    """A CloudFormation value of ``stack`` rendered as text; None where it cannot be."""
    region = tier.stacks[stack][1]
    try:
        rendered = _Resolver(tier, stack, region).value(value)
    except (_Unknown, IndexError, ValueError, TypeError, AttributeError):
        return None
    return rendered if isinstance(rendered, str) else None


def _patterns(tier: TierAssembly, stack: str, value: Any, *, unknown: list[str]) -> list[str]:
    values = value if isinstance(value, list) else [value]
    rendered = [render(tier, stack, v) for v in values]
    return [r for r in rendered if r is not None] + (unknown if None in rendered else [])


def resolved_statements(
    tier: TierAssembly, stack: str, statements: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The statements with their Resource and NotResource rendered as literal ARN patterns.
    An ARN that cannot be rendered is ``*`` in an Allow's Resource and left out of a Deny's
    (and the reverse for NotResource): the model errs towards allowed."""
    resolved = []
    for statement in statements:
        allow = statement.get("Effect") == "Allow"
        copy = dict(statement)
        if "Resource" in statement:
            unknown = ["*"] if allow else []
            copy["Resource"] = _patterns(tier, stack, statement["Resource"], unknown=unknown)
        if "NotResource" in statement:
            unknown = [] if allow else ["*"]
            copy["NotResource"] = _patterns(tier, stack, statement["NotResource"], unknown=unknown)
        resolved.append(copy)
    return resolved
