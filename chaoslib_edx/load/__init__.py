"""Load: Locust shapes and users (in loadprofiles/), per-second HDR metrics, launching.

Only `plugin` imports locust; everything else is safe to import beside chaoslib and boto3
(locust monkey-patches the interpreter with gevent on import).
"""
