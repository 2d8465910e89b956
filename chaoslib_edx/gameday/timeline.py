"""chaoslib's run events into a game day's timeline and progress display."""

import signal
from typing import TYPE_CHECKING

from chaoslib.run import RunEventHandler

from chaoslib_edx.report.summary import fault_lives

if TYPE_CHECKING:
    from chaoslib_edx.gameday.runner import GameDayRun


class Timeline(RunEventHandler):
    """chaoslib run events into the timeline: the fault is live from the method's start
    to the end of the rollbacks."""

    def __init__(self, runner: "GameDayRun", name: str) -> None:
        self.runner, self.name = runner, name

    def _mark(self, event: str, phase: str, **fields: object) -> None:
        self.runner.writer.event(event, experiment=self.name, **fields)
        self.runner.progress.phase = phase

    def started(self, experiment: dict, journal: dict) -> None:
        # Inside chaoslib's exit_signals, which restores our handler when the run ends.
        signal.signal(signal.SIGUSR1, self.runner.interrupt)

    def start_hypothesis_before(self, experiment: dict) -> None:
        self.runner.arm_interrupt()
        self._mark("hypothesis_before", f"{self.name}: steady state before")

    def hypothesis_before_completed(self, experiment: dict, state: dict, journal: dict) -> None:
        held = bool(state and state.get("steady_state_met"))
        self.runner.writer.event("hypothesis_before_done", experiment=self.name, met=held)

    def start_method(self, experiment: dict) -> None:
        self.runner.arm_interrupt()
        self.runner.watcher.arm()
        self.runner.live_fault = self.name
        self._mark("fault_start", f"{self.name}: FAULT LIVE")
        self.runner.progress.event(f"{self.name}: fault live")

    def start_rollbacks(self, experiment: dict) -> None:
        self.runner.interruptible = False  # an abort from now on lets the rollbacks finish
        self._mark("rollback_start", f"{self.name}: rolling back")

    def rollbacks_completed(self, experiment: dict, journal: dict) -> None:
        failed = [run["activity"].get("name", "?") for run in journal.get("rollbacks", [])
                  if run.get("status") != "succeeded"]
        self.runner.live_fault = None
        self._mark("fault_end", f"{self.name}: rolled back", failed_rollbacks=failed)
        self.runner.progress.event(
            f"{self.name}: ROLLBACK FAILED ({', '.join(failed)}); it stays pending in the "
            f"recovery ledger" if failed else f"{self.name}: rolled back")

    def finish(self, journal: dict) -> None:
        """A fault that ended before its rollback (the safety control's record) is an
        event at the time it ended: the experiment is inconclusive."""
        for life in fault_lives(journal):
            if life["ended_at"] is None:
                continue
            self.runner.writer.event("fault_ended_early", t=life["ended_at"],
                                     experiment=self.name, fault=life["fault"],
                                     target=life["target"], after_s=life["ended_after_s"])
            self.runner.progress.event(
                f"{self.name}: FAULT ENDED EARLY: {life['action']} on {life['fault']} "
                f"'{life['target']}' was no longer in effect {life['ended_after_s']:g} s after "
                "it went live; the experiment is inconclusive")
