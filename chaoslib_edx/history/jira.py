"""Findings into Jira Cloud (REST API v3): each open finding not filed yet becomes an issue
(its key kept in the history), and an issue whose finding a later run fixed gets a
comment saying which run. requests, not the `jira` package: three calls, and that package
speaks API v2 and asks the server's info first."""

import os
from collections.abc import Callable

import requests

from chaoslib_edx.environment import JiraSettings
from chaoslib_edx.errors import UserError
from chaoslib_edx.history.findings import lifecycle
from chaoslib_edx.history.store import History

TIMEOUT_S = 20
LABEL = "chaos-gameday"


def _doc(text: str) -> dict:
    """TEXT as Atlassian Document Format, which API v3 takes for descriptions and comments."""
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]}
        for line in text.splitlines() if line]}


class Jira:
    def __init__(self, settings: JiraSettings) -> None:
        token = os.environ.get(settings.token_env)
        if not token:
            raise UserError(f"${settings.token_env} is not set (the Jira API token)",
                            field="jira.token_env")
        self.settings, self.base = settings, settings.url.rstrip("/") + "/rest/api/3"
        self.session = requests.Session()
        self.session.auth = (settings.email, token)
        self.session.headers["Accept"] = "application/json"

    def _call(self, method: str, path: str, **kwargs: object) -> dict:
        response = self.session.request(method, self.base + path, timeout=TIMEOUT_S, **kwargs)
        if response.ok:
            return response.json() if response.content else {}
        try:
            body = response.json()
            why = "; ".join([*body.get("errorMessages", []),
                             *(f"{k}: {v}" for k, v in body.get("errors", {}).items())])
        except ValueError:
            why = response.text[:200]
        field = {"project": "jira.project", "issuetype": "jira.issue_type"}
        named = next((field[k] for k in field if k in why), "jira")
        if response.status_code in (401, 403):
            named = "jira.token_env"
        raise UserError(f"Jira refused {method} {path} ({response.status_code}): {why}",
                        field=named)

    def create(self, summary: str, description: str) -> str:
        """A new issue in the project; its key."""
        return self._call("POST", "/issue", json={"fields": {
            "project": {"key": self.settings.project},
            "issuetype": {"name": self.settings.issue_type}, "summary": summary[:250],
            "description": _doc(description), "labels": [LABEL]}})["key"]

    def comment(self, key: str, text: str) -> None:
        """A comment on issue KEY (which must still exist)."""
        self._call("GET", f"/issue/{key}", params={"fields": "status"})
        self._call("POST", f"/issue/{key}/comment", json={"body": _doc(text)})


def export(history: History, jira: Jira, environment: str,
           say: Callable[[str], None]) -> tuple[int, int]:
    """File ENVIRONMENT's open findings not filed yet, comment on filed ones since fixed;
    how many of each."""
    filed, created, commented = history.filed(), 0, 0
    runs = history.runs(environment)
    for name in sorted({run["name"] for run in runs}):
        ours = [run for run in runs if run["name"] == name]
        for finding in lifecycle(ours):
            known = filed.get(finding["key"])
            if finding["status"] != "fixed" and known is None:
                key = jira.create(f"[{environment}] {name}: {finding['text']}",
                                  f"Found by the game day '{name}' in {environment}, first in "
                                  f"run {finding['opened_run']} ({finding['opened']}).\n"
                                  f"Kind: {finding['kind']}; step: {finding['step']}.\n"
                                  "Commented on when a later run shows it fixed.")
                history.file(finding["key"], key)
                created += 1
                say(f"filed {key}: {finding['text']}")
            elif finding["status"] == "fixed" and known is not None and \
                    known.fixed_run != finding["fixed_run"]:
                jira.comment(known.issue_key, f"Fixed: the run {finding['fixed_run']} of "
                                              f"'{name}' in {environment} no longer shows it.")
                history.told_fixed(finding["key"], finding["fixed_run"])
                commented += 1
                say(f"commented on {known.issue_key}: fixed by run {finding['fixed_run']}")
    return created, commented
