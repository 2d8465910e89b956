"""Game-day reports, rendered from a run directory alone (also one from a crashed run).

A run directory holds:
  run.json        name, description, environment, status, started/ended, roles, versions,
                  slos (names from the catalog), abort_reason
  timeline.jsonl  {"t": epoch s, "event": "fault_start"|"fault_end"|"abort"|..., "experiment"}
  metrics.jsonl   the load's per-second metrics (chaoslib_edx.load.plugin)
  journals/       one Chaos Toolkit journal per experiment (<experiment>.json)
"""
