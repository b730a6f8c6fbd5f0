"""Values the workload schema refuses because AWS, or drtiers itself, would reject them at
deploy: each refused at the file with one line naming the field, the value and what is allowed.
Config-level checks only (no synthesis), so they cost next to nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drtiers.config.context import ConfigError
from drtiers.config.workload import RESERVED_ENV_PATTERN
from tests.conftest import Synthesized, config

# Each case: the file's text, and the error after "workload file <path>: ".
REFUSED: list[tuple[str, str, str]] = [
    (
        "a variable drtiers sets for a table",
        "service: {image: web, environment: {TABLE_NAME_ORDERS: mine}}",
        "service.environment: 'TABLE_NAME_ORDERS' is drtiers' own variable; allowed: any other "
        "name (not TABLE_NAME*, QUEUE_URL*, DAX_ENDPOINT*, DATABASE_*, CONTROL_TABLE_NAME, "
        "CONTROL_TABLE_REGIONS)",
    ),
    (
        "the writer-region table's variable",
        "service: {image: web, environment: {LOG_LEVEL: info, CONTROL_TABLE_REGIONS: x}}",
        "service.environment: 'CONTROL_TABLE_REGIONS' is drtiers' own variable; allowed:",
    ),
    (
        "a database variable",
        "service: {image: web, environment: {DATABASE_PASSWORD: x}}",
        "service.environment: 'DATABASE_PASSWORD' is drtiers' own variable; allowed:",
    ),
    (
        "a credential Control Tower's CT.ECS.PR.12 refuses in a task definition (make check)",
        "service: {image: web, environment: {AWS_SECRET_ACCESS_KEY: x}}",
        "service.environment: 'AWS_SECRET_ACCESS_KEY' is a credential, which Control Tower's "
        "CT.ECS.PR.12 refuses in a task definition; allowed: any other name",
    ),
    (
        "an AWS setting the task gets from its region (sixth review, B1)",
        "service: {image: web, environment: {AWS_REGION: us-east-1}}",
        "service.environment: 'AWS_REGION' is an AWS setting, which each task gets from the "
        "region it runs in (one file configures both regions); allowed: any name not starting "
        "AWS_ or ECS_",
    ),
    (
        "an image ECS refuses: a character it does not allow",
        "service: {image: 'web@latest'}",
        "service.image: 'web@latest' is not valid; allowed: a container image reference without "
        "spaces, such as public.ecr.aws/nginx/nginx-unprivileged:alpine: up to 255 letters, "
        "digits, - _ . : / or #, then @sha256:<64 hex digits> for a digest (what ECS accepts)",
    ),
    (
        "an image ECS refuses: over 255 characters",
        "service: {image: registry.example/" + "a" * 240 + "}",
        "service.image: 'registry.example/aaa",
    ),
    (
        "an image ECS refuses: a digest that is not 64 hex digits",
        "service: {image: 'web@sha256:abc'}",
        "service.image: 'web@sha256:abc' is not valid; allowed:",
    ),
    (
        "a uid that is root written another way",
        "service: {image: web, user: '00'}",
        "service.user: '00' is not valid; allowed: a non-root user name or uid",
    ),
    (
        "a backup retention Control Tower's CT.RDS.PR.8 refuses (make check's Guard rules)",
        "service: {image: web}\ndatabase: {backup_retention_days: 6}",
        "database.backup_retention_days: 6 is not valid; allowed: automated backups and "
        "point-in-time recovery, 7 to 35 days (Control Tower's CT.RDS.PR.8 wants at least 7)",
    ),
    (
        "a sort key of the partition key's name (DynamoDB wants two attributes)",
        "service: {image: web}\ntables: [{name: orders, partition_key: {name: id}, "
        "sort_key: {name: id, type: N}}]",
        "tables[0]: sort_key name 'id' is partition_key's too; allowed: another attribute name "
        "(a composite primary key is two attributes)",
    ),
    (
        "a queue named as another queue's dead-letter queue (SQS: QueueNameExists)",
        "service: {image: web}\nqueues: [{name: jobs}, {name: jobs-dlq}]",
        "(top level): queues: name 'jobs-dlq' is the dead-letter queue of queue 'jobs'; "
        "allowed: a name not ending -dlq",
    ),
    (
        "fewer DAX nodes than Control Tower's CT.DAX.PR.2 wants (make check's Guard rules)",
        "service: {image: web}\ntables: [{name: orders, partition_key: {name: id}, "
        "dax: {nodes: 2}}]",
        "tables[0].dax.nodes: 2 is not valid; allowed: nodes per cluster, 3 to 10, one per "
        "zone in turn (Control Tower's CT.DAX.PR.2 wants at least 3)",
    ),
]


def refusal(tmp_path: Path, text: str) -> str:
    """The one line a workload file of ``text`` is refused with (what cdk synth prints)."""
    path = tmp_path / "drtiers.yaml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as raised:
        config(workload=str(path))
    message = str(raised.value)
    assert "\n" not in message
    prefix = f"workload file {path}: "
    assert message.startswith(prefix), message
    return message.removeprefix(prefix)


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_a_value_aws_or_drtiers_would_reject_is_refused_at_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    assert refusal(tmp_path, text).startswith(message)


def test_a_variable_of_another_name_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "drtiers.yaml"
    path.write_text("service: {image: web, environment: {LOG_LEVEL: info, DATABASE: x}}\n")
    assert dict(config(workload=str(path)).service.environment) == {
        "LOG_LEVEL": "info",
        "DATABASE": "x",
    }


def test_what_aws_and_the_gates_accept_still_passes(tmp_path: Path) -> None:
    """The edges of each tightened range, and an image named by digest."""
    digest = "sha256:" + "0123456789abcdef" * 4
    path = tmp_path / "drtiers.yaml"
    path.write_text(
        f"service: {{image: 'public.ecr.aws/x/web@{digest}', user: '1000'}}\n"
        "database: {backup_retention_days: 7}\n"
        "tables: [{name: orders, partition_key: {name: id}, dax: {nodes: 3}}]\n"
    )
    workload = config(workload=str(path)).workload
    assert workload.service.image.endswith(digest)
    assert workload.database is not None and workload.database.backup_retention_days == 7
    dax = workload.tables[0].dax
    assert dax is not None and dax.nodes == 3


def test_sandbox_keeps_its_one_dax_node(tmp_path: Path) -> None:
    """Sandbox's own size, below what a file may ask: drtiers' choice, not the user's."""
    dax = config(sandbox="true").workload.tables[0].dax
    assert dax is not None and dax.nodes == 1


def test_every_variable_drtiers_sets_is_one_the_schema_reserves(synthesized: Synthesized) -> None:
    """The reserved names follow what grant_app really sets, in every tier."""
    for tier in synthesized.tiers:
        for task in synthesized.read(tier).of_type("AWS::ECS::TaskDefinition"):
            for container in task.prop("ContainerDefinitions"):
                for variable in container.get("Environment", []):
                    assert re.match(RESERVED_ENV_PATTERN, variable["Name"]), variable["Name"]
