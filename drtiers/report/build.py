"""Write reports/<tier>.md, reports/<tier>.html and reports/index.html from a cloud assembly.

Documents only: Jinja2 renders text about the templates, never the templates themselves. The
output depends on the assembly and the data files alone (no dates, no paths of this machine), so
two runs on the same commit write identical files.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from drtiers.assembly.reader import acknowledgments, read_assembly
from drtiers.assess import assess_assembly
from drtiers.assess.model import Estimate
from drtiers.build import synthesize
from drtiers.checks import usable_cores
from drtiers.checks.dr import RULES, check_tier
from drtiers.checks.gates import GateResults, Simulations
from drtiers.core.durations import format_duration
from drtiers.core.tiers import TIERS
from drtiers.recovery import Simulation, simulate_assembly
from drtiers.recovery.plan import Workflow
from drtiers.recovery.restores import RestoreResult
from drtiers.recovery.results import DrillResult, PlanResult, Results
from drtiers.report.content import (
    InventoryRow,
    RunbookStep,
    Topology,
    inventory,
    mermaid,
    region_switch_plan,
    runbook,
    topology,
)
from drtiers.report.diagram import render_png

ORDER = list(TIERS)


@dataclass(frozen=True)
class TierReport:
    tier: str
    summary: str
    promise: str
    estimate: Estimate
    inventory: list[InventoryRow]
    diagram: str  # Mermaid source
    picture: str  # PNG as a data: URI, for the self-contained HTML
    dr_rules: list[tuple[str, str, list[str]]]  # rule id, description, findings
    gates: dict[str, list[str]] | None  # checker -> findings; None when not run
    acknowledgments: list[tuple[str, str, str, str, str]]
    failover: list[RunbookStep]
    failback: list[RunbookStep]
    simulations: tuple[Simulation, Simulation]  # region loss, failback
    drills_hint: bool  # drills would apply, but were not synthesized
    plan: list[Workflow]  # the Region switch plan's workflows (none: backup-restore)
    measured: list[PlanResult] = field(default_factory=list)  # results given (drtiers results)
    drill_results: list[DrillResult] = field(default_factory=list)
    restores: list[RestoreResult] = field(default_factory=list)  # restore jobs given


# A URL in running text ends before a space, a quote or a closing mark of the sentence.
_URL = re.compile(r"https?://[^\s<>\"]+?(?=[.,;:)]*(?:\s|$))")


def linked(text: str) -> Markup:
    """``text`` for HTML, each URL in it a link to itself: a reviewer opens a figure's source."""
    parts, end = [], 0
    for url in _URL.finditer(text):
        parts += [escape(text[end : url.start()]), Markup('<a href="{0}">{0}</a>').format(url[0])]
        end = url.end()
    return Markup("").join([*parts, escape(text[end:])])


def code_span(text: str) -> str:
    """``text`` as one Markdown code span: fenced by a run of backticks longer than any inside
    it (a JMESPath literal is one), padded where it starts or ends with one (CommonMark)."""
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") or fence != "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("drtiers", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = format_duration
    env.filters["linked"] = linked
    env.filters["code_span"] = code_span
    return env


def tier_reports(
    directory: Path,
    context: Mapping[str, Any],
    gates: GateResults | None = None,
    simulated: Simulations | None = None,
    results: Results | None = None,
) -> list[TierReport]:
    estimates = {e.tier: e for e in assess_assembly(directory)}
    simulations = {
        loss.tier: (loss, back)
        for loss, back in (simulated or simulate_assembly(directory, context, synthesize))
    }
    acked = list(acknowledgments(directory))
    tiers = read_assembly(directory)
    shapes = {name: topology(tier) for name, tier in tiers.items()}
    # Graphviz draws each picture in a process of its own: ~0.15 s a tier, side by side.
    with ThreadPoolExecutor(max_workers=usable_cores()) as pool:
        pictures = dict(zip(shapes, pool.map(_picture, shapes, shapes.values()), strict=True))
    reports = []
    for name, tier in tiers.items():
        spec = TIERS[name]
        shape = shapes[name]
        findings = check_tier(tier)
        reports.append(
            TierReport(
                tier=name,
                summary=spec.summary[:1].upper() + spec.summary[1:],  # it starts a sentence
                promise=spec.rpo_rto,
                estimate=estimates[name],
                inventory=inventory(tier),
                diagram=mermaid(shape),
                picture=pictures[name],
                dr_rules=[
                    (
                        rule.id,
                        rule.description,
                        [f.detail for f in findings if f.rule.id == rule.id],
                    )
                    for rule in RULES
                ],
                gates=gates.get(name) if gates is not None else None,
                acknowledgments=[a for a in acked if a[0] in tier.stacks],
                failover=runbook(tier, simulations[name][0].steps),
                failback=runbook(tier, simulations[name][1].steps),
                simulations=simulations[name],
                drills_hint=spec.has_recovery_stack
                and not tier.of_type("AWS::FIS::ExperimentTemplate"),
                plan=region_switch_plan(tier),
                measured=[p for p in (results.plans if results else []) if p.tier == name],
                drill_results=[d for d in (results.drills if results else []) if d.tier == name],
                restores=[x for x in (results.restores if results else []) if x.tier == name],
            )
        )
    return sorted(reports, key=lambda r: ORDER.index(r.tier))


def _picture(name: str, shape: Topology) -> str:
    """The tier's architecture as a PNG data URL."""
    png = render_png(shape, f"drtiers {name}")
    return "data:image/png;base64," + base64.b64encode(png).decode()


def write_reports(
    directory: Path,
    out: Path,
    context: Mapping[str, Any],
    only: str | None = None,
    gates: GateResults | None = None,
    simulated: Simulations | None = None,
    results: Results | None = None,
) -> list[Path]:
    """Render every tier in the assembly (or ``only``) and the comparison page, with the
    results of every policy gate when ``gates`` is given. ``context`` is what the assembly was
    synthesized with (the recovery simulation deploys steps' stacks with it); ``simulated``,
    the simulations already run over it, if any; ``results``, measured executions and drills
    (drtiers results) to set beside the estimate."""
    env = _environment()
    reports = tier_reports(directory, context, gates, simulated, results)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for report in reports:
        if only and report.tier != only:
            continue
        for suffix in ("md", "html"):
            path = out / f"{report.tier}.{suffix}"
            path.write_text(env.get_template(f"tier.{suffix}.j2").render(r=report))
            written.append(path)
    index = out / "index.html"
    index.write_text(env.get_template("index.html.j2").render(reports=reports))
    written.append(index)
    return written
