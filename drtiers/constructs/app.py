"""App: an internet-facing Application Load Balancer and an ECS Fargate service behind it."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from drtiers.constructs.lint import acknowledge

CONTAINER_PORT = 80


class AppService(Construct):
    """The application tier of one region.

    :param desired_count: tasks running now: the tier's capacity in this region (0 for a pilot
        light, which is defined but switched off).
    :param max_count: CPU auto scaling ceiling, at least ``desired_count`` and 1.
    :param container_image: image reference, from configuration.
    :param health_check_path: path the load balancer (and Route 53 / the accelerator) probe.
    :param deletion_protection: load balancer deletion protection. Default True.
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
        health_check_path: str = "/",
        cpu: int = 512,
        memory_mib: int = 1024,
        deletion_protection: bool = True,
        log_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id_)
        if desired_count < 0 or max_count < max(desired_count, 1):
            raise ValueError(
                f"AppService: desired_count {desired_count} / max_count {max_count}: need "
                "0 <= desired_count <= max_count and max_count >= 1"
            )
        self.desired_count = desired_count
        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self, "Task", cpu=cpu, memory_limit_mib=memory_mib
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=log_key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=log_removal_policy,
        )
        self.container = self.task_definition.add_container(
            "Web",
            image=ecs.ContainerImage.from_registry(container_image),
            port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix="web", log_group=log_group),
            readonly_root_filesystem=False,
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            vpc_subnets=public_subnets,
            internet_facing=True,
            deletion_protection=deletion_protection,
            drop_invalid_header_fields=True,
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=desired_count,
            vpc_subnets=app_subnets,
            assign_public_ip=False,
            min_healthy_percent=100,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )
        listener = self.load_balancer.add_listener("Http", port=80, open=True)
        listener.add_targets(
            "Web",
            port=CONTAINER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.service],
            health_check=elbv2.HealthCheck(
                path=health_check_path,
                interval=Duration.seconds(15),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
            deregistration_delay=Duration.seconds(30),
        )
        scaling = self.service.auto_scale_task_count(
            min_capacity=desired_count, max_capacity=max_count
        )
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60)
        self.security_group = self.service.connections.security_groups[0]

    def set_environment(self, variables: Mapping[str, str]) -> None:
        """Tell the application where its data lives (endpoints, names), never secrets."""
        for name, value in sorted(variables.items()):
            self.container.add_environment(name, value)
        acknowledge(
            self.service.node.default_child,
            "W3005",
            "CDK-generated: the service's DependsOn on the listener rule repeats the target "
            "group Ref so tasks register only once the listener exists; harmless.",
        )
