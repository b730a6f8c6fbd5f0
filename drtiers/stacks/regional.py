"""The regional stacks of a tier: recovery-base (R), primary (P) and recovery (R).

Each wires building blocks together as the tier record says; none of them branches on a tier's
name. Deploy order: recovery-base -> primary -> recovery (the edge stack is placed by compose).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from constructs import Construct

from drtiers.config.context import AIR_GAPPED_MIN_DAYS, DrConfig, witness_region
from drtiers.config.workload import Database as DatabaseSpec
from drtiers.config.workload import Key as KeySpec
from drtiers.config.workload import Table as TableSpec
from drtiers.config.workload import env_suffix, suffix
from drtiers.constructs.accelerator import AcceleratorEndpointGroup
from drtiers.constructs.alarms import (
    PRIMARY_DOWN,
    PROBE_SECONDS,
    Alarms,
    alarm_name,
)
from drtiers.constructs.app import AppService
from drtiers.constructs.backup import AirGappedVault, BackupVault, CrossRegionBackupPlan
from drtiers.constructs.dns_failover import AlarmRef
from drtiers.constructs.dynamo import DaxCluster, GlobalTable
from drtiers.constructs.engines import Engine, engine
from drtiers.constructs.events import EventRoutes
from drtiers.constructs.images import ImageCopyCheck, ImageReplication
from drtiers.constructs.keys import DataKey, let_imported_role_use_queues
from drtiers.constructs.network import DATA, Network
from drtiers.constructs.proxy import DatabaseProxy
from drtiers.constructs.queues import WorkQueue
from drtiers.constructs.rebuild_roles import RebuildRoles, imported
from drtiers.constructs.region_switch import PlanActions
from drtiers.constructs.relational import (
    WRITE_FORWARDING_RESERVED_PERCENT,
    AuroraGlobalPrimary,
    AuroraGlobalSecondary,
    CrossRegionReplica,
    MultiAzDatabase,
)
from drtiers.constructs.restore_tests import Placement, isolated_vpc
from drtiers.core.tiers import (
    CONTROL_TABLE,
    DECLARED_NAMESPACE,
    FIGURES_METADATA,
    EntryPoint,
    RecoveryCompute,
    RecoveryDatabase,
    Relational,
    StackRole,
    TierSpec,
    declared_dimensions,
)
from drtiers.stacks.base import TierStack, scope_tags
from drtiers.stacks.wiring import (
    ANY_INSTANCE,
    APP_DB_USER,
    INSTANCE_GRANT_REASON,
    AppTable,
    DatabaseWiring,
    connect_database,
    grant_app,
)

# Output names other stacks read with Fn::GetStackOutput.
LB_DNS = "LoadBalancerDnsName"
LB_ZONE = "LoadBalancerZoneId"
LB_ARN = "LoadBalancerArn"
APP_NETWORK_ACL = "AppNetworkAclId"
# The certificate a rebuilt primary's load balancer uses, made in R by the recovery-base stack.
REBUILD_CERTIFICATE = "RebuildCertificateArn"
# The reference workload's table and queue: blocks of these names keep the reference's construct
# ids and environment variables (others add their name: TableOrders, TABLE_NAME_ORDERS).
TABLE, QUEUE = "table", "work"
# Suffixes of the fixed names a rebuilt primary gives what its roles (made beforehand) name.
APP_LOGS, FLOW_LOGS = "app", "flow-logs"
# drtiers' own table, keyed pk/sk: the writer-region item (see CONTROL_TABLE).
CONTROL_TABLE_SPEC = TableSpec(
    name=CONTROL_TABLE, partition_key=KeySpec(name="pk"), sort_key=KeySpec(name="sk")
)
CONTROL_TABLE_VARIABLE = "CONTROL_TABLE_NAME"

APP_SERVICE = "service"
PLAN_ACTIONS = "plan-actions"
# Concurrent executions each plan function reserves with reserve_concurrency=true: a step and
# an overlapping retry, or two probes a minute apart.
PLAN_CONCURRENCY = 2


def validated_certificate(stack: TierStack) -> acm.Certificate:
    """A certificate for the tier's entry name in ``stack``'s region, validated by DNS in the
    user's zone: Route 53 is global, so ACM in any region writes its validation record there.
    The zone is named by id and name, never looked up."""
    zone_id = stack.config.hosted_zone_id
    if zone_id is None:
        raise ValueError(f"{stack.stack_name}: a validated certificate needs hosted_zone_id")
    zone = route53.HostedZone.from_hosted_zone_attributes(
        stack, "Zone", hosted_zone_id=zone_id, zone_name=stack.config.domain_name
    )
    return acm.Certificate(
        stack,
        "Certificate",
        domain_name=stack.entry_name,
        validation=acm.CertificateValidation.from_dns(zone),
    )


def proxy_share(tier: TierSpec) -> int:
    """RDS Proxy's share of database connections: all of them, less the write-forwarding quota
    when the global database forwards writes."""
    return 100 - WRITE_FORWARDING_RESERVED_PERCENT if tier.aurora_write_forwarding else 100


def air_gapped_name(names: str, days: int) -> str:
    """The recovery-base stack's air-gapped vault, ``<app>-<tier>-air-gapped-<days>d``: its
    retention is create-only, so a new retention is a new vault (decision 51)."""
    return f"{names}-air-gapped-{days}d"


class RecoveryBaseStack(TierStack):
    """What must exist in R before the primary deploys: the key the table replica and the secret
    replica use there, and the vault that receives backup copies. Addressed by fixed names."""

    def __init__(self, scope: Construct, *, config: DrConfig, tier: TierSpec) -> None:
        super().__init__(
            scope,
            config=config,
            tier=tier,
            role=StackRole.RECOVERY_BASE,
            region=config.recovery_region,
            description="recovery-region keys and backup copy vault",
        )
        self.replica_key_alias = self.resource_name("replicas")
        DataKey(
            self,
            "ReplicaKey",
            description="Table and secret replicas in the recovery region",
            alias=self.replica_key_alias,
            # The primary replicates its secret here exactly when the tier has a recovery stack.
            secret_replicas=tier.has_recovery_stack,
            removal_policy=self.retain_policy,
        )
        vault_key = DataKey(
            self,
            "VaultKey",
            description="Backup copies in the recovery region",
            removal_policy=self.retain_policy,
        )
        if not tier.has_recovery_stack:  # a tier rebuilt here after the event
            self._rebuild_prerequisites()
            self._notices(vault_key.key)
        self.vault_name = self.resource_name("copies")
        vault = BackupVault(
            self,
            "CopyVault",
            vault_name=self.vault_name,
            key=vault_key.key,
            removal_policy=self.retain_policy,
        )
        if config.workload.backups.air_gapped:
            AirGappedVault(
                self,
                "AirGappedVault",
                vault_name=air_gapped_name(self.names, config.workload.backups.retention_days),
                min_days=AIR_GAPPED_MIN_DAYS,
                max_days=config.workload.backups.retention_days,
            )
        if not tier.has_recovery_stack:  # else the recovery stack, in its network, tests
            network = None
            if config.workload.database is not None:
                zones = config.availability_zones[self.region]
                network = isolated_vpc(self, "RestoreTestVpc", zones=zones)
            self.add_restore_tests(self.vault_arn, network).node.add_dependency(vault)

    def _notices(self, key: kms.IKey) -> None:
        """Before a rebuild no other stack here has a topic: this one tells the tier's people
        what AWS Health says of the region they will rebuild in."""
        self.alarms = Alarms(self, "Alarms", key=key, name_prefix=self.resource_name(self.role))
        EventRoutes(
            self, "Events", topic=self.alarms.topic, key=key, label=f"{self.names} {self.region}"
        )

    def _rebuild_prerequisites(self) -> None:
        """What a primary rebuilt here needs and cannot make during the event: its roles
        (IAM's control plane may be in the lost region), under fixed names, and its load
        balancer's certificate."""
        RebuildRoles(
            self,
            "RebuildRoles",
            names=self.names,
            table_names=[self.resource_name(t.name) for t in self.config.workload.tables],
            control_table=self.resource_name(CONTROL_TABLE),
            dax_table_names=[
                self.resource_name(t.name) for t in self.config.workload.tables if t.dax
            ],
            queue_names=[self.resource_name(q.name) for q in self.config.workload.queues],
            app_log_group=self.resource_name(APP_LOGS),
            flow_log_group=self.resource_name(FLOW_LOGS),
            table_key_alias=f"alias/{self.replica_key_alias}",
            database_user=APP_DB_USER if self.config.workload.database else None,
            image_repository_arn=self.config.image_repository_in(self.region),
        )
        if self.config.hosted_zone_id is not None and not self.config.certificate_arns:
            # Validated now, while Route 53's control plane (us-east-1) answers: a rebuild
            # during the event must not need it to write a validation record.
            self.publish(
                REBUILD_CERTIFICATE,
                validated_certificate(self).certificate_arn,
                "Certificate for the load balancer of a primary rebuilt in this region",
            )

    @property
    def replica_key_arn(self) -> str:
        return self.arn("kms", self.region, f"alias/{self.replica_key_alias}")

    @property
    def vault_arn(self) -> str:
        return self.arn("backup", self.region, f"backup-vault:{self.vault_name}")


# The RDS resources whose events name them, and their ARN's resource type.
_RDS_ARN_KINDS = ((rds.CfnDBCluster, "cluster"), (rds.CfnDBInstance, "db"))


class _Placement(TypedDict):
    """The arguments every database construct of a regional stack takes alike."""

    engine: Engine
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    key: kms.IKey
    backup_retention_days: int
    deletion_protection: bool


class _RegionalStack(TierStack):
    """Shared shape of the primary and recovery stacks: key, network, queue, app, alarms."""

    alarms: Alarms  # made first (_foundation): every regional stack has them

    @property
    def rebuilding(self) -> bool:
        """A primary stack rebuilt in another region during an event (restore_from): it makes
        no IAM entity (IAM's control plane may be in the lost region) and uses the roles the
        recovery-base stack made beforehand, under fixed names."""
        return self.config.restore_from is not None and self.role is StackRole.PRIMARY

    def _rebuild_role(self, what: str) -> iam.IRole | None:
        return imported(self, self.names, what) if self.rebuilding else None

    def _fixed(self, suffix: str) -> str | None:
        """A rebuild's name for what it keeps on deletion: ``<app>-<tier>-<suffix>-<event>``,
        so that the next event's rebuild does not meet what this one left in the region."""
        restore_from = self.config.restore_from
        if not self.rebuilding or restore_from is None:
            return None
        return restore_from.named(self.resource_name(suffix))

    def _control_elsewhere(self) -> list[tuple[str, str]]:
        """The control table in the tier's other region, whose writer-region item the app
        reads too (a region that returns from an event may hold an old one)."""
        regions = (self.config.primary_region, self.config.recovery_region)
        other = regions[1] if self.region == regions[0] else regions[0]
        return [(other, self._control_arn(other))]

    def _control_arn(self, region: str) -> str:
        """The control table's ARN in ``region``, by its fixed name."""
        return self.arn("dynamodb", region, f"table/{self.resource_name(CONTROL_TABLE)}")

    def _foundation(self) -> None:
        self.data_key = DataKey(
            self,
            "DataKey",
            description=f"{self.role} data at rest",
            removal_policy=self.retain_policy,
        ).key
        self.network = Network(
            self,
            "Network",
            availability_zones=self.availability_zones,
            log_key=self.data_key,
            nat_gateways=1 if self.config.sandbox else None,
            log_removal_policy=self.retain_policy,
            flow_log_role=self._rebuild_role("flow-logs"),
            flow_log_group_name=self._fixed(FLOW_LOGS),
            # Locking the default group runs a custom resource with a role of its own.
            restrict_default_security_group=not self.rebuilding,
        )
        self.alarms = Alarms(
            self, "Alarms", key=self.data_key, name_prefix=self.resource_name(self.role)
        )
        self.events = EventRoutes(
            self,
            "Events",
            topic=self.alarms.topic,
            key=self.data_key,
            label=f"{self.names} {self.region}",
        )

    def _route_database_events(self) -> None:
        """The database's events (its cluster's and each instance's), by the identifiers
        CloudFormation gives them (their Ref), to the topic; nothing without a database."""
        database = self.node.try_find_child("Database")
        if database is None:
            return
        arns = [
            self.arn("rds", self.region, f"{kind}:{resource.ref}")
            for resource in database.node.find_all()
            for cfn_type, kind in _RDS_ARN_KINDS
            if isinstance(resource, cfn_type)
        ]
        self.events.database(arns)

    def _app(self, desired_count: int, max_count: int) -> AppService:
        cluster_name, service_name = self.resource_name(self.role), self.resource_name(APP_SERVICE)
        self.service_names = (cluster_name, service_name)
        app = AppService(
            self,
            "App",
            vpc=self.network.vpc,
            app_subnets=self.network.app_subnets,
            public_subnets=self.network.public_subnets,
            container_image=self.config.image_in(self.region),
            container_port=self.config.service.port,
            container_user=self.config.service.user,
            cpu=self.config.service.cpu,
            memory_mib=self.config.service.memory,
            desired_count=desired_count,
            max_count=max_count,
            log_key=self.data_key,
            health_check_path=self.config.service.health_check_path,
            deletion_protection=self.deletion_protection,
            removal_policy=self.retain_policy,
            # Emptying the bucket on delete needs a role: a rebuild makes none, and keeps it,
            # even through a rolled-back create (the load balancer's logs may be in it already;
            # its name is generated: a retry makes another).
            logs_removal_policy=RemovalPolicy.RETAIN if self.rebuilding else None,
            task_role=self._rebuild_role("task"),
            execution_role=self._rebuild_role("execution"),
            log_group_name=self._fixed(APP_LOGS),
            cluster_name=cluster_name,
            service_name=service_name,
            certificate=self._certificate(),
            environment=self.config.service.environment,  # the workload's own variables
            image_repository_arn=self.config.image_repository_in(self.region),
        )
        if self.rebuilding and self.config.workload.queues:
            # The queues' key trusts the role made beforehand: a grant on it would be dropped.
            let_imported_role_use_queues(self.data_key, app.task_role)
        self.alarms.load_balancer_5xx(app.load_balancer)
        self.publish(LB_DNS, app.load_balancer.load_balancer_dns_name, "Load balancer DNS name")
        self.publish(
            LB_ZONE,
            app.load_balancer.load_balancer_canonical_hosted_zone_id,
            "Load balancer canonical hosted zone id",
        )
        self.publish(LB_ARN, app.load_balancer.load_balancer_arn, "Load balancer ARN")
        if self.tier.has_recovery_stack:
            self._plan_actions()
        return app

    def _certificate(self) -> acm.ICertificate | None:
        """The load balancer's certificate for the tier's entry name: the one given for this
        region, or one validated by DNS in the user's zone (a rebuild uses the one its
        recovery-base stack made beforehand, in this same region). None without either: a
        zone created here is not delegated yet and cannot validate one."""
        arn = self.config.certificate_arns.get(self.region)
        if arn is None and self.rebuilding and self.config.hosted_zone_id is not None:
            arn = Fn.get_stack_output(f"{self.names}-recovery-base", REBUILD_CERTIFICATE)
        if arn is not None:
            return acm.Certificate.from_certificate_arn(self, "Certificate", arn)
        if self.config.hosted_zone_id is None:
            return None
        return validated_certificate(self)

    def _plan_actions(self) -> None:
        """The function the tier's Region switch plan invokes here (same name in P and R); in R
        of a tier that fails over by itself, the probe of P and the alarm that starts the plan."""
        regions = (self.config.primary_region, self.config.recovery_region)
        automatic = self.role is StackRole.RECOVERY and self.tier.automatic_failover
        dimensions = declared_dimensions(self.config.app_name, self.tier.name)
        if automatic:
            self.alarms.primary_down(dimensions)
        PlanActions(
            self,
            "PlanActions",
            function_name=self.resource_name(PLAN_ACTIONS),
            account=self.config.account,
            table_arns=[self._control_arn(r) for r in regions],
            services=[
                (r, self.resource_name(role), self.resource_name(APP_SERVICE))
                for r, role in zip(regions, ("primary", "recovery"), strict=True)
            ],
            declared_namespace=DECLARED_NAMESPACE,
            accelerator=self.tier.entry_point is EntryPoint.ACCELERATOR,
            log_key=self.data_key,
            # Its log groups have fixed names: kept when the stack goes, but not when its first
            # create rolls back, or the retry meets them (rules.kept_on_failed_create).
            removal_policy=self.retain_policy,
            probe=(regions[0], self.resource_name("primary"), self.resource_name(APP_SERVICE))
            if automatic
            else None,
            probe_seconds=PROBE_SECONDS,
            probe_dimensions=dimensions,
            reserved_concurrency=PLAN_CONCURRENCY if self.config.reserve_concurrency else None,
            plan_start=(
                self.names,
                *regions,
                alarm_name(self.resource_name(self.role), PRIMARY_DOWN),
            )
            if automatic
            else None,
            # Failback moves what R's work queues still hold to P's. The plan does it where
            # R's tasks stop (pilot light, once P's run again); warm standby's runbook does it
            # once Route 53 has moved traffic, and multi-site's R keeps consuming.
            forward=(
                (regions[1], self.resource_name("recovery")),
                (regions[0], self.resource_name("primary")),
            )
            if self.tier.queues_in_recovery
            and self.config.workload.queues
            and self.tier.recovery_compute is RecoveryCompute.ZERO
            else None,
            **self._replica_actions(regions),
        )

    def _replica_actions(self, regions: tuple[str, str]) -> dict[str, Any]:
        """A tier whose plan makes RDS replicas again (its replica block): the function sets
        each up as its stack did and points P's proxy at the one under P's identifier."""
        replicas = self.tier.recovery_database is RecoveryDatabase.READ_REPLICA
        if not replicas or self.config.workload.database is None:
            return {}
        identifier = self.resource_name("db")
        return {
            "instances": [(region, identifier) for region in regions],
            "proxy": (regions[0], identifier),
            "scope_tags": scope_tags(self.config.app_name, self.tier),
        }

    def _queues(self) -> list[tuple[str, WorkQueue]]:
        """The workload's queues, each with its dead-letter alarm: (environment suffix, queue)."""
        queues = []
        for spec in self.config.workload.queues:
            queue = WorkQueue(
                self,
                "Work" + suffix(spec.name, QUEUE),
                key=self.data_key,
                retention_days=spec.retention_days,
                dlq_retention_days=spec.dead_letter_retention_days,
                max_receive_count=spec.max_receive_count,
                visibility_timeout_seconds=spec.visibility_timeout_seconds,
                queue_name=self._fixed(spec.name),
                removal_policy=self.retain_policy,
            )
            self.alarms.dead_letters(queue.dead_letter_queue, suffix(spec.name, QUEUE))
            self.alarms.queue_backlog(queue.queue, suffix(spec.name, QUEUE))
            queues.append((env_suffix(spec.name, QUEUE), queue))
        return queues

    def _placement(self, spec: DatabaseSpec) -> _Placement:
        """What every database of this stack is given: engine, network, key and keeping."""
        return _Placement(
            engine=engine_of(spec),
            vpc=self.network.vpc,
            subnets=self.network.data_subnets,
            key=self.data_key,
            backup_retention_days=spec.backup_retention_days,
            deletion_protection=self.deletion_protection,
        )

    def _proxy(
        self,
        spec: DatabaseSpec,
        *,
        database_group: ec2.ISecurityGroup,
        resource_id: str,
        instances: Sequence[str] = (),
        clusters: Sequence[str] = (),
        read_only: bool = False,
    ) -> DatabaseWiring:
        """RDS Proxy in front of the database (``resource_id`` names its users in IAM), with
        IAM authentication as the application's user; returns how the app connects through
        it. A rebuild's proxy uses the role made beforehand."""
        proxy = DatabaseProxy(
            self,
            "Proxy",
            engine=engine_of(spec),
            proxy_name=self.resource_name("proxy"),
            vpc=self.network.vpc,
            subnets=self.network.data_subnets,
            database_resource_id=resource_id,
            database_user=APP_DB_USER,
            wildcard_reason=INSTANCE_GRANT_REASON,
            role=self._rebuild_role("proxy"),
            database_security_group=database_group,
            instance_identifiers=instances,
            cluster_identifiers=clusters,
            read_only_endpoint=read_only,
            max_connections_percent=proxy_share(self.tier),
        )
        return DatabaseWiring(
            endpoint=proxy.endpoint,
            port=proxy.port,
            security_group=proxy.security_group,
            reaches="To RDS Proxy: the database's read/write and read-only endpoints",
            # IAM database auth through this proxy only, as the application's database user.
            user_id=Fn.select(6, Fn.split(":", proxy.proxy.attr_db_proxy_arn)),
            reader=proxy.read_only_endpoint,
        )

    def _dax(
        self, app: AppService, tables: Sequence[tuple[TableSpec, str]], *, full_size: bool
    ) -> list[tuple[str, DaxCluster]]:
        """A DAX cluster for each of ``tables`` (spec, ARN in this region) that asks for one,
        open to the app, with the table's node type or (not ``full_size``) its recovery one:
        (environment suffix, cluster)."""
        return [
            (
                env_suffix(spec.name, TABLE),
                DaxCluster(
                    self,
                    "Dax" + suffix(spec.name, TABLE),
                    vpc=self.network.vpc,
                    subnets=self.network.data_subnets,
                    table_arn=table_arn,
                    node_type=spec.dax.node_type if full_size else spec.dax.recovery_node_type,
                    replication_factor=spec.dax.nodes,
                    availability_zones=self.availability_zones,
                    client_security_groups=[app.security_group],
                    role=self._rebuild_role("dax"),
                ),
            )
            for spec, table_arn in tables
            if spec.dax is not None
        ]

    def _join_accelerator(self, listener_arn: str, app: AppService) -> None:
        """A rebuilt primary joins the accelerator's listener it is given (the edge stack may be
        in the lost region, so it reads nothing from it)."""
        AcceleratorEndpointGroup(
            self,
            "EndpointGroup",
            listener_arn=listener_arn,
            load_balancer_arn=app.load_balancer.load_balancer_arn,
            endpoint_group_region=self.region,
            health_check_path=self.config.service.health_check_path,
            https=app.https,
        )


def _app_table(spec: TableSpec, name: str, arn: str) -> AppTable:
    """A table as the app is told of it: TABLE_NAME<suffix>, or CONTROL_TABLE_NAME for the
    control table."""
    if spec is CONTROL_TABLE_SPEC:
        return AppTable(variable=CONTROL_TABLE_VARIABLE, name=name, arn=arn)
    return AppTable(variable="TABLE_NAME" + env_suffix(spec.name, TABLE), name=name, arn=arn)


class PrimaryStack(_RegionalStack):
    """Region P: everything at full capacity, and the backup plan that copies to R."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: DrConfig,
        tier: TierSpec,
        base: RecoveryBaseStack,
    ) -> None:
        super().__init__(
            scope,
            config=config,
            tier=tier,
            role=StackRole.PRIMARY,
            region=config.primary_region,
            description="primary region at full capacity",
        )
        self.add_stack_dependency(base, "table replica key and backup copy vault live there")
        if config.assumptions:  # in the manifest, for whoever reads the assembly (estimate)
            self.node.add_metadata(FIGURES_METADATA, dict(config.assumptions))
        self._foundation()
        # The app subnets keep their VPC's default ACL: what the network drill must restore.
        self.publish(
            APP_NETWORK_ACL,
            self.network.vpc.vpc_default_network_acl,
            "Network ACL of the app subnets (the VPC's default)",
        )
        database = self._database(base)
        self._route_database_events()
        if tier.has_recovery_stack:  # failback runs the plan from here
            self.plan_rule = self.events.plan_executions(self.resource_name("plan-executions"))
        self._tables(base)
        queues = self._queues()
        full = config.workload.service.tasks.full
        app = self._app(full, 2 * full)
        if database is not None:
            connect_database(self, app, database)
        dax = self._dax(app, [(s, t.table_arn) for s, t in self.tables], full_size=True)
        grant_app(
            app,
            tables=[_app_table(s, t.table_name, t.table_arn) for s, t in self.tables],
            control=_app_table(
                CONTROL_TABLE_SPEC, self.control_table.table_name, self.control_table.table_arn
            ),
            control_elsewhere=self._control_elsewhere(),
            queues=queues,
            dax=dax,
            keys=[self.data_key],
            database=database,
        )
        self._backups(base)
        if config.restore_from is not None:
            self._join_accelerator(config.restore_from.listener_arn, app)
        elif config.replicated_image is not None:
            self._replicate_image(config.replicated_image.repository)

    def _replicate_image(self, repository: str) -> None:
        """ECR copies the image to the recovery region's registry of this account as it is
        pushed, so R's tasks pull it there when P is lost (README, "Your workload")."""
        ImageReplication(
            self,
            "ImageReplication",
            repository=repository,
            destination=self.config.recovery_region,
            account=self.config.account,
            log_key=self.data_key,
            removal_policy=self.retain_policy,
        )

    def _database(self, base: RecoveryBaseStack) -> DatabaseWiring | None:
        """The workload's database as the tier lays it out (a Multi-AZ instance, or an Aurora
        global cluster), behind RDS Proxy; None without one. Records the identities R and the
        backup plan name it by."""
        self.database_arn: str | None = None
        self.db_identifier: str | None = None
        self.global_cluster_identifier: str | None = None
        spec = self.config.workload.database
        if spec is None:
            return None
        # The admin secret replicates to R exactly when the tier has a recovery stack.
        secret_replicas = (
            {self.config.recovery_region: base.replica_key_arn}
            if self.tier.has_recovery_stack
            else None
        )
        if self.tier.relational is Relational.RDS_INSTANCE:
            return self._multi_az_database(spec, secret_replicas)
        return self._aurora_primary(spec, secret_replicas)

    def _multi_az_database(
        self, spec: DatabaseSpec, secret_replicas: dict[str, str] | None
    ) -> DatabaseWiring:
        """A Multi-AZ instance (restored from its snapshot in a rebuild) and its proxy, which
        reaches any instance of the region (failback re-creates it under a new resource id)."""
        self.db_identifier = self.resource_name("db")
        restore_from = self.config.restore_from
        database = MultiAzDatabase(
            self,
            "Database",
            **self._placement(spec),
            instance_identifier=self.db_identifier,
            rotation_subnets=self.network.app_subnets,
            instance_type=ec2.InstanceType(spec.instance_class.removeprefix("db.")),
            allocated_storage_gib=spec.storage_gb,
            snapshot_identifier=restore_from.database_snapshot if restore_from else None,
            monitoring_role=self._rebuild_role("monitoring"),
            rotate=not self.rebuilding,
            secret_replicas=secret_replicas,
            removal_policy=self.snapshot_policy,
        )
        self.database_arn = database.instance.instance_arn
        self.alarms.database_cpu("DBInstanceIdentifier", database.instance.instance_identifier)
        return self._proxy(
            spec,
            database_group=database.security_group,
            resource_id=ANY_INSTANCE,
            instances=[database.instance.instance_identifier],
        )

    def _aurora_primary(
        self, spec: DatabaseSpec, secret_replicas: dict[str, str] | None
    ) -> DatabaseWiring:
        """The primary cluster of an Aurora global database and its proxy."""
        self.global_cluster_identifier = self.resource_name("global")
        aurora = AuroraGlobalPrimary(
            self,
            "Database",
            **self._placement(spec),
            global_cluster_identifier=self.global_cluster_identifier,
            cluster_identifier=self.resource_name(self.role),
            rotation_subnets=self.network.app_subnets,
            instance_type=ec2.InstanceType(spec.aurora_class.removeprefix("db.")),
            secret_replicas=secret_replicas,
            removal_policy=self.snapshot_policy,
        )
        self.database_arn = aurora.cluster.cluster_arn
        self.alarms.database_cpu("DBClusterIdentifier", aurora.cluster.cluster_identifier)
        return self._proxy(
            spec,
            database_group=aurora.security_group,
            resource_id=aurora.cluster.cluster_resource_identifier,
            clusters=[aurora.cluster.cluster_identifier],
        )

    def _tables(self, base: RecoveryBaseStack) -> None:
        """The workload's tables, then the control table, replicated to R where the tier keeps
        a replica there."""
        replica_keys = (
            {self.config.recovery_region: base.replica_key_arn}
            if self.tier.table_replica_in_recovery
            else None
        )
        self.tables: list[tuple[TableSpec, dynamodb.ITableV2]] = [
            (spec, self._table(spec, replica_keys)) for spec in self.config.workload.tables
        ]
        self.control_table = self._table(CONTROL_TABLE_SPEC, replica_keys)

    def _table(self, spec: TableSpec, replica_keys: dict[str, str] | None) -> dynamodb.ITableV2:
        """A table of the workload (or the control table) under its fixed name
        ``<app>-<tier>-<name>``, with its replication-latency alarm where it replicates."""
        name = self.resource_name(spec.name)
        own_id = "Control" if spec is CONTROL_TABLE_SPEC else "Table" + suffix(spec.name, TABLE)
        table: dynamodb.ITableV2
        if self.config.restore_from:  # restored from its backup copy before this stack deploys
            table = dynamodb.TableV2.from_table_name(self, own_id, name)
        else:
            table = GlobalTable(
                self,
                own_id,
                # The control table's one item is read across regions by every task (the
                # fence): the AWS managed key lets any caller DynamoDB serves in the account
                # decrypt it, so no cross-region key grant can shut a region's tasks out.
                key=None if spec is CONTROL_TABLE_SPEC else self.data_key,
                table_name=name,
                partition_key=_attribute(spec.partition_key),
                sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
                billing=_billing(spec),
                replica_keys=replica_keys,
                deletion_protection=self.deletion_protection,
                removal_policy=self.retain_policy,
                witness_region=self._witness(spec) if replica_keys else None,
            ).table
        # A strongly consistent table's write returns once another region has it: no lag.
        if replica_keys and spec is not CONTROL_TABLE_SPEC and spec.consistency != "strong":
            self.alarms.table_replication_latency(
                table.table_name, self.config.recovery_region, suffix(spec.name, TABLE)
            )
        return table

    def _witness(self, spec: TableSpec) -> str | None:
        """The witness region of a table of multi-Region strong consistency, else None."""
        if spec.consistency != "strong" or not self.tier.strong_tables:
            return None
        return witness_region(spec, self.config.primary_region, self.config.recovery_region)

    def _backups(self, base: RecoveryBaseStack) -> None:
        """The vault here and the plan that backs up the database and tables, copying to R's
        vault (a rebuild copies to the old primary's vault, which exists once that region is
        back)."""
        # A rebuild keeps its vault (below), and the key its recovery points are encrypted with.
        kept = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if self.rebuilding else self.retain_policy
        vault_key = DataKey(
            self,
            "VaultKey",
            description="Backups in the primary region",
            removal_policy=kept,
        )
        vault = BackupVault(
            self,
            "Vault",
            vault_name=self._fixed("backups") or self.resource_name("backups"),
            key=vault_key.key,
            # A rebuild's vault holds the event's backups when retire-rebuild deletes the
            # stack, and a vault is deleted only empty: kept, sandbox too (its name is the
            # event's).
            removal_policy=kept,
        )
        old_primary_vault = self.arn(
            "backup", self.config.recovery_region, f"backup-vault:{self.resource_name('backups')}"
        )
        CrossRegionBackupPlan(
            self,
            "Backup",
            vault=vault.vault,
            copy_vault_arn=old_primary_vault if self.rebuilding else base.vault_arn,
            resource_arns=[
                *([self.database_arn] if self.database_arn else []),
                *(table.table_arn for _, table in self.tables),
                self.control_table.table_arn,
            ],
            role_name=self.resource_name("backup"),
            existing_role=self.config.restore_from is not None,
            retention_days=self.config.workload.backups.retention_days,
            frequency_hours=self.config.backup_interval(self.tier),
            air_gapped_vault_arn=self._air_gapped_vault(),
        )

    def _air_gapped_vault(self) -> str | None:
        """The recovery-base stack's air-gapped vault, where the workload asks for one (a
        rebuild copies to the old primary's region, which has none)."""
        if not self.config.workload.backups.air_gapped or self.rebuilding:
            return None
        name = air_gapped_name(self.names, self.config.workload.backups.retention_days)
        return self.arn("backup", self.config.recovery_region, f"backup-vault:{name}")


_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _attribute(key: KeySpec) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def engine_of(database: DatabaseSpec) -> Engine:
    return engine(database.engine, database.version)


def _billing(spec: TableSpec) -> dynamodb.Billing:
    if spec.capacity is None:
        return dynamodb.Billing.on_demand()
    return dynamodb.Billing.provisioned(
        read_capacity=dynamodb.Capacity.fixed(spec.capacity.read),
        write_capacity=dynamodb.Capacity.autoscaled(
            min_capacity=spec.capacity.write_min, max_capacity=spec.capacity.write_max
        ),
    )


class RecoveryStack(_RegionalStack):
    """Region R: live data (replica or Aurora secondary) and the app at the tier's capacity."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: DrConfig,
        tier: TierSpec,
        primary: PrimaryStack,
        base: RecoveryBaseStack,
    ) -> None:
        super().__init__(
            scope,
            config=config,
            tier=tier,
            role=StackRole.RECOVERY,
            region=config.recovery_region,
            description="recovery region: " + tier.summary,
        )
        self._foundation()
        self.add_stack_dependency(primary, "replicates the primary's data")
        database = self._database(primary)
        self.add_restore_tests(
            base.vault_arn,
            Placement(
                self.network.vpc.vpc_id,
                self.network.vpc.select_subnets(subnet_group_name=DATA).subnet_ids,
                config.availability_zones[self.region],
            ),
        )
        self._route_database_events()
        # failover runs the plan from here
        self.plan_rule = self.events.plan_executions(self.resource_name("plan-executions"))
        self.writable_alarm = self._writable_alarm()
        queues = self._queues() if tier.queues_in_recovery else []
        # The same ceiling as P's: failed over, R takes P's load, peaks included (the plan's
        # ECS block matches the most tasks P ran in the last 24 hours).
        app = self._app(self._desired_tasks(), 2 * config.workload.service.tasks.full)
        self._wait_for_image(app)
        if database is not None:
            connect_database(self, app, database)
        # The primary's tables replicate here under the same names.
        tables = [(spec, self._replica(spec)) for spec in config.workload.tables]
        dax = self._dax(
            app,
            [(spec, table.arn) for spec, table in tables] if tier.dax_in_recovery else [],
            full_size=tier.recovery_full_size,
        )
        grant_app(
            app,
            tables=[table for _, table in tables],
            control=self._replica(CONTROL_TABLE_SPEC),
            control_elsewhere=self._control_elsewhere(),
            queues=queues,
            dax=dax,
            keys=[self.data_key],
            key_aliases=[base.replica_key_alias],
            database=database,
        )

    def _wait_for_image(self, app: AppService) -> None:
        """The service starts only once the image's copy is here (README, "Your workload")."""
        image = self.config.replicated_image
        if image is None:
            return
        check = ImageCopyCheck(
            self,
            "ImageCopy",
            repository=image.repository,
            reference=image.pinned_by,
            repository_arn=image.repository_arn(self.region),
            log_key=self.data_key,
            removal_policy=self.retain_policy,
        )
        app.service.node.add_dependency(check.resource)

    def _database(self, primary: PrimaryStack) -> DatabaseWiring | None:
        """What the primary's database keeps here: a cross-region replica of its instance, or
        the secondary cluster of its global database; None without a database."""
        spec = self.config.workload.database
        if spec is not None and primary.db_identifier is not None:
            return self._replica_database(spec, primary.region, primary.db_identifier)
        if spec is not None and primary.global_cluster_identifier is not None:
            return self._aurora_secondary(spec, primary.global_cluster_identifier)
        return None

    def _replica_database(
        self, spec: DatabaseSpec, source_region: str, identifier: str
    ) -> DatabaseWiring:
        """A read replica of the primary's instance, under its identifier. Pilot light has no
        proxy here: the app reaches the replica (then the writer) directly, on any instance of
        the region (failback re-creates it under a new resource id)."""
        replica = CrossRegionReplica(
            self,
            "Database",
            **self._placement(spec),
            source_instance_arn=self.arn("rds", source_region, f"db:{identifier}"),
            source_region=source_region,
            instance_identifier=identifier,
            instance_class=spec.replica_class,
            removal_policy=self.retain_policy,
        )
        self.alarms.replica_lag(replica.instance.ref)
        # Read-only until promoted; the same endpoint takes writes afterwards.
        return DatabaseWiring(
            endpoint=replica.instance.attr_endpoint_address,
            port=replica.port,
            security_group=replica.security_group,
            reaches="To the database directly: the replica, the writer once promoted (no proxy)",
            user_id=ANY_INSTANCE,
        )

    def _aurora_secondary(self, spec: DatabaseSpec, global_cluster: str) -> DatabaseWiring:
        """The secondary cluster of the global database, at full size or smaller as the tier
        says, and its proxy. Writes go to the read/write endpoint, which takes them once this
        cluster is promoted; reads may use the read-only one while there are readers."""
        full_size = self.tier.recovery_full_size
        secondary = AuroraGlobalSecondary(
            self,
            "Database",
            **self._placement(spec),
            global_cluster_identifier=global_cluster,
            cluster_identifier=self.resource_name(self.role),
            reader_count=2 if full_size else 1,
            instance_class=spec.aurora_class if full_size else spec.aurora_secondary_class,
            write_forwarding=self.tier.aurora_write_forwarding,
            removal_policy=self.snapshot_policy,
        )
        database = self._proxy(
            spec,
            database_group=secondary.security_group,
            resource_id=secondary.cluster.attr_db_cluster_resource_id,
            clusters=[secondary.cluster_identifier],
            read_only=True,
        )
        self.alarms.global_database_lag(secondary.cluster_identifier)
        return database

    def _writable_alarm(self) -> AlarmRef | None:
        """The alarm DNS failover follows (traffic to R once it takes writes, and back only
        after it stops); the accelerator tier holds a returning P off with its dial instead."""
        if self.tier.entry_point is not EntryPoint.DNS_FAILOVER:
            return None
        name = self.alarms.recovery_writable(
            declared_dimensions(self.config.app_name, self.tier.name)
        )
        # By its fixed name, not a reference: the edge stack may share this region (P in
        # us-west-2), where a reference becomes an import that ties the two stacks together.
        return AlarmRef(self.region, name)

    def _desired_tasks(self) -> int:
        """The app's tasks here: as the tier's recovery compute says, or full capacity when
        deployed during an event (minimum included)."""
        tasks = self.config.workload.service.tasks
        if self.config.failed_over:
            return tasks.full
        return {
            RecoveryCompute.ZERO: 0,
            RecoveryCompute.REDUCED: tasks.reduced,
            RecoveryCompute.FULL: tasks.full,
        }[self.tier.recovery_compute]

    def _replica(self, spec: TableSpec) -> AppTable:
        """The primary's table as it replicates here, under the same name."""
        name = self.resource_name(spec.name)
        return _app_table(spec, name, self.arn("dynamodb", self.region, f"table/{name}"))
