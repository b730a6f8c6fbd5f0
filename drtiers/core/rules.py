"""The AWS behaviours the recovery simulator relies on: one small function each, with the AWS page
it was read from and when. Each is tested on its own (tests/test_recovery_rules.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

READ = "2026-11-28"


@dataclass(frozen=True)
class Source:
    url: str
    read: str = READ


PROXY_GDB = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-gdb.html"
)
PROXY_ENDPOINTS = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-endpoints.html"
)
PROXY_IAM = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-iam-migration.html"
)
WRITE_FORWARDING = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html"
    " (EnableGlobalWriteForwarding)"
)
GA_ENDPOINT_GROUPS = Source(
    "https://docs.aws.amazon.com/global-accelerator/latest/dg/about-endpoint-groups.html"
)
GA_API_REGION = Source(
    "https://docs.aws.amazon.com/global-accelerator/latest/dg/preserve-client-ip-address.regions.html"
)
GET_STACK_OUTPUT = Source(
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
    "intrinsic-function-reference-getstackoutput.html"
)
ROUTE53_CHOOSES = Source(
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html"
)
ROUTE53_METRIC_CHECKS = Source(
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html"
)
REPLICA_PROMOTE = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html"
)
AURORA_DR = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "aurora-global-database-disaster-recovery.html"
)
AURORA_ROLE_METRICS = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/creating_alarms.html"
)
RDS_METRICS = Source("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html")
SCALING_MIN = Source(
    "https://docs.aws.amazon.com/autoscaling/application/userguide/"
    "application-auto-scaling-target-tracking.html"
)
SECRET_REPLICATION = Source(
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicateSecretToRegions.html"
)
IAM_CONTROL_PLANE = Source(
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/disaster-recovery-resiliency.html"
)
CDK_DEPLOY = Source("https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-deploy.html")
RS_REGIONAL = Source(
    "https://aws.amazon.com/blogs/aws/introducing-amazon-application-recovery-controller-region-"
    "switch-a-multi-region-application-recovery-service/"
)
RS_API = Source("https://docs.aws.amazon.com/r53recovery/latest/dg/actions.region-switch.html")
RS_POST_RECOVERY = Source(
    "https://docs.aws.amazon.com/arc-region-switch/latest/api/API_StartPlanExecution.html"
)
RS_AURORA = Source(
    "https://docs.aws.amazon.com/arc-region-switch/latest/api/API_GlobalAuroraConfiguration.html"
)
RS_ECS = Source("https://docs.aws.amazon.com/r53recovery/latest/dg/ecs-service-scaling-block.html")
CW_EVENTS = Source(
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html"
)
RS_LAMBDA = Source(
    "https://docs.aws.amazon.com/r53recovery/latest/dg/custom-action-lambda-block.html"
)
RS_RDS_REPLICA = Source(
    "https://docs.aws.amazon.com/r53recovery/latest/dg/rds-create-cross-region-replica-block.html"
)
RDS_PROXY_TARGETS = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RegisterDBProxyTargets.html"
)
RDS_PROXY_RENAMED = Source(
    "https://repost.aws/articles/AR_Nibb0wmTLSVvW2FpuxHYQ/managing-rds-proxy-connections-when-"
    "using-blue-green-deployments-with-rds-or-aurora"
)

# The Global Accelerator API (create, update, dial changes) is served from us-west-2 only.
ACCELERATOR_API_REGION = "us-west-2"
# Route 53's control plane (record and health-check changes) is served from us-east-1.
ROUTE53_CONTROL_REGION = "us-east-1"
# IAM's control plane (creating or changing roles and policies) is served from us-east-1.
IAM_CONTROL_REGION = "us-east-1"


# --- databases and RDS Proxy ------------------------------------------------------------------


def proxy_read_write_serves(has_writer: bool) -> bool:
    """A proxy's read/write endpoint sends every request to the cluster's writer; on a secondary
    cluster (no writer) it fails: "The target group doesn't have any associated read/write
    instances". After a failover, the proxy of the new primary takes writes. (PROXY_GDB)"""
    return has_writer


