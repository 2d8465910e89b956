"""Game days: a timeline of experiments under one load, SLOs watched, a report.

schema (the game-day file), plan (dry run and preflight), watch (live SLOs and abort
conditions), progress (the terminal), hold and team (the console's actions on the run),
runner (the whole run, under the environment's lease: chaoslib_edx.lease). `edx-gameday
run` is the entry point.
"""
