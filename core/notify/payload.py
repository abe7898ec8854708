"""What a notification says: one JSON payload for every adapter, MQTT topics, e-mail text.

The payload is flat JSON (Home Assistant's MQTT sensors read it with ``value_json.<key>``);
it carries no plate and nothing personal, because webhooks, brokers and push services are
outside the archive::

    {"type": "safecity.alert", "alert_id": "...", "incident_id": "...", "event_id": "...",
     "kind": "congestion", "priority": "high", "severity": 2, "zone": "university-rd",
     "zone_name": "University Road", "summary": "...", "escalated": false,
     "wardens": ["warden1"], "ts_ms": 1700000000000, "ts": "2023-11-14T22:13:20Z"}
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from core.notify.routing import SEVERITY
from core.types import WardenAlert

PAYLOAD_TYPE = "safecity.alert"
_TOPIC_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def iso_utc(ts_ms: int) -> str:
    """``2023-11-14T22:13:20Z`` (seconds precision)."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def alert_payload(alert: WardenAlert, event_id: str, zone_name: str | None = None) -> dict[str, Any]:
    """The JSON-safe payload of a warden alert (see the module docstring)."""
    return {
        "type": PAYLOAD_TYPE,
        "alert_id": alert.alert_id,
        "incident_id": alert.incident_id,
        "event_id": event_id,
        "kind": alert.kind.value,
        "priority": alert.priority.value,
        "severity": SEVERITY[alert.priority],
        "zone": alert.segment_id or "",
        "zone_name": zone_name or alert.segment_id or "",
        "summary": alert.summary,
        "escalated": alert.escalated,
        "wardens": list(alert.wardens),
        "ts_ms": alert.ts_ms,
        "ts": iso_utc(alert.ts_ms),
    }


def payload_text(payload: dict[str, Any]) -> str:
    """Compact JSON with sorted keys (the bytes a webhook signature covers)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _topic_part(value: str) -> str:
    """One MQTT topic level: no ``/``, ``+``, ``#`` or blanks; ``none`` when empty."""
    return _TOPIC_UNSAFE.sub("_", value) or "none"


def mqtt_topic(prefix: str, payload: dict[str, Any]) -> str:
    """``<prefix>/<zone>/<kind>``, e.g. ``safecity/alerts/university-rd/congestion``."""
    return f"{prefix.rstrip('/')}/{_topic_part(str(payload['zone']))}/{_topic_part(str(payload['kind']))}"


def title(payload: dict[str, Any]) -> str:
    """One line: ``[HIGH] congestion - University Road`` (``ESCALATED`` when it is)."""
    esc = " ESCALATED" if payload.get("escalated") else ""
    where = payload.get("zone_name") or "no zone"
    return f"[{str(payload['priority']).upper()}{esc}] {str(payload['kind']).replace('_', ' ')} - {where}"


def email_text(payload: dict[str, Any], dashboard_url: str = "") -> tuple[str, str]:
    """``(subject, plain-text body)`` of an alert e-mail."""
    lines = [
        title(payload),
        "",
        str(payload.get("summary") or ""),
        "",
        f"Zone: {payload.get('zone_name') or '-'} ({payload.get('zone') or '-'})",
        f"Kind: {payload['kind']}",
        f"Priority: {payload['priority']}",
        f"Time (UTC): {payload['ts']}",
        f"Wardens: {', '.join(payload.get('wardens') or []) or 'none (control room)'}",
        f"Incident: {payload['incident_id']}",
    ]
    if dashboard_url:
        lines += ["", f"Open the control room: {dashboard_url.rstrip('/')}/incidents"]
    return "Safe City alert: " + title(payload), "\n".join(lines) + "\n"


__all__ = ["PAYLOAD_TYPE", "alert_payload", "email_text", "iso_utc", "mqtt_topic", "payload_text", "title"]
