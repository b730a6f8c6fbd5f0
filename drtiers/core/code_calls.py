"""The AWS calls a Python function's code makes, read from its source as Python reads it (``ast``):
``boto3.client("service", region_name=...)`` clients, their operations (directly or through a
paginator's operation name), and the functions of the same module it calls with its payload.

What a call names is kept where it comes straight from the payload (``event["table"]``,
``metric["region"]`` with ``metric = event.get("metric")``); anything computed is not known, and
whoever evaluates the call errs towards allowed there. Operation names come from botocore's
service model (``core.endpoints.operation_names``), so a method that is no operation (a
paginator, a waiter) is no call.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache

from drtiers.core.endpoints import UnknownCall, operation_names

NOT_KNOWN = "*"  # a client region the code computes


@dataclass(frozen=True)
class SdkCall:
    service: str  # the SDK's service name (boto3.client's first argument)
    operation: str  # botocore's operation name (PutItem)
    # The payload field its client's region_name comes from ("region", "metric.region"); None
    # without one (the function's own region); NOT_KNOWN when the code computes it.
    region: str | None
    arguments: tuple[tuple[str, str], ...]  # (parameter, payload field) taken from the payload


def _operation(service: str, method: str) -> str | None:
    try:
        return operation_names(service).get(method.replace("_", "-"))
    except UnknownCall:
        return None


@dataclass
class _Function:
    """One function's clients and payload fields (by variable), then its calls."""

    node: ast.FunctionDef
    fields: dict[str, str]  # variable -> the payload field it holds ("" for the payload)
    clients: dict[str, tuple[str, str | None]]  # variable -> (service, region field)

    def field(self, expr: ast.expr) -> str | None:
        """The payload field an expression reads straight from the payload, if it does."""
        if isinstance(expr, ast.Name):
            return self.fields.get(expr.id) or None  # the payload itself is no field
        key: ast.expr | None = None
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
            base, key = expr.value.id, expr.slice
        elif (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "get"
            and isinstance(expr.func.value, ast.Name)
            and expr.args
        ):
            base, key = expr.func.value.id, expr.args[0]
        if key is None or base not in self.fields:
            return None
        if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
            return None
        return f"{self.fields[base]}.{key.value}".lstrip(".")

    def client(self, expr: ast.expr) -> tuple[str, str | None] | None:
        """(service, region field) of a ``boto3.client(...)`` expression or a client variable."""
        if isinstance(expr, ast.Name):
            return self.clients.get(expr.id)
        if not (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "client"
            and isinstance(expr.func.value, ast.Name)
            and expr.func.value.id == "boto3"
            and expr.args
            and isinstance(expr.args[0], ast.Constant)
        ):
            return None
        region: str | None = None
        for keyword in expr.keywords:
            if keyword.arg == "region_name":
                region = self.field(keyword.value) or NOT_KNOWN
        return str(expr.args[0].value), region

    def read_assignments(self) -> None:
        """Payload fields and clients held in variables (until nothing new is learnt)."""
        assignments = [
            (n.targets[0].id, n.value)
            for n in ast.walk(self.node)
            if isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name)
        ]
        learnt = True
        while learnt:
            learnt = False
            for name, value in assignments:
                field, client = self.field(value), self.client(value)
                if field is not None and name not in self.fields:
                    self.fields[name], learnt = field, True
                if client is not None and name not in self.clients:
                    self.clients[name], learnt = client, True

    def sdk_call(self, call: ast.Call) -> SdkCall | None:
        """The SDK call ``call`` makes: ``client.operation(...)``, or a helper given a client
        and an operation's name (a paginated list)."""
        client, method = None, None
        if isinstance(call.func, ast.Attribute):
            client, method = self.client(call.func.value), call.func.attr
        if client is None:
            names = [a.value for a in call.args if isinstance(a, ast.Constant)]
            clients = [c for a in call.args if (c := self.client(a)) is not None]
            client, method = (clients[0], str(names[0])) if clients and names else (None, None)
        operation = _operation(client[0], method) if client and method else None
        if client is None or operation is None:
            return None
        arguments = tuple(
            (k.arg, field)
            for k in call.keywords
            if k.arg is not None and (field := self.field(k.value)) is not None
        )
        return SdkCall(client[0], operation, client[1], arguments)


class _Module:
    def __init__(self, source: str) -> None:
        tree = ast.parse(source)
        self.functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
        self.dispatch = _dispatch(tree)

    def calls(self, name: str, seen: frozenset[str] = frozenset()) -> tuple[SdkCall, ...]:
        """Every SDK call the function makes, with those of the module's functions it hands
        its payload to."""
        node = self.functions[name]
        payload = node.args.args[0].arg if node.args.args else ""
        function = _Function(node, {payload: ""}, {})
        function.read_assignments()
        found: list[SdkCall] = []
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            if (sdk := function.sdk_call(call)) is not None:
                found.append(sdk)
            callee = call.func.id if isinstance(call.func, ast.Name) else ""
            hands_payload = (
                bool(call.args)
                and function.field(call.args[0]) is None
                and (isinstance(call.args[0], ast.Name) and call.args[0].id == payload)
            )
            if callee in self.functions and callee not in seen | {name} and hands_payload:
                found += self.calls(callee, seen | {name})
        return tuple(found)


def _dispatch(tree: ast.Module) -> dict[str, str]:
    """Action -> function of a module-level ``ACTIONS = {"action": function, ...}``."""
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "ACTIONS" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            return {
                str(k.value): v.id
                for k, v in zip(node.value.keys, node.value.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(v, ast.Name)
            }
    return {}


@cache
def action_calls(source: str) -> dict[str, tuple[SdkCall, ...]]:
    """Payload action -> the SDK calls its function makes, for a module that dispatches on a
    payload's ``action``: through its ``ACTIONS`` table, or to the function of the action's name
    (``start-plan`` -> ``start_plan``)."""
    module = _Module(source)
    names = {a.replace("_", "-"): a for a in module.functions} | module.dispatch
    return {action: module.calls(name) for action, name in names.items()}
