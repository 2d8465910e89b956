"""A game day's detection in words, the same in every output (console, summary.md,
JUnit, postmortem): per experiment its status and alerts, or why it is unknown."""


def detection_lines(summary: dict) -> list[str]:
    """Detection in words, one line per experiment; what could not be read, and from
    where, when the monitoring could not be read at all."""
    if summary.get("detection_error"):
        return [f"unknown: the alerts and pages could not be read from "
                f"{summary['detection_source']}: {summary['detection_error']}"]
    lines = [f"{row['experiment']}: {_detection_line(row)}"
             for row in summary.get("detection", [])]
    if summary.get("pages_skipped"):
        lines.append(f"{summary['pages_skipped']} lines of the pager's log are not events "
                     "and were skipped")
    return lines


def _detection_line(row: dict) -> str:
    if not row["alerts"]:
        return row["status"] + (f" (unrelated: {', '.join(row['unrelated'])})"
                                if row.get("unrelated") else "")

    def secs(value: float | None) -> str:
        return "never" if value is None else f"{value:.0f} s"

    return (f"alert after {secs(row['detect_s'])} ({', '.join(row['alerts'])}), page after "
            f"{secs(row['page_s'])}, acknowledged after {secs(row['ack_s'])}"
            + (" (simulated)" if row["ack_simulated"] else ""))
