"""Relational: a Multi-AZ RDS instance, its cross-region read replica, and an Aurora global
database (writer cluster in P, secondary cluster in R), for PostgreSQL or MySQL.

Each construct takes ``engine`` (drtiers.constructs.engines; default PostgreSQL 17, what every
template was built with before MySQL): the versions pinned in drtiers/data/engines.json, which
cfn-lint does not flag as deprecated (W3691/W3690). Every database is encrypted with a
customer-managed key, never publicly accessible, TLS-only (``rds.force_ssl`` for PostgreSQL,
``require_secure_transport`` for MySQL), deletion-protected and kept (snapshot or retain) on
delete unless the caller opts out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IConstruct

from drtiers.constructs.engines import DEFAULT_ENGINE, Engine
from drtiers.constructs.lint import acknowledge
from drtiers.constructs.retention import kept

# PostgreSQL's ports (the default engine's): not the engine default (Control Tower CT.RDS.PR.20,
# cdk-nag RDS11). RDS Proxy itself always listens on 5432 for PostgreSQL and connects to its
# targets on this port. A MySQL database's are its engine's port and proxy_port (3312, 3306).
DATABASE_PORT = DEFAULT_ENGINE.port
PROXY_PORT = DEFAULT_ENGINE.proxy_port
MONITORING_INTERVAL_SECONDS = 60
ENHANCED_MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"
ADMIN_USER = "dbadmin"
# Share of the writer's connections Aurora reserves for forwarded writes (the default of
# aurora_fwd_writer_max_connections_pct); RDS Proxy must leave it free. Source:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-gdb.html (2026-11-27).
# Aurora MySQL 3 has a parameter of the same name; that its default is also 10 is unverified.
WRITE_FORWARDING_RESERVED_PERCENT = 10
# Backtracking, which cdk-nag (AwsSolutions-RDS14) and Control Tower (CT.RDS.PR.6) ask of every
# Aurora MySQL cluster, is not available to a cluster in a global database. Source:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.html
# (Limitations of Amazon Aurora Global Database; the stored copy's list was not readable on
# 2026-11-29, unverified).
NO_BACKTRACK = (
    "Aurora global databases do not support backtracking; the cluster's automated backups "
    "(point-in-time restore) and the cross-region copies stand in for it."
)


def instance_engine(engine: Engine) -> rds.IInstanceEngine:
    """The L2 engine of an RDS instance, at the pinned version: the CDK's named version where
    it has one, else ``.of`` (the same template either way)."""
    if engine.is_postgresql:
        pg = getattr(rds.PostgresEngineVersion, _enum_name(engine.rds_version), None)
        if pg is None or pg.postgres_full_version != engine.rds_version:
            pg = rds.PostgresEngineVersion.of(engine.rds_version, engine.major)
        return rds.DatabaseInstanceEngine.postgres(version=pg)
    my = getattr(rds.MysqlEngineVersion, _enum_name(engine.rds_version), None)
    if my is None or my.mysql_full_version != engine.rds_version:
        my = rds.MysqlEngineVersion.of(engine.rds_version, engine.major)
    return rds.DatabaseInstanceEngine.mysql(version=my)


def cluster_engine(engine: Engine) -> rds.IClusterEngine:
    """The L2 engine of an Aurora cluster, at the pinned version (named or ``.of``)."""
    version = engine.aurora_version
    if engine.is_postgresql:
        apg = getattr(rds.AuroraPostgresEngineVersion, _enum_name(version), None)
        if apg is None or apg.aurora_postgres_full_version != version:
            apg = rds.AuroraPostgresEngineVersion.of(version, engine.major)
        return rds.DatabaseClusterEngine.aurora_postgres(version=apg)
    # 8.0.mysql_aurora.3.12.0 is VER_3_12_0; 8.4.mysql_aurora.8.4.8 has no name in the pinned CDK
    ams = getattr(
        rds.AuroraMysqlEngineVersion, _enum_name(version.split(".mysql_aurora.")[-1]), None
    )
    if ams is None or ams.aurora_mysql_full_version != version:
        ams = rds.AuroraMysqlEngineVersion.of(version, engine.major)
    return rds.DatabaseClusterEngine.aurora_mysql(version=ams)


def _enum_name(version: str) -> str:
    return "VER_" + version.replace(".", "_").replace("-", "_").upper()


def _database_security_group(
    scope: Construct, vpc: ec2.IVpc, what: str, engine: Engine
) -> ec2.SecurityGroup:
    return ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=vpc,
        description=f"{what}: {engine.label} from its clients only",
        allow_all_outbound=False,
    )


def _admin_secret(
    scope: Construct,
    key: kms.IKey,
    replicas: Mapping[str, str] | None,
    removal_policy: RemovalPolicy,
) -> rds.DatabaseSecret:
    """The admin credentials, kept with the database and replicated where asked: each replica
    under a customer-managed key of its own region. Replicas are set on the L1 because the L2
    takes an IKey, and another region's key can only be named by ARN."""
    secret = rds.DatabaseSecret(scope, "Secret", username=ADMIN_USER, encryption_key=key)
    if replicas:
        cfn = secret.node.default_child
        assert isinstance(cfn, secretsmanager.CfnSecret)
        cfn.replica_regions = [
            secretsmanager.CfnSecret.ReplicaRegionProperty(region=region, kms_key_id=key_arn)
            for region, key_arn in sorted(replicas.items())
        ]
    secret.apply_removal_policy(kept(removal_policy))
    return secret


