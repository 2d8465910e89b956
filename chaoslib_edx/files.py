"""Where the shipped files are, and files other processes read while we write them."""

import os
from pathlib import Path

# Experiments, load profiles, game days, the SLO catalog and inventories ship inside the
# package (a checkout links them at the repository root), so an installed edx-gameday
# finds them from any directory.
SHIPPED = Path(__file__).resolve().parent / "shipped"


def default_file(relative: str) -> Path:
    """RELATIVE (as the repository lays it out, e.g. gamedays/slos.yaml) from the working
    directory when it is there, else the copy shipped in the package."""
    here = Path(relative)
    return here if here.exists() else SHIPPED / relative


def replace_text(path: Path, text: str) -> None:
    """Write TEXT to PATH atomically: a reader sees the old content or the new, never half."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
