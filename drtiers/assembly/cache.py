"""One synthesis per configuration: a cloud assembly kept under a key of everything that shapes
it, so that `cdk synth`, the gates, the report and the simulator copy it when nothing changed
instead of synthesizing it again (~2-9 s each time; a copy takes ~0.05 s).

The key covers the context (and the CDK CLI's CDK_* variables), the workload file the context
selects, the price file in use, every file of the drtiers package, and the installed Python
distributions with their versions (aws-cdk-lib, constructs, jsii, cdk-nag, cfn-lint, ...), so a
change to any of them is a miss. Only a synthesis that succeeded is kept, with the lines it
printed to stderr and whatever a checker adds about it (``extra``: the gates' findings). They
live in ``cdk.out/.cache`` of the working directory; the oldest go beyond ``KEEP`` of them.
Beside them, cfn-lint's and Guard's findings per template, by the template's bytes (``findings``):
a change that leaves a template as it was does not lint it again. ``DRTIERS_CACHE=off`` turns
all of it off (`make bench` times both); ``DRTIERS_CACHE=<folder>`` moves it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drtiers.config.context import ConfigError, cli_context, workload_path
from drtiers.core.facts import BUNDLED, price_file_name

# entries (~0.5-3 MB each, ~1 MB on average): a `make test` session keeps ~50, and the `make
# check` after it must still find the one its pytest kept; fuzzing must not fill the disk.
KEEP = 128
SETTING = "DRTIERS_CACHE"
_PACKAGE = Path(__file__).resolve().parents[1]
# Set by the CDK CLI per run: where it wants output (not an input of the synthesis), and the
# context (an input, read as such below).
_NOT_INPUTS = {"CDK_OUTDIR", "CDK_ERROR_FILE", "CDK_PERF_COUNTERS_FILE", "CDK_CONTEXT_JSON"}
# DRTIERS_CACHE_SYNTHESES=off keeps syntheses out and a checker's findings per template in:
# a template's findings depend on its bytes and the checker alone (the tests' setting).
SYNTHESES_SETTING = "DRTIERS_CACHE_SYNTHESES"
_ASSEMBLY = "assembly"
_STDERR = "stderr.txt"
_FINDINGS = "findings"


def root() -> Path | None:
    """The cache folder, or None when DRTIERS_CACHE=off."""
    setting = os.environ.get(SETTING, "")
    if setting == "off":
        return None
    return Path(setting) if setting else Path.cwd() / "cdk.out" / ".cache"


def _syntheses() -> Path | None:
    return None if os.environ.get(SYNTHESES_SETTING) == "off" else root()


def _code() -> bytes:
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.digest()


def _distributions() -> bytes:
    """Installed distributions by name and version, from their metadata folders' names."""
    names = []
    for entry in sys.path:
        if os.path.isdir(entry):
            names += [n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info"))]
    return "\n".join(sorted(names)).encode()


def _prices() -> bytes:
    """The price file in use (``--prices FILE``): an estimate in a synthesized stack (the
    Resilience Hub policy) or a synthesis's refusal (a missed target) reads it."""
    name = price_file_name()
    return Path(name).read_bytes() if name != BUNDLED and Path(name).is_file() else name.encode()


def key(context: Mapping[str, Any]) -> str | None:
    """The key of a synthesis given ``context`` on top of what the CDK CLI hands the app; None
    when it names a workload file that does not exist (the synthesis says so)."""
    effective = {**cli_context(), **context}  # the App's own order: the given context wins
    try:
        workload = workload_path(effective.get)
    except ConfigError:
        return None
    environment = {
        k: v for k, v in os.environ.items() if k.startswith("CDK_") and k not in _NOT_INPUTS
    }
    parts = [
        json.dumps(effective, sort_keys=True, default=str).encode(),
        json.dumps(environment, sort_keys=True).encode(),
        workload.read_bytes() if workload is not None else b"reference",
        _prices(),
        _code(),
        _distributions(),
        sys.version.encode(),
    ]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:32]


def _entry(name: str | None) -> Path | None:
    folder = _syntheses()
    if name is None or folder is None:
        return None
    entry = folder / name
    return entry if (entry / _ASSEMBLY / "manifest.json").is_file() else None


def restore(name: str | None, outdir: Path) -> str | None:
    """Copy the kept assembly ``name`` into ``outdir``; the lines its synthesis printed to
    stderr, or None on a miss (nothing copied that a synthesis would not overwrite)."""
    entry = _entry(name)
    if entry is None:
        return None
    try:
        os.utime(entry)  # recently used: evicted last
        printed = (entry / _STDERR).read_text()
        _copy(entry / _ASSEMBLY, [p.name for p in (entry / _ASSEMBLY).iterdir()], outdir)
    except OSError:  # evicted by another process while copying: synthesize instead
        return None
    # Eviction renames an entry before deleting it: still here, the copy was whole.
    return printed if _entry(name) == entry else None