def proxy_read_only_serves(readers: int, target_is_cluster: bool) -> bool:
    """A read-only proxy endpoint needs one or more reader instances in an Aurora cluster;
    with none, or with an RDS instance as target, requests fail. (PROXY_ENDPOINTS)"""
    return target_is_cluster and readers > 0


def forwards_writes(
    is_secondary: bool, write_forwarding: bool, readers: int, writer_reachable: bool
) -> bool:
    """Write forwarding applies while a cluster is a secondary of a global database (set on a
    primary it does nothing until the primary is demoted); it runs on reader instances and
    sends the writes to the primary's writer, so it works only while that writer is reachable.
    (WRITE_FORWARDING)"""
    return is_secondary and write_forwarding and readers > 0 and writer_reachable


def proxy_authenticates(
    end_to_end_iam: bool, user: str, proxy_role_users: Iterable[str], secret_users: Iterable[str]
) -> bool:
    """How the proxy logs in to the database as the client's user: with end-to-end IAM
    authentication (DefaultAuthScheme IAM_AUTH) its role needs rds-db:connect for that user;
    otherwise it needs a Secrets Manager secret for that user. (PROXY_IAM)"""
    if end_to_end_iam:
        return user in set(proxy_role_users)
    return user in set(secret_users)


IAM_DB_AUTH = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Enabling.html",
    read="2026-12-04",
)


def iam_login_accepted(enabled: bool) -> bool:
    """Whether a database accepts an IAM authentication token: only with IAM database
    authentication enabled on it. "By default, IAM database authentication is disabled on DB
    instances"; for Aurora, "Mapping Amazon Web Services IAM accounts to database accounts is
    managed by the DB cluster" (CreateDBInstance's EnableIAMDatabaseAuthentication,
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html). An
    rds-db:connect grant without it logs nobody in. (IAM_DB_AUTH)"""
    return enabled


def promoted_replica_is_standalone() -> bool:
    """Promoting a cross-region read replica makes it a standalone writable instance; its old
    source, if it comes back, is a second, diverged writer. Nothing joins them again.
    (REPLICA_PROMOTE)"""
    return True


def old_aurora_primary_rejoins_as_secondary() -> bool:
    """After a global database failover, the old primary cluster, once its region recovers,
    is brought back into the global database as a secondary (read-only) cluster; it becomes the
    writer again only by a switchover. (AURORA_DR)"""
    return True


def writer_role_metric_emitted(cluster_has_writer: bool) -> bool:
    """Aurora publishes cluster metrics per role (WRITER / READER): a cluster with no writer
    instance, such as a global secondary, emits no WRITER-role data. (AURORA_ROLE_METRICS)"""
    return cluster_has_writer


# --- ARC Region switch ------------------------------------------------------------------------


def plan_executes_in(activating_region: str) -> str:
    """A Region switch plan runs on the data plane of the Region it activates: starting,
    approving and watching an execution are data-plane calls there, so nothing of the region
    being left is needed (RS_REGIONAL). Creating or changing a plan is a control-plane call,
    not one to make during an event (RS_API)."""
    return activating_region


def post_recovery_region(activated: str, regions: tuple[str, str]) -> str:
    """The region whose post-recovery workflow follows a recovery execution that activated
    ``activated``: the opposite one. StartPlanExecution's recoveryExecutionId is "the execution
    identifier of the recovery execution that ran in the opposite region post-recovery is ran
    in"; AWS's RDS post-recovery tutorial: "Select the inactive Region ... This is the Region
    where a read replica will be created". (RS_POST_RECOVERY)"""
    return next(region for region in regions if region != activated)


def aurora_block_promotes(graceful: bool, behavior: str, ungraceful: str | None) -> str:
    """The Aurora global database block: a graceful execution switches over (no data loss) when
    its behavior is switchoverOnly and fails over (AllowDataLoss) when it is failover; an
    ungraceful execution uses the ungraceful behavior, failover. Returns ``switchover`` or
    ``failover``. (RS_AURORA)"""
    if graceful:
        return "switchover" if behavior == "switchoverOnly" else "failover"
    return "failover" if (ungraceful or behavior) == "failover" else "switchover"


