"""The recovery ledger: an append-only log of rollbacks, one per environment.

A fault appends its rollback (function and arguments, never secrets) durably before it
acts; a rollback that ran appends a `done` line. What has no `done` line is pending,
whatever happened to the process that recorded it. Every line carries the run that wrote
it, the fencing token of that run's lease and the run's own sequence number: a run settles
and rolls back only its own entries, in its own order, never by a clock. Lines from before
runs were recorded are one "legacy" run that only `recover` rolls back.

A low-level module: every fault writes it, so it imports no guardrail, runner or report code.
"""

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from chaoslib.types import Configuration, Secrets

from chaoslib_edx import lease
from chaoslib_edx.context import run_context
from chaoslib_edx.environment import Environment
from chaoslib_edx.faults import FAULTS

logger = logging.getLogger("chaostoolkit")
LEGACY = "legacy"  # the run of lines written before lines named their run
_RECORD = frozenset({"id", "fault", "rollback", "arguments"})


@dataclass(frozen=True)
class Entry:
    id: str
    fault: str
    rollback: str        # "module:function"
    arguments: dict
    run: str             # the run that recorded it (LEGACY: a line from before runs)
    token: int           # the fencing token it was recorded under (0: legacy)
    seq: int             # its place in its run
    label: str = ""      # that run in words: a run directory, a command and its pid

    @property
    def order(self) -> tuple[int, int]:
        """Oldest first: by grant, then within the run. Tokens only grow, so a later run's
        entries sort after an earlier one's; legacy lines keep their written order."""
        return self.token, self.seq


def ledger_path(configuration: Configuration | None) -> Path:
    """The configured ledger file (EDX_LEDGER), else the environment's own
    (<state dir>/ledger.jsonl: the sandbox's state dir, or the inventory's state.dir)."""
    context = run_context(configuration)
    explicit = context.settings.ledger
    return Path(explicit) if explicit else context.platform.state_dir() / "ledger.jsonl"


def open_ledger(configuration: Configuration | None) -> "Ledger":
    """The run's ledger: a file, or the inventory's DynamoDB table (state.backend); an
    explicit EDX_LEDGER file wins over both. One per run (one DynamoDB client)."""
    context = run_context(configuration)

    def make() -> Ledger:
        if context.settings.ledger is None and context.environment.state.backend == "dynamodb":
            return DynamoLedger.of(context.environment, context.env_file)
        return Ledger(ledger_path(configuration))

    return context.memo("ledger", make)


def recover_command(env_file: str, ledger_file: str | None = None) -> str:
    """The command that runs what a run left pending, from any directory."""
    command = f"edx-gameday recover --env {Path(env_file).absolute()}"
    return command + (f" --ledger {Path(ledger_file).absolute()}" if ledger_file else "")


def registered_rollbacks() -> frozenset[str]:
    """The rollbacks the fault library declares ("module:function"): the only ones a
    ledger line may make us import and run."""
    return frozenset(f"{fault.actions_module}:{name}" for fault in FAULTS
                     for name in fault.rollbacks)


class Ledger:
    """Pending rollbacks as an append-only log of lines; a file here (fsynced per line),
    other storage in subclasses that override _append and _lines."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def where(self) -> str:
        return str(self.path)

    def _append(self, line: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            # After a crash cut the last line, start a new one: else this line is lost too.
            size = handle.seek(0, os.SEEK_END)
            cut = False
            if size:
                handle.seek(size - 1)
                cut = handle.read(1) != b"\n"
            handle.write((b"\n" if cut else b"") +
                         json.dumps(line, sort_keys=True).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _lines(self) -> list[dict]:
        """Every complete line. A crash can cut the last one: skipped with a warning, so
        the complete entries before it still run."""
        if not self.path.exists():
            return []
        lines = []
        for number, raw in enumerate(self.path.read_text().splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                if not isinstance(line, dict):
                    raise ValueError("not an object")
                lines.append(line)
            except ValueError:
                logger.warning(f"{self.path}:{number}: skipping a partial or damaged ledger "
                               f"line ({raw[:60]!r}); the complete entries still run")
        return lines

    def record(self, run: lease.Run, fault: str, rollback: str, arguments: dict) -> str:
        """Write a rollback down (durably) for RUN before its fault acts; returns its id."""
        entry_id = uuid.uuid4().hex[:12]
        self._append({"id": entry_id, "fault": fault, "rollback": rollback,
                      "arguments": arguments, "run": run.id, "label": run.name,
                      "token": run.token, "seq": run.next_seq(), "recorded_at": time.time()})
        return entry_id

    def done(self, run: lease.Run, entry_id: str) -> None:
        """Mark ENTRY_ID rolled back, by RUN (its own, or `recover` for a crashed run)."""
        self._append({"id": entry_id, "done": True, "run": run.id, "token": run.token,
                      "seq": run.next_seq(), "at": time.time()})

    def pending(self, run: str | None = None) -> list[Entry]:
        """Entries with no `done` line, oldest first: RUN's only, or every run's."""
        lines = self._lines()
        done = {line.get("id") for line in lines if line.get("done")}
        entries = [_entry(index, line) for index, line in enumerate(lines)
                   if not line.get("done") and line.get("id") not in done]
        return sorted((e for e in entries if e is not None and (run is None or e.run == run)),
                      key=lambda e: e.order)

    def newest(self, run: str, rollback: str, **match: object) -> Entry | None:
        """RUN's newest pending entry of ROLLBACK whose arguments include MATCH, else None."""
        found = [e for e in self.pending(run) if e.rollback == rollback
                 and all(e.arguments.get(k) == v for k, v in match.items())]
        return found[-1] if found else None

    def settle(self, run: lease.Run, rollback: str, arguments: dict) -> None:
        """Mark done RUN's pending entries with this rollback and arguments (it just ran);
        another run's entries are never touched."""
        for entry in self.pending(run.id):
            if entry.rollback == rollback and entry.arguments == arguments:
                self.done(run, entry.id)

    def run_pending(self, run: lease.Run, configuration: Configuration | None,
                    secrets: Secrets | None, whose: str | None = None,
                    allowed: frozenset[str] | None = None) -> list[dict]:
        """Run the pending rollbacks of run WHOSE (None: every run's, as `recover` does),
        newest first, as RUN; failures stay pending and are reported. Only ALLOWED
        rollbacks run (default: the fault library's); others stay pending."""
        allowed = registered_rollbacks() if allowed is None else allowed
        results = []
        for entry in reversed(self.pending(whose)):
            result = {"id": entry.id, "rollback": entry.rollback, "run": entry.run,
                      "label": entry.label, "token": entry.token}
            if entry.rollback not in allowed:
                results.append({**result, "ok": False,
                                "error": "not a rollback of the fault library: not run"})
                continue
            module, func = entry.rollback.split(":")
            try:
                getattr(import_module(module), func)(**entry.arguments,
                                                     configuration=configuration,
                                                     secrets=secrets)
            except Exception as exc:  # report and go on: other rollbacks must still run
                results.append({**result, "ok": False, "error": str(exc)})
                continue
            self.done(run, entry.id)
            results.append({**result, "ok": True})
        return results


