"""Prices per region, engine and instance class; the cost of running failed over; and
`drtiers prices update` against a stubbed AWS Price List Query API."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from drtiers.assembly.reader import copy_assembly, edit_template
from drtiers.assess import assess_assembly, pricelist
from drtiers.assess.model import Estimate
from drtiers.build import synthesize_and_assess
from drtiers.cli import main as cli
from drtiers.core.facts import BUNDLED, nearest_priced_region, price, price_data, use_price_file
from tests.conftest import ROOT, Synthesized, context

TIERS = ("backup-restore", "pilot-light", "warm-standby", "multi-site")
EU = ("eu-west-1", "eu-central-1")


@pytest.fixture(autouse=True)
def bundled_prices() -> Iterator[None]:
    """Every test starts and ends on the bundled price file (--prices sets another)."""
    use_price_file(None)
    yield
    use_price_file(None)


@pytest.fixture(scope="session")
def assembly(synthesized: Synthesized) -> Path:
    return Path(synthesized.assembly.directory)


@pytest.fixture(scope="session")
def estimates(assembly: Path) -> dict[str, Estimate]:
    return {e.tier: e for e in assess_assembly(assembly)}


@pytest.fixture(scope="session")
def eu_estimates() -> dict[str, Estimate]:
    # The synthesis tests/test_recovery.py lints and fails over, copied when it came first.
    eu = synthesize_and_assess(context(primary_region=EU[0], recovery_region=EU[1]))
    return {e.tier: e for e in eu}


# --- regions ---
def test_the_readmes_cost_table_is_the_estimates(
    estimates: dict[str, Estimate], eu_estimates: dict[str, Estimate]
) -> None:
    """README, "Cost in both modes": each figure as `drtiers explain` gives it, in both pairs."""
    readme = (ROOT / "README.md").read_text().split("**Cost in both modes.**", 1)[1]
    rows = [line for line in readme.split("\n\n", 2)[1].splitlines() if line.startswith("| ")]
    shown = {row.split(" | ")[0][2:]: row.strip("| ").split(" | ")[1:] for row in rows[1:]}
    assert set(shown) == set(estimates)
    for tier, us in estimates.items():
        eu = eu_estimates[tier]
        assert shown[tier] == [
            f"{us.monthly_cost_usd:,.0f}",
            f"{us.failed_over_usd_per_hour:,.2f}",
            f"{us.failed_over_usd_per_day:,.0f}",
            f"{us.event_once_usd:,.0f}",
            f"{eu.monthly_cost_usd:,.0f}, {eu.failed_over_usd_per_day:,.0f}",
        ], tier


def _statuses(node: Any, status: str | None = None, priced: bool = False) -> Counter[str]:
    """How many prices (numbers under a "value" or "values") have each status, a number taking
    the status of the nearest entry above it that names one."""
    found: Counter[str] = Counter()
    if isinstance(node, dict):
        status = node.get("status", status)
        for key, value in node.items():
            if key in ("value", "values") or isinstance(value, dict):
                found += _statuses(value, status, priced or key in ("value", "values"))
            elif priced and isinstance(value, int | float):
                found[str(status)] += 1
    elif priced and isinstance(node, int | float):
        found[str(status)] += 1
    return found


def test_the_readme_counts_the_bundled_prices_by_status() -> None:
    counted = sum((_statuses(e["regions"]) for e in price_data()["prices"].values()), Counter())
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "verified" not in counted  # "none verified"
    total, secondary = sum(counted.values()), counted["secondary"]
    assert f"{secondary} of its {total} prices secondary, {counted['unverified']} unverified" in (
        readme
    )


def test_eu_estimates_use_eu_prices(
    eu_estimates: dict[str, Estimate], estimates: dict[str, Estimate]
) -> None:
    for tier in TIERS:
        eu, us = eu_estimates[tier], estimates[tier]
        assert (eu.primary_region, eu.recovery_region) == EU
        assert eu.price_notes == []
        for line in eu.cost:
            assert line.unit_price.region == line.region  # each region at its own price
        assert {line.region for line in eu.cost} >= set(EU)
        # The same resources cost more in Frankfurt and Ireland than in Virginia and Oregon.
        assert eu.monthly_cost_usd > us.monthly_cost_usd, tier
    database = next(c for c in eu_estimates["pilot-light"].cost if c.item.startswith("RDS Multi"))
    same_in_us = next(c for c in estimates["pilot-light"].cost if c.item == database.item)
    assert (
        database.region == "eu-west-1" and database.unit_price.value > same_in_us.unit_price.value
    )


def test_a_region_without_prices_is_priced_as_the_nearest_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sydney = Synthesized(tier="pilot-light", recovery_region="ap-southeast-2")
    directory = sydney.directory  # the same tier, recovering in Sydney
    assert cli(["explain", "--tier", "pilot-light", "--json", "--assembly", str(directory)]) == 0
    out, err = capsys.readouterr()
    detail = json.loads(out)
    assert detail["recovery_region"] == "ap-southeast-2"
    moved = [c for c in detail["cost"] if c["region"] == "ap-southeast-2"]
    assert moved and {c["price_region"] for c in moved} == {"us-west-2"}
    note = (
        "no prices for ap-southeast-2 in drtiers/core/prices.json: priced as us-west-2, the "
        "nearest priced region (its nearest_priced_region table)"
    )
    assert detail["price_notes"] == [note]
    assert err.strip() == f"drtiers: note: {note}"
    assert nearest_priced_region("eu-south-2", ["eu-west-1", "eu-central-1"]) == "eu-central-1"
    assert nearest_priced_region("eu-south-2", ["us-east-1"]) == "us-east-1"
    assert nearest_priced_region("cn-north-1", ["us-east-1"]) is None


# --- engines and classes ---
def test_mysql_is_priced_by_its_engine(
    estimates: dict[str, Estimate], tmp_path: Path, assembly: Path
) -> None:
    directory = copy_assembly(assembly, tmp_path / "asm")

    def mysql(resources: dict[str, dict[str, Any]]) -> None:
        for resource in resources.values():
            if resource["Type"] in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
                props = resource["Properties"]
                if "Engine" in props:
                    props["Engine"] = "aurora-mysql" if "aurora" in props["Engine"] else "mysql"

    for stack in ("drtiers-pilot-light-primary", "drtiers-warm-standby-primary"):
        edit_template(directory, stack, mysql)
    edit_template(directory, "drtiers-warm-standby-recovery", mysql)
    after = {e.tier: e for e in assess_assembly(directory)}
    for tier, engine in (("pilot-light", "mysql"), ("warm-standby", "aurora-mysql")):
        lines = [c for c in after[tier].cost if c.unit_price.name.startswith("db_instance_hour")]
        assert lines and all(f"({engine})" in c.item for c in lines), tier
        for line in lines:  # the replica in R takes its source's engine
            cls = line.unit_price.name.split()[-1].rstrip("]")
            assert (
                line.unit_price.value == price("db_instance_hour", line.region, engine, cls).value
            )
    before = next(c for c in estimates["pilot-light"].cost if c.item.startswith("RDS Multi-AZ"))
    mine = next(c for c in after["pilot-light"].cost if c.item.startswith("RDS Multi-AZ"))
    assert mine.unit_price.value != before.unit_price.value  # MySQL is not priced as PostgreSQL


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "DBInstanceClass",
            "db.x2g.large",
            "drtiers: error: no db_instance_hour price for instance class 'db.x2g.large' "
            "(postgres) in us-east-1 in drtiers/core/prices.json; priced: db.m7g.2xlarge, "
            "db.m7g.large, db.m7g.xlarge, db.r6g.2xlarge, db.r6g.large, db.r6g.xlarge, "
            "db.r7g.2xlarge, db.r7g.4xlarge, db.r7g.large, db.r7g.xlarge, db.t4g.large, "
            "db.t4g.medium",
        ),
        (
            "Engine",
            "mariadb",
            "drtiers: error: no db_instance_hour price for engine 'mariadb' in us-east-1 in "
            "drtiers/core/prices.json; priced: aurora-mysql, aurora-postgresql, mysql, postgres",
        ),
    ],
)
def test_an_unpriced_class_or_engine_is_one_line_and_exit_2(
    assembly: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    field: str,
    value: str,
    message: str,
) -> None:
    directory = copy_assembly(assembly, tmp_path / "asm")

    def change(resources: dict[str, dict[str, Any]]) -> None:
        for resource in resources.values():
            if resource["Type"] == "AWS::RDS::DBInstance":
                resource["Properties"][field] = value

    edit_template(directory, "drtiers-pilot-light-primary", change)
    assert cli(["list", "--assembly", str(directory)]) == 2
    assert capsys.readouterr().err.strip() == message


def test_every_value_in_the_price_file_names_its_source_and_status() -> None:
    data = price_data()
    counted: dict[str, int] = {}

    def leaves(values: Any, defaults: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if isinstance(values, dict) and "value" not in values:
            for value in values.values():
                yield from leaves(value, defaults)
        else:
            yield {**defaults, **values} if isinstance(values, dict) else defaults

    for entry in data["prices"].values():
        assert set(entry["regions"]) >= {"us-east-1", "us-west-2", *EU}
        for priced in entry["regions"].values():
            for leaf in leaves(priced.get("values", priced.get("value")), priced):
                assert leaf["source"].startswith("https://")
                assert re.fullmatch(r"\d{4}-\d\d-\d\d", leaf["read"])
                assert leaf["status"] == "verified" or len(leaf.get("note", "")) > 40
                counted[leaf["status"]] = counted.get(leaf["status"], 0) + 1
    assert set(counted) <= {"verified", "secondary", "unverified"}


# --- cost in both modes ---
def test_running_failed_over_brings_r_to_p_size(estimates: dict[str, Estimate]) -> None:
    hourly = {
        t: estimates[t].failed_over_usd_per_hour - estimates[t].steady_usd_per_hour for t in TIERS
    }
    # R holds none of P's capacity in backup-restore and all of it in multi-site: an event adds
    # all of P's capacity in the first, and nothing but the data sent back in the last.
    rebuilt = [line for line in estimates["backup-restore"].event if "P's size" in line.item]
    assert {line.item.split(" in R")[0] for line in rebuilt} >= {"database", "tasks", "DAX"}
    assert all(line.how.endswith("in place of nothing") for line in rebuilt)
    assert min(hourly["backup-restore"], hourly["pilot-light"], hourly["warm-standby"]) > 0
    assert hourly["multi-site"] < 0.01
    assert not [line for line in estimates["multi-site"].event if "P's size" in line.item]
    pilot = estimates["pilot-light"]
    tasks = next(line for line in pilot.event if line.item == "tasks in R at P's size")
    primary_tasks = [
        c for c in pilot.cost if c.item.startswith("Fargate") and c.region == "us-east-1"
    ]
    # R runs none of P's tasks at steady state: an event adds all of them, priced in R.
    expected = (
        sum(c.quantity * price(c.unit_price.name, "us-west-2").value for c in primary_tasks)
        / pilot.hours_per_month
    )
    assert tasks.usd_per_hour == pytest.approx(expected, abs=0.01)
    assert "DAX in R at P's size" in {line.item for line in pilot.event}
    assert pilot.failed_over_usd_per_day == pytest.approx(pilot.failed_over_usd_per_hour * 24)
    assert all(e.event_once_usd > 0 for e in estimates.values())  # the database goes back to P


def test_explain_and_diff_show_the_failed_over_cost(
    assembly: Path,
    estimates: dict[str, Estimate],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    pilot, warm = estimates["pilot-light"], estimates["warm-standby"]
    assert cli(["explain", "--tier", "pilot-light", "--assembly", str(assembly)]) == 0
    text = capsys.readouterr().out
    assert "Running failed over" in text
    assert (
        f"Failed over: about ${pilot.failed_over_usd_per_hour:,.2f} an hour "
        f"(${pilot.failed_over_usd_per_day:,.0f} a day) against ${pilot.steady_usd_per_hour:,.2f}"
    ) in text
    assert cli(["explain", "--tier", "pilot-light", "--json", "--assembly", str(assembly)]) == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["failed_over"]["usd_per_day"] == pilot.failed_over_usd_per_day
    assert cli(["diff", "pilot-light", "warm-standby", "--assembly", str(assembly)]) == 0
    text = capsys.readouterr().out.replace("\n", " ")
    assert (
        f"failed over ${pilot.failed_over_usd_per_day:,.0f} -> "
        f"${warm.failed_over_usd_per_day:,.0f} a day"
    ) in text


# --- the price file ---
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["prices"]["nat_hour"]["regions"]["us-east-1"].update(value="cheap"),
            'prices.nat_hour.regions.us-east-1.value: expected a number >= 0, got "cheap"',
        ),
        (
            lambda d: d["prices"]["alb_hour"]["regions"]["eu-west-1"].update(status="guessed"),
            "prices.alb_hour.regions.eu-west-1.status: expected one of verified, secondary, "
            'unverified, got "guessed"',
        ),
        (lambda d: d.pop("workload"), "no 'workload'"),
    ],
)
def test_a_malformed_price_file_is_one_line_and_exit_2(
    assembly: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    data = json.loads(json.dumps(price_data()))
    edit(data)
    bad = tmp_path / "prices.json"
    bad.write_text(json.dumps(data))
    assert cli(["list", "--prices", str(bad), "--assembly", str(assembly)]) == 2
    assert capsys.readouterr().err.strip() == f"drtiers: error: {bad}: {message}"
    bad.write_text("{not json")
    assert cli(["list", "--prices", str(bad), "--assembly", str(assembly)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"drtiers: error: {bad}: not JSON (Expecting property name enclosed in double quotes "
        "at line 1)"
    )


def test_a_malformed_bundled_price_file_is_one_line_and_exit_2(
    assembly: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from drtiers.core import facts

    load = facts._load

    def broken(name: str) -> dict[str, Any]:
        data = load(name)
        if name == "prices.json":
            del data["prices"]["sqs_million"]["regions"]["us-east-1"]["source"]
        return data

    monkeypatch.setattr(facts, "_load", broken)
    use_price_file(None)
    assert cli(["list", "--assembly", str(assembly)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"drtiers: error: {BUNDLED}: prices.sqs_million.regions.us-east-1.source: expected an "
        "https:// address of the source"
    )


# --- drtiers prices update ---
def product(sku: str, usagetype: str, usd: str, **attributes: str) -> str:
    """One GetProducts PriceList item: a JSON string with the product and its on-demand terms,
    as the Price List Query API returns it (FormatVersion aws_v1)."""
    term = f"{sku}.JRTCKXETXF"
    return json.dumps(
        {
            "product": {
                "productFamily": attributes.pop("productFamily", "Compute"),
                "attributes": {"usagetype": usagetype, **attributes},
                "sku": sku,
            },
            "serviceCode": "AmazonRDS",
            "terms": {
                "OnDemand": {
                    term: {
                        "priceDimensions": {
                            f"{term}.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "endRange": "Inf",
                                "description": f"USD {usd} per unit",
                                "appliesTo": [],
                                "rateCode": f"{term}.6YS6EN2CT7",
                                "beginRange": "0",
                                "pricePerUnit": {"USD": usd},
                            }
                        },
                        "sku": sku,
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20261101000000",
            "publicationDate": "2026-11-01T00:00:00Z",
        }
    )


def small_price_file(path: Path) -> Path:
    """The bundled file with two prices (one class of one engine) in two regions."""
    data = json.loads(json.dumps(price_data()))
    keep = {"nat_hour", "db_instance_hour", "alb_hour"}
    data["prices"] = {k: v for k, v in data["prices"].items() if k in keep}
    for entry in data["prices"].values():
        entry["regions"] = {
            r: v for r, v in entry["regions"].items() if r in ("us-east-1", "eu-west-1")
        }
        for priced in entry["regions"].values():
            if "values" in priced:
                priced["values"] = {
                    "postgres": {"db.m7g.large": priced["values"]["postgres"]["db.m7g.large"]}
                }
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def pricing(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Price List client with fake credentials in the environment and its answers stubbed."""
    import boto3
    from botocore.stub import Stubber

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    client = boto3.client("pricing", region_name="us-east-1")
    monkeypatch.setattr(pricelist, "_new_client", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def expect(
    stubber: Any, service: str, region: str, filters: list[tuple[str, str, str]], *items: str
) -> None:
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": list(items)},
        {
            "ServiceCode": service,
            "FormatVersion": "aws_v1",
            "Filters": [{"Type": t, "Field": f, "Value": v} for t, f, v in filters],
        },
    )