def ecs_block_capacity(source_desired: int, target_percent: float) -> int:
    """The ECS service scaling block sets the activated Region's service to a percentage of the
    running tasks it sampled beforehand in the Region it leaves (stored in every Region of the
    plan, so the lost Region is not read). AWS does not say that it raises the scaling minimum,
    so the model leaves the minimum as it was: a later step must set it. (RS_ECS)"""
    return -(-source_desired * int(target_percent) // 100)


def alarm_starts_plan(alarm_region: str, rule_region: str, activating_region: str) -> bool:
    """CloudWatch sends an alarm's state changes to EventBridge in the alarm's region, where a
    rule can invoke a function (here: one that starts the plan, gracefully, on R's data plane).
    Both must be in the region the plan activates: the other may be the lost one. (CW_EVENTS)"""
    return alarm_region == rule_region == activating_region


def lambda_block_runs(graceful: bool) -> bool:
    """A custom action Lambda block runs in a graceful execution; "in ungraceful execution
    mode, Region switch skips the Lambda execution block step". (RS_LAMBDA)"""
    return graceful


RS_BLOCK_TIMEOUT = Source(
    "https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_arcregionswitch.CfnPlan."
    "RdsCreateCrossRegionReplicaConfigurationProperty.html"
)


def block_timeout_seconds(timeout_minutes: int | None) -> float:
    """How long a Region switch block may run before its step fails: its TimeoutMinutes, or
    60 minutes where none is set ("timeoutMinutes ... default: 60"). (RS_BLOCK_TIMEOUT)"""
    return 60.0 * (timeout_minutes if timeout_minutes is not None else 60)


RDS_REPLICA_API = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html"
)


def replica_takes_parameter_group(engine: str) -> bool:
    """Whether a cross-Region read replica may be created with a DB parameter group: "Specifying
    a parameter group for this operation is only supported for MySQL DB instances for
    cross-Region read replicas, for Multi-AZ DB cluster read replica instances, for Db2 DB
    instances, and for Oracle DB instances." (RDS_REPLICA_API)"""
    return engine.startswith(("mysql", "db2", "oracle"))


def rds_replica_block_renames() -> bool:
    """The RDS create cross-Region replica block renames the old instance itself (tagged
    renamedByRegionSwitch) before it creates the replica under its identifier; a command that
    creates one under an identifier an instance still holds fails with DBInstanceAlreadyExists
    (CreateDBInstanceReadReplica's errors). (RS_RDS_REPLICA)"""
    return True


def rds_replica_block_runs(workflow: str) -> bool:
    """The RDS create cross-Region replica block belongs to post-recovery: it renames the old
    instance of the other Region (tagged renamedByRegionSwitch, still running) and creates a
    read replica of the active Region's instance under the old identifier, with its parameter
    group, subnet group, key and security groups. (RS_RDS_REPLICA)"""
    return workflow == "postRecovery"


def rds_replica_block_enables_iam_auth() -> bool:
    """A replica the RDS create cross-Region replica block makes copies "Instance identifier,
    DB parameter groups, DB subnet groups, KMS key, VPC security groups, Option groups, Domain
    authentication secret ARN" (RS_RDS_REPLICA), not IAM database authentication, which
    CreateDBInstanceReadReplica leaves off unless asked ("By default, mapping isn't enabled",
    EnableIAMDatabaseAuthentication, RDS_REPLICA_API): it refuses IAM logins until the
    instance is modified."""
    return False


def proxy_target_follows_rename() -> bool:
    """An RDS Proxy target group registers DB instances by identifier (RegisterDBProxyTargets:
    "DBInstanceIdentifiers ... One or more DB instance identifiers"); a target is the instance
    registered, which a rename does not move to the instance created under its old identifier.
    So after the stale instance is renamed and a new one made, the proxy reaches the new one
    only once it is registered: DeregisterDBProxyTargets, then RegisterDBProxyTargets, as AWS's
    workaround for RDS Proxy with renamed Blue/Green instances does. (RDS_PROXY_TARGETS)
    (RDS_PROXY_RENAMED)"""
    return False


