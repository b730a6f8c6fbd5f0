"""DynamoDB multi-Region strong consistency, multi-site's option: the table is declared so with
a witness in P and R's region set, its RPO is zero, the simulator keeps R writing only while a
second region of the table is up, and the configurations AWS does not allow are refused in one
line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from drtiers.assembly.reader import copy_assembly, edit_template
from drtiers.assess import assess_assembly
from drtiers.build import synthesize
from drtiers.config.context import ConfigError, witness_region
from drtiers.constructs.dynamo import GlobalTable
from drtiers.core import rules
from drtiers.recovery import simulate_assembly
from tests.conftest import ROOT, Synthesized, config, context

STRONG = ROOT / "tests" / "fixtures" / "workloads" / "strong-tables.yaml"
TABLE = "drtiers-multi-site-orders"


@pytest.fixture(scope="module")
def strong() -> Synthesized:
    return Synthesized(tier="multi-site", workload=str(STRONG))


def _table(strong: Synthesized) -> Any:
    (table,) = [
        t
        for t in strong.read("multi-site").of_type("AWS::DynamoDB::GlobalTable")
        if t.prop("TableName") == TABLE
    ]
    return table


def test_the_table_is_strong_with_a_witness_in_the_set(strong: Synthesized) -> None:
    table = _table(strong)
    assert table.prop("MultiRegionConsistency") == "STRONG"
    assert table.prop("GlobalTableWitnesses") == [{"Region": "us-east-2"}]
    assert {r["Region"] for r in table.prop("Replicas")} == {"us-east-1", "us-west-2"}
    alarms = strong.read("multi-site").of_type("AWS::CloudWatch::Alarm")
    assert not [a for a in alarms if a.prop("MetricName") == "ReplicationLatency"]


def test_a_named_witness_is_the_one_declared(tmp_path: Path) -> None:
    """In the EU set (four regions) the witness may be chosen: eu-west-3 by default."""
    pair = ("eu-west-1", "eu-west-2")
    for table, witness in (
        ("consistency: strong", "eu-west-3"),
        ("consistency: strong, witness_region: eu-central-1", "eu-central-1"),
    ):
        settings = {"primary_region": pair[0], "recovery_region": pair[1]}
        spec = config(tier="multi-site", workload=_workload(tmp_path, table), **settings)
        assert witness_region(spec.workload.tables[0], *pair) == witness
        stack = cdk.Stack(cdk.App(), "S", env={"account": "123456789012", "region": pair[0]})
        declared = GlobalTable(
            stack,
            "T",
            key=None,
            table_name="t",
            replica_keys={pair[1]: f"arn:aws:kms:{pair[1]}:123456789012:alias/k"},
            witness_region=witness,
        )
        (resource,) = (
            Template.from_stack(stack).find_resources("AWS::DynamoDB::GlobalTable").values()
        )
        assert resource["Properties"]["GlobalTableWitnesses"] == [{"Region": witness}]
        assert declared.witness_region == witness


def test_its_rpo_is_zero(strong: Synthesized) -> None:
    (estimate,) = assess_assembly(strong.directory)
    (table,) = [s for s in estimate.rpo if s.store == "DynamoDB table"]
    assert (table.seconds, table.how) == (0.0, "multi-Region strong consistency")
    assert "bp-global-table-design" in table.sources[0]


def test_region_loss_and_failback_hold(strong: Synthesized) -> None:
    settings = context(tier="multi-site", workload=str(STRONG))
    ((loss, back),) = simulate_assembly(strong.directory, settings, synthesize)
    assert loss.violations == [] and back.violations == []


def test_r_stops_writing_without_a_second_region(strong: Synthesized, tmp_path: Path) -> None:
    """A witness in P (AWS refuses it; here planted) leaves R alone when P is lost."""

    def witness_in_p(resources: dict[str, dict[str, Any]]) -> None:
        for resource in resources.values():
            if resource["Properties"].get("TableName") == TABLE:
                resource["Properties"]["GlobalTableWitnesses"] = [{"Region": "us-east-1"}]

    directory = copy_assembly(strong.directory, tmp_path / "asm")
    edit_template(directory, "drtiers-multi-site-primary", witness_in_p)
    settings = context(tier="multi-site", workload=str(STRONG))
    ((loss, _),) = simulate_assembly(directory, settings, synthesize)
    details = [v.detail for v in loss.violations if v.invariant == "I1"]
    assert any(f"table {TABLE} takes no writes in us-west-2" in d for d in details), details


def test_quorum_needs_a_second_region_up() -> None:
    regions = {"us-east-1", "us-west-2", "us-east-2"}
    assert rules.strong_table_quorum("us-west-2", regions, {"us-west-2", "us-east-2"})
    assert not rules.strong_table_quorum("us-west-2", regions, {"us-west-2"})
    assert not rules.strong_table_quorum("us-west-2", regions, {"us-east-1", "us-east-2"})


def _workload(tmp_path: Path, table: str) -> str:
    file = tmp_path / "w.yaml"
    file.write_text(
        "service: {image: public.ecr.aws/nginx/nginx-unprivileged:alpine}\n"
        f"tables:\n  - {{name: orders, partition_key: {{name: pk}}, {table}}}\n"
    )
    return str(file)


@pytest.mark.parametrize(
    ("table", "overrides", "message"),
    [
        (
            "consistency: strong",
            {"tier": "warm-standby"},
            "tables[0].consistency: 'strong' is not valid; allowed: eventual for tier "
            "warm-standby (multi-Region strong consistency is multi-site's option",
        ),
        (
            "consistency: strong",
            {"recovery_region": "eu-west-1"},
            "context key 'recovery_region': 'eu-west-1' is not valid; allowed: a region of "
            "primary_region us-east-1's region set",
        ),
        (
            "consistency: strong",
            {"primary_region": "sa-east-1"},
            "context key 'primary_region': 'sa-east-1' is not valid; allowed: a region of a set",
        ),
        (
            "consistency: strong, witness_region: us-east-1",
            {},
            "tables[0].witness_region: 'us-east-1' is not valid; allowed: a third region of the "
            "set: us-east-2",
        ),
        (
            "consistency: strong, witness_region: eu-west-1",
            {},
            "tables[0].witness_region: 'eu-west-1' is not valid; allowed: a third region",
        ),
        (
            "witness_region: us-east-2",
            {},
            "witness_region 'us-east-2' with consistency 'eventual'; allowed: a witness only "
            "with consistency strong",
        ),
    ],
)
def test_what_aws_does_not_allow_is_refused_in_one_line(
    tmp_path: Path, table: str, overrides: dict[str, Any], message: str
) -> None:
    settings = {"tier": "multi-site", "workload": _workload(tmp_path, table), **overrides}
    with pytest.raises(ConfigError) as refused:
        config(**settings)
    assert message in str(refused.value) and "\n" not in str(refused.value)
