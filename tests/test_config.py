"""Configuration: every bad value fails with one line naming the key, the value and the fix."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drtiers.cli import main as cli
from drtiers.config.context import (
    CONTEXT_KEYS,
    EDGE_REGION,
    ConfigError,
    DrConfig,
    cdk_json_context,
    check_context_keys,
)
from tests.conftest import ROOT

SNAPSHOT = "arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:copyjob-1"
LISTENER = "arn:aws:globalaccelerator::123456789012:accelerator/a1/listener/b2"


EVENT = "2612042310"  # 2026-12-04 23:10 UTC


def restore(snapshot: str, listener: str, event: object = EVENT) -> str:
    return json.dumps({"database_snapshot": snapshot, "listener_arn": listener, "event": event})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"tier": "hot-standby"},
            "context key 'tier': 'hot-standby' is not valid; allowed: backup-restore, pilot-light, "
            "warm-standby, multi-site (or none for all four)",
        ),
        (
            {"recovery_region": "us-east-1"},
            "context key 'recovery_region': 'us-east-1' is the primary region too; allowed: any "
            "other AWS commercial region",
        ),
        (
            {"primary_region": "us-east-9"},
            "context key 'primary_region': 'us-east-9' is not valid; allowed: an AWS commercial "
            "region such as us-east-1 or eu-west-1",
        ),
        (
            {"recovery_region": "cn-north-1"},
            "context key 'recovery_region': 'cn-north-1' is not valid; allowed: an AWS commercial "
            "region such as us-east-1 or eu-west-1",
        ),
        (
            {"primary_region": "af-south-1"},
            "context key 'primary_region': 'af-south-1' is not valid; allowed: a region with "
            "DynamoDB Accelerator (DAX): ",
        ),
        (
            {"recovery_region": "ca-central-1", "tier": "warm-standby"},
            "context key 'recovery_region': 'ca-central-1' is not valid; allowed: a region with "
            "DynamoDB Accelerator (DAX): ",
        ),
        (
            {"account": "12345"},
            "context key 'account': '12345' is not valid; allowed: a 12-digit AWS account id",
        ),
        (
            {"account": 123456789012},
            "context key 'account': 123456789012 is not valid; allowed: a 12-digit AWS account id",
        ),
        (
            {"full_task_count": "-2"},
            "context key 'full_task_count': '-2' is not valid; allowed: a whole number from 1 to "
            "100",
        ),
        (
            {"full_task_count": "2.5"},
            "context key 'full_task_count': '2.5' is not valid; allowed: a whole number from 1 to "
            "100",
        ),
        (
            {"reduced_task_count": 0},
            "context key 'reduced_task_count': 0 is not valid; allowed: a whole number from 1 to "
            "below full",
        ),
        (
            {"reduced_task_count": 2, "full_task_count": 2},
            "context key 'reduced_task_count': reduced 2 is not below full 2; allowed: a whole "
            "number from 1 to 1",
        ),
        ({"sandbox": "yes"}, "context key 'sandbox': 'yes' is not valid; allowed: true or false"),
        (
            {"app_name": "My_App"},
            "context key 'app_name': 'My_App' is not valid; allowed: 3-16 lowercase letters, "
            "digits or hyphens, starting with a letter",
        ),
        (
            {"hosted_zone_id": "zone-1"},
            "context key 'hosted_zone_id': 'zone-1' is not valid; allowed: a Route 53 hosted zone "
            "id such as Z0123456789ABC",
        ),
        (
            {"container_image": "nginx latest"},
            "context key 'container_image': 'nginx latest' is not valid; allowed: a container "
            "image reference without spaces",
        ),
        (
            {"health_check_path": "health"},
            "context key 'health_check_path': 'health' is not valid; allowed: an absolute URL path "
            "such as /health",
        ),
        (
            {"primary_region": "eu-north-1"},
            "context key 'availability_zones': no entry for region 'eu-north-1'; allowed: two or "
            "more distinct zone names of eu-north-1, such as eu-north-1a, eu-north-1b",
        ),
        (
            {
                "availability_zones": '{"us-east-1": ["us-east-1a"], "us-west-2": ["us-west-2a", '
                '"us-west-2b"]}'
            },
            "context key 'availability_zones.us-east-1': [\"us-east-1a\"] is not valid; allowed: "
            "two or more distinct zone names of us-east-1, such as us-east-1a, us-east-1b",
        ),
        (
            {"availability_zones": "{not json"},
            "context key 'availability_zones': '{not json' is not valid; allowed: a JSON object "
            "such as",
        ),
        (
            {"resilience_hub": "yes"},
            "context key 'resilience_hub': 'yes' is not valid; allowed: true or false",
        ),
        (
            {"resilience_hub": "true", "recovery_region": "eu-south-2"},
            "context key 'recovery_region': 'eu-south-2' is not valid; allowed: a region with AWS "
            "Resilience Hub for resilience_hub=true (its stack lives in the recovery region): ",
        ),
        (
            {"failed_over": "yes"},
            "context key 'failed_over': 'yes' is not valid; allowed: true or false",
        ),
        (
            {"primary_region": "us-west-2", "recovery_region": "us-east-1"},
            "context key 'primary_region': 'us-west-2' is not valid; allowed: a region other than "
            "us-west-2 for backup-restore, multi-site: their failover holds the lost region off "
            "through the Global Accelerator API, served from us-west-2 only",
        ),
        (
            {"restore_from": "not json"},
            "context key 'restore_from': 'not json' is not valid; allowed: a JSON object "
            '{"database_snapshot": ',
        ),
        (
            {"restore_from": restore(SNAPSHOT, LISTENER)},
            "context key 'restore_from': only a tier that is rebuilt after the event can be "
            "restored; allowed: with tier=backup-restore",
        ),
        (
            {
                "tier": "backup-restore",
                "restore_from": restore(SNAPSHOT, LISTENER),
            },
            "context key 'restore_from.database_snapshot': "
            "'arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:copyjob-1' is not valid; "
            "allowed: an RDS snapshot ARN in us-east-1 of account 123456789012",
        ),
        (
            {
                "tier": "backup-restore",
                "primary_region": "us-west-2",
                "recovery_region": "us-east-1",
                "restore_from": restore(SNAPSHOT, "x"),
            },
            "context key 'restore_from.listener_arn': 'x' is not valid; allowed: "
            "arn:aws:globalaccelerator::",
        ),
        (
            {
                "tier": "backup-restore",
                "restore_from": json.dumps({"database_snapshot": SNAPSHOT}),
            },
            "context key 'restore_from': ",
        ),
        (
            {
                "tier": "backup-restore",
                "primary_region": "us-west-2",
                "recovery_region": "us-east-1",
                "restore_from": restore(SNAPSHOT, LISTENER, "2612043"),
            },
            "context key 'restore_from.event': '2612043' is not valid; allowed: the event's UTC "
            "time as yymmddHHMM, 10 digits (date -u +%y%m%d%H%M)",
        ),
        (
            {
                "tier": "backup-restore",
                "primary_region": "us-west-2",
                "recovery_region": "us-east-1",
                "restore_from": restore(SNAPSHOT, LISTENER, "2613042310"),  # month 13
            },
            "context key 'restore_from.event': '2613042310' is not valid; allowed: ",
        ),
        (
            {
                "tier": "backup-restore",
                "primary_region": "us-west-2",
                "recovery_region": "us-east-1",
                "restore_from": restore(SNAPSHOT, LISTENER, 2612042310),
            },
            "context key 'restore_from.event': 2612042310 is not valid; allowed: ",
        ),
    ],
)
def test_bad_input_is_one_line_naming_key_value_and_allowed(
    make_config: Callable[..., DrConfig], overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(**overrides)
    text = str(raised.value)
    assert text.startswith(message)
    assert "\n" not in text


def test_defaults_build_all_four_tiers(make_config: Callable[..., DrConfig]) -> None:
    config = make_config()
    assert [t.name for t in config.tiers] == [
        "backup-restore",
        "pilot-light",
        "warm-standby",
        "multi-site",
    ]
    assert (config.primary_region, config.recovery_region) == ("us-east-1", "us-west-2")
    assert config.sandbox is False
    assert config.hosted_zone_id is None
    assert config.availability_zones["us-west-2"] == ("us-west-2a", "us-west-2b", "us-west-2c")


def test_command_line_strings_are_parsed(make_config: Callable[..., DrConfig]) -> None:
    config = make_config(
        tier="pilot-light",
        sandbox="TRUE",
        full_task_count="6",
        reduced_task_count="3",
        domain_name="dr.your-company.io",
        hosted_zone_id="Z0123456789ABC",
    )
    assert [t.name for t in config.tiers] == ["pilot-light"]
    tasks = config.service.tasks
    assert (config.sandbox, tasks.full, tasks.reduced) == (True, 6, 3)
    assert (config.domain_name, config.hosted_zone_id) == ("dr.your-company.io", "Z0123456789ABC")


# Route 53 rejects hosted zones for these (RFC 2606 and RFC 6761 names): InvalidDomainName.
RESERVED_DOMAINS = (
    "example.com",
    "a.example.net",
    "foo.test",
    "x.invalid",
    "localhost",
    "example.org",
    "bar.example",
)
MALFORMED_DOMAINS = ("not a domain", "Dr.Company.io", "io", "-dr.company.io", "dr.company.io.")


@pytest.mark.parametrize("domain", [*RESERVED_DOMAINS, *MALFORMED_DOMAINS])
def test_a_reserved_or_malformed_domain_is_one_line(
    make_config: Callable[..., DrConfig], domain: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(domain_name=domain)
    text = str(raised.value)
    assert text.startswith(f"context key 'domain_name': '{domain}' is not valid; allowed: ")
    assert "RFC 2606" in text
    assert "\n" not in text


def test_a_reserved_domain_is_refused_with_a_zone_id_too(
    make_config: Callable[..., DrConfig],
) -> None:
    with pytest.raises(ConfigError, match=r"'domain_name': 'example\.com' is not valid"):
        make_config(domain_name="example.com", hosted_zone_id="Z0123456789ABC")


def test_without_a_domain_a_zone_is_named_after_app_and_account(
    make_config: Callable[..., DrConfig],
) -> None:
    assert make_config().domain_name == "drtiers-123456789012.com"
    assert make_config(domain_name=None).domain_name == "drtiers-123456789012.com"
    config = make_config(app_name="shop", account="210987654321")
    assert config.domain_name == "shop-210987654321.com"
    assert config.hosted_zone_id is None


def test_a_zone_id_needs_the_zones_name(make_config: Callable[..., DrConfig]) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(hosted_zone_id="Z0123456789ABC")
    assert str(raised.value) == (
        "context key 'domain_name': missing; allowed: the name of hosted zone "
        "Z0123456789ABC (records are named <app>-<tier>.<domain_name>)"
    )


def test_pilot_light_needs_no_dax_in_recovery(make_config: Callable[..., DrConfig]) -> None:
    config = make_config(
        tier="pilot-light",
        recovery_region="ca-central-1",
        availability_zones='{"us-east-1": ["us-east-1a", "us-east-1b"], '
        '"ca-central-1": ["ca-central-1a", "ca-central-1b"]}',
    )
    assert config.recovery_region == "ca-central-1"


def test_edge_region_is_route53_home() -> None:
    assert EDGE_REGION == "us-east-1"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"rto_target": "fast"},
            "context key 'rto_target': 'fast' is not a duration; allowed: a number with s, m, h or "
            "d, such as 90s, 15m, 4h, 1d",
        ),
        (
            {"assumptions": '{"restore_rate_gb_per_hour": -1}'},
            "context key 'assumptions': assumption 'restore_rate_gb_per_hour': -1.0 is negative; "
            "allowed: a number >= 0",
        ),
        (
            {"assumptions": '{"restore_rate_gb_per_hour": 0}'},
            "context key 'assumptions': assumption 'restore_rate_gb_per_hour': 0.0 is zero, and "
            "the estimate divides by it; allowed: a number above 0",
        ),
        (
            {"backup_frequency": "5h"},
            "context key 'backup_frequency': '5h' is not valid; allowed: 1h, 2h, 3h, 4h, 6h, 8h, "
            "12h or 24h (AWS Backup schedules as often as hourly; an interval that divides the "
            "day keeps backups evenly spaced)",
        ),
        (
            {"backup_frequency": "daily"},
            "context key 'backup_frequency': 'daily' is not valid; allowed: 1h, 2h, 3h, 4h, 6h, ",
        ),
        (
            {"tier": "backup-restore", "rpo_target": "2h"},
            "context key 'rpo_target': '2h' cannot be met by backup-restore: hourly backups (AWS "
            "Backup's most frequent) plus up to 3.0 h to copy them to the recovery region; "
            "allowed: 4.0 h or more, or a tier that replicates (pilot-light, warm-standby, "
            "multi-site)",
        ),
        (
            {"assumptions": "[1]"},
            "context key 'assumptions': '[1]' is not valid; allowed: a JSON object of assumption "
            "name to number",
        ),
    ],
)
def test_bad_targets_and_assumptions(
    make_config: Callable[..., DrConfig], overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(**overrides)
    assert str(raised.value).startswith(message)


def test_targets_parse(make_config: Callable[..., DrConfig]) -> None:
    config = make_config(rto_target="15m", rpo_target="90s", assumptions={"database_size_gb": 500})
    assert (config.rto_target_seconds, config.rpo_target_seconds) == (900, 90)
    assert config.assumptions == {"database_size_gb": 500.0}


def test_a_rebuild_restores_from_the_copied_snapshot(make_config: Callable[..., DrConfig]) -> None:
    """backup-restore's failover: the primary stack in the recovery region, from its copies."""
    config = make_config(
        tier="backup-restore",
        primary_region="us-west-2",
        recovery_region="us-east-1",
        restore_from=restore(SNAPSHOT, LISTENER),
    )
    assert config.restore_from is not None
    assert config.restore_from.database_snapshot.endswith(":snapshot:awsbackup:copyjob-1")
    assert config.restore_from.listener_arn.endswith("/listener/b2")
    assert config.restore_from.event == EVENT
    assert config.restore_from.named("drtiers-backup-restore-work") == (
        f"drtiers-backup-restore-work-{EVENT}"
    )
    assert config.restore_from.named("orders.fifo") == f"orders-{EVENT}.fifo"
    assert make_config(failed_over="true").failed_over is True
    assert make_config().failed_over is False and make_config().restore_from is None


