"""The relational constructs and the proxy for every pinned engine (PostgreSQL 16 and 17, MySQL
8.0 and 8.4): each synthesized on its own, then checked with aws_cdk.assertions, cfn-lint,
cdk-nag AwsSolutions and CloudFormation Guard's Control Tower rules."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cfnlint
import pytest
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from drtiers.assembly.reader import (
    copy_assembly,
    edit_template,
    read_assembly,
    template_files,
    template_regions,
)
from drtiers.assembly.world import read_world
from drtiers.checks.dr import check_tier
from drtiers.checks.gates import cfn_lint
from drtiers.checks.guard import checked
from drtiers.constructs.engines import (
    DEFAULT_ENGINE,
    Engine,
    engine,
    family_of,
    label_of,
    pinned,
)
from drtiers.constructs.keys import DataKey
from drtiers.constructs.network import Network
from drtiers.constructs.proxy import DatabaseProxy
from drtiers.constructs.relational import (
    AuroraGlobalPrimary,
    AuroraGlobalSecondary,
    CrossRegionReplica,
    MultiAzDatabase,
)
from drtiers.core.facts import default_figures, default_workload
from drtiers.recovery.steps import failover_steps
from drtiers.report.content import topology
from tests.conftest import Synthesized

ENGINES = pinned()
IDS = [f"{e.family}-{e.major}" for e in ENGINES]
ACCOUNT = "123456789012"
PRIMARY, RECOVERY = "us-east-1", "us-west-2"
ROTATION = {"postgresql": "PostgreSQLSingleUser", "mysql": "MySQLSingleUser"}


def test_the_pins() -> None:
    assert [(e.family, e.major) for e in ENGINES] == [
        ("postgresql", "16"),
        ("postgresql", "17"),
        ("mysql", "8.0"),
        ("mysql", "8.4"),
    ]
    assert engine("postgresql", "17") == DEFAULT_ENGINE
    assert (DEFAULT_ENGINE.rds_version, DEFAULT_ENGINE.aurora_version) == ("17.9", "17.9")
    assert (DEFAULT_ENGINE.port, DEFAULT_ENGINE.proxy_port) == (5438, 5432)
    mysql = engine("mysql", "8.4")
    assert (mysql.rds_version, mysql.aurora_version) == ("8.4.10", "8.4.mysql_aurora.8.4.8")
    assert engine("mysql", "8.0").aurora_version == "8.0.mysql_aurora.3.12.0"
    assert (mysql.port, mysql.default_port, mysql.proxy_port) == (3312, 3306, 3306)
    assert all(e.port != e.default_port for e in ENGINES)
    assert (family_of("aurora-mysql"), family_of("postgres"), family_of("oracle-ee")) == (
        "mysql",
        "postgresql",
        None,
    )
    assert (label_of("mysql"), label_of("aurora-postgresql")) == ("MySQL", "PostgreSQL")


def test_the_pins_are_ones_the_pinned_cfn_lint_knows_and_does_not_deprecate() -> None:
    root = Path(cfnlint.__file__).parent / "data" / "schemas" / "extensions"

    def versions(resource: str, name: str) -> dict[str, set[str]]:
        data = json.loads((root / resource / name).read_text())
        found: dict[str, set[str]] = {}
        for rule in data["allOf"]:
            engine_name = rule["if"]["properties"]["Engine"].get("const")
            # deprecated versions are in the condition, valid ones in its consequence
            enum = rule["if"]["properties"].get("EngineVersion", {}).get("enum") or (
                rule.get("then", {}).get("properties", {}).get("EngineVersion", {}).get("enum")
            )
            if engine_name and enum:
                found[engine_name] = {str(v) for v in enum}
        return found

    for resource in ("aws_rds_dbinstance", "aws_rds_dbcluster"):
        valid = versions(resource, "engine_version.json")
        deprecated = versions(resource, "engine_version_deprecated.json")
        for e in ENGINES:
            pins = [(e.rds_engine, e.rds_version), (e.aurora_engine, e.aurora_version)]
            for name, version in pins:
                assert version in valid[name], (resource, name, version)
                assert version not in deprecated.get(name, set()), (resource, name, version)


def test_an_unknown_engine_or_version_is_refused() -> None:
    with pytest.raises(ValueError, match="engine 'oracle' is not one of postgresql, mysql"):
        engine("oracle", "19")
    with pytest.raises(ValueError, match=r"MySQL 5.7 is not pinned; pinned: 8.0, 8.4"):
        engine("mysql", "5.7")


class Built:
    """One engine's constructs in two small stacks of one app (P: instance, Aurora primary,
    their proxies; R: replica, Aurora secondary with write forwarding, its proxy), and
    Guard's findings on their templates (the rules and binary of the CDK's Guard plugin, run
    directly: ~1 s where the plugin inside the synthesis took ~8)."""

    def __init__(self, e: Engine, outdir: Path) -> None:
        self.engine = e
        self.app = cdk.App(outdir=str(outdir))
        self.primary = self._stack("Primary", PRIMARY)
        net, key = self._base(self.primary)
        instance = MultiAzDatabase(
            self.primary,
            "Instance",
            vpc=net.vpc,
            subnets=net.data_subnets,
            key=key,
            instance_identifier="app-db",
            rotation_subnets=net.app_subnets,
            engine=e,
        )
        self.instance_proxy = DatabaseProxy(
            self.primary,
            "InstanceProxy",
            proxy_name="app-db-proxy",
            vpc=net.vpc,
            subnets=net.data_subnets,
            database_resource_id="db-*",
            database_user="app",
            wildcard_reason="Test: any instance of the region.",
            database_security_group=instance.security_group,
            instance_identifiers=[instance.instance.instance_identifier],
            engine=e,
        )
        aurora = AuroraGlobalPrimary(
            self.primary,
            "Aurora",
            vpc=net.vpc,
            subnets=net.data_subnets,
            key=key,
            global_cluster_identifier="app-global",
            rotation_subnets=net.app_subnets,
            engine=e,
        )
        DatabaseProxy(
            self.primary,
            "AuroraProxy",
            proxy_name="app-aurora-proxy",
            vpc=net.vpc,
            subnets=net.data_subnets,
            database_resource_id=aurora.cluster.cluster_resource_identifier,
            database_user="app",
            database_security_group=aurora.security_group,
            cluster_identifiers=[aurora.cluster.cluster_identifier],
            engine=e,
        )
        self.recovery = self._stack("Recovery", RECOVERY)
        net, key = self._base(self.recovery)
        self.replica = CrossRegionReplica(
            self.recovery,
            "Replica",
            vpc=net.vpc,
            subnets=net.data_subnets,
            key=key,
            source_instance_arn=f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:app-db",
            source_region=PRIMARY,
            instance_identifier="app-db",
            engine=e,
        )
        secondary = AuroraGlobalSecondary(
            self.recovery,
            "Secondary",
            vpc=net.vpc,
            subnets=net.data_subnets,
            key=key,
            global_cluster_identifier="app-global",
            write_forwarding=True,
            engine=e,
        )
        DatabaseProxy(
            self.recovery,
            "SecondaryProxy",
            proxy_name="app-secondary-proxy",
            vpc=net.vpc,
            subnets=net.data_subnets,
            database_resource_id=secondary.cluster.attr_db_cluster_resource_id,
            database_user="app",
            database_security_group=secondary.security_group,
            cluster_identifiers=[secondary.cluster_identifier],
            read_only_endpoint=True,
            engine=e,
        )
        self.app.synth()
        self.guard = checked(outdir)  # each finding, and whether it is acknowledged
        self.outdir = outdir

    def _stack(self, name: str, region: str) -> cdk.Stack:
        return cdk.Stack(self.app, name, env={"account": ACCOUNT, "region": region})

    @staticmethod
    def _base(stack: cdk.Stack) -> tuple[Network, Any]:
        region = stack.region
        key = DataKey(stack, "Key", description="Test data").key
        net = Network(stack, "Net", availability_zones=[f"{region}a", f"{region}b"], log_key=key)
        return net, key

    def template(self, stack: cdk.Stack) -> Template:
        return Template.from_stack(stack)


_BUILT: dict[str, Built] = {}


def _built(e: Engine, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Once per engine in a test session (pytest sets a parametrized module fixture up again
    each time the parameter changes between tests)."""
    name = f"{e.family}-{e.major}"
    if name not in _BUILT:
        _BUILT[name] = Built(e, tmp_path_factory.mktemp(name))
    return _BUILT[name]


