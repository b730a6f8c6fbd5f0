"""mypy's view of aws-cdk-lib: every module of it that drtiers imports is checked in full, with
the interface modules theirs derive from, and only those (pyproject.toml: a module left
out would type every class of it as Any)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import util
from pathlib import Path

from tests.conftest import ROOT


def _cdk_package() -> Path:
    spec = util.find_spec("aws_cdk")  # finds the package without importing it (Node.js)
    assert spec is not None and spec.submodule_search_locations is not None
    return Path(next(iter(spec.submodule_search_locations)))


def _cdk_modules_imported() -> set[str]:
    package = _cdk_package()
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


_INTERFACES = re.compile(r"^\s*import (aws_cdk\.interfaces\.\w+)", re.MULTILINE)


def _bases(modules: set[str]) -> set[str]:
    """What the CDK interfaces of ``modules`` derive from (aws_cdk.IResource, aws_kms.IKey,
    aws_iam.IRole, ... through aws_cdk.interfaces.<service>): the interface modules they import,
    and those import in turn. Skipped, each would be Any, and an IKey would pass for an IRole;
    aws_cdk.interfaces itself imports all ~320 for type checkers, which no drtiers module needs."""
    package = _cdk_package()
    found: set[str] = set()
    todo = set(modules)
    while todo:
        source = package.joinpath(*todo.pop().split(".")[1:], "__init__.py")
        new = set(_INTERFACES.findall(source.read_text())) - found
        found |= new
        todo |= new
    return found | {"aws_cdk.interfaces"}


def test_mypy_reads_exactly_the_cdk_modules_drtiers_imports() -> None:
    cdk = _cdk_modules_imported()
    imported, listed = cdk | _bases(cdk), _checked_in_full()
    assert imported - listed == set(), "add them to pyproject.toml, or mypy types them as Any"
    assert listed - imported == set(), "no longer imported: take them out of pyproject.toml"
    assert {"aws_cdk", "aws_cdk.aws_ecs", "aws_cdk.aws_rds"} <= imported  # the scan sees imports
