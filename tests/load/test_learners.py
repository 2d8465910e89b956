"""The learners a load signs in as: a CSV refused line by line, or the sandbox's own."""

from pathlib import Path

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.load.learners import Learner, learners_from_env, read_learners


def test_a_csv_of_username_and_password(tmp_path: Path) -> None:
    path = tmp_path / "learners.csv"
    path.write_text("Password,username\ns3cret,ana\n\n\"p,w\",bo\n")
    assert read_learners(path) == [Learner("ana", "s3cret"), Learner("bo", "p,w")]
    assert "s3cret" not in repr(read_learners(path))


@pytest.mark.parametrize("text, line, words", [
    ("", "line 1", "is empty"),
    ("user,password\nana,x\n", "line 1", "no 'username' column"),
    ("username\nana\n", "line 1", "no 'password' column"),
    ("username,password\n", "line 2", "no learner"),
    ("username,password\nana,x\nbo\n", "line 3", "needs a username and a password"),
    ("username,password\nana,x\n,y\n", "line 3", "needs a username and a password"),
])
def test_bad_files_name_the_line(tmp_path: Path, text: str, line: str, words: str) -> None:
    path = tmp_path / "learners.csv"
    path.write_text(text)
    with pytest.raises(UserError, match=words) as refused:
        read_learners(path)
    assert (refused.value.file, refused.value.field) == (str(path), line)


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found") as missing:
        read_learners(tmp_path / "nope.csv")
    assert missing.value.file == str(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="is a directory"):
        read_learners(tmp_path)
    binary = tmp_path / "learners.csv"
    binary.write_bytes(b"username,password\n\0\0")
    with pytest.raises(UserError, match=str(binary).replace(".", r"\.")):
        read_learners(binary)


def test_the_sandbox_learners_by_default(tmp_path: Path) -> None:
    assert learners_from_env({"EDX_LEARNERS": "3", "EDX_LEARNER_PASSWORD": "pw"}) == [
        Learner("learner1", "pw"), Learner("learner2", "pw"), Learner("learner3", "pw")]
    path = tmp_path / "l.csv"
    path.write_text("username,password\nana,x\n")
    assert learners_from_env({"EDX_LEARNERS_FILE": str(path)}) == [Learner("ana", "x")]


@pytest.mark.parametrize("count", ["abc", "0", "-3"])
def test_a_bad_learner_count_is_named(count: str) -> None:
    with pytest.raises(UserError, match="not a number of learners") as refused:
        learners_from_env({"EDX_LEARNERS": count})
    assert refused.value.field == "EDX_LEARNERS"
