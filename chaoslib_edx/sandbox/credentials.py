"""The sandbox's generated credentials: one 0600 file in the state dir, never in configs."""

import os
import secrets as _secrets
from pathlib import Path

KEYS = ("DB_PASSWORD", "DB_ADMIN_PASSWORD", "DB_REPL_PASSWORD")


def ensure(path: Path) -> dict[str, str]:
    """Read the secrets file, creating it with fresh random values on first use."""
    if not path.exists():
        values = {key: _secrets.token_urlsafe(18) for key in KEYS}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(f"{k}={v}\n" for k, v in values.items())
    return read(path)


def read(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values
