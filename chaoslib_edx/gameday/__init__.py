"""Game days: a timeline of experiments under one load, SLOs watched, a report.

schema (the game-day file), plan (dry run and preflight), lock (one run per
environment), watch (live SLOs and abort conditions), progress (the terminal), runner
(the whole run). `edx-gameday run` is the entry point.
"""
