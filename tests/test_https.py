"""HTTPS at the entry point: with the user's zone (a certificate validated there), with
certificate ARNs per region, and without either (plain HTTP, said once per synth)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Capture, Match, Template

from drtiers.assembly.reader import acknowledgments, read_assembly
from drtiers.assembly.world import read_world
from drtiers.assess import assess_assembly
from drtiers.build import synthesize
from drtiers.checks.dr import dr_findings
from drtiers.checks.gates import cdk_nag
from drtiers.checks.guard import guard
from drtiers.entry import PLAIN_HTTP_NOTICE
from drtiers.recovery import simulate_assembly
from drtiers.recovery.steps import _http_seconds
from tests.conftest import Synthesized, context, main_as_the_cli
from tests.test_app import run_app
from tests.test_config import EAST, WEST

DOMAIN, ZONE = "dr.acme-corp.io", "Z0123456789ABC"
CERTIFICATES = {"us-east-1": EAST, "us-west-2": WEST}
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09"  # TLS 1.3 and 1.2, post-quantum key exchange
REGIONAL = ("primary", "recovery")
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
HEALTH_CHECK = "AWS::Route53::HealthCheck"


@pytest.fixture(scope="module")
def zoned() -> Synthesized:
    """All four tiers with a domain and the user's zone."""
    return Synthesized(domain_name=DOMAIN, hosted_zone_id=ZONE)


@pytest.fixture(scope="module")
def given() -> Synthesized:
    return Synthesized(tier="pilot-light", certificate_arns=json.dumps(CERTIFICATES))


def _of(assembly: Synthesized, stack: str, type_: str) -> list[str]:
    """The logical ids of the stack's resources of this type."""
    return list(assembly.template(stack).find_resources(type_))


def _regional(assembly: Synthesized) -> list[str]:
    return [
        s.stack_name for stacks in assembly.tiers.values() for s in stacks.all if s.role in REGIONAL
    ]


def _first_action(template: Template, port: int, protocol: str) -> str:
    """The type of the first default action of the load balancer's listener on ``port``, which
    must listen with ``protocol``."""
    actions = Capture()
    template.has_resource_properties(
        LISTENER, {"Port": port, "Protocol": protocol, "DefaultActions": actions}
    )
    return str(actions.as_array()[0]["Type"])


def test_with_a_zone_each_load_balancer_listens_on_https(zoned: Synthesized) -> None:
    stacks = _regional(zoned)
    assert len(stacks) == 7  # backup-restore has no recovery stack
    for stack in stacks:
        template = zoned.template(stack)
        template.resource_count_is(LISTENER, 2)  # on 80 and on 443
        (logical_id,) = _of(zoned, stack, "AWS::CertificateManager::Certificate")
        template.has_resource_properties(
            LISTENER,
            {
                "Port": 443,
                "SslPolicy": TLS_POLICY,
                "Certificates": Match.exact([{"CertificateArn": {"Ref": logical_id}}]),
            },
        )
        assert _first_action(template, 443, "HTTPS") == "forward"
        redirect = {
            "Type": "redirect",
            "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"},
        }
        template.has_resource_properties(
            LISTENER, {"Port": 80, "Protocol": "HTTP", "DefaultActions": Match.exact([redirect])}
        )


@pytest.mark.parametrize("tier", ["backup-restore", "pilot-light", "warm-standby", "multi-site"])
def test_the_certificate_names_the_entry_and_is_validated_in_the_zone(
    zoned: Synthesized, tier: str
) -> None:
    name = f"drtiers-{tier}.{DOMAIN}"
    edge = zoned.template(f"drtiers-{tier}-edge")
    assert edge.find_resources("AWS::Route53::RecordSet")
    edge.all_resources_properties("AWS::Route53::RecordSet", {"Name": name})
    edge.resource_count_is("AWS::Route53::HostedZone", 0)  # given, not made
    assert zoned.app.node.try_find_child("drtiers-zone") is None  # nor a zone stack
    for stack in _regional(zoned):
        if stack.startswith(f"drtiers-{tier}-"):
            template = zoned.template(stack)
            template.resource_count_is("AWS::CertificateManager::Certificate", 1)
            template.has_resource_properties(
                "AWS::CertificateManager::Certificate",
                {
                    "DomainName": name,
                    "ValidationMethod": "DNS",
                    "DomainValidationOptions": Match.exact(
                        [{"DomainName": name, "HostedZoneId": ZONE}]
                    ),
                },
            )


@pytest.mark.parametrize("tier", ["pilot-light", "warm-standby"])
def test_route53_probes_the_primary_over_https(zoned: Synthesized, tier: str) -> None:
    edge = zoned.template(f"drtiers-{tier}-edge")
    probes = len(edge.find_resources(HEALTH_CHECK)) - sum(
        len(_checks_of(edge, kind)) for kind in ("CALCULATED", "CLOUDWATCH_METRIC")
    )
    assert probes == 1
    primary_dns = {
        "Fn::GetStackOutput": {
            "StackName": f"drtiers-{tier}-primary",
            "OutputName": "LoadBalancerDnsName",
        }
    }
    edge.has_resource_properties(
        HEALTH_CHECK,
        {
            "HealthCheckConfig": {
                "Type": "HTTPS",
                "Port": 443,
                "EnableSNI": True,
                "FullyQualifiedDomainName": Match.object_equals(primary_dns),
            }
        },
    )


