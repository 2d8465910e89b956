"""Cache faults: Redis / ElastiCache key loss (sessions and cached pages) and its probes."""
