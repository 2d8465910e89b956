"""A wire-level fake of Jira Cloud's REST API v3, the calls `findings export --jira` makes:
create issue (POST /rest/api/3/issue), get issue (GET /rest/api/3/issue/{key}), add
comment (POST /rest/api/3/issue/{key}/comment), with basic authentication (email and API
token) and Jira's error shapes: {"errorMessages": [...], "errors": {field: message}} with
400 for a bad project or issue type, 401 for a bad token, 404 for an unknown issue. No
real Jira can run here. Shapes from Atlassian's reference:
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/ and
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/
"""

import base64
import json
import re

from tests.fakehttp import FakeServer, JsonHandler


class JiraSite:
    def __init__(self, email: str, token: str, projects: dict[str, list[str]]) -> None:
        self.email, self.token, self.projects = email, token, projects  # key -> issue types
        self.issues: dict[str, dict] = {}
        self.comments: dict[str, list[dict]] = {}


def _handler(site: JiraSite):
    class Handler(JsonHandler):
        def _authorized(self) -> bool:
            expected = base64.b64encode(f"{site.email}:{site.token}".encode()).decode()
            if self.headers.get("Authorization") == f"Basic {expected}":
                return True
            self._send(401, {"errorMessages": ["Client must be authenticated to access this "
                                               "resource."], "errors": {}})
            return False

        def _body(self) -> dict:
            return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))

        def do_GET(self) -> None:  # noqa: N802
            if not self._authorized():
                return
            found = re.fullmatch(r"/rest/api/3/issue/([A-Z0-9_]+-\d+)(\?.*)?", self.path)
            issue = site.issues.get(found.group(1)) if found else None
            if issue is None:
                self._send(404, {"errorMessages": ["Issue does not exist or you do not have "
                                                   "permission to see it."], "errors": {}})
                return
            self._send(200, {"id": issue["id"], "key": issue["key"],
                             "fields": {"status": {"name": "To Do"}}})

        def do_POST(self) -> None:  # noqa: N802
            if not self._authorized():
                return
            body = self._body()
            if self.path == "/rest/api/3/issue":
                fields = body.get("fields", {})
                project = fields.get("project", {}).get("key")
                if project not in site.projects:
                    self._send(400, {"errorMessages": [],
                                     "errors": {"project": "valid project is required"}})
                    return
                if fields.get("issuetype", {}).get("name") not in site.projects[project]:
                    self._send(400, {"errorMessages": [], "errors": {
                        "issuetype": "Specify a valid issue type"}})
                    return
                number = len(site.issues) + 1
                key = f"{project}-{number}"
                site.issues[key] = {"id": str(10000 + number), "key": key, "fields": fields}
                self._send(201, {"id": str(10000 + number), "key": key,
                                 "self": f"http://jira/rest/api/3/issue/{10000 + number}"})
                return
            found = re.fullmatch(r"/rest/api/3/issue/([A-Z0-9_]+-\d+)/comment", self.path)
            if found and found.group(1) in site.issues:
                site.comments.setdefault(found.group(1), []).append(body["body"])
                self._send(201, {"id": str(len(site.comments[found.group(1)])),
                                 "body": body["body"]})
                return
            self._send(404, {"errorMessages": ["Issue does not exist or you do not have "
                                               "permission to see it."], "errors": {}})

    return Handler


class FakeJira(FakeServer):
    def __init__(self, site: JiraSite) -> None:
        super().__init__(_handler(site))
        self.site = site
