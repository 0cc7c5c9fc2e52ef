"""Names, e-mails and messages cleaned as git cleans them (git itself is the oracle)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from modelreg.gitstore import identity

NAMES = [
    "Build Bot <bot@ci>",
    "Line\nBreak",
    "  'Quoted, Person';  ",
    '"Dr. Who."',
    "trailing dot.",
    "..leading",
    "Zoë Ünïcode 李",
    "tab\tinside",
]
MESSAGES = [
    "subject\n\n\n\nbody   \n\n",
    "\n\n  leading blank lines\nsecond line\t\n",
    "one line",
    "a\n \n \nb\n",
]


@pytest.mark.parametrize("name", NAMES)
def test_names_as_git_var_gives_them(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": f" <{name}@x> "}
    line = subprocess.run(
        ["git", "var", "GIT_AUTHOR_IDENT"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    who = identity.parse_ident(line)
    assert (identity.clean(name), identity.clean(f" <{name}@x> ")) == (who.name, who.email)


@pytest.mark.parametrize("text", MESSAGES)
def test_messages_as_git_stripspace_gives_them(text: str) -> None:
    expected = subprocess.run(
        ["git", "stripspace"], input=text, capture_output=True, text=True, check=True
    ).stdout
    assert identity.message(text) == expected


def test_dates_parse_as_git_writes_them() -> None:
    who = identity.parse_ident("A B <a@b> 1700000000 -0530\n")
    assert (who.name, who.email, who.time, who.offset) == ("A B", "a@b", 1700000000, -330)
