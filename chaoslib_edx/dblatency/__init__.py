"""Database latency: the network path from the LMS to its database slowed, not broken."""
