"""`make check`: every policy gate and the recovery simulation over every tier, in one table.

Synthesizes the tiers once, drill stacks included (in-process, or copied from the cache),
then runs cfn-lint, cdk-nag AwsSolutions, CloudFormation Guard's Control Tower rules,
drtiers-dr and the recovery simulation (region loss and failback), and prints tier x checker:
pass, or the number of unacknowledged findings, followed by the findings. Exit status 1 on any
finding. ``--acknowledgments`` lists every acknowledgment with its reason.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drtiers.assembly import cache
from drtiers.assembly.reader import (
    acknowledgments,
    stack_tiers,
    template_files,
    template_regions,
)
from drtiers.build import build_app, synthesize
from drtiers.checks import usable_cores
from drtiers.checks.dr import dr_findings
from drtiers.checks.guard import guard
from drtiers.config.context import cdk_json_context
from drtiers.recovery import simulate_assembly

if TYPE_CHECKING:
    from drtiers.recovery import Simulation

CHECKERS = ("cfn-lint", "cdk-nag", "guard", "drtiers-dr", "simulate")
# Read by cfn-lint besides the templates (cfnlint/config.py; cfnlint.helpers.get_cache_dir,
# where `cfn-lint --update-specs` puts newer schemas): a change to them is a change of findings.
_CFN_LINT_SETTINGS = (
    Path.home() / ".cfnlintrc",
    *(Path(f".cfnlintrc{suffix}") for suffix in ("", ".yaml", ".yml")),
    Path.home() / ".cache" / "aws" / "cfn-lint" / "schemas" / "version.json",
)


def _cfn_lint_settings() -> str:
    digest = hashlib.sha256()
    for path in _CFN_LINT_SETTINGS:
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()[:12]


def _kept_label() -> str:
    """The cache's label for cfn-lint's, cdk-nag's and Guard's findings on a synthesis: it
    names the cfn-lint settings they were found with."""
    return f"policy-checks-{_cfn_lint_settings()}"


def _tier_of(finding: str) -> str:
    """The stack a finding names first: ``drtiers-warm-standby-primary/...`` or ``...: ...``."""
    return finding.split("/")[0].split(":")[0]


def cdk_nag(app: Any) -> list[str]:
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(app)
    return [
        f"{r.construct_path}: {v.rule_name}: {v.description.splitlines()[0]}"
        for v in report.violations
        for r in v.violating_resources
    ]


def stack_findings(stacks: list[Any], folder: Path, processes: int = 1) -> list[str]:
    """cfn-lint, Guard and cdk-nag over some synthesized stacks of an app (a fleet's parent
    plans), each finding marked with its checker; their templates are copied to ``folder`` (a
    new one) to be linted alone."""
    import aws_cdk as cdk

    folder.mkdir()
    findings = []
    regions: dict[str, str] = {}
    for stack in stacks:
        stage = cdk.Stage.of(stack)
        assert stage is not None, "a synthesized stack is in a stage or the app"
        shutil.copy(Path(stage.outdir) / stack.template_file, folder)
        if not cdk.Token.is_unresolved(stack.region):  # else cfn-lint's own default
            regions[stack.template_file] = stack.region
        findings += [f"[cdk-nag] {f}" for f in cdk_nag(stack)]
    findings += [f"[cfn-lint] {f}" for f in cfn_lint(folder, processes, regions)]
    return findings + [f"[guard] {f}" for f in guard(folder)]


def cfn_lint(
    directory: Path, processes: int = 1, regions: dict[str, str] | None = None
) -> list[str]:
    """cfn-lint's findings, each as ``<stack>: <finding>`` so the table can file it by tier.
    Each template is checked against the resource schemas of the region its stack deploys to
    (``regions``, by template file name, or the folder's manifest; else cfn-lint's own
    default region). A template the same cfn-lint, with the same settings, linted in the same
    region before (same bytes) is not linted again: its findings are read from the cache.
    Each region's templates get a run of their own; up to ``processes`` runs share them
    (each costs ~0.9 s to start: worth it where cores would wait)."""
    checker = f"cfn-lint-{metadata.version('cfn-lint')}-{_cfn_lint_settings()}"
    regions = template_regions(directory) if regions is None else regions
    templates = {t: t.read_bytes() for t in template_files(directory)}
    region_of = {t: regions.get(t.name) or _default_region() for t in templates}
    labels = {t: f"{checker}-{region_of[t]}" for t in templates}
    kept = {t: cache.findings(labels[t], text) for t, text in templates.items()}
    todo = {t: len(templates[t]) for t, found in kept.items() if found is None}
    fresh = {
        name: lines
        for output in _lint(_runs(todo, region_of, processes), processes)
        for name, lines in _by_template(output).items()
    }
    findings = []
    for template, text in templates.items():
        found = kept[template]
        if found is None:
            found = fresh.get(template.name, [])
            cache.keep_findings(labels[template], text, found)
        stack = template.name.removesuffix(".template.json")
        findings += [f"{stack}: {rest}" for rest in found]
    return findings


def _default_region() -> str:
    """The region cfn-lint checks in when given none (cfnlint/config.py, ``regions``)."""
    return os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def _runs(
    sizes: dict[Path, int], region_of: dict[Path, str], processes: int
) -> list[tuple[list[Path], str]]:
    """The cfn-lint runs for ``sizes``' templates, each with its region: a region's templates
    in one run, or more where ``processes`` outnumber the regions."""
    by_region: dict[str, dict[Path, int]] = {}
    for template, size in sizes.items():
        by_region.setdefault(region_of[template], {})[template] = size
    each = max(1, processes // max(1, len(by_region)))
    return [
        (group, region)
        for region, share in sorted(by_region.items())
        for group in _shares(share, each)
    ]


def _lint(runs: list[tuple[list[Path], str]], processes: int) -> list[str]:
    """What cfn-lint prints for each run. Asked for one process, in this one, run after run
    (cfn-lint's schema state is shared and not made for threads); but where cfn-lint has
    settings of the user's (a .cfnlintrc, schemas updated since), which patch that state for
    the rest of the process, and where more processes are asked for, as commands."""
    if processes <= 1 and not any(path.is_file() for path in _CFN_LINT_SETTINGS):
        return [_lint_here(templates, region) for templates, region in runs]
    with ThreadPoolExecutor(max_workers=max(1, min(processes, len(runs)))) as pool:
        return list(pool.map(lambda run: _lint_apart(*run), runs))


def _shares(sizes: dict[Path, int], count: int) -> list[list[Path]]:
    """``sizes``' templates in at most ``count`` groups of about equal bytes (cfn-lint's time
    on a template follows its size), largest first; none when there is nothing to lint."""
    groups: list[list[Path]] = [[] for _ in range(max(1, min(count, len(sizes))))]
    loads = [0] * len(groups)
    for template in sorted(sizes, key=lambda t: (-sizes[t], t.name)):
        lightest = loads.index(min(loads))
        groups[lightest].append(template)
        loads[lightest] += sizes[template]
    return [group for group in groups if group]


_PARSEABLE = ["--format", "parseable", "--"]


def _arguments(templates: list[Path], region: str) -> list[str]:
    return ["--regions", region, *_PARSEABLE, *map(str, templates)]


def _lint_apart(templates: list[Path], region: str) -> str:
    """What ``cfn-lint --format parseable`` prints about ``templates`` checked in ``region``,
    run as a command."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), *_arguments(templates, region)],
        capture_output=True,
        text=True,
        check=False,
    )
    # Findings set only the bits 2, 4 and 8 (cfnlint/runner/cli.py `_exit`); cfn-lint that
    # failed (settings it cannot read, a crash) prints why and exits 1: never a pass.
    if result.returncode & ~0b1110 or (result.returncode and not result.stdout.strip()):
        why = " ".join((result.stderr.strip() or result.stdout).split())[:300]
        raise RuntimeError(f"cfn-lint failed (exit {result.returncode}): {why}")
    return result.stdout