@pytest.fixture(scope="module", params=ENGINES, ids=IDS)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _built(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def linted(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """cfn-lint's findings over every engine's templates, in one run (cfn-lint takes ~1 s to
    start), each under ``<engine>-<stack>``."""
    folder = tmp_path_factory.mktemp("engines-linted")
    regions = {}
    for e, name in zip(ENGINES, IDS, strict=True):
        outdir = _built(e, tmp_path_factory).outdir
        region_of = template_regions(outdir)
        for template in template_files(outdir):
            shutil.copyfile(template, folder / f"{name}-{template.name}")
            regions[f"{name}-{template.name}"] = region_of[template.name]
    assert len(template_files(folder)) == 2 * len(ENGINES)
    assert sorted(set(regions.values())) == [PRIMARY, RECOVERY]
    return cfn_lint(folder, regions=regions)


def test_rds_instance_and_its_proxy(built: Built) -> None:
    e = built.engine
    t = built.template(built.primary)
    t.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": e.rds_engine,
            "EngineVersion": e.rds_version,
            "MultiAZ": True,
            "Port": str(e.port),
            "EnableIAMDatabaseAuthentication": True,
            "EnableCloudwatchLogsExports": list(e.rds_logs),
            "StorageEncrypted": True,
            "PubliclyAccessible": False,
        },
    )
    t.has_resource_properties(
        "AWS::RDS::DBParameterGroup",
        {"Family": e.rds_parameter_family, "Parameters": dict(e.rds_tls)},
    )
    t.has_resource_properties(
        "AWS::RDS::DBProxy",
        {"DBProxyName": "app-db-proxy", "EngineFamily": e.proxy_engine_family},
    )
    # the proxy reaches the database on the database's port; clients use the proxy's
    t.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"FromPort": e.port, "ToPort": e.port, "Description": "From the RDS Proxy"},
    )
    assert built.instance_proxy.port == e.proxy_port
    rotations = t.find_resources("AWS::SecretsManager::RotationSchedule")
    assert len(rotations) == 2  # the instance's and the Aurora primary's
    t.all_resources_properties(
        "AWS::SecretsManager::RotationSchedule",
        {"HostedRotationLambda": {"RotationType": ROTATION[e.family]}},
    )


