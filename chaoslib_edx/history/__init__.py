"""History across runs: every game day and capacity run recorded in a database (SQLite in
the environment's state dir by default, PostgreSQL to share one), so trends and changes
between runs can be read. models (the tables), store (open, migrate, record, read),
rundirs (a run directory or its summary as rows), migrations (Alembic: the schema's
versions)."""
