"""Capacity planning: open-model sweeps of the arrival rate that find the knee, normal and
with a fault held live, and their report.

A run directory holds the plan and SLO catalog it used, capacity-run.json, and per sweep a
folder with its metrics, saturation samples and sweep.json: the report is rebuilt from it.
"""

PLAN_COPY, RUN_FILE, SWEEP_FILE = "plan.yaml", "capacity-run.json", "sweep.json"
