#!/usr/bin/env python3
"""Show that a change leaves drtiers' output as it was: every template of every tier in both
region pairs, plain, with drills=true and with resilience_hub=true; `drtiers list --json`,
`explain` of each tier, `simulate --failback --json` and the review reports (Markdown and HTML).

It runs two checkouts through the same stable interfaces (the CDK app protocol, `python app.py`
with CDK_OUTDIR and CDK_CONTEXT_JSON, and the `drtiers` command line), so it compares any two
commits whatever their code layout. A refactor passes when it prints `identical` and exits 0.

Usage: .venv/bin/python scripts/same_output.py [--base REV] [--keep DIR]
  --base REV  the commit to compare the working tree with (default: HEAD)
  --keep DIR  leave both dumps in DIR/base and DIR/work to read the differences
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("backup-restore", "pilot-light", "warm-standby", "multi-site")
PAIRS = (("us-east-1", "us-west-2"), ("eu-west-1", "eu-central-1"))
OPTIONS: tuple[dict[str, str], ...] = ({}, {"drills": "true"}, {"resilience_hub": "true"})


def _run(args: list[str], cwd: Path, env: dict[str, str], out: Path | None = None) -> None:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if out is not None:
        out.write_text(result.stdout + f"\n(exit {result.returncode})\n")
    elif result.returncode != 0:
        sys.exit(f"same_output: {' '.join(args)} failed in {cwd}:\n{result.stderr}")


def _synth_all(tree: Path, dump: Path, env: dict[str, str]) -> None:
    """Every configuration's templates, as `cdk synth` would write them."""
    context = json.loads((tree / "cdk.json").read_text())["context"]
    for primary, recovery in PAIRS:
        for option in OPTIONS:
            name = "_".join([primary, recovery, *option])
            with tempfile.TemporaryDirectory(prefix="same-output-") as outdir:
                own = {**context, "primary_region": primary, "recovery_region": recovery, **option}
                run_env = {**env, "CDK_OUTDIR": outdir, "CDK_CONTEXT_JSON": json.dumps(own)}
                _run([sys.executable, "app.py"], tree, run_env)
                target = dump / "templates" / name
                target.mkdir(parents=True)
                for template in Path(outdir).glob("*.template.json"):
                    shutil.copy(template, target / template.name)


def _cli_all(tree: Path, dump: Path, env: dict[str, str]) -> None:
    cli = [sys.executable, "-c", "import sys; from drtiers.cli import main; sys.exit(main())"]
    (dump / "cli").mkdir(parents=True)
    _run([*cli, "list", "--json"], tree, env, dump / "cli" / "list.json")
    for tier in TIERS:
        _run([*cli, "explain", "--tier", tier], tree, env, dump / "cli" / f"explain-{tier}.txt")
    _run([*cli, "simulate", "--failback", "--json"], tree, env, dump / "cli" / "simulate.json")
    reports = dump / "reports"
    _run([*cli, "report", "--out", str(reports)], tree, env)
    for picture in reports.rglob("*.png"):  # drawn by Graphviz: compared as the page names it
        picture.unlink()


def dump_tree(tree: Path, dump: Path) -> None:
    """Write everything the comparison covers, produced by the code in ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "120", "NO_COLOR": "1"}
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env['PATH']}"
    _synth_all(tree, dump, env)
    _cli_all(tree, dump, env)


def _differences(left: Path, right: Path) -> list[str]:
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], where: Path) -> None:
        found.extend(f"only in base: {where / n}" for n in cmp.left_only)
        found.extend(f"only in work tree: {where / n}" for n in cmp.right_only)
        for name in cmp.diff_files:
            a = (Path(cmp.left) / name).read_text().splitlines()
            b = (Path(cmp.right) / name).read_text().splitlines()
            diff = list(difflib.unified_diff(a, b, str(where / name), str(where / name), n=1))
            found.append("\n".join(diff[:40]))
        for name, sub in cmp.subdirs.items():
            walk(sub, where / name)

    walk(filecmp.dircmp(str(left), str(right), ignore=[]), Path("."))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="commit to compare with (default HEAD)")
    parser.add_argument("--keep", help="leave both dumps in this folder")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="same-output-"))
    base_tree = work / "checkout"
    shutil.rmtree(work / "base", ignore_errors=True)
    shutil.rmtree(work / "work", ignore_errors=True)
    subprocess.run(
        ["git", "worktree", "remove", "--force", str(base_tree)],
        cwd=ROOT,
        check=False,
        capture_output=True,
    )
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(base_tree), args.base],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        dump_tree(base_tree, work / "base")
        dump_tree(ROOT, work / "work")
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=False
        )
    found = _differences(work / "base", work / "work")
    counted = sum(1 for p in (work / "work").rglob("*") if p.is_file())
    if not args.keep:
        shutil.rmtree(work)
    if found:
        print("\n".join(found))
        print(f"same_output: {len(found)} difference(s) against {args.base} in {counted} files")
        return 1
    print(f"same_output: identical to {args.base}: {counted} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
