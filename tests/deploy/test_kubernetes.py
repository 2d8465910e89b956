"""deploy/kubernetes/: every manifest against the Kubernetes API models and, as the judge,
`kubernetes-validate --strict` with the oldest and newest schemas it bundles; every pod
against Pod Security's "restricted" level; the RBAC against the calls the pod faults make,
the scheduled Job's settings, the workers' path to the master, and the CronJob's command
line against our own CLI."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from chaoslib_edx.environment import load_environment
from chaoslib_edx.faults import longest_rollback_s
from chaoslib_edx.gameday.schema import load_gameday
from chaoslib_edx.pods.actions import (
    kill_lms_replicas,
    restore_lms_replicas,
    stop_lms_replicas,
    wait_lms_replicas_ready,
)
from chaoslib_edx.pods.probes import lms_replicas_ready
from tests.conftest import REPO
from tests.deploy.manifests import documents, validate

DEPLOY = REPO / "deploy" / "kubernetes"
DOCS = documents(DEPLOY)
IMAGE_ROOT, CONFIG_DIR = "/opt/chaostoolkit-edx", "/etc/edx-gameday"
REPORT_MARGIN_S = 60  # past the longest rollback: the report and the upload


def _one(kind: str) -> dict:
    (doc,) = [d for _, d in DOCS if d["kind"] == kind]
    return doc


def _runner() -> tuple[dict, dict]:
    """The CronJob's Job spec and its one container."""
    job = _one("CronJob")["spec"]["jobTemplate"]["spec"]
    (container,) = job["template"]["spec"]["containers"]
    return job, container


def _config(tmp_path: Path) -> Path:
    """The ConfigMap's files as the pod sees them under /etc/edx-gameday, with the image's
    copy of the repository (IMAGE_ROOT) at this checkout and a learners file standing in
    for the Secret of the same name."""
    etc = tmp_path / "etc"
    (etc / "learners").mkdir(parents=True)
    for name, text in _one("ConfigMap")["data"].items():
        (etc / name).write_text(text.replace(IMAGE_ROOT, str(REPO))
                                .replace(CONFIG_DIR, str(etc)))
    (etc / "learners" / "learners.csv").write_text("username,password\nlearner1,edx\n")
    return etc


@pytest.mark.parametrize("where, doc", DOCS, ids=[w for w, _ in DOCS])
def test_every_manifest_validates_against_the_kubernetes_api_models(where, doc):
    assert validate(doc) == []
    assert doc["metadata"].get("namespace") or doc["kind"] == "Namespace", where


