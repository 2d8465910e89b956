"""A wheel built from the repository, installed in a fresh virtual environment, finds the
shipped game day, experiments, load profile and SLO catalog from a directory outside the
repository, and its version from the installed metadata."""

import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

CLEAN = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}  # no PYTHONPATH, no EDX_*
# What a build copy of the repository leaves out: environments, state, outputs, caches.
_NOT_SOURCES = shutil.ignore_patterns(".git", ".venv*", ".sandbox", "runs", "reports", "build",
                                      "*.egg-info", "__pycache__", ".pytest_cache")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding only the wheel; its dependencies come from this environment's
    site-packages through a .pth line (no download, and no .pth of ours runs there, so the
    editable install of the checkout stays out of it)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=_NOT_SOURCES)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(root / "dist"), str(source)], check=True, timeout=300)
    (wheel,) = (root / "dist").glob("chaostoolkit_edx-*.whl")
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    (purelib,) = (env / "lib").glob("python3*/site-packages")
    (purelib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env / "bin/python"),
                    "install", "--no-deps", "-q", str(wheel)], check=True, timeout=120)
    return env


@pytest.mark.integration  # builds and installs a wheel
def test_the_wheel_ships_its_files_and_version(venv: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(venv / "bin/python"), "-c",
         "import chaoslib_edx, chaoslib_edx.files as f; print(chaoslib_edx.__file__); "
         "print(chaoslib_edx.__version__); "
         "print(sorted(str(p.relative_to(f.SHIPPED)) for p in f.SHIPPED.rglob('*.*'))); "
         "import chaoslib_edx.console.server as c, pathlib; "
         "print(sorted(p.name for p in (pathlib.Path(c.__file__).parent / 'static').iterdir()));"
         "from chaoslib_edx.history.store import MIGRATIONS as m; "
         "print(sorted(p.name for p in (m / 'versions').glob('0*.py')))"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env=CLEAN)
    module, version, shipped, console, migrations = where.stdout.splitlines()
    assert console == str(["console.css", "console.js", "index.html"])  # the console's page
    assert migrations == str(sorted(p.name for p in (  # the history's schema versions
        REPO / "chaoslib_edx/history/migrations/versions").glob("0*.py")))
    assert module.startswith(str(venv)), module  # the wheel, not the checkout
    assert version == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for name in ("gamedays/course-launch.yaml", "gamedays/slos.yaml",
                 "gamedays/environments/sandbox.yaml", "experiments/rds-failover.yaml",
                 "loadprofiles/course_launch.py", "loadprofiles/data/enrollment_peak.csv"):
        assert name in shipped, name


def test_the_shipped_game_days_dry_run_from_outside_the_repository(venv: Path, sandbox,
                                                                   tmp_path: Path) -> None:
    result = subprocess.run(
        [str(venv / "bin/edx-gameday"), "run", "course-launch", "--dry-run",
         "--env", str(sandbox.env_file), "--out", str(tmp_path / "run")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**CLEAN, "EDX_LEDGER": str(tmp_path / "ledger.jsonl")})
    assert result.returncode == 0, result.stderr
    shipped = str(next(venv.glob("lib/python3*/site-packages"))) + "/chaoslib_edx/shipped"
    assert f"load: {shipped}/loadprofiles/course_launch.py" in result.stdout
    for name in ("rds-failover", "redis-eviction", "lms-pod-kill", "cloudfront-origin-loss"):
        assert f"s  {name}: " in result.stdout, name
    assert "dry run: nothing was started or changed" in result.stdout
    assert not (tmp_path / "run").exists()


def test_the_classifiers_name_the_interpreters_make_test_runs() -> None:
    """The supported versions the package states are the ones `make test` runs: the
    default interpreter (requires-python's floor) and the Makefile's OTHER_PYTHONS."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    stated = sorted(c.rsplit(" :: ", 1)[1] for c in project["classifiers"]
                    if c.startswith("Programming Language :: Python :: 3."))
    (others,) = [line.split("?=")[1].split() for line in
                 (REPO / "Makefile").read_text().splitlines()
                 if line.startswith("OTHER_PYTHONS ?=")]
    floor = project["requires-python"].removeprefix(">=")
    assert stated == sorted([floor, *others], key=lambda v: tuple(map(int, v.split(".")))), \
        (stated, floor, others)
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in stated