SQS_RETENTION = Source(
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html",
    read="2026-12-04",
)


def unprocessed_messages_expire() -> bool:
    """A message no consumer deletes does not wait for one: "Amazon SQS automatically deletes
    messages left in a queue longer than the retention period configured for the queue."
    (SQS_RETENTION). Botocore's SQS model says it too. So a region whose consumers stop while
    its queues hold messages loses them, unless they are moved to a queue that is consumed."""
    return True


def replica_lag_emitted(is_replica: bool) -> bool:
    """RDS emits ReplicaLag for read replicas only; a promoted instance stops emitting it.
    (RDS_METRICS)"""
    return is_replica


# --- traffic ----------------------------------------------------------------------------------


def route53_failover_answer(primary_healthy: bool, secondary_healthy: bool) -> str:
    """Failover records: the primary while it is healthy, else the secondary while it is
    healthy; when both are unhealthy Route 53 answers with the primary. (ROUTE53_CHOOSES)"""
    if primary_healthy:
        return "PRIMARY"
    return "SECONDARY" if secondary_healthy else "PRIMARY"


def metric_check_healthy(data_breaches: bool | None, insufficient: str, last_known: bool) -> bool:
    """A CLOUDWATCH_METRIC health check: Route 53 judges the alarm's metric data itself (not the
    alarm's state, nor its missing-data setting): healthy while the data does not breach; with
    no data, as InsufficientDataHealthStatus says: Healthy, Unhealthy or LastKnownStatus (the
    status it last had; healthy for a new check). (ROUTE53_METRIC_CHECKS)"""
    if data_breaches is not None:
        return not data_breaches
    return {"Healthy": True, "Unhealthy": False}.get(insufficient, last_known)


def accelerator_group_healthy(load_balancer_has_healthy_targets: bool) -> bool:
    """For load-balancer endpoints the accelerator follows the load balancer's target-group
    health checks; the endpoint group's own interval and threshold apply only to EC2 and
    Elastic IP endpoints. (GA_ENDPOINT_GROUPS)"""
    return load_balancer_has_healthy_targets


def accelerator_routes(groups: Mapping[str, tuple[int, bool]]) -> set[str]:
    """Regions that get new connections: healthy groups with a dial above 0; with no healthy
    group, the accelerator sends traffic to all of them (fail open). (GA_ENDPOINT_GROUPS)"""
    dialled = {region for region, (dial, _) in groups.items() if dial > 0}
    healthy = {region for region in dialled if groups[region][1]}
    return healthy or dialled


# --- control planes and deployments -----------------------------------------------------------


def stack_update_needs(
    stack_region: str,
    output_producer_regions: Iterable[str],
    exclusively: bool,
    dependency_regions: Iterable[str],
) -> set[str]:
    """Regions a stack update cannot do without: the stack's own; every region whose stack
    outputs it reads with Fn::GetStackOutput, resolved at every create and update
    (GET_STACK_OUTPUT); and, unless `cdk deploy --exclusively`, the regions of the stacks it
    depends on, which `cdk deploy` deploys first (CDK_DEPLOY)."""
    needed = {stack_region, *output_producer_regions}
    if not exclusively:
        needed |= set(dependency_regions)
    return needed


SCALING_MAX = Source(
    "https://docs.aws.amazon.com/autoscaling/application/APIReference/"
    "API_RegisterScalableTarget.html"
)


def scaling_ceiling(max_capacity: int) -> int:
    """The most tasks the scalable target lets the service run: "The maximum value that you plan
    to scale out to. When a scaling policy is in effect, Application Auto Scaling can scale out
    (expand) as needed to the maximum capacity limit". (SCALING_MAX)"""
    return max_capacity


def scaling_floor(min_capacity: int) -> int:
    """Target tracking scales in as far as the scalable target's minimum, never below it: a
    desired count above the minimum does not stay. (SCALING_MIN)"""
    return min_capacity


