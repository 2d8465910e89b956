"""The local sandbox as a platform: one of each resource, found through its Layout."""

import json
from pathlib import Path

from chaoslib_edx.detection.pagerlog import PageLog
from chaoslib_edx.detection.source import DetectionSource, PrometheusAndPager
from chaoslib_edx.errors import UserError
from chaoslib_edx.faults import Fault
from chaoslib_edx.learner import OPENEDX_LOGINS_PER_IP
from chaoslib_edx.platforms import Platform, UnknownTarget
from chaoslib_edx.sandbox.clients import http_get
from chaoslib_edx.sandbox.health import status
from chaoslib_edx.sandbox.layout import Layout


class SandboxPlatform(Platform):
    @property
    def layout(self) -> Layout:
        return Layout.of_inventory(self.environment.sandbox, self.env_file)

    @property
    def loopback_only(self) -> bool:
        return True

    def target_spec(self, fault: Fault, name: str) -> Layout:
        names = fault.placements["sandbox"].names
        if name not in names:
            raise UnknownTarget("sandbox", list(names))
        return self.layout

    def lms_url(self) -> str:
        return self.layout.lb_url

    def load_environment(self) -> dict[str, str]:
        seed = self.environment.sandbox.seed
        return {"EDX_CDN_URL": self.layout.cdn_url, "EDX_LEARNERS": str(seed.learners),
                "EDX_COURSES": str(seed.courses), "EDX_LEARNER_PASSWORD": seed.learner_password}

    def default_master_port(self) -> int:
        return self.layout.load_master_port

    def default_console_port(self) -> int:
        return self.layout.console_port

    def login_limit(self) -> int | None:
        return OPENEDX_LOGINS_PER_IP if self.environment.sandbox.login_rate_limit else None

    def state_dir(self) -> Path:
        """The sandbox's own state dir (unless the inventory names another)."""
        return super().state_dir() if self.environment.state.dir else \
            self.layout.gameday_dir

    def detection(self) -> DetectionSource | None:
        layout = self.layout
        return PrometheusAndPager(layout.prometheus_url, layout.pages_log) \
            if layout.monitored else None

    def components(self) -> dict[str, list[int]]:
        """Supervisord's programs: the LMS replicas as one, the monitoring as one."""
        from chaoslib_edx.sandbox.supervisor import Supervisor

        found: dict[str, list[int]] = {}
        for info in Supervisor(self.layout).processes():
            if info["pid"]:
                name = info["group"] if info["group"] in ("lms", "monitoring") else info["name"]
                found.setdefault(name, []).append(info["pid"])
        return found

    def saturation_series(self, start: float, end: float) -> dict[str, list[list[float]]]:
        from chaoslib_edx.capacity.saturation import prometheus_series

        layout = self.layout
        return prometheus_series(layout.prometheus_url, start, end) if layout.monitored else {}

    def acknowledge(self, by: str) -> tuple[list[str], int]:
        layout = self.layout
        if not layout.monitored:
            raise UserError("the sandbox runs without its monitoring, so nothing pages",
                            file=self.env_file, field="sandbox.monitoring.enabled")
        taken, log = [], PageLog(layout.pages_log)
        for key in log.open():
            code, body, _ = http_get(f"{layout.pager_url}/ack", timeout=5, data=json.dumps(
                {"dedup_key": key, "by": by}).encode())
            if code != 200:
                raise RuntimeError(f"the pager refused the acknowledgement ({code}: "
                                   f"{body[:200]!r})")
            taken.append(key)
        return taken, log.skipped

    def check_ready(self) -> None:
        if status(self.layout)["state"] != "healthy":
            raise UserError("the sandbox is not up and healthy", file=self.env_file,
                            fix="Run `edx-gameday sandbox up` first")
