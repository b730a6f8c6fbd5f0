"""The AWS API calls in a runbook step's shell command: each ``aws <service> <operation>``, with
the region it names, wherever it stands (after ``&&``, inside ``$(...)``, in an assignment)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise

import jmespath
from jmespath.exceptions import JMESPathError

from drtiers.core.endpoints import (
    UnknownCall,
    operation_names,
    operation_options,
    paginated,
    served_from,
    waiter_operations,
)

_SEPARATORS = ("&&", "||", "|", ";", "\n")
_KEYWORDS = {"do", "then", "else"}  # a command that follows one is an ordinary command


@dataclass(frozen=True)
class Call:
    service: str  # botocore's service name (the CLI's, but for s3api)
    operation: str  # the API's operation name (ListPlans)
    region: str | None  # what --region names; None: the caller's default
    options: tuple[str, ...] = field(default=(), compare=False)  # the --flags it is given

    def served_from(self) -> str | None:
        """The region whose endpoint serves the call (None: no region named)."""
        if self.region is None:
            return None
        return served_from(self.service, self.operation, self.region)


class _Reader:
    """Splits a command into simple commands (words), descending into ``$(...)``; quotes keep
    what they hold as one word, as the shell does."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0
        self.commands: list[list[str]] = []

    def read(self, nested: bool = False) -> None:
        words: list[str] = []
        word = ""
        while self.at < len(self.text):
            char = self.text[self.at]
            separator = next((s for s in _SEPARATORS if self.text.startswith(s, self.at)), None)
            if self.text.startswith("\\\n", self.at):  # a line continued on the next
                self.at += 2
                continue
            if char == "#" and not word:  # a comment, to the end of the line
                end = self.text.find("\n", self.at)
                self.at = len(self.text) if end < 0 else end
                continue
            if char in "'\"":
                word += self._quoted(char)
                continue
            if self.text.startswith("$(", self.at):
                self.at += 2
                self.read(nested=True)
                word += "$(...)"
                continue
            if (char == ")" and nested) or separator or char.isspace():
                if word:
                    words.append(word)
                word = ""
                if char == ")" and nested:
                    self.at += 1
                    break
                if separator:
                    self._close(words)
                    words = []
                self.at += len(separator) if separator else 1
                continue
            word += char
            self.at += 1
        if word:
            words.append(word)
        self._close(words)

    def _quoted(self, quote: str) -> str:
        """A quoted string (its commands substituted inside double quotes are read too)."""
        self.at += 1
        held = ""
        while self.at < len(self.text) and self.text[self.at] != quote:
            if quote == '"' and self.text.startswith("$(", self.at):
                self.at += 2
                self.read(nested=True)
                held += "$(...)"
                continue
            if quote == '"' and self.text[self.at] == "\\":
                self.at += 1
            held += self.text[self.at]
            self.at += 1
        self.at += 1
        return held

    def _close(self, words: list[str]) -> None:
        if words:
            self.commands.append(words)


# A query that picks or orders among all results: run on each page apart, it answers once per
# page (an element of each, "None" for a page with no match, each page sorted apart).
_ACROSS_RESULTS = re.compile(r"\[-?\d+\]|\b(sort_by|max_by|min_by|reverse|sort|max|min)\(")


def _check_queries(service: str, operation: str, words: list[str], paged: bool) -> None:
    """Each ``--query`` as the CLI receives it (the shell's quotes removed) is a JMESPath
    expression, which the CLI compiles before it calls anything. On an operation the CLI pages
    through (``paged``), with text output, it picks or orders nothing across results: "If you
    specify --output text, the output is paginated before the --query filter is applied, and
    the AWS CLI runs the query once on each page of the output"
    (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-filter.html)."""
    text = any(o == "--output" and v == "text" for o, v in pairwise(words))
    for option, value in pairwise(words):
        if option != "--query":
            continue
        try:
            jmespath.compile(value)
        except JMESPathError as error:
            raise UnknownCall(
                f"aws {service} {operation}: --query {value} is not a JMESPath expression ({error})"
            ) from error
        if text and paged and _ACROSS_RESULTS.search(value):
            raise UnknownCall(
                f"aws {service} {operation}: --query {value} with --output text runs on each "
                "page apart; allowed: --output json, or a query that only filters"
            )


def aws_calls(command: str) -> list[Call]:
    """Every AWS CLI call in a shell command, in the order the shell starts them (a command
    substituted into another runs first). Raises UnknownCall for an operation botocore's
    model does not have: a typo that would fail at the worst moment."""
    return list(_calls(command))


@cache
def _calls(command: str) -> tuple[Call, ...]:
    """The calls of one command, read once (the simulator asks for each step's several times)."""
    reader = _Reader(command)
    reader.read()
    calls = []
    for words in reader.commands:
        while words and (words[0] in _KEYWORDS or ("=" in words[0] and words[0][0] != "-")):
            words = words[1:]  # VAR=value, or a loop's or condition's keyword, before it
        if len(words) < 3 or words[0] != "aws":
            continue
        service, cli_operation = words[1], words[2]
        if cli_operation == "wait" and len(words) > 3:  # a waiter polls one operation
            operation = waiter_operations(service).get(words[3])
            cli_operation = f"wait {words[3]}"
        else:
            operation = operation_names(service).get(cli_operation)
        if operation is None:
            raise UnknownCall(f"aws {service} {cli_operation}: no such operation in botocore")
        region = next((words[i + 1] for i, w in enumerate(words[:-1]) if w == "--region"), None)
        options = tuple(w for w in words if w.startswith("--"))
        paged = (  # a waiter polls, and --no-paginate reads the first page only
            paginated(service, operation)
            and not cli_operation.startswith("wait ")
            and "--no-paginate" not in words
        )
        _check_queries(service, cli_operation, words, paged)
        unknown = sorted(set(options) - operation_options(service, operation))
        if unknown:  # the CLI refuses the whole call: "Unknown options"
            raise UnknownCall(
                f"aws {service} {cli_operation}: {', '.join(unknown)} is not a parameter of "
                f"{operation} in botocore's model"
            )
        calls.append(Call(service, operation, region, options))
    return tuple(calls)
