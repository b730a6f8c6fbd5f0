"""What a deleted stack leaves behind under its own names, and the next rebuild that meets it
(backup-restore, whose failover rebuilds the primary stack in R and whose failback deletes it).

A resource with DeletionPolicy Retain stays in its region when its stack is deleted
(rules.retained_on_delete): the rebuild's logs and the backups in its vault are the event's
record, and must stay. Under a name of its own, it is still there when the next event's rebuild
creates that name again in the same region, and CloudFormation's create fails
(rules.create_meets_existing_name). A name that carries the event's stamp (restore_from's
event) is not created again: the next rebuild is given another stamp.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from drtiers.assembly.world import stack_of
from drtiers.core import rules
from drtiers.recovery import steps as s
from drtiers.recovery.live import Live


def note_rebuild(w: Live, context: Sequence[tuple[str, str]], stacks: Sequence[str]) -> None:
    """A deployment given restore_from rebuilds ``stacks``: remember the event it was for."""
    restore_from = dict(context).get("restore_from")
    if not restore_from:
        return
    event = json.loads(restore_from).get("event")
    for stack in stacks:
        w.rebuilt[stack] = str(event or "")


def collisions(w: Live) -> list[tuple[str, str]]:
    """(resource, why) for each name a deleted rebuild left that the next event's rebuild
    creates again in the same region: one that does not carry this event's stamp."""
    if rules.create_meets_existing_name():
        return []
    found = []
    for key, (kind, name) in sorted(w.left_behind.items()):
        event = w.rebuilt.get(stack_of(key))
        if event is None or (event and f"-{event}" in name):
            continue  # no rebuild made it, or the next rebuild names its own
        region, logical_id = key.split(":", 1)[0], key.split("/", 1)[1]
        found.append(
            (
                f"{kind} {name}",
                f"{logical_id} stays in {region} when retire-rebuild deletes its stack "
                "(DeletionPolicy Retain), and the next event's rebuild creates it under the "
                "same name there: CloudFormation's create fails (AlreadyExists: \"The "
                'specified resource already existed before the execution of this handler"). '
                "Name it for the event in the rebuilt stack (<name>-<restore_from event>) and "
                "keep what this rebuild left (its logs and backups are the event's record)",
            )
        )
    return found


def retry_blocked(w: Live, step: s.Step) -> list[str]:
    """Why running a rebuild again after its create failed fails too: a create that may roll
    back cannot be retried once protected (rules.failed_create_retried: the CLI deletes the
    rolled-back stack first, which termination protection refuses, and the rollback must delete
    what has deletion protection on), and what a rolled-back create keeps under its own names
    (rules.kept_on_failed_create) meets the retry's create. None with `--no-rollback`: the
    stack stays CREATE_FAILED and the same command continues it."""
    if "restore_from" not in dict(step.context) or "--no-rollback" in step.command:
        return []
    kept = [
        f"{kind} {name}"
        for key in step.stack_update
        if key in w.stacks
        for kind, name in w.stacks[key].kept_on_rollback
    ]
    why = []
    if w.termination_protected and not rules.failed_create_retried():
        why.append("termination protection refuses the CLI's delete of the rolled-back stack")
    if kept and not rules.create_meets_existing_name():
        why.append(f"the rollback keeps {', '.join(kept)} (DeletionPolicy Retain)")
    if not why:
        return []
    return [
        "if this create fails, running it again (as the step says) fails too: "
        + "; ".join(why)
        + ". Deploy with --no-rollback: the stack stays CREATE_FAILED and the same command "
        "continues it"
    ]
