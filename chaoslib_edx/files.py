"""Files other processes read while we write them."""

import os
from pathlib import Path


def replace_text(path: Path, text: str) -> None:
    """Write TEXT to PATH atomically: a reader sees the old content or the new, never half."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