def test_aurora_primary(built: Built) -> None:
    e = built.engine
    t = built.template(built.primary)
    t.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": e.aurora_engine,
            "EngineVersion": e.aurora_version,
            "Port": e.port,
            "EnableIAMDatabaseAuthentication": True,
            "EnableCloudwatchLogsExports": list(e.aurora_logs),
            "StorageEncrypted": True,
        },
    )
    # TLS-only is a cluster parameter on Aurora, for both engines
    t.has_resource_properties(
        "AWS::RDS::DBClusterParameterGroup",
        {"Family": e.aurora_parameter_family, "Parameters": dict(e.aurora_tls)},
    )
    t.has_resource_properties(
        "AWS::RDS::DBInstance",
        {"Engine": e.aurora_engine, "DBClusterIdentifier": Match.any_value()},
    )
    t.has_resource_properties(
        "AWS::RDS::DBProxy",
        {"DBProxyName": "app-aurora-proxy", "EngineFamily": e.proxy_engine_family},
    )
    t.has_resource_properties("AWS::RDS::GlobalCluster", {"GlobalClusterIdentifier": "app-global"})


def test_cross_region_replica_and_aurora_secondary(built: Built) -> None:
    e = built.engine
    t = built.template(built.recovery)
    t.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "SourceDBInstanceIdentifier": f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:app-db",
            "Engine": Match.absent(),  # a replica runs its source's engine and version
            "Port": str(e.port),
            "EnableCloudwatchLogsExports": list(e.rds_logs),
            "EnableIAMDatabaseAuthentication": True,
        },
    )
    t.has_resource_properties(
        "AWS::RDS::DBParameterGroup",
        {"Family": e.rds_parameter_family, "Parameters": dict(e.rds_tls)},
    )
    t.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": e.aurora_engine,
            "EngineVersion": e.aurora_version,
            "GlobalClusterIdentifier": "app-global",
            "EnableGlobalWriteForwarding": True,
            "EnableCloudwatchLogsExports": list(e.aurora_logs),
            "Port": e.port,
            "MasterUsername": Match.absent(),
        },
    )
    t.has_resource_properties(
        "AWS::RDS::DBClusterParameterGroup",
        {"Family": e.aurora_parameter_family, "Parameters": dict(e.aurora_tls)},
    )
    t.has_resource_properties(
        "AWS::RDS::DBInstance",
        {"Engine": e.aurora_engine, "DBClusterIdentifier": Match.any_value()},
    )
    t.has_resource_properties(
        "AWS::RDS::DBProxy",
        {"DBProxyName": "app-secondary-proxy", "EngineFamily": e.proxy_engine_family},
    )
    assert built.replica.port == e.port