def monitoring_role_name(instance_identifier: str, region: str) -> str:
    """The enhanced-monitoring role of the instance ``instance_identifier`` in ``region``."""
    return f"{instance_identifier}-monitoring-{region}"


def _monitoring_role(scope: Construct, instance_identifier: str | None = None) -> iam.Role:
    """The role RDS enhanced monitoring publishes OS metrics with. An instance's is named for it
    and its region (``<identifier>-monitoring-<region>``): the plan's function passes it to a
    replica made anew under that identifier, and may pass only that role (iam:PassRole on its
    ARN; a name CloudFormation makes is the stack's and logical id's, cut to fit, not a prefix
    a policy can name)."""
    region = Stack.of(scope).region
    role = iam.Role(
        scope,
        "MonitoringRole",
        role_name=monitoring_role_name(instance_identifier, region)
        if instance_identifier
        else None,
        assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com"),
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name(ENHANCED_MONITORING_POLICY)
        ],
    )
    acknowledge(
        role.node.default_child,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
        f"{ENHANCED_MONITORING_POLICY}]",
        "AWS's own policy for enhanced monitoring: it only lets RDS write OS metrics to the "
        "RDSOSMetrics log group, and AWS keeps it current.",
        checker="cdk-nag",
    )
    return role


def _rotate(
    scope: Construct,
    *,
    secret: rds.DatabaseSecret,
    attachment: secretsmanager.ISecret | None,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    database_group: ec2.SecurityGroup,
    engine: Engine,
    writer: IConstruct | None = None,
) -> None:
    """Rotate the admin password every 30 days with Secrets Manager's hosted rotation (the
    engine's single-user rotation function), from subnets that reach the Secrets Manager
    endpoint, once the database is in the secret.

    ``attachment`` is the database's attached secret (``instance.secret``, ``cluster.secret``):
    the SecretTargetAttachment that writes engine, host and port into the secret, without which
    the rotation function cannot find the database. CloudFormation asks for a DependsOn on it:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-rotationschedule.html
    (read 2026-11-28). ``writer`` is a cluster's writer instance: the attachment follows the
    cluster, but the deploy's testSecret logs in through the cluster's endpoint, which answers
    only once its writer instance exists.
    """
    if not isinstance(attachment, secretsmanager.SecretTargetAttachment):
        raise TypeError(
            f"{scope.node.path}: rotation needs the database's SecretTargetAttachment, "
            f"got {attachment!r}"
        )
    group = _rotation_security_group(scope, vpc=vpc, database_group=database_group, engine=engine)
    single_user = (
        secretsmanager.HostedRotation.postgre_sql_single_user
        if engine.is_postgresql
        else secretsmanager.HostedRotation.mysql_single_user
    )
    # Scheduled on the secret itself, not on the attachment, so that the schedule keeps its
    # logical id (a new id would replace the schedule of a deployed secret).
    schedule = secret.add_rotation_schedule(
        "Rotation",
        automatically_after=Duration.days(30),
        # Not at deploy: the first password was generated by Secrets Manager and never left it,
        # so rotating at once gains nothing, and every later schedule update would change the
        # admin password mid-deploy while the recovery region's replica catches up. Without it
        # Secrets Manager still runs the function's testSecret step, so a broken rotation path
        # fails at deploy: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html
        # (RotateImmediately, read 2026-11-28).
        rotate_immediately_on_update=False,
        hosted_rotation=single_user(vpc=vpc, vpc_subnets=subnets, security_groups=[group]),
    )
    schedule.node.add_dependency(attachment, *([writer] if writer is not None else []))


