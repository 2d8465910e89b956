"""The local sandbox: a small Open edX-like platform from real servers on 127.0.0.1."""
