"""AWS (RDS, ElastiCache, CloudFront) with EKS for the LMS: targets by logical name in the
inventory's cloud sections, load to the inventory's endpoints."""

from chaoslib_edx.errors import UserError
from chaoslib_edx.faults import Fault
from chaoslib_edx.model import Model
from chaoslib_edx.platforms import Platform, UnknownTarget


class CloudPlatform(Platform):
    def target_spec(self, fault: Fault, name: str) -> Model:
        section = fault.placements["aws"].section
        root, _, entries = section.partition(".")
        settings = getattr(self.environment, root)
        known = getattr(settings, entries) if settings is not None else {}
        if name not in known:
            raise UnknownTarget(section, list(known))
        return known[name]

    def lms_url(self) -> str:
        return self._endpoints().lms_url

    def load_environment(self) -> dict[str, str]:
        return {"EDX_CDN_URL": self._endpoints().cdn_url}

    def login_limit(self) -> int | None:
        return self._endpoints().login_limit_per_5min

    def _endpoints(self):
        if self.environment.endpoints is None:
            raise UserError("load against a non-sandbox environment needs 'endpoints' "
                            "(lms_url, cdn_url)", file=self.env_file, field="endpoints")
        return self.environment.endpoints