def changes_iam(resource_type: str, properties: Mapping[str, object]) -> bool:
    """Whether creating or changing this resource creates or changes IAM entities, which only
    IAM's control plane in us-east-1 can do (using them, through STS and authorization, is
    regional): IAM resources, and hosted secret rotation, whose transform creates a function
    and its role. (IAM_CONTROL_PLANE)"""
    if resource_type.startswith("AWS::IAM::"):
        return True
    return resource_type == "AWS::SecretsManager::RotationSchedule" and (
        "HostedRotationLambda" in properties
    )


KEYS_READ = "2026-12-04"
SQS_KEYS = Source(
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
    "sqs-key-management.html",
    KEYS_READ,
)
SECRET_REPLICA_KEYS = Source(
    "https://docs.aws.amazon.com/secretsmanager/latest/userguide/"
    "replicate-secrets_troubleshoot.html",
    KEYS_READ,
)
ROTATION_ROLE_KEYS = Source(
    "https://docs.aws.amazon.com/secretsmanager/latest/userguide/"
    "rotating-secrets-required-permissions-function.html",
    KEYS_READ,
)
BACKUP_KEYS = Source(
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html", KEYS_READ
)


def store_key_actions() -> tuple[str, ...]:
    """What a task reading and writing a table or queue encrypted with a customer managed key
    needs of that key, through the service: "For a customer managed KMS key, you must configure
    the key policy to add permissions for each queue producer and consumer. ... Alternatively,
    you can specify the required permissions in an IAM policy assigned to the principals that
    produce and consume encrypted messages." Writing makes a data key, reading decrypts one
    (the envelope encryption DynamoDB and SQS share). (SQS_KEYS)"""
    return ("kms:Decrypt", "kms:GenerateDataKey")


def secret_replica_key_actions() -> tuple[str, ...]:
    """What the writer of a secret's new version needs of its replica's key, through Secrets
    Manager in the replica's region: "To encrypt the replicated secret with a KMS key other than
    aws/secretsmanager, you need kms:GenerateDataKey and kms:Encrypt to the key."
    (SECRET_REPLICA_KEYS)"""
    return ("kms:Encrypt", "kms:GenerateDataKey")


def rotation_role_key_statement(key_arn: str) -> dict[str, object]:
    """The KMS statement of a hosted rotation function's role, for the one key its template is
    given (HostedRotationLambda KmsKeyArn): "If the secret is encrypted with a KMS key other than
    the AWS managed key aws/secretsmanager, then you need to grant the Lambda execution role
    permission to use the key", with AWS's example statement on "KMSKeyARN". (ROTATION_ROLE_KEYS)
    The function writes every rotated version, so it is the caller each replica's key sees."""
    return {
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
        "Resource": key_arn,
    }


def backup_restore_key_actions() -> tuple[str, ...]:
    """What the role a restore job runs with needs of the key of the vault it restores from:
    "Your IAM role must have access to the KMS key being used to back up and restore the object.
    Otherwise the job is successful but the objects are not backed up or restored. The
    permissions in IAM policy and KMS key policy must be consistent." (BACKUP_KEYS)"""
    return ("kms:Decrypt",)


# --- read 2026-12-04 --------------------------------------------------------------------------


def idle_task_count(desired: int, min_capacity: int, scaling_policy: bool) -> int:
    """What a service runs while demand is low: with a scaling policy on its scalable target,
    the minimum, whatever its desired count says: "The minimum value that you plan to scale in
    to. When a scaling policy is in effect, Application Auto Scaling can scale in (contract) as
    needed to the minimum capacity limit in response to changing demand" (RegisterScalableTarget,
    MinCapacity, read 2026-12-04). Without a policy nothing scales it: its desired count stays.
    (SCALING_MAX)"""
    return min_capacity if scaling_policy else desired


RS_APPROVAL = Source(
    "https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ExecutionApprovalConfiguration.html",
    "2026-12-04",
)


def approval_can_be_given(role_is_the_tiers: bool) -> bool:
    """A ManualApproval block waits for a person: "Approval steps require manual intervention
    before the execution can proceed"; its approvalRole is "The IAM approval role for the
    configuration" (read 2026-12-04), the role the person assumes to call
    ApprovePlanExecutionStep. A role that does not exist (mistyped, another account) cannot be
    assumed: nobody approves, and the block waits until it times out. (RS_APPROVAL)"""
    return role_is_the_tiers


