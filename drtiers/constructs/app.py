"""App: an internet-facing Application Load Balancer and an ECS Fargate service behind it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import cast

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from drtiers.constructs.buckets import private_bucket
from drtiers.constructs.images import TOKEN_REASON, pull_statements
from drtiers.constructs.lint import Checker, acknowledge
from drtiers.constructs.network import egress_stated_at_create

LISTENER_PORT = 80
HTTPS_PORT = 443
# TLS 1.3 and 1.2 (Route 53's HTTPS health checks speak TLS 1.0-1.2 only), with post-quantum
# hybrid key exchange: what CDK picks under @aws-cdk/aws-elasticloadbalancingv2:
# usePostQuantumTlsPolicy (cdk.json), said here so the listener does not depend on the flag.
TLS_POLICY = elbv2.SslPolicy.TLS13_12_PQ
_LOG_BUCKET_LOGGING = (
    "This bucket holds the load balancer's access logs; logging access to it in turn would "
    "need another bucket, and so on."
)
SCRATCH_VOLUME = "scratch"


_LOG_BUCKET_FINDINGS: tuple[tuple[Checker, str, str], ...] = (
    ("cdk-nag", "AwsSolutions-S1", _LOG_BUCKET_LOGGING),
    ("guard", "s3_bucket_logging_enabled_check", _LOG_BUCKET_LOGGING),
    (
        "guard",
        "s3_bucket_default_encryption_kms_check",
        "Load balancer access logs can only be written to SSE-S3 buckets, not SSE-KMS.",
    ),
    (
        "guard",
        "s3_bucket_object_lock_enabled_check",
        "Diagnostic logs, versioned and expired after a year; write-once retention is a "
        "compliance choice for the adopting team, and would keep sandbox stacks from being "
        "destroyed.",
    ),
    (
        "guard",
        "s3_event_notifications_enabled_check",
        "Nothing consumes events of new log objects; operators query the logs.",
    ),
)


def _check_props(*, desired_count: int, max_count: int, user: str) -> None:
    """Refuse a task count range that cannot scale, or a container that would run as root."""
    if desired_count < 0 or max_count < max(desired_count, 1):
        raise ValueError(
            f"AppService: desired_count {desired_count} / max_count {max_count}: need "
            "0 <= desired_count <= max_count and max_count >= 1"
        )
    if user.strip() in ("", "0", "root"):
        raise ValueError(
            f"AppService: container_user '{user}' is root; give a non-root user name or uid"
        )


def _logical_id(path: Sequence[IConstruct | str]) -> str:
    """The logical id CDK gives the resource at ``path`` below its stack (makeUniqueId, for
    paths without ``Default`` or repeated names): readable part, then an md5 of the path."""
    names = [p if isinstance(p, str) else p.node.id for p in path]
    readable = "".join(re.sub("[^A-Za-z0-9]", "", n) for n in names if n != "Resource")
    return readable + hashlib.md5("/".join(names).encode()).hexdigest()[:8].upper()


class AppService(Construct):
    """The application tier of one region: a container running as a non-root user on a
    read-only root file system (only ``/tmp`` is writable), behind a load balancer that logs
    every request to an encrypted, TLS-only bucket.

    :param desired_count: tasks running now: the tier's capacity in this region (0 for a pilot
        light, which is defined but switched off).
    :param max_count: CPU auto scaling ceiling, at least ``desired_count`` and 1.
    :param container_image: image reference, from configuration.
    :param container_port: the port the container listens on. Default 8080.
    :param container_user: the user (name or uid) the container runs as; never root.
    :param health_check_path: path the load balancer (and Route 53 / the accelerator) probe.
    :param deletion_protection: load balancer deletion protection. Default True.
    :param removal_policy: for the logs (container logs, access-log bucket). Default RETAIN.
    :param logs_removal_policy: for the access-log bucket alone. Default: ``removal_policy``
        (DESTROY empties it on delete with a function and a role of its own).
    :param task_role: / :param execution_role: roles made beforehand (a rebuild, which must not
        need IAM's control plane); their policies must already cover what the app uses, and
        ``log_group_name`` must then fix the name the execution role may write to. Default:
        created here.
    :param certificate: an ACM certificate in this region: the load balancer listens on HTTPS
        (443, ``ssl_policy``) and redirects HTTP (80) there permanently. Default: none, plain
        HTTP on 80.
    :param ssl_policy: the HTTPS listener's security policy. Default: TLS 1.3 and 1.2, with
        post-quantum key exchange.
    :param cluster_name: / :param service_name: fixed names, so that a recovery plan can name
        the service by ARN without a deploy-time reference. Default: generated.
    :param environment: the container's own variables (never secrets); ``set_environment`` adds
        where its data lives. Default: none.
    :param image_repository_arn: the private ECR repository ``container_image`` is in: the
        execution role may pull from it. Default: none, an image pulled without credentials.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        app_subnets: ec2.SubnetSelection,
        public_subnets: ec2.SubnetSelection,
        container_image: str,
        desired_count: int,
        max_count: int,
        log_key: kms.IKey,
        container_port: int = 8080,
        container_user: str = "101",
        health_check_path: str = "/",
        cpu: int = 512,
        memory_mib: int = 1024,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        logs_removal_policy: RemovalPolicy | None = None,
        task_role: iam.IRole | None = None,
        execution_role: iam.IRole | None = None,
        log_group_name: str | None = None,
        cluster_name: str | None = None,
        service_name: str | None = None,
        certificate: acm.ICertificate | None = None,
        ssl_policy: elbv2.SslPolicy = TLS_POLICY,
        environment: Mapping[str, str] | None = None,
        image_repository_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        _check_props(desired_count=desired_count, max_count=max_count, user=container_user)
        self.desired_count = desired_count
        self.cluster = self._cluster(vpc=vpc, cluster_name=cluster_name)
        self.task_definition = self._task_definition(
            cpu=cpu, memory_mib=memory_mib, task_role=task_role, execution_role=execution_role
        )
        log_group = self._log_group(name=log_group_name, key=log_key, removal_policy=removal_policy)
        self.container = self._container(
            image=container_image,
            port=container_port,
            user=container_user,
            memory_mib=memory_mib,
            log_group=log_group,
            environment=environment or {},
        )
        self._pull_from(image_repository_arn)
        self.access_logs = self._access_logs(removal_policy=logs_removal_policy or removal_policy)
        self.load_balancer = self._load_balancer(
            vpc=vpc, subnets=public_subnets, deletion_protection=deletion_protection
        )
        self.security_group = self._security_group(vpc=vpc)
        self.service = self._service(
            service_name=service_name, desired_count=desired_count, subnets=app_subnets
        )
        self.https = certificate is not None
        listener = self._listener(certificate=certificate, ssl_policy=ssl_policy)
        self._targets(listener, port=container_port, health_check_path=health_check_path)
        self._auto_scaling(min_capacity=desired_count, max_capacity=max_count)
        self._acknowledge(plain_http=listener if certificate is None else None)

    def _cluster(self, *, vpc: ec2.IVpc, cluster_name: str | None) -> ecs.Cluster:
        """The ECS cluster, with Container Insights."""
        return ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            cluster_name=cluster_name,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )

    def _task_definition(
        self,
        *,
        cpu: int,
        memory_mib: int,
        task_role: iam.IRole | None,
        execution_role: iam.IRole | None,
    ) -> ecs.FargateTaskDefinition:
        """The Fargate task definition, with the scratch volume mounted on ``/tmp``."""
        task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            task_role=task_role,
            execution_role=execution_role,
        )
        task_definition.add_volume(name=SCRATCH_VOLUME)
        return task_definition

    def _log_group(
        self, *, name: str | None, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> logs.LogGroup:
        """The container's encrypted log group, kept a year."""
        return logs.LogGroup(
            self,
            "Logs",
            log_group_name=name,
            encryption_key=key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=removal_policy,
        )

    def _container(
        self,
        *,
        image: str,
        port: int,
        user: str,
        memory_mib: int,
        log_group: logs.ILogGroup,
        environment: Mapping[str, str],
    ) -> ecs.ContainerDefinition:
        """The web container: a non-root user on a read-only root file system, whose only
        writable path is ``/tmp`` (the scratch volume)."""
        container = self.task_definition.add_container(
            "Web",
            image=ecs.ContainerImage.from_registry(image),
            port_mappings=[ecs.PortMapping(container_port=port)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix="web", log_group=log_group),
            readonly_root_filesystem=True,
            user=user,
            memory_limit_mib=memory_mib,
            environment=dict(environment) or None,
        )
        container.add_mount_points(
            ecs.MountPoint(container_path="/tmp", source_volume=SCRATCH_VOLUME, read_only=False)
        )
        return container

    def _pull_from(self, repository_arn: str | None) -> None:
        """Let the execution role pull the image from its private repository, if it is in one
        (an imported role, made beforehand, is left as it is: it was granted when made)."""
        if repository_arn is None:
            return
        for statement in pull_statements(repository_arn):
            self.task_definition.add_to_execution_role_policy(statement)
        # CDK warns of an ECR image named by URI, whose pull it does not grant: granted above.
        Annotations.of(self.container).acknowledge_warning(
            "@aws-cdk/aws-ecs:ecrImageRequiresPolicy",
            "the execution role is granted the pull on the image's repository",
        )
        role = self.task_definition.execution_role
        policy = role.node.try_find_child("DefaultPolicy") if role is not None else None
        if policy is not None:
            acknowledge(
                policy.node.default_child,
                "AwsSolutions-IAM5[Resource::*]",
                TOKEN_REASON,
                checker="cdk-nag",
            )

    def _access_logs(self, *, removal_policy: RemovalPolicy) -> s3.Bucket:
        """The load balancer's access-log bucket: TLS-only, private, versioned, expiring."""
        # Load balancer access logs support SSE-S3 only, not KMS keys: no key.
        bucket = private_bucket(self, "AccessLogs", keep_days=365, removal_policy=removal_policy)
        for checker, rule, reason in _LOG_BUCKET_FINDINGS:
            acknowledge(bucket.node.default_child, rule, reason, checker=checker)
        return bucket

    def _load_balancer(
        self, *, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, deletion_protection: bool
    ) -> elbv2.ApplicationLoadBalancer:
        """The internet-facing load balancer, logging every request to the access-log bucket."""
        load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            vpc_subnets=subnets,
            internet_facing=True,
            deletion_protection=deletion_protection,
            drop_invalid_header_fields=True,
        )
        load_balancer.log_access_logs(self.access_logs)
        # CDK's group for it: its rules to the targets are resources of their own.
        (group,) = load_balancer.connections.security_groups
        assert isinstance(group, ec2.SecurityGroup)
        egress_stated_at_create(group)
        return load_balancer

    def _security_group(self, *, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        """The tasks' group, which states its egress (allow_egress, and the stores' constructs
        add theirs). It keeps the logical id and description CDK gave the group the service
        used to make itself, so a deployed group is updated in place, not replaced."""
        group = ec2.SecurityGroup(
            self,
            "ServiceSecurityGroup",
            vpc=vpc,
            description=f"{self.node.path}/Service/SecurityGroup",
            allow_all_outbound=False,
        )
        below_stack = self.node.scopes[self.node.scopes.index(Stack.of(self)) + 1 :]
        cast(ec2.CfnSecurityGroup, group.node.default_child).override_logical_id(
            _logical_id([*below_stack, "Service", "SecurityGroup", "Resource"])
        )
        group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443),
            "AWS APIs (ECR, CloudWatch Logs, SQS, KMS, STS, DynamoDB in the other region) and "
            "the image registry over HTTPS, through the NAT gateway: the VPC has no interface "
            "endpoints",
        )
        return group

    def _service(
        self, *, service_name: str | None, desired_count: int, subnets: ec2.SubnetSelection
    ) -> ecs.FargateService:
        """The Fargate service running the task definition in the app subnets."""
        return ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            service_name=service_name,
            task_definition=self.task_definition,
            desired_count=desired_count,
            vpc_subnets=subnets,
            assign_public_ip=False,
            security_groups=[self.security_group],
            min_healthy_percent=100,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            # Tasks carry the service's tags, so fault-injection drills can find them by tag.
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )

    def _listener(
        self, *, certificate: acm.ICertificate | None, ssl_policy: elbv2.SslPolicy
    ) -> elbv2.ApplicationListener:
        """The listener clients reach: HTTP on 80 without a certificate, else HTTPS on 443
        with HTTP redirected there permanently."""
        if certificate is None:
            return self.load_balancer.add_listener("Http", port=LISTENER_PORT, open=True)
        listener = self.load_balancer.add_listener(
            "Https",
            port=HTTPS_PORT,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
            ssl_policy=ssl_policy,
            open=True,
        )
        self.load_balancer.add_redirect(
            source_port=LISTENER_PORT,
            source_protocol=elbv2.ApplicationProtocol.HTTP,
            target_port=HTTPS_PORT,
            target_protocol=elbv2.ApplicationProtocol.HTTPS,
        )
        return listener

    def _targets(
        self, listener: elbv2.ApplicationListener, *, port: int, health_check_path: str
    ) -> None:
        """Register the service behind ``listener``, with the health check that also sets how
        fast Global Accelerator notices a lost region."""
        listener.add_targets(
            "Web",
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.service],
            # Global Accelerator judges a load balancer by this target-group check, so it sets
            # multi-site's detection: 10 s x 3 = 30 s (about-endpoint-groups.html, 2026-11-28).
            health_check=elbv2.HealthCheck(
                path=health_check_path,
                interval=Duration.seconds(10),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
            deregistration_delay=Duration.seconds(30),
        )

    def _auto_scaling(self, *, min_capacity: int, max_capacity: int) -> None:
        """Scale the service's task count on CPU between the two capacities."""
        scaling = self.service.auto_scale_task_count(
            min_capacity=min_capacity, max_capacity=max_capacity
        )
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60)

    def _acknowledge(self, *, plain_http: elbv2.ApplicationListener | None) -> None:
        """Acknowledge the plain HTTP listener (if any), the public load balancer's group and
        the service's CDK-generated dependency."""
        if plain_http is not None:
            acknowledge(
                plain_http.node.default_child,
                "alb_http_to_https_redirection_check",
                "HTTP until a certificate is given: DNS validation needs a zone the user owns "
                "(docs/decisions.md, known gaps).",
                checker="guard",
            )
        acknowledge(
            self.load_balancer.connections.security_groups[0].node.default_child,
            "AwsSolutions-EC23",
            "The internet-facing load balancer is the public entry point; the app tasks "
            "accept traffic from this group only.",
            checker="cdk-nag",
        )
        acknowledge(
            self.service.node.default_child,
            "W3005",
            "CDK-generated: the service's DependsOn on the listener rule repeats the target "
            "group Ref so tasks register only once the listener exists; harmless.",
        )

    @property
    def task_role(self) -> iam.IRole:
        return self.task_definition.task_role

    def set_environment(self, variables: Mapping[str, str]) -> None:
        """Tell the application where its data lives (endpoints, names), never secrets."""
        for name, value in sorted(variables.items()):
            self.container.add_environment(name, value)
        acknowledge(
            self.task_definition.node.default_child,
            "AwsSolutions-ECS2",
            "The environment holds endpoints and names only (table, queue, proxy, DAX) and the "
            "workload's own settings, which its schema says are no secrets: the database is "
            "reached with IAM authentication.",
            checker="cdk-nag",
        )