def _lint_here(templates: list[Path], region: str) -> str:
    """The same, run in this process as cfn-lint's command runs it (its runner's rules,
    sort and format, ``cfnlint.runner.cli``): a command of its own takes ~0.9 s more, to
    start Python, import cfn-lint and load its rules, the most of a small run. Only without
    settings of the user's (``_lint``), so the rules loaded once are the command's."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner.cli import get_formatter
    from cfnlint.runner.template import run_template_by_file_paths

    try:
        config = ConfigMixIn(_arguments(templates, region))
        matches = sorted(
            run_template_by_file_paths(config, _rules()),
            key=lambda m: (m.filename, m.linenumber, m.rule.id),
        )
    except (Exception, SystemExit) as error:  # where its command would exit non-zero
        why = " ".join(str(error).split())[:300]
        raise RuntimeError(f"cfn-lint failed: {type(error).__name__}: {why}") from error
    return str(get_formatter(config).print_matches(matches, _rules(), config=config) or "")


@functools.cache
def _rules() -> Any:
    """cfn-lint's rules as its command's runner loads them (~0.3 s), once in this process."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner.cli import Runner

    return Runner(ConfigMixIn(_PARSEABLE)).rules


def _by_template(output: str) -> dict[str, list[str]]:
    """Template file name -> the rest of each line cfn-lint printed about it."""
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        if line.strip():
            path, _, rest = line.partition(":")
            found.setdefault(Path(path).name, []).append(rest)
    return found


