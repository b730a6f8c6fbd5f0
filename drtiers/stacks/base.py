"""What every drtiers stack shares: naming, region, tags, protection, and cross-region values.

Cross-region values (see docs/decisions.md):
- identities a *stateful* resource depends on (the replica's source database, the global
  cluster, the backup copy vault, the replica keys) are fixed names from configuration, turned
  into ARNs at synth time: no deploy-time reference, nothing to lock or to re-resolve;
- everything else (load balancer names for DNS and the accelerator, the table name for IAM
  policies) is a plain stack output read with ``Fn::GetStackOutput``: a weak reference that
  survives replacing the producer and never blocks its update.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, CfnOutput, Fn, RemovalPolicy, Stack, Tags
from constructs import Construct

from drtiers.config.context import DrConfig
from drtiers.constructs.alarms import Alarms
from drtiers.constructs.dashboard import TierDashboard, WatchedAlarm, WatchedService
from drtiers.constructs.restore_tests import Placement, RestoreTarget, RestoreTests, plan_name
from drtiers.core.tiers import (
    APP_TAG,
    CONTROL_TABLE,
    FAILED_OVER_TAG,
    ROLE_TAG,
    TIER_TAG,
    WRITER_ITEM_KEY,
    Relational,
    StackRole,
    TierSpec,
)

# CDK marks these taggable, but their CloudFormation schema has no Tags (cfn-lint F3002).
UNTAGGABLE = ["AWS::RDS::DBProxyTargetGroup"]


def scope_tags(app: str, tier: TierSpec) -> dict[str, str]:
    """The tags that tell one deployment's resources from another's in the account (the same
    tier of another app too): what drills and the plan's tagging select by."""
    return {APP_TAG: app, TIER_TAG: tier.name}


class TierStack(Stack):
    """A stack of one tier in one role (``primary``, ``recovery``, ``recovery-base``, ``edge``)
    and one concrete region, named ``<app>-<tier>-<role>``."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: DrConfig,
        tier: TierSpec,
        role: StackRole,
        region: str,
        description: str,
    ) -> None:
        name = f"{config.app_name}-{tier.name}-{role}"
        tags = {**scope_tags(config.app_name, tier), ROLE_TAG: role.value}
        super().__init__(
            scope,
            name,
            stack_name=name,
            description=f"drtiers {tier.name} ({tier.rpo_rto}): {description}",
            env={"account": config.account, "region": region},
            termination_protection=not config.sandbox,
            analytics_reporting=False,
            # Stack tags: CloudFormation puts them on the stack, and the cloud assembly's
            # manifest records them, which is how drtiers.assess groups a tier's stacks.
            tags=tags
            | (
                {FAILED_OVER_TAG: "true"}
                if config.failed_over and role is StackRole.RECOVERY
                else {}
            ),
        )
        self.config = config
        self.tier = tier
        self.role = role
        self.region_name = region
        # What the tier's dashboard shows of this stack: its alarms, and its app's service
        # (cluster name, service name) where it runs one.
        self.alarms: Alarms | None = None
        self.service_names: tuple[str, str] | None = None
        self.plan_rule: str | None = None  # the rule that hears of Region switch executions
        self._zones = list(config.availability_zones.get(region, ()))
        for key, value in tags.items():
            Tags.of(self).add(key, value, exclude_resource_types=UNTAGGABLE)

    @property
    def availability_zones(self) -> list[str]:
        """From configuration: a concrete-environment stack would otherwise look them up."""
        return self._zones

    # Data-keeping defaults; sandbox mode is the only way to loosen them.
    @property
    def snapshot_policy(self) -> RemovalPolicy:
        return RemovalPolicy.DESTROY if self.config.sandbox else RemovalPolicy.SNAPSHOT

    @property
    def retain_policy(self) -> RemovalPolicy:
        """Kept on delete and replacement, but not when the create that made it rolls back
        (DeletionPolicy RetainExceptOnCreate: it "behaves like Retain for stack operations,
        except for the stack operation that initially created the resource",
        rules.retained_on_delete). What a failed create made holds nothing yet; under Retain it
        would stay under its name, and "If resources are retained during rollback, they
        interfere with retries of the stack operation" (rules.kept_on_failed_create)."""
        return (
            RemovalPolicy.DESTROY
            if self.config.sandbox
            else RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        )

    @property
    def deletion_protection(self) -> bool:
        return not self.config.sandbox

    @property
    def names(self) -> str:
        """``<app>-<tier>``: the prefix of every fixed name."""
        return f"{self.config.app_name}-{self.tier.name}"

    @property
    def entry_name(self) -> str:
        """``<app>-<tier>.<domain>``: the name clients use, in the edge stack's records and in
        the load balancers' certificates."""
        return f"{self.names}.{self.config.domain_name}"

    def resource_name(self, suffix: str) -> str:
        """A fixed physical name, for the few resources another region must name."""
        return f"{self.names}-{suffix}"

    def publish(self, name: str, value: str, description: str) -> None:
        """A plain output (never an export) that other stacks read with Fn::GetStackOutput."""
        output = CfnOutput(self, name, value=value, description=description)
        output.override_logical_id(name)

    def read(self, producer: Stack, name: str) -> str:
        """Read ``producer``'s output ``name`` at deploy time and deploy after it."""
        self.add_stack_dependency(producer, f"reads its output {name}")
        region = None if producer.region == self.region else producer.region
        return Fn.get_stack_output(producer.stack_name, name, region)

    def add_dashboard(self, stacks: Sequence[TierStack]) -> None:
        """The tier's dashboard, here: every alarm and service of ``stacks``, by fixed name."""
        TierDashboard(
            self,
            "Dashboard",
            name=self.names,
            header=f"# {self.names}\n{self.tier.summary}. P is {self.config.primary_region}, "
            f"R is {self.config.recovery_region}; P's widgets are blank once P is lost.",
            account=self.config.account,
            alarms=[
                WatchedAlarm(stack.region_name, name, description)
                for stack in stacks
                if stack.alarms is not None
                for name, description in stack.alarms.named
            ],
            services=[
                WatchedService(stack.region_name, *stack.service_names)
                for stack in stacks
                if stack.service_names is not None
            ],
            plan_rules=[
                (stack.region_name, stack.plan_rule) for stack in stacks if stack.plan_rule
            ],
            writer_item=f"aws dynamodb get-item --region {self.region_name} --table-name "
            f"{self.resource_name(CONTROL_TABLE)} --key '{WRITER_ITEM_KEY}' --consistent-read",
        )

    def add_restore_tests(self, vault_arn: str, network: Placement | None) -> RestoreTests:
        """The tier's restore tests, here, of the copies in ``vault_arn``; a database is
        restored into ``network``, which a tier with a database gives."""
        database = None
        if self.config.workload.database is not None:
            assert network is not None, f"{self.names}: restore tests need a network here"
            database = RestoreTarget(
                self,
                "RestoreTarget",
                resource_type="Aurora"
                if self.tier.relational is Relational.AURORA_GLOBAL
                else "RDS",
                placement=network,
            ).database
        backups = self.config.workload.backups
        return RestoreTests(
            self,
            "RestoreTests",
            name=plan_name(self.names),
            vault_arn=vault_arn,
            cadence=backups.restore_tests,
            retention_days=backups.retention_days,
            database=database,
        )

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:{Aws.PARTITION}:{service}:{region}:{self.config.account}:{resource}"