def _checks_of(template: Template, kind: str) -> list[str]:
    """The logical ids of the Route 53 health checks of this type (HTTP, HTTPS, CALCULATED,
    ...)."""
    config = {"Properties": {"HealthCheckConfig": {"Type": kind}}}
    return list(template.find_resources(HEALTH_CHECK, config))


@pytest.mark.parametrize("tier", ["backup-restore", "multi-site"])
def test_the_accelerator_checks_https_and_passes_both_ports(zoned: Synthesized, tier: str) -> None:
    edge = f"drtiers-{tier}-edge"
    template = zoned.template(edge)
    template.resource_count_is("AWS::GlobalAccelerator::Listener", 1)
    ports = [{"FromPort": 443, "ToPort": 443}, {"FromPort": 80, "ToPort": 80}]
    template.has_resource_properties(
        "AWS::GlobalAccelerator::Listener", {"PortRanges": Match.exact(ports)}
    )
    assert _of(zoned, edge, "AWS::GlobalAccelerator::EndpointGroup")
    template.all_resources_properties(
        "AWS::GlobalAccelerator::EndpointGroup",
        {"HealthCheckProtocol": "HTTPS", "HealthCheckPort": 443},
    )


def test_the_model_reads_an_https_probe_as_the_primary_load_balancer(zoned: Synthesized) -> None:
    """The simulator and the estimate follow P's load balancer through an HTTPS check as
    through an HTTP one: same region, same detection (30 s x 3)."""
    world = read_world(read_assembly(Path(zoned.assembly.directory))["pilot-light"])
    (probe,) = [c for c in world.health_checks.values() if c.kind == "HTTPS"]
    assert probe.probes_endpoint and probe.region == "us-east-1" and probe.seconds == 90
    primary = next(r for r in world.records if r.failover == "PRIMARY")
    assert primary.health_check is not None
    assert _http_seconds(world, primary.health_check) == 90


def test_https_changes_no_rto_and_no_rpo(zoned: Synthesized, synthesized: Synthesized) -> None:
    """Detection is read from the HTTPS probe as from the HTTP one; only the cost may differ."""
    with_https = {e.tier: e for e in assess_assembly(Path(zoned.assembly.directory))}
    plain = {e.tier: e for e in assess_assembly(Path(synthesized.assembly.directory))}
    for tier, estimate in plain.items():
        assert with_https[tier].rto_seconds == estimate.rto_seconds, tier
        assert with_https[tier].rpo_seconds == estimate.rpo_seconds, tier
        assert not [line for line in estimate.cost if "HTTPS" in line.item]
    # Route 53 bills HTTPS as an optional feature of a health check, on top of the check.
    for tier in ("pilot-light", "warm-standby"):
        (line,) = [line for line in with_https[tier].cost if "HTTPS" in line.item]
        assert (line.region, line.quantity, line.monthly_usd) == ("us-east-1", 1, 1.0)


def test_https_tiers_pass_the_dr_rules_and_the_simulation(zoned: Synthesized) -> None:
    directory = Path(zoned.assembly.directory)
    assert [str(f) for f in dr_findings(directory)] == []
    results = simulate_assembly(
        directory, context(domain_name=DOMAIN, hosted_zone_id=ZONE), synthesize
    )
    assert len(results) == 4
    for loss, back in results:
        assert loss.passed, [str(v) for v in loss.violations]
        assert back.passed, [str(v) for v in back.violations]


def test_given_certificates_are_used_as_they_are(given: Synthesized) -> None:
    for role, region in (("primary", "us-east-1"), ("recovery", "us-west-2")):
        stack = f"drtiers-pilot-light-{role}"
        assert not _of(given, stack, "AWS::CertificateManager::Certificate")
        given.template(stack).has_resource_properties(
            LISTENER,
            {
                "Port": 443,
                "Certificates": Match.exact([{"CertificateArn": CERTIFICATES[region]}]),
                "SslPolicy": TLS_POLICY,
            },
        )
    # Without a zone id the app's zone stack still creates it (it only holds the records).
    assert _of(given, "drtiers-zone", "AWS::Route53::HostedZone")


def test_without_a_domain_that_validates_the_entry_stays_http(synthesized: Synthesized) -> None:
    for stack in _regional(synthesized):
        assert not _of(synthesized, stack, "AWS::CertificateManager::Certificate")
        template = synthesized.template(stack)
        template.resource_count_is(LISTENER, 1)
        assert _first_action(template, 80, "HTTP") == "forward"
    edge = synthesized.template("drtiers-pilot-light-edge")
    assert _checks_of(edge, "HTTP") and not _checks_of(edge, "HTTPS")


def _notices(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "plain HTTP" in line]


