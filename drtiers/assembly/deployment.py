"""A tier as it runs after a stack deployment: the stacks deployed, as synthesized for it, and
every other stack as it was deployed before."""

from __future__ import annotations

from collections.abc import Iterable

from drtiers.assembly.reader import TierAssembly


def after_deploying(
    before: TierAssembly, synthesized: TierAssembly, stacks: Iterable[str]
) -> TierAssembly:
    """``before`` with ``stacks`` ("region:name") replaced by what ``synthesized`` holds for
    them. A deployment changes only the stacks it deploys: the rest (and the roles they made,
    which the new stacks may name) stay as they were, whatever a fresh synthesis of the whole
    app would make of them."""
    chosen = {
        name
        for key in stacks
        for region, name in [key.split(":", 1)]
        if synthesized.stacks.get(name, ("", ""))[1] == region
    }
    kept = {name for name in before.stacks if name not in chosen}
    return TierAssembly(
        name=before.name,
        stacks={
            **{n: before.stacks[n] for n in kept},
            **{n: synthesized.stacks[n] for n in chosen},
        },
        dependencies={
            **{n: before.dependencies.get(n, []) for n in kept},
            **{n: synthesized.dependencies.get(n, []) for n in chosen},
        },
        resources=[r for r in before.resources if r.stack in kept]
        + [r for r in synthesized.resources if r.stack in chosen],
        termination_protected=synthesized.termination_protected,
        failed_over=synthesized.failed_over,
        account=synthesized.account,
        figures=synthesized.figures,
    )