def _rotation_security_group(
    scope: Construct, *, vpc: ec2.IVpc, database_group: ec2.SecurityGroup, engine: Engine
) -> ec2.SecurityGroup:
    """The rotation function's group: to the database (which lets it in) and, over HTTPS, to
    Secrets Manager."""
    group = ec2.SecurityGroup(
        scope,
        "RotationSecurityGroup",
        vpc=vpc,
        description="Secret rotation: to the database and Secrets Manager",
        allow_all_outbound=False,
    )
    database_group.add_ingress_rule(group, ec2.Port.tcp(engine.port), "From secret rotation")
    group.add_egress_rule(
        database_group, ec2.Port.tcp(engine.port), "To the database whose password it rotates"
    )
    group.add_egress_rule(
        ec2.Peer.any_ipv4(),
        ec2.Port.tcp(443),
        "Secrets Manager's API over HTTPS, through the NAT gateway: the VPC has no interface "
        "endpoints",
    )
    return group


def _subnet_group(
    scope: Construct, *, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, what: str
) -> rds.SubnetGroup:
    """The subnet group (``Subnets``) of the database ``what`` describes."""
    return rds.SubnetGroup(
        scope, "Subnets", vpc=vpc, vpc_subnets=subnets, description=f"Isolated subnets for {what}"
    )


def _aurora_parameters(engine: Engine) -> dict[str, str]:
    """An Aurora cluster's parameters: TLS only, and the engine's own."""
    return {**dict(engine.aurora_tls), **dict(engine.aurora_cluster_parameters)}


def _check_retention(owner: str, days: int) -> None:
    if not 1 <= days <= 35:
        raise ValueError(f"{owner}: backup_retention_days {days} is outside 1..35 (RDS limits)")


def _check_global(owner: str, engine: Engine) -> None:
    if not engine.aurora_global_database:
        raise ValueError(
            f"{owner}: Aurora {engine.name} ({engine.aurora_version}) does not support global "
            "databases (drtiers/data/engines.json)"
        )


def _no_backtrack(cluster: object, engine: Engine) -> None:
    """Acknowledge, on an Aurora MySQL cluster of a global database, the checks that ask for
    backtracking (Aurora PostgreSQL has none, and no check asks it)."""
    if engine.is_postgresql:
        return
    if not isinstance(cluster, rds.CfnDBCluster):
        raise TypeError(f"acknowledge backtracking: {cluster!r} is not a CfnDBCluster")
    acknowledge(cluster, "AwsSolutions-RDS14", NO_BACKTRACK, checker="cdk-nag")
    acknowledge(cluster, "aurora_cluster_backtracking_enabled_check", NO_BACKTRACK, checker="guard")


