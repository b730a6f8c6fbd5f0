"""CloudFormation Guard with the AWS Control Tower rules, run on the synthesized templates.

The rules and the cfn-guard binary are the ones the pinned cdk-validator-cfnguard package ships
(its CDK plugin runs the same binary with the same rules, on the same templates, but only
inside a second synthesis: ~25 s for every tier). Here each template is given only the rules
that select a resource type it has (see :func:`selected_types`; a rule without any of them in
the template can only skip), and templates run two at a time. A finding acknowledged on its
resource (``drtiers:acknowledged`` -> guard -> rule, as constructs/lint.py records it) is not
reported as one.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata, util
from pathlib import Path
from typing import Any

from drtiers.assembly import cache
from drtiers.assembly.reader import template_files
from drtiers.checks import usable_cores

PACKAGE = "cdklabs.cdk_validator_cfnguard"
_RULES = "rules/control-tower/cfn-guard"
# A rule file's selections: file-level `let x = Resources.*[ Type == %T ]` (or `Resources[...]`,
# or `Type == "AWS::..."`, several joined by `or`), with `let T = "AWS::..."`.
_CONSTANT = re.compile(r"""^let\s+(\w+)\s*=\s*["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']""", re.M)
_SELECTION = re.compile(r"^let\s+(\w+)\s*=\s*Resources(?:\.\*)?\s*\[([^\]]*)\]", re.M)
_TYPE_TEST = re.compile(r"""Type\s*==\s*(?:%(\w+)|["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["'])""")
# cfn-guard's exit statuses: 0 compliant, 19 not compliant (5: a rule file failed to parse)
_ANSWERED = {0, 19}
_COMPLETE = ".unpacked"


