"""Problems found in a workflow, reported together and shaped for people and for JSON."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow: `code` for programs, `message` and `hint` for people.

    `severity` "warning" marks something worth saying that does not stop a run (a retired model id
    sent as its successor, say); only errors make a workflow invalid.
    """
    code: str
    message: str
    node: str | None = None
    port: str | None = None
    hint: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()

    def to_json(self) -> dict:
        return asdict(self)


class WorkflowInvalid(Exception):
    """Raised with every problem at once, so a user fixes them in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