def _copy(source: Path, names: list[str], target: Path) -> None:
    """The files and folders ``names`` of ``source`` into ``target``, over what is there."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        else:
            shutil.copyfile(source / name, target / name)


def _assembly_files(outdir: Path) -> list[str]:
    """What the assembly's manifest names (templates, metadata, asset manifests and assets,
    the tree): not what earlier syntheses left in the same folder, nor the CLI's lock files."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    names = {"manifest.json", "cdk.out"}
    for artifact in manifest.get("artifacts", {}).values():
        properties = artifact.get("properties", {})
        named = (properties.get(k) for k in ("templateFile", "file", "directoryName"))
        names |= {n for n in (*named, artifact.get("additionalMetadataFile")) if n}
        if artifact.get("type") == "cdk:asset-manifest":
            assets = json.loads((outdir / properties["file"]).read_text())
            names |= {a["source"]["path"] for a in assets.get("files", {}).values()}
            images = assets.get("dockerImages", {}).values()
            names |= {a["source"]["directory"] for a in images}
    return sorted(n for n in names if (outdir / n).exists())


def store(name: str | None, outdir: Path, stderr: str = "") -> None:
    """Keep the assembly in ``outdir`` (a synthesis that succeeded) under ``name``."""
    folder = _syntheses()
    if name is None or folder is None or _entry(name) is not None:
        return  # off, or kept already
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".new-", dir=folder))
    _copy(outdir, _assembly_files(outdir), staging / _ASSEMBLY)
    (staging / _STDERR).write_text(stderr)
    try:
        staging.rename(folder / name)  # atomic: readers never see half an entry
    except OSError:  # another process kept the same synthesis first
        shutil.rmtree(staging, ignore_errors=True)
    _evict(folder)


def extra(name: str | None, label: str) -> Any:
    """What a checker kept about the synthesis ``name`` under ``label`` (JSON), or None."""
    entry = _entry(name)
    try:
        return json.loads((entry / f"{label}.json").read_text()) if entry else None
    except (OSError, ValueError):
        return None


def keep_extra(name: str | None, label: str, value: Any) -> None:
    """Keep ``value`` (JSON) beside the synthesis ``name``, if it is kept."""
    entry = _entry(name)
    if entry is not None:
        _write_json(entry / f"{label}.json", value)  # evicted meanwhile: nothing is kept


def _findings_file(checker: str, template: bytes) -> Path | None:
    folder = root()
    digest = hashlib.sha256(template).hexdigest()[:40]
    return None if folder is None else folder / _FINDINGS / checker / f"{digest}.json"


def findings(checker: str, template: bytes) -> list[Any] | None:
    """What ``checker`` (its name, version and settings) found in a template of these bytes,
    kept by ``keep_findings``; None when it has not checked one."""
    path = _findings_file(checker, template)
    if path is None:
        return None
    try:
        found: list[Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found


def keep_findings(checker: str, template: bytes, found: list[Any]) -> None:
    path = _findings_file(checker, template)
    if path is not None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
        _write_json(path, found)


def _write_json(path: Path, value: Any) -> None:
    """``value`` as ``path``, whole or not at all (a reader never sees half of it); nothing
    when its folder is gone (e.g. evicted meanwhile) or cannot be written."""
    with contextlib.suppress(OSError):
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        staging.write_text(json.dumps(value))
        staging.replace(path)


_ABANDONED = 3600  # seconds: a staging folder this old belongs to a process that died


def _evict(folder: Path) -> None:
    """The oldest syntheses beyond KEEP go, renamed first so that a reader copying one sees it
    gone; staging folders of processes that died go too. (Findings per template are small and
    stay.)"""
    aged = []
    for entry in folder.iterdir():
        if (entry / _ASSEMBLY).is_dir() and not entry.name.startswith("."):
            with contextlib.suppress(OSError):  # another process evicted it since the listing
                aged.append((entry.stat().st_mtime, entry))
    entries = [entry for _, entry in sorted(aged)]
    for stale in entries[:-KEEP]:
        with contextlib.suppress(OSError):  # another process evicted it first
            stale.rename(folder / f".old-{stale.name}-{os.getpid()}")
    now = time.time()
    for leftover in (*folder.glob(".old-*"), *folder.glob(".new-*")):
        with contextlib.suppress(OSError):
            if leftover.name.startswith(".old-") or now - leftover.stat().st_mtime > _ABANDONED:
                shutil.rmtree(leftover, ignore_errors=True)
