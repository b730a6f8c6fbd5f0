"""The architecture picture of a tier, drawn with the `diagrams` library (AWS icons, laid out
by Graphviz) from the same topology as the Mermaid version."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from diagrams import Cluster, Diagram, Edge
from diagrams.aws.compute import Fargate
from diagrams.aws.database import RDS, Aurora, Dynamodb, DynamodbDax
from diagrams.aws.integration import SQS
from diagrams.aws.network import ELB, GlobalAccelerator, Route53
from diagrams.aws.storage import Backup
from diagrams.onprem.client import Users

from drtiers.report.content import Topology

# Fixed layout settings: the same topology always gives the same picture.
GRAPH = {"fontsize": "20", "pad": "0.3", "splines": "spline"}


def _tasks(count: str) -> str:
    return f"Fargate: {count} task{'' if count == '1' else 's'}"


def render_png(t: Topology, title: str) -> bytes:
    """PNG bytes of the tier's architecture. Needs Graphviz's `dot` on PATH."""
    return _drawn(t, title)


# The same topology and title give the same bytes (GRAPH is fixed; tests/test_report.py draws
# them again and compares), and Graphviz takes ~0.2 s of a core a picture: a process that
# reports the same tiers again (the test session writes them ~10 times) draws each once.
@functools.lru_cache(maxsize=32)
def _drawn(t: Topology, title: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="drtiers-diagram-") as folder:
        target = Path(folder) / "diagram"
        with Diagram(
            title,
            filename=str(target),
            outformat="png",
            show=False,
            direction="LR",
            graph_attr=GRAPH,
        ):
            users = Users("clients")
            entry = GlobalAccelerator(t.entry) if t.accelerated else Route53(t.entry)
            users >> entry
            database = Aurora if "Aurora" in t.primary_database else RDS
            with Cluster(f"{t.primary_region} (primary)"):
                alb_p = ELB("ALB")
                proxy = RDS("RDS Proxy")
                app_p = Fargate(_tasks(t.primary_tasks))
                db_p = database(t.primary_database)
                table_p = Dynamodb("global table")
                alb_p >> app_p >> [proxy, table_p, DynamodbDax("DAX"), SQS("SQS + DLQ")]
                proxy >> db_p
            entry >> alb_p
            with Cluster(f"{t.recovery_region} (recovery)"):
                vault = Backup("backup vault")
                if t.recovery_database is not None:
                    alb_r = ELB("ALB")
                    app_r = Fargate(_tasks(t.recovery_tasks or "0"))
                    db_r = database(t.recovery_database)
                    table_r = Dynamodb("table replica")
                    alb_r >> app_r >> [db_r, table_r]
                    if t.dax_in_recovery:
                        app_r >> DynamodbDax("DAX")
            if t.recovery_database is not None:
                (
                    entry
                    >> (
                        Edge(label="both serving")
                        if t.accelerated
                        else Edge(label="on failure", style="dashed")
                    )
                    >> alb_r
                )
                db_p >> Edge(label="replication", style="dashed") >> db_r
                table_p >> Edge(label="replication", style="dashed") >> table_r
            db_p >> Edge(label="daily copy", style="dotted") >> vault
            table_p >> Edge(style="dotted") >> vault
        return target.with_suffix(".png").read_bytes()