STACK_PROTECTION = Source(
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html"
)
RDS_DELETION_PROTECTION = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html"
)


def protected_stack_deletes() -> bool:
    """A stack with termination protection cannot be deleted: "If a user attempts to delete a
    stack with termination protection enabled, the deletion fails and the stack, including its
    status, remains unchanged" (STACK_PROTECTION); UpdateTerminationProtection turns it off."""
    return False


def protected_database_deletes() -> bool:
    """A DB instance or cluster with deletion protection is not deleted, by its stack either:
    "The database can't be deleted when deletion protection is enabled"
    (RDS_DELETION_PROTECTION); ModifyDBInstance with DeletionProtection false turns it off."""
    return False


DYNAMODB_RESTORE = Source(
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
    "pointintimerecovery_restores.html",
    "2026-12-04",
)
GLOBAL_TABLE_REPLICAS = Source(
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
    "globaltables-CoreConcepts.html",
    "2026-12-04",
)


def restored_table_replicates() -> bool:
    """A table restored from a backup is a table of its own: "The recovery process restores to
    a new DynamoDB table" (DYNAMODB_RESTORE). Only a replica's writes travel:
    "When an application writes data to a replica in one Region, DynamoDB automatically
    replicates the write to all other replicas in the global table" (GLOBAL_TABLE_REPLICAS,
    read 2026-12-04). A restored table is no replica: what is written to it stays in its
    region until a copy of it is taken."""
    return False


BACKUP_JOBS = Source(
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html"
)


def job_polled_by(operation: str) -> str | None:
    """AWS Backup's Start*Job calls start a job and return its id (StartRestoreJob:
    "Recovers the saved resource identified by an Amazon Resource Name (ARN)", returning
    RestoreJobId); the job runs on, so a runbook step that needs its result polls the matching
    Describe*Job until it ends. Returns that Describe operation, or None for any other call.
    (BACKUP_JOBS)"""
    return {
        "StartRestoreJob": "DescribeRestoreJob",
        "StartBackupJob": "DescribeBackupJob",
        "StartCopyJob": "DescribeCopyJob",
    }.get(operation)


ECS_SERVICES = Source(
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html", "2026-12-04"
)
GLOBAL_TABLE_EVACUATION = Source(
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
    "bp-global-table-design.prescriptive-guidance.evacuation.html",
    "2026-12-04",
)


def returning_tasks_restart() -> bool:
    """A region's service tasks start again as soon as the region does, with nobody asking:
    "If one of your tasks fails or stops, the Amazon ECS service scheduler launches another
    instance of your task definition to replace it" (ECS_SERVICES). Nothing run during the
    event can stop them first: the region's ECS API was down."""
    return True


def returning_replica_current() -> bool:
    """Whether a global table's replica in a region that comes back already holds what was
    written elsewhere while it was down, when its tasks restart: AWS does not say so. Writes
    held while a region is offline have "their propagation ... indefinitely delayed", and
    "There is no metric to indicate with absolute certainty that Region A has fully replicated
    its data to Region B" (GLOBAL_TABLE_EVACUATION). The model takes it as behind."""
    return False


HANDLER_ERRORS = Source(
    "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/"
    "resource-type-test-contract-errors.html",
    "2026-12-04",
)
CONTRACT_TESTS = Source(
    "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/contract-tests.html",
    "2026-12-04",
)
DELETION_POLICY = Source(
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
    "aws-attribute-deletionpolicy.html",
    "2026-12-04",
)


def retained_on_delete(deletion_policy: str | None) -> bool:
    """Whether a resource stays when its stack is deleted: "To keep a resource when its stack
    is deleted, specify Retain for that resource"; "RetainExceptOnCreate behaves like Retain
    for stack operations, except for the stack operation that initially created the resource"
    (DELETION_POLICY). A stack deletion is not the operation that created it."""
    return deletion_policy in ("Retain", "RetainExceptOnCreate")


