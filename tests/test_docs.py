"""The documentation cannot rot: MkDocs builds the site in strict mode (a broken link or a
page left out of the navigation fails), README.md stays a few screens and its relative
links resolve in a clone, and every command the docs show exists with the options they
give it (edx-gameday's through its own click tree, `chaos` with --no-version-check and
an existing experiment, make targets in the Makefile)."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import click.testing
import pytest
import yaml

from chaoslib_edx.cli import cli as edx_gameday
from tests.conftest import REPO

DOCS = REPO / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                           str(config), "-d", str(site)], capture_output=True, text=True,
                          timeout=120, cwd=REPO)


@pytest.mark.integration
def test_mkdocs_builds_the_site_in_strict_mode(tmp_path: Path) -> None:
    result = _mkdocs(REPO / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site/capacity.html").exists()
    assert (tmp_path / "site/examples/course-launch/index.html").exists()


@pytest.mark.integration
@pytest.mark.parametrize("break_it", ["a page out of the nav", "a broken link"])
def test_mkdocs_strict_fails_on_what_would_rot(tmp_path: Path, break_it: str) -> None:
    """The guard on the build above: strict mode does refuse what it must."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    docs = tmp_path / "docs"
    subprocess.run(["cp", "-r", str(DOCS), str(docs)], check=True)
    if break_it == "a page out of the nav":
        config["nav"] = [item for item in config["nav"] if "reports.md" not in item.values()]
    else:
        (docs / "ci.md").write_text((docs / "ci.md").read_text() + "\n[gone](nowhere.md)\n")
    config["docs_dir"] = str(docs)
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config))
    result = _mkdocs(path, tmp_path / "site")
    assert result.returncode != 0, result.stderr
    assert "reports.md" in result.stderr or "nowhere.md" in result.stderr, result.stderr


def test_every_page_is_in_the_navigation() -> None:
    nav = {page for item in yaml.safe_load((REPO / "mkdocs.yml").read_text())["nav"]
           for page in item.values()}
    assert nav == {page.name for page in PAGES}


def _tracked() -> set[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.split()
    return set(listed) | {str(Path(f).parent) for f in listed}


def test_the_readme_is_a_few_screens_and_its_links_resolve_in_a_clone() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) < 250
    tracked = _tracked()
    links = [link.split("#")[0] for link in LINK.findall(readme)
             if not re.match(r"[a-z]+:", link)]
    assert links, "the README links nothing"
    missing = [link for link in links if link.rstrip("/") not in tracked]
    assert missing == [], f"not in the repository (or ignored by git): {missing}"


def _commands(text: str) -> list[list[str]]:
    """The shell commands of TEXT's fenced code blocks (continuations joined, prompts and
    comments dropped), as argument lists."""
    found = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                continue
            if words:
                found.append([w.removeprefix(".venv/bin/") for w in words])
    return found


DOC_COMMANDS = [(page.name, words) for page in [*PAGES, REPO / "README.md"]
                for words in _commands(page.read_text())
                if words[0] in ("edx-gameday", "chaos")
                or words[0] == "make" and re.fullmatch(r"[a-z][a-z-]*", words[1])]


def test_the_docs_show_commands() -> None:
    kinds = {words[0] for _, words in DOC_COMMANDS}
    assert kinds == {"edx-gameday", "chaos", "make"} and len(DOC_COMMANDS) > 20


def _resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    """The edx-gameday command WORDS name (subcommands walked) and the path to it."""
    command, path = edx_gameday, []
    for word in words:
        if isinstance(command, click.Group) and word in command.commands:
            command, path = command.commands[word], [*path, word]
        else:
            break
    return command, path


@pytest.mark.parametrize("page, words", DOC_COMMANDS,
                         ids=[f"{p}:{' '.join(w)[:60]}" for p, w in DOC_COMMANDS])
def test_every_command_in_the_docs_exists_with_its_options(page: str, words: list[str]) -> None:
    if words[0] == "make":
        targets = re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.M)
        assert words[1] in targets, f"{page}: make {words[1]}"
        return
    if words[0] == "chaos":
        assert words[1] == "--no-version-check", f"{page}: chaos calls home without it"
        for word in words[2:]:
            if word.endswith((".yaml", ".json")):
                assert (REPO / word).exists(), f"{page}: {word}"
        return
    command, path = _resolve(words[1:])
    assert path, f"{page}: {' '.join(words)} names no edx-gameday command"
    options = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}
    used = {w.split("=")[0] for w in words[1 + len(path):] if w.startswith("-")}
    assert used <= options | {"--help", "-h"}, \
        f"{page}: edx-gameday {' '.join(path)} has no {sorted(used - options)}"
    # And its --help runs: the command imports and documents itself.
    result = click.testing.CliRunner().invoke(edx_gameday, [*path, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output, result.output