def drtiers_dr(directory: Path) -> list[str]:
    return [f"{f.tier}: {f}" for f in dr_findings(directory)]  # str(f) names the resource


def simulate(simulations: Simulations) -> list[str]:
    """Each broken invariant of every tier's region loss and failback, filed under its tier."""
    return [
        f"{sim.tier}: {sim.event}: {violation}"
        for loss, back in simulations
        for sim in (loss, back)
        for violation in sim.violations
    ]


GateResults = dict[str, dict[str, list[str]]]  # tier -> checker -> findings
Simulations = list[tuple["Simulation", "Simulation"]]  # region loss, failback per tier


def run_gates(
    directory: Path, context: dict[str, Any], tier: str = "", lint_processes: int = 1
) -> tuple[GateResults, Simulations]:
    """Synthesize every tier (or ``tier`` alone; drill stacks included) into ``directory`` and
    run all checkers; returns the findings and the recovery simulations (for the report to
    show, not rerun). Findings outside any drtiers stack are filed under the tier "?". The
    commands give cfn-lint a process per core; the tests, whose workers keep every core busy,
    one."""
    context = {**context, "tier": tier, "drills": True}  # drill stacks must pass the gates too
    findings, simulations = _policy_checks(directory, context, lint_processes)
    findings |= {"drtiers-dr": drtiers_dr(directory), "simulate": simulate(simulations)}
    tiers = stack_tiers(directory)
    results: GateResults = {tier: {c: [] for c in CHECKERS} for tier in set(tiers.values())}
    for checker, lines in findings.items():
        for line in lines:
            named = _tier_of(line)  # a stack, or (drtiers-dr) the tier itself
            tier = tiers.get(named) or (named if named in tiers.values() else "?")
            results.setdefault(tier, {c: [] for c in CHECKERS})[checker].append(line)
    return results, simulations


def _policy_checks(
    directory: Path, context: dict[str, Any], lint_processes: int = 1
) -> tuple[dict[str, list[str]], Simulations]:
    """cfn-lint, cdk-nag and Guard over one synthesis of ``context`` in ``directory``, and the
    recovery simulations: the checkers' findings are a function of the synthesis, so they are
    kept with it in the cache and read back while nothing it depends on changes. Otherwise
    cfn-lint and Guard (subprocesses) run while cdk-nag walks the app in-process and then the
    simulator runs (in this thread: a rebuild synthesizes, and jsii serves one thread)."""
    name, label = cache.key(context), _kept_label()
    kept = cache.extra(name, label)
    if kept is not None and cache.restore(name, directory) is not None:
        found = {checker: list(kept[checker]) for checker in ("cfn-lint", "cdk-nag", "guard")}
        return found, simulate_assembly(directory, context, synthesize)
    app = build_app(directory, context)  # cdk-nag needs the construct tree, not a copy
    app.synth()
    cache.store(name, directory)
    with ThreadPoolExecutor(max_workers=2) as pool:
        linting, guarding = (
            pool.submit(cfn_lint, directory, lint_processes),
            pool.submit(guard, directory),
        )
        nag = cdk_nag(app)
        simulations = simulate_assembly(directory, context, synthesize)
        found = {"cfn-lint": linting.result(), "cdk-nag": nag, "guard": guarding.result()}
    cache.keep_extra(name, label, found)
    return found, simulations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--acknowledgments",
        action="store_true",
        help="list every acknowledgment with its reason, then check",
    )
    args = parser.parse_args(argv)
    context = cdk_json_context()
    with tempfile.TemporaryDirectory(prefix="drtiers-check-") as out:
        results, _ = run_gates(Path(out), context, lint_processes=usable_cores())
        acked = list(acknowledgments(Path(out)))
    order = ["backup-restore", "pilot-light", "warm-standby", "multi-site", "?"]
    print(f"{'tier':<16}" + "".join(f"{c:>13}" for c in CHECKERS))
    for tier in sorted(results, key=order.index):
        cells = [len(results[tier][c]) for c in CHECKERS]
        print(
            f"{tier:<16}" + "".join(f"{'pass' if n == 0 else f'{n} findings':>13}" for n in cells)
        )
    for tier, row in results.items():
        for checker, lines in row.items():
            for line in lines:
                print(f"  [{checker}] {tier}: {line}")
    print(
        f"{len(acked)} acknowledgments, each per resource with a reason "
        "(make check ARGS=--acknowledgments lists them)"
    )
    if args.acknowledgments:
        for stack, logical_id, checker, rule, reason in acked:
            print(f"  {checker:<9} {rule:<45} {stack}/{logical_id}: {reason}")
    total = sum(len(lines) for row in results.values() for lines in row.values())
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