def test_prices_update_prints_what_changed_and_writes_only_to_out(
    pricing: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = small_price_file(tmp_path / "small.json")
    before = source.read_text()
    rds = [
        ("TERM_MATCH", "productFamily", "Database Instance"),
        ("TERM_MATCH", "instanceType", "db.m7g.large"),
        ("TERM_MATCH", "databaseEngine", "PostgreSQL"),
        ("TERM_MATCH", "deploymentOption", "Single-AZ"),
    ]
    alb = [
        ("TERM_MATCH", "productFamily", "Load Balancer-Application"),
        ("CONTAINS", "usagetype", "LoadBalancerUsage"),
    ]
    nat = [("CONTAINS", "usagetype", "NatGateway-Hours")]
    answers = {  # region: (usage type prefix, RDS, ALB, NAT)
        "us-east-1": ("", "0.1700000000", "0.0225000000", "0.0450000000"),
        "eu-west-1": ("EU-", "0.1880000000", "0.0252000000", "0.0480000000"),
    }
    for region, (prefix, usd, _, _) in answers.items():  # the file's order: item, then region
        expect(
            pricing,
            "AmazonRDS",
            region,
            [("TERM_MATCH", "regionCode", region), *rds],
            product("RDS1" + region, f"{prefix}InstanceUsage:db.m7g.large", usd),
            # Aurora I/O-Optimized and other products the filters let through are skipped.
            product("RDS2" + region, f"{prefix}InstanceUsageIOOptimized:db.m7g.large", "0.3"),
        )
    for region, (prefix, _, _, usd) in answers.items():
        expect(
            pricing,
            "AmazonEC2",
            region,
            [("TERM_MATCH", "regionCode", region), *nat],
            product("NAT" + region, f"{prefix}NatGateway-Hours", usd),
            product("NATX" + region, f"{prefix}NatGateway-Hours", usd),  # same price twice
        )
    for region, (prefix, _, usd, _) in answers.items():
        expect(
            pricing,
            "AWSELB",
            region,
            [("TERM_MATCH", "regionCode", region), *alb],
            product("ALB" + region, f"{prefix}LoadBalancerUsage", usd),
        )
    out = tmp_path / "refreshed.json"
    assert cli(["prices", "update", "--prices", str(source), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "changed db_instance_hour[postgres db.m7g.large] us-east-1: 0.168 -> 0.17" in text
    assert "changed db_instance_hour[postgres db.m7g.large] eu-west-1: 0.1865 -> 0.188" in text
    assert "changed nat_hour" not in text
    assert "2 changed, 4 unchanged, 0 not found, 0 not in the Price List queries" in text
    assert source.read_text() == before  # the file read is left as it was
    refreshed = json.loads(out.read_text())
    leaf = refreshed["prices"]["db_instance_hour"]["regions"]["us-east-1"]["values"]["postgres"][
        "db.m7g.large"
    ]
    assert leaf["status"] == "verified" and "SKU RDS1us-east-1" in leaf["source"]
    assert leaf["read"] == date.today().isoformat()
    use_price_file(str(out))  # a file the estimates can read, with the new price
    assert price("db_instance_hour", "us-east-1", "postgres", "db.m7g.large").value == 0.17


def test_prices_update_leaves_an_ambiguous_answer_alone(
    pricing: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = small_price_file(tmp_path / "small.json")
    expect(
        pricing,
        "AmazonEC2",
        "us-east-1",
        [("TERM_MATCH", "regionCode", "us-east-1"), ("CONTAINS", "usagetype", "NatGateway-Hours")],
        product("A", "NatGateway-Hours", "0.045"),
        product("B", "NatGateway-Hours", "0.05"),
    )
    data = json.loads(source.read_text())
    data["prices"] = {"nat_hour": data["prices"]["nat_hour"]}
    source.write_text(json.dumps(data))
    assert cli(["prices", "update", "--prices", str(source), "--region", "us-east-1"]) == 0
    text = capsys.readouterr().out
    assert "not found nat_hour us-east-1 (left as it was)" in text
    assert f"{source} is unchanged; --out FILE writes the refreshed prices" in text


def test_prices_update_without_credentials_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert cli(["prices", "update"]) == 2
    assert capsys.readouterr().err.strip() == (
        "drtiers: error: prices update: no AWS credentials found (the Price List API needs any "
        "signed-in identity); drtiers/core/prices.json is unchanged"
    )


def test_pricelist_update_adds_a_region_it_is_asked_for() -> None:
    class Answers:
        def get_paginator(self, name: str) -> Any:
            return self

        def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
            region = kwargs["Filters"][0]["Value"]
            usage = next((f["Value"] for f in kwargs["Filters"] if f["Field"] == "usagetype"), "x")
            return (
                [{"PriceList": [product("S", f"APS2-{usage}", "0.059")]}]
                if region == "ap-southeast-2"
                else []
            )

    data = json.loads(json.dumps(price_data()))
    data["prices"] = {
        "nat_hour": data["prices"]["nat_hour"],
        "alb_lcu_hour": data["prices"]["alb_lcu_hour"],
    }
    result = pricelist.update(Answers(), data, ["ap-southeast-2"], date(2026, 11, 29))
    assert result.changed == [
        "nat_hour ap-southeast-2: (none) -> 0.059",
        "alb_lcu_hour ap-southeast-2: (none) -> 0.059",
    ]
    added = result.data["prices"]["nat_hour"]["regions"]["ap-southeast-2"]
    assert added["value"] == 0.059 and added["status"] == "verified"
    assert "ap-southeast-2" not in data["prices"]["nat_hour"]["regions"]  # input unchanged
