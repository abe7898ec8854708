"""Redis clients for every supported URL: plain, TLS, unix socket, Sentinel and Cluster."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

RedisClient = redis.Redis
"""The client type the bus hands out (for annotations outside bus/, which never import redis)."""

REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
"""What a Redis call raises when the server is unreachable or misbehaves (for callers outside bus/)."""


def is_cluster(client: object) -> bool:
    """True for a Redis Cluster client (multi-key transactions and pipelined PUBLISH are not allowed there)."""
    from redis.cluster import RedisCluster

    return isinstance(client, RedisCluster)


SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


def _hosts(netloc: str, default_port: int) -> tuple[str | None, str | None, list[tuple[str, int]]]:
    """``[user[:password]@]host[:port][,host[:port]...]`` -> (user, password, [(host, port)])."""
    from urllib.parse import unquote

    user = password = None
    if "@" in netloc:
        cred, netloc = netloc.rsplit("@", 1)
        user, _, pw = cred.partition(":")
        user, password = (unquote(user) or None), (unquote(pw) or None)
    hosts = []
    for part in filter(None, netloc.split(",")):
        if part.startswith("["):  # [ipv6]:port
            host, _, rest = part[1:].partition("]")
            port = rest.lstrip(":")
        else:
            host, _, port = part.partition(":")
        try:
            hosts.append((host or "127.0.0.1", int(port) if port else default_port))
        except ValueError:
            raise ValueError(f"bad port in Redis URL host {part!r}") from None
    if not hosts:
        raise ValueError("the Redis URL names no host")
    return user, password, hosts


def client_for_url(url: str, *, socket_timeout: float | None = None, retries: int | None = None) -> redis.Redis:
    """A redis-py client for any supported Redis URL.

    * ``redis://[[user]:password@]host:port/db``, ``rediss://`` (TLS), ``unix://``: one server.
    * ``redis+sentinel://[[user]:password@]s1:26379,s2:26379/<service>[/db][?sentinel_password=..]``
      (``rediss+sentinel://`` for TLS): the current master of ``<service>`` as told by the
      Sentinels; after a fail-over the client finds the new master by itself.
    * ``redis+cluster://[[user]:password@]n1:6379,n2:6379`` (``rediss+cluster://``): a Redis
      Cluster (any reachable nodes; the rest is discovered).

    The password in the URL is for the data nodes; Sentinels that need their own pass
    ``?sentinel_password=...``.

    Raises:
        ValueError: malformed URL.
    """
    from urllib.parse import parse_qs, urlsplit

    common: dict[str, object] = {"socket_connect_timeout": 5, "socket_keepalive": True}
    if socket_timeout is not None:
        common["socket_timeout"] = socket_timeout
    if retries is not None:
        common["retry"] = Retry(NoBackoff(), retries) if retries == 0 else Retry(ExponentialBackoff(cap=0.5), retries)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in SENTINEL_SCHEMES:
        from redis.sentinel import Sentinel

        parts = urlsplit(url)
        user, password, hosts = _hosts(parts.netloc, 26379)
        path = [p for p in parts.path.split("/") if p]
        if not path:
            raise ValueError("a redis+sentinel:// URL needs the service name as its path: .../mymaster[/db]")
        service, db = path[0], int(path[1]) if len(path) > 1 else 0
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        ssl = scheme.startswith("rediss")
        sentinel_kwargs: dict[str, object] = {"socket_connect_timeout": 2, "socket_timeout": 2}
        if query.get("sentinel_password"):
            sentinel_kwargs["password"] = query["sentinel_password"]
        if ssl:
            sentinel_kwargs["ssl"] = True
        sentinel = Sentinel(hosts, sentinel_kwargs=sentinel_kwargs, **({"ssl": True} if ssl else {}))
        return sentinel.master_for(service, db=db, username=user, password=password, **common)  # type: ignore[arg-type]
    if scheme in CLUSTER_SCHEMES:
        from redis.cluster import ClusterNode, RedisCluster

        parts = urlsplit(url)
        user, password, hosts = _hosts(parts.netloc, 6379)
        cluster_kwargs = dict(common)
        cluster_kwargs.pop("retry", None)  # RedisCluster retries by re-discovering slots itself
        cluster = RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in hosts],
            username=user,
            password=password,
            ssl=scheme.startswith("rediss"),
            **cluster_kwargs,  # type: ignore[arg-type]
        )
        return cluster  # type: ignore[return-value]
    return redis.Redis.from_url(url, **common)  # type: ignore[arg-type]
