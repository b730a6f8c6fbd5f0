"""``drtiers prices update``: the prices of prices.json, read again from the AWS Price List Query
API (the ``pricing`` client's GetProducts, served from us-east-1).

Each price the API can answer has one query here: the service code, the product's attributes,
and the ending of its usage type; the on-demand price per unit is scaled to the unit
prices.json uses (per million requests, ...). The attribute names and usage types are those of
the Price List as the authors know it; the tests answer with documents of that shape, and no
query here has been run against the live API from this repository. A price the API does not
answer, or answers with several different values, is left as it was, and said so.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

API = "https://pricing.us-east-1.amazonaws.com"
ENDPOINT_REGION = "us-east-1"
# The template's Engine -> the Price List's databaseEngine.
ENGINES = {
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "aurora-postgresql": "Aurora PostgreSQL",
    "aurora-mysql": "Aurora MySQL",
}


@dataclass(frozen=True)
class Query:
    service: str
    usage: str  # how the product's usagetype ends ("" : any)
    attributes: tuple[tuple[str, str], ...] = ()
    scale: float = 1.0  # API price per unit -> prices.json's unit
    skip_usage: tuple[str, ...] = ()  # usagetypes containing these are other products


def _queries(name: str, variant: tuple[str, ...]) -> Query | None:
    """The query for one price (``variant``: engine and class, or node type), or None."""
    if name == "db_instance_hour":
        engine, cls = variant
        return Query(
            "AmazonRDS",
            "",
            (
                ("productFamily", "Database Instance"),
                ("instanceType", cls),
                ("databaseEngine", ENGINES.get(engine, engine)),
                ("deploymentOption", "Single-AZ"),
            ),
            skip_usage=("IOOptimized", "Serverless"),
        )
    if name == "dax_node_hour":
        return Query("AmazonDAX", "", (("instanceType", variant[0]),))
    simple = {
        "fargate_vcpu_hour": Query("AmazonECS", "Fargate-vCPU-Hours:perCPU"),
        "fargate_gb_hour": Query("AmazonECS", "Fargate-GB-Hours"),
        "nat_hour": Query("AmazonEC2", "NatGateway-Hours"),
        "nat_gb": Query("AmazonEC2", "NatGateway-Bytes"),
        "alb_hour": Query(
            "AWSELB", "LoadBalancerUsage", (("productFamily", "Load Balancer-Application"),)
        ),
        "alb_lcu_hour": Query(
            "AWSELB", "LCUUsage", (("productFamily", "Load Balancer-Application"),)
        ),
        "rds_gp3_gb_month": Query(
            "AmazonRDS",
            "GP3-Storage",
            (("volumeType", "General Purpose-GP3"), ("deploymentOption", "Single-AZ")),
        ),
        "aurora_storage_gb_month": Query("AmazonRDS", "Aurora:StorageUsage"),
        "aurora_io_million": Query("AmazonRDS", "Aurora:StorageIOUsage", scale=1e6),
        "dynamodb_write_million": Query("AmazonDynamoDB", "WriteRequestUnits", scale=1e6),
        "dynamodb_read_million": Query("AmazonDynamoDB", "ReadRequestUnits", scale=1e6),
        "dynamodb_storage_gb_month": Query("AmazonDynamoDB", "TimedStorage-ByteHrs"),
        "dynamodb_rcu_hour": Query("AmazonDynamoDB", "ReadCapacityUnit-Hrs"),
        # A global table's replicas bill replicated write capacity (rWCU).
        "dynamodb_wcu_hour": Query("AmazonDynamoDB", "ReplWriteCapacityUnit-Hrs"),
        "sqs_million": Query("AWSQueueService", "Requests-Tier1", scale=1e6),
        "kms_key_month": Query("awskms", "KMS-Keys"),
        "secret_month": Query("AWSSecretsManager", "AWSSecretsManager-Secrets"),
        "alarm_month": Query("AmazonCloudWatch", "CW:AlarmMonitorUsage"),
    }
    return simple.get(name)


@dataclass
class Update:
    data: dict[str, Any]  # the refreshed price file
    changed: list[str] = field(default_factory=list)  # "item region: old -> new"
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)  # not answered, or answered ambiguously
    not_queried: list[str] = field(default_factory=list)  # no query for it here


def _products(client: Any, query: Query, region: str) -> Iterator[dict[str, Any]]:
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    filters += [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in query.attributes]
    if query.usage:
        filters.append({"Type": "CONTAINS", "Field": "usagetype", "Value": query.usage})
    paginator = client.get_paginator("get_products")
    for page in paginator.paginate(
        ServiceCode=query.service, Filters=filters, FormatVersion="aws_v1"
    ):
        for item in page["PriceList"]:
            yield json.loads(item)


def _on_demand_usd(product: dict[str, Any]) -> float | None:
    """The product's on-demand price per unit: the first priced tier (a free tier first is
    skipped)."""
    dimensions = [
        d
        for term in product.get("terms", {}).get("OnDemand", {}).values()
        for d in term.get("priceDimensions", {}).values()
    ]
    dimensions.sort(key=lambda d: float(d.get("beginRange", "0") or 0))
    for dimension in dimensions:
        usd = float(dimension.get("pricePerUnit", {}).get("USD", "0"))
        if usd > 0:
            return usd
    return None


def look_up(
    client: Any, name: str, region: str, variant: tuple[str, ...]
) -> tuple[float, str] | None:
    """The price and the SKU it was read from, or None when the API gives no single price."""
    query = _queries(name, variant)
    if query is None:
        raise KeyError(name)
    found: dict[float, str] = {}
    for product in _products(client, query, region):
        usage = product.get("product", {}).get("attributes", {}).get("usagetype", "")
        if query.usage and not usage.endswith(query.usage):
            continue
        if any(token in usage for token in query.skip_usage):
            continue
        usd = _on_demand_usd(product)
        if usd is not None:
            found.setdefault(round(usd * query.scale, 6), product["product"].get("sku", ""))
    if len(found) != 1:
        return None
    (value, sku), *_ = found.items()
    return value, sku


def _leaves(values: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(values, dict) and "value" not in values:
        for key, value in values.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path, values


def _plain(values: Any) -> Any:
    """Values without their per-value sources (those name another region's source)."""
    if isinstance(values, dict):
        return values["value"] if "value" in values else {k: _plain(v) for k, v in values.items()}
    return values


def client() -> Any:
    """A Price List client, or None when no AWS credentials are found."""
    import boto3  # only for this command

    if boto3.Session().get_credentials() is None:
        return None
    return _new_client()


def _new_client() -> Any:
    import boto3

    return boto3.client("pricing", region_name=ENDPOINT_REGION)


def _set(values: dict[str, Any], path: tuple[str, ...], leaf: dict[str, Any]) -> None:
    for key in path[:-1]:
        values = values.setdefault(key, {})
    values[path[-1]] = leaf


def update(client: Any, data: dict[str, Any], regions: list[str], today: date) -> Update:
    """Every price of ``data`` in ``regions`` read again; ``data`` is not changed. A region the
    file does not have yet gets the variants its first region has."""
    new = copy.deepcopy(data)
    result = Update(new)
    for name, entry in new["prices"].items():
        template = next(iter(entry["regions"].values()))
        for region in regions:
            priced = entry["regions"].get(region)
            if "values" in template:
                leaves = list(_leaves((priced or template)["values"]))
            else:
                leaves = [((), (priced or template)["value"])]
            for path, old_leaf in leaves:
                label = f"{name}{'[' + ' '.join(path) + ']' if path else ''} {region}"
                if _queries(name, path) is None:
                    result.not_queried.append(label)
                    continue
                answer = look_up(client, name, region, path)
                old = old_leaf["value"] if isinstance(old_leaf, dict) else old_leaf
                if priced is None:
                    old = None
                if answer is None:
                    result.missing.append(label)
                    continue
                value, sku = answer
                leaf = {
                    "value": value,
                    "status": "verified",
                    "source": f"{API} (Price List Query API GetProducts, SKU {sku})",
                    "read": today.isoformat(),
                }
                if priced is None:
                    priced = entry["regions"][region] = {
                        **{k: v for k, v in template.items() if k not in ("value", "values")},
                        "status": "unverified",
                        "note": "added by drtiers prices update; items it could not read are "
                        f"copied from {next(iter(entry['regions']))}",
                    }
                    if "values" in template:
                        priced["values"] = _plain(template["values"])
                    else:
                        priced["value"] = template["value"]
                if path:
                    _set(priced["values"], path, leaf)
                else:
                    priced.update(leaf)
                    priced.pop("note", None)
                if old is None or abs(float(old) - value) > 1e-9:
                    shown = "(none)" if old is None else f"{float(old):g}"
                    result.changed.append(f"{label}: {shown} -> {value:g}")
                else:
                    result.unchanged += 1
    return result
