"""SLOs: the catalog (gamedays/slos.yaml), an evaluator over rolling windows, and probes."""