def _entry(index: int, line: dict) -> Entry | None:
    """The entry a record line holds (a line without a run is legacy: its place in the log
    is its order); None, with a warning, for a line that is not one."""
    if not _RECORD <= set(line):
        return None
    if "run" not in line:
        return Entry(line["id"], line["fault"], line["rollback"], line["arguments"], LEGACY,
                     0, index)
    try:
        return Entry(line["id"], line["fault"], line["rollback"], line["arguments"],
                     str(line["run"]), int(line["token"]), int(line["seq"]),
                     str(line.get("label", "")))
    except (KeyError, TypeError, ValueError):
        logger.warning(f"skipping a damaged ledger line (entry {line['id']}): its run, token "
                       "or sequence number is missing or not a number")
        return None


class DynamoLedger(Ledger):
    """The ledger's lines as items of one partition of the environment's state table
    (see chaoslib_edx.dynamo): the logic is the file ledger's."""

    def __init__(self, client: object, table: str, environment: str) -> None:
        self.client, self.table, self.environment = client, table, environment
        self.path = Path(f"dynamodb-{table}-{environment}")  # a name for messages only

    @classmethod
    def of(cls, environment: Environment, env_file: str) -> "DynamoLedger":
        from chaoslib_edx.dynamo import client_for  # boto3, only for this backend

        return cls(client_for(environment, env_file), environment.state.table, environment.name)

    @property
    def where(self) -> str:
        return f"dynamodb table {self.table}, environment {self.environment}"

    @property
    def _pk(self) -> dict:
        return {"S": f"ledger#{self.environment}"}

    def _append(self, line: dict) -> None:
        # Ordered by grant and the run's own sequence, never by the writer's clock.
        sort_key = f"{line['token']:020d}#{line['seq']:010d}#{uuid.uuid4().hex[:8]}"
        self.client.put_item(TableName=self.table, Item={
            "pk": self._pk, "sk": {"S": sort_key}, "line": {"S": json.dumps(line)}})

    def _lines(self) -> list[dict]:
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table, ConsistentRead=True, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": self._pk})
        return [json.loads(item["line"]["S"]) for page in pages for item in page["Items"]]



def _acting(configuration: Configuration | None) -> lease.Run:
    """The run this process acts under: fault activities are fenced, so there is one."""
    run = lease.current(configuration)
    if run is None:
        raise RuntimeError("the ledger is written only under a run of the environment: "
                           "call the fault activity (it is fenced), not the ledger")
    return run


def record_rollback(fault: str, rollback: str, arguments: dict,
                    configuration: Configuration | None) -> str:
    """What a fault calls before it acts."""
    return open_ledger(configuration).record(_acting(configuration), fault, rollback, arguments)


def settle(rollback: str, arguments: dict, configuration: Configuration | None) -> None:
    """What a rollback calls after it restored its target: its run's entries are done."""
    open_ledger(configuration).settle(_acting(configuration), rollback, arguments)


def own_entry(rollback: str, configuration: Configuration | None,
              **match: object) -> Entry | None:
    """The acting run's newest pending entry of ROLLBACK whose arguments include MATCH:
    where a rollback called without its arguments finds them (never another run's)."""
    return open_ledger(configuration).newest(_acting(configuration).id, rollback, **match)
