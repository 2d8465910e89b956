"""Cache probes: memory and evictions, and whether the cache is back to its configuration."""

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.targets import resolve

__all__ = ["cache_memory", "cache_healthy"]


def cache_memory(cache: str = "sessions", configuration: Configuration = None,
                 secrets: Secrets = None) -> dict:
    """Cache memory, maxmemory, evicted keys and live sessions (sandbox), or group status."""
    return resolve("cache", cache, configuration).drive("memory", secrets)


def cache_healthy(cache: str = "sessions", configuration: Configuration = None,
                  secrets: Secrets = None) -> bool:
    """True when the cache answers with its configured memory (or its group is available)."""
    return resolve("cache", cache, configuration).drive("healthy", secrets)
