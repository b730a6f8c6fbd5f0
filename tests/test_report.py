"""Review reports: written from the assembly, complete, self-contained and reproducible."""

from __future__ import annotations

import base64
import os
import re
import shutil
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from drtiers.cli import main as cli
from drtiers.report import diagram
from drtiers.report.build import write_reports
from tests.conftest import ROOT, Synthesized, context
from tests.test_app import outside_citations

TIERS = ("backup-restore", "pilot-light", "warm-standby", "multi-site")


def test_five_html_and_four_markdown_files(reports: Path) -> None:
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        [f"{t}.{s}" for t in TIERS for s in ("md", "html")] + ["index.html"]
    )


@pytest.mark.parametrize("tier", TIERS)
def test_each_report_has_every_section(reports: Path, tier: str) -> None:
    text = (reports / f"{tier}.md").read_text()
    for heading in (
        "## Architecture",
        "## Estimated RPO and RTO",
        "## Monthly cost",
        "## Running failed over",
        "## Inventory",
        "## Policy gates",
        "## Failover runbook",
        "## Failback runbook",
        "## Region switch plan",
        "## Measured against estimated",
    ):
        assert heading in text
    assert "```mermaid\nflowchart LR" in text
    assert "https://docs.aws.amazon.com/" in text  # figures carry their sources
    assert "DR-DataPlaneFailover" in text


def test_runbooks_name_the_exact_resources(reports: Path) -> None:
    pilot = (reports / "pilot-light.md").read_text()
    assert (
        "aws rds promote-read-replica --region us-west-2 --db-instance-identifier "
        "$(aws cloudformation describe-stack-resource --region us-west-2 --stack-name "
        "drtiers-pilot-light-recovery --logical-resource-id DatabaseInstance02E622FB"
    ) in pilot
    assert "--desired-count 2" in pilot
    # Declaring the writer is a data-plane write in R, and no drill rehearses it.
    assert (
        "**Declare us-west-2 the writer's region: the application writes only there from now "
        "on, and Route 53 follows the declaration.** (data plane (us-west-2); expected 0 s; "
        "plan: CustomActionLambda)"
    ) in pilot
    warm = (reports / "warm-standby.md").read_text()
    assert (
        "aws rds failover-global-cluster --region us-west-2 --global-cluster-identifier "
        "drtiers-warm-standby-global"
    ) in warm
    assert "aws rds switchover-global-cluster" in warm
    multi = (reports / "multi-site.md").read_text()
    assert "both dials stay as they are" in multi
    assert "--traffic-dial-percentage 0" in multi  # P is held off until failback
    backup = (reports / "backup-restore.md").read_text()
    assert "--backup-vault-name drtiers-backup-restore-copies" in backup
    # Data-plane steps come first.
    for text in (pilot, warm, multi):
        steps = re.findall(
            r"^\d+\. .*\((data plane|control plane)",
            text.split("## Failover runbook")[1].split("## Failback")[0],
            re.M,
        )
        assert steps[0] == "data plane"


class _Loads(HTMLParser):
    """Everything an HTML page would fetch by itself when opened (inline data: URIs aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        source = values.get("src")
        if tag in ("script", "img", "iframe") and source and not source.startswith("data:"):
            self.fetches.append(source)
        if tag == "link":
            self.fetches.append(str(values.get("href")))


@pytest.mark.parametrize("name", [*(f"{t}.html" for t in TIERS), "index.html"])
def test_html_is_self_contained(reports: Path, name: str) -> None:
    parser = _Loads()
    parser.feed((reports / name).read_text())
    assert parser.fetches == []
    if name != "index.html":
        assert 'src="data:image/png;base64,' in (reports / name).read_text()


class _Links(HTMLParser):
    """The URLs a page's text shows, each as a link (its href, its text) or as bare text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.bare: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.links.append((self._href, data))
        elif self.lasttag not in ("pre", "code"):  # the Mermaid source and commands show text
            self.bare += re.findall(r"https?://\S+", data)


