"""Redis bus: the only package that imports redis.

* :mod:`bus.embedded`: start a real redis-server when no ``REDIS_URL`` is set
  (binary lookup in :mod:`bus.redis_binary`, data dir and ``redis.conf`` in
  :mod:`bus.redis_datadir`, the process in :mod:`bus.redis_process`, clients for
  every URL kind in :mod:`bus.redis_client`).
* :mod:`bus.schema`: versioned wire format of the events (encode/decode, event ids).
* :mod:`bus.streams`: :class:`~bus.streams.EventBus` (streams, consumer groups,
  reclaim, dead letters); entries in :mod:`bus.stream_entries`, dead-letter wire
  form in :mod:`bus.deadletter`, pub/sub change notifications in :mod:`bus.pubsub`.
* :mod:`bus.leases`: camera leases across ingest workers (:mod:`bus.lease_board`,
  :mod:`bus.lease_keeper`) and the ``status``/``drain`` CLI.
* :mod:`bus.store`: :class:`~bus.store.LiveStore`, the live state the dashboard shows.
"""
