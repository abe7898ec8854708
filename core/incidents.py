"""Incident life cycle: states, the actions people (and the escalation timer) take, and the current view.

An incident is ``open`` when raised; each action moves it to a state (:data:`STATE_AFTER`)
when its current state allows it (:data:`ALLOWED_FROM`). The same rules apply whether the
state is kept in SQL (:meth:`archive.Archive.incident_action`) or folded from the
``incident.updated`` stream (:func:`fold_incidents`), so both views agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from core.types import Incident, IncidentUpdate

STATES = ("open", "acknowledged", "assigned", "escalated", "closed")
STATE_AFTER = {
    "ack": "acknowledged",
    "assign": "assigned",
    "close": "closed",
    "escalate": "escalated",
    "reopen": "open",
}
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "ack": ("open", "escalated", "assigned"),
    "assign": ("open", "acknowledged", "escalated", "assigned"),
    "close": ("open", "acknowledged", "assigned", "escalated"),
    "escalate": ("open",),
    "reopen": ("closed",),
}
#: What operators may do (``escalate`` is the escalation timer's).
OPERATOR_ACTIONS = ("ack", "assign", "close", "reopen")
#: Operator actions that mean the control room has taken the incident (its warden alert stops escalating).
TAKES_INCIDENT = ("ack", "assign", "close")
NOTE_MAX_CHARS = 500
ASSIGNEE_MAX_CHARS = 64


class InvalidAction(ValueError):
    """An incident action that is not allowed (the message says why)."""


class ActionNotAllowed(InvalidAction):
    """An action the incident's current state does not allow (e.g. acknowledging a closed one)."""


def validate_action(action: str, actor: str, note: str = "", assignee: str | None = None) -> None:
    """Check an action's own values (not the incident's state).

    Raises:
        InvalidAction: unknown action, no actor, assign without an assignee, a note over
            :data:`NOTE_MAX_CHARS` or an assignee over :data:`ASSIGNEE_MAX_CHARS` characters.
    """
    if action not in STATE_AFTER:
        raise InvalidAction(f"unknown action {action!r}; use one of {', '.join(STATE_AFTER)}")
    if not actor or not actor.strip():
        raise InvalidAction("an action needs an actor")
    if action == "assign" and not (assignee and assignee.strip()):
        raise InvalidAction("assign needs an assignee")
    if assignee is not None and len(assignee.strip()) > ASSIGNEE_MAX_CHARS:
        raise InvalidAction(f"assignee is too long (at most {ASSIGNEE_MAX_CHARS} characters)")
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidAction(f"note is too long (at most {NOTE_MAX_CHARS} characters)")


def next_state(state: str, action: str) -> str:
    """The state after ``action`` on an incident in ``state``.

    Raises:
        ActionNotAllowed: the current state does not allow the action.
    """
    if state not in ALLOWED_FROM.get(action, ()):
        raise ActionNotAllowed(f"incident is {state}; cannot {action} it")
    return STATE_AFTER[action]


@dataclass(frozen=True, slots=True)
class IncidentView:
    """One incident with its current state.

    Attributes:
        incident: The raised event.
        state: ``open``, ``acknowledged``, ``assigned``, ``escalated`` or ``closed``.
        assignee: Who it is assigned to.
        history: Its updates, oldest first (empty where a listing leaves them out).
        updated_ts_ms: When its state last changed (epoch ms).
    """

    incident: Incident
    state: str = "open"
    assignee: str | None = None
    history: tuple[IncidentUpdate, ...] = ()
    updated_ts_ms: int = 0

    @property
    def id(self) -> str:
        return self.incident.incident_id

    @property
    def kind(self) -> str:
        return self.incident.kind.value

    @property
    def priority(self) -> str:
        return self.incident.priority.value

    def after(self, up: IncidentUpdate) -> IncidentView:
        """This view with one more update applied."""
        state = up.state if up.state in STATES and up.state != "open" else STATE_AFTER.get(up.action, self.state)
        assignee = up.assignee if up.action == "assign" else self.assignee
        return replace(self, state=state, assignee=assignee, history=(*self.history, up), updated_ts_ms=up.ts_ms)


def fold_incidents(raised: Iterable[Incident], updates: Iterable[IncidentUpdate]) -> dict[str, IncidentView]:
    """Current state of each incident: its updates applied in time order."""
    views: dict[str, IncidentView] = {}
    for inc in raised:
        views.setdefault(inc.incident_id, IncidentView(inc, updated_ts_ms=inc.ts_ms))
    for up in sorted(updates, key=lambda u: u.ts_ms):
        v = views.get(up.incident_id)
        if v is not None:
            views[up.incident_id] = v.after(up)
    return views


__all__ = [
    "ALLOWED_FROM",
    "ASSIGNEE_MAX_CHARS",
    "NOTE_MAX_CHARS",
    "OPERATOR_ACTIONS",
    "STATES",
    "STATE_AFTER",
    "TAKES_INCIDENT",
    "ActionNotAllowed",
    "IncidentView",
    "InvalidAction",
    "fold_incidents",
    "next_state",
    "validate_action",
]
