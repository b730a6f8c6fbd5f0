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


def test_every_variable_drtiers_sets_is_one_the_schema_reserves(synthesized: Synthesized) -> None:
    """The reserved names follow what grant_app really sets, in every tier."""
    for tier in synthesized.tiers:
        for task in synthesized.read(tier).of_type("AWS::ECS::TaskDefinition"):
            for container in task.prop("ContainerDefinitions"):
                for variable in container.get("Environment", []):
                    assert re.match(RESERVED_ENV_PATTERN, variable["Name"]), variable["Name"]