def _platform() -> str:
    """The binary the plugin would pick (its getPlatform / getArchitecture)."""
    systems = {"Linux": "ubuntu", "Darwin": "macos"}
    machines = {"x86_64": "x86_64", "AMD64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}
    system, machine = platform.system(), platform.machine()
    if system not in systems or machine not in machines:
        raise RuntimeError(f"cfn-guard: no binary for {system}/{machine}; allowed: Linux, macOS")
    return f"bin/{systems[system]}/{machines[machine]}/cfn-guard"


@functools.cache
def installed() -> Path:
    """The plugin package's folder (binary and rules), unpacked once per version."""
    _platform()  # where cfn-guard has no binary (Windows), say so before POSIX-only calls
    import fcntl

    version = metadata.version("cdklabs.cdk-validator-cfnguard")
    folder = Path(tempfile.gettempdir()) / f"drtiers-cfnguard-{version}-{os.getuid()}"
    if (folder / _COMPLETE).is_file():
        return folder

    # One process unpacks while the others wait (two test workers on a fresh /tmp): a folder
    # with the mark is never removed, since another process may be reading it.
    with open(f"{folder}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / _COMPLETE).is_file():
            _unpack(folder)
    return folder


def _unpack(folder: Path) -> None:
    spec = util.find_spec(PACKAGE)
    assert spec is not None and spec.origin is not None, f"{PACKAGE} is not installed"
    tgz = next((Path(spec.origin).parent / "_jsii").glob("*.jsii.tgz"))
    wanted = ("package/" + _platform(), f"package/{_RULES}/")
    staging = Path(tempfile.mkdtemp(prefix=f"{folder.name}-"))
    with tarfile.open(tgz) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(wanted)]
        archive.extractall(staging, members=members, filter="data")
    (staging / "package" / _platform()).chmod(0o755)
    # The mark last: a folder without it (e.g. cut short by a /tmp cleaner) is unpacked again.
    (staging / "package" / _COMPLETE).touch()
    shutil.rmtree(folder, ignore_errors=True)
    (staging / "package").rename(folder)
    shutil.rmtree(staging, ignore_errors=True)


def selections(text: str) -> dict[str, frozenset[str]] | None:
    """A Control Tower rule file's selections: each variable it assigns ``Resources.*[ Type ==
    T ]`` (several types joined by ``or``), with the types it takes; None where one selects
    otherwise."""
    constants = dict(_CONSTANT.findall(text))
    found = {}
    for selection in _SELECTION.finditer(text):
        tests = _TYPE_TEST.findall(selection[2])
        rest = re.sub(r"\bor\b", "", _TYPE_TEST.sub("", selection[2])).strip()
        if not tests or rest or any(n and n not in constants for n, _ in tests):
            return None
        found[selection[1]] = frozenset(constants[n] if n else type_ for n, type_ in tests)
    return found


def selected_types(text: str) -> frozenset[str]:
    """The resource types a rule file selects. Each of its rules for a template runs ``when
    is_cfn_template(...) %x not empty``, ``x`` one of its selections; its other rules are for
    a hook's input, which a template is not, or take parameters (tests/test_policy.py holds
    this for every file). So where none of these types is in a template, the whole file
    skips. The other types a file names are those it looks up from a selected resource (a
    queue's key, say). Empty (the file applies to every template) where it selects otherwise."""
    found = selections(text)
    return frozenset().union(*found.values()) if found else frozenset()


@functools.cache
def _rule_types() -> dict[Path, frozenset[str]]:
    return {
        rule: selected_types(rule.read_text())
        for rule in sorted((installed() / _RULES).rglob("*.guard"))
    }


def rules_for(types: set[str]) -> list[Path]:
    """The rule files that select one of ``types``, and those that select otherwise."""
    return [rule for rule, selected in _rule_types().items() if not selected or selected & types]


def _paths(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "path" and isinstance(value, str):
                yield value
            else:
                yield from _paths(value)
    elif isinstance(node, list):
        for value in node:
            yield from _paths(value)


def _message(node: Any) -> str:
    """The first line of the first custom message (the rule's "[CT.X.PR.n]: ..." line)."""
    if isinstance(node, dict):
        text = (node.get("messages") or {}).get("custom_message") or ""
        if text.strip():
            return text.strip().splitlines()[0].strip()
        node = list(node.values())
    if isinstance(node, list):
        return next((m for m in map(_message, node) if m), "")
    return ""


def _validate(template: Path) -> list[tuple[str, bool]]:
    """``<stack>/<logical id>: <rule>: <message>`` for each finding, and whether it is
    acknowledged on its resource; read from the cache for a template of the same bytes."""
    text = template.read_bytes()
    checker = f"guard-{metadata.version('cdklabs.cdk-validator-cfnguard')}-{template.name}"
    kept = cache.findings(checker, text)
    if kept is None:
        kept = _run(template)
        cache.keep_findings(checker, text, kept)
    return [(line, bool(acknowledged)) for line, acknowledged in kept]


def _without_metadata(document: dict[str, Any], folder: Path) -> Path:
    """The template without its resources' Metadata (the CDK's paths, the acknowledgments: a
    third of the bytes), which no Control Tower rule reads (they read Properties; the four that
    name "Metadata" mean the instance metadata service): Guard takes ~20 % less time on it."""
    resources = {
        name: {key: value for key, value in resource.items() if key != "Metadata"}
        for name, resource in document.get("Resources", {}).items()
    }
    slim = folder / "template.json"
    # As the CDK writes it: characters as they are (Guard's parser refuses an escaped
    # surrogate pair, which json.dumps writes for a character outside the basic plane).
    slim.write_text(
        json.dumps({**document, "Resources": resources}, ensure_ascii=False), encoding="utf-8"
    )
    return slim


def _run(template: Path) -> list[tuple[str, bool]]:
    document: dict[str, Any] = json.loads(template.read_text(encoding="utf-8"))
    resources: dict[str, Any] = document.get("Resources", {})
    rules = rules_for({r.get("Type", "") for r in resources.values()})
    if not rules:
        return []
    with tempfile.TemporaryDirectory(prefix="drtiers-guard-") as folder:
        data = _without_metadata(document, Path(folder))
        command = [str(installed() / _platform()), "validate", "--data", str(data)]
        for rule in rules:
            command += ["--rules", str(rule)]
        command += ["--output-format", "json", "--show-summary", "none", "--structured"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in _ANSWERED:
        problem = done.stderr.strip()[:500]
        raise RuntimeError(
            f"cfn-guard failed on {template.name} (exit {done.returncode}): {problem}"
        )
    stack = template.name.removesuffix(".template.json")
    findings = []
    for result in json.loads(done.stdout):
        for failed in result.get("not_compliant") or []:
            rule = failed["Rule"]["name"]
            ids = {p.split("/")[2] for p in _paths(failed) if p.startswith("/Resources/")}
            for logical_id in sorted(ids) or ["?"]:
                recorded = resources.get(logical_id, {}).get("Metadata", {})
                acked = rule in recorded.get("drtiers:acknowledged", {}).get("guard", {})
                findings.append((f"{stack}/{logical_id}: {rule}: {_message(failed)}", acked))
    return findings


def checked(directory: Path) -> list[tuple[str, bool]]:
    """Every finding on the templates of the assembly in ``directory``, and whether it is
    acknowledged."""
    with ThreadPoolExecutor(max_workers=usable_cores()) as pool:
        return [f for found in pool.map(_validate, template_files(directory)) for f in found]


def guard(directory: Path) -> list[str]:
    """Guard's unacknowledged findings on the assembly in ``directory``."""
    return [line for line, acknowledged in checked(directory) if not acknowledged]
