"""Client factories shared by the LMS, status checks and fault drivers."""

import urllib.error
import urllib.request

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def redis_client(port: int, timeout: float = 1.0, retries: int = 0,
                 **kwargs: object) -> redis.Redis:
    """A Redis client that fails fast: redis-py retries with backoff by default, which
    would turn a cache outage into multi-second stalls instead of visible errors. RETRIES
    immediate ones on a broken connection (the LMS's 1: a connection a failover closed is
    replaced at once, as a pool's retry does; a cache that is down still fails at once)."""
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=timeout,
                       socket_connect_timeout=timeout, retry=Retry(NoBackoff(), retries),
                       **kwargs)


def http_get(url: str, timeout: float = 2.0, data: bytes | None = None) -> tuple[int, bytes, dict]:
    """GET (POST with DATA) a URL on the sandbox; (status, body, headers), status 0 when
    unreachable."""
    try:
        with urllib.request.urlopen(url, data=data, timeout=timeout) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)
    except (urllib.error.URLError, OSError):
        return 0, b"", {}
