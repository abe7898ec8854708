"""The notifier: incident alerts out to webhooks, MQTT brokers, e-mail and wardens' phones (Web Push).

``python -m services.notify`` reads ``alert.warden`` in the consumer group ``notifier``. Each
alert is routed (:mod:`core.notify.routing`) to the configured destinations whose filters want
it; a delivery row per destination (per subscription for Web Push) is stored in SQL *before*
the stream message is acknowledged, so nothing is lost while a receiver (or the notifier) is
down. A delivery thread sends due deliveries, retries failures with backoff
(:class:`core.notify.RetryPolicy`) and finally marks them undelivered; the dashboard's system
page lists those with their reason and a retry button.

Adapters, one module each: :mod:`.webhook`, :mod:`.mqtt`, :mod:`.mail`, :mod:`.webpush`
(keys: :mod:`.vapid`); the service: :mod:`.service`.
"""