class MultiAzDatabase(Construct):
    """A Multi-AZ RDS for PostgreSQL or MySQL instance with its credentials in Secrets Manager.

    :param engine: the engine and major version (drtiers.constructs.engines.engine). Default
        PostgreSQL 17.
    :param instance_identifier: fixed name, so the recovery region can address the instance by
        ARN without a deploy-time reference (see docs/decisions.md). Changing it replaces the DB.
    :param rotation_subnets: subnets with a route to Secrets Manager, for password rotation.
    :param instance_type: default db.m7g.large.
    :param backup_retention_days: automated backups and PITR window, 1..35. Default 14.
    :param secret_replicas: region -> KMS key (ARN or alias ARN) there, for replicas of the
        credentials secret. Default: none.
    :param monitoring_role: the enhanced-monitoring role to use. Default: one is created.
    :param rotate: rotate the admin password every 30 days (hosted rotation creates a function
        and its role). Default True.
    :param snapshot_identifier: restore from this snapshot (ARN), e.g. an AWS Backup recovery
        point copied to this region, instead of starting empty. It keeps the snapshot's
        encryption key and data; the admin password is set from the new secret.
    :param removal_policy: default SNAPSHOT; the secret is always retained with it.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        key: kms.IKey,
        instance_identifier: str,
        rotation_subnets: ec2.SubnetSelection,
        instance_type: ec2.InstanceType | None = None,
        allocated_storage_gib: int = 100,
        backup_retention_days: int = 14,
        secret_replicas: Mapping[str, str] | None = None,
        snapshot_identifier: str | None = None,
        monitoring_role: iam.IRole | None = None,
        rotate: bool = True,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.SNAPSHOT,
        engine: Engine = DEFAULT_ENGINE,
    ) -> None:
        super().__init__(scope, id_)
        _check_retention("MultiAzDatabase", backup_retention_days)
        self.engine = engine
        self.port = engine.port
        self.security_group = _database_security_group(
            self, vpc, f"Multi-AZ {engine.label}", engine
        )
        self.secret = _admin_secret(self, key, secret_replicas, removal_policy)
        props = self._instance_props(
            vpc=vpc,
            subnets=subnets,
            instance_identifier=instance_identifier,
            instance_type=instance_type,
            allocated_storage_gib=allocated_storage_gib,
            backup_retention_days=backup_retention_days,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
            monitoring_role=monitoring_role,
        )
        self.instance: rds.DatabaseInstanceBase = (
            self._new_instance(props, key=key)
            if snapshot_identifier is None
            else self._restored_instance(props, snapshot_identifier=snapshot_identifier)
        )
        if rotate:
            _rotate(
                self,
                secret=self.secret,
                attachment=self.instance.secret,
                vpc=vpc,
                subnets=rotation_subnets,
                database_group=self.security_group,
                engine=engine,
            )

    def _instance_props(
        self,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        instance_identifier: str,
        instance_type: ec2.InstanceType | None,
        allocated_storage_gib: int,
        backup_retention_days: int,
        deletion_protection: bool,
        removal_policy: RemovalPolicy,
        monitoring_role: iam.IRole | None,
    ) -> dict[str, Any]:
        """What a new and a restored instance share: everything but data and credentials
        (this makes the parameter group and, unless given, the monitoring role)."""
        l2_engine = instance_engine(self.engine)
        return dict(
            engine=l2_engine,
            instance_identifier=instance_identifier,
            instance_type=instance_type
            or ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[self.security_group],
            multi_az=True,
            storage_type=rds.StorageType.GP3,
            allocated_storage=allocated_storage_gib,
            parameter_group=rds.ParameterGroup(
                self, "Parameters", engine=l2_engine, parameters=dict(self.engine.rds_tls)
            ),
            backup_retention=Duration.days(backup_retention_days),
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
            publicly_accessible=False,
            iam_authentication=True,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            cloudwatch_logs_exports=list(self.engine.rds_logs),
            port=self.engine.port,
            monitoring_interval=Duration.seconds(MONITORING_INTERVAL_SECONDS),
            monitoring_role=monitoring_role or _monitoring_role(self, instance_identifier),
        )

    def _new_instance(self, props: Mapping[str, Any], *, key: kms.IKey) -> rds.DatabaseInstance:
        """An empty instance, encrypted with ``key``, its admin password from the secret."""
        return rds.DatabaseInstance(
            self,
            "Instance",
            credentials=rds.Credentials.from_secret(self.secret),
            storage_encrypted=True,
            storage_encryption_key=key,
            **props,
        )

    def _restored_instance(
        self, props: Mapping[str, Any], *, snapshot_identifier: str
    ) -> rds.DatabaseInstanceFromSnapshot:
        """An instance restored from the snapshot, with its key and data; the admin password
        is set from the new secret."""
        instance = rds.DatabaseInstanceFromSnapshot(
            self,
            "Instance",
            snapshot_identifier=snapshot_identifier,
            credentials=rds.SnapshotCredentials.from_secret(self.secret),
            **props,
        )
        # Restore at the snapshot's own version: the source may have taken automatic minor
        # upgrades since, and RDS does not restore a snapshot to an older version.
        cfn = instance.node.default_child
        assert isinstance(cfn, rds.CfnDBInstance)
        cfn.add_property_deletion_override("EngineVersion")
        return instance


class CrossRegionReplica(Construct):
    """A cross-region read replica of a PostgreSQL or MySQL instance, encrypted with a key in
    its own region. Data stays live; it is promoted (a reboot, "several minutes or longer") on
    failover.

    :param engine: the source's engine and major version (the replica takes both from its
        source; this names its parameter group family, log types and port). Default PostgreSQL 17.
    :param source_instance_arn: ARN of the source instance in the other region.
    :param instance_identifier: a fixed name (a recovery plan promotes it by ARN). Default:
        generated.
    :param instance_class: default db.m7g.large.
    :param backup_retention_days: automated backups of the replica, 1..35, default 14: once
        promoted it is the only writer, and a promotion keeps the replica's retention (RDS's
        default for a promoted replica is 1 day).
    :param removal_policy: default RETAIN (RDS cannot snapshot on delete a replica's way).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        key: kms.IKey,
        source_instance_arn: str,
        source_region: str,
        instance_identifier: str | None = None,
        instance_class: str = "db.m7g.large",
        backup_retention_days: int = 14,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        engine: Engine = DEFAULT_ENGINE,
    ) -> None:
        super().__init__(scope, id_)
        _check_retention("CrossRegionReplica", backup_retention_days)
        self._check_source_region(source_region)
        self.engine = engine
        self.port = engine.port
        self.security_group = _database_security_group(
            self, vpc, f"{engine.label} read replica", engine
        )
        subnet_group = _subnet_group(
            self, vpc=vpc, subnets=subnets, what="the cross-region read replica"
        )
        parameters = self._parameters()
        self.instance = rds.CfnDBInstance(
            self,
            "Instance",
            source_db_instance_identifier=source_instance_arn,
            source_region=source_region,
            db_instance_identifier=instance_identifier,
            db_instance_class=instance_class,
            backup_retention_period=backup_retention_days,
            kms_key_id=key.key_arn,  # encrypted by this region's key (implies StorageEncrypted)
            db_subnet_group_name=subnet_group.subnet_group_name,
            vpc_security_groups=[self.security_group.security_group_id],
            db_parameter_group_name=parameters.ref,
            publicly_accessible=False,
            deletion_protection=deletion_protection,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            enable_iam_database_authentication=True,
            enable_cloudwatch_logs_exports=list(engine.rds_logs),
            port=str(engine.port),  # the source's port, said explicitly
            monitoring_interval=MONITORING_INTERVAL_SECONDS,
            monitoring_role_arn=_monitoring_role(self, instance_identifier).role_arn,
        )
        self.instance.apply_removal_policy(removal_policy)
        self._acknowledge()

    def _check_source_region(self, source_region: str) -> None:
        """Refuse a source in this stack's own region."""
        if source_region == Stack.of(self).region:
            raise ValueError(
                f"CrossRegionReplica: source_region {source_region} is this stack's "
                "region; a cross-region replica needs the other region"
            )

    def _parameters(self) -> rds.CfnDBParameterGroup:
        """The TLS-only parameter group of the engine's family."""
        return rds.CfnDBParameterGroup(
            self,
            "Parameters",
            family=self.engine.rds_parameter_family,
            description=f"TLS-only {self.engine.label}",
            parameters=dict(self.engine.rds_tls),
        )

    def _acknowledge(self) -> None:
        """Acknowledge what a replica cannot say (encryption, engine) or is not (Multi-AZ)."""
        acknowledge(
            self.instance,
            "AwsSolutions-RDS2",
            "Encrypted with this region's key (KmsKeyId); CloudFormation rejects "
            "StorageEncrypted beside SourceDBInstanceIdentifier (cfn-lint F3020).",
            checker="cdk-nag",
        )
        acknowledge(
            self.instance,
            "AwsSolutions-RDS11",
            f"The port is {self.engine.port}, not the default; the rule also wants Engine, "
            "which a replica takes from its source.",
            checker="cdk-nag",
        )
        acknowledge(
            self.instance,
            "AwsSolutions-RDS3",
            "A pilot-light standby: the recovery region is the redundancy; make it Multi-AZ "
            "after promotion (runbook).",
            checker="cdk-nag",
        )