EAST = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
WEST = "arn:aws:acm:us-west-2:123456789012:certificate/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff"


def test_https_needs_a_zone_or_certificates(make_config: Callable[..., DrConfig]) -> None:
    assert make_config().https is False  # the created zone cannot validate a certificate yet
    assert make_config(domain_name="dr.acme-corp.io").https is False
    zoned = make_config(domain_name="dr.acme-corp.io", hosted_zone_id="Z0123456789ABC")
    assert zoned.https is True and zoned.certificate_arns == {}
    given = make_config(certificate_arns=json.dumps({"us-east-1": EAST, "us-west-2": WEST}))
    assert given.https is True
    assert given.certificate_arns == {"us-east-1": EAST, "us-west-2": WEST}
    # backup-restore has load balancers in P only (until a rebuild moves P).
    assert make_config(tier="backup-restore", certificate_arns={"us-east-1": EAST}).https


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[1]", "context key 'certificate_arns': '[1]' is not valid; allowed: a JSON object"),
        (
            {"us-east-1": EAST},
            "context key 'certificate_arns': no entry for region 'us-west-2'; allowed: ",
        ),
        (
            {"us-east-1": EAST, "us-west-2": WEST, "eu-west-1": EAST},
            "context key 'certificate_arns': 'eu-west-1' is not valid; allowed: the regions of "
            "the load balancers, us-east-1 and us-west-2, as keys",
        ),
        (
            {"us-east-1": WEST, "us-west-2": WEST},
            f"context key 'certificate_arns.us-east-1': '{WEST}' is not valid; allowed: an ACM "
            "certificate ARN in us-east-1 of account 123456789012",
        ),
        (
            {"us-east-1": EAST.replace("123456789012", "210987654321"), "us-west-2": WEST},
            "context key 'certificate_arns.us-east-1': 'arn:aws:acm:us-east-1:210987654321:",
        ),
        (
            {"us-east-1": "arn:aws:acm:us-east-1:123456789012:certificate/x", "us-west-2": WEST},
            "context key 'certificate_arns.us-east-1': 'arn:aws:acm:us-east-1:123456789012:"
            "certificate/x' is not valid",
        ),
        (
            {"us-east-1": 7, "us-west-2": WEST},
            "context key 'certificate_arns.us-east-1': 7 is not valid; allowed: ",
        ),
    ],
)
def test_bad_certificate_arns_are_one_line(
    make_config: Callable[..., DrConfig], value: object, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(certificate_arns=value if isinstance(value, str) else json.dumps(value))
    text = str(raised.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_rpo_target_picks_backup_restores_backup_interval(
    make_config: Callable[..., DrConfig],
) -> None:
    """The least frequent schedule whose RPO at its high end (interval + 3 h to copy) meets
    the target; backup_frequency given wins; other tiers keep their own default."""
    for target, hours in (("4h", 1), ("6h", 3), ("7h", 4), ("1d", 12), ("2d", 24)):
        assert make_config(tier="backup-restore", rpo_target=target).backup_interval_hours == hours
    given = make_config(tier="backup-restore", rpo_target="20h", backup_frequency="1h")
    assert given.backup_interval_hours == 1
    assert make_config(rpo_target="6h").backup_interval_hours is None  # all four: no choice
    assert make_config(backup_frequency="12h").backup_interval_hours == 12
    # A slower copy (an assumption the user sets) needs more frequent backups.
    slow = make_config(
        tier="backup-restore", rpo_target="6h", assumptions='{"backup_copy_seconds": 14400}'
    )
    assert slow.backup_interval_hours == 2


def test_a_misspelt_context_key_is_one_line_naming_the_key_it_resembles() -> None:
    """A key drtiers does not read would be ignored, and the app synthesized with the default
    it was meant to change (teir=pilot-light gives all four tiers, primary-region=eu-west-1
    deploys to us-east-1)."""
    for key, near in (("teir", "tier"), ("primary-region", "primary_region")):
        with pytest.raises(ConfigError) as refused:
            check_context_keys({**cdk_json_context(), key: "x"})
        message = str(refused.value)
        assert message.startswith(f"context key '{key}' is not one drtiers reads (did you mean")
        assert f"{near}?" in message and "allowed: " in message and "\n" not in message
    check_context_keys(
        {**cdk_json_context(), "@aws-cdk/core:newStyleStackSynthesis": True, "fleet": "f.yaml"}
    )
    check_context_keys({k: None for k in (*CONTEXT_KEYS, "cli-telemetry", "aws:cdk:x")})


def test_the_cli_refuses_a_misspelt_context_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["list", "--context", "teir=pilot-light"]) == 2
    assert capsys.readouterr().err.startswith("drtiers: error: context key 'teir' is not one")


def test_the_readme_lists_every_context_key_drtiers_reads() -> None:
    section = (ROOT / "README.md").read_text().split("## Context keys", 1)[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed = {key for row in rows for key in re.findall(r"`([a-z_]+)`", row.split(" | ")[0])}
    assert listed == CONTEXT_KEYS


@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["init", "--out", "{tmp}/no-such-folder/drtiers.yaml"], "{tmp}/no-such-folder/"),
        (["report", "--out", "{tmp}/a-file/reports", "--tier", "pilot-light"], "--out {tmp}/a"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_one_line(
    argv: list[str], path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    assert cli([part.replace("{tmp}", str(tmp_path)) for part in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"drtiers: error: {path.replace('{tmp}', str(tmp_path))}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing half-written


@pytest.mark.parametrize(
    "argv",
    [
        ["destroy", "--tier", "pilot-light", "--json"],  # prints a procedure, not a result
        ["report", "--json"],  # writes files
        ["fleet", "list", "--assembly", "cdk.out"],  # each application is its own synthesis
        ["fleet", "list", "--set", "database_size_gb=1"],
    ],
)
def test_an_option_the_command_would_ignore_is_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(argv)
    assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_a_missing_workload_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["list", "--context", "workload=/nowhere/drtiers.yaml"]) == 2
    assert capsys.readouterr().err == (
        "drtiers: error: context key 'workload': '/nowhere/drtiers.yaml' is not a file; allowed: "
        "the path of a workload file (drtiers init writes one), or reference\n"
    )
