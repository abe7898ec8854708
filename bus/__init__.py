"""Redis bus: the only package that imports redis.

* :mod:`bus.embedded`: start a real redis-server when no ``REDIS_URL`` is set.
* :mod:`bus.schema`: versioned wire format of the events (encode/decode, event ids).
* :mod:`bus.streams`: :class:`~bus.streams.EventBus` (streams, consumer groups,
  reclaim, dead letters) and pub/sub change notifications.
* :mod:`bus.store`: :class:`~bus.store.LiveStore`, the live state the dashboard shows.
"""