class AuroraGlobalPrimary(Construct):
    """The primary cluster of an Aurora PostgreSQL or Aurora MySQL global database: a writer and
    a reader in different zones, and the global cluster built from it.

    :param engine: the engine and major version (its Aurora version must support global
        databases). Default PostgreSQL 17.
    :param global_cluster_identifier: fixed name the secondary region joins by.
    :param cluster_identifier: a fixed name (a recovery plan names it by ARN). Default: generated.
    :param instance_type: default db.r7g.large (global databases need memory-optimized classes).
    :param backup_retention_days: 1..35, default 14.
    :param secret_replicas: region -> KMS key (ARN or alias ARN) there, for replicas of the
        credentials secret, so a proxy there can use it. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        key: kms.IKey,
        global_cluster_identifier: str,
        rotation_subnets: ec2.SubnetSelection,
        cluster_identifier: str | None = None,
        instance_type: ec2.InstanceType | None = None,
        backup_retention_days: int = 14,
        secret_replicas: Mapping[str, str] | None = None,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.SNAPSHOT,
        engine: Engine = DEFAULT_ENGINE,
    ) -> None:
        super().__init__(scope, id_)
        _check_retention("AuroraGlobalPrimary", backup_retention_days)
        _check_global("AuroraGlobalPrimary", engine)
        self.engine = engine
        self.port = engine.port
        self.security_group = _database_security_group(self, vpc, "Aurora primary cluster", engine)
        self.secret = _admin_secret(self, key, secret_replicas, removal_policy)
        self.cluster = self._cluster(
            vpc=vpc,
            subnets=subnets,
            key=key,
            cluster_identifier=cluster_identifier,
            instance_type=instance_type
            or ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE),
            backup_retention_days=backup_retention_days,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )
        _no_backtrack(self.cluster.node.default_child, engine)
        _rotate(
            self,
            secret=self.secret,
            attachment=self.cluster.secret,
            vpc=vpc,
            subnets=rotation_subnets,
            database_group=self.security_group,
            engine=engine,
            writer=self.cluster.node.find_child("Writer"),
        )
        self.global_cluster = rds.CfnGlobalCluster(
            self,
            "Global",
            global_cluster_identifier=global_cluster_identifier,
            source_db_cluster_identifier=self.cluster.cluster_arn,
            deletion_protection=deletion_protection,
        )
        # Deleted with its stack: it holds no data (its clusters do, and snapshot on delete),
        # and kept it would keep the primary cluster a member, which CloudFormation's delete of
        # the cluster does not detach (its template names no GlobalClusterIdentifier), so RDS
        # refuses to delete it (rules.global_member_deletes; decision 36).
        self.global_cluster.apply_removal_policy(RemovalPolicy.DESTROY)

    def _cluster(
        self,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        key: kms.IKey,
        cluster_identifier: str | None,
        instance_type: ec2.InstanceType,
        backup_retention_days: int,
        deletion_protection: bool,
        removal_policy: RemovalPolicy,
    ) -> rds.DatabaseCluster:
        """The cluster: a writer and a reader of ``instance_type``, encrypted with ``key``, the
        admin password from the secret."""
        l2_engine = cluster_engine(self.engine)
        return rds.DatabaseCluster(
            self,
            "Cluster",
            engine=l2_engine,
            cluster_identifier=cluster_identifier,
            credentials=rds.Credentials.from_secret(self.secret),
            writer=rds.ClusterInstance.provisioned(
                "Writer", instance_type=instance_type, publicly_accessible=False
            ),
            readers=[
                rds.ClusterInstance.provisioned(
                    "Reader", instance_type=instance_type, publicly_accessible=False
                )
            ],
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[self.security_group],
            storage_encrypted=True,
            storage_encryption_key=key,
            parameter_group=rds.ParameterGroup(
                self, "Parameters", engine=l2_engine, parameters=_aurora_parameters(self.engine)
            ),
            backup=rds.BackupProps(retention=Duration.days(backup_retention_days)),
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
            iam_authentication=True,
            copy_tags_to_snapshot=True,
            cloudwatch_logs_exports=list(self.engine.aurora_logs),
            port=self.engine.port,
            monitoring_interval=Duration.seconds(MONITORING_INTERVAL_SECONDS),
            monitoring_role=_monitoring_role(self),
        )


class AuroraGlobalSecondary(Construct):
    """A secondary cluster of an Aurora PostgreSQL or Aurora MySQL global database, in the
    recovery region. It has no credentials of its own: users and passwords replicate from the
    primary.

    :param engine: the primary's engine and major version (a secondary runs the primary's
        engine version). Default PostgreSQL 17.
    :param cluster_identifier: a fixed name (a recovery plan names it by ARN). Default: generated.
    :param reader_count: instances in the secondary (all readers until a failover).
    :param instance_class: default db.r7g.large.
    :param write_forwarding: forward writes to the primary (multi-site).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        key: kms.IKey,
        global_cluster_identifier: str,
        cluster_identifier: str | None = None,
        reader_count: int = 1,
        instance_class: str = "db.r7g.large",
        write_forwarding: bool = False,
        backup_retention_days: int = 14,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.SNAPSHOT,
        engine: Engine = DEFAULT_ENGINE,
    ) -> None:
        super().__init__(scope, id_)
        _check_secondary(
            engine,
            backup_retention_days=backup_retention_days,
            write_forwarding=write_forwarding,
            reader_count=reader_count,
        )
        self.engine = engine
        self.port = engine.port
        self.security_group = _database_security_group(
            self, vpc, "Aurora secondary cluster", engine
        )
        subnet_group = _subnet_group(
            self, vpc=vpc, subnets=subnets, what="the Aurora secondary cluster"
        )
        self.cluster = self._cluster(
            cluster_identifier=cluster_identifier,
            global_cluster_identifier=global_cluster_identifier,
            key=key,
            subnet_group=subnet_group,
            write_forwarding=write_forwarding,
            backup_retention_days=backup_retention_days,
            deletion_protection=deletion_protection,
        )
        self.cluster.apply_removal_policy(removal_policy)
        _no_backtrack(self.cluster, engine)
        self.instances = self._readers(reader_count, instance_class=instance_class)
        self.cluster_identifier = self.cluster.ref

    def _cluster(
        self,
        *,
        cluster_identifier: str | None,
        global_cluster_identifier: str,
        key: kms.IKey,
        subnet_group: rds.SubnetGroup,
        write_forwarding: bool,
        backup_retention_days: int,
        deletion_protection: bool,
    ) -> rds.CfnDBCluster:
        """The cluster, joined to the global cluster, encrypted with this region's ``key``,
        with a TLS-only parameter group of its own."""
        parameters = rds.CfnDBClusterParameterGroup(
            self,
            "Parameters",
            family=self.engine.aurora_parameter_family,
            description=f"TLS-only Aurora {self.engine.label}",
            parameters=_aurora_parameters(self.engine),
        )
        return rds.CfnDBCluster(
            self,
            "Cluster",
            db_cluster_identifier=cluster_identifier,
            engine=self.engine.aurora_engine,
            engine_version=self.engine.aurora_version,
            global_cluster_identifier=global_cluster_identifier,
            kms_key_id=key.key_arn,
            storage_encrypted=True,
            db_subnet_group_name=subnet_group.subnet_group_name,
            vpc_security_group_ids=[self.security_group.security_group_id],
            db_cluster_parameter_group_name=parameters.ref,
            enable_global_write_forwarding=write_forwarding or None,
            enable_iam_database_authentication=True,
            backup_retention_period=backup_retention_days,
            deletion_protection=deletion_protection,
            copy_tags_to_snapshot=True,
            enable_cloudwatch_logs_exports=list(self.engine.aurora_logs),
            port=self.engine.port,
        )

    def _readers(self, count: int, *, instance_class: str) -> list[rds.CfnDBInstance]:
        """The cluster's ``count`` instances (``Reader1``...), all readers until a failover."""
        monitoring = _monitoring_role(self)
        # Cluster members hold no data of their own (it is in the cluster volume): like the L2's
        # instances, they are deleted with the stack while the cluster is kept.
        return [
            rds.CfnDBInstance(
                self,
                f"Reader{index + 1}",
                db_cluster_identifier=self.cluster.ref,
                engine=self.engine.aurora_engine,
                db_instance_class=instance_class,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                monitoring_interval=MONITORING_INTERVAL_SECONDS,
                monitoring_role_arn=monitoring.role_arn,
            )
            for index in range(count)
        ]


def _check_secondary(
    engine: Engine, *, backup_retention_days: int, write_forwarding: bool, reader_count: int
) -> None:
    """Refuse a secondary its engine cannot have (no global database, no write forwarding),
    or a retention or reader count outside RDS's limits."""
    _check_retention("AuroraGlobalSecondary", backup_retention_days)
    _check_global("AuroraGlobalSecondary", engine)
    if write_forwarding and not engine.aurora_write_forwarding:
        raise ValueError(
            f"AuroraGlobalSecondary: Aurora {engine.name} ({engine.aurora_version}) does not "
            "support global write forwarding (drtiers/data/engines.json)"
        )
    if not 1 <= reader_count <= 15:
        raise ValueError(f"AuroraGlobalSecondary: reader_count {reader_count} is outside 1..15")