def create_meets_existing_name() -> bool:
    """A stack's create of a resource under a name that a resource already holds (one its
    last stack retained) fails: the create handler's error "AlreadyExists: The specified
    resource already existed before the execution of this handler. This error is applicable
    to create handlers only." (HANDLER_ERRORS), and the contract test contract_create_create
    "creates the resource again with the expectation that the second create operation will
    fail with the AlreadyExists error code" (CONTRACT_TESTS). The services say so too, in
    botocore's models: CreateLogGroup's ResourceAlreadyExistsException "The specified resource
    already exists.", CreateBackupVault's AlreadyExistsException "The required resource
    already exists.". Returns whether the create succeeds: it does not."""
    return False


DELETE_VAULT = Source(
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DeleteBackupVault.html",
    "2026-12-04",
)


def vault_deletes_only_empty() -> bool:
    """Whether a backup vault that holds recovery points can be deleted: "A vault can be
    deleted only if it is empty." (DELETE_VAULT). A stack whose plan filled its vault fails to
    delete unless what deletes it first deletes the recovery points."""
    return True


ROLLBACK_RETAIN = Source(
    "https://aws.amazon.com/about-aws/whats-new/2023/07/"
    "aws-cloudformation-deletion-policies-dev-test-cycle/",
    "2026-12-04",
)


def kept_on_failed_create(deletion_policy: str | None) -> bool:
    """Whether a resource a failed stack creation made stays after the rollback: Retain keeps
    it: "If resources are retained during rollback, they interfere with retries of the stack
    operation" (ROLLBACK_RETAIN); RetainExceptOnCreate does not: it "behaves like Retain for
    stack operations, except for the stack operation that initially created the resource"
    (DELETION_POLICY)."""
    return deletion_policy == "Retain"


ALB_DELETION_PROTECTION = Source(
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
    "application-load-balancers.html",
    "2026-12-04",
)


def protected_load_balancer_deletes() -> bool:
    """Whether deleting a stack deletes a load balancer with deletion protection on: "If you
    enable deletion protection for your load balancer, you must disable delete protection
    before you can delete the load balancer" (ALB_DELETION_PROTECTION). It does not."""
    return False


def failed_create_retried() -> bool:
    """Whether running `cdk deploy` again after the stack's creation failed and rolled back
    creates it again: the pinned CDK CLI deletes it first ("Found existing stack ... that had
    previously failed creation. Deleting it before attempting to re-create it"), and "If a
    user attempts to delete a stack with termination protection enabled, the deletion fails"
    (STACK_PROTECTION), while a rollback must delete what has deletion protection on. With
    `--no-rollback` the stack stays CREATE_FAILED and the same command continues it (the CLI:
    "The possible actions here are retrying a new `--no-rollback` deployment, or initiating
    a rollback"). Returns whether a rolled-back create can be retried: not once protected."""
    return False


GLOBAL_CLUSTER_API = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_GlobalCluster.html",
    "2026-12-05",
)


def global_cluster_name_is_account_wide() -> bool:
    """Whether an Aurora global database's identifier is one per account, whichever region
    creates it: "GlobalClusterIdentifier: Contains a user-supplied global database cluster
    identifier. This identifier is the unique key that identifies a global database cluster"
    (GLOBAL_CLUSTER_API), and its ARN names no region (``arn:aws:rds::<account>:global-cluster:
    <id>``), while CreateGlobalCluster is served in each region (botocore's rule set)."""
    return True


HOSTED_ZONE_EXISTS = Source(
    "https://docs.aws.amazon.com/botocore/latest/reference/services/route53/client/exceptions/"
    "HostedZoneAlreadyExists.html",
    "2026-12-05",
)


CREATE_HOSTED_ZONE = Source(
    "https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html",
    "2026-12-04",
)


def zone_name_repeats() -> bool:
    """Whether creating a public hosted zone under a name another zone has creates a second
    zone: Route 53 refuses a create only for a repeated caller reference ("Amazon Route 53
    returns this error when a hosted zone has already been created with the specified
    CallerReference" (HOSTED_ZONE_EXISTS)), and "For public hosted zones, Route 53
    automatically creates a default SOA record and four NS records for the zone"
    (CREATE_HOSTED_ZONE): its own name servers, which the domain's delegation must name."""
    return True


