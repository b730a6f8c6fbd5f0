"""drtiers init, schema and prices: the workload file and the price file; none of them
synthesizes, so they answer at once."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from drtiers.assess import pricelist
from drtiers.cli.common import UsageError
from drtiers.config.context import cdk_json_file
from drtiers.config.workload import DEFAULT_FILE, SCHEMA_PATH, json_schema, starter_file
from drtiers.core.facts import check_prices, default_workload, price_data, price_file_name


def cmd_init(args: argparse.Namespace, console: Console) -> int:
    """Write the starter workload file; never over an existing file."""
    path = Path(args.out)
    if path.exists():
        raise UsageError(f"{path} exists; drtiers init never overwrites: give --out NEW_PATH")
    cdk_json = cdk_json_file()  # the repository's root, which publishes the schema
    schema = (
        os.path.relpath(cdk_json.parent / SCHEMA_PATH, path.absolute().parent)
        if cdk_json is not None
        else SCHEMA_PATH
    )
    path.write_text(starter_file(default_workload(), schema), encoding="utf-8")
    console.print(
        f"wrote {path}: drtiers' reference workload with every key explained. Edit it, then "
        f"npx cdk synth{'' if path.name == DEFAULT_FILE else f' --context workload={path}'}"
    )
    return 0


def cmd_schema(args: argparse.Namespace, console: Console) -> int:
    """The workload file's JSON Schema, as the repository publishes it (SCHEMA_PATH)."""
    sys.stdout.write(json_schema())
    return 0


def cmd_prices(args: argparse.Namespace, console: Console) -> int:
    """Read the price file's prices again from the AWS Price List Query API; print what changed;
    write the refreshed file only to --out."""
    data = price_data()
    regions = args.region or list(
        dict.fromkeys(r for entry in data["prices"].values() for r in entry["regions"])
    )
    client = pricelist.client()
    if client is None:
        raise UsageError(
            "prices update: no AWS credentials found (the Price List API needs any signed-in "
            f"identity); {price_file_name()} is unchanged"
        )
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result = pricelist.update(client, data, regions, datetime.now(UTC).date())
    except (BotoCoreError, ClientError) as error:
        raise UsageError(f"prices update: the Price List API failed: {error}") from None
    for line in result.changed:
        print(f"changed {line}")
    for line in result.missing:
        print(f"not found {line} (left as it was)")
    print(
        f"{len(result.changed)} changed, {result.unchanged} unchanged, {len(result.missing)} "
        f"not found, {len(result.not_queried)} not in the Price List queries (left as they "
        f"were) in {', '.join(regions)}"
    )
    if args.out:
        check_prices(result.data, args.out)
        Path(args.out).write_text(json.dumps(result.data, indent=2) + "\n")
        print(f"wrote {args.out}; use it with --prices {args.out}")
    else:
        print(f"{price_file_name()} is unchanged; --out FILE writes the refreshed prices")
    return 0
