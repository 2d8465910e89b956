"""Zone faults: a whole availability zone goes dark at once, and its probes."""
