"""Replica faults: kill a share of the LMS replicas (pods), bounded by the blast radius."""