FIS_TARGETS = Source("https://docs.aws.amazon.com/fis/latest/userguide/targets.html", "2026-12-05")


def fis_selects_by_every_tag() -> bool:
    """An experiment target given ``resourceTags`` ("The tags applied to specific resources")
    and selection mode ALL selects the resources of its type in the experiment's region that
    carry all of them; "If no targets are found, the experiment fails." (FIS_TARGETS). The page
    does not say all rather than any; where only some tags would do, the experiment role's
    tag conditions still hold it off the rest ("multiple context keys attached to a single
    condition operator ... are evaluated using a logical AND", IAM's condition logic)."""
    return True


MRSC_DESIGN = Source(
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-global-table-design.html",
    "2026-12-05",
)


def strong_table_quorum(region: str, regions: Iterable[str], up: Iterable[str]) -> bool:
    """Whether ``region``'s replica of a table of multi-Region strong consistency (replicas and
    witness in ``regions``) takes writes: "The local Region accepts all read and write
    operations as long as there is a second Region that hosts a replica or witness to establish
    quorum. If a second Region isn't available, the local Region can only service eventually
    consistent reads" (MRSC_DESIGN)."""
    alive = set(up)
    return region in alive and len(alive & (set(regions) - {region})) >= 1


GLOBAL_DATABASE_DELETE = Source(
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-deleting.html",
    "2026-12-05",
)


def global_member_deletes() -> bool:
    """Whether deleting a stack deletes a DB cluster that is still a member of a global
    database its stack does not delete: "you can't delete the global database and its
    associated clusters in a single step ... Remove the primary DB cluster from the Aurora
    global database" (GLOBAL_DATABASE_DELETE); CloudFormation's DBCluster delete handler
    detaches a cluster only when its template names a GlobalClusterIdentifier, which the
    primary's (made a member through the global cluster's SourceDBClusterIdentifier) does not.
    It does not: the stack's deletion fails on the cluster."""
    return False


RDS_REPLICA_CLI = Source(
    "https://docs.aws.amazon.com/cli/latest/reference/rds/create-db-instance-read-replica.html",
    "2026-12-05",
)
# What the RDS create cross-Region replica block copies to the replica it makes (its template's
# properties; rules.rds_replica_block_enables_iam_auth quotes the list), and what a replica
# takes from its source whatever anyone asks: its engine and version, credentials, storage and
# encryption ("All other attributes ... are inherited from the source DB instance or cluster,
# except as specified", RDS_REPLICA_CLI). Everything else its template sets, the replica gets
# only if someone sets it: "RDS creates read replicas with backups disabled" (RDS_REPLICA_CLI).
REPLICA_BLOCK_COPIES = frozenset(
    {
        "DBInstanceIdentifier",
        "DBParameterGroupName",
        "DBSubnetGroupName",
        "KmsKeyId",
        "VPCSecurityGroups",
        "OptionGroupName",
    }
)
REPLICA_FROM_SOURCE = frozenset(
    {
        "Engine",
        "EngineVersion",
        "MasterUsername",
        "MasterUserPassword",
        "StorageEncrypted",
        "AllocatedStorage",
        "StorageType",
        "Port",
        "DBName",
        "SourceDBInstanceIdentifier",
        "SourceRegion",
    }
)


def replica_matches_template(template: set[str], adopted: set[str]) -> set[str]:
    """What an instance the replica block made still lacks of what its template sets, once
    ``adopted`` has been set on it: every property but what the block copies
    (REPLICA_BLOCK_COPIES, the block's own list (RS_RDS_REPLICA)) and what a replica takes
    from its source (REPLICA_FROM_SOURCE, in AWS's words (RDS_REPLICA_CLI)). CloudFormation
    sees no drift in what it did not set (the instance keeps the identifier it knows), so
    nothing but the failback sets it again: tags (what drills and reports find it by),
    monitoring, log exports, backups."""
    return template - REPLICA_BLOCK_COPIES - REPLICA_FROM_SOURCE - adopted
