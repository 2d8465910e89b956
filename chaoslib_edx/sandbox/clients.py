"""Client factories shared by the LMS, status checks and fault drivers."""

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def redis_client(port: int, timeout: float = 1.0, **kwargs: object) -> redis.Redis:
    """A Redis client that fails fast: redis-py retries with backoff by default, which
    would turn a cache outage into multi-second stalls instead of visible errors."""
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=timeout,
                       socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0), **kwargs)