def test_cfn_lint_reports_nothing(built: Built, linted: list[str]) -> None:
    name = f"{built.engine.family}-{built.engine.major}"
    assert [line for line in linted if line.startswith(f"{name}-")] == []


def test_cdk_nag_reports_nothing_unacknowledged(built: Built) -> None:
    report = AwsSolutionsChecks().validate_scope(built.app)
    findings = [
        f"{r.construct_path}: {v.rule_name}"
        for v in report.violations
        for r in v.violating_resources
    ]
    assert findings == []


def test_guard_reports_nothing_unacknowledged(built: Built) -> None:
    assert [line for line, acknowledged in built.guard if not acknowledged] == []
    # Guard did read the templates: the CDK's own VPC custom resource runs outside a VPC,
    # acknowledged on it with a reason, in each stack.
    assert {
        "Primary/CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E",
        "Recovery/CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E",
    } <= {line.split(":")[0] for line, _ in built.guard}


def test_aurora_constructs_refuse_an_engine_without_global_databases() -> None:
    stack = cdk.Stack(cdk.App(), "T", env={"account": ACCOUNT, "region": RECOVERY})
    net, key = Built._base(stack)
    local = dataclasses.replace(engine("mysql", "8.4"), aurora_global_database=False)
    with pytest.raises(ValueError, match="does not support global databases"):
        AuroraGlobalSecondary(
            stack,
            "Secondary",
            vpc=net.vpc,
            subnets=net.data_subnets,
            key=key,
            global_cluster_identifier="g",
            engine=local,
        )
    no_forwarding = dataclasses.replace(engine("mysql", "8.0"), aurora_write_forwarding=False)
    with pytest.raises(ValueError, match="does not support global write forwarding"):
        AuroraGlobalSecondary(
            stack,
            "Secondary2",
            vpc=net.vpc,
            subnets=net.data_subnets,
            key=key,
            global_cluster_identifier="g",
            write_forwarding=True,
            engine=no_forwarding,
        )


# --- reading the engine back from a synthesized tier --------------------------------------


def _to_mysql(
    *, in_recovery: bool, secondary_version: str | None
) -> Callable[[dict[str, dict[str, Any]]], None]:
    """The template edit that turns its PostgreSQL databases into MySQL 8.4 ones; in the
    recovery stack (``in_recovery``) the Aurora clusters take ``secondary_version`` if given."""
    mysql = engine("mysql", "8.4")

    def edit(resources: dict[str, dict[str, Any]]) -> None:
        for resource in resources.values():
            props = resource.get("Properties", {})
            if props.get("Engine") == "postgres":
                props["Engine"], props["EngineVersion"] = mysql.rds_engine, mysql.rds_version
            elif props.get("Engine") == "aurora-postgresql":
                props["Engine"] = mysql.aurora_engine
                if "EngineVersion" in props:
                    secondary = in_recovery and resource["Type"] == "AWS::RDS::DBCluster"
                    props["EngineVersion"] = (
                        secondary_version
                        if secondary and secondary_version
                        else mysql.aurora_version
                    )

    return edit


