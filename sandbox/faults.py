"""Injected faults: 429s, 5xx answers, slow answers and dropped connections."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any

from sandbox.errors import ControlError

FAULT_KINDS = ("429", "5xx", "slow", "drop")


@dataclass
class Fault:
    """One queued fault; it applies to the next ``count`` matching calls."""

    kind: str
    method: str = "*"
    chat_id: int | None = None
    count: int = 1
    retry_after: int = 1
    status: int = 502
    delay: float = 1.0

    @property
    def description(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Server Error"

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method == "*":
            # A poller must keep working unless a test targets it on purpose.
            if method == "getUpdates":
                return False
        elif self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault:
        kind = str(body.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ControlError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS}")
        try:
            fault = cls(
                kind=kind,
                method=str(body.get("method") or "*"),
                chat_id=None if body.get("chat_id") is None else int(body["chat_id"]),
                count=int(body.get("count", 1)),
                retry_after=int(body.get("retry_after", 1)),
                status=int(body.get("status", 502)),
                delay=float(body.get("delay", 1.0)),
            )
        except (TypeError, ValueError) as exc:
            raise ControlError(f"bad fault field: {exc}") from None
        if fault.count < 1 or fault.retry_after < 1 or fault.delay < 0:
            raise ControlError("count and retry_after must be >= 1, delay >= 0")
        if not 500 <= fault.status <= 599:
            raise ControlError("status must be a 5xx code")
        return fault


class FaultQueue:
    """Faults in the order they were added; the first matching one fires."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None
