"""Where the shipped files are, and files other processes read while we write them."""

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from chaoslib_edx.errors import UserError
from chaoslib_edx.model import validation_error

# Experiments, load profiles, game days, the SLO catalog and inventories ship inside the
# package (a checkout links them at the repository root), so an installed edx-gameday
# finds them from any directory.
SHIPPED = Path(__file__).resolve().parent / "shipped"


def default_file(relative: str) -> Path:
    """RELATIVE (as the repository lays it out, e.g. gamedays/slos.yaml) from the working
    directory when it is there, else the copy shipped in the package."""
    here = Path(relative)
    return here if here.exists() else SHIPPED / relative


def relative_to(base: Path, value: str | None, default: str) -> str:
    """A path a file gives (VALUE) taken from BASE, the file's directory, when relative;
    when absent, DEFAULT as default_file finds it. What game days and capacity plans
    resolve, so nothing after depends on the working directory."""
    if value is None:
        return str(default_file(default))
    return value if Path(value).is_absolute() else os.path.normpath(base / value)


def replace_text(path: Path, text: str) -> None:
    """Write TEXT to PATH atomically: a reader sees the old content or the new, never half."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_text(path: Path | str, hint: str = "Pass an existing file") -> str:
    """A text file's content, or a UserError (exit 2) naming it: missing, a directory, a
    symlink loop, unreadable, binary or not UTF-8 are the user's to fix, not crashes."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError("file not found", file=path, fix=hint) from None
    except IsADirectoryError:
        raise UserError("is a directory, not a file", file=path, fix=hint) from None
    except OSError as exc:  # a symlink loop (ELOOP), no permission, ...
        raise UserError(f"cannot be read ({exc.strerror or exc})", file=path, fix=hint) from None
    if b"\0" in data:
        raise UserError("is a binary file, not text", file=path, fix=hint)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise UserError(f"is not UTF-8 text (byte {exc.start}, line {line})",
                        file=path, fix="Save it as UTF-8") from None


def parse_yaml(text: str, path: Path | str) -> object:
    """YAML (JSON included) with its anchors and aliases refused: an alias is a reference,
    and a few nested ones expand to gigabytes once a free-form field is formatted."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise UserError(f"uses a YAML alias (*{event.anchor}) at line "
                                f"{event.start_mark.line + 1}; aliases are not accepted",
                                file=path, fix="Write the value out where it is used")
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}",
                        file=path) from None


class _Activity(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = None   # chaoslib's validator lets a list through; we print names
    provider: dict[str, Any] | None = None


class _Hypothesis(BaseModel):
    model_config = ConfigDict(extra="allow")

    probes: list[_Activity] = []


class _ExperimentShape(BaseModel):
    """The parts of an experiment our runner and guardrails read, as they must be shaped
    (chaoslib's validator lets `configuration: null` through); chaoslib checks the rest."""

    model_config = ConfigDict(extra="allow")

    configuration: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    controls: list[dict[str, Any]] = []
    method: list[_Activity] = []
    rollbacks: list[_Activity] = []
    steady_state_hypothesis: _Hypothesis | None = Field(None,
                                                        alias="steady-state-hypothesis")
    # Ours: SLOs whose alerts detect the fault though it need not breach them (a game
    # day's detection otherwise counts only alerts of the SLOs the fault breached).
    expect_alerts: list[str] = []


def load_experiment_file(path: Path | str) -> dict:
    """A Chaos Toolkit experiment file as chaoslib will read it, checked first as text
    (UTF-8, no aliases, a mapping), then by chaoslib's own loader and validator."""
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid
    from chaoslib.loader import load_experiment
    from pydantic import ValidationError


    data = parse_yaml(read_text(path, "Pass an existing experiment file"), path)
    if not isinstance(data, dict):
        raise UserError(f"is not a Chaos Toolkit experiment (a {type(data).__name__} at the "
                        f"top level, not a mapping)", file=path)
    try:
        _ExperimentShape.model_validate(data)
    except ValidationError as err:
        raise validation_error(path, err) from None
    try:
        experiment = load_experiment(str(path))
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise UserError(f"is not a valid Chaos Toolkit experiment: {exc}", file=path) from None
    except Exception as exc:  # chaoslib's validator itself tripped on a shape it missed
        raise UserError(f"is not a valid Chaos Toolkit experiment (chaoslib's validator "
                        f"failed on it: {type(exc).__name__}: {exc})", file=path) from None
    return experiment


def output_file(path: Path | str, flag: str) -> Path:
    """A file the command will write, checked before it starts: in an existing directory."""
    target = Path(path)
    if not target.parent.is_dir():
        raise UserError("its directory does not exist" if not target.parent.exists()
                        else "is under a file, not a directory", file=target, field=flag,
                        fix="Create the directory or pick another path")
    if target.is_dir():
        raise UserError("is a directory", file=target, field=flag, fix="Name a file")
    return target


def output_dir(path: Path | str, flag: str) -> Path:
    """A directory the command will create: its nearest existing ancestor is a directory."""
    target = Path(path)
    for ancestor in (target, *target.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise UserError(f"is under {ancestor}, which is a file, not a directory",
                                file=target, field=flag, fix="Pick another path")
            break
    return target
