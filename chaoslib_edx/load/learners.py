"""The learners a load signs in as: a CSV of username,password (staging's seeded
accounts), or the sandbox's learner1..N with one shared password.

Pure Python, read by the load profiles (in Locust) and by the game day's validation,
so a bad file is refused before anything is sent. Passwords are never printed.
"""

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from chaoslib_edx.errors import UserError
from chaoslib_edx.files import read_text

COLUMNS = ("username", "password")
# A seat's learner leaves for a new one (who signs in) once in 101 actions, one per 1.25 s
# on average (course_launch.Learner's next_learner task and wait time): what the dry run
# plans the login rate from.
ARRIVALS_PER_USER_S = 1 / 101 / 1.25


@dataclass(frozen=True)
class Learner:
    username: str
    password: str

    def __repr__(self) -> str:  # never the password, whatever prints a learner
        return f"Learner({self.username!r})"


def read_learners(path: Path | str) -> list[Learner]:
    """Every row of a username,password CSV (header first); UserError naming the file
    and the line for an unreadable, empty or malformed file."""
    text = read_text(path, "Pass a CSV file of username,password (a header line first)")
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise UserError("is empty; a header line 'username,password' and one learner per "
                        "line are needed", file=path, field="line 1")
    header = [cell.strip().lower() for cell in rows[0]]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise UserError(f"the header has no {' or '.join(repr(c) for c in missing)} column "
                        f"(it has {', '.join(repr(c) for c in header) or 'nothing'})",
                        file=path, field="line 1", fix="Start the file with 'username,password'")
    at = {column: header.index(column) for column in COLUMNS}
    learners = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(at.values()) or not row[at["username"]].strip() \
                or not row[at["password"]]:
            raise UserError("needs a username and a password", file=path,
                            field=f"line {number}")
        learners.append(Learner(row[at["username"]].strip(), row[at["password"]]))
    if not learners:
        raise UserError("has a header but no learner", file=path, field="line 2")
    return learners


def learners_from_env(environ: dict | None = None) -> list[Learner]:
    """EDX_LEARNERS_FILE's learners, else learner1..EDX_LEARNERS (default 2000) with the
    password EDX_LEARNER_PASSWORD (default 'edx', the sandbox's)."""
    environ = os.environ if environ is None else environ
    if environ.get("EDX_LEARNERS_FILE"):
        return read_learners(environ["EDX_LEARNERS_FILE"])
    password = environ.get("EDX_LEARNER_PASSWORD", "edx")
    count = environ.get("EDX_LEARNERS", "2000")
    if not count.isdigit() or int(count) < 1:
        raise UserError(f"'{count}' is not a number of learners (1 or more)",
                        file="environment", field="EDX_LEARNERS")
    return [Learner(f"learner{i}", password) for i in range(1, int(count) + 1)]