def _as_mysql(source: Path, target: Path, secondary_version: str | None = None) -> Path:
    """A copy of a synthesized assembly whose databases run MySQL 8.4, as the templates would
    say once a tier is built with engine=MySQL 8.4 (the engines only: the rest is unchanged).
    ``secondary_version``: give the Aurora secondaries in the recovery region another version."""
    copy_assembly(source, target)
    for path in template_files(target):
        stack = path.name.removesuffix(".template.json")
        edit = _to_mysql(
            in_recovery=stack.endswith("-recovery"), secondary_version=secondary_version
        )
        edit_template(target, stack, edit)
    return target


@pytest.fixture(scope="module")
def mysql_tiers(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _as_mysql(Path(synthesized.assembly.directory), tmp_path_factory.mktemp("mysql") / "out")


def test_the_world_reads_each_databases_engine_from_the_template(
    synthesized: Synthesized, mysql_tiers: Path
) -> None:
    for directory, rds_engine, aurora_engine in (
        (Path(synthesized.assembly.directory), "postgres", "aurora-postgresql"),
        (mysql_tiers, "mysql", "aurora-mysql"),
    ):
        tiers = read_assembly(directory)
        pilot = read_world(tiers["pilot-light"]).databases.values()
        # the replica names no Engine: it is its source's
        assert {(d.role, d.engine) for d in pilot} == {
            ("writer", rds_engine),
            ("replica", rds_engine),
        }
        warm = read_world(tiers["warm-standby"]).databases.values()
        assert {(d.role, d.engine) for d in warm} == {
            ("writer", aurora_engine),
            ("secondary", aurora_engine),
        }


def test_the_add_reader_command_names_the_clusters_engine(
    synthesized: Synthesized, mysql_tiers: Path
) -> None:
    figures, workload = default_figures(), default_workload()
    for directory, aurora_engine in (
        (Path(synthesized.assembly.directory), "aurora-postgresql"),
        (mysql_tiers, "aurora-mysql"),
    ):
        world = read_world(read_assembly(directory)["warm-standby"])
        add_reader = next(
            x for x in failover_steps(world, figures, workload) if x.name == "add-reader"
        )
        assert f"--engine {aurora_engine} " in add_reader.command


def test_the_report_names_the_instances_engine(synthesized: Synthesized, mysql_tiers: Path) -> None:
    before = topology(read_assembly(Path(synthesized.assembly.directory))["pilot-light"])
    after = topology(read_assembly(mysql_tiers)["pilot-light"])
    assert (before.primary_database, after.primary_database) == (
        "Multi-AZ RDS PostgreSQL",
        "Multi-AZ RDS MySQL",
    )


def test_dr_check_flags_an_aurora_secondary_on_another_engine_version(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    same = read_assembly(_as_mysql(Path(synthesized.assembly.directory), tmp_path / "same"))
    assert [f for f in check_tier(same["multi-site"]) if f.rule.id == "DR-AuroraSecondary"] == []
    other = read_assembly(
        _as_mysql(
            Path(synthesized.assembly.directory),
            tmp_path / "other",
            secondary_version=engine("mysql", "8.0").aurora_version,
        )
    )
    findings = [f for f in check_tier(other["multi-site"]) if f.rule.id == "DR-AuroraSecondary"]
    assert [f.detail for f in findings] == [
        "runs aurora-mysql 8.0.mysql_aurora.3.12.0, the primary aurora-mysql 8.4.mysql_aurora.8.4.8"
    ]


def test_aurora_mysql_forwards_writes_only_with_a_read_consistency(built: Built) -> None:
    """Without aurora_replica_read_consistency, Aurora MySQL forwards no writes; every cluster
    sets it, so multi-site's secondary forwards, and still does after a switchover."""
    e = built.engine
    for stack in (built.primary, built.recovery):
        template = built.template(stack)
        assert template.find_resources("AWS::RDS::DBClusterParameterGroup")
        consistency = "SESSION" if e.family == "mysql" else Match.absent()
        template.all_resources_properties(
            "AWS::RDS::DBClusterParameterGroup",
            {"Parameters": {"aurora_replica_read_consistency": consistency}},
        )