def _kubernetes_validate(version: str, *files: Path) -> subprocess.CompletedProcess:
    tool = Path(sys.executable).with_name("kubernetes-validate")
    return subprocess.run([str(tool), "--strict", "--no-warn", "-k", version, *map(str, files)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("version", ["1.25.0", "1.37.0"])
def test_kubernetes_validate_strict_accepts_every_manifest(version, tmp_path):
    """The schemas judge, not our reading of them: every document of every manifest, with
    the oldest and the newest Kubernetes versions the tool bundles; and a field the API
    does not have is refused, so the tool does judge."""
    files = sorted(DEPLOY.glob("*.yaml"))
    result = _kubernetes_validate(version, *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(DOCS), result.stdout
    doc = yaml.safe_load(yaml.safe_dump(_one("CronJob")))
    doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicies"] = "Never"
    typo = tmp_path / "typo.yaml"
    typo.write_text(yaml.safe_dump(doc))
    refused = _kubernetes_validate(version, typo)
    assert refused.returncode != 0 and "restartPolicies" in refused.stdout + refused.stderr


def _pods() -> list[tuple[str, dict]]:
    """Every pod template of the manifests: the CronJob's and the workers' Deployment's."""
    return [("CronJob", _one("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
            ("Deployment", _one("Deployment")["spec"]["template"]["spec"])]


RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}


@pytest.mark.parametrize("kind, pod", _pods(), ids=[k for k, _ in _pods()])
def test_every_pod_meets_pod_security_restricted(kind, pod):
    """Pod Security Standards, "restricted" (kubernetes.io/docs/concepts/security/
    pod-security-standards): what a namespace enforcing it admits."""
    assert not any(pod.get(key) for key in ("hostNetwork", "hostPID", "hostIPC")), kind
    assert {key for v in pod.get("volumes", []) for key in v if key != "name"} \
        <= RESTRICTED_VOLUMES, kind
    context = pod.get("securityContext", {})
    for container in pod["containers"] + pod.get("initContainers", []):
        own = container.get("securityContext", {})
        seccomp = (own.get("seccompProfile") or context.get("seccompProfile") or {})
        assert seccomp.get("type") in ("RuntimeDefault", "Localhost"), (kind, "seccomp")
        assert own.get("runAsNonRoot", context.get("runAsNonRoot")) is True, kind
        assert own.get("runAsUser", context.get("runAsUser", 1)) != 0, kind
        assert own.get("allowPrivilegeEscalation") is False, kind
        assert own.get("privileged") is not True, kind
        capabilities = own.get("capabilities", {})
        assert "ALL" in capabilities.get("drop", []), kind
        assert set(capabilities.get("add", [])) <= {"NET_BIND_SERVICE"}, kind
        assert not any(p.get("hostPort") for p in container.get("ports", [])), kind


def test_the_cronjob_and_the_workflow_never_share_a_schedule():
    """Both take the environment's lease: on one schedule, one of them is refused weekly."""
    workflow = yaml.safe_load((REPO / ".github/workflows/gameday-staging.yml").read_text())
    crons = [entry["cron"] for entry in workflow[True]["schedule"]]  # YAML 1.1: on is True
    assert crons and _one("CronJob")["spec"]["schedule"] not in crons


@pytest.mark.parametrize("change, words", [
    (lambda spec: spec.update(restartPolicies="Never"), "restartPolicies: not a field"),
    (lambda spec: spec["containers"][0].pop("name"), "name"),
    (lambda spec: spec.update(terminationGracePeriodSeconds="1920"), "expected int"),
])
def test_the_validation_refuses_what_the_api_server_would(change, words):
    """The check above is no stub: a typo, a missing required field, a wrong type."""
    doc = yaml.safe_load(yaml.safe_dump(_one("CronJob")))
    change(doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    assert any(words in error for error in validate(doc)), validate(doc)


def test_rbac_is_the_pod_kill_faults_in_its_namespace_and_nothing_cluster_wide():
    kinds = {d["kind"] for _, d in DOCS}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
    role, binding = _one("Role"), _one("RoleBinding")
    inventory = yaml.safe_load(_one("ConfigMap")["data"]["staging.yaml"])
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == \
        inventory["kubernetes"]["namespace"]
    assert {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"]
            for r in rule["resources"] for v in rule["verbs"]} == {
        ("", "pods", "list"), ("", "pods", "delete"),
        ("apps", "deployments", "get"), ("apps", "deployments", "list"),
        ("apps", "deployments/scale", "patch")}
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}
    job, _ = _runner()
    account = _one("ServiceAccount")["metadata"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["name"],
                                    "namespace": account["namespace"]}]
    assert job["template"]["spec"]["serviceAccountName"] == account["name"]


def _rbac_request(method: str, path: str) -> tuple[str, str, str, str]:
    """(namespace, apiGroup, resource, verb) of a request to the API server."""
    match = re.fullmatch(r"/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)/namespaces/(?P<ns>[^/]+)/"
                         r"(?P<resource>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?", path)
    resource = match["resource"] + (f"/{match['sub']}" if match["sub"] else "")
    verb = {"GET": "get" if match["name"] else "list", "DELETE": "delete",
            "PATCH": "patch"}[method]
    return match["ns"], match["group"] or "", resource, verb


def test_the_role_allows_every_call_the_pod_kill_fault_makes(eks):
    """The fault's guard, action, probe and rollback, against the fake API server: each
    request it received must be one the Role allows."""
    cluster, config = eks
    assert lms_replicas_ready("lms", configuration=config)
    kill_lms_replicas("lms", share=0.25, grace_period_seconds=0, configuration=config)
    wait_lms_replicas_ready("lms", timeout_seconds=10, configuration=config)
    # The replica loss a capacity sweep holds, and its rollback: the deployment's scale.
    stop_lms_replicas("lms", count=1, configuration=config)
    restore_lms_replicas("lms", timeout_seconds=10, configuration=config)
    made = {_rbac_request(m, p) for m, p in cluster.requests}
    assert {("openedx", "", "pods", "delete"), ("openedx", "", "pods", "list"),
            ("openedx", "apps", "deployments/scale", "patch")} <= made
    rules = {("openedx", g, r, v) for rule in _one("Role")["rules"]
             for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    assert made <= rules, made - rules


def test_the_scheduled_job_never_reruns_overlaps_or_cuts_a_rollback_short():
    cron = _one("CronJob")["spec"]
    job, container = _runner()
    pod = job["template"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    assert job["backoffLimit"] == 0 and pod["restartPolicy"] == "Never"
    assert pod["terminationGracePeriodSeconds"] >= longest_rollback_s() + REPORT_MARGIN_S
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["CHAOSTOOLKIT_IN_POD"] == "true" and env["EDX_UPLOAD_URL"].startswith("s3://")
    # The master binds the pod's own address, named by the downward API, not every interface.
    inventory = yaml.safe_load(_one("ConfigMap")["data"]["staging.yaml"])
    pod_ip = {e["name"]: e for e in container["env"]}[inventory["load_master"]["bind_host_env"]]
    assert pod_ip["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    gameday = yaml.safe_load(_one("ConfigMap")["data"]["gameday.yaml"])
    assert job["activeDeadlineSeconds"] > gameday["max_duration_s"]
    # The run directories go to the volume: the working directory is its mount.
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "persistentVolumeClaim" in volumes[mounts[container["workingDir"]]]
    assert container["command"] == ["edx-gameday"] and container["args"][0] == "run"
    # The inventory keeps its lock and ledger where every other runner finds them.
    inventory = yaml.safe_load(_one("ConfigMap")["data"]["staging.yaml"])
    assert inventory["state"]["backend"] == "dynamodb"


def test_the_workers_reach_the_master_through_the_service_and_only_they_do():
    service, workers, policy = _one("Service"), _one("Deployment"), _one("NetworkPolicy")
    job, container = _runner()
    runner_labels = job["template"]["metadata"]["labels"]
    worker_labels = workers["spec"]["template"]["metadata"]["labels"]
    inventory = yaml.safe_load(_one("ConfigMap")["data"]["staging.yaml"])
    gameday = yaml.safe_load(_one("ConfigMap")["data"]["gameday.yaml"])
    port = inventory["load_master"]["port"]
    assert service["spec"]["selector"] == runner_labels
    (service_port,) = service["spec"]["ports"]
    assert service_port["port"] == port
    assert {p["name"]: p["containerPort"] for p in container["ports"]}[
        service_port["targetPort"]] == port
    (worker,) = workers["spec"]["template"]["spec"]["containers"]
    args = worker["args"]
    assert [worker["command"][0], *args[:2]] == ["edx-gameday", "load", "worker"]  # standby
    assert args[args.index("--master-host") + 1] == \
        f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    assert args[args.index("--master-port") + 1] == str(port)
    assert workers["spec"]["replicas"] == gameday["load"]["workers"]["expect"]
    # The master refuses a worker whose CDN, courses or learners are not the run's
    # (load.identity): the pods are given the inventory's, the game day's learners file
    # (from the Secret the runner mounts too) and the profile the game day runs.
    env = {e["name"]: e["value"] for e in worker["env"]}
    assert env["EDX_CDN_URL"] == inventory["endpoints"]["cdn_url"]
    assert env["EDX_COURSE_KEYS"].split(",") == inventory["endpoints"]["course_keys"]
    assert env["EDX_LEARNERS_FILE"] == gameday["load"]["learners"]
    secrets = {v["name"]: v["secret"]["secretName"] for v in
               workers["spec"]["template"]["spec"]["volumes"] if "secret" in v}
    runner_secrets = {v["name"]: v["secret"]["secretName"] for v in
                      job["template"]["spec"]["volumes"] if "secret" in v}
    (mount,) = [m for m in worker["volumeMounts"] if m["name"] in secrets]
    assert env["EDX_LEARNERS_FILE"].startswith(mount["mountPath"] + "/")
    assert secrets[mount["name"]] in runner_secrets.values()
    assert args[args.index("-f") + 1] == gameday["load"]["profile"]
    # Locust's protocol has no authentication: only worker pods may reach the port.
    assert policy["spec"]["podSelector"]["matchLabels"] == runner_labels
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": worker_labels}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": port}]


def test_the_configuration_is_a_valid_inventory_and_game_day(tmp_path):
    etc = _config(tmp_path)
    inventory = load_environment(etc / "staging.yaml")
    assert inventory.load_master.bind_host_env == "POD_IP"
    loaded = load_gameday(etc / "gameday.yaml", str(etc / "staging.yaml"))
    assert loaded.spec.load.workers.expect == 4


@pytest.mark.sandbox
def test_the_cronjobs_command_line_is_accepted_with_dry_run_against_the_sandbox(sandbox,
                                                                               tmp_path):
    etc = _config(tmp_path)
    job, container = _runner()
    args = [a.replace(CONFIG_DIR, str(etc)) for a in container["args"]]
    args[args.index("--env") + 1] = str(sandbox.env_file)
    work = tmp_path / "work"  # the runs volume, the container's working directory
    work.mkdir()
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e} | \
        {"HOME": str(work)}
    command = [str(Path(sys.executable).parent / container["command"][0]), *args, "--dry-run"]
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=180,
                            env={**os.environ, **env})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "game day 'Weekly staging launch'" in result.stdout
    assert "4 remote workers (joining within 300 s)" in result.stdout
    port = load_environment(sandbox.env_file).sandbox.port_base + 28  # the sandbox's own
    assert f"workers: the master would listen on 127.0.0.1:{port}" in result.stdout
    assert list(work.iterdir()) == []  # a dry run writes nothing


@pytest.mark.integration
def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, "--failure-threshold", "style",
                             str(REPO / "deploy" / "Dockerfile")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (REPO / "deploy" / "Dockerfile").read_text()
    assert re.search(r"^USER 10001", text, re.M)  # not root
    for shipped in ("experiments", "gamedays", "loadprofiles"):
        assert f"chaoslib_edx/shipped/{shipped} {shipped}" in text


@pytest.mark.integration
def test_a_worker_started_as_the_deployment_starts_it_stands_by_and_serves_each_run(
        django_lms, tmp_path):
    """The worker pod's command, arguments and environment, run here (the image's paths at
    this checkout, the Secret a file of a staging's learners, the master's Service and the
    CDN at the Django LMS): with no master it waits without exiting; it joins a run's
    master started as the game day starts it, and is accepted (the same learners, courses
    and CDN); it signs in as the Secret's learners and studies the inventory's courses;
    after the run it waits again and serves the next; SIGTERM ends it."""
    import psutil

    from chaoslib_edx.load import launcher
    from tests.sandbox.helpers import eventually
    from chaoslib_edx.load.workers import RemoteWorkers, WorkerLog
    from chaoslib_edx.context import environment_context
    from chaoslib_edx.ports import free_block

    workers, service = _one("Deployment"), _one("Service")
    (container,) = workers["spec"]["template"]["spec"]["containers"]
    inventory = yaml.safe_load(_one("ConfigMap")["data"]["staging.yaml"])
    gameday = yaml.safe_load(_one("ConfigMap")["data"]["gameday.yaml"])
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "learners.csv").write_text("username,password\nload-tester-1,pw-1\n"
                                         "load-tester-2,pw-2\n")
    mount = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}["learners"]
    port = free_block(1)
    here = {IMAGE_ROOT: str(REPO), mount: str(secret), inventory["endpoints"]["cdn_url"]:
            django_lms, f"{service['metadata']['name']}.{service['metadata']['namespace']}"
            ".svc": "127.0.0.1", str(service["spec"]["ports"][0]["port"]): str(port)}

    def local(value: str) -> str:
        for there, instead in here.items():
            value = value.replace(there, instead)
        return value

    env = {e["name"]: local(e["value"]) for e in container["env"]}
    command = [str(Path(sys.executable).parent / container["command"][0]),
               *map(local, container["args"])]
    standby = subprocess.Popen(command, env={**os.environ, **env}, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(6)  # past its first retry: plain Locust would be counting its 60 tries
        assert standby.poll() is None
        # The master as the game day's runner starts it: the inventory's load settings and
        # the game day's learners file (the same Secret, mounted in the runner's pod).
        etc = _config(tmp_path)
        shutil.copy(secret / "learners.csv", etc / "learners" / "learners.csv")
        platform = environment_context(str(etc / "staging.yaml")).platform
        master_env = {k: local(v) for k, v in platform.load_environment().items()} | {
            "EDX_LEARNERS_FILE": gameday["load"]["learners"].replace(CONFIG_DIR, str(etc))}
        for run in ("first", "second"):
            out = tmp_path / run
            load = launcher.start(REPO / "loadprofiles/course_launch.py", django_lms, 5, out,
                                  users=3, workers=RemoteWorkers(expect=1, join_timeout_s=30),
                                  master_bind=("127.0.0.1", port), env=master_env)
            load.wait_joined(1, 30)
            assert load.wait() == 0, (out / "locust-master.log").read_text()[-2000:]
            events = {e.event for e in WorkerLog(out / "workers.jsonl").poll()}
            assert "joined" in events and "refused" not in events, (run, events)
            seen = requests.get(f"{django_lms}/_judged", timeout=5).json()
            signed_in = {k.split()[1] for k in seen if k.startswith("login ")}
            assert signed_in and signed_in <= {"load-tester-1", "load-tester-2"}, seen
            assert {k.split()[1] for k in seen if k.startswith("enrolled ")} <= \
                set(inventory["endpoints"]["course_keys"]), seen
            # Its Locust worker ended with the run; the standby itself stays.
            eventually(lambda: not psutil.Process(standby.pid).children(), timeout=15)
            assert standby.poll() is None, f"the worker exited after the {run} run"
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(timeout=15) == 0
    finally:
        if standby.poll() is None:
            standby.kill()
            standby.wait()
    log = standby.stderr.read()
    assert log.count("joining as a worker") == 2 and "standing by again" in log, log
