"""``python -m services.notify``: the notifier service (see :mod:`services.notify`)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Sequence

from bus.notify import NotifyState
from bus.streams import EventBus
from config.notify import EmailDestination, MqttDestination, WebhookDestination, WebPushDestination
from config.settings import AppConfig, resolve_path
from services.common import consume, consumer_name, service_archive, service_main
from services.notify.mail import EmailAdapter
from services.notify.mqtt import MqttAdapter
from services.notify.service import GROUP, STREAM, Adapter, Notifier, PushAdapter
from services.notify.vapid import load_or_create, public_key_b64
from services.notify.webhook import WebhookAdapter
from services.notify.webpush import WebPushAdapter

log = logging.getLogger("services.notify")


def build_adapters(cfg: AppConfig, state: NotifyState | None) -> dict[str, Adapter | PushAdapter]:
    """One adapter per enabled destination; the VAPID key pair is made (and published) when Web Push is used.

    Raises:
        ValueError: the VAPID key file is unusable.
    """
    out: dict[str, Adapter | PushAdapter] = {}
    vapid = None
    for d in cfg.notify.destinations:
        if not d.enabled:
            continue
        if isinstance(d, WebhookDestination):
            out[d.name] = WebhookAdapter(d)
        elif isinstance(d, MqttDestination):
            out[d.name] = MqttAdapter(d)
        elif isinstance(d, EmailDestination):
            out[d.name] = EmailAdapter(d)
        elif isinstance(d, WebPushDestination):
            if vapid is None:
                path = resolve_path(cfg.notify.vapid.private_key_file)
                vapid, created = load_or_create(path)
                log.info("VAPID key pair %s %s", "created in" if created else "read from", path)
                if state is not None:
                    state.set_public_key(public_key_b64(vapid))
            out[d.name] = WebPushAdapter(d, vapid, cfg.notify.vapid.subject)
    return out


def run(cfg: AppConfig, bus: EventBus, stop: threading.Event, args: argparse.Namespace | None = None) -> None:
    archive, url = service_archive(cfg, args, with_store=False)
    state = NotifyState(bus.client)
    notifier = Notifier(cfg, bus, archive.notify, build_adapters(cfg, state), state)
    consumer = consumer_name(args)
    # From now on: the alerts raised before the notifier first ran are not sent out (after that
    # the group remembers where it was, so alerts raised while it is down are).
    bus.ensure_group(STREAM, GROUP, start="$")
    names = ", ".join(f"{d.name} ({d.kind})" for d in cfg.notify.destinations if d.enabled) or "none"
    log.info("notifier: %s -> %s", STREAM, names)
    sender = threading.Thread(target=notifier.delivery_loop, args=(stop,), name="notify-deliver", daemon=True)
    sender.start()
    try:
        consume(bus, GROUP, consumer, [STREAM], notifier.handle, stop)
    finally:
        stop.set()
        sender.join(timeout=30)
        notifier.close()
        archive.close()


def main(argv: Sequence[str] | None = None) -> int:
    doc = (sys.modules["services.notify"].__doc__ or "").split("\n\n")[0]
    return service_main(argv, "python -m services.notify", doc, run)


__all__ = ["build_adapters", "main", "run"]