# What `cdk synth` runs (app.py's entry.main), in this process: app.py's own route is
# tests/test_app.py's, and a process of its own would start Python, aws_cdk and Node.js again.
def test_a_plain_http_synth_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_as_the_cli(monkeypatch, context(tier="backup-restore"), tmp_path) == 0
    assert _notices(capsys.readouterr().err) == [PLAIN_HTTP_NOTICE]
    assert PLAIN_HTTP_NOTICE.startswith("drtiers: notice: plain HTTP entry point: ")


def test_an_https_synth_says_nothing_about_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    given = context(tier="backup-restore", domain_name=DOMAIN, hosted_zone_id=ZONE)
    assert main_as_the_cli(monkeypatch, given, tmp_path / "out") == 0
    assert _notices(capsys.readouterr().err) == []
    certificates = read_assembly(tmp_path / "out")["backup-restore"].of_type(
        "AWS::CertificateManager::Certificate"
    )
    assert [c.stack for c in certificates].count("drtiers-backup-restore-primary") == 1


BAD_CERTIFICATES = [
    ("not json", "context key 'certificate_arns': 'not json' is not valid; allowed: "),
    (
        json.dumps({"us-east-1": CERTIFICATES["us-east-1"]}),
        "context key 'certificate_arns': no entry for region 'us-west-2'; allowed: ",
    ),
    (
        json.dumps({**CERTIFICATES, "us-west-2": CERTIFICATES["us-east-1"]}),
        "context key 'certificate_arns.us-west-2': '"
        + CERTIFICATES["us-east-1"]
        + "' is not valid; allowed: an ACM certificate ARN in us-west-2 of account 123456789012",
    ),
]


@pytest.mark.parametrize(("value", "message"), BAD_CERTIFICATES)
def test_bad_certificate_arns_exit_2_with_one_line_and_write_nothing(
    tmp_path: Path, value: str, message: str
) -> None:
    result = run_app(tmp_path, tier="pilot-light", certificate_arns=value)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip() and "!!" not in line]
    assert len(lines) == 1, lines
    assert lines[0].startswith("drtiers: error: " + message), lines[0]
    assert list((tmp_path / "out").iterdir()) == []


def test_cdk_nag_passes_with_https(zoned: Synthesized) -> None:
    assert cdk_nag(zoned.app) == []


def test_guard_passes_with_given_certificates(tmp_path: Path) -> None:
    """Control Tower's rules: the listener's certificate is from ACM (CT.ELASTICLOADBALANCING.
    PR.2), and HTTP redirects to HTTPS with no acknowledgment left to say otherwise."""
    synthesize(context(tier="multi-site", certificate_arns=json.dumps(CERTIFICATES)), tmp_path)
    assert guard(tmp_path) == []
    # The only place a rule's name reaches a template is an acknowledgment's metadata.
    acknowledged = {(stack, rule) for stack, _, _, rule, _ in acknowledgments(tmp_path)}
    assert ("drtiers-multi-site-primary", "alb_http_to_https_redirection_check") not in acknowledged


def test_backup_restore_validates_its_rebuild_certificate_beforehand(zoned: Synthesized) -> None:
    """The rebuild happens while P may be us-east-1, home of Route 53's control plane: the
    certificate it needs in R is made (and validated) before the event, by the recovery-base
    stack, and the rebuild reads its ARN in R."""
    base = "drtiers-backup-restore-recovery-base"
    zoned.template(base).resource_count_is("AWS::CertificateManager::Certificate", 1)
    zoned.template(base).has_resource_properties(
        "AWS::CertificateManager::Certificate", {"DomainName": f"drtiers-backup-restore.{DOMAIN}"}
    )
    zoned.template(base).has_output("RebuildCertificateArn", Match.any_value())
    for tier in ("pilot-light", "warm-standby", "multi-site"):  # they keep R's balancer running
        assert not _of(
            zoned, f"drtiers-{tier}-recovery-base", "AWS::CertificateManager::Certificate"
        )
    rebuilt = Synthesized(
        tier="backup-restore",
        primary_region="us-west-2",
        recovery_region="us-east-1",
        domain_name=DOMAIN,
        hosted_zone_id=ZONE,
        restore_from=json.dumps(
            {
                "database_snapshot": "arn:aws:rds:us-west-2:123456789012:snapshot:copy-1",
                "listener_arn": "arn:aws:globalaccelerator::123456789012:accelerator/a/listener/b",
                "event": "2612042310",
            }
        ),
    )
    primary = "drtiers-backup-restore-primary"
    assert not _of(rebuilt, primary, "AWS::CertificateManager::Certificate")
    certificate = {
        "CertificateArn": {
            "Fn::GetStackOutput": {
                "StackName": base,
                "OutputName": "RebuildCertificateArn",
            }
        }
    }  # no Region: the recovery-base stack in the rebuild's own region
    template = rebuilt.template(primary)
    template.has_resource_properties(
        LISTENER, {"Port": 443, "Certificates": Match.exact([certificate])}
    )
    template.resource_count_is("AWS::GlobalAccelerator::EndpointGroup", 1)
    template.has_resource_properties(
        "AWS::GlobalAccelerator::EndpointGroup",
        {"HealthCheckProtocol": "HTTPS", "HealthCheckPort": 443},
    )