@pytest.mark.parametrize("tier", TIERS)
def test_every_source_in_the_html_is_a_link(reports: Path, tier: str) -> None:
    """A reviewer opens a figure's source from the report: each URL is a link to itself."""
    parser = _Links()
    parser.feed((reports / f"{tier}.html").read_text())
    assert parser.bare == []
    sources = [(href, text) for href, text in parser.links if href.startswith("https://")]
    assert len(sources) > 10
    assert all(href == text for href, text in sources), sources


def test_reports_are_reproducible_and_carry_no_local_paths(
    synthesized: Synthesized, reports: Path, tmp_path: Path
) -> None:
    diagram._drawn.cache_clear()  # Graphviz draws every picture again, not this process's memory
    write_reports(Path(synthesized.assembly.directory), tmp_path, context())
    for path in reports.iterdir():
        text = path.read_text()
        assert text == (tmp_path / path.name).read_text(), path.name
        assert str(ROOT) not in text and "/tmp/" not in text


def test_gate_results_are_shown_when_the_gates_ran(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    gates = {tier: {"cfn-lint": [], "cdk-nag": [], "guard": [], "drtiers-dr": []} for tier in TIERS}
    gates["pilot-light"]["guard"] = ["drtiers-pilot-light-primary/Work: sqs_dlq_check: ..."]
    write_reports(Path(synthesized.assembly.directory), tmp_path, context(), "pilot-light", gates)
    text = (tmp_path / "pilot-light.md").read_text()
    assert "| guard | drtiers-pilot-light-primary/Work: sqs_dlq_check: ... |" in text
    assert "| cdk-nag | pass |" in text
    html = (tmp_path / "pilot-light.html").read_text()
    assert '<td class="fail">drtiers-pilot-light-primary/Work: sqs_dlq_check: ...</td>' in html


def test_the_plan_section_shows_the_synthesized_workflows(reports: Path) -> None:
    warm = (reports / "warm-standby.md").read_text()
    plan = warm[warm.index("## Region switch plan") :]
    assert "**activate us-west-2**" in plan and "**activate us-east-1**" in plan
    assert "| 1 | approve-failback | ManualApproval |" in plan
    assert "| 2 | switchover | AuroraGlobalDatabase |" in plan
    rebuild = (reports / "backup-restore.md").read_text()
    assert "None: this tier recovers by rebuilding from its backup copies" in rebuild


def test_results_given_are_set_beside_the_estimate(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    fixtures = ROOT / "tests" / "fixtures" / "results"
    code = cli(
        [
            "report",
            "--tier",
            "warm-standby",
            "--assembly",
            synthesized.assembly.directory,
            "--out",
            str(tmp_path),
            "--results",
            str(fixtures / "warm-standby-failover.json"),
            str(fixtures / "drill-stop-primary-tasks.json"),
        ]
    )
    assert code == 0
    warm = (tmp_path / "warm-standby.md").read_text()
    measured = warm[warm.index("## Measured against estimated") :]
    assert "**failover**" in measured
    assert "| scale-out | 3.0 min | 4.1 min | slower (+64 s) |" in measured
    assert "Drill **StopPrimaryTasks**" in measured


def test_restores_given_are_set_beside_the_estimate(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    fixtures = ROOT / "tests" / "fixtures" / "results"
    argv = ["report", "--tier", "backup-restore", "--assembly", synthesized.assembly.directory]
    argv += ["--out", str(tmp_path), "--results", str(fixtures / "restore-table-test.json")]
    assert cli(argv) == 0
    report = (tmp_path / "backup-restore.md").read_text()
    measured = report[report.index("## Measured against estimated") :]
    assert (
        "| DynamoDB `drtiers-backup-restore-table` | 50 GB | 30.0 min | 36.0 min | +360 s | "
        "slower (+360 s; 83 GB/h against 100); validation SUCCESSFUL |"
    ) in measured
    html = (tmp_path / "backup-restore.html").read_text()
    assert "<td>+360 s</td>" in html


def test_a_malformed_results_file_writes_no_report(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"planArn": 3}')
    out = tmp_path / "out"
    argv = ["report", "--assembly", synthesized.assembly.directory, "--out", str(out)]
    assert cli([*argv, "--results", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0]
    assert not out.exists()


def test_the_failed_over_cost_is_in_the_report(reports: Path, synthesized: Synthesized) -> None:
    from drtiers.assess import assess_assembly

    for e in assess_assembly(Path(synthesized.assembly.directory)):
        for suffix in ("md", "html"):
            text = (reports / f"{e.tier}.{suffix}").read_text()
            assert f"${e.failed_over_usd_per_hour:,.2f}" in text, (e.tier, suffix)
            assert f"${e.failed_over_usd_per_day:,.0f} a day" in text
            for line in e.event:
                assert line.how in text


def test_no_generated_report_cites_a_path_outside_the_repository(
    reports: Path, synthesized: Synthesized
) -> None:
    """drtiers report's output cites nothing outside the repository and embeds no path of the
    machine that wrote it: not in its text, nor inside the pictures it inlines."""
    machine = {
        str(ROOT),
        str(Path.home()),
        sys.prefix,
        str(Path(synthesized.assembly.directory).resolve()),
        str(reports.resolve()),
        str(Path(tempfile.gettempdir()).resolve()) + os.sep,
    } - {"", os.sep}
    inlined = re.compile(r"data:[\w/+.-]+;base64,([A-Za-z0-9+/=]+)")
    written = sorted(reports.iterdir())
    assert written
    citing = []
    for path in written:
        text = path.read_text()
        for name, content in [
            (path.name, inlined.sub("data:", text)),
            *(
                (f"{path.name} (picture)", base64.b64decode(data).decode("latin-1"))
                for data in inlined.findall(text)
            ),
        ]:
            citing += outside_citations(name, content)
            citing += [f"{name}: {where}" for where in sorted(machine) if where in content]
    assert not citing, "\n".join(citing)


# The reports as a person sees them: opened in headless Chromium (Debian's package, installed
# by `make setup`), with no network.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As this machine's notes advise: no sandbox as root, and no background calls home.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_index_and_a_tier_report_render_offline(reports: Path) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto((reports / "index.html").as_uri())
            assert page.locator("table tr").count() == 5  # header + four tiers
            page.click("text=warm-standby")
            assert page.url.endswith("warm-standby.html")
            loaded = page.eval_on_selector(
                "img.diagram", "img => img.complete && img.naturalWidth > 0"
            )
            assert loaded, "the architecture diagram did not load"
            assert page.locator("table").count() >= 6
            for tier in TIERS:  # no table wider than the window: a long rule id breaks in its cell
                page.goto((reports / f"{tier}.html").as_uri())
                assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), tier
            for section in ("estimate", "cost", "inventory", "gates", "failover", "failback"):
                assert page.locator(f"#{section}").count() == 1
        finally:
            browser.close()
    assert requested, "the pages were not loaded at all"
    assert all(url.startswith(("file:", "data:")) for url in requested), requested


def test_a_command_with_backticks_is_one_code_span_in_markdown(reports: Path) -> None:
    """A JMESPath literal is JSON in backticks: the runbook's Markdown fences such a command
    with a longer run of them, so the command renders whole (CommonMark code spans)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt().parse((reports / "backup-restore.md").read_text())
    spans = [
        child.content
        for token in tokens
        if token.children
        for child in token.children
        if child.type == "code_inline"
    ]
    lookups = [s for s in spans if "list-recovery-points-by-backup-vault" in s]
    assert lookups, "no recovery point lookup in the runbooks"
    whole = "&CreationDate))[0].RecoveryPointArn' --output json | jq -r '. // empty')"
    assert all('Status==`"COMPLETED"`' in s and whole in s for s in lookups), lookups
