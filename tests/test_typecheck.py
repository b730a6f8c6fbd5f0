"""mypy's view of aws-cdk-lib: every module of it that drtiers imports is checked in full, with
the interfaces the CDK's interfaces derive from, and only those (pyproject.toml: a module left
out would type every class of it as Any)."""

from __future__ import annotations

import ast
import tomllib
from importlib import util
from pathlib import Path

from tests.conftest import ROOT


def _cdk_modules_imported() -> set[str]:
    spec = util.find_spec("aws_cdk")  # finds the package without importing it (Node.js)
    assert spec is not None and spec.submodule_search_locations is not None
    package = Path(next(iter(spec.submodule_search_locations)))
    found = set()
    for path in [*sorted((ROOT / "drtiers").rglob("*.py")), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aws_cdk"):
                module = node.module or ""
                found.add(module)
                folder = package.joinpath(*module.split(".")[1:])  # a submodule is a folder
                found |= {f"{module}.{a.name}" for a in node.names if (folder / a.name).is_dir()}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("aws_cdk")}
    return found


def _checked_in_full() -> set[str]:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    return {
        module
        for override in mypy["overrides"]
        if override.get("follow_imports") == "silent"
        for module in override["module"]
        if module.startswith("aws_cdk")
    }


# What every CDK interface derives from (aws_cdk.IResource, aws_kms.IKey, aws_iam.IRole, ...
# through aws_cdk.interfaces.*): skipped, each would be Any, and an IKey would pass for an IRole.
BASES = {"aws_cdk.interfaces", "aws_cdk.interfaces.*"}


def test_mypy_reads_exactly_the_cdk_modules_drtiers_imports() -> None:
    imported, listed = _cdk_modules_imported() | BASES, _checked_in_full()
    assert imported - listed == set(), "add them to pyproject.toml, or mypy types them as Any"
    assert listed - imported == set(), "no longer imported: take them out of pyproject.toml"
    assert {"aws_cdk", "aws_cdk.aws_ecs", "aws_cdk.aws_rds"} <= imported  # the scan sees imports
