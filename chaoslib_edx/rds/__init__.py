"""Database faults: a Multi-AZ / Aurora failover and its probes."""
